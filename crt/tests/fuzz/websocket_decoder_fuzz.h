#ifndef WSCRT_TESTS_FUZZ_WEBSOCKET_DECODER_FUZZ_H
#define WSCRT_TESTS_FUZZ_WEBSOCKET_DECODER_FUZZ_H
/*
 * Shared by the two files of the websocket_decoder target: the harness that
 * runs the decoder (websocket_decoder_fuzz.c) and the plain reader of RFC 6455
 * the "whole" run is checked against (websocket_decoder_fuzz_reference.c).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_support.h"
#include "http/websocket_frame.h"

/* A frame the decoder began in one run, and the payload it delivered for it. */
struct wscrt_fuzz_frame_record {
    struct wscrt_websocket_frame frame; /* as handed to on_frame_begin */
    size_t payload_offset;              /* into the run's payload log */
    size_t payload_len;                 /* delivered so far */
    size_t payload_calls;
    bool complete;
};

/* What one run delivered, as the reference reader sees it. */
struct wscrt_fuzz_delivered {
    const struct wscrt_fuzz_frame_record *frames;
    size_t frame_count;
    const uint8_t *payload_log; /* a frame's payload is at payload_log + its payload_offset */
    bool failed;
    int error_code;
};

static inline const char *wscrt_fuzz_opcode_name(uint8_t opcode) {
    switch (opcode) {
        case WSCRT_WEBSOCKET_OPCODE_CONTINUATION:
            return "CONTINUATION";
        case WSCRT_WEBSOCKET_OPCODE_TEXT:
            return "TEXT";
        case WSCRT_WEBSOCKET_OPCODE_BINARY:
            return "BINARY";
        case WSCRT_WEBSOCKET_OPCODE_CLOSE:
            return "CLOSE";
        case WSCRT_WEBSOCKET_OPCODE_PING:
            return "PING";
        case WSCRT_WEBSOCKET_OPCODE_PONG:
            return "PONG";
        default:
            return "reserved";
    }
}

static inline bool wscrt_fuzz_frames_equal(const struct wscrt_websocket_frame *a,
                                           const struct wscrt_websocket_frame *b) {
    return a->payload_length == b->payload_length && a->opcode == b->opcode && a->fin == b->fin &&
           a->rsv == b->rsv && a->masked == b->masked && memcmp(a->masking_key, b->masking_key, 4) == 0 &&
           a->compressed == b->compressed;
}

/* RFC 6455 7.4.1 and the IANA registry, written out independently of websocket_frame.c. */
static inline bool wscrt_fuzz_close_code_allowed_on_wire(uint16_t code) {
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

/*
 * Decodes the input's stream with the reference reader and checks the "whole"
 * run against it: the same frames begun and completed, the same payload bytes,
 * and, when the stream breaks a rule, an error the reference allows.
 */
void wscrt_fuzz_check_against_reference(const struct wscrt_fuzz_delivered *whole, const struct fuzz_input *input,
                                        uint8_t allowed_rsv);

#endif
