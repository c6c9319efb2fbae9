/*
 * The TLS handler's write side: plaintext messages from the right slot are
 * queued, encrypted in record-sized pieces (bounded ciphertext in flight),
 * and sent left as ciphertext messages; each plaintext message completes once
 * the ciphertext message holding its last byte is written (the chain is in a
 * small header in front of each ciphertext message's bytes).
 */
#include <string.h>

#include <openssl/err.h>

#include "common/allocator.h"
#include "common/error.h"
#include "common/logging.h"
#include "io/tls_handler_impl.h"

static void s_on_ciphertext_written(struct wscrt_channel *channel, struct wscrt_io_message *message, int error_code,
                                    void *user_data);

static size_t s_header_completes(const struct wscrt_io_message *message) {
    struct wscrt_tls_record_header header;
    memcpy(&header, message->data.buffer - sizeof(header), sizeof(header));
    return header.completes;
}

static void s_header_add_completion(struct wscrt_io_message *message) {
    struct wscrt_tls_record_header header;
    memcpy(&header, message->data.buffer - sizeof(header), sizeof(header));
    header.completes++;
    memcpy(message->data.buffer - sizeof(header), &header, sizeof(header));
}

struct wscrt_io_message *wscrt_tls_ciphertext_message_new(struct wscrt_tls_handler *handler, size_t capacity) {
    struct wscrt_tls_record_header header = {.completes = 0};
    struct wscrt_io_message *message = wscrt_io_message_new(handler->allocator, sizeof(header) + capacity);
    memcpy(message->data.buffer, &header, sizeof(header));
    message->data.buffer += sizeof(header);
    message->data.capacity = capacity;
    message->on_completion = s_on_ciphertext_written;
    message->user_data = handler;
    return message;
}

void wscrt_tls_complete_plaintext(struct wscrt_tls_handler *handler, struct wscrt_io_message *message,
                                  int error_code) {
    if (message->on_completion != NULL) {
        message->on_completion(wscrt_tls_channel(handler), message, error_code, message->user_data);
    }
    wscrt_io_message_destroy(message);
}

void wscrt_tls_run_failed(struct wscrt_tls_handler *handler) {
    struct wscrt_linked_list failed;
    wscrt_linked_list_init(&failed);
    wscrt_linked_list_move_all_back(&failed, &handler->failed);
    int error_code = handler->failed_error;
    while (!wscrt_linked_list_empty(&failed)) {
        struct wscrt_io_message *message =
            WSCRT_CONTAINER_OF(wscrt_linked_list_pop_front(&failed), struct wscrt_io_message, queueing_handle);
        wscrt_tls_complete_plaintext(handler, message, error_code);
    }
}

void wscrt_tls_on_completion_task(struct wscrt_task *task, void *arg, enum wscrt_task_status status) {
    (void)task;
    struct wscrt_tls_handler *handler = arg;
    handler->completion_task_scheduled = false;
    if (status == WSCRT_TASK_STATUS_RUN_READY) {
        wscrt_tls_run_failed(handler); /* otherwise destroy runs them */
    }
}

void wscrt_tls_fail_plaintext_later(struct wscrt_tls_handler *handler, struct wscrt_io_message *message,
                                    int error_code) {
    if (wscrt_linked_list_empty(&handler->failed)) {
        handler->failed_error = error_code;
    }
    wscrt_linked_list_push_back(&handler->failed, &message->queueing_handle);
    if (!handler->completion_task_scheduled) {
        handler->completion_task_scheduled = true;
        wscrt_channel_schedule_task_now(wscrt_tls_channel(handler), &handler->completion_task);
    }
}

void wscrt_tls_send_output(struct wscrt_tls_handler *handler) {
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
        struct wscrt_linked_list_node *node = wscrt_linked_list_back(&handler->awaiting);
        wscrt_linked_list_remove(node);
        wscrt_linked_list_push_front(&tail, node);
    }
    while (!wscrt_linked_list_empty(&tail)) {
        struct wscrt_io_message *plaintext =
            WSCRT_CONTAINER_OF(wscrt_linked_list_pop_front(&tail), struct wscrt_io_message, queueing_handle);
        wscrt_tls_fail_plaintext_later(handler, plaintext, error_code);
    }
}

/* One record of `len` (at most 16 KiB) bytes, with OpenSSL or our record layer; 0 or the wscrt error. */
static int s_write_record(struct wscrt_tls_handler *handler, const uint8_t *data, size_t len) {
    if (handler->ssl == NULL) {
        return wscrt_tls_records_write(handler, data, len) ? wscrt_last_error() : 0;
    }
    size_t written = 0;
    ERR_clear_error();
    int rc = SSL_write_ex(handler->ssl, data, len, &written);
    /* The BIO takes every byte, so OpenSSL writes the whole piece or fails. */
    return rc == 1 ? 0 : wscrt_tls_map_failure(handler, SSL_get_error(handler->ssl, rc), false);
}

/*
 * Encrypts queued plaintext in record-sized pieces until none is left or
 * (unless `everything`) enough ciphertext is in flight.
 */
void wscrt_tls_encrypt(struct wscrt_tls_handler *handler, bool everything) {
    while (handler->state == WSCRT_TLS_STATE_NEGOTIATED && !handler->write_shut_down &&
           !wscrt_linked_list_empty(&handler->pending)) {
        size_t queued = handler->in_flight + (handler->out != NULL ? handler->out->data.len : 0);
        if (!everything && queued >= WSCRT_TLS_MAX_CIPHERTEXT_IN_FLIGHT) {
            break; /* s_on_ciphertext_written resumes */
        }
        struct wscrt_io_message *message =
            WSCRT_CONTAINER_OF(wscrt_linked_list_front(&handler->pending), struct wscrt_io_message, queueing_handle);
        size_t remaining = message->data.len - message->copy_mark;
        if (remaining > 0) {
            size_t piece = remaining < WSCRT_TLS_MAX_RECORD_PLAINTEXT ? remaining : WSCRT_TLS_MAX_RECORD_PLAINTEXT;
            size_t chunk = remaining < WSCRT_TLS_OUTPUT_CHUNK ? remaining : WSCRT_TLS_OUTPUT_CHUNK;
            handler->out_hint = wscrt_tls_ciphertext_estimate(chunk);
            int error_code = s_write_record(handler, message->data.buffer + message->copy_mark, piece);
            handler->out_hint = 0;
            if (error_code != 0) {
                wscrt_tls_send_output(handler);
                wscrt_tls_connection_failed(handler, error_code);
                return;
            }
            message->copy_mark += piece;
            if (message->copy_mark < message->data.len) {
                continue;
            }
        }
        wscrt_linked_list_pop_front(&handler->pending);
        wscrt_linked_list_push_back(&handler->awaiting, &message->queueing_handle);
        if (handler->out == NULL) {
            /* An empty message produced no record: an empty carrier completes it. */
            handler->out = wscrt_tls_ciphertext_message_new(handler, 0);
        }
        s_header_add_completion(handler->out);
    }
    wscrt_tls_send_output(handler);
}

static void s_on_ciphertext_written(struct wscrt_channel *channel, struct wscrt_io_message *message, int error_code,
                                    void *user_data) {
    (void)channel;
    struct wscrt_tls_handler *handler = user_data;
    handler->in_flight -= message->data.len;
    size_t completes = s_header_completes(message);
    for (size_t i = 0; i < completes && !wscrt_linked_list_empty(&handler->awaiting); ++i) {
        struct wscrt_io_message *plaintext = WSCRT_CONTAINER_OF(wscrt_linked_list_pop_front(&handler->awaiting),
                                                                struct wscrt_io_message, queueing_handle);
        wscrt_tls_complete_plaintext(handler, plaintext, error_code);
    }
    if (error_code == 0 && !wscrt_linked_list_empty(&handler->pending)) {
        wscrt_tls_encrypt(handler, false);
    }
}

int wscrt_tls_process_write_message(struct wscrt_channel_handler *base, struct wscrt_channel_slot *slot,
                                   struct wscrt_io_message *message) {
    (void)slot;
    struct wscrt_tls_handler *handler = base->impl;
    if (handler->write_shut_down || handler->state == WSCRT_TLS_STATE_FAILED) {
        return wscrt_raise_error(WSCRT_ERROR_IO_CHANNEL_SHUT_DOWN);
    }
    wscrt_linked_list_push_back(&handler->pending, &message->queueing_handle);
    if (handler->state == WSCRT_TLS_STATE_NEGOTIATED) {
        wscrt_tls_encrypt(handler, false);
    }
    return WSCRT_OP_SUCCESS;
}

int wscrt_tls_shutdown_write(struct wscrt_tls_handler *handler, int error_code, bool free_scarce) {
    wscrt_tls_cancel_timeout(handler);
    if (!handler->write_shut_down) {
        if (error_code == 0 && !free_scarce && handler->state == WSCRT_TLS_STATE_NEGOTIATED) {
            /* Everything queued goes to the socket (which flushes what it can), then close_notify. */
            wscrt_tls_encrypt(handler, true);
            if (handler->state == WSCRT_TLS_STATE_NEGOTIATED) {
                ERR_clear_error();
                if (handler->ssl == NULL) {
                    wscrt_tls_records_close_notify(handler);
                } else if (SSL_shutdown(handler->ssl) < 0) {
                    wscrt_tls_map_failure(handler, SSL_get_error(handler->ssl, -1), false);
                } else {
                    WSCRT_LOGF_DEBUG(WSCRT_LS_IO_TLS, "id=%p: sending close_notify", (void *)handler);
                }
                wscrt_tls_send_output(handler);
            }
        }
        handler->write_shut_down = true;
        int fail_with = error_code != 0 ? error_code : WSCRT_ERROR_IO_CHANNEL_SHUT_DOWN;
        while (!wscrt_linked_list_empty(&handler->pending)) {
            struct wscrt_io_message *message = WSCRT_CONTAINER_OF(wscrt_linked_list_pop_front(&handler->pending),
                                                                  struct wscrt_io_message, queueing_handle);
            wscrt_tls_fail_plaintext_later(handler, message, fail_with);
        }
    }
    return wscrt_channel_slot_on_handler_shutdown_complete(handler->slot, WSCRT_CHANNEL_DIR_WRITE, error_code,
                                                          free_scarce);
}
