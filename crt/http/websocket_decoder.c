#include "http/websocket_decoder.h"

#include <string.h>

#include "common/allocator.h"
#include "common/error.h"
#include "common/logging.h"

/*
 * Syntax: the header arrives in up to three pieces (first byte, second byte,
 * extended length), each checked by the semantic layer as soon as it is
 * complete, so a violation is reported at the earliest byte that proves it.
 * A MASK bit is itself a violation, so the masking key is never read.
 */
enum s_decoder_state {
    S_STATE_HEADER,
    S_STATE_PAYLOAD,
    S_STATE_FAILED,
};

/* Sizes of the header pieces, as cumulative header_needed targets. */
#define S_FIRST_BYTE_DONE 1
#define S_LENGTH7_DONE 2
/* The 64-bit form is read in two steps so that its forbidden top bit fails at
 * the first byte that carries it (the 16-bit form is done at 4). */
#define S_LENGTH64_FIRST_BYTE_DONE 3
#define S_LENGTH16_DONE 4
#define S_LENGTH64_DONE 10

static void s_start_header(struct wscrt_websocket_decoder *decoder) {
    decoder->state = S_STATE_HEADER;
    decoder->header_scratch_len = 0;
    decoder->header_needed = S_FIRST_BYTE_DONE;
}

void wscrt_websocket_decoder_init(struct wscrt_websocket_decoder *decoder, struct wscrt_allocator *allocator,
                                  const struct wscrt_websocket_decoder_options *options) {
    memset(decoder, 0, sizeof(*decoder));
    decoder->options = *options;
    decoder->allocator = allocator;
    wscrt_utf8_validator_reset(&decoder->text_validator);
    s_start_header(decoder);
}

void wscrt_websocket_decoder_clean_up(struct wscrt_websocket_decoder *decoder) {
    wscrt_mem_release(decoder->allocator, decoder->control_buffer);
    decoder->control_buffer = NULL;
    decoder->control_payload = NULL;
    decoder->control_payload_len = 0;
}

bool wscrt_websocket_decoder_in_frame(const struct wscrt_websocket_decoder *decoder) {
    return decoder->state == S_STATE_PAYLOAD;
}

static int s_fail(struct wscrt_websocket_decoder *decoder, int error_code) {
    decoder->state = S_STATE_FAILED;
    decoder->close_status_on_error = error_code == WSCRT_ERROR_WEBSOCKET_INVALID_UTF8
                                         ? WSCRT_WEBSOCKET_CLOSE_INVALID_PAYLOAD
                                         : WSCRT_WEBSOCKET_CLOSE_PROTOCOL_ERROR;
    WSCRT_LOGF_DEBUG(WSCRT_LS_WEBSOCKET, "id=%p: Received invalid frame: %s (close status %u)", (void *)decoder,
                    wscrt_error_str(error_code), (unsigned)decoder->close_status_on_error);
    return wscrt_raise_error(error_code);
}

/* A callback said stop: the error it raised stays the thread's error. */
static int s_fail_from_callback(struct wscrt_websocket_decoder *decoder) {
    decoder->state = S_STATE_FAILED;
    decoder->close_status_on_error = WSCRT_WEBSOCKET_CLOSE_INTERNAL_ERROR;
    return WSCRT_OP_ERR;
}

static bool s_frame_is_control(const struct wscrt_websocket_frame *frame) {
    return !wscrt_websocket_opcode_is_data(frame->opcode);
}

/* ---- semantics: RFC 6455 rules, applied as soon as the fields are known ---- */

static int s_check_first_byte(struct wscrt_websocket_decoder *decoder) {
    const struct wscrt_websocket_frame *frame = &decoder->frame;
    if ((frame->rsv & ~decoder->options.allowed_rsv_bits) != 0) {
        return s_fail(decoder, WSCRT_ERROR_WEBSOCKET_RESERVED_BITS);
    }
    if (!wscrt_websocket_opcode_is_known(frame->opcode)) {
        return s_fail(decoder, WSCRT_ERROR_WEBSOCKET_RESERVED_OPCODE);
    }
    /* RFC 7692 6: RSV1 marks a compressed message, so it belongs on its first frame only. */
    if ((frame->rsv & WSCRT_WEBSOCKET_RSV1_COMPRESSED) &&
        (s_frame_is_control(frame) || frame->opcode == WSCRT_WEBSOCKET_OPCODE_CONTINUATION)) {
        return s_fail(decoder, WSCRT_ERROR_WEBSOCKET_MISPLACED_RSV1);
    }
    if (s_frame_is_control(frame)) {
        if (!frame->fin) {
            return s_fail(decoder, WSCRT_ERROR_WEBSOCKET_CONTROL_FRAME_FRAGMENTED);
        }
    } else if (frame->opcode == WSCRT_WEBSOCKET_OPCODE_CONTINUATION) {
        if (!decoder->message_open) {
            return s_fail(decoder, WSCRT_ERROR_WEBSOCKET_UNEXPECTED_CONTINUATION);
        }
    } else if (decoder->message_open) {
        return s_fail(decoder, WSCRT_ERROR_WEBSOCKET_EXPECTED_CONTINUATION);
    }
    return WSCRT_OP_SUCCESS;
}

static int s_check_second_byte(struct wscrt_websocket_decoder *decoder, uint8_t length7) {
    const struct wscrt_websocket_frame *frame = &decoder->frame;
    if (frame->masked) {
        return s_fail(decoder, WSCRT_ERROR_WEBSOCKET_MASKED_FRAME);
    }
    if (s_frame_is_control(frame)) {
        /* 126 and 127 announce an extended length, which is > 125 by definition. */
        if (length7 > WSCRT_WEBSOCKET_MAX_CONTROL_PAYLOAD) {
            return s_fail(decoder, WSCRT_ERROR_WEBSOCKET_CONTROL_FRAME_TOO_LONG);
        }
        /* A status code takes two bytes: one byte can never be a valid CLOSE body. */
        if (frame->opcode == WSCRT_WEBSOCKET_OPCODE_CLOSE && length7 == 1) {
            return s_fail(decoder, WSCRT_ERROR_WEBSOCKET_INVALID_CLOSE_PAYLOAD);
        }
    }
    return WSCRT_OP_SUCCESS;
}

static int s_check_extended_length(struct wscrt_websocket_decoder *decoder, uint8_t length7) {
    uint64_t length = decoder->frame.payload_length;
    if (length7 == WSCRT_WEBSOCKET_LENGTH7_U16) {
        if (length < WSCRT_WEBSOCKET_LENGTH7_U16) {
            return s_fail(decoder, WSCRT_ERROR_WEBSOCKET_NON_MINIMAL_LENGTH);
        }
    } else {
        /* The top bit was refused at the length's first byte (INVALID_PAYLOAD_LENGTH). */
        if (length <= UINT16_MAX) {
            return s_fail(decoder, WSCRT_ERROR_WEBSOCKET_NON_MINIMAL_LENGTH);
        }
    }
    return WSCRT_OP_SUCCESS;
}

/* Before on_frame_complete of a CLOSE frame, whose payload is all in control_payload. */
static int s_check_close_payload(struct wscrt_websocket_decoder *decoder) {
    if (decoder->control_payload_len == 0) {
        return WSCRT_OP_SUCCESS;
    }
    /* Length 1 was refused with the header; here there are at least 2 bytes. */
    uint16_t code = (uint16_t)((decoder->control_payload[0] << 8) | decoder->control_payload[1]);
    if (!wscrt_websocket_close_code_is_valid(code)) {
        return s_fail(decoder, WSCRT_ERROR_WEBSOCKET_INVALID_CLOSE_CODE);
    }
    struct wscrt_byte_cursor reason =
        wscrt_byte_cursor_from_array(decoder->control_payload + 2, decoder->control_payload_len - 2);
    if (!wscrt_utf8_is_valid(reason)) {
        return s_fail(decoder, WSCRT_ERROR_WEBSOCKET_INVALID_UTF8);
    }
    return WSCRT_OP_SUCCESS;
}

/* ---- syntax: the header state machine ---- */

/* Called each time header_scratch reaches header_needed. Sets header_needed
 * further, or leaves it equal to header_scratch_len when the header is done. */
static int s_parse_header_piece(struct wscrt_websocket_decoder *decoder) {
    struct wscrt_websocket_frame *frame = &decoder->frame;
    const uint8_t *h = decoder->header_scratch;

    switch (decoder->header_scratch_len) {
        case S_FIRST_BYTE_DONE:
            memset(frame, 0, sizeof(*frame));
            frame->fin = (h[0] & WSCRT_WEBSOCKET_FIN_BIT) != 0;
            frame->rsv = h[0] & WSCRT_WEBSOCKET_RSV_MASK;
            frame->opcode = h[0] & WSCRT_WEBSOCKET_OPCODE_MASK;
            decoder->header_needed = S_LENGTH7_DONE;
            return s_check_first_byte(decoder);

        case S_LENGTH7_DONE: {
            uint8_t length7 = h[1] & WSCRT_WEBSOCKET_LENGTH7_MASK;
            frame->masked = (h[1] & WSCRT_WEBSOCKET_MASK_BIT) != 0;
            if (s_check_second_byte(decoder, length7)) {
                return WSCRT_OP_ERR;
            }
            if (length7 == WSCRT_WEBSOCKET_LENGTH7_U16) {
                decoder->header_needed = S_LENGTH16_DONE;
            } else if (length7 == WSCRT_WEBSOCKET_LENGTH7_U64) {
                decoder->header_needed = S_LENGTH64_FIRST_BYTE_DONE;
            } else {
                frame->payload_length = length7;
            }
            return WSCRT_OP_SUCCESS;
        }

        case S_LENGTH64_FIRST_BYTE_DONE:
            if (h[2] & 0x80) {
                return s_fail(decoder, WSCRT_ERROR_WEBSOCKET_INVALID_PAYLOAD_LENGTH);
            }
            decoder->header_needed = S_LENGTH64_DONE;
            return WSCRT_OP_SUCCESS;

        default: {
            /* The extended length is complete. */
            uint64_t length = 0;
            for (size_t i = S_LENGTH7_DONE; i < decoder->header_scratch_len; ++i) {
                length = (length << 8) | h[i];
            }
            frame->payload_length = length;
            return s_check_extended_length(decoder, h[1] & WSCRT_WEBSOCKET_LENGTH7_MASK);
        }
    }
}

static bool s_frame_checks_utf8(const struct wscrt_websocket_decoder *decoder);

/* The message state a TEXT or BINARY frame starts. */
static void s_begin_data_message(struct wscrt_websocket_decoder *decoder, uint8_t opcode, uint8_t rsv) {
    decoder->message_opcode = opcode;
    /* RSV bits mean an extension transformed the payload (compression):
     * its text can only be checked after it is undone, by the extension. */
    decoder->message_check_utf8 = opcode == WSCRT_WEBSOCKET_OPCODE_TEXT && rsv == 0;
    decoder->message_compressed = (rsv & WSCRT_WEBSOCKET_RSV1_COMPRESSED) != 0;
    wscrt_utf8_validator_reset(&decoder->text_validator);
}

/* Consumes a data frame's whole payload (checked) from `data` and the budget, and hands it to on_whole_frame. */
static int s_deliver_whole_frame(struct wscrt_websocket_decoder *decoder, struct wscrt_byte_cursor *data,
                                 uint64_t *budget, struct wscrt_byte_cursor payload) {
    wscrt_byte_cursor_advance(data, payload.len);
    if (budget) {
        *budget -= payload.len;
    }
    decoder->payload_remaining = 0;
    s_start_header(decoder);
    if (decoder->options.on_whole_frame(&decoder->frame, payload, decoder->options.user_data)) {
        return s_fail_from_callback(decoder);
    }
    return WSCRT_OP_SUCCESS;
}

/*
 * A data frame whose payload is all in `data`, within the budget: delivered in one on_whole_frame call, after
 * the checks s_read_data_payload and s_complete_frame make. Returns 1 without consuming anything when the frame
 * does not qualify (or its text is invalid: the usual path then fails it at the same byte).
 */
static int s_try_whole_frame(struct wscrt_websocket_decoder *decoder, struct wscrt_byte_cursor *data,
                             uint64_t *budget) {
    const struct wscrt_websocket_frame *frame = &decoder->frame;
    if (!decoder->options.on_whole_frame || s_frame_is_control(frame) || frame->payload_length > data->len ||
        (budget && *budget < frame->payload_length)) {
        return 1;
    }
    struct wscrt_byte_cursor payload = {.ptr = data->ptr, .len = (size_t)frame->payload_length};
    if (s_frame_checks_utf8(decoder)) {
        struct wscrt_utf8_validator checked = decoder->text_validator;
        if ((payload.len > 0 && wscrt_utf8_validator_update(&checked, payload)) ||
            (frame->fin && wscrt_utf8_validator_finalize(&checked))) {
            return 1;
        }
        decoder->text_validator = checked;
    }
    return s_deliver_whole_frame(decoder, data, budget, payload);
}

static int s_begin_frame(struct wscrt_websocket_decoder *decoder, struct wscrt_byte_cursor *data,
                         uint64_t *budget) {
    struct wscrt_websocket_frame *frame = &decoder->frame;
    decoder->payload_remaining = frame->payload_length;
    if (s_frame_is_control(frame)) {
        decoder->control_payload = NULL;
        decoder->control_payload_len = 0;
    }
    /* Each field read on its own: the header was just stored a byte at a time, and one wider load of
     * opcode and rsv together (a compiler merges the two tests into it) cannot be forwarded from those
     * stores; it waits for them to reach the cache, a stall per frame (receive 64 B: ~10 % of the time). */
    uint8_t opcode = frame->opcode;
    uint8_t rsv = frame->rsv;
    if (opcode == WSCRT_WEBSOCKET_OPCODE_TEXT || opcode == WSCRT_WEBSOCKET_OPCODE_BINARY) {
        s_begin_data_message(decoder, opcode, rsv);
    }
    if (!s_frame_is_control(frame)) {
        decoder->message_open = !frame->fin;
        frame->compressed = decoder->message_compressed;
    }
    decoder->state = S_STATE_PAYLOAD;
    int whole = s_try_whole_frame(decoder, data, budget);
    if (whole != 1) {
        return whole;
    }
    if (decoder->options.on_frame_begin && decoder->options.on_frame_begin(frame, decoder->options.user_data)) {
        return s_fail_from_callback(decoder);
    }
    return WSCRT_OP_SUCCESS;
}

/*
 * s_begin_frame for the most common frames, TEXT or BINARY with FIN and no RSV bits outside a fragmented message
 * (so `frame->compressed` is already false), whose payload (`length` bytes) is all in `data` within the budget and
 * goes to on_whole_frame: the same steps without the tests that cannot fail for such a frame (receive 64 B: those
 * were about a tenth of the event loop's time). Returns 1 without a change for text that is not valid UTF-8:
 * s_begin_frame then fails it at the same byte.
 */
static int s_whole_usual_frame(struct wscrt_websocket_decoder *decoder, struct wscrt_byte_cursor *data,
                               uint64_t *budget, uint8_t opcode, size_t length) {
    struct wscrt_byte_cursor payload = {.ptr = data->ptr, .len = length};
    if (opcode == WSCRT_WEBSOCKET_OPCODE_TEXT && !wscrt_utf8_is_valid(payload)) {
        return 1;
    }
    s_begin_data_message(decoder, opcode, 0); /* a whole text's check leaves the validator reset, too */
    decoder->message_open = false;
    return s_deliver_whole_frame(decoder, data, budget, payload);
}

static bool s_frame_checks_utf8(const struct wscrt_websocket_decoder *decoder) {
    return !s_frame_is_control(&decoder->frame) && decoder->message_check_utf8;
}

static int s_complete_frame(struct wscrt_websocket_decoder *decoder) {
    const struct wscrt_websocket_frame *frame = &decoder->frame;
    if (s_frame_is_control(frame)) {
        if (frame->opcode == WSCRT_WEBSOCKET_OPCODE_CLOSE && s_check_close_payload(decoder)) {
            return WSCRT_OP_ERR;
        }
        /* Control payloads are delivered whole, once checked: a CLOSE reason is
         * never seen before its status code has been found valid. */
        if (decoder->control_payload_len > 0 && decoder->options.on_payload &&
            decoder->options.on_payload(frame,
                                        wscrt_byte_cursor_from_array(decoder->control_payload,
                                                                     decoder->control_payload_len),
                                        decoder->options.user_data)) {
            return s_fail_from_callback(decoder);
        }
    } else if (frame->fin && s_frame_checks_utf8(decoder)) {
        /* The message ends here: a code point cut off at the end is invalid. */
        if (wscrt_utf8_validator_finalize(&decoder->text_validator)) {
            return s_fail(decoder, WSCRT_ERROR_WEBSOCKET_INVALID_UTF8);
        }
    }
    s_start_header(decoder);
    if (decoder->options.on_frame_complete &&
        decoder->options.on_frame_complete(frame, decoder->options.user_data)) {
        return s_fail_from_callback(decoder);
    }
    return WSCRT_OP_SUCCESS;
}

/* Reads what is available of the header. Returns with the header incomplete
 * only when `data` is empty. */
static int s_read_header(struct wscrt_websocket_decoder *decoder, struct wscrt_byte_cursor *data, uint64_t *budget) {
    if (decoder->header_scratch_len == 0 && data->len >= 2 &&
        (data->ptr[1] & (WSCRT_WEBSOCKET_MASK_BIT | WSCRT_WEBSOCKET_LENGTH7_MASK)) < WSCRT_WEBSOCKET_LENGTH7_U16) {
        /* Fastest path (streams of small messages): an unmasked two-byte header. The same two pieces, with
         * the same checks in the same order, straight from `data`. */
        struct wscrt_websocket_frame *frame = &decoder->frame;
        uint8_t first = data->ptr[0];
        uint8_t length7 = data->ptr[1];
        *frame = (struct wscrt_websocket_frame){
            .fin = (first & WSCRT_WEBSOCKET_FIN_BIT) != 0,
            .rsv = first & WSCRT_WEBSOCKET_RSV_MASK,
            .opcode = first & WSCRT_WEBSOCKET_OPCODE_MASK,
            .payload_length = length7,
        };
        /* The usual frame needs no check: a whole text or binary one without RSV bits outside a fragmented
         * message passes every check of both bytes (and it is unmasked, or it would not be here). */
        bool usual = (first == (WSCRT_WEBSOCKET_FIN_BIT | WSCRT_WEBSOCKET_OPCODE_BINARY) ||
                      first == (WSCRT_WEBSOCKET_FIN_BIT | WSCRT_WEBSOCKET_OPCODE_TEXT)) &&
                     !decoder->message_open;
        if (!usual && s_check_first_byte(decoder)) {
            wscrt_byte_cursor_advance(data, S_FIRST_BYTE_DONE);
            return WSCRT_OP_ERR;
        }
        wscrt_byte_cursor_advance(data, S_LENGTH7_DONE);
        if (!usual && s_check_second_byte(decoder, length7)) {
            return WSCRT_OP_ERR;
        }
        if (usual && decoder->options.on_whole_frame && length7 <= data->len && (!budget || *budget >= length7)) {
            int whole = s_whole_usual_frame(decoder, data, budget, first & WSCRT_WEBSOCKET_OPCODE_MASK, length7);
            if (whole != 1) {
                return whole;
            }
        }
        return s_begin_frame(decoder, data, budget);
    }
    if (decoder->header_scratch_len == 0 && data->len >= WSCRT_WEBSOCKET_MAX_HEADER_SIZE) {
        /* Fast path (most frames of a busy stream): the longest possible header is in `data`. Peek at it
         * and run the same pieces, with the same checks in the same order, without a copy per piece. */
        memcpy(decoder->header_scratch, data->ptr, WSCRT_WEBSOCKET_MAX_HEADER_SIZE);
        do {
            decoder->header_scratch_len = decoder->header_needed;
            if (s_parse_header_piece(decoder)) {
                wscrt_byte_cursor_advance(data, decoder->header_scratch_len);
                return WSCRT_OP_ERR;
            }
        } while (decoder->header_scratch_len < decoder->header_needed);
        wscrt_byte_cursor_advance(data, decoder->header_scratch_len);
        return s_begin_frame(decoder, data, budget);
    }
    while (data->len > 0) {
        size_t want = decoder->header_needed - decoder->header_scratch_len;
        size_t take = want < data->len ? want : data->len;
        memcpy(decoder->header_scratch + decoder->header_scratch_len, data->ptr, take);
        decoder->header_scratch_len += take;
        wscrt_byte_cursor_advance(data, take);
        if (decoder->header_scratch_len < decoder->header_needed) {
            return WSCRT_OP_SUCCESS;
        }
        if (s_parse_header_piece(decoder)) {
            return WSCRT_OP_ERR;
        }
        if (decoder->header_scratch_len == decoder->header_needed) {
            return s_begin_frame(decoder, data, budget);
        }
    }
    return WSCRT_OP_SUCCESS;
}

static int s_read_control_payload(struct wscrt_websocket_decoder *decoder, struct wscrt_byte_cursor *data) {
    size_t take = decoder->payload_remaining < data->len ? (size_t)decoder->payload_remaining : data->len;
    if (take == 0) {
        return WSCRT_OP_SUCCESS; /* data->ptr may be NULL */
    }
    if (decoder->control_payload_len == 0 && take == decoder->payload_remaining) {
        /* All of it is here: used in place, as the frame completes before process() returns. */
        decoder->control_payload = data->ptr;
    } else {
        if (decoder->control_buffer == NULL) {
            decoder->control_buffer = wscrt_mem_acquire(decoder->allocator, WSCRT_WEBSOCKET_MAX_CONTROL_PAYLOAD);
        }
        /* payload_length <= 125 was checked, so this stays within the buffer; what came before is in it too
         * (a payload used in place is complete). */
        memcpy(decoder->control_buffer + decoder->control_payload_len, data->ptr, take);
        decoder->control_payload = decoder->control_buffer;
    }
    decoder->control_payload_len += take;
    decoder->payload_remaining -= take;
    wscrt_byte_cursor_advance(data, take);
    return WSCRT_OP_SUCCESS;
}

/* Returns with payload left only when `data` is empty or the budget is spent. */
static int s_read_data_payload(struct wscrt_websocket_decoder *decoder, struct wscrt_byte_cursor *data,
                               uint64_t *budget) {
    uint64_t take = decoder->payload_remaining < data->len ? decoder->payload_remaining : data->len;
    if (budget && *budget < take) {
        take = *budget;
    }
    if (take == 0) {
        return WSCRT_OP_SUCCESS;
    }
    struct wscrt_byte_cursor chunk = wscrt_byte_cursor_advance(data, (size_t)take);
    if (s_frame_checks_utf8(decoder) && wscrt_utf8_validator_update(&decoder->text_validator, chunk)) {
        return s_fail(decoder, WSCRT_ERROR_WEBSOCKET_INVALID_UTF8);
    }
    decoder->payload_remaining -= take;
    if (budget) {
        *budget -= take;
    }
    if (decoder->options.on_payload && decoder->options.on_payload(&decoder->frame, chunk, decoder->options.user_data)) {
        return s_fail_from_callback(decoder);
    }
    return WSCRT_OP_SUCCESS;
}

int wscrt_websocket_decoder_process(struct wscrt_websocket_decoder *decoder, struct wscrt_byte_cursor *data,
                                    uint64_t *data_payload_budget) {
    for (;;) {
        switch (decoder->state) {
            case S_STATE_HEADER:
                if (data->len == 0) {
                    return WSCRT_OP_SUCCESS;
                }
                if (s_read_header(decoder, data, data_payload_budget)) {
                    return WSCRT_OP_ERR;
                }
                break;

            case S_STATE_PAYLOAD:
                if (decoder->payload_remaining == 0) {
                    if (s_complete_frame(decoder)) {
                        return WSCRT_OP_ERR;
                    }
                    break;
                }
                if (s_frame_is_control(&decoder->frame)) {
                    s_read_control_payload(decoder, data);
                } else if (s_read_data_payload(decoder, data, data_payload_budget)) {
                    return WSCRT_OP_ERR;
                }
                if (decoder->payload_remaining > 0) {
                    /* Out of data, or out of budget. */
                    return WSCRT_OP_SUCCESS;
                }
                break;

            default:
                /* A failed decoder is done: the connection is being closed. */
                return wscrt_raise_error(WSCRT_ERROR_INVALID_STATE);
        }
    }
}
