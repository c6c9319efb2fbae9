/*
 * Message mode: data frames joined into whole messages, delivered through
 * on_incoming_message once per message (control frames once per frame).
 *
 * A message that is one frame whose payload arrives in one piece is
 * delivered straight from the read buffer, without a copy. Otherwise its
 * bytes are joined in `message` and delivered at the final frame; the events
 * decoded before it are delivered first and it is delivered alone, so that a
 * binding batching events never holds a pointer into `message` while the
 * next message reuses it.
 *
 * With options.binary_frame_pieces, a BINARY message in one uncompressed frame
 * that arrives in pieces is not joined here: each piece is delivered as it
 * arrives, with the message's length, for a binding joining it in memory of
 * its own (one copy instead of two).
 *
 * Partial messages (options.partial_messages): each piece of data payload is
 * delivered as decoded, with `more` set until the message's last piece; a
 * compressed message's inflated pieces likewise, then an empty last piece.
 *
 * The maximum message size is enforced at each frame header, before any byte
 * of the frame is buffered: a message announcing more fails the connection
 * with WSCRT_ERROR_WEBSOCKET_MESSAGE_TOO_BIG (CLOSE 1009). A compressed
 * message (permessage-deflate) is inflated into `message` as its payload
 * arrives and capped on its inflated bytes instead (websocket_deflate_path.c).
 */
#include "common/allocator.h"
#include "common/error.h"
#include "common/logging.h"
#include "http/websocket_impl.h"

/* A message buffer larger than this is freed after its message rather than kept for the next one, so that
 * a connection idle after a large message holds no large buffer. */
#define WSCRT_WEBSOCKET_MESSAGE_BUFFER_KEEP (64 * 1024)

static int s_deliver_piece(struct wscrt_websocket *ws, uint8_t opcode, struct wscrt_byte_cursor payload, bool more,
                           uint64_t message_length) {
    struct wscrt_websocket_incoming_message message = {
        .opcode = opcode, .payload = payload, .more = more, .message_length = message_length};
    if (!ws->options.on_incoming_message(ws, &message, ws->options.user_data)) {
        ws->callback_failed = true;
        return wscrt_raise_error(WSCRT_ERROR_CALLBACK_EXCEPTION);
    }
    return WSCRT_OP_SUCCESS;
}

static int s_deliver(struct wscrt_websocket *ws, uint8_t opcode, struct wscrt_byte_cursor payload) {
    return s_deliver_piece(ws, opcode, payload, false, payload.len);
}

/* Partial messages: each data piece goes out as decoded, straight from the read buffer; nothing is joined. */
static int s_partial_on_payload(struct wscrt_websocket *ws, const struct wscrt_websocket_frame *frame,
                                struct wscrt_byte_cursor data) {
    ws->partial_frame_received += data.len;
    bool more = !frame->fin || ws->partial_frame_received < frame->payload_length;
    return s_deliver_piece(ws, ws->message_opcode, data, more, 0);
}

/* Ends a batch in the binding (delivering what it holds); false if a callback failed. */
static bool s_end_batch(struct wscrt_websocket *ws) {
    if (ws->options.on_incoming_batch_end && !ws->options.on_incoming_batch_end(ws, ws->options.user_data)) {
        ws->callback_failed = true;
        return false;
    }
    return true;
}

int wscrt_websocket_message_deliver_piece(struct wscrt_websocket *ws, struct wscrt_byte_cursor data) {
    /* The piece lives in the inflater's chunk, which the next piece overwrites: a binding batching events
     * must hand it over now. */
    if (s_deliver_piece(ws, ws->message_opcode, data, true, 0)) {
        return WSCRT_OP_ERR;
    }
    return s_end_batch(ws) ? WSCRT_OP_SUCCESS : wscrt_raise_error(WSCRT_ERROR_CALLBACK_EXCEPTION);
}

static inline void s_start_message(struct wscrt_websocket *ws, uint8_t opcode) {
    ws->message_opcode = opcode;
    ws->message_delivered = false;
    ws->message.len = 0;
    ws->partial_frame_received = 0;
}

/* Whether a message of `total` bytes so far (at least `frame_length`, the frame just begun) is too big. */
static inline int s_check_message_size(struct wscrt_websocket *ws, uint64_t total, uint64_t frame_length) {
    if (total > ws->options.max_message_size || total < frame_length) {
        WSCRT_LOGF_DEBUG(WSCRT_LS_WEBSOCKET, "id=%p: message of at least %llu bytes exceeds the maximum of %llu",
                         (void *)ws, (unsigned long long)total, (unsigned long long)ws->options.max_message_size);
        return wscrt_raise_error(WSCRT_ERROR_WEBSOCKET_MESSAGE_TOO_BIG);
    }
    return WSCRT_OP_SUCCESS;
}

int wscrt_websocket_message_on_begin(struct wscrt_websocket *ws, const struct wscrt_websocket_frame *frame) {
    if (!wscrt_websocket_opcode_is_data(frame->opcode)) {
        return WSCRT_OP_SUCCESS; /* control frames are whole when complete */
    }
    if (frame->opcode != WSCRT_WEBSOCKET_OPCODE_CONTINUATION) {
        s_start_message(ws, frame->opcode);
    }
    if (frame->compressed) {
        return WSCRT_OP_SUCCESS; /* capped on its inflated bytes, by the inflater */
    }
    if (ws->options.partial_messages) {
        ws->partial_frame_received = 0;
        return WSCRT_OP_SUCCESS;
    }
    return s_check_message_size(ws, (uint64_t)ws->message.len + frame->payload_length, frame->payload_length);
}

int wscrt_websocket_message_on_payload(struct wscrt_websocket *ws, const struct wscrt_websocket_frame *frame,
                                       struct wscrt_byte_cursor data) {
    if (!wscrt_websocket_opcode_is_data(frame->opcode)) {
        return WSCRT_OP_SUCCESS; /* delivered from the decoder's control payload at completion */
    }
    if (frame->compressed) {
        return wscrt_websocket_inflate_payload(ws, data);
    }
    if (ws->options.partial_messages) {
        return s_partial_on_payload(ws, frame, data);
    }
    bool one_frame = frame->fin && frame->opcode != WSCRT_WEBSOCKET_OPCODE_CONTINUATION && ws->message.len == 0;
    if (one_frame && data.len == frame->payload_length) { /* whole, in one piece */
        ws->message_delivered = true;
        return s_deliver(ws, frame->opcode, data);
    }
    if (one_frame && ws->options.binary_frame_pieces && frame->opcode == WSCRT_WEBSOCKET_OPCODE_BINARY) {
        ws->message_delivered = true; /* by its last piece, before on_complete */
        ws->partial_frame_received += data.len;
        bool more = ws->partial_frame_received < frame->payload_length;
        return s_deliver_piece(ws, frame->opcode, data, more, frame->payload_length);
    }
    if (ws->message.buffer == NULL) {
        uint64_t first = frame->payload_length < WSCRT_WEBSOCKET_MESSAGE_BUFFER_KEEP ? frame->payload_length
                                                                                  : WSCRT_WEBSOCKET_MESSAGE_BUFFER_KEEP;
        wscrt_byte_buf_init(&ws->message, ws->allocator, (size_t)first);
    }
    wscrt_byte_buf_append_dynamic(&ws->message, data);
    return WSCRT_OP_SUCCESS;
}

int wscrt_websocket_message_on_complete(struct wscrt_websocket *ws, const struct wscrt_websocket_frame *frame,
                                        struct wscrt_byte_cursor control_payload) {
    if (!wscrt_websocket_opcode_is_data(frame->opcode)) {
        return s_deliver(ws, frame->opcode, control_payload);
    }
    if (frame->compressed) {
        if (!frame->fin) {
            return WSCRT_OP_SUCCESS;
        }
        if (wscrt_websocket_inflate_finish(ws)) {
            return WSCRT_OP_ERR;
        }
        if (ws->options.partial_messages) { /* the inflated pieces went out as they came: end the message */
            return s_deliver(ws, ws->message_opcode, (struct wscrt_byte_cursor){0});
        }
    } else if (ws->options.partial_messages) { /* an empty final frame still ends the message */
        bool ended = frame->fin && frame->payload_length == 0;
        return ended ? s_deliver(ws, ws->message_opcode, (struct wscrt_byte_cursor){0}) : WSCRT_OP_SUCCESS;
    }
    if (!frame->fin || ws->message_delivered) {
        ws->message_delivered = false;
        return WSCRT_OP_SUCCESS;
    }
    if (!s_end_batch(ws)) {
        return wscrt_raise_error(WSCRT_ERROR_CALLBACK_EXCEPTION);
    }
    if (s_deliver(ws, ws->message_opcode, wscrt_byte_cursor_from_buf(&ws->message))) {
        return WSCRT_OP_ERR;
    }
    if (!s_end_batch(ws)) {
        return wscrt_raise_error(WSCRT_ERROR_CALLBACK_EXCEPTION);
    }
    if (ws->message.capacity > WSCRT_WEBSOCKET_MESSAGE_BUFFER_KEEP) {
        wscrt_byte_buf_clean_up(&ws->message);
    }
    ws->message.len = 0;
    return WSCRT_OP_SUCCESS;
}

int wscrt_websocket_message_on_whole(struct wscrt_websocket *ws, const struct wscrt_websocket_frame *frame,
                                     struct wscrt_byte_cursor payload) {
    if (frame->compressed) {
        return 1;
    }
    if (ws->options.partial_messages) { /* what the three steps deliver: its payload as one piece, if any */
        if (wscrt_websocket_message_on_begin(ws, frame)) {
            return WSCRT_OP_ERR;
        }
        if (payload.len > 0) {
            return s_partial_on_payload(ws, frame, payload);
        }
        return frame->fin ? s_deliver(ws, ws->message_opcode, payload) : WSCRT_OP_SUCCESS;
    }
    if (!frame->fin || frame->opcode == WSCRT_WEBSOCKET_OPCODE_CONTINUATION) {
        return 1;
    }
    /* What on_begin does for a message in one frame, inline: streams of small messages are mostly this. */
    if (wscrt_websocket_opcode_is_data(frame->opcode)) {
        if (s_check_message_size(ws, frame->payload_length, frame->payload_length)) {
            return WSCRT_OP_ERR;
        }
        s_start_message(ws, frame->opcode);
    }
    return s_deliver(ws, frame->opcode, payload);
}

void wscrt_websocket_message_clean_up(struct wscrt_websocket *ws) {
    wscrt_byte_buf_clean_up(&ws->message);
}
