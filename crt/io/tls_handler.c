/*
 * The TLS client channel handler (design in tls_handler_impl.h): creation,
 * the handshake and its timeout, failures, shutdown dispatch and destroy. The
 * read and write sides are in tls_handler_read.c and tls_handler_write.c;
 * per-connection OpenSSL settings (SNI, name checks, ALPN) are applied by
 * tls_context.c.
 */
#include "io/tls_handler.h"

#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "common/allocator.h"
#include "common/clock.h"
#include "common/error.h"
#include "common/logging.h"
#include "io/tls_context.h"
#include "io/tls_handler_impl.h"

static void s_on_shutdown_task(struct wscrt_task *task, void *arg, enum wscrt_task_status status) {
    (void)task;
    struct wscrt_tls_handler *handler = arg;
    handler->shutdown_task_scheduled = false;
    if (status == WSCRT_TASK_STATUS_RUN_READY) {
        wscrt_channel_shutdown(wscrt_tls_channel(handler), handler->shutdown_error);
    }
}

/* Shuts the channel down from a task, so that the alert OpenSSL just wrote
 * leaves first (the socket handler's write task is already queued). Only for
 * handshake failures, whose error reaches the owner through
 * on_negotiation_result whatever the channel reports. */
static void s_shutdown_channel_later(struct wscrt_tls_handler *handler, int error_code) {
    if (handler->shutdown_task_scheduled) {
        return;
    }
    handler->shutdown_error = error_code;
    handler->shutdown_task_scheduled = true;
    wscrt_channel_schedule_task_now(wscrt_tls_channel(handler), &handler->shutdown_task);
}

void wscrt_tls_cancel_timeout(struct wscrt_tls_handler *handler) {
    if (handler->timeout_task_scheduled) {
        wscrt_event_loop_cancel_task(wscrt_tls_loop(handler), &handler->timeout_task);
        handler->timeout_task_scheduled = false;
    }
}

void wscrt_tls_negotiation_failed(struct wscrt_tls_handler *handler, int error_code, bool shut_down_channel) {
    handler->state = WSCRT_TLS_STATE_FAILED;
    wscrt_tls_session_cache_forget(wscrt_tls_ctx_get_session_cache(handler->ctx), handler->ssl);
    wscrt_tls_cancel_timeout(handler);
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
void wscrt_tls_connection_failed(struct wscrt_tls_handler *handler, int error_code) {
    handler->state = WSCRT_TLS_STATE_FAILED;
    struct wscrt_tls_session_cache *sessions = wscrt_tls_ctx_get_session_cache(handler->ctx);
    wscrt_tls_session_cache_forget(sessions, handler->ssl);
    wscrt_tls_session_cache_forget_kept(sessions, handler->kept_session_id); /* after the hand-over */
    WSCRT_LOGF_DEBUG(WSCRT_LS_IO_TLS, "id=%p: TLS connection failed, error=%s", (void *)handler,
                     wscrt_error_name(error_code));
    wscrt_channel_shutdown(wscrt_tls_channel(handler), error_code);
}
/* ---- the handshake ---- */

static void s_on_negotiated(struct wscrt_tls_handler *handler) {
    handler->state = WSCRT_TLS_STATE_NEGOTIATED;
    wscrt_tls_cancel_timeout(handler);
    const unsigned char *alpn = NULL;
    unsigned int alpn_len = 0;
    SSL_get0_alpn_selected(handler->ssl, &alpn, &alpn_len);
    if (alpn_len > 0) {
        handler->protocol = wscrt_mem_acquire(handler->allocator, (size_t)alpn_len + 1);
        memcpy(handler->protocol, alpn, alpn_len);
        handler->protocol[alpn_len] = '\0';
    }
    handler->version_name = SSL_get_version(handler->ssl);
    handler->session_resumed = SSL_session_reused(handler->ssl) == 1;
    wscrt_tls_session_cache_on_handshake_done(wscrt_tls_ctx_get_session_cache(handler->ctx), handler->ssl);
    WSCRT_LOGF_DEBUG(WSCRT_LS_IO_TLS, "id=%p: negotiated %s with '%s', cipher %s, ALPN '%s', %s", (void *)handler,
                     handler->version_name, handler->server_name != NULL ? handler->server_name : "",
                     SSL_get_cipher_name(handler->ssl), handler->protocol != NULL ? handler->protocol : "",
                     handler->session_resumed ? "resumed" : "full handshake");
    if (handler->on_negotiation_result != NULL) {
        handler->on_negotiation_result(&handler->base, 0, handler->user_data);
    }
    wscrt_tls_encrypt(handler, false); /* whatever was sent during the handshake */
    if (handler->ssl != NULL && SSL_version(handler->ssl) != TLS1_3_VERSION) {
        wscrt_tls_capture_free(handler); /* OpenSSL keeps TLS 1.2 connections */
    }
    bool may_hand_over = handler->capture != NULL && handler->state == WSCRT_TLS_STATE_NEGOTIATED;
    if (may_hand_over && !handler->hand_over_task_scheduled) {
        handler->hand_over_task_scheduled = true;
        wscrt_channel_schedule_task_future(wscrt_tls_channel(handler), &handler->hand_over_task,
                                           wscrt_clock_now_ns() + WSCRT_TLS_HAND_OVER_DELAY_MS * WSCRT_NS_PER_MS);
    }
}

static void s_on_hand_over_task(struct wscrt_task *task, void *arg, enum wscrt_task_status status) {
    (void)task;
    struct wscrt_tls_handler *handler = arg;
    handler->hand_over_task_scheduled = false;
    if (status == WSCRT_TASK_STATUS_RUN_READY) {
        wscrt_tls_try_hand_over(handler, true);
    }
}

void wscrt_tls_drive_handshake(struct wscrt_tls_handler *handler) {
    ERR_clear_error();
    int rc = SSL_do_handshake(handler->ssl);
    if (rc == 1) {
        wscrt_tls_send_output(handler);
        s_on_negotiated(handler);
        return;
    }
    int ssl_error = SSL_get_error(handler->ssl, rc);
    if (ssl_error == SSL_ERROR_WANT_READ) {
        wscrt_tls_send_output(handler);
        return;
    }
    int error_code = wscrt_tls_map_failure(handler, ssl_error, true);
    wscrt_tls_send_output(handler); /* the alert OpenSSL wrote, if any */
    wscrt_tls_negotiation_failed(handler, error_code, true);
}

static void s_on_timeout_task(struct wscrt_task *task, void *arg, enum wscrt_task_status status) {
    (void)task;
    struct wscrt_tls_handler *handler = arg;
    handler->timeout_task_scheduled = false;
    if (status != WSCRT_TASK_STATUS_RUN_READY || handler->state != WSCRT_TLS_STATE_NEGOTIATING) {
        return;
    }
    WSCRT_LOGF_DEBUG(WSCRT_LS_IO_TLS, "id=%p: no handshake within %u ms", (void *)handler,
                     (unsigned)handler->timeout_ms);
    wscrt_tls_negotiation_failed(handler, WSCRT_ERROR_TLS_HANDSHAKE_TIMEOUT, false);
    wscrt_channel_shutdown(wscrt_tls_channel(handler), WSCRT_ERROR_TLS_HANDSHAKE_TIMEOUT);
}

/* OpenSSL's certificate callback: on a client it runs when the server asks
 * for a certificate. Only recorded, to name the failure if we have none. */
static int s_on_certificate_requested(SSL *ssl, void *arg) {
    (void)ssl;
    struct wscrt_tls_handler *handler = arg;
    handler->client_cert_requested = true;
    WSCRT_LOGF_DEBUG(WSCRT_LS_IO_TLS, "id=%p: server requested a client certificate (have one: %d)",
                     (void *)handler, (int)wscrt_tls_ctx_has_client_cert(handler->ctx));
    return 1;
}

static int s_shutdown(struct wscrt_channel_handler *base, struct wscrt_channel_slot *slot,
                      enum wscrt_channel_direction direction, int error_code, bool free_scarce_resources_immediately) {
    (void)slot;
    struct wscrt_tls_handler *handler = base->impl;
    WSCRT_LOGF_DEBUG(WSCRT_LS_IO_TLS, "id=%p: shutting down %s direction, error=%s", (void *)handler,
                     direction == WSCRT_CHANNEL_DIR_READ ? "read" : "write", wscrt_error_name(error_code));
    if (direction == WSCRT_CHANNEL_DIR_READ) {
        return wscrt_tls_shutdown_read(handler, error_code, free_scarce_resources_immediately);
    }
    return wscrt_tls_shutdown_write(handler, error_code, free_scarce_resources_immediately);
}

static size_t s_initial_window_size(struct wscrt_channel_handler *base) {
    (void)base;
    return WSCRT_TLS_HANDSHAKE_WINDOW;
}

static void s_fail_list_now(struct wscrt_tls_handler *handler, struct wscrt_linked_list *list, int error_code) {
    while (!wscrt_linked_list_empty(list)) {
        struct wscrt_io_message *message =
            WSCRT_CONTAINER_OF(wscrt_linked_list_pop_front(list), struct wscrt_io_message, queueing_handle);
        wscrt_tls_complete_plaintext(handler, message, error_code);
    }
}

static void s_destroy(struct wscrt_channel_handler *base) {
    struct wscrt_tls_handler *handler = base->impl;
    WSCRT_LOGF_DEBUG(WSCRT_LS_IO_TLS, "id=%p: destroying", (void *)handler);
    struct wscrt_event_loop *loop = wscrt_tls_loop(handler);
    handler->write_shut_down = true; /* completions arriving now must not encrypt more */
    handler->read_shut_down = true;
    if (handler->deliver_task_scheduled) {
        wscrt_event_loop_cancel_task(loop, &handler->deliver_task);
    }
    if (handler->draining) {
        wscrt_event_loop_cancel_task(loop, &handler->drain_deadline_task);
    }
    wscrt_tls_cancel_timeout(handler);
    if (handler->hand_over_task_scheduled) {
        wscrt_event_loop_cancel_task(loop, &handler->hand_over_task);
    }
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
    wscrt_tls_run_failed(handler);
    s_fail_list_now(handler, &handler->awaiting, WSCRT_ERROR_IO_CHANNEL_SHUT_DOWN);
    s_fail_list_now(handler, &handler->pending, WSCRT_ERROR_IO_CHANNEL_SHUT_DOWN);

    wscrt_tls_capture_free(handler);
    SSL_free(handler->ssl); /* frees the BIO */
    wscrt_tls_records_destroy(handler->allocator, handler->records);
    wscrt_tls_ctx_release(handler->ctx);
    wscrt_tls_drop_stash(handler);
    wscrt_mem_release(handler->allocator, handler->server_name);
    wscrt_mem_release(handler->allocator, handler->protocol);
    wscrt_mem_release(handler->allocator, handler);
}

static const struct wscrt_channel_handler_vtable s_vtable = {
    .process_read_data = wscrt_tls_process_read_data,
    .process_write_message = wscrt_tls_process_write_message,
    .increment_read_window = wscrt_tls_increment_read_window,
    .shutdown = s_shutdown,
    .initial_window_size = s_initial_window_size,
    .destroy = s_destroy,
};

/* ---- creation ---- */

static void s_free_unattached(struct wscrt_tls_handler *handler) {
    wscrt_tls_capture_free(handler);
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
    struct wscrt_tls_handler *handler = wscrt_mem_calloc(allocator, 1, sizeof(struct wscrt_tls_handler));
    handler->allocator = allocator;
    handler->slot = slot;
    handler->ctx = wscrt_tls_ctx_acquire(options->ctx);
    handler->timeout_ms = options->timeout_ms != 0 ? options->timeout_ms : WSCRT_TLS_DEFAULT_HANDSHAKE_TIMEOUT_MS;
    handler->on_negotiation_result = options->on_negotiation_result;
    handler->user_data = options->user_data;
    handler->state = WSCRT_TLS_STATE_INIT;
    handler->base.vtable = &s_vtable;
    handler->base.allocator = allocator;
    handler->base.impl = handler;
    wscrt_linked_list_init(&handler->pending);
    wscrt_linked_list_init(&handler->awaiting);
    wscrt_linked_list_init(&handler->failed);
    wscrt_task_init(&handler->deliver_task, wscrt_tls_on_deliver_task, handler);
    wscrt_task_init(&handler->completion_task, wscrt_tls_on_completion_task, handler);
    wscrt_task_init(&handler->timeout_task, s_on_timeout_task, handler);
    wscrt_task_init(&handler->shutdown_task, s_on_shutdown_task, handler);
    wscrt_task_init(&handler->drain_deadline_task, wscrt_tls_on_drain_deadline, handler);
    wscrt_task_init(&handler->hand_over_task, s_on_hand_over_task, handler);
    if (options->server_name != NULL && options->server_name[0] != '\0') {
        size_t len = strlen(options->server_name);
        handler->server_name = wscrt_mem_acquire(allocator, len + 1);
        memcpy(handler->server_name, options->server_name, len + 1);
    }

    ERR_clear_error();
    handler->ssl = SSL_new(wscrt_tls_ctx_get_ssl_ctx(options->ctx));
    BIO *bio = handler->ssl != NULL ? wscrt_tls_bio_new(handler) : NULL;
    if (bio == NULL) {
        ERR_clear_error();
        s_free_unattached(handler);
        wscrt_raise_error(WSCRT_ERROR_TLS_CONTEXT_FAILURE);
        return NULL;
    }
    SSL_set_bio(handler->ssl, bio, bio); /* one reference, owned by the SSL */
    SSL_set_app_data(handler->ssl, handler);
    wscrt_tls_capture_start(handler);
    SSL_set_connect_state(handler->ssl);
    SSL_set_cert_cb(handler->ssl, s_on_certificate_requested, handler);
    if (wscrt_tls_ctx_configure_connection(handler->ctx, handler->ssl, handler->server_name, options->alpn_list,
                                           allocator) ||
        wscrt_tls_session_cache_prepare(wscrt_tls_ctx_get_session_cache(handler->ctx), handler->ssl,
                                        handler->server_name, options->host, options->port,
                                        &handler->session_key)) {
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
    struct wscrt_tls_handler *handler = base->impl;
    if (!wscrt_channel_thread_is_callers_thread(wscrt_tls_channel(handler)) || handler->state != WSCRT_TLS_STATE_INIT) {
        return wscrt_raise_error(WSCRT_ERROR_INVALID_STATE);
    }
    handler->state = WSCRT_TLS_STATE_NEGOTIATING;
    handler->timeout_task_scheduled = true;
    wscrt_channel_schedule_task_future(wscrt_tls_channel(handler), &handler->timeout_task,
                                       wscrt_clock_now_ns() + (uint64_t)handler->timeout_ms * WSCRT_NS_PER_MS);
    WSCRT_LOGF_DEBUG(WSCRT_LS_IO_TLS, "id=%p: starting handshake with '%s', timeout %u ms", (void *)handler,
                     handler->server_name != NULL ? handler->server_name : "", (unsigned)handler->timeout_ms);
    wscrt_tls_drive_handshake(handler);
    return WSCRT_OP_SUCCESS;
}

const char *wscrt_tls_handler_protocol(const struct wscrt_channel_handler *base) {
    if (base == NULL || base->vtable != &s_vtable) {
        return "";
    }
    const struct wscrt_tls_handler *handler = base->impl;
    return handler->protocol != NULL ? handler->protocol : "";
}

const char *wscrt_tls_handler_version_name(const struct wscrt_channel_handler *base) {
    if (base == NULL || base->vtable != &s_vtable) {
        return "";
    }
    const struct wscrt_tls_handler *handler = base->impl;
    return handler->version_name != NULL ? handler->version_name : "";
}

const char *wscrt_tls_handler_server_name(const struct wscrt_channel_handler *base) {
    if (base == NULL || base->vtable != &s_vtable) {
        return "";
    }
    const struct wscrt_tls_handler *handler = base->impl;
    return handler->server_name != NULL ? handler->server_name : "";
}

bool wscrt_tls_handler_session_resumed(const struct wscrt_channel_handler *base) {
    if (base == NULL || base->vtable != &s_vtable) {
        return false;
    }
    const struct wscrt_tls_handler *handler = base->impl;
    return handler->session_resumed;
}
