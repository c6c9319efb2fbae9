/*
 * The live connection: one channel handler that, once the upgrade succeeded,
 * runs the frame protocol on the event-loop thread: decoding, delivery of
 * frame events within the read window, automatic PONG and the close
 * handshake (through websocket_send.c), protocol failures, and the shutdown
 * report. Before the 101 the same handler hands bytes to the bootstrap.
 *
 * Read window (manual mode). With S the slot's window (bytes the socket may
 * still read), P the bytes read but not yet processed (`pending`), U the
 * user's window (data payload bytes it still accepts) and C a small constant
 * slack, the handler keeps S + P = U + C:
 *   - bytes read:                 S -= r, P += r
 *   - data payload delivered:     P -= p, U -= p
 *   - any other byte consumed:    P -= n, S += n   (headers, control frames)
 *   - incrementReadWindow(k):     U += k, S += k
 * so delivery stops at exactly U, and the socket stops reading once at most C
 * extra bytes are buffered: TCP then pushes back on the server.
 */
#include <string.h>

#include "common/allocator.h"
#include "common/error.h"
#include "common/logging.h"
#include "http/websocket_impl.h"
#include "io/client_bootstrap.h"

void wscrt_websocket_destroy(void *object) {
    struct wscrt_websocket *ws = object;
    WSCRT_LOGF_DEBUG(WSCRT_LS_WEBSOCKET, "id=%p: Destroying websocket", (void *)ws);
    wscrt_websocket_release_setup_resources(ws);
    wscrt_mem_release(ws->allocator, ws->subprotocol);
    wscrt_mem_release(ws->allocator, ws->alpn_protocol);
    wscrt_byte_buf_clean_up(&ws->pending);
    wscrt_websocket_message_clean_up(ws);
    wscrt_websocket_deflate_clean_up(ws);
    wscrt_websocket_keepalive_clean_up(ws);
    wscrt_websocket_decoder_clean_up(&ws->decoder);
    pthread_mutex_destroy(&ws->lock);
    wscrt_client_bootstrap_release(ws->bootstrap);
    wscrt_websocket_send_clean_up(ws);
    wscrt_mem_release(ws->allocator, ws);
}
void wscrt_websocket_shutdown_channel(struct wscrt_websocket *ws, int error_code) {
    if (ws->state == WSCRT_WS_STATE_OPEN || ws->state == WSCRT_WS_STATE_HANDSHAKE) {
        ws->state = WSCRT_WS_STATE_SHUTTING_DOWN;
    }
    if (ws->channel) {
        wscrt_channel_shutdown(ws->channel, error_code);
    }
}
/* ---- receiving ---- */

static int s_callback_failed(struct wscrt_websocket *ws) {
    ws->callback_failed = true;
    return wscrt_raise_error(WSCRT_ERROR_CALLBACK_EXCEPTION);
}

static int s_on_decoded_frame_begin(const struct wscrt_websocket_frame *frame, void *user_data) {
    struct wscrt_websocket *ws = user_data;
    if (ws->close_received) {
        /* RFC 6455 5.5.1: nothing follows a CLOSE. Stop decoding; s_decode drops the rest. */
        return wscrt_raise_error(WSCRT_ERROR_WEBSOCKET_CONNECTION_CLOSED);
    }
    ws->current_frame = (struct wscrt_websocket_incoming_frame){
        .payload_length = frame->payload_length,
        .opcode = frame->opcode,
        .fin = frame->fin,
    };
    ws->current_frame_silent = ws->discarding && wscrt_websocket_opcode_is_data(frame->opcode);
    if (ws->current_frame_silent) {
        return WSCRT_OP_SUCCESS;
    }
    if (wscrt_websocket_message_mode(ws)) {
        return wscrt_websocket_message_on_begin(ws, frame);
    }
    ws->frame_in_progress = true;
    if (ws->options.on_incoming_frame_begin &&
        !ws->options.on_incoming_frame_begin(ws, &ws->current_frame, ws->options.user_data)) {
        return s_callback_failed(ws);
    }
    return WSCRT_OP_SUCCESS;
}

static int s_on_decoded_payload(const struct wscrt_websocket_frame *frame, struct wscrt_byte_cursor data,
                                void *user_data) {
    /* The decoder already took data-frame payload out of the window. */
    struct wscrt_websocket *ws = user_data;
    if (!ws->current_frame_silent && wscrt_websocket_message_mode(ws)) {
        return wscrt_websocket_message_on_payload(ws, frame, data);
    }
    if (!ws->current_frame_silent && ws->options.on_incoming_frame_payload &&
        !ws->options.on_incoming_frame_payload(ws, &ws->current_frame, data, ws->options.user_data)) {
        return s_callback_failed(ws);
    }
    return WSCRT_OP_SUCCESS;
}

static int s_on_decoded_frame_complete(const struct wscrt_websocket_frame *frame, void *user_data) {
    struct wscrt_websocket *ws = user_data;
    if (ws->current_frame_silent) {
        return WSCRT_OP_SUCCESS;
    }
    struct wscrt_byte_cursor control_payload =
        wscrt_byte_cursor_from_array(ws->decoder.control_payload, ws->decoder.control_payload_len);
    if (wscrt_websocket_message_mode(ws)) {
        if (wscrt_websocket_message_on_complete(ws, frame, control_payload)) {
            return WSCRT_OP_ERR;
        }
    } else {
        ws->frame_in_progress = false;
        if (ws->options.on_incoming_frame_complete &&
            !ws->options.on_incoming_frame_complete(ws, &ws->current_frame, 0, ws->options.user_data)) {
            return s_callback_failed(ws);
        }
    }
    switch (frame->opcode) {
        case WSCRT_WEBSOCKET_OPCODE_PING:
            if (!ws->close_sent && !wscrt_websocket_queue_reply(ws, WSCRT_WEBSOCKET_OPCODE_PONG, control_payload)) {
                return s_callback_failed(ws);
            }
            break;
        case WSCRT_WEBSOCKET_OPCODE_CLOSE:
            ws->close_received = true;
            WSCRT_LOGF_DEBUG(WSCRT_LS_WEBSOCKET, "id=%p: Received CLOSE frame, payload=%zu bytes", (void *)ws,
                             control_payload.len);
            if (ws->close_sent) {
                wscrt_websocket_shutdown_channel(ws, 0);
            } else {
                /* Echo the status code (not the reason), then close once it is written. */
                struct wscrt_byte_cursor echo = control_payload;
                echo.len = echo.len >= 2 ? 2 : 0;
                if (!wscrt_websocket_queue_reply(ws, WSCRT_WEBSOCKET_OPCODE_CLOSE, echo)) {
                    return s_callback_failed(ws);
                }
            }
            break;
        default:
            break;
    }
    return WSCRT_OP_SUCCESS;
}

/*
 * A data frame that came whole: in one step when nothing else applies (not silent, nothing after a CLOSE): one
 * user call in frame mode when the user takes whole frames, a message delivered at once in message mode when
 * it is a whole message; else the usual three steps.
 */
static int s_on_decoded_whole_frame(const struct wscrt_websocket_frame *frame, struct wscrt_byte_cursor payload,
                                    void *user_data) {
    struct wscrt_websocket *ws = user_data;
    if (!ws->close_received && !ws->discarding) {
        ws->current_frame = (struct wscrt_websocket_incoming_frame){
            .payload_length = frame->payload_length,
            .opcode = frame->opcode,
            .fin = frame->fin,
        };
        ws->current_frame_silent = false;
        if (wscrt_websocket_message_mode(ws)) {
            int delivered = wscrt_websocket_message_on_whole(ws, frame, payload);
            if (delivered != 1) {
                return delivered;
            }
        } else if (ws->options.on_incoming_frame_whole && !frame->compressed) {
            if (!ws->options.on_incoming_frame_whole(ws, &ws->current_frame, payload, ws->options.user_data)) {
                return s_callback_failed(ws);
            }
            return WSCRT_OP_SUCCESS;
        }
    }
    if (s_on_decoded_frame_begin(frame, ws) || (payload.len > 0 && s_on_decoded_payload(frame, payload, ws))) {
        return WSCRT_OP_ERR;
    }
    return s_on_decoded_frame_complete(frame, ws);
}

/* Delivers the "complete" that every "begin" is owed when the frame cannot finish. */
static void s_fail_frame_in_progress(struct wscrt_websocket *ws, int error_code) {
    if (!ws->frame_in_progress) {
        return;
    }
    ws->frame_in_progress = false;
    if (ws->options.on_incoming_frame_complete) {
        ws->options.on_incoming_frame_complete(ws, &ws->current_frame, error_code, ws->options.user_data);
    }
}

void wscrt_websocket_fail(struct wscrt_websocket *ws, int error_code) {
    WSCRT_LOGF_DEBUG(WSCRT_LS_WEBSOCKET, "id=%p: Failing connection: %s", (void *)ws, wscrt_error_name(error_code));
    s_fail_frame_in_progress(ws, error_code);
    if (!ws->callback_failed && error_code != WSCRT_ERROR_CALLBACK_EXCEPTION && !ws->close_sent &&
        !ws->failing && ws->state == WSCRT_WS_STATE_OPEN) {
        /*
         * Tell the server why (1002, or 1007 for bad UTF-8). The frames decoded before the violation are
         * delivered first, and the CLOSE queued behind what their callbacks send (an echo of the message
         * before the bad frame still goes out). Shut down once that CLOSE is written: a shutdown with an
         * error does not flush queued writes. The close timeout bounds the wait.
         */
        ws->failing = true;
        ws->fail_after_close = error_code;
        uint16_t status = ws->decoder.close_status_on_error ? ws->decoder.close_status_on_error
                                                            : WSCRT_WEBSOCKET_CLOSE_PROTOCOL_ERROR;
        if (error_code == WSCRT_ERROR_WEBSOCKET_MESSAGE_TOO_BIG) {
            status = WSCRT_WEBSOCKET_CLOSE_MESSAGE_TOO_BIG;
        } else if (error_code == WSCRT_ERROR_WEBSOCKET_INVALID_UTF8 ||
                   error_code == WSCRT_ERROR_WEBSOCKET_INVALID_COMPRESSED_DATA) {
            status = WSCRT_WEBSOCKET_CLOSE_INVALID_PAYLOAD; /* also when found in inflated bytes */
        } else if (error_code == WSCRT_ERROR_WEBSOCKET_PING_TIMEOUT) {
            status = WSCRT_WEBSOCKET_CLOSE_GOING_AWAY; /* the peer went silent (websocket_keepalive.c) */
        }
        uint8_t payload[2] = {(uint8_t)(status >> 8), (uint8_t)(status & 0xFF)};
        struct wscrt_byte_cursor close_payload = wscrt_byte_cursor_from_array(payload, 2);
        if (!wscrt_websocket_queue_reply(ws, WSCRT_WEBSOCKET_OPCODE_CLOSE, close_payload)) {
            ws->callback_failed = true;
            wscrt_websocket_shutdown_channel(ws, WSCRT_ERROR_CALLBACK_EXCEPTION);
            return;
        }
        wscrt_websocket_arm_close_timeout(ws);
        return;
    }
    wscrt_websocket_shutdown_channel(ws, error_code);
}

bool wscrt_websocket_is_receiving(const struct wscrt_websocket *ws) {
    return ws->state == WSCRT_WS_STATE_OPEN && !ws->failing;
}

/* Runs the decoder over `data` within the user's window. Returns false on failure (already handled). */
static bool s_decode(struct wscrt_websocket *ws, struct wscrt_byte_cursor *data) {
    size_t before = data->len;
    uint64_t window_before = ws->user_window;
    /* After close() the window no longer applies: what arrives is dropped, not held. */
    uint64_t *budget = ws->options.manual_window_management && !ws->discarding ? &ws->user_window : NULL;
    wscrt_reset_error();
    int result = wscrt_websocket_decoder_process(&ws->decoder, data, budget);
    size_t consumed = before - data->len;
    size_t payload = budget ? (size_t)(window_before - ws->user_window) : 0;
    ws->window_to_return += consumed - payload;
    if (result != WSCRT_OP_SUCCESS && ws->close_received && !ws->frame_in_progress) {
        ws->window_to_return += data->len;
        data->len = 0; /* bytes after the peer's CLOSE are ignored */
        return true;
    }
    if (result != WSCRT_OP_SUCCESS) {
        int error_code = wscrt_last_error();
        wscrt_websocket_fail(ws, error_code ? error_code : WSCRT_ERROR_WEBSOCKET_PROTOCOL_ERROR);
        return false;
    }
    return true;
}

void wscrt_websocket_flush_batch(struct wscrt_websocket *ws) {
    if (ws->options.on_incoming_batch_end && !ws->callback_failed &&
        !ws->options.on_incoming_batch_end(ws, ws->options.user_data)) {
        ws->callback_failed = true;
        wscrt_websocket_fail(ws, WSCRT_ERROR_CALLBACK_EXCEPTION);
    }
    if (ws->window_to_return > 0 && (wscrt_websocket_is_receiving(ws) || ws->state == WSCRT_WS_STATE_HANDSHAKE)) {
        size_t amount = ws->window_to_return;
        ws->window_to_return = 0;
        wscrt_channel_slot_increment_read_window(ws->slot, amount);
    }
}

/* Whatever the window does not allow yet is kept in `pending`. */
void wscrt_websocket_process_frames(struct wscrt_websocket *ws, struct wscrt_byte_cursor data) {
    if (ws->pending.len > 0) {
        wscrt_byte_buf_append_dynamic(&ws->pending, data);
        struct wscrt_byte_cursor pending = wscrt_byte_cursor_from_buf(&ws->pending);
        if (s_decode(ws, &pending) && pending.len > 0) {
            memmove(ws->pending.buffer, pending.ptr, pending.len);
        }
        ws->pending.len = wscrt_websocket_is_receiving(ws) ? pending.len : 0;
    } else if (s_decode(ws, &data) && data.len > 0 && wscrt_websocket_is_receiving(ws)) {
        wscrt_byte_buf_append_dynamic(&ws->pending, data);
    }
    wscrt_websocket_flush_batch(ws);
}

/* ---- the channel handler ---- */

static int s_handler_process_read_data(struct wscrt_channel_handler *handler, struct wscrt_channel_slot *slot,
                                       struct wscrt_byte_cursor data) {
    (void)slot;
    struct wscrt_websocket *ws = handler->impl;
    switch (ws->state) {
        case WSCRT_WS_STATE_HANDSHAKE:
            wscrt_websocket_process_handshake(ws, data);
            break;
        case WSCRT_WS_STATE_OPEN:
            wscrt_websocket_keepalive_on_read(ws);
            if (!ws->failing) {
                wscrt_websocket_process_frames(ws, data);
            }
            break;
        default:
            break; /* shutting down: drop */
    }
    return WSCRT_OP_SUCCESS;
}

static int s_handler_process_write_message(struct wscrt_channel_handler *handler, struct wscrt_channel_slot *slot,
                                           struct wscrt_io_message *message) {
    (void)handler;
    (void)slot;
    (void)message;
    return wscrt_raise_error(WSCRT_ERROR_UNSUPPORTED_OPERATION); /* the websocket is the last handler */
}

static int s_handler_increment_read_window(struct wscrt_channel_handler *handler, struct wscrt_channel_slot *slot,
                                           size_t size) {
    (void)handler;
    (void)slot;
    (void)size;
    return WSCRT_OP_SUCCESS;
}

static int s_handler_shutdown(struct wscrt_channel_handler *handler, struct wscrt_channel_slot *slot,
                              enum wscrt_channel_direction direction, int error_code, bool free_scarce) {
    struct wscrt_websocket *ws = handler->impl;
    if (direction == WSCRT_CHANNEL_DIR_READ) {
        if (ws->state == WSCRT_WS_STATE_HANDSHAKE || !ws->setup_reported) {
            int setup_error = error_code;
            struct wscrt_websocket_setup_state *setup = ws->setup;
            if (setup && setup->response_parser_initialized && error_code == WSCRT_ERROR_IO_SOCKET_CLOSED &&
                setup->response.headers_complete && !setup->response.complete &&
                wscrt_http_response_parser_on_eof(&setup->response) == WSCRT_OP_SUCCESS) {
                setup_error = WSCRT_ERROR_WEBSOCKET_UPGRADE_FAILURE; /* a rejection whose body ended at close */
            } else if (error_code == WSCRT_ERROR_IO_SOCKET_CLOSED || error_code == 0) {
                setup_error = WSCRT_ERROR_HTTP_CONNECTION_CLOSED;
            }
            wscrt_websocket_cancel_handshake_timeout(ws);
            wscrt_websocket_report_setup(ws, setup_error);
        }
        if (ws->frame_in_progress) {
            s_fail_frame_in_progress(ws, error_code ? error_code : WSCRT_ERROR_WEBSOCKET_CONNECTION_LOST);
            if (ws->options.on_incoming_batch_end) {
                ws->options.on_incoming_batch_end(ws, ws->options.user_data);
            }
        }
        if (ws->state != WSCRT_WS_STATE_SHUT_DOWN) {
            ws->state = WSCRT_WS_STATE_SHUTTING_DOWN;
        }
    } else {
        wscrt_websocket_send_stop(ws);
        wscrt_websocket_keepalive_stop(ws);
        wscrt_websocket_cancel_handshake_timeout(ws);
        ws->state = WSCRT_WS_STATE_SHUT_DOWN;
    }
    return wscrt_channel_slot_on_handler_shutdown_complete(slot, direction, error_code, free_scarce);
}

static size_t s_handler_initial_window_size(struct wscrt_channel_handler *handler) {
    struct wscrt_websocket *ws = handler->impl;
    if (!ws->options.manual_window_management) {
        return WSCRT_WEBSOCKET_UNLIMITED_WINDOW;
    }
    uint64_t window = ws->user_window + WSCRT_WEBSOCKET_WINDOW_SLACK;
    return window > WSCRT_WEBSOCKET_UNLIMITED_WINDOW ? WSCRT_WEBSOCKET_UNLIMITED_WINDOW : (size_t)window;
}

static void s_handler_destroy(struct wscrt_channel_handler *handler) {
    (void)handler; /* the handler is embedded in the websocket, which is ref-counted */
}

const struct wscrt_channel_handler_vtable wscrt_websocket_handler_vtable = {
    .process_read_data = s_handler_process_read_data,
    .process_write_message = s_handler_process_write_message,
    .increment_read_window = s_handler_increment_read_window,
    .shutdown = s_handler_shutdown,
    .initial_window_size = s_handler_initial_window_size,
    .destroy = s_handler_destroy,
};
void wscrt_websocket_on_channel_shutdown(struct wscrt_client_bootstrap *bootstrap, int error_code,
                                  struct wscrt_channel *channel, void *user_data) {
    (void)bootstrap;
    struct wscrt_websocket *ws = user_data;
    ws->state = WSCRT_WS_STATE_SHUT_DOWN;
    if (!ws->setup_reported) {
        /* The channel died before any layer reported (e.g. during TLS or CONNECT). */
        wscrt_websocket_report_setup(ws, error_code ? error_code : WSCRT_ERROR_HTTP_CONNECTION_CLOSED);
    }
    if (ws->setup_succeeded) {
        int reported = error_code;
        if (ws->fail_after_close) {
            /* The connection failed it (1002/1007/1009): that is the reason, even if the peer closed the
             * socket before our failing CLOSE was written. */
            reported = ws->fail_after_close;
        } else if (ws->close_received && ws->close_sent) {
            reported = 0; /* the close handshake completed, whatever the socket said after it */
        }
        WSCRT_LOGF_DEBUG(WSCRT_LS_WEBSOCKET, "id=%p: Shutdown complete (%s)", (void *)ws, wscrt_error_name(reported));
        if (ws->options.on_connection_shutdown) {
            ws->options.on_connection_shutdown(ws, reported, ws->options.user_data);
        }
    }
    pthread_mutex_lock(&ws->lock);
    ws->synced.channel_gone = true;
    pthread_mutex_unlock(&ws->lock);
    wscrt_channel_destroy(channel);
    ws->channel = NULL;
    ws->slot = NULL;
    wscrt_websocket_release_ref(ws);
}

void wscrt_websocket_connection_init(struct wscrt_websocket *ws) {
    wscrt_byte_buf_init(&ws->pending, ws->allocator, 0);
    struct wscrt_websocket_decoder_options decoder_options = {
        .on_frame_begin = s_on_decoded_frame_begin,
        .on_payload = s_on_decoded_payload,
        .on_frame_complete = s_on_decoded_frame_complete,
        .on_whole_frame = s_on_decoded_whole_frame,
        .user_data = ws,
    };
    wscrt_websocket_decoder_init(&ws->decoder, ws->allocator, &decoder_options);
}
