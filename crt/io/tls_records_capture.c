/*
 * Following a TLS 1.3 handshake through OpenSSL's callbacks, and handing the
 * established connection over from OpenSSL to our own record layer
 * (tls_records.h says why and when).
 *
 * Sequence numbers: OpenSSL has no call that returns them, so they are
 * counted. Its message callback reports every record header it reads or
 * writes, and every handshake message; in TLS 1.3 a Finished message ends
 * its record (a key change follows it, RFC 8446 5.1), so the records after
 * our Finished are the ones under the client application secret, and those
 * after the server's Finished under the server application secret.
 */
#include <string.h>

#include <openssl/crypto.h>

#include "common/allocator.h"
#include "common/error.h"
#include "common/logging.h"
#include "io/tls_context.h"
#include "io/tls_handler_impl.h"
#include "io/tls_records.h"

#define S_RECORD_HEADER_LEN 5

static void s_on_message(int write_p, int version, int content_type, const void *buf, size_t len, SSL *ssl,
                         void *arg) {
    (void)version;
    (void)ssl;
    struct wscrt_tls_handler *handler = arg;
    struct wscrt_tls_capture *capture = handler->capture;
    if (capture == NULL) {
        return;
    }
    if (content_type == SSL3_RT_HEADER) {
        if (write_p && capture->write_keyed) {
            capture->records_written++;
        } else if (!write_p && capture->read_keyed) {
            capture->records_read++;
        }
        return;
    }
    if (content_type != SSL3_RT_HANDSHAKE || len == 0) {
        return;
    }
    int type = ((const uint8_t *)buf)[0];
    if (type == SSL3_MT_FINISHED) {
        if (write_p) {
            capture->write_keyed = true;
        } else {
            capture->read_keyed = true;
        }
    } else if (type == SSL3_MT_NEWSESSION_TICKET && !write_p) {
        capture->ticket_received = true;
    } else if (type == SSL3_MT_KEY_UPDATE) {
        capture->key_updated = true;
    }
}

void wscrt_tls_capture_start(struct wscrt_tls_handler *handler) {
    handler->capture = wscrt_mem_calloc(handler->allocator, 1, sizeof(struct wscrt_tls_capture));
    SSL_set_msg_callback(handler->ssl, s_on_message);
    SSL_set_msg_callback_arg(handler->ssl, handler);
}

void wscrt_tls_capture_free(struct wscrt_tls_handler *handler) {
    if (handler->capture != NULL) {
        OPENSSL_cleanse(handler->capture, sizeof(*handler->capture));
        wscrt_mem_release(handler->allocator, handler->capture);
        handler->capture = NULL;
    }
    if (handler->ssl != NULL) {
        SSL_set_msg_callback(handler->ssl, NULL);
    }
}

/* "<hex>" up to the end of the line into `out`; 0 when malformed or too long. */
static size_t s_parse_hex(const char *hex, uint8_t *out, size_t capacity) {
    size_t len = 0;
    while (hex[0] != '\0') {
        int high = OPENSSL_hexchar2int((unsigned char)hex[0]);
        int low = hex[1] != '\0' ? OPENSSL_hexchar2int((unsigned char)hex[1]) : -1;
        if (high < 0 || low < 0 || len == capacity) {
            return 0;
        }
        out[len++] = (uint8_t)(high << 4 | low);
        hex += 2;
    }
    return len;
}

/* The line is "<label> <client random, hex> <secret, hex>" (the NSS key log format). */
void wscrt_tls_capture_on_keylog(const SSL *ssl, const char *line) {
    struct wscrt_tls_handler *handler = SSL_get_app_data(ssl);
    if (handler == NULL || handler->capture == NULL) {
        return;
    }
    static const char client_label[] = "CLIENT_TRAFFIC_SECRET_0 ";
    static const char server_label[] = "SERVER_TRAFFIC_SECRET_0 ";
    struct wscrt_tls_capture *capture = handler->capture;
    uint8_t *secret;
    size_t *secret_len;
    if (strncmp(line, client_label, sizeof(client_label) - 1) == 0) {
        secret = capture->client_secret;
        secret_len = &capture->client_secret_len;
    } else if (strncmp(line, server_label, sizeof(server_label) - 1) == 0) {
        secret = capture->server_secret;
        secret_len = &capture->server_secret_len;
    } else {
        return;
    }
    const char *random_hex = line + sizeof(client_label) - 1;
    const char *space = strchr(random_hex, ' ');
    *secret_len = space != NULL ? s_parse_hex(space + 1, secret, EVP_MAX_MD_SIZE) : 0;
}

void wscrt_tls_capture_on_ciphertext(struct wscrt_tls_handler *handler, const uint8_t *bytes, size_t len) {
    struct wscrt_tls_capture *capture = handler->capture;
    if (capture == NULL) {
        return;
    }
    while (len > 0) {
        size_t take;
        if (capture->header_len < S_RECORD_HEADER_LEN) {
            take = S_RECORD_HEADER_LEN - capture->header_len;
            take = take < len ? take : len;
            memcpy(capture->header + capture->header_len, bytes, take);
            capture->header_len += take;
            if (capture->header_len == S_RECORD_HEADER_LEN) {
                capture->body_left = (size_t)capture->header[3] << 8 | capture->header[4];
            }
        } else {
            take = capture->body_left < len ? capture->body_left : len;
            capture->body_left -= take;
        }
        if (capture->header_len == S_RECORD_HEADER_LEN && capture->body_left == 0) {
            capture->header_len = 0; /* a record boundary */
        }
        bytes += take;
        len -= take;
    }
}

static bool s_openssl_holds_nothing(struct wscrt_tls_handler *handler) {
    const struct wscrt_tls_capture *capture = handler->capture;
    return capture->header_len == 0 && SSL_pending(handler->ssl) == 0 && SSL_has_pending(handler->ssl) == 0 &&
           SSL_get_shutdown(handler->ssl) == 0;
}

void wscrt_tls_try_hand_over(struct wscrt_tls_handler *handler, bool due) {
    struct wscrt_tls_capture *capture = handler->capture;
    if (capture == NULL || handler->ssl == NULL || handler->state != WSCRT_TLS_STATE_NEGOTIATED ||
        handler->read_shutdown_started || handler->write_shut_down || handler->close_notify_received) {
        return;
    }
    if (SSL_version(handler->ssl) != TLS1_3_VERSION || capture->key_updated) {
        wscrt_tls_capture_free(handler); /* OpenSSL keeps the connection */
        return;
    }
    bool waiting_for_ticket = wscrt_tls_ctx_get_session_cache(handler->ctx) != NULL && !capture->ticket_received;
    if ((waiting_for_ticket && !due) || !capture->write_keyed || !capture->read_keyed ||
        !s_openssl_holds_nothing(handler)) {
        return;
    }
    uint16_t suite = wscrt_tls_records_suite(handler->ssl, capture);
    if (suite == 0) {
        WSCRT_LOGF_DEBUG(WSCRT_LS_IO_TLS, "id=%p: OpenSSL keeps the connection (cipher %s)", (void *)handler,
                         SSL_get_cipher_name(handler->ssl));
        wscrt_tls_capture_free(handler);
        return;
    }
    WSCRT_LOGF_DEBUG(WSCRT_LS_IO_TLS,
                     "id=%p: OpenSSL's part done; records continue from %llu written and %llu read (%s)",
                     (void *)handler, (unsigned long long)capture->records_written,
                     (unsigned long long)capture->records_read, capture->ticket_received ? "ticket" : "timer");
    /* Our cache forgets its session if the connection fails later (RFC 8446 6.2), as it would have. */
    handler->kept_session_id = wscrt_tls_session_cache_kept_id(wscrt_tls_ctx_get_session_cache(handler->ctx),
                                                               handler->ssl);
    /* Marked as closed properly, so that freeing it takes its session out of no cache. */
    SSL_set_msg_callback(handler->ssl, NULL);
    SSL_set_quiet_shutdown(handler->ssl, 1);
    SSL_set_shutdown(handler->ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    SSL_free(handler->ssl); /* and the BIO */
    handler->ssl = NULL;
    /* Made after the SSL is gone, so that what stays for the connection's life takes the place it left
     * rather than adding to the heap under it (5,000 idle connections: 2-3 KiB less RSS each). */
    handler->records = wscrt_tls_records_new(handler->allocator, wscrt_tls_loop(handler), suite, capture);
    wscrt_tls_capture_free(handler);
    if (handler->records == NULL) {
        wscrt_tls_connection_failed(handler, WSCRT_ERROR_TLS_IO_FAILURE);
        return;
    }
    if (handler->hand_over_task_scheduled) {
        wscrt_event_loop_cancel_task(wscrt_tls_loop(handler), &handler->hand_over_task);
    }
}
