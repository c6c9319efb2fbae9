/*
 * The reference reader of the websocket_decoder fuzz target (see
 * websocket_decoder_fuzz.h): RFC 6455 client-side reading of the whole stream
 * at once, with none of the decoder's state machine.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/byte_buf.h"
#include "common/error.h"
#include "common/utf8.h"
#include "fuzz_support.h"
#include "http/websocket_frame.h"
#include "websocket_decoder_fuzz.h"

/*
 * What a correct decoder does with the whole stream, written plainly: the
 * frames it begins (and whether each completes) and, if the stream breaks a
 * rule, the set of errors that may be named. Several rules can be broken by
 * the same byte (a masked, over-long PING); the header leaves their order
 * open, so any of them is accepted. Checked against the "whole" run; the
 * other runs are checked against that one.
 */
struct s_reference {
    size_t frame_count;
    size_t complete_count;
    bool failed;
    uint32_t allowed_errors; /* bit (code - WSCRT_ERROR_WEBSOCKET_PROTOCOL_ERROR) */
};

static uint32_t s_error_bit(int code) {
    return 1u << (code - WSCRT_ERROR_WEBSOCKET_PROTOCOL_ERROR);
}

struct s_reference_state {
    const uint8_t *stream;
    size_t len;
    uint8_t allowed_rsv;
    const struct wscrt_fuzz_delivered *run; /* the whole run, to compare frames as they are found */
    struct s_reference result;
    bool message_open;
    bool message_is_checked_text;
    bool message_compressed;
    struct wscrt_utf8_validator text;
};

/* A begun frame: must match the whole run's frame of the same index. */
static void s_reference_begin(struct s_reference_state *ref, const struct wscrt_websocket_frame *frame) {
    const struct wscrt_fuzz_delivered *run = ref->run;
    size_t index = ref->result.frame_count++;
    FUZZ_CHECK(index < run->frame_count, "reference: frame %zu (%s, %llu bytes) was never begun by the decoder",
               index, wscrt_fuzz_opcode_name(frame->opcode), (unsigned long long)frame->payload_length);
    FUZZ_CHECK(wscrt_fuzz_frames_equal(frame, &run->frames[index].frame),
               "reference: frame %zu is %s fin=%d rsv=0x%02x len=%llu, decoder began %s fin=%d rsv=0x%02x len=%llu",
               index, wscrt_fuzz_opcode_name(frame->opcode), (int)frame->fin, frame->rsv,
               (unsigned long long)frame->payload_length, wscrt_fuzz_opcode_name(run->frames[index].frame.opcode),
               (int)run->frames[index].frame.fin, run->frames[index].frame.rsv,
               (unsigned long long)run->frames[index].frame.payload_length);
}

/* The payload delivered for a frame (NULL when nothing was delivered yet). */
static const uint8_t *s_payload_of(const struct wscrt_fuzz_delivered *run,
                                   const struct wscrt_fuzz_frame_record *record) {
    return record->payload_len > 0 ? run->payload_log + record->payload_offset : NULL;
}

static void s_reference_fail(struct s_reference_state *ref, uint32_t errors) {
    ref->result.failed = true;
    ref->result.allowed_errors = errors;
}

static void s_reference_decode(struct s_reference_state *ref) {
    const uint8_t *s = ref->stream;
    size_t pos = 0;
    while (pos < ref->len) {
        struct wscrt_websocket_frame frame = {0};
        frame.fin = (s[pos] & 0x80) != 0;
        frame.rsv = s[pos] & 0x70;
        frame.opcode = s[pos] & 0x0F;
        bool control = frame.opcode >= 0x8;
        uint32_t errors = 0;
        if (frame.rsv & ~ref->allowed_rsv) {
            errors |= s_error_bit(WSCRT_ERROR_WEBSOCKET_RESERVED_BITS);
        }
        bool known = frame.opcode <= 0x2 || (frame.opcode >= 0x8 && frame.opcode <= 0xA);
        if (!known) {
            errors |= s_error_bit(WSCRT_ERROR_WEBSOCKET_RESERVED_OPCODE);
        }
        if (control && !frame.fin) { /* 0xB..0xF are control opcodes too, if reserved */
            errors |= s_error_bit(WSCRT_ERROR_WEBSOCKET_CONTROL_FRAME_FRAGMENTED);
        }
        if (known && frame.opcode == WSCRT_WEBSOCKET_OPCODE_CONTINUATION && !ref->message_open) {
            errors |= s_error_bit(WSCRT_ERROR_WEBSOCKET_UNEXPECTED_CONTINUATION);
        }
        if (known && !control && frame.opcode != WSCRT_WEBSOCKET_OPCODE_CONTINUATION && ref->message_open) {
            errors |= s_error_bit(WSCRT_ERROR_WEBSOCKET_EXPECTED_CONTINUATION);
        }
        /* RFC 7692 6: a negotiated RSV1 belongs on the first frame of a TEXT or BINARY message only. */
        if ((frame.rsv & ref->allowed_rsv & 0x40) && (control || frame.opcode == WSCRT_WEBSOCKET_OPCODE_CONTINUATION)) {
            errors |= s_error_bit(WSCRT_ERROR_WEBSOCKET_MISPLACED_RSV1);
        }
        if (errors) {
            s_reference_fail(ref, errors);
            return;
        }
        if (pos + 1 >= ref->len) {
            return;
        }
        frame.masked = (s[pos + 1] & 0x80) != 0;
        uint8_t length7 = s[pos + 1] & 0x7F;
        if (frame.masked) {
            errors |= s_error_bit(WSCRT_ERROR_WEBSOCKET_MASKED_FRAME);
        }
        if (control && length7 > 125) {
            errors |= s_error_bit(WSCRT_ERROR_WEBSOCKET_CONTROL_FRAME_TOO_LONG);
        }
        if (frame.opcode == WSCRT_WEBSOCKET_OPCODE_CLOSE && length7 == 1) {
            errors |= s_error_bit(WSCRT_ERROR_WEBSOCKET_INVALID_CLOSE_PAYLOAD);
        }
        if (errors) {
            s_reference_fail(ref, errors);
            return;
        }
        size_t header = 2;
        if (length7 < 126) {
            frame.payload_length = length7;
        } else {
            size_t bytes = length7 == 126 ? 2 : 8;
            /* The top bit of a 64-bit length is wrong as soon as its first byte is. */
            if (bytes == 8 && pos + 2 < ref->len && (s[pos + 2] & 0x80)) {
                s_reference_fail(ref, s_error_bit(WSCRT_ERROR_WEBSOCKET_INVALID_PAYLOAD_LENGTH));
                return;
            }
            if (ref->len - pos < 2 + bytes) {
                return;
            }
            for (size_t i = 0; i < bytes; ++i) {
                frame.payload_length = (frame.payload_length << 8) | s[pos + 2 + i];
            }
            header += bytes;
            if (frame.payload_length < (bytes == 2 ? 126u : 65536u)) {
                s_reference_fail(ref, s_error_bit(WSCRT_ERROR_WEBSOCKET_NON_MINIMAL_LENGTH));
                return;
            }
        }
        pos += header;

        if (!control) {
            if (frame.opcode != WSCRT_WEBSOCKET_OPCODE_CONTINUATION) {
                ref->message_is_checked_text = frame.opcode == WSCRT_WEBSOCKET_OPCODE_TEXT && frame.rsv == 0;
                ref->message_compressed = (frame.rsv & 0x40) != 0;
                wscrt_utf8_validator_reset(&ref->text);
            }
            ref->message_open = !frame.fin;
            frame.compressed = ref->message_compressed;
        }
        s_reference_begin(ref, &frame);
        size_t available = ref->len - pos;
        bool whole = frame.payload_length <= available;
        size_t present = whole ? (size_t)frame.payload_length : available;
        const uint8_t *payload = s + pos;
        if (!control && ref->message_is_checked_text && present > 0 &&
            wscrt_utf8_validator_update(&ref->text, wscrt_byte_cursor_from_array(payload, present))) {
            s_reference_fail(ref, s_error_bit(WSCRT_ERROR_WEBSOCKET_INVALID_UTF8));
            return;
        }
        if (!whole) {
            return;
        }
        if (frame.opcode == WSCRT_WEBSOCKET_OPCODE_CLOSE && present >= 2) {
            uint16_t code = (uint16_t)((payload[0] << 8) | payload[1]);
            if (!wscrt_fuzz_close_code_allowed_on_wire(code)) {
                s_reference_fail(ref, s_error_bit(WSCRT_ERROR_WEBSOCKET_INVALID_CLOSE_CODE));
                return;
            }
            if (!wscrt_utf8_is_valid(wscrt_byte_cursor_from_array(payload + 2, present - 2))) {
                s_reference_fail(ref, s_error_bit(WSCRT_ERROR_WEBSOCKET_INVALID_UTF8));
                return;
            }
        }
        if (!control && frame.fin && ref->message_is_checked_text && wscrt_utf8_validator_finalize(&ref->text)) {
            s_reference_fail(ref, s_error_bit(WSCRT_ERROR_WEBSOCKET_INVALID_UTF8));
            return;
        }
        /* Complete: the decoder delivered exactly these bytes. */
        const struct wscrt_fuzz_frame_record *record = &ref->run->frames[ref->result.frame_count - 1];
        FUZZ_CHECK(record->complete && record->payload_len == present &&
                       (present == 0 || memcmp(s_payload_of(ref->run, record), payload, present) == 0),
                   "reference: frame %zu is complete with %zu payload bytes; the decoder %s it with %zu (or others)",
                   ref->result.frame_count - 1, present, record->complete ? "completed" : "did not complete",
                   record->payload_len);
        ref->result.complete_count++;
        pos += present;
    }
}

void wscrt_fuzz_check_against_reference(const struct wscrt_fuzz_delivered *whole, const struct fuzz_input *input,
                                        uint8_t allowed_rsv) {
    struct s_reference_state ref = {
        .stream = input->stream,
        .len = input->stream_len,
        .allowed_rsv = allowed_rsv,
        .run = whole,
    };
    wscrt_utf8_validator_reset(&ref.text);
    s_reference_decode(&ref);
    FUZZ_CHECK(ref.result.frame_count == whole->frame_count, "reference: %zu frames begun, the decoder began %zu",
               ref.result.frame_count, whole->frame_count);
    FUZZ_CHECK(ref.result.failed == whole->failed, "reference: %s, the decoder: %s",
               ref.result.failed ? "the stream breaks a rule" : "the stream is valid so far",
               whole->failed ? wscrt_error_name(whole->error_code) : "no error");
    if (ref.result.failed) {
        FUZZ_CHECK(whole->error_code >= WSCRT_ERROR_WEBSOCKET_PROTOCOL_ERROR &&
                       (ref.result.allowed_errors & s_error_bit(whole->error_code)) != 0,
                   "the decoder named %s; the reference allows the set 0x%x (bit n = 0x%x + n)",
                   wscrt_error_name(whole->error_code), (unsigned)ref.result.allowed_errors,
                   (unsigned)WSCRT_ERROR_WEBSOCKET_PROTOCOL_ERROR);
    }
}
