/*
 * Frame reader tests, the frame header: well-formed frames and how they are
 * announced, the 7-, 16- and 64-bit length forms, RSV bits with and without a
 * negotiated extension, reserved opcodes, control frame rules (final, at most
 * 125 bytes), continuation order, and each header violation refused before
 * on_frame_begin. Byte literals in, the exact event list out; every input is
 * also decoded byte by byte and split at every position, and must give the
 * same events or the same error (see websocket_decoder_recorder.h).
 *
 * Most behaviours are rows of s_cases (websocket_decoder_table.h gives the
 * row format); the functions after the table cover what a row cannot say.
 * Payload delivery, CLOSE bodies, UTF-8, the payload budget and failures are
 * in websocket_decoder_payload_test.c.
 */
#include "websocket_decoder_table.h"

/* ---- the table ---- */

static const struct s_decode_case s_cases[] = {
    /* well-formed frames (RFC 6455 5.7 examples first) */
    {"unmasked TEXT frame delivers begin, payload, complete", "81 05 48 65 6c 6c 6f", 0, 0, {FRAME(TEXT, "Hello")}},
    {"fragmented TEXT message delivers each fragment", "01 03 48 65 6c  80 02 6c 6f", 0, 0,
     {BEGIN(TEXT, false, 3), PAYLOAD("Hel"), COMPLETE(TEXT), BEGIN(CONTINUATION, true, 2), PAYLOAD("lo"),
      COMPLETE(CONTINUATION)}},
    {"unmasked PONG frame is delivered", "8a 05 48 65 6c 6c 6f", 0, 0, {FRAME(PONG, "Hello")}},
    {"control frames between fragments keep the message open", "01 03 48 65 6c  89 02 61 62  8a 00  80 02 6c 6f", 0, 0,
     {BEGIN(TEXT, false, 3), PAYLOAD("Hel"), COMPLETE(TEXT), FRAME(PING, "ab"), EMPTY(PONG, true),
      FRAME(CONTINUATION, "lo")}},
    {"zero-length frames have no payload event", "81 00  82 00  89 00  8a 00  88 00", 0, 0,
     {EMPTY(TEXT, true), EMPTY(BINARY, true), EMPTY(PING, true), EMPTY(PONG, true), EMPTY(CLOSE, true)}},
    {"empty fragments make an empty message", "01 00  00 00  80 00", 0, 0,
     {EMPTY(TEXT, false), EMPTY(CONTINUATION, false), EMPTY(CONTINUATION, true)}},
    {"largest legal length is accepted in the header", "82 7f 7f ff ff ff ff ff ff ff 61", 0, 0,
     {BEGIN(BINARY, true, 0x7fffffffffffffffULL), PAYLOAD("a")}},
    {"several frames in one buffer are all delivered", "81 02 68 69  82 02 01 02  88 05 03 e8 62 79 65", 0, 0,
     {FRAME(TEXT, "hi"), FRAME(BINARY, "\x01\x02"), FRAME(CLOSE, "\x03\xe8" "bye")}},

    /* header violations: refused before on_frame_begin */
    {"masked frame from a server fails (RFC 6455 5.7 masked Hello)", "81 85 37 fa 21 3d 7f 9f 4d 51 58",
     PROTOCOL_ERROR(MASKED_FRAME), {{0}}},
    {"masked frame fails from the second byte alone", "82 80", PROTOCOL_ERROR(MASKED_FRAME), {{0}}},
    {"RSV1 without an extension fails", "c1 00", PROTOCOL_ERROR(RESERVED_BITS), {{0}}},
    {"RSV2 without an extension fails", "a1 00", PROTOCOL_ERROR(RESERVED_BITS), {{0}}},
    {"RSV3 without an extension fails", "91 00", PROTOCOL_ERROR(RESERVED_BITS), {{0}}},
    {"all RSV bits on BINARY fail", "f2 00", PROTOCOL_ERROR(RESERVED_BITS), {{0}}},
    {"RSV1 on PING fails", "c9 00", PROTOCOL_ERROR(RESERVED_BITS), {{0}}},
    {"reserved bits fail from the first byte alone", "c1", PROTOCOL_ERROR(RESERVED_BITS), {{0}}},
    {"reserved data opcode 0x3 fails", "83 00", PROTOCOL_ERROR(RESERVED_OPCODE), {{0}}},
    {"reserved data opcode 0x4 fails", "84 00", PROTOCOL_ERROR(RESERVED_OPCODE), {{0}}},
    {"reserved data opcode 0x5 fails", "85 00", PROTOCOL_ERROR(RESERVED_OPCODE), {{0}}},
    {"reserved data opcode 0x6 fails", "86 00", PROTOCOL_ERROR(RESERVED_OPCODE), {{0}}},
    {"reserved data opcode 0x7 fails", "87 00", PROTOCOL_ERROR(RESERVED_OPCODE), {{0}}},
    {"reserved control opcode 0xB fails", "8b 00", PROTOCOL_ERROR(RESERVED_OPCODE), {{0}}},
    {"reserved control opcode 0xC fails", "8c 00", PROTOCOL_ERROR(RESERVED_OPCODE), {{0}}},
    {"reserved control opcode 0xD fails", "8d 00", PROTOCOL_ERROR(RESERVED_OPCODE), {{0}}},
    {"reserved control opcode 0xE fails", "8e 00", PROTOCOL_ERROR(RESERVED_OPCODE), {{0}}},
    {"reserved control opcode 0xF fails", "8f 00", PROTOCOL_ERROR(RESERVED_OPCODE), {{0}}},
    {"reserved opcode fails from the first byte alone", "03", PROTOCOL_ERROR(RESERVED_OPCODE), {{0}}},
    {"PING without FIN fails", "09 00", PROTOCOL_ERROR(CONTROL_FRAME_FRAGMENTED), {{0}}},
    {"PONG without FIN fails", "0a 01 61", PROTOCOL_ERROR(CONTROL_FRAME_FRAGMENTED), {{0}}},
    {"CLOSE without FIN fails", "08 02 03 e8", PROTOCOL_ERROR(CONTROL_FRAME_FRAGMENTED), {{0}}},
    {"control frame announcing a 16-bit length fails from the second byte", "89 7e",
     PROTOCOL_ERROR(CONTROL_FRAME_TOO_LONG), {{0}}},
    {"PING of 126 bytes fails", "89 7e 00 7e", PROTOCOL_ERROR(CONTROL_FRAME_TOO_LONG), {{0}}},
    {"PONG with a 64-bit length fails", "8a 7f 00 00 00 00 00 01 00 00", PROTOCOL_ERROR(CONTROL_FRAME_TOO_LONG),
     {{0}}},
    {"CLOSE of 126 bytes fails", "88 7e 00 7e", PROTOCOL_ERROR(CONTROL_FRAME_TOO_LONG), {{0}}},
    {"final CONTINUATION without an open message fails", "80 00", PROTOCOL_ERROR(UNEXPECTED_CONTINUATION), {{0}}},
    {"non-final CONTINUATION without an open message fails", "00 01 61", PROTOCOL_ERROR(UNEXPECTED_CONTINUATION),
     {{0}}},
    {"CONTINUATION after a finished message fails", "81 01 61  80 00", PROTOCOL_ERROR(UNEXPECTED_CONTINUATION),
     {FRAME(TEXT, "a")}},
    {"BINARY inside an open TEXT message fails", "01 01 61  82 00", PROTOCOL_ERROR(EXPECTED_CONTINUATION),
     {BEGIN(TEXT, false, 1), PAYLOAD("a"), COMPLETE(TEXT)}},
    {"a control frame in between does not close the message", "02 00  89 00  81 00",
     PROTOCOL_ERROR(EXPECTED_CONTINUATION), {EMPTY(BINARY, false), EMPTY(PING, true)}},
    {"64-bit length with the top bit set fails", "82 7f 80 00 00 00 00 00 00 00",
     PROTOCOL_ERROR(INVALID_PAYLOAD_LENGTH), {{0}}},
    {"64-bit length of all ones fails", "82 7f ff ff ff ff ff ff ff ff", PROTOCOL_ERROR(INVALID_PAYLOAD_LENGTH), {{0}}},
    {"64-bit length with the top bit fails from its first byte", "82 7f 80", PROTOCOL_ERROR(INVALID_PAYLOAD_LENGTH),
     {{0}}},
    {"0 in the 16-bit form fails", "82 7e 00 00", PROTOCOL_ERROR(NON_MINIMAL_LENGTH), {{0}}},
    {"125 in the 16-bit form fails", "82 7e 00 7d", PROTOCOL_ERROR(NON_MINIMAL_LENGTH), {{0}}},
    {"5 in the 64-bit form fails", "82 7f 00 00 00 00 00 00 00 05", PROTOCOL_ERROR(NON_MINIMAL_LENGTH), {{0}}},
    {"126 in the 64-bit form fails", "82 7f 00 00 00 00 00 00 00 7e", PROTOCOL_ERROR(NON_MINIMAL_LENGTH), {{0}}},
    {"65535 in the 64-bit form fails", "82 7f 00 00 00 00 00 00 ff ff", PROTOCOL_ERROR(NON_MINIMAL_LENGTH), {{0}}},
};

static int s_test_each_input_gives_exactly_its_events_and_outcome(struct wscrt_allocator *allocator) {
    return s_check_cases(allocator, s_cases, WSCRT_COUNT_OF(s_cases));
}

/* ---- what a row cannot say ---- */

/* Hex for a BINARY frame: the given header, then `length` bytes counting 00, 01, ... */
static void s_binary_frame_hex(struct wscrt_byte_buf *hex, const char *header, size_t length) {
    wscrt_byte_buf_append_dynamic(hex, wscrt_byte_cursor_from_c_str(header));
    for (size_t i = 0; i < length; ++i) {
        char byte[4];
        snprintf(byte, sizeof(byte), "%02x ", (unsigned)(i & 0xFF));
        wscrt_byte_buf_append_dynamic(hex, wscrt_byte_cursor_from_c_str(byte));
    }
    wscrt_byte_buf_append_byte_dynamic(hex, 0);
}

static int s_check_binary_frame_length(struct wscrt_allocator *allocator, const char *header, size_t length) {
    struct wscrt_byte_buf hex;
    wscrt_byte_buf_init(&hex, allocator, 3 * length + 64);
    s_binary_frame_hex(&hex, header, length);
    uint8_t *expected = wscrt_mem_acquire(allocator, length);
    for (size_t i = 0; i < length; ++i) {
        expected[i] = (uint8_t)i;
    }
    struct s_recorder recorder;
    s_recorder_init(&recorder, allocator);
    int failed = s_decode_ok(allocator, &recorder, (const char *)hex.buffer) ||
                 s_expect_whole_frame(&recorder, WSCRT_WEBSOCKET_OPCODE_BINARY, expected, length) ||
                 s_expect_nothing_left(&recorder);
    s_recorder_clean_up(&recorder);
    wscrt_mem_release(allocator, expected);
    wscrt_byte_buf_clean_up(&hex);
    ASSERT_INT_EQ(0, failed);
    return 0;
}

static int s_test_length_boundaries_use_7_16_and_64_bit_forms(struct wscrt_allocator *allocator) {
    EXPECT(s_check_binary_frame_length(allocator, "82 7d ", 125));
    EXPECT(s_check_binary_frame_length(allocator, "82 7e 00 7e ", 126));
    EXPECT(s_check_binary_frame_length(allocator, "82 7e 01 00 ", 256)); /* RFC 6455 5.7 */
    EXPECT(s_check_binary_frame_length(allocator, "82 7e ff ff ", 65535));
    EXPECT(s_check_binary_frame_length(allocator, "82 7f 00 00 00 00 00 01 00 00 ", 65536)); /* RFC 6455 5.7 */
    return 0;
}

static int s_test_negotiated_rsv1_is_accepted_and_reported(struct wscrt_allocator *allocator) {
    struct s_recorder recorder;
    s_recorder_init(&recorder, allocator);
    /* With RSV1 allowed the payload is compressed: not checked as UTF-8 here. */
    struct s_outcome outcome;
    EXPECT(s_decode(allocator, &recorder, 0x40, "c1 02 ff fe", &outcome));
    ASSERT_INT_EQ(WSCRT_OP_SUCCESS, outcome.result);
    ASSERT_UINT_EQ(0x40, recorder.events[0].rsv);
    EXPECT(s_expect_whole_frame(&recorder, WSCRT_WEBSOCKET_OPCODE_TEXT, "\xff\xfe", 2));
    EXPECT(s_expect_nothing_left(&recorder));
    /* RSV2 is still not allowed. */
    EXPECT(s_decode_fails(allocator, &recorder, 0x40, "e1 00", WSCRT_ERROR_WEBSOCKET_RESERVED_BITS,
                          WSCRT_WEBSOCKET_CLOSE_PROTOCOL_ERROR));
    EXPECT(s_expect_nothing_left(&recorder));
    s_recorder_clean_up(&recorder);
    return 0;
}

static int s_test_control_frame_of_exactly_125_bytes_is_accepted(struct wscrt_allocator *allocator) {
    struct wscrt_byte_buf hex;
    wscrt_byte_buf_init(&hex, allocator, 512);
    wscrt_byte_buf_append_dynamic(&hex, wscrt_byte_cursor_from_c_str("89 7d "));
    for (int i = 0; i < 125; ++i) {
        wscrt_byte_buf_append_dynamic(&hex, wscrt_byte_cursor_from_c_str("7a "));
    }
    wscrt_byte_buf_append_byte_dynamic(&hex, 0);
    uint8_t expected[125];
    memset(expected, 'z', sizeof(expected));
    struct s_recorder recorder;
    s_recorder_init(&recorder, allocator);
    EXPECT(s_decode_ok(allocator, &recorder, (const char *)hex.buffer));
    EXPECT(s_expect_whole_frame(&recorder, WSCRT_WEBSOCKET_OPCODE_PING, expected, sizeof(expected)));
    EXPECT(s_expect_nothing_left(&recorder));
    s_recorder_clean_up(&recorder);
    wscrt_byte_buf_clean_up(&hex);
    return 0;
}

/*
 * Every first byte, with and without a fragmented message open, with and without RSV1 negotiated, before an
 * empty and a one-byte payload: the header arriving whole (the two-byte fast paths) ends exactly as it does
 * byte by byte and at every cut (the general path), events or error alike; s_decode compares them.
 */
static int s_test_every_first_byte_decodes_the_same_whole_and_in_pieces(struct wscrt_allocator *allocator) {
    static const char *const open_message[] = {"", "01 00 "}; /* nothing open; a TEXT message open */
    static const char *const payload[] = {"00", "01 61"};
    static const uint8_t allowed_rsv[] = {0, 0x40};
    struct s_recorder recorder;
    s_recorder_init(&recorder, allocator);
    int failures = 0;
    for (unsigned first = 0; first <= 0xFF; ++first) {
        for (size_t o = 0; o < 2; ++o) {
            for (size_t p = 0; p < 2; ++p) {
                for (size_t r = 0; r < 2; ++r) {
                    char hex[32];
                    snprintf(hex, sizeof(hex), "%s%02x %s", open_message[o], first, payload[p]);
                    struct s_outcome outcome;
                    if (s_decode(allocator, &recorder, allowed_rsv[r], hex, &outcome)) {
                        fprintf(stderr, "  input %s (allowed RSV %02x)\n", hex, allowed_rsv[r]);
                        failures++;
                    }
                }
            }
        }
    }
    s_recorder_clean_up(&recorder);
    ASSERT_INT_EQ(0, failures);
    return 0;
}

WSCRT_TEST_MAIN(s_test_each_input_gives_exactly_its_events_and_outcome,
                s_test_length_boundaries_use_7_16_and_64_bit_forms,
                s_test_negotiated_rsv1_is_accepted_and_reported,
                s_test_control_frame_of_exactly_125_bytes_is_accepted,
                s_test_every_first_byte_decodes_the_same_whole_and_in_pieces)
