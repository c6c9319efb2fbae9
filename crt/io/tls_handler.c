/*
 * TLS client handler: OpenSSL driven through an in-memory BIO.
 *
 * The BIO is ours (a BIO_METHOD with read/write callbacks), not BIO_s_mem:
 *   - OpenSSL reads ciphertext straight from the bytes the socket handler
 *     lends us (the event loop's read buffer); only what it has not read when
 *     process_read_data returns is copied, into `stash`, which is freed as
 *     soon as it is drained;
 *   - OpenSSL writes records straight into the wscrt_io_message that goes to
 *     the socket handler.
 * So no connection owns a BIO buffer, and with SSL_MODE_RELEASE_BUFFERS an
 * idle connection owns no record buffer either (BIO_s_mem would keep its
 * high-water mark allocated for the life of the connection, and copy once
 * more in each direction).
 *
 * Reading:  socket --ciphertext--> input/stash --BIO--> SSL --plaintext--> scratch --> right slot
 * Writing:  right slot --plaintext msg--> SSL_write (16 KiB pieces) --BIO--> ciphertext msg --> socket
 *
 * Plaintext is decrypted into a per-thread scratch buffer (one record) and
 * lent to the right slot for the duration of the call, like the socket
 * handler lends the loop's read buffer. A nested TLS handler on the same
 * thread (TLS through a TLS proxy) finds the scratch busy and uses a heap
 * buffer for that call instead.
 *
 * Write completions are chained: each ciphertext message carries, in a small
 * header just before its bytes, how many plaintext messages end in it; the
 * socket handler completes ciphertext messages in order, so those plaintext
 * messages are the first ones of `awaiting`.
 */
#include "io/tls_handler.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "common/allocator.h"
#include "common/byte_buf.h"
#include "common/clock.h"
#include "common/error.h"
#include "common/linked_list.h"
#include "common/logging.h"
#include "io/channel.h"
#include "io/event_loop.h"
#include "io/tls_context.h"

/* The largest plaintext a TLS record carries (RFC 8446 5.1). */
#define S_MAX_RECORD_PLAINTEXT 16384
/* What a record adds to its plaintext: 22 bytes for TLS 1.3 AES-GCM, 29 for
 * TLS 1.2 GCM, more for CBC suites. Only an estimate, for window and message
 * sizes; nothing breaks if a record is bigger. */
#define S_RECORD_OVERHEAD 64
/* Ciphertext window while handshaking: a full record and then some, topped
 * up after every read. */
#define S_HANDSHAKE_WINDOW (2 * S_MAX_RECORD_PLAINTEXT)
/* Ciphertext handed to the socket and not yet written, above which we stop
 * encrypting until completions come back: bounds memory for a large send. */
#define S_MAX_CIPHERTEXT_IN_FLIGHT (256 * 1024)
/* Plaintext per ciphertext message when encrypting a large message (four records). */
#define S_OUTPUT_CHUNK (4 * S_MAX_RECORD_PLAINTEXT)
/* Smallest message for handshake records and alerts (one ClientHello or a
 * client Certificate flight fits). */
#define S_MIN_OUTPUT_MESSAGE 2048
/* After the peer's end of stream, plaintext still held for a reader with no
 * room waits for it: checked this often (the channel does not pass window
 * increments to a slot whose read side is shutting down) ... */
#define S_DRAIN_POLL_MS 5
/* ... for at most this long; a reader slower than that loses the rest. */
#define S_DRAIN_LIMIT_MS 10000

/* Loop thread only: every field below. */
enum s_state {
    S_STATE_INIT,        /* created, start_negotiation not called */
    S_STATE_NEGOTIATING, /* ClientHello sent */
    S_STATE_NEGOTIATED,  /* handshake done, records flow */
    S_STATE_FAILED,      /* a handshake or record failure; the channel is (being) shut down */
};

struct s_tls_handler {
    struct wscrt_channel_handler base;
    struct wscrt_allocator *allocator;
    struct wscrt_channel_slot *slot;
    struct wscrt_tls_ctx *ctx; /* a reference */
    SSL *ssl;
    char *server_name;         /* owned, NULL when none */
    char *protocol;            /* owned ALPN result, NULL when none */
    const char *version_name;  /* OpenSSL's static string, NULL before the handshake */
    uint32_t timeout_ms;
    wscrt_tls_on_negotiation_result_fn *on_negotiation_result;
    void *user_data;
    enum s_state state;
    bool client_cert_requested; /* the server sent a CertificateRequest */

    /* Reading. */
    struct wscrt_byte_cursor input; /* borrowed ciphertext, set only inside process_read_data */
    struct wscrt_byte_buf stash;    /* ciphertext received but not yet read by OpenSSL */
    size_t stash_offset;            /* bytes of `stash` already read */
    struct wscrt_task deliver_task; /* resumes delivery after a window increment; finishes a draining read shutdown */
    bool deliver_task_scheduled;
    bool read_shutdown_started;
    bool read_shut_down;
    int read_shutdown_error;
    bool read_shutdown_free_scarce;
    uint64_t drain_deadline_ns;  /* while draining (read shutdown started, data still held) */
    bool close_notify_received; /* nothing after it is data */

    /* Writing. */
    struct wscrt_linked_list pending;  /* plaintext messages not fully encrypted, FIFO */
    struct wscrt_linked_list awaiting; /* fully encrypted, waiting for their ciphertext to be written */
    struct wscrt_io_message *out;      /* ciphertext message being filled */
    size_t out_hint;                   /* capacity wanted for the next new `out`; 0 = at least S_MIN_OUTPUT_MESSAGE */
    size_t in_flight;                  /* ciphertext bytes sent left and not yet completed */
    bool write_shut_down;
    struct wscrt_linked_list failed;   /* plaintext messages to fail from completion_task */
    int failed_error;
    struct wscrt_task completion_task;
    bool completion_task_scheduled;

    /* Handshake timeout and deferred channel shutdown. */
    struct wscrt_task timeout_task;
    bool timeout_task_scheduled;
    struct wscrt_task shutdown_task;
    bool shutdown_task_scheduled;
    int shutdown_error;
};

/* In front of each ciphertext message's bytes. */
struct s_record_header {
    size_t completes; /* plaintext messages whose last byte is in this message */
};

/* Plaintext delivered per send_read_data: one full record. See the top of the file. */
static _Thread_local uint8_t s_scratch[S_MAX_RECORD_PLAINTEXT];
static _Thread_local bool s_scratch_busy;

static struct wscrt_channel *s_channel(struct s_tls_handler *handler) {
    return handler->slot->channel;
}

static struct wscrt_event_loop *s_loop(struct s_tls_handler *handler) {
    return wscrt_channel_get_event_loop(s_channel(handler));
}

static size_t s_add_saturating(size_t a, size_t b) {
    return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

static size_t s_ciphertext_estimate(size_t plaintext) {
    if (plaintext == SIZE_MAX) {
        return SIZE_MAX;
    }
    return s_add_saturating(plaintext, (plaintext / S_MAX_RECORD_PLAINTEXT + 1) * S_RECORD_OVERHEAD);
}

/* ---- ciphertext messages ----------------------------------------------- */

static void s_on_ciphertext_written(struct wscrt_channel *channel, struct wscrt_io_message *message, int error_code,
                                    void *user_data);

static size_t s_header_completes(const struct wscrt_io_message *message) {
    struct s_record_header header;
    memcpy(&header, message->data.buffer - sizeof(header), sizeof(header));
    return header.completes;
}

static void s_header_add_completion(struct wscrt_io_message *message) {
    struct s_record_header header;
    memcpy(&header, message->data.buffer - sizeof(header), sizeof(header));
    header.completes++;
    memcpy(message->data.buffer - sizeof(header), &header, sizeof(header));
}

static struct wscrt_io_message *s_ciphertext_message_new(struct s_tls_handler *handler, size_t capacity) {
    struct s_record_header header = {.completes = 0};
    struct wscrt_io_message *message = wscrt_io_message_new(handler->allocator, sizeof(header) + capacity);
    memcpy(message->data.buffer, &header, sizeof(header));
    message->data.buffer += sizeof(header);
    message->data.capacity = capacity;
    message->on_completion = s_on_ciphertext_written;
    message->user_data = handler;
    return message;
}

/* ---- plaintext completions --------------------------------------------- */

static void s_complete_plaintext(struct s_tls_handler *handler, struct wscrt_io_message *message, int error_code) {
    if (message->on_completion != NULL) {
        message->on_completion(s_channel(handler), message, error_code, message->user_data);
    }
    wscrt_io_message_destroy(message);
}

static void s_run_failed(struct s_tls_handler *handler) {
    struct wscrt_linked_list failed;
    wscrt_linked_list_init(&failed);
    wscrt_linked_list_move_all_back(&failed, &handler->failed);
    int error_code = handler->failed_error;
    while (!wscrt_linked_list_empty(&failed)) {
        struct wscrt_io_message *message =
            WSCRT_CONTAINER_OF(wscrt_linked_list_pop_front(&failed), struct wscrt_io_message, queueing_handle);
        s_complete_plaintext(handler, message, error_code);
    }
}

static void s_on_completion_task(struct wscrt_task *task, void *arg, enum wscrt_task_status status) {
    (void)task;
    struct s_tls_handler *handler = arg;
    handler->completion_task_scheduled = false;
    if (status == WSCRT_TASK_STATUS_RUN_READY) {
        s_run_failed(handler); /* otherwise destroy runs them */
    }
}

/* Fails a plaintext message from a task: never inside the sender's call. */
static void s_fail_plaintext_later(struct s_tls_handler *handler, struct wscrt_io_message *message, int error_code) {
    if (wscrt_linked_list_empty(&handler->failed)) {
        handler->failed_error = error_code;
    }
    wscrt_linked_list_push_back(&handler->failed, &message->queueing_handle);
    if (!handler->completion_task_scheduled) {
        handler->completion_task_scheduled = true;
        wscrt_channel_schedule_task_now(s_channel(handler), &handler->completion_task);
    }
}

/* ---- sending ciphertext -------------------------------------------------- */

/* Sends `out` to the left slot. */
static void s_send_output(struct s_tls_handler *handler) {
    struct wscrt_io_message *message = handler->out;
    if (message == NULL) {
        return;
    }
    handler->out = NULL;
    size_t len = message->data.len;
    size_t completes = s_header_completes(message);
    if (wscrt_channel_slot_send_write_message(handler->slot, message) == WSCRT_OP_SUCCESS) {
        handler->in_flight += len;
        return;
    }
    int error_code = wscrt_last_error();
    WSCRT_LOGF_DEBUG(WSCRT_LS_IO_TLS, "id=%p: %zu bytes of records could not be sent, error=%s", (void *)handler, len,
                     wscrt_error_name(error_code));
    wscrt_io_message_destroy(message);
    /* The plaintext messages that ended in it are the newest of `awaiting`. */
    struct wscrt_linked_list tail;
    wscrt_linked_list_init(&tail);
    for (size_t i = 0; i < completes && !wscrt_linked_list_empty(&handler->awaiting); ++i) {
        struct wscrt_linked_list_node *node = handler->awaiting.tail.prev;
        wscrt_linked_list_remove(node);
        wscrt_linked_list_push_front(&tail, node);
    }
    while (!wscrt_linked_list_empty(&tail)) {
        struct wscrt_io_message *plaintext =
            WSCRT_CONTAINER_OF(wscrt_linked_list_pop_front(&tail), struct wscrt_io_message, queueing_handle);
        s_fail_plaintext_later(handler, plaintext, error_code);
    }
}

/* ---- the BIO ------------------------------------------------------------ */

static int s_bio_read_ex(BIO *bio, char *out, size_t len, size_t *read_bytes) {
    struct s_tls_handler *handler = BIO_get_data(bio);
    BIO_clear_retry_flags(bio);
    size_t done = 0;
    size_t stashed = handler->stash.len - handler->stash_offset;
    if (stashed > 0) {
        done = len < stashed ? len : stashed;
        memcpy(out, handler->stash.buffer + handler->stash_offset, done);
        handler->stash_offset += done;
        if (handler->stash_offset == handler->stash.len) {
            wscrt_byte_buf_clean_up(&handler->stash);
            handler->stash_offset = 0;
        }
    }
    if (done < len && handler->input.len > 0) {
        size_t take = len - done < handler->input.len ? len - done : handler->input.len;
        memcpy(out + done, handler->input.ptr, take);
        handler->input.ptr += take;
        handler->input.len -= take;
        done += take;
    }
    *read_bytes = done;
    if (done == 0) {
        BIO_set_retry_read(bio);
        return 0;
    }
    return 1;
}

static int s_bio_write_ex(BIO *bio, const char *data, size_t len, size_t *written) {
    struct s_tls_handler *handler = BIO_get_data(bio);
    BIO_clear_retry_flags(bio);
    size_t done = 0;
    while (done < len) {
        if (handler->out != NULL && handler->out->data.len == handler->out->data.capacity) {
            s_send_output(handler);
        }
        if (handler->out == NULL) {
            size_t need = len - done;
            size_t capacity = handler->out_hint > need ? handler->out_hint : need;
            if (handler->out_hint == 0 && capacity < S_MIN_OUTPUT_MESSAGE) {
                capacity = S_MIN_OUTPUT_MESSAGE;
            }
            handler->out = s_ciphertext_message_new(handler, capacity);
        }
        struct wscrt_byte_buf *buf = &handler->out->data;
        size_t take = buf->capacity - buf->len;
        if (take > len - done) {
            take = len - done;
        }
        memcpy(buf->buffer + buf->len, data + done, take);
        buf->len += take;
        done += take;
    }
    *written = len;
    return 1;
}

static long s_bio_ctrl(BIO *bio, int cmd, long num, void *ptr) {
    (void)bio;
    (void)num;
    (void)ptr;
    /* Records leave with the next s_send_output; there is nothing to flush
     * and no other control applies to a channel. */
    return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static int s_bio_create(BIO *bio) {
    BIO_set_init(bio, 1);
    return 1;
}

static int s_bio_destroy(BIO *bio) {
    (void)bio;
    return 1; /* the handler owns itself */
}

/* One method for the process, made on first use and never freed (like
 * OpenSSL's own built-in methods). */
static pthread_once_t s_bio_method_once = PTHREAD_ONCE_INIT;
static BIO_METHOD *s_bio_method;

static void s_bio_method_init(void) {
    int index = BIO_get_new_index();
    BIO_METHOD *method = BIO_meth_new((index > 0 ? index : 0) | BIO_TYPE_SOURCE_SINK, "wscrt channel");
    if (method == NULL) {
        return;
    }
    if (BIO_meth_set_read_ex(method, s_bio_read_ex) != 1 || BIO_meth_set_write_ex(method, s_bio_write_ex) != 1 ||
        BIO_meth_set_ctrl(method, s_bio_ctrl) != 1 || BIO_meth_set_create(method, s_bio_create) != 1 ||
        BIO_meth_set_destroy(method, s_bio_destroy) != 1) {
        BIO_meth_free(method);
        return;
    }
    s_bio_method = method;
}

/* ---- failures ------------------------------------------------------------ */

static int s_map_verify_result(long result) {
    switch (result) {
        case X509_V_ERR_CERT_HAS_EXPIRED:
            return WSCRT_ERROR_TLS_CERT_EXPIRED;
        case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
        case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
            return WSCRT_ERROR_TLS_CERT_SELF_SIGNED;
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
        case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
            return WSCRT_ERROR_TLS_CERT_UNKNOWN_CA;
        case X509_V_ERR_HOSTNAME_MISMATCH:
        case X509_V_ERR_IP_ADDRESS_MISMATCH:
            return WSCRT_ERROR_TLS_CERT_HOSTNAME_MISMATCH;
        default:
            return WSCRT_ERROR_TLS_CERT_VERIFY_FAILED;
    }
}

static int s_map_received_alert(struct s_tls_handler *handler, int alert) {
    WSCRT_LOGF_DEBUG(WSCRT_LS_IO_TLS, "id=%p: received fatal alert %d (%s)", (void *)handler, alert,
                     SSL_alert_desc_string_long(alert));
    switch (alert) {
        case SSL_AD_PROTOCOL_VERSION:
            return WSCRT_ERROR_TLS_PROTOCOL_VERSION;
        case SSL_AD_CERTIFICATE_REQUIRED:
            return WSCRT_ERROR_TLS_CLIENT_CERT_REQUIRED;
        case SSL_AD_HANDSHAKE_FAILURE:
        case SSL_AD_BAD_CERTIFICATE:
            /* What servers say when they wanted a certificate we lack: OpenSSL with TLS 1.2 sends
             * handshake_failure, Java's TLS engine sends bad_certificate under 1.2 and 1.3. */
            if (handler->client_cert_requested && !wscrt_tls_ctx_has_client_cert(handler->ctx)) {
                return WSCRT_ERROR_TLS_CLIENT_CERT_REQUIRED;
            }
            return WSCRT_ERROR_TLS_ALERT_RECEIVED;
        default:
            return WSCRT_ERROR_TLS_ALERT_RECEIVED;
    }
}

/*
 * Turns a failed SSL call into a wscrt error code; logs and clears OpenSSL's
 * error queue. Call right after the failing call.
 */
static int s_map_failure(struct s_tls_handler *handler, int ssl_error, bool handshaking) {
    if (ssl_error == SSL_ERROR_ZERO_RETURN) {
        ERR_clear_error();
        return handshaking ? WSCRT_ERROR_TLS_PEER_CLOSED_DURING_HANDSHAKE : WSCRT_ERROR_IO_SOCKET_CLOSED;
    }
    int reason = 0;
    unsigned long code;
    char text[256];
    while ((code = ERR_get_error()) != 0) {
        ERR_error_string_n(code, text, sizeof(text));
        WSCRT_LOGF_DEBUG(WSCRT_LS_IO_TLS, "id=%p: %s", (void *)handler, text);
        if (reason == 0 && ERR_GET_LIB(code) == ERR_LIB_SSL) {
            reason = ERR_GET_REASON(code);
        }
    }
    if (reason == SSL_R_CERTIFICATE_VERIFY_FAILED) {
        long result = SSL_get_verify_result(handler->ssl);
        WSCRT_LOGF_DEBUG(WSCRT_LS_IO_TLS, "id=%p: certificate verification failed: %s", (void *)handler,
                         X509_verify_cert_error_string(result));
        return s_map_verify_result(result);
    }
    if (reason > SSL_AD_REASON_OFFSET && reason < SSL_AD_REASON_OFFSET + 256) {
        return s_map_received_alert(handler, reason - SSL_AD_REASON_OFFSET);
    }
    switch (reason) {
        case SSL_R_UNSUPPORTED_PROTOCOL:
        case SSL_R_NO_PROTOCOLS_AVAILABLE:
        case SSL_R_WRONG_SSL_VERSION:
        case SSL_R_VERSION_TOO_LOW:
        case SSL_R_VERSION_TOO_HIGH:
            return WSCRT_ERROR_TLS_PROTOCOL_VERSION;
        default:
            return handshaking ? WSCRT_ERROR_TLS_HANDSHAKE_FAILURE : WSCRT_ERROR_TLS_IO_FAILURE;
    }
}

static void s_on_shutdown_task(struct wscrt_task *task, void *arg, enum wscrt_task_status status) {
    (void)task;
    struct s_tls_handler *handler = arg;
    handler->shutdown_task_scheduled = false;
    if (status == WSCRT_TASK_STATUS_RUN_READY) {
        wscrt_channel_shutdown(s_channel(handler), handler->shutdown_error);
    }
}

/* Shuts the channel down from a task, so that the alert OpenSSL just wrote
 * leaves first (the socket handler's write task is already queued). Only for
 * handshake failures, whose error reaches the owner through
 * on_negotiation_result whatever the channel reports. */
static void s_shutdown_channel_later(struct s_tls_handler *handler, int error_code) {
    if (handler->shutdown_task_scheduled) {
        return;
    }
    handler->shutdown_error = error_code;
    handler->shutdown_task_scheduled = true;
    wscrt_channel_schedule_task_now(s_channel(handler), &handler->shutdown_task);
}

static void s_cancel_timeout(struct s_tls_handler *handler) {
    if (handler->timeout_task_scheduled) {
        wscrt_event_loop_cancel_task(s_loop(handler), &handler->timeout_task);
        handler->timeout_task_scheduled = false;
    }
}

/* The handshake failed: report once, then (unless already shutting down) take the channel down. */
static void s_negotiation_failed(struct s_tls_handler *handler, int error_code, bool shut_down_channel) {
    handler->state = S_STATE_FAILED;
    s_cancel_timeout(handler);
    WSCRT_LOGF_DEBUG(WSCRT_LS_IO_TLS, "id=%p: handshake with '%s' failed, error=%s", (void *)handler,
                     handler->server_name != NULL ? handler->server_name : "", wscrt_error_name(error_code));
    if (handler->on_negotiation_result != NULL) {
        handler->on_negotiation_result(&handler->base, error_code, handler->user_data);
    }
    if (shut_down_channel) {
        s_shutdown_channel_later(handler, error_code);
    }
}

/*
 * A record-layer failure after the handshake. The channel shuts down at
 * once: this error is what the channel reports, and a socket error read a
 * moment later (a peer that sent an alert and reset) must not take its place.
 */
static void s_connection_failed(struct s_tls_handler *handler, int error_code) {
    handler->state = S_STATE_FAILED;
    WSCRT_LOGF_DEBUG(WSCRT_LS_IO_TLS, "id=%p: TLS connection failed, error=%s", (void *)handler,
                     wscrt_error_name(error_code));
    wscrt_channel_shutdown(s_channel(handler), error_code);
}

/* ---- writing ----------------------------------------------------------- */

/*
 * Encrypts queued plaintext in record-sized pieces until none is left or
 * (unless `everything`) enough ciphertext is in flight.
 */
static void s_encrypt(struct s_tls_handler *handler, bool everything) {
    while (handler->state == S_STATE_NEGOTIATED && !handler->write_shut_down &&
           !wscrt_linked_list_empty(&handler->pending)) {
        size_t queued = handler->in_flight + (handler->out != NULL ? handler->out->data.len : 0);
        if (!everything && queued >= S_MAX_CIPHERTEXT_IN_FLIGHT) {
            break; /* s_on_ciphertext_written resumes */
        }
        struct wscrt_io_message *message =
            WSCRT_CONTAINER_OF(wscrt_linked_list_front(&handler->pending), struct wscrt_io_message, queueing_handle);
        size_t remaining = message->data.len - message->copy_mark;
        if (remaining > 0) {
            size_t piece = remaining < S_MAX_RECORD_PLAINTEXT ? remaining : S_MAX_RECORD_PLAINTEXT;
            handler->out_hint = s_ciphertext_estimate(remaining < S_OUTPUT_CHUNK ? remaining : S_OUTPUT_CHUNK);
            size_t written = 0;
            ERR_clear_error();
            int rc = SSL_write_ex(handler->ssl, message->data.buffer + message->copy_mark, piece, &written);
            handler->out_hint = 0;
            if (rc != 1) {
                int error_code = s_map_failure(handler, SSL_get_error(handler->ssl, rc), false);
                s_send_output(handler);
                s_connection_failed(handler, error_code);
                return;
            }
            message->copy_mark += written;
            if (message->copy_mark < message->data.len) {
                continue;
            }
        }
        wscrt_linked_list_pop_front(&handler->pending);
        wscrt_linked_list_push_back(&handler->awaiting, &message->queueing_handle);
        if (handler->out == NULL) {
            /* An empty message produced no record: an empty carrier completes it. */
            handler->out = s_ciphertext_message_new(handler, 0);
        }
        s_header_add_completion(handler->out);
    }
    s_send_output(handler);
}

static void s_on_ciphertext_written(struct wscrt_channel *channel, struct wscrt_io_message *message, int error_code,
                                    void *user_data) {
    (void)channel;
    struct s_tls_handler *handler = user_data;
    handler->in_flight -= message->data.len;
    size_t completes = s_header_completes(message);
    for (size_t i = 0; i < completes && !wscrt_linked_list_empty(&handler->awaiting); ++i) {
        struct wscrt_io_message *plaintext = WSCRT_CONTAINER_OF(wscrt_linked_list_pop_front(&handler->awaiting),
                                                                struct wscrt_io_message, queueing_handle);
        s_complete_plaintext(handler, plaintext, error_code);
    }
    if (error_code == 0 && !wscrt_linked_list_empty(&handler->pending)) {
        s_encrypt(handler, false);
    }
}

static int s_process_write_message(struct wscrt_channel_handler *base, struct wscrt_channel_slot *slot,
                                   struct wscrt_io_message *message) {
    (void)slot;
    struct s_tls_handler *handler = base->impl;
    if (handler->write_shut_down || handler->state == S_STATE_FAILED) {
        return wscrt_raise_error(WSCRT_ERROR_IO_CHANNEL_SHUT_DOWN);
    }
    wscrt_linked_list_push_back(&handler->pending, &message->queueing_handle);
    if (handler->state == S_STATE_NEGOTIATED) {
        s_encrypt(handler, false);
    }
    return WSCRT_OP_SUCCESS;
}

/* ---- reading ------------------------------------------------------------ */

static size_t s_downstream_room(struct s_tls_handler *handler) {
    if (handler->slot->adj_right == NULL) {
        return 0; /* nobody to deliver to yet */
    }
    return wscrt_channel_slot_downstream_read_window(handler->slot);
}

/* Plaintext (or ciphertext that may hold some) not yet delivered. */
static bool s_has_buffered(struct s_tls_handler *handler) {
    if (handler->close_notify_received || handler->state != S_STATE_NEGOTIATED) {
        return false;
    }
    return handler->input.len > 0 || handler->stash.len > handler->stash_offset || SSL_pending(handler->ssl) > 0;
}

/* Copies the ciphertext OpenSSL has not read out of the borrowed input. */
static void s_keep_leftover(struct s_tls_handler *handler) {
    struct wscrt_byte_cursor leftover = handler->input;
    handler->input.ptr = NULL;
    handler->input.len = 0;
    if (leftover.len == 0 || handler->state == S_STATE_FAILED || handler->read_shut_down) {
        return;
    }
    if (handler->stash.buffer == NULL) {
        wscrt_byte_buf_init(&handler->stash, handler->allocator, leftover.len);
    } else if (handler->stash_offset > 0) {
        size_t kept = handler->stash.len - handler->stash_offset;
        memmove(handler->stash.buffer, handler->stash.buffer + handler->stash_offset, kept);
        handler->stash.len = kept;
        handler->stash_offset = 0;
    }
    wscrt_byte_buf_append_dynamic(&handler->stash, leftover);
}

static void s_drop_stash(struct s_tls_handler *handler) {
    wscrt_byte_buf_clean_up(&handler->stash);
    handler->stash_offset = 0;
}

/*
 * Decrypts and delivers plaintext while the right slot has room. Stops when
 * the window is used up (the rest waits inside OpenSSL or in the stash), when
 * OpenSSL needs more ciphertext, or on close_notify or a failure.
 */
static void s_deliver(struct s_tls_handler *handler) {
    while (handler->state == S_STATE_NEGOTIATED && !handler->read_shut_down) {
        size_t room = s_downstream_room(handler);
        if (room == 0) {
            return;
        }
        bool own_buffer = s_scratch_busy;
        uint8_t *buffer = own_buffer ? wscrt_mem_acquire(handler->allocator, S_MAX_RECORD_PLAINTEXT) : s_scratch;
        s_scratch_busy = true;

        size_t want = room < S_MAX_RECORD_PLAINTEXT ? room : S_MAX_RECORD_PLAINTEXT;
        size_t got = 0;
        int ssl_error = SSL_ERROR_NONE;
        while (got < want) {
            size_t amount = 0;
            ERR_clear_error();
            int rc = SSL_read_ex(handler->ssl, buffer + got, want - got, &amount);
            if (rc != 1) {
                ssl_error = SSL_get_error(handler->ssl, rc);
                break;
            }
            got += amount;
        }
        int failure = 0;
        if (ssl_error != SSL_ERROR_NONE && ssl_error != SSL_ERROR_WANT_READ) {
            failure = s_map_failure(handler, ssl_error, false);
        }
        s_send_output(handler); /* an alert or a KeyUpdate answer */

        int deliver_result = WSCRT_OP_SUCCESS;
        if (got > 0) {
            struct wscrt_byte_cursor plaintext = wscrt_byte_cursor_from_array(buffer, got);
            deliver_result = wscrt_channel_slot_send_read_data(handler->slot, plaintext);
        }
        int deliver_error = deliver_result == WSCRT_OP_SUCCESS ? 0 : wscrt_last_error();
        if (own_buffer) {
            wscrt_mem_release(handler->allocator, buffer);
        } else {
            s_scratch_busy = false;
        }

        if (deliver_error != 0) {
            if (deliver_error != WSCRT_ERROR_IO_CHANNEL_SHUT_DOWN) {
                WSCRT_LOGF_DEBUG(WSCRT_LS_IO_TLS, "id=%p: delivering %zu bytes failed, error=%s", (void *)handler,
                                 got, wscrt_error_name(deliver_error));
                wscrt_channel_shutdown(s_channel(handler), deliver_error);
            }
            return;
        }
        if (ssl_error == SSL_ERROR_NONE) {
            continue;
        }
        if (ssl_error == SSL_ERROR_WANT_READ) {
            return;
        }
        if (failure == WSCRT_ERROR_IO_SOCKET_CLOSED) {
            /* close_notify: the peer's end of stream, as a TCP FIN would be. */
            WSCRT_LOGF_DEBUG(WSCRT_LS_IO_TLS, "id=%p: close_notify received", (void *)handler);
            handler->close_notify_received = true;
            wscrt_channel_shutdown(s_channel(handler), WSCRT_ERROR_IO_SOCKET_CLOSED);
            return;
        }
        s_connection_failed(handler, failure);
        return;
    }
}

/* Keeps this slot's ciphertext window in step with the right slot's window. */
static void s_update_window(struct s_tls_handler *handler) {
    if (handler->read_shutdown_started || handler->state == S_STATE_FAILED) {
        return;
    }
    size_t desired;
    if (handler->state != S_STATE_NEGOTIATED) {
        desired = S_HANDSHAKE_WINDOW;
    } else {
        size_t room = s_downstream_room(handler);
        /* At least a whole record, so a tiny window does not trickle in a
         * few bytes per read; the excess waits decrypted inside OpenSSL. */
        desired = room == 0 ? 0 : s_ciphertext_estimate(room > S_MAX_RECORD_PLAINTEXT ? room : S_MAX_RECORD_PLAINTEXT);
    }
    size_t current = handler->slot->window_size;
    if (desired > current) {
        wscrt_channel_slot_increment_read_window(handler->slot, desired - current);
    }
}

static void s_drain(struct s_tls_handler *handler);

static void s_on_deliver_task(struct wscrt_task *task, void *arg, enum wscrt_task_status status) {
    (void)task;
    struct s_tls_handler *handler = arg;
    handler->deliver_task_scheduled = false;
    if (status != WSCRT_TASK_STATUS_RUN_READY || handler->read_shut_down) {
        return;
    }
    if (handler->read_shutdown_started) {
        s_drain(handler);
        return;
    }
    s_deliver(handler);
    s_update_window(handler);
}

static void s_schedule_deliver(struct s_tls_handler *handler) {
    if (!handler->deliver_task_scheduled) {
        handler->deliver_task_scheduled = true;
        wscrt_channel_schedule_task_now(s_channel(handler), &handler->deliver_task);
    }
}

/* ---- the handshake ------------------------------------------------------ */

static void s_on_negotiated(struct s_tls_handler *handler) {
    handler->state = S_STATE_NEGOTIATED;
    s_cancel_timeout(handler);
    const unsigned char *alpn = NULL;
    unsigned int alpn_len = 0;
    SSL_get0_alpn_selected(handler->ssl, &alpn, &alpn_len);
    if (alpn_len > 0) {
        handler->protocol = wscrt_mem_acquire(handler->allocator, (size_t)alpn_len + 1);
        memcpy(handler->protocol, alpn, alpn_len);
        handler->protocol[alpn_len] = '\0';
    }
    handler->version_name = SSL_get_version(handler->ssl);
    WSCRT_LOGF_DEBUG(WSCRT_LS_IO_TLS, "id=%p: negotiated %s with '%s', cipher %s, ALPN '%s'", (void *)handler,
                     handler->version_name, handler->server_name != NULL ? handler->server_name : "",
                     SSL_get_cipher_name(handler->ssl), handler->protocol != NULL ? handler->protocol : "");
    if (handler->on_negotiation_result != NULL) {
        handler->on_negotiation_result(&handler->base, 0, handler->user_data);
    }
    s_encrypt(handler, false); /* whatever was sent during the handshake */
}

static void s_drive_handshake(struct s_tls_handler *handler) {
    ERR_clear_error();
    int rc = SSL_do_handshake(handler->ssl);
    if (rc == 1) {
        s_send_output(handler);
        s_on_negotiated(handler);
        return;
    }
    int ssl_error = SSL_get_error(handler->ssl, rc);
    if (ssl_error == SSL_ERROR_WANT_READ) {
        s_send_output(handler);
        return;
    }
    int error_code = s_map_failure(handler, ssl_error, true);
    s_send_output(handler); /* the alert OpenSSL wrote, if any */
    s_negotiation_failed(handler, error_code, true);
}

static void s_on_timeout_task(struct wscrt_task *task, void *arg, enum wscrt_task_status status) {
    (void)task;
    struct s_tls_handler *handler = arg;
    handler->timeout_task_scheduled = false;
    if (status != WSCRT_TASK_STATUS_RUN_READY || handler->state != S_STATE_NEGOTIATING) {
        return;
    }
    WSCRT_LOGF_DEBUG(WSCRT_LS_IO_TLS, "id=%p: no handshake within %u ms", (void *)handler,
                     (unsigned)handler->timeout_ms);
    s_negotiation_failed(handler, WSCRT_ERROR_TLS_HANDSHAKE_TIMEOUT, false);
    wscrt_channel_shutdown(s_channel(handler), WSCRT_ERROR_TLS_HANDSHAKE_TIMEOUT);
}

/* OpenSSL's certificate callback: on a client it runs when the server asks
 * for a certificate. Only recorded, to name the failure if we have none. */
static int s_on_certificate_requested(SSL *ssl, void *arg) {
    (void)ssl;
    struct s_tls_handler *handler = arg;
    handler->client_cert_requested = true;
    WSCRT_LOGF_DEBUG(WSCRT_LS_IO_TLS, "id=%p: server requested a client certificate (have one: %d)",
                     (void *)handler, (int)wscrt_tls_ctx_has_client_cert(handler->ctx));
    return 1;
}

/* ---- vtable ------------------------------------------------------------- */

static int s_process_read_data(struct wscrt_channel_handler *base, struct wscrt_channel_slot *slot,
                               struct wscrt_byte_cursor data) {
    (void)slot;
    struct s_tls_handler *handler = base->impl;
    if (handler->state == S_STATE_FAILED || handler->read_shutdown_started) {
        return WSCRT_OP_SUCCESS; /* the channel is going down; nothing more is read */
    }
    handler->input = data;
    if (handler->state == S_STATE_NEGOTIATING) {
        s_drive_handshake(handler);
    }
    if (handler->state == S_STATE_NEGOTIATED) {
        s_deliver(handler);
    }
    s_keep_leftover(handler);
    s_update_window(handler);
    return WSCRT_OP_SUCCESS;
}

static int s_increment_read_window(struct wscrt_channel_handler *base, struct wscrt_channel_slot *slot, size_t size) {
    (void)slot;
    (void)size;
    struct s_tls_handler *handler = base->impl;
    if (handler->read_shut_down || handler->state == S_STATE_FAILED) {
        return WSCRT_OP_SUCCESS;
    }
    if (handler->read_shutdown_started && handler->deliver_task_scheduled) {
        /* Draining: a poll may be pending; deliver now instead. */
        wscrt_event_loop_cancel_task(s_loop(handler), &handler->deliver_task);
    }
    /* Never deliver inside the caller: it may be in the middle of a delivery. */
    s_schedule_deliver(handler);
    return WSCRT_OP_SUCCESS;
}

/*
 * The peer ended the stream (TCP FIN) while plaintext it sent before was
 * still held for a reader with no room. Delivers it as the reader's window
 * allows, then completes the read shutdown, so that TLS loses nothing plain
 * TCP would deliver. Runs from the deliver task.
 */
static void s_drain(struct s_tls_handler *handler) {
    s_deliver(handler);
    bool done = !s_has_buffered(handler) || handler->slot->adj_right == NULL;
    if (!done && wscrt_clock_now_ns() < handler->drain_deadline_ns) {
        handler->deliver_task_scheduled = true;
        wscrt_channel_schedule_task_future(s_channel(handler), &handler->deliver_task,
                                           wscrt_clock_now_ns() + S_DRAIN_POLL_MS * WSCRT_NS_PER_MS);
        return;
    }
    if (!done) {
        WSCRT_LOGF_DEBUG(WSCRT_LS_IO_TLS, "id=%p: reader took no data for %d ms; dropping what is left",
                         (void *)handler, S_DRAIN_LIMIT_MS);
    }
    s_drop_stash(handler);
    handler->read_shut_down = true;
    wscrt_channel_slot_on_handler_shutdown_complete(handler->slot, WSCRT_CHANNEL_DIR_READ,
                                                   handler->read_shutdown_error,
                                                   handler->read_shutdown_free_scarce);
}

static int s_handshake_error_for_shutdown(int error_code) {
    switch (error_code) {
        case WSCRT_ERROR_IO_SOCKET_CLOSED:
        case WSCRT_ERROR_IO_SOCKET_CONNECTION_RESET:
        case WSCRT_ERROR_IO_BROKEN_PIPE:
            return WSCRT_ERROR_TLS_PEER_CLOSED_DURING_HANDSHAKE;
        case 0:
            return WSCRT_ERROR_IO_CHANNEL_SHUT_DOWN;
        default:
            return error_code;
    }
}

static int s_shutdown_read(struct s_tls_handler *handler, int error_code, bool free_scarce) {
    handler->read_shutdown_started = true;
    handler->read_shutdown_error = error_code;
    handler->read_shutdown_free_scarce = free_scarce;
    if (handler->state == S_STATE_NEGOTIATING) {
        s_negotiation_failed(handler, s_handshake_error_for_shutdown(error_code), false);
    } else if (handler->state == S_STATE_INIT) {
        handler->state = S_STATE_FAILED;
    }
    /* Only the peer's end of stream waits for held data: a local or failed
     * shutdown drops it, as the socket handler drops unread kernel data. */
    bool drain = !free_scarce && error_code == WSCRT_ERROR_IO_SOCKET_CLOSED && s_has_buffered(handler) &&
                 handler->slot->adj_right != NULL;
    if (drain) {
        WSCRT_LOGF_DEBUG(WSCRT_LS_IO_TLS, "id=%p: end of stream with data still held; delivering it first",
                         (void *)handler);
        /* Not from here: this may run inside our own delivery. */
        handler->drain_deadline_ns = wscrt_clock_now_ns() + S_DRAIN_LIMIT_MS * WSCRT_NS_PER_MS;
        s_schedule_deliver(handler);
        return WSCRT_OP_SUCCESS;
    }
    if (handler->deliver_task_scheduled) {
        wscrt_event_loop_cancel_task(s_loop(handler), &handler->deliver_task);
    }
    s_drop_stash(handler);
    handler->read_shut_down = true;
    return wscrt_channel_slot_on_handler_shutdown_complete(handler->slot, WSCRT_CHANNEL_DIR_READ, error_code,
                                                          free_scarce);
}

static int s_shutdown_write(struct s_tls_handler *handler, int error_code, bool free_scarce) {
    s_cancel_timeout(handler);
    if (!handler->write_shut_down) {
        if (error_code == 0 && !free_scarce && handler->state == S_STATE_NEGOTIATED) {
            /* Everything queued goes to the socket (which flushes what it can), then close_notify. */
            s_encrypt(handler, true);
            if (handler->state == S_STATE_NEGOTIATED) {
                ERR_clear_error();
                if (SSL_shutdown(handler->ssl) < 0) {
                    s_map_failure(handler, SSL_get_error(handler->ssl, -1), false);
                } else {
                    WSCRT_LOGF_DEBUG(WSCRT_LS_IO_TLS, "id=%p: sending close_notify", (void *)handler);
                }
                s_send_output(handler);
            }
        }
        handler->write_shut_down = true;
        int fail_with = error_code != 0 ? error_code : WSCRT_ERROR_IO_CHANNEL_SHUT_DOWN;
        while (!wscrt_linked_list_empty(&handler->pending)) {
            struct wscrt_io_message *message = WSCRT_CONTAINER_OF(wscrt_linked_list_pop_front(&handler->pending),
                                                                  struct wscrt_io_message, queueing_handle);
            s_fail_plaintext_later(handler, message, fail_with);
        }
    }
    return wscrt_channel_slot_on_handler_shutdown_complete(handler->slot, WSCRT_CHANNEL_DIR_WRITE, error_code,
                                                          free_scarce);
}

static int s_shutdown(struct wscrt_channel_handler *base, struct wscrt_channel_slot *slot,
                      enum wscrt_channel_direction direction, int error_code, bool free_scarce_resources_immediately) {
    (void)slot;
    struct s_tls_handler *handler = base->impl;
    WSCRT_LOGF_DEBUG(WSCRT_LS_IO_TLS, "id=%p: shutting down %s direction, error=%s", (void *)handler,
                     direction == WSCRT_CHANNEL_DIR_READ ? "read" : "write", wscrt_error_name(error_code));
    if (direction == WSCRT_CHANNEL_DIR_READ) {
        return s_shutdown_read(handler, error_code, free_scarce_resources_immediately);
    }
    return s_shutdown_write(handler, error_code, free_scarce_resources_immediately);
}

static size_t s_initial_window_size(struct wscrt_channel_handler *base) {
    (void)base;
    return S_HANDSHAKE_WINDOW;
}

static void s_fail_list_now(struct s_tls_handler *handler, struct wscrt_linked_list *list, int error_code) {
    while (!wscrt_linked_list_empty(list)) {
        struct wscrt_io_message *message =
            WSCRT_CONTAINER_OF(wscrt_linked_list_pop_front(list), struct wscrt_io_message, queueing_handle);
        s_complete_plaintext(handler, message, error_code);
    }
}

static void s_destroy(struct wscrt_channel_handler *base) {
    struct s_tls_handler *handler = base->impl;
    WSCRT_LOGF_DEBUG(WSCRT_LS_IO_TLS, "id=%p: destroying", (void *)handler);
    struct wscrt_event_loop *loop = s_loop(handler);
    handler->write_shut_down = true; /* completions arriving now must not encrypt more */
    handler->read_shut_down = true;
    if (handler->deliver_task_scheduled) {
        wscrt_event_loop_cancel_task(loop, &handler->deliver_task);
    }
    s_cancel_timeout(handler);
    if (handler->shutdown_task_scheduled) {
        wscrt_event_loop_cancel_task(loop, &handler->shutdown_task);
    }
    if (handler->completion_task_scheduled) {
        wscrt_event_loop_cancel_task(loop, &handler->completion_task);
    }
    if (handler->out != NULL) {
        wscrt_io_message_destroy(handler->out);
        handler->out = NULL;
    }
    /* Every plaintext message still held gets its callback exactly once. */
    s_run_failed(handler);
    s_fail_list_now(handler, &handler->awaiting, WSCRT_ERROR_IO_CHANNEL_SHUT_DOWN);
    s_fail_list_now(handler, &handler->pending, WSCRT_ERROR_IO_CHANNEL_SHUT_DOWN);

    SSL_free(handler->ssl); /* frees the BIO */
    wscrt_tls_ctx_release(handler->ctx);
    s_drop_stash(handler);
    wscrt_mem_release(handler->allocator, handler->server_name);
    wscrt_mem_release(handler->allocator, handler->protocol);
    wscrt_mem_release(handler->allocator, handler);
}

static const struct wscrt_channel_handler_vtable s_vtable = {
    .process_read_data = s_process_read_data,
    .process_write_message = s_process_write_message,
    .increment_read_window = s_increment_read_window,
    .shutdown = s_shutdown,
    .initial_window_size = s_initial_window_size,
    .destroy = s_destroy,
};

/* ---- creation ----------------------------------------------------------- */

static bool s_is_ip_literal(const char *name) {
    unsigned char address[16];
    return inet_pton(AF_INET, name, address) == 1 || inet_pton(AF_INET6, name, address) == 1;
}

/* SNI, name verification and ALPN for this connection. */
static int s_configure_ssl(struct s_tls_handler *handler, const struct wscrt_tls_connection_options *options) {
    SSL *ssl = handler->ssl;
    if (handler->server_name != NULL) {
        bool ip = s_is_ip_literal(handler->server_name);
        if (!ip && SSL_set_tlsext_host_name(ssl, handler->server_name) != 1) {
            return wscrt_raise_error(WSCRT_ERROR_INVALID_ARGUMENT);
        }
        if (wscrt_tls_ctx_verifies_peer(handler->ctx)) {
            int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), handler->server_name)
                        : SSL_set1_host(ssl, handler->server_name);
            if (ok != 1) {
                return wscrt_raise_error(WSCRT_ERROR_INVALID_ARGUMENT);
            }
            SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        }
    }
    if (options->alpn_list != NULL) {
        struct wscrt_byte_buf wire;
        wscrt_byte_buf_init(&wire, handler->allocator, 32);
        int result = options->alpn_list[0] == '\0' ? WSCRT_OP_SUCCESS
                                                   : wscrt_tls_alpn_list_to_wire(options->alpn_list, &wire);
        /* SSL_set_alpn_protos returns 0 on success; an empty list turns ALPN off. */
        if (result == WSCRT_OP_SUCCESS &&
            SSL_set_alpn_protos(ssl, wire.len > 0 ? wire.buffer : NULL, (unsigned)wire.len) != 0) {
            result = wscrt_raise_error(WSCRT_ERROR_INVALID_ARGUMENT);
        }
        wscrt_byte_buf_clean_up(&wire);
        if (result != WSCRT_OP_SUCCESS) {
            return WSCRT_OP_ERR;
        }
    }
    SSL_set_cert_cb(ssl, s_on_certificate_requested, handler);
    return WSCRT_OP_SUCCESS;
}

static void s_free_unattached(struct s_tls_handler *handler) {
    SSL_free(handler->ssl);
    wscrt_tls_ctx_release(handler->ctx);
    wscrt_mem_release(handler->allocator, handler->server_name);
    wscrt_mem_release(handler->allocator, handler);
}

struct wscrt_channel_handler *wscrt_tls_client_handler_new(struct wscrt_allocator *allocator,
                                                           const struct wscrt_tls_connection_options *options,
                                                           struct wscrt_channel_slot *slot) {
    if (allocator == NULL || options == NULL || options->ctx == NULL || slot == NULL) {
        wscrt_raise_error(WSCRT_ERROR_INVALID_ARGUMENT);
        return NULL;
    }
    if (slot->handler != NULL) {
        wscrt_raise_error(WSCRT_ERROR_INVALID_STATE);
        return NULL;
    }
    pthread_once(&s_bio_method_once, s_bio_method_init);
    if (s_bio_method == NULL) {
        WSCRT_LOGF_ERROR(WSCRT_LS_IO_TLS, "the channel BIO method could not be created");
        wscrt_raise_error(WSCRT_ERROR_TLS_CONTEXT_FAILURE);
        return NULL;
    }

    struct s_tls_handler *handler = wscrt_mem_calloc(allocator, 1, sizeof(struct s_tls_handler));
    handler->allocator = allocator;
    handler->slot = slot;
    handler->ctx = wscrt_tls_ctx_acquire(options->ctx);
    handler->timeout_ms = options->timeout_ms != 0 ? options->timeout_ms : WSCRT_TLS_DEFAULT_HANDSHAKE_TIMEOUT_MS;
    handler->on_negotiation_result = options->on_negotiation_result;
    handler->user_data = options->user_data;
    handler->state = S_STATE_INIT;
    handler->base.vtable = &s_vtable;
    handler->base.allocator = allocator;
    handler->base.impl = handler;
    wscrt_linked_list_init(&handler->pending);
    wscrt_linked_list_init(&handler->awaiting);
    wscrt_linked_list_init(&handler->failed);
    wscrt_task_init(&handler->deliver_task, s_on_deliver_task, handler, "tls_deliver");
    wscrt_task_init(&handler->completion_task, s_on_completion_task, handler, "tls_write_completions");
    wscrt_task_init(&handler->timeout_task, s_on_timeout_task, handler, "tls_handshake_timeout");
    wscrt_task_init(&handler->shutdown_task, s_on_shutdown_task, handler, "tls_shutdown");
    if (options->server_name != NULL && options->server_name[0] != '\0') {
        size_t len = strlen(options->server_name);
        handler->server_name = wscrt_mem_acquire(allocator, len + 1);
        memcpy(handler->server_name, options->server_name, len + 1);
    }

    ERR_clear_error();
    handler->ssl = SSL_new(wscrt_tls_ctx_get_ssl_ctx(options->ctx));
    BIO *bio = handler->ssl != NULL ? BIO_new(s_bio_method) : NULL;
    if (bio == NULL) {
        ERR_clear_error();
        s_free_unattached(handler);
        wscrt_raise_error(WSCRT_ERROR_TLS_CONTEXT_FAILURE);
        return NULL;
    }
    BIO_set_data(bio, handler);
    SSL_set_bio(handler->ssl, bio, bio); /* one reference, owned by the SSL */
    SSL_set_connect_state(handler->ssl);
    if (s_configure_ssl(handler, options)) {
        int error_code = wscrt_last_error();
        ERR_clear_error();
        s_free_unattached(handler);
        wscrt_raise_error(error_code);
        return NULL;
    }
    if (wscrt_channel_slot_set_handler(slot, &handler->base)) {
        int error_code = wscrt_last_error();
        slot->handler = NULL;
        s_free_unattached(handler);
        wscrt_raise_error(error_code);
        return NULL;
    }
    WSCRT_LOGF_DEBUG(WSCRT_LS_IO_TLS, "id=%p: TLS handler for '%s' in slot %p", (void *)handler,
                     handler->server_name != NULL ? handler->server_name : "", (void *)slot);
    return &handler->base;
}

int wscrt_tls_client_handler_start_negotiation(struct wscrt_channel_handler *base) {
    if (base == NULL || base->vtable != &s_vtable) {
        return wscrt_raise_error(WSCRT_ERROR_INVALID_ARGUMENT);
    }
    struct s_tls_handler *handler = base->impl;
    if (!wscrt_channel_thread_is_callers_thread(s_channel(handler)) || handler->state != S_STATE_INIT) {
        return wscrt_raise_error(WSCRT_ERROR_INVALID_STATE);
    }
    handler->state = S_STATE_NEGOTIATING;
    handler->timeout_task_scheduled = true;
    wscrt_channel_schedule_task_future(s_channel(handler), &handler->timeout_task,
                                       wscrt_clock_now_ns() + (uint64_t)handler->timeout_ms * WSCRT_NS_PER_MS);
    WSCRT_LOGF_DEBUG(WSCRT_LS_IO_TLS, "id=%p: starting handshake with '%s', timeout %u ms", (void *)handler,
                     handler->server_name != NULL ? handler->server_name : "", (unsigned)handler->timeout_ms);
    s_drive_handshake(handler);
    return WSCRT_OP_SUCCESS;
}

const char *wscrt_tls_handler_protocol(const struct wscrt_channel_handler *base) {
    if (base == NULL || base->vtable != &s_vtable) {
        return "";
    }
    const struct s_tls_handler *handler = base->impl;
    return handler->protocol != NULL ? handler->protocol : "";
}

const char *wscrt_tls_handler_version_name(const struct wscrt_channel_handler *base) {
    if (base == NULL || base->vtable != &s_vtable) {
        return "";
    }
    const struct s_tls_handler *handler = base->impl;
    return handler->version_name != NULL ? handler->version_name : "";
}

const char *wscrt_tls_handler_server_name(const struct wscrt_channel_handler *base) {
    if (base == NULL || base->vtable != &s_vtable) {
        return "";
    }
    const struct s_tls_handler *handler = base->impl;
    return handler->server_name != NULL ? handler->server_name : "";
}
