#ifndef WSCRT_HTTP_WEBSOCKET_DECODER_H
#define WSCRT_HTTP_WEBSOCKET_DECODER_H
/*
 * Frame reader for a client: bytes in, events out; knows nothing of sockets.
 * Streaming: never needs a whole frame in memory. Call grammar per frame:
 *
 *     on_frame_begin on_payload* on_frame_complete
 *
 * Two layers: a state machine parses the header (syntax), then the RFC 6455
 * rules are applied (semantics) before on_frame_begin:
 *   RSV bits without a negotiated extension, reserved opcodes, masked frames
 *   (servers never mask), fragmented or > 125 byte control frames,
 *   CONTINUATION with no message open, TEXT/BINARY while one is open, a 64-bit
 *   length with the top bit set, non-minimal length encodings.
 * TEXT messages are validated as UTF-8 incrementally across fragments, each
 * chunk before it is delivered (fail fast). CLOSE payloads are checked: a
 * 1-byte one with the header, the status code and UTF-8 reason before the
 * payload is delivered.
 * Control frames may arrive between the fragments of a message.
 *
 * On a violation process() returns WSCRT_OP_ERR with a named error raised and
 * decoder->close_status_on_error set to 1002 (protocol) or 1007 (bad UTF-8);
 * the decoder must not be used again. When a callback stops processing, its
 * error stays raised and close_status_on_error is 1011 (internal error).
 *
 * Data-frame payload (TEXT, BINARY, CONTINUATION) is delivered as it arrives,
 * in as many on_payload calls as the input is split into. A control frame's
 * payload is collected first (control_payload) and delivered in exactly one
 * on_payload call (none when empty) just before on_frame_complete, after the
 * CLOSE checks. A zero-length frame gets on_frame_begin and on_frame_complete only.
 *
 * With on_whole_frame set, a data frame whose whole payload is in the input (and
 * within the budget), and whose text is valid, is delivered in that one call
 * instead: the same frame, the same payload bytes, after the same checks
 * (streams of small messages pay one callback per frame instead of three). A
 * frame that would fail a check takes the three-callback path and fails there.
 *
 * A TEXT message whose first frame has RSV bits set (allowed by an extension,
 * e.g. compressed) is not UTF-8 checked here: its bytes are not the text yet.
 *
 * permessage-deflate (allowed_rsv_bits includes WSCRT_WEBSOCKET_RSV1_COMPRESSED):
 * RSV1 is accepted only on the first frame of a TEXT or BINARY message; on a
 * CONTINUATION or a control frame it fails with
 * WSCRT_ERROR_WEBSOCKET_MISPLACED_RSV1 (1002). Every data frame of a message
 * that began with RSV1 is reported with frame->compressed set, and its payload
 * is delivered as it is (DEFLATE data, for wscrt_websocket_inflater_process).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/byte_buf.h"
#include "common/utf8.h"
#include "http/websocket_frame.h"

/* Callbacks return WSCRT_OP_SUCCESS, or WSCRT_OP_ERR (with an error raised) to
 * stop processing; process() then returns WSCRT_OP_ERR too. */
typedef int(wscrt_websocket_decoder_on_frame_begin_fn)(const struct wscrt_websocket_frame *frame, void *user_data);
typedef int(wscrt_websocket_decoder_on_payload_fn)(const struct wscrt_websocket_frame *frame,
                                                   struct wscrt_byte_cursor data, void *user_data);
typedef int(wscrt_websocket_decoder_on_frame_complete_fn)(const struct wscrt_websocket_frame *frame,
                                                          void *user_data);
typedef int(wscrt_websocket_decoder_on_whole_frame_fn)(const struct wscrt_websocket_frame *frame,
                                                       struct wscrt_byte_cursor payload, void *user_data);

struct wscrt_websocket_decoder_options {
    wscrt_websocket_decoder_on_frame_begin_fn *on_frame_begin;
    wscrt_websocket_decoder_on_payload_fn *on_payload;
    wscrt_websocket_decoder_on_frame_complete_fn *on_frame_complete;
    wscrt_websocket_decoder_on_whole_frame_fn *on_whole_frame; /* optional, see above */
    void *user_data;
    uint8_t allowed_rsv_bits; /* 0 unless an extension was negotiated (e.g. 0x40 for permessage-deflate) */
};

struct wscrt_websocket_decoder {
    struct wscrt_websocket_decoder_options options;
    uint16_t close_status_on_error; /* 1002 or 1007 after a failure */
    /* A control frame's whole payload (<= 125 bytes), valid while on_frame_complete runs for it (not after):
     * PING is echoed from it, CLOSE is parsed from it. It points into the input when the payload came in one
     * piece, else into control_buffer. */
    const uint8_t *control_payload;
    size_t control_payload_len;
    /* private below */
    struct wscrt_allocator *allocator;
    /* WSCRT_WEBSOCKET_MAX_CONTROL_PAYLOAD bytes, made for the first control payload that arrives in pieces and
     * kept until clean-up; NULL until then (a decoder that never sees one holds no buffer). */
    uint8_t *control_buffer;
    int state;
    struct wscrt_websocket_frame frame;
    uint64_t payload_remaining;
    uint8_t header_scratch[WSCRT_WEBSOCKET_MAX_HEADER_SIZE];
    size_t header_scratch_len;
    size_t header_needed;
    bool message_open;           /* a fragmented data message awaits CONTINUATION */
    uint8_t message_opcode;      /* TEXT or BINARY of the open message */
    bool message_check_utf8;     /* the current message is TEXT without RSV bits */
    bool message_compressed;     /* the current message began with RSV1 */
    struct wscrt_utf8_validator text_validator;
};

void wscrt_websocket_decoder_init(struct wscrt_websocket_decoder *decoder, struct wscrt_allocator *allocator,
                                  const struct wscrt_websocket_decoder_options *options);
void wscrt_websocket_decoder_clean_up(struct wscrt_websocket_decoder *decoder);
/*
 * Consumes bytes from `data` (advancing it). Data-frame payload delivered is
 * limited by *data_payload_budget (decremented; pass NULL for no limit): when
 * the budget is 0 the decoder stops before the next data payload byte and
 * returns, leaving the rest in `data`. Non-data bytes are never limited.
 */
int wscrt_websocket_decoder_process(struct wscrt_websocket_decoder *decoder, struct wscrt_byte_cursor *data,
                                    uint64_t *data_payload_budget);
/* True between a frame's on_frame_begin and its on_frame_complete. */
bool wscrt_websocket_decoder_in_frame(const struct wscrt_websocket_decoder *decoder);

#endif
