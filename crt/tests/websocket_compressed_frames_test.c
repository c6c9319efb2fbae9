/*
 * Framing of permessage-deflate messages (RFC 7692 6), both ways, as hex byte
 * literals: RSV1 only on the first frame of a TEXT or BINARY message, never on
 * CONTINUATION or control frames; the decoder reports `compressed` on every
 * data frame of such a message. (The decoder's other rules are in
 * websocket_decoder_header_test.c and websocket_decoder_payload_test.c, the
 * encoder's in websocket_encoder_test.c.)
 */
#include "common/allocator.h"
#include "common/byte_buf.h"
#include "common/error.h"
#include "http/websocket_decoder.h"
#include "http/websocket_encoder.h"
#include "test_harness.h"
#include "test_hex.h"

#define EXPECT(call) ASSERT_INT_EQ(0, (call))

/* What on_frame_begin saw, one letter per frame: opcode digit, then 'c' if compressed, '.' if not. */
struct s_seen {
    char frames[64];
    size_t len;
    size_t payload_bytes;
};

static int s_on_begin(const struct wscrt_websocket_frame *frame, void *user_data) {
    struct s_seen *seen = user_data;
    if (seen->len + 2 < sizeof(seen->frames)) {
        seen->frames[seen->len++] = (char)('0' + frame->opcode);
        seen->frames[seen->len++] = frame->compressed ? 'c' : '.';
        seen->frames[seen->len] = '\0';
    }
    return WSCRT_OP_SUCCESS;
}

static int s_on_payload(const struct wscrt_websocket_frame *frame, struct wscrt_byte_cursor data, void *user_data) {
    (void)frame;
    struct s_seen *seen = user_data;
    seen->payload_bytes += data.len;
    return WSCRT_OP_SUCCESS;
}

/* Decodes hex whole and byte by byte (both must agree); returns the error (0 = none). */
static int s_decode(const char *hex, uint8_t allowed_rsv, struct s_seen *seen) {
    uint8_t bytes[256];
    size_t len = s_hex_to_array(bytes, sizeof(bytes), hex);
    int errors[2];
    struct s_seen runs[2];
    for (int bytewise = 0; bytewise < 2; ++bytewise) {
        memset(&runs[bytewise], 0, sizeof(runs[bytewise]));
        struct wscrt_websocket_decoder decoder;
        struct wscrt_websocket_decoder_options options = {
            .on_frame_begin = s_on_begin,
            .on_payload = s_on_payload,
            .user_data = &runs[bytewise],
            .allowed_rsv_bits = allowed_rsv,
        };
        wscrt_websocket_decoder_init(&decoder, wscrt_default_allocator(), &options);
        errors[bytewise] = 0;
        for (size_t pos = 0; pos < len;) {
            size_t piece = bytewise ? 1 : len;
            struct wscrt_byte_cursor data = wscrt_byte_cursor_from_array(bytes + pos, piece);
            wscrt_reset_error();
            if (wscrt_websocket_decoder_process(&decoder, &data, NULL)) {
                errors[bytewise] = wscrt_last_error();
                if (decoder.close_status_on_error != WSCRT_WEBSOCKET_CLOSE_PROTOCOL_ERROR) {
                    fprintf(stderr, "  close status %u\n", (unsigned)decoder.close_status_on_error);
                    wscrt_websocket_decoder_clean_up(&decoder);
                    return -1;
                }
                break;
            }
            pos += piece;
        }
        wscrt_websocket_decoder_clean_up(&decoder);
    }
    if (errors[0] != errors[1] || strcmp(runs[0].frames, runs[1].frames) != 0 ||
        runs[0].payload_bytes != runs[1].payload_bytes) {
        fprintf(stderr, "  whole and byte-by-byte differ: %s/%s vs %s/%s\n", wscrt_error_name(errors[0]),
                runs[0].frames, wscrt_error_name(errors[1]), runs[1].frames);
        return -1;
    }
    *seen = runs[0];
    return errors[0];
}

static int s_expect_frames(const char *hex, const char *frames) {
    struct s_seen seen;
    int error = s_decode(hex, WSCRT_WEBSOCKET_RSV1_COMPRESSED, &seen);
    if (error != 0 || strcmp(seen.frames, frames) != 0) {
        WSCRT_FAIL_("%s: got %s frames '%s', expected '%s'", hex, wscrt_error_name(error), seen.frames, frames);
    }
    return 0;
}

static int s_expect_error(const char *hex, uint8_t allowed_rsv, int expected_error, const char *frames_before) {
    struct s_seen seen;
    int error = s_decode(hex, allowed_rsv, &seen);
    if (error != expected_error || strcmp(seen.frames, frames_before) != 0) {
        WSCRT_FAIL_("%s: got %s after '%s', expected %s after '%s'", hex, wscrt_error_name(error), seen.frames,
                    wscrt_error_name(expected_error), frames_before);
    }
    return 0;
}

static int s_test_rsv1_on_a_first_frame_marks_the_whole_message_compressed(struct wscrt_allocator *allocator) {
    (void)allocator;
    /* RFC 7692 7.2.3.1: "Hello" compressed, in one frame. */
    EXPECT(s_expect_frames("c1 07 f2 48 cd c9 c9 07 00", "1c"));
    /* The same in two fragments (7.2.3.1): RSV1 on the first only, both reported compressed. */
    EXPECT(s_expect_frames("41 03 f2 48 cd  80 04 c9 c9 07 00", "1c0c"));
    /* A PING between the fragments is not compressed; the message still is. */
    EXPECT(s_expect_frames("42 03 f2 48 cd  89 00  00 02 c9 c9  80 02 07 00", "2c9.0c0c"));
    /* The next message without RSV1 is not compressed, even while deflate is negotiated. */
    EXPECT(s_expect_frames("c1 07 f2 48 cd c9 c9 07 00  01 02 48 65  80 03 6c 6c 6f", "1c1.0."));
    /* An empty compressed message (7.2.3.6) and an empty payload with RSV1. */
    EXPECT(s_expect_frames("c2 01 00  c1 00", "2c1c"));
    return 0;
}

static int s_test_compressed_text_is_not_checked_as_utf8_by_the_decoder(struct wscrt_allocator *allocator) {
    (void)allocator;
    /* DEFLATE bytes are not text; the inflated text is checked by whoever inflates it. */
    EXPECT(s_expect_frames("c1 04 ff fe c0 80", "1c"));
    return 0;
}

static int s_test_rsv1_on_a_continuation_fails_with_misplaced_rsv1(struct wscrt_allocator *allocator) {
    (void)allocator;
    EXPECT(s_expect_error("41 03 f2 48 cd  c0 04 c9 c9 07 00", WSCRT_WEBSOCKET_RSV1_COMPRESSED,
                          WSCRT_ERROR_WEBSOCKET_MISPLACED_RSV1, "1c"));
    EXPECT(s_expect_error("01 01 48  c0 01 65", WSCRT_WEBSOCKET_RSV1_COMPRESSED, WSCRT_ERROR_WEBSOCKET_MISPLACED_RSV1,
                          "1."));
    /* Known from the first byte, before the rest of the frame arrives. */
    EXPECT(s_expect_error("01 01 48  40", WSCRT_WEBSOCKET_RSV1_COMPRESSED, WSCRT_ERROR_WEBSOCKET_MISPLACED_RSV1, "1."));
    return 0;
}

static int s_test_rsv1_on_a_control_frame_fails_with_misplaced_rsv1(struct wscrt_allocator *allocator) {
    (void)allocator;
    const char *frames[] = {"c9 00", "ca 00", "c8 02 03 e8", "c9"};
    for (size_t i = 0; i < sizeof(frames) / sizeof(frames[0]); ++i) {
        EXPECT(s_expect_error(frames[i], WSCRT_WEBSOCKET_RSV1_COMPRESSED, WSCRT_ERROR_WEBSOCKET_MISPLACED_RSV1, ""));
    }
    /* Inside a compressed message too. */
    EXPECT(s_expect_error("41 01 f2  c9 00", WSCRT_WEBSOCKET_RSV1_COMPRESSED, WSCRT_ERROR_WEBSOCKET_MISPLACED_RSV1,
                          "1c"));
    return 0;
}

static int s_test_rsv1_without_deflate_negotiated_fails_with_reserved_bits(struct wscrt_allocator *allocator) {
    (void)allocator;
    const char *frames[] = {"c1 07 f2 48 cd c9 c9 07 00", "c9 00", "c2"};
    for (size_t i = 0; i < sizeof(frames) / sizeof(frames[0]); ++i) {
        EXPECT(s_expect_error(frames[i], 0, WSCRT_ERROR_WEBSOCKET_RESERVED_BITS, ""));
    }
    EXPECT(s_expect_error("01 01 48  c0 01 65", 0, WSCRT_ERROR_WEBSOCKET_RESERVED_BITS, "1."));
    /* RSV2 and RSV3 stay reserved with deflate negotiated. */
    EXPECT(s_expect_error("e1 00", WSCRT_WEBSOCKET_RSV1_COMPRESSED, WSCRT_ERROR_WEBSOCKET_RESERVED_BITS, ""));
    EXPECT(s_expect_error("91 00", WSCRT_WEBSOCKET_RSV1_COMPRESSED, WSCRT_ERROR_WEBSOCKET_RESERVED_BITS, ""));
    return 0;
}

/* ---- the encoder ---- */

static int s_test_encoder_sets_rsv1_on_the_first_frame_of_a_compressed_message(struct wscrt_allocator *allocator) {
    (void)allocator;
    uint8_t out[WSCRT_WEBSOCKET_MAX_HEADER_SIZE];
    uint8_t expected[WSCRT_WEBSOCKET_MAX_HEADER_SIZE];
    /* "Hello" compressed (RFC 7692 7.2.3.1), unmasked for clarity. */
    size_t len = wscrt_websocket_encode_header(out, WSCRT_WEBSOCKET_OPCODE_TEXT, true,
                                               WSCRT_WEBSOCKET_RSV1_COMPRESSED, 7, NULL);
    ASSERT_BYTES_EQ(expected, s_hex_to_array(expected, sizeof(expected), "c1 07"), out, len);
    /* The first of two fragments, masked. */
    const uint8_t key[4] = {0x37, 0xfa, 0x21, 0x3d};
    len = wscrt_websocket_encode_header(out, WSCRT_WEBSOCKET_OPCODE_BINARY, false, WSCRT_WEBSOCKET_RSV1_COMPRESSED,
                                        3, key);
    ASSERT_BYTES_EQ(expected, s_hex_to_array(expected, sizeof(expected), "42 83 37 fa 21 3d"), out, len);
    /* Its continuation: no RSV1. */
    len = wscrt_websocket_encode_header(out, WSCRT_WEBSOCKET_OPCODE_CONTINUATION, true, 0, 4, key);
    ASSERT_BYTES_EQ(expected, s_hex_to_array(expected, sizeof(expected), "80 84 37 fa 21 3d"), out, len);
    return 0;
}

static int s_test_encoder_refuses_rsv1_on_continuation_and_control_frames(struct wscrt_allocator *allocator) {
    (void)allocator;
    const uint8_t opcodes[] = {WSCRT_WEBSOCKET_OPCODE_CONTINUATION, WSCRT_WEBSOCKET_OPCODE_CLOSE,
                               WSCRT_WEBSOCKET_OPCODE_PING, WSCRT_WEBSOCKET_OPCODE_PONG};
    for (size_t i = 0; i < sizeof(opcodes); ++i) {
        uint8_t out[WSCRT_WEBSOCKET_MAX_HEADER_SIZE] = {0};
        ASSERT_UINT_EQ(0, wscrt_websocket_encode_header(out, opcodes[i], true, WSCRT_WEBSOCKET_RSV1_COMPRESSED, 0,
                                                        NULL));
        ASSERT_UINT_EQ(0, out[0]); /* nothing written */
        /* Without RSV1 the same frames are fine. */
        ASSERT_UINT_EQ(2, wscrt_websocket_encode_header(out, opcodes[i], true, 0, 0, NULL));
    }
    return 0;
}

WSCRT_TEST_MAIN(s_test_rsv1_on_a_first_frame_marks_the_whole_message_compressed,
                s_test_compressed_text_is_not_checked_as_utf8_by_the_decoder,
                s_test_rsv1_on_a_continuation_fails_with_misplaced_rsv1,
                s_test_rsv1_on_a_control_frame_fails_with_misplaced_rsv1,
                s_test_rsv1_without_deflate_negotiated_fails_with_reserved_bits,
                s_test_encoder_sets_rsv1_on_the_first_frame_of_a_compressed_message,
                s_test_encoder_refuses_rsv1_on_continuation_and_control_frames)
