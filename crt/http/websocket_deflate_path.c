/*
 * permessage-deflate on a live connection (RFC 7692): the offer in the
 * upgrade request, the deflater and inflater the server's answer calls for,
 * inflating incoming compressed messages (message mode) and compressing
 * outgoing whole messages. The codec itself is websocket_deflate.c, the
 * negotiation websocket_extensions.c, the RSV1 rules the decoder and encoder.
 *
 * Only message mode offers deflate: frame-mode callbacks report frames as
 * they are on the wire (payload lengths are wire lengths), which compressed
 * frames would contradict.
 *
 * Limits: an incoming compressed message is capped on its INFLATED bytes by
 * max_message_size; the inflater stops at the first byte past it (1009), so a
 * small frame that would inflate to gigabytes costs at most the cap in
 * memory. Invalid DEFLATE data fails with 1007, as does TEXT whose inflated
 * bytes are not UTF-8.
 */
#include <stdio.h>
#include <string.h>

#include "common/allocator.h"
#include "common/error.h"
#include "common/logging.h"
#include "http/http_request.h"
#include "http/websocket_encoder.h"
#include "http/websocket_handshake.h"
#include "http/websocket_impl.h"

/* A compression buffer larger than this is freed after its message rather than kept for the next. */
#define S_SCRATCH_KEEP (64 * 1024)

int wscrt_websocket_deflate_check_options(const struct wscrt_websocket_client_connection_options *options) {
    const struct wscrt_websocket_deflate_config *config = options->deflate;
    if (!config) {
        return WSCRT_OP_SUCCESS;
    }
    struct wscrt_byte_cursor ignored;
    if (!options->on_incoming_message || wscrt_websocket_deflate_options_validate(&config->offer) ||
        config->compression_level < 0 || config->compression_level > 9 || config->mem_level < 0 ||
        config->mem_level > 9 ||
        wscrt_http_request_find_header(options->handshake_request, "Sec-WebSocket-Extensions", &ignored)) {
        return wscrt_raise_error(WSCRT_ERROR_INVALID_ARGUMENT);
    }
    return WSCRT_OP_SUCCESS;
}

void wscrt_websocket_deflate_init(struct wscrt_websocket *ws,
                                  const struct wscrt_websocket_client_connection_options *options) {
    if (options->deflate) {
        struct wscrt_websocket_deflate_state *deflate =
            wscrt_mem_calloc(ws->allocator, 1, sizeof(struct wscrt_websocket_deflate_state));
        deflate->config = *options->deflate;
        wscrt_utf8_validator_reset(&deflate->inflated_text);
        pthread_mutex_init(&deflate->lock, NULL);
        ws->deflate = deflate;
    }
}

static void s_free_state(struct wscrt_websocket *ws) {
    struct wscrt_websocket_deflate_state *deflate = ws->deflate;
    if (!deflate) {
        return;
    }
    ws->deflate = NULL;
    wscrt_websocket_deflater_destroy(deflate->deflater);
    wscrt_websocket_inflater_destroy(deflate->inflater);
    wscrt_byte_buf_clean_up(&deflate->scratch);
    pthread_mutex_destroy(&deflate->lock);
    wscrt_mem_release(ws->allocator, deflate);
}

int wscrt_websocket_deflate_add_offer(struct wscrt_websocket *ws, struct wscrt_byte_buf *encoded_request) {
    if (!ws->deflate) {
        return WSCRT_OP_SUCCESS;
    }
    /* The head ends with an empty line: the header goes in before it. */
    if (encoded_request->len < 4 || memcmp(encoded_request->buffer + encoded_request->len - 4, "\r\n\r\n", 4) != 0) {
        return wscrt_raise_error(WSCRT_ERROR_INVALID_STATE);
    }
    encoded_request->len -= 2;
    static const char s_name[] = "Sec-WebSocket-Extensions: ";
    if (wscrt_byte_buf_append_dynamic(encoded_request, wscrt_byte_cursor_from_c_str(s_name)) ||
        wscrt_websocket_deflate_write_offer(&ws->deflate->config.offer, encoded_request) ||
        wscrt_byte_buf_append_dynamic(encoded_request, wscrt_byte_cursor_from_c_str("\r\n\r\n"))) {
        return WSCRT_OP_ERR;
    }
    return WSCRT_OP_SUCCESS;
}

/* Inflated bytes of the current message: checked (TEXT), and joined, or delivered as a piece in partial mode. */
static int s_on_inflated(struct wscrt_byte_cursor data, void *user_data) {
    struct wscrt_websocket *ws = user_data;
    if (ws->message_opcode == WSCRT_WEBSOCKET_OPCODE_TEXT &&
        wscrt_utf8_validator_update(&ws->deflate->inflated_text, data)) {
        return wscrt_raise_error(WSCRT_ERROR_WEBSOCKET_INVALID_UTF8);
    }
    if (ws->options.partial_messages) {
        return wscrt_websocket_message_deliver_piece(ws, data);
    }
    if (ws->message.buffer == NULL) {
        wscrt_byte_buf_init(&ws->message, ws->allocator, data.len < 4096 ? 4096 : data.len);
    }
    return wscrt_byte_buf_append_dynamic(&ws->message, data);
}

/* "permessage-deflate" and the parameters that apply, in a fixed order. */
static char *s_describe(struct wscrt_allocator *allocator, const struct wscrt_websocket_deflate_params *p) {
    char text[160];
    int len = snprintf(text, sizeof(text), "permessage-deflate");
    if (p->server_no_context_takeover) {
        len += snprintf(text + len, sizeof(text) - (size_t)len, "; server_no_context_takeover");
    }
    if (p->client_no_context_takeover) {
        len += snprintf(text + len, sizeof(text) - (size_t)len, "; client_no_context_takeover");
    }
    if (p->server_max_window_bits < WSCRT_WEBSOCKET_DEFLATE_MAX_WINDOW_BITS) {
        len += snprintf(text + len, sizeof(text) - (size_t)len, "; server_max_window_bits=%u",
                        (unsigned)p->server_max_window_bits);
    }
    if (p->client_max_window_bits < WSCRT_WEBSOCKET_DEFLATE_MAX_WINDOW_BITS) {
        len += snprintf(text + len, sizeof(text) - (size_t)len, "; client_max_window_bits=%u",
                        (unsigned)p->client_max_window_bits);
    }
    char *copy = wscrt_mem_acquire(allocator, (size_t)len + 1);
    memcpy(copy, text, (size_t)len + 1);
    return copy;
}

int wscrt_websocket_deflate_start(struct wscrt_websocket *ws, const struct wscrt_websocket_handshake_answer *answer) {
    struct wscrt_websocket_deflate_state *deflate = ws->deflate;
    if (!answer->deflate_accepted) {
        s_free_state(ws); /* declined (or not offered): an open connection keeps none of it */
        return WSCRT_OP_SUCCESS;
    }
    struct wscrt_websocket_deflater_options deflater_options = {
        .params = answer->deflate,
        .compression_level = deflate->config.compression_level,
        .mem_level = deflate->config.mem_level,
        .compression_threshold = deflate->config.compression_threshold,
    };
    struct wscrt_websocket_inflater_options inflater_options = {
        .params = answer->deflate,
        .max_message_size = ws->options.max_message_size,
        .on_output = s_on_inflated,
        .user_data = ws,
    };
    deflate->deflater = wscrt_websocket_deflater_new(ws->allocator, &deflater_options);
    deflate->inflater = deflate->deflater ? wscrt_websocket_inflater_new(ws->allocator, &inflater_options) : NULL;
    if (!deflate->inflater) {
        return WSCRT_OP_ERR;
    }
    wscrt_byte_buf_init(&deflate->scratch, ws->allocator, 0);
    ws->extensions = s_describe(ws->allocator, &answer->deflate);
    ws->decoder.options.allowed_rsv_bits = WSCRT_WEBSOCKET_RSV1_COMPRESSED;
    WSCRT_LOGF_DEBUG(WSCRT_LS_WEBSOCKET, "id=%p: Negotiated %s", (void *)ws, ws->extensions);
    return WSCRT_OP_SUCCESS;
}

void wscrt_websocket_deflate_clean_up(struct wscrt_websocket *ws) {
    s_free_state(ws);
    wscrt_mem_release(ws->allocator, ws->extensions);
    ws->extensions = NULL;
}

const char *wscrt_websocket_get_extensions(const struct wscrt_websocket *websocket) {
    return websocket->extensions ? websocket->extensions : "";
}

/* ---- receiving (loop thread) ---- */

int wscrt_websocket_inflate_payload(struct wscrt_websocket *ws, struct wscrt_byte_cursor data) {
    return wscrt_websocket_inflater_process(ws->deflate->inflater, data);
}

int wscrt_websocket_inflate_finish(struct wscrt_websocket *ws) {
    struct wscrt_websocket_deflate_state *deflate = ws->deflate;
    if (wscrt_websocket_inflater_finish_message(deflate->inflater)) {
        return WSCRT_OP_ERR;
    }
    if (ws->message_opcode == WSCRT_WEBSOCKET_OPCODE_TEXT &&
        wscrt_utf8_validator_finalize(&deflate->inflated_text)) {
        return wscrt_raise_error(WSCRT_ERROR_WEBSOCKET_INVALID_UTF8);
    }
    wscrt_utf8_validator_reset(&deflate->inflated_text);
    return WSCRT_OP_SUCCESS;
}

/* ---- sending (any thread, ws->deflate->lock held) ---- */

struct wscrt_outgoing_frame *wscrt_websocket_deflate_frame_new(struct wscrt_websocket *ws, uint8_t opcode,
                                                               struct wscrt_byte_cursor payload,
                                                               wscrt_websocket_on_send_complete_fn *on_complete,
                                                               void *user_data) {
    struct wscrt_byte_buf *scratch = &ws->deflate->scratch;
    scratch->len = 0;
    bool compressed = false;
    if (wscrt_websocket_deflate_compress_message(ws->deflate->deflater, payload, scratch, &compressed)) {
        return NULL;
    }
    struct wscrt_outgoing_frame *frame =
        compressed ? wscrt_websocket_outgoing_frame_new_rsv(ws, opcode, true, WSCRT_WEBSOCKET_RSV1_COMPRESSED,
                                                            wscrt_byte_cursor_from_buf(scratch), on_complete,
                                                            user_data)
                   : wscrt_websocket_outgoing_frame_new(ws, opcode, true, payload, on_complete, user_data);
    if (scratch->capacity > S_SCRATCH_KEEP) {
        wscrt_byte_buf_clean_up(scratch);
        wscrt_byte_buf_init(scratch, ws->allocator, 0);
    }
    return frame;
}
