/*
 * The TLS handler's read side: ciphertext from the socket goes through the BIO
 * into OpenSSL; plaintext is delivered to the right slot within its window;
 * the window asked of the left slot follows the right slot's room. After the
 * peer's end of stream, plaintext still held is drained as the reader makes
 * room, before the read shutdown completes.
 */
#include <string.h>

#include <openssl/err.h>
#include <openssl/opensslv.h>

#include "common/allocator.h"
#include "common/clock.h"
#include "common/error.h"
#include "common/logging.h"
#include "io/tls_handler_impl.h"

/* Plaintext is decrypted into the event loop's plaintext buffer (several records per delivery), unless a
 * TLS handler below on the same thread is delivering from it (TLS through a TLS proxy): that one takes a
 * record-sized heap buffer. */
static _Thread_local bool s_plaintext_busy;

/* SSL_free_buffers could free a read buffer holding part of a record before
 * these releases (CVE-2024-4741); older ones keep the buffer. */
#define S_FREE_BUFFERS_SAFE                                                                                            \
    ((OPENSSL_VERSION_NUMBER >= 0x300000E0L && OPENSSL_VERSION_NUMBER < 0x30100000L) ||                                \
     (OPENSSL_VERSION_NUMBER >= 0x30100060L && OPENSSL_VERSION_NUMBER < 0x30200000L) ||                                \
     (OPENSSL_VERSION_NUMBER >= 0x30200020L && OPENSSL_VERSION_NUMBER < 0x30300000L) ||                                \
     OPENSSL_VERSION_NUMBER >= 0x30300010L)

/*
 * Every record read so far is consumed: the read buffer OpenSSL set up for
 * the next one (16 KiB, which SSL_MODE_RELEASE_BUFFERS keeps once a read
 * attempt found no bytes) goes until bytes arrive. OpenSSL keeps it if it
 * holds part of a record.
 */
static void s_release_read_buffer(struct wscrt_tls_handler *handler) {
#if S_FREE_BUFFERS_SAFE
    if (handler->ssl != NULL) {
        SSL_free_buffers(handler->ssl);
    }
#else
    (void)handler;
#endif
}

static size_t s_downstream_room(struct wscrt_tls_handler *handler) {
    if (handler->slot->adj_right == NULL) {
        return 0; /* nobody to deliver to yet */
    }
    return wscrt_channel_slot_downstream_read_window(handler->slot);
}

/* Plaintext (or ciphertext that may hold some) not yet delivered. */
static bool s_has_buffered(struct wscrt_tls_handler *handler) {
    if (handler->close_notify_received || handler->state != WSCRT_TLS_STATE_NEGOTIATED) {
        return false;
    }
    bool held = handler->ssl != NULL ? SSL_pending(handler->ssl) > 0 : wscrt_tls_records_holding(handler->records);
    return held || handler->input.len > 0 || handler->stash.len > handler->stash_offset;
}

/* Copies the ciphertext OpenSSL has not read out of the borrowed input. */
static void s_keep_leftover(struct wscrt_tls_handler *handler) {
    struct wscrt_byte_cursor leftover = handler->input;
    handler->input.ptr = NULL;
    handler->input.len = 0;
    if (leftover.len == 0 || handler->state == WSCRT_TLS_STATE_FAILED || handler->read_shut_down) {
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

void wscrt_tls_drop_stash(struct wscrt_tls_handler *handler) {
    wscrt_byte_buf_clean_up(&handler->stash);
    handler->stash_offset = 0;
}

/*
 * Decrypts into `out` with OpenSSL or, after the hand-over, our record layer; says how it ended as
 * SSL_get_error would (SSL_ERROR_NONE with no bytes: the next record does not fit), the wscrt error in
 * *failure.
 */
static int s_read(struct wscrt_tls_handler *handler, uint8_t *out, size_t capacity, bool first, size_t *amount,
                  int *failure) {
    if (handler->ssl != NULL) {
        ERR_clear_error();
        if (SSL_read_ex(handler->ssl, out, capacity, amount) == 1) {
            return SSL_ERROR_NONE;
        }
        int ssl_error = SSL_get_error(handler->ssl, 0);
        if (ssl_error != SSL_ERROR_WANT_READ) {
            *failure = wscrt_tls_map_failure(handler, ssl_error, false);
        }
        return ssl_error;
    }
    switch (wscrt_tls_records_read(handler, out, capacity, first, amount, failure)) {
        case WSCRT_TLS_READ_DATA:
        case WSCRT_TLS_READ_FULL:
            return SSL_ERROR_NONE;
        case WSCRT_TLS_READ_WANT_MORE:
            return SSL_ERROR_WANT_READ;
        case WSCRT_TLS_READ_CLOSED:
            *failure = WSCRT_ERROR_IO_SOCKET_CLOSED;
            return SSL_ERROR_ZERO_RETURN;
        default:
            return SSL_ERROR_SSL;
    }
}

/*
 * Decrypts and delivers plaintext while the right slot has room. Stops when
 * the window is used up (the rest waits inside OpenSSL or in the stash), when
 * OpenSSL needs more ciphertext, or on close_notify or a failure.
 */
void wscrt_tls_deliver(struct wscrt_tls_handler *handler) {
    while (handler->state == WSCRT_TLS_STATE_NEGOTIATED && !handler->read_shut_down) {
        size_t room = s_downstream_room(handler);
        if (room == 0) {
            return;
        }
        bool own_buffer = s_plaintext_busy;
        struct wscrt_event_loop *loop = wscrt_channel_get_event_loop(wscrt_tls_channel(handler));
        struct wscrt_byte_buf *shared = wscrt_event_loop_plaintext_buffer(loop);
        size_t capacity = own_buffer ? WSCRT_TLS_MAX_RECORD_PLAINTEXT : shared->capacity;
        uint8_t *buffer = own_buffer ? wscrt_mem_acquire(handler->allocator, capacity) : shared->buffer;
        s_plaintext_busy = true;

        size_t want = room < capacity ? room : capacity;
        size_t got = 0;
        int ssl_error = SSL_ERROR_NONE;
        int failure = 0;
        while (got < want) {
            size_t amount = 0;
            ssl_error = s_read(handler, buffer + got, want - got, got == 0, &amount, &failure);
            if (ssl_error != SSL_ERROR_NONE || amount == 0) {
                break;
            }
            got += amount;
        }
        wscrt_tls_send_output(handler); /* an alert or a KeyUpdate answer */

        int deliver_result = WSCRT_OP_SUCCESS;
        if (got > 0) {
            struct wscrt_byte_cursor plaintext = wscrt_byte_cursor_from_array(buffer, got);
            deliver_result = wscrt_channel_slot_send_read_data(handler->slot, plaintext);
        }
        int deliver_error = deliver_result == WSCRT_OP_SUCCESS ? 0 : wscrt_last_error();
        if (own_buffer) {
            wscrt_mem_release(handler->allocator, buffer);
        } else {
            s_plaintext_busy = false;
        }

        if (deliver_error != 0) {
            if (deliver_error != WSCRT_ERROR_IO_CHANNEL_SHUT_DOWN) {
                WSCRT_LOGF_DEBUG(WSCRT_LS_IO_TLS, "id=%p: delivering %zu bytes failed, error=%s", (void *)handler,
                                 got, wscrt_error_name(deliver_error));
                wscrt_channel_shutdown(wscrt_tls_channel(handler), deliver_error);
            }
            return;
        }
        if (ssl_error == SSL_ERROR_NONE) {
            continue;
        }
        if (ssl_error == SSL_ERROR_WANT_READ) {
            s_release_read_buffer(handler);
            wscrt_tls_try_hand_over(handler, false);
            return;
        }
        if (failure == WSCRT_ERROR_IO_SOCKET_CLOSED) {
            /* close_notify: the peer's end of stream, as a TCP FIN would be. */
            WSCRT_LOGF_DEBUG(WSCRT_LS_IO_TLS, "id=%p: close_notify received", (void *)handler);
            handler->close_notify_received = true;
            wscrt_channel_shutdown(wscrt_tls_channel(handler), WSCRT_ERROR_IO_SOCKET_CLOSED);
            return;
        }
        wscrt_tls_connection_failed(handler, failure);
        return;
    }
}

/* Keeps this slot's ciphertext window in step with the right slot's window. */
static void s_update_window(struct wscrt_tls_handler *handler) {
    if (handler->read_shutdown_started || handler->state == WSCRT_TLS_STATE_FAILED) {
        return;
    }
    size_t desired;
    if (handler->state != WSCRT_TLS_STATE_NEGOTIATED) {
        desired = WSCRT_TLS_HANDSHAKE_WINDOW;
    } else {
        size_t room = s_downstream_room(handler);
        /* At least a whole record, so a tiny window does not trickle in a
         * few bytes per read; the excess waits decrypted inside OpenSSL. */
        size_t wanted = room > WSCRT_TLS_MAX_RECORD_PLAINTEXT ? room : WSCRT_TLS_MAX_RECORD_PLAINTEXT;
        desired = room == 0 ? 0 : wscrt_tls_ciphertext_estimate(wanted);
    }
    size_t current = handler->slot->window_size;
    if (desired > current) {
        wscrt_channel_slot_increment_read_window(handler->slot, desired - current);
    }
}

static void s_drain(struct wscrt_tls_handler *handler);

void wscrt_tls_on_deliver_task(struct wscrt_task *task, void *arg, enum wscrt_task_status status) {
    (void)task;
    struct wscrt_tls_handler *handler = arg;
    handler->deliver_task_scheduled = false;
    if (status != WSCRT_TASK_STATUS_RUN_READY || handler->read_shut_down) {
        return;
    }
    if (handler->draining) {
        s_drain(handler);
        return;
    }
    wscrt_tls_deliver(handler);
    s_update_window(handler);
}

static void s_schedule_deliver(struct wscrt_tls_handler *handler) {
    if (!handler->deliver_task_scheduled) {
        handler->deliver_task_scheduled = true;
        wscrt_channel_schedule_task_now(wscrt_tls_channel(handler), &handler->deliver_task);
    }
}

int wscrt_tls_process_read_data(struct wscrt_channel_handler *base, struct wscrt_channel_slot *slot,
                               struct wscrt_byte_cursor data) {
    (void)slot;
    struct wscrt_tls_handler *handler = base->impl;
    if (handler->state == WSCRT_TLS_STATE_FAILED || handler->read_shutdown_started) {
        return WSCRT_OP_SUCCESS; /* the channel is going down; nothing more is read */
    }
    handler->input = data;
    if (handler->state == WSCRT_TLS_STATE_NEGOTIATING) {
        wscrt_tls_drive_handshake(handler);
    }
    if (handler->state == WSCRT_TLS_STATE_NEGOTIATED) {
        wscrt_tls_deliver(handler);
    }
    s_keep_leftover(handler);
    s_update_window(handler);
    return WSCRT_OP_SUCCESS;
}

int wscrt_tls_increment_read_window(struct wscrt_channel_handler *base, struct wscrt_channel_slot *slot,
                                    size_t size) {
    (void)slot;
    (void)size;
    struct wscrt_tls_handler *handler = base->impl;
    if (handler->read_shut_down || handler->state == WSCRT_TLS_STATE_FAILED) {
        return WSCRT_OP_SUCCESS;
    }
    /* Never deliver inside the caller: it may be in the middle of a delivery. */
    s_schedule_deliver(handler);
    return WSCRT_OP_SUCCESS;
}

/* Completes the read shutdown that waited for held data (delivered or dropped). */
static void s_finish_drain(struct wscrt_tls_handler *handler) {
    if (handler->draining) {
        handler->draining = false;
        wscrt_event_loop_cancel_task(wscrt_tls_loop(handler), &handler->drain_deadline_task);
    }
    wscrt_tls_drop_stash(handler);
    handler->read_shut_down = true;
    wscrt_channel_slot_on_handler_shutdown_complete(handler->slot, WSCRT_CHANNEL_DIR_READ,
                                                   handler->read_shutdown_error,
                                                   handler->read_shutdown_free_scarce);
}

/*
 * The peer ended the stream (TCP FIN) while plaintext it sent before was
 * still held for a reader with no room. Delivers it as the reader's window
 * allows (each increment schedules the deliver task, which comes here), then
 * completes the read shutdown, so that TLS loses nothing plain TCP would
 * deliver. The drain deadline bounds a reader that never makes room.
 */
static void s_drain(struct wscrt_tls_handler *handler) {
    wscrt_tls_deliver(handler);
    if (!s_has_buffered(handler) || handler->slot->adj_right == NULL) {
        s_finish_drain(handler);
    }
}

void wscrt_tls_on_drain_deadline(struct wscrt_task *task, void *arg, enum wscrt_task_status status) {
    (void)task;
    struct wscrt_tls_handler *handler = arg;
    if (status != WSCRT_TASK_STATUS_RUN_READY || !handler->draining) {
        return;
    }
    handler->draining = false; /* this task has run: nothing to cancel */
    WSCRT_LOGF_DEBUG(WSCRT_LS_IO_TLS, "id=%p: reader took no data for %d ms; dropping what is left",
                     (void *)handler, WSCRT_TLS_DRAIN_LIMIT_MS);
    if (handler->deliver_task_scheduled) {
        wscrt_event_loop_cancel_task(wscrt_tls_loop(handler), &handler->deliver_task);
    }
    s_finish_drain(handler);
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

int wscrt_tls_shutdown_read(struct wscrt_tls_handler *handler, int error_code, bool free_scarce) {
    handler->read_shutdown_started = true;
    handler->read_shutdown_error = error_code;
    handler->read_shutdown_free_scarce = free_scarce;
    if (handler->state == WSCRT_TLS_STATE_NEGOTIATING) {
        wscrt_tls_negotiation_failed(handler, s_handshake_error_for_shutdown(error_code), false);
    } else if (handler->state == WSCRT_TLS_STATE_INIT) {
        handler->state = WSCRT_TLS_STATE_FAILED;
    }
    /* Only the peer's end of stream waits for held data: a local or failed
     * shutdown drops it, as the socket handler drops unread kernel data. */
    bool drain = !free_scarce && error_code == WSCRT_ERROR_IO_SOCKET_CLOSED && s_has_buffered(handler) &&
                 handler->slot->adj_right != NULL;
    if (drain) {
        WSCRT_LOGF_DEBUG(WSCRT_LS_IO_TLS, "id=%p: end of stream with data still held; delivering it first",
                         (void *)handler);
        handler->draining = true;
        wscrt_channel_schedule_task_future(wscrt_tls_channel(handler), &handler->drain_deadline_task,
                                           wscrt_clock_now_ns() + WSCRT_TLS_DRAIN_LIMIT_MS * WSCRT_NS_PER_MS);
        /* Not from here: this may run inside our own delivery. */
        s_schedule_deliver(handler);
        return WSCRT_OP_SUCCESS;
    }
    if (handler->deliver_task_scheduled) {
        wscrt_event_loop_cancel_task(wscrt_tls_loop(handler), &handler->deliver_task);
    }
    wscrt_tls_drop_stash(handler);
    handler->read_shut_down = true;
    return wscrt_channel_slot_on_handler_shutdown_complete(handler->slot, WSCRT_CHANNEL_DIR_READ, error_code,
                                                          free_scarce);
}
