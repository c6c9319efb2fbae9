/*
 * Frame reader tests, the payload and the callbacks: how payload is delivered
 * (control payloads whole and copied, data payload as it arrives or as one
 * on_whole_frame call), in_frame() between begin and complete, CLOSE bodies
 * (status codes from the registry, UTF-8 reasons), TEXT UTF-8 checked as it
 * arrives and across fragments, the data payload budget, failures that are
 * final (a failing callback, a violation), and random input keeping the call
 * grammar. Byte literals in, the exact event list out; every table input is
 * also decoded byte by byte and split at every position, and must give the
 * same events or the same error (payload pieces of one frame are joined); see
 * websocket_decoder_recorder.h.
 *
 * The rows of s_cases (websocket_decoder_table.h gives the row format) cover
 * CLOSE bodies and UTF-8; the functions after the table cover what a row
 * cannot say: feeding in chosen pieces, the payload budget, the state after a
 * failure, and random input. The frame header is in
 * websocket_decoder_header_test.c.
 */
#include "websocket_decoder_table.h"

/* ---- the table ---- */

static const struct s_decode_case s_cases[] = {
    /* CLOSE payloads */
    {"CLOSE with a one-byte payload fails before begin", "88 01 03", PROTOCOL_ERROR(INVALID_CLOSE_PAYLOAD), {{0}}},
    {"CLOSE with a UTF-8 reason is delivered whole", "88 07 03 e8 6f 6b 20 c3 a9", 0, 0,
     {FRAME(CLOSE, "\x03\xe8ok \xc3\xa9")}},
    {"CLOSE reason with never-valid bytes fails with 1007", "88 04 03 e8 ff fe", INVALID_UTF8, {BEGIN(CLOSE, true, 4)}},
    {"CLOSE reason cut off inside a code point fails with 1007", "88 03 03 e8 c3", INVALID_UTF8,
     {BEGIN(CLOSE, true, 3)}},
    {"CLOSE reason with a surrogate fails with 1007", "88 05 03 e8 ed a0 80", INVALID_UTF8, {BEGIN(CLOSE, true, 5)}},
    {"CLOSE reason with an overlong '/' fails with 1007", "88 04 03 e8 c0 af", INVALID_UTF8, {BEGIN(CLOSE, true, 4)}},

    /* TEXT UTF-8 */
    {"invalid UTF-8 TEXT fails with 1007 before delivery", "81 02 c3 28", INVALID_UTF8, {BEGIN(TEXT, true, 2)}},
    {"a code point may span fragments and control frames",
     "01 01 c3  80 01 a9  01 02 f0 9f  89 00  00 01 98  80 01 80", 0, 0,
     {BEGIN(TEXT, false, 1), PAYLOAD("\xc3"), COMPLETE(TEXT), FRAME(CONTINUATION, "\xa9"), BEGIN(TEXT, false, 2),
      PAYLOAD("\xf0\x9f"), COMPLETE(TEXT), EMPTY(PING, true), BEGIN(CONTINUATION, false, 1), PAYLOAD("\x98"),
      COMPLETE(CONTINUATION), FRAME(CONTINUATION, "\x80")}},
    {"TEXT ending inside a code point fails at the final fragment, without complete", "01 01 61  80 01 c3",
     INVALID_UTF8,
     {BEGIN(TEXT, false, 1), PAYLOAD("a"), COMPLETE(TEXT), BEGIN(CONTINUATION, true, 1), PAYLOAD("\xc3")}},
    {"a lead byte does not carry over into the next message", "81 01 c3  81 01 a9", INVALID_UTF8,
     {BEGIN(TEXT, true, 1), PAYLOAD("\xc3")}},
    {"each TEXT message starts a fresh UTF-8 check, BINARY in between", "81 01 61  82 02 ff c3  81 02 c3 a9", 0, 0,
     {FRAME(TEXT, "a"), FRAME(BINARY, "\xff\xc3"), FRAME(TEXT, "\xc3\xa9")}},
    {"BINARY payload is not checked as UTF-8", "02 02 c3 28  80 01 ff", 0, 0,
     {BEGIN(BINARY, false, 2), PAYLOAD("\xc3\x28"), COMPLETE(BINARY), FRAME(CONTINUATION, "\xff")}},
    {"PING payload is not checked as UTF-8", "89 01 ff", 0, 0, {FRAME(PING, "\xff")}},
};

static int s_test_each_input_gives_exactly_its_events_and_outcome(struct wscrt_allocator *allocator) {
    return s_check_cases(allocator, s_cases, WSCRT_COUNT_OF(s_cases));
}

/* ---- what a row cannot say ---- */

static int s_test_ping_payload_is_delivered_whole_and_copied(struct wscrt_allocator *allocator) {
    struct s_recorder recorder;
    s_recorder_init(&recorder, allocator);
    struct wscrt_websocket_decoder decoder;
    s_decoder_init(&decoder, &recorder, 0);
    /* Fed in two pieces: the payload still arrives as one piece, at the end. */
    const uint8_t part1[] = {0x89, 0x05, 0x48, 0x65};
    const uint8_t part2[] = {0x6c, 0x6c, 0x6f};
    struct wscrt_byte_cursor input = wscrt_byte_cursor_from_array(part1, sizeof(part1));
    ASSERT_SUCCESS(wscrt_websocket_decoder_process(&decoder, &input, NULL));
    EXPECT(s_expect_begin(&recorder, WSCRT_WEBSOCKET_OPCODE_PING, true, 5));
    EXPECT(s_expect_nothing_left(&recorder));
    input = wscrt_byte_cursor_from_array(part2, sizeof(part2));
    ASSERT_SUCCESS(wscrt_websocket_decoder_process(&decoder, &input, NULL));
    EXPECT(s_expect_payload_str(&recorder, "Hello"));
    EXPECT(s_expect_complete(&recorder, WSCRT_WEBSOCKET_OPCODE_PING));
    EXPECT(s_expect_nothing_left(&recorder));
    s_recorder_clean_up(&recorder);
    return 0;
}

/* A control payload that comes in one piece is used where it is; only one that comes in pieces makes the
 * decoder's buffer (once, kept until clean-up): a decoder on an idle connection holds none. */
static int s_test_control_buffer_is_made_only_for_a_payload_in_pieces(struct wscrt_allocator *allocator) {
    size_t start = wscrt_mem_tracer_bytes(allocator);
    struct s_recorder recorder;
    s_recorder_init(&recorder, allocator);
    struct wscrt_websocket_decoder decoder;
    s_decoder_init(&decoder, &recorder, 0);
    size_t before = wscrt_mem_tracer_bytes(allocator);
    const uint8_t whole[] = {0x89, 0x02, 'h', 'i', 0x8a, 0x00};
    struct wscrt_byte_cursor input = wscrt_byte_cursor_from_array(whole, sizeof(whole));
    ASSERT_SUCCESS(wscrt_websocket_decoder_process(&decoder, &input, NULL));
    EXPECT(s_expect_whole_frame(&recorder, WSCRT_WEBSOCKET_OPCODE_PING, "hi", 2));
    EXPECT(s_expect_whole_frame(&recorder, WSCRT_WEBSOCKET_OPCODE_PONG, "", 0));
    ASSERT_INT_EQ(before, wscrt_mem_tracer_bytes(allocator));

    const uint8_t part1[] = {0x89, 0x03, 'a'};
    const uint8_t part2[] = {'b', 'c', 0x89, 0x01};
    const uint8_t part3[] = {'d'};
    input = wscrt_byte_cursor_from_array(part1, sizeof(part1));
    ASSERT_SUCCESS(wscrt_websocket_decoder_process(&decoder, &input, NULL));
    input = wscrt_byte_cursor_from_array(part2, sizeof(part2));
    ASSERT_SUCCESS(wscrt_websocket_decoder_process(&decoder, &input, NULL));
    EXPECT(s_expect_whole_frame(&recorder, WSCRT_WEBSOCKET_OPCODE_PING, "abc", 3));
    size_t with_buffer = wscrt_mem_tracer_bytes(allocator);
    ASSERT_INT_EQ(before + WSCRT_WEBSOCKET_MAX_CONTROL_PAYLOAD, with_buffer);
    input = wscrt_byte_cursor_from_array(part3, sizeof(part3));
    ASSERT_SUCCESS(wscrt_websocket_decoder_process(&decoder, &input, NULL));
    EXPECT(s_expect_whole_frame(&recorder, WSCRT_WEBSOCKET_OPCODE_PING, "d", 1));
    EXPECT(s_expect_nothing_left(&recorder));
    ASSERT_INT_EQ(with_buffer, wscrt_mem_tracer_bytes(allocator)); /* the same buffer, reused */
    s_recorder_clean_up(&recorder); /* with the decoder: its buffer goes too */
    ASSERT_INT_EQ(start, wscrt_mem_tracer_bytes(allocator));
    return 0;
}

static int s_test_in_frame_is_true_between_begin_and_complete(struct wscrt_allocator *allocator) {
    struct s_recorder recorder;
    s_recorder_init(&recorder, allocator);
    struct wscrt_websocket_decoder decoder;
    s_decoder_init(&decoder, &recorder, 0);
    ASSERT_FALSE(wscrt_websocket_decoder_in_frame(&decoder));
    const uint8_t frame[] = {0x82, 0x03, 0x01, 0x02, 0x03};
    struct wscrt_byte_cursor input = wscrt_byte_cursor_from_array(frame, 1);
    ASSERT_SUCCESS(wscrt_websocket_decoder_process(&decoder, &input, NULL));
    ASSERT_FALSE(wscrt_websocket_decoder_in_frame(&decoder)); /* header incomplete */
    input = wscrt_byte_cursor_from_array(frame + 1, 2);
    ASSERT_SUCCESS(wscrt_websocket_decoder_process(&decoder, &input, NULL));
    ASSERT_TRUE(wscrt_websocket_decoder_in_frame(&decoder));
    ASSERT_TRUE(recorder.in_frame_at_begin);
    input = wscrt_byte_cursor_from_array(frame + 3, 2);
    ASSERT_SUCCESS(wscrt_websocket_decoder_process(&decoder, &input, NULL));
    ASSERT_FALSE(wscrt_websocket_decoder_in_frame(&decoder));
    ASSERT_FALSE(recorder.in_frame_at_complete);
    EXPECT(s_expect_whole_frame(&recorder, WSCRT_WEBSOCKET_OPCODE_BINARY, "\x01\x02\x03", 3));
    EXPECT(s_expect_nothing_left(&recorder));
    s_recorder_clean_up(&recorder);
    return 0;
}

static int s_test_close_code_validity_follows_the_registry(struct wscrt_allocator *allocator) {
    (void)allocator;
    for (uint32_t code = 0; code <= UINT16_MAX; ++code) {
        bool expected = (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
                        (code >= 3000 && code <= 4999);
        if (wscrt_websocket_close_code_is_valid((uint16_t)code) != expected) {
            WSCRT_FAIL_("close code %u: expected %s", (unsigned)code, expected ? "valid" : "invalid");
        }
    }
    return 0;
}

static int s_test_close_with_valid_codes_is_delivered(struct wscrt_allocator *allocator) {
    struct s_recorder recorder;
    s_recorder_init(&recorder, allocator);
    const uint16_t codes[] = {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999};
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); ++i) {
        char hex[32];
        snprintf(hex, sizeof(hex), "88 02 %02x %02x", (unsigned)(codes[i] >> 8), (unsigned)(codes[i] & 0xFF));
        EXPECT(s_decode_ok(allocator, &recorder, hex));
        uint8_t payload[2] = {(uint8_t)(codes[i] >> 8), (uint8_t)codes[i]};
        EXPECT(s_expect_whole_frame(&recorder, WSCRT_WEBSOCKET_OPCODE_CLOSE, payload, 2));
        EXPECT(s_expect_nothing_left(&recorder));
    }
    s_recorder_clean_up(&recorder);
    return 0;
}

static int s_test_close_with_invalid_codes_fails(struct wscrt_allocator *allocator) {
    struct s_recorder recorder;
    s_recorder_init(&recorder, allocator);
    const uint16_t codes[] = {0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535};
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); ++i) {
        char hex[32];
        snprintf(hex, sizeof(hex), "88 02 %02x %02x", (unsigned)(codes[i] >> 8), (unsigned)(codes[i] & 0xFF));
        EXPECT(s_decode_protocol_error(allocator, &recorder, hex, WSCRT_ERROR_WEBSOCKET_INVALID_CLOSE_CODE));
        /* The status code is checked before any payload is delivered. */
        EXPECT(s_expect_begin(&recorder, WSCRT_WEBSOCKET_OPCODE_CLOSE, true, 2));
        EXPECT(s_expect_nothing_left(&recorder));
    }
    s_recorder_clean_up(&recorder);
    return 0;
}

static int s_test_invalid_utf8_chunk_fails_after_earlier_chunks_were_delivered(struct wscrt_allocator *allocator) {
    struct s_recorder recorder;
    s_recorder_init(&recorder, allocator);
    struct wscrt_websocket_decoder decoder;
    s_decoder_init(&decoder, &recorder, 0);
    const uint8_t part1[] = {0x81, 0x04, 'a', 'b'};
    const uint8_t part2[] = {0xff, 'c'};
    struct wscrt_byte_cursor input = wscrt_byte_cursor_from_array(part1, sizeof(part1));
    ASSERT_SUCCESS(wscrt_websocket_decoder_process(&decoder, &input, NULL));
    input = wscrt_byte_cursor_from_array(part2, sizeof(part2));
    /* Fails at the chunk with the bad byte, long before the frame's end. */
    ASSERT_ERROR(WSCRT_ERROR_WEBSOCKET_INVALID_UTF8, wscrt_websocket_decoder_process(&decoder, &input, NULL));
    ASSERT_UINT_EQ(WSCRT_WEBSOCKET_CLOSE_INVALID_PAYLOAD, decoder.close_status_on_error);
    EXPECT(s_expect_begin(&recorder, WSCRT_WEBSOCKET_OPCODE_TEXT, true, 4));
    EXPECT(s_expect_payload_str(&recorder, "ab"));
    EXPECT(s_expect_nothing_left(&recorder));
    s_recorder_clean_up(&recorder);
    return 0;
}

/* ---- whole frames ---- */

/* A data frame whose payload is all in one input (within the budget, with valid text) is one on_whole_frame call;
 * any other frame takes the three calls. The recorder turns both into the same events. */
static int s_test_a_data_frame_that_came_whole_is_one_call(struct wscrt_allocator *allocator) {
    struct s_recorder recorder;
    s_recorder_init(&recorder, allocator);
    struct wscrt_websocket_decoder decoder;
    s_decoder_init(&decoder, &recorder, 0);
    /* TEXT "hi", an empty BINARY, PING "p" (control: never whole), then a BINARY cut after its first byte. */
    const uint8_t first[] = {0x81, 0x02, 'h', 'i', 0x82, 0x00, 0x89, 0x01, 'p', 0x82, 0x03, 0x01};
    const uint8_t rest[] = {0x02, 0x03};
    struct wscrt_byte_cursor input = wscrt_byte_cursor_from_array(first, sizeof(first));
    ASSERT_SUCCESS(wscrt_websocket_decoder_process(&decoder, &input, NULL));
    input = wscrt_byte_cursor_from_array(rest, sizeof(rest));
    ASSERT_SUCCESS(wscrt_websocket_decoder_process(&decoder, &input, NULL));
    ASSERT_UINT_EQ(2, recorder.whole_frames);
    EXPECT(s_expect_whole_frame(&recorder, WSCRT_WEBSOCKET_OPCODE_TEXT, "hi", 2));
    EXPECT(s_expect_whole_frame(&recorder, WSCRT_WEBSOCKET_OPCODE_BINARY, "", 0));
    EXPECT(s_expect_whole_frame(&recorder, WSCRT_WEBSOCKET_OPCODE_PING, "p", 1));
    EXPECT(s_expect_whole_frame(&recorder, WSCRT_WEBSOCKET_OPCODE_BINARY, "\x01\x02\x03", 3));
    EXPECT(s_expect_nothing_left(&recorder));

    /* A budget below the payload: three calls, and delivery stops at the budget. */
    s_decoder_init(&decoder, &recorder, 0);
    s_recorder_reset(&recorder);
    const uint8_t budgeted[] = {0x82, 0x03, 0x01, 0x02, 0x03};
    input = wscrt_byte_cursor_from_array(budgeted, sizeof(budgeted));
    uint64_t budget = 2;
    ASSERT_SUCCESS(wscrt_websocket_decoder_process(&decoder, &input, &budget));
    ASSERT_UINT_EQ(0, recorder.whole_frames);
    ASSERT_UINT_EQ(1, input.len);
    EXPECT(s_expect_begin(&recorder, WSCRT_WEBSOCKET_OPCODE_BINARY, true, 3));
    EXPECT(s_expect_payload(&recorder, "\x01\x02", 2));
    EXPECT(s_expect_nothing_left(&recorder));

    /* Invalid text: three calls, failing where they always do (after the begin, before the payload). */
    s_decoder_init(&decoder, &recorder, 0);
    s_recorder_reset(&recorder);
    const uint8_t invalid[] = {0x81, 0x02, 0xc3, 0x28};
    input = wscrt_byte_cursor_from_array(invalid, sizeof(invalid));
    ASSERT_ERROR(WSCRT_ERROR_WEBSOCKET_INVALID_UTF8, wscrt_websocket_decoder_process(&decoder, &input, NULL));
    ASSERT_UINT_EQ(0, recorder.whole_frames);
    EXPECT(s_expect_begin(&recorder, WSCRT_WEBSOCKET_OPCODE_TEXT, true, 2));
    EXPECT(s_expect_nothing_left(&recorder));
    s_recorder_clean_up(&recorder);
    return 0;
}

/* ---- the data payload budget ---- */

static int s_test_zero_budget_stops_before_data_payload(struct wscrt_allocator *allocator) {
    struct s_recorder recorder;
    s_recorder_init(&recorder, allocator);
    struct wscrt_websocket_decoder decoder;
    s_decoder_init(&decoder, &recorder, 0);
    const uint8_t frame[] = {0x82, 0x03, 'a', 'b', 'c', 0x81, 0x00};
    struct wscrt_byte_cursor input = wscrt_byte_cursor_from_array(frame, sizeof(frame));
    uint64_t budget = 0;
    ASSERT_SUCCESS(wscrt_websocket_decoder_process(&decoder, &input, &budget));
    /* The header is read and announced; not one payload byte is taken. */
    ASSERT_UINT_EQ(5, input.len);
    EXPECT(s_expect_begin(&recorder, WSCRT_WEBSOCKET_OPCODE_BINARY, true, 3));
    EXPECT(s_expect_nothing_left(&recorder));

    budget = 2;
    ASSERT_SUCCESS(wscrt_websocket_decoder_process(&decoder, &input, &budget));
    ASSERT_UINT_EQ(0, budget);
    ASSERT_UINT_EQ(3, input.len);
    EXPECT(s_expect_payload_str(&recorder, "ab"));
    EXPECT(s_expect_nothing_left(&recorder));

    budget = 10;
    ASSERT_SUCCESS(wscrt_websocket_decoder_process(&decoder, &input, &budget));
    ASSERT_UINT_EQ(9, budget);
    ASSERT_UINT_EQ(0, input.len);
    EXPECT(s_expect_payload_str(&recorder, "c"));
    EXPECT(s_expect_complete(&recorder, WSCRT_WEBSOCKET_OPCODE_BINARY));
    EXPECT(s_expect_whole_frame(&recorder, WSCRT_WEBSOCKET_OPCODE_TEXT, NULL, 0));
    EXPECT(s_expect_nothing_left(&recorder));
    s_recorder_clean_up(&recorder);
    return 0;
}

static int s_test_budget_does_not_limit_control_frames_or_empty_data_frames(struct wscrt_allocator *allocator) {
    struct s_recorder recorder;
    s_recorder_init(&recorder, allocator);
    struct wscrt_websocket_decoder decoder;
    s_decoder_init(&decoder, &recorder, 0);
    /* PING "hi", empty BINARY, CLOSE 1000, then TEXT "x" that has to wait. */
    const uint8_t frames[] = {0x89, 0x02, 'h', 'i', 0x82, 0x00, 0x88, 0x02, 0x03, 0xe8, 0x81, 0x01, 'x'};
    struct wscrt_byte_cursor input = wscrt_byte_cursor_from_array(frames, sizeof(frames));
    uint64_t budget = 0;
    ASSERT_SUCCESS(wscrt_websocket_decoder_process(&decoder, &input, &budget));
    ASSERT_UINT_EQ(1, input.len);
    ASSERT_UINT_EQ(0, budget);
    EXPECT(s_expect_whole_frame(&recorder, WSCRT_WEBSOCKET_OPCODE_PING, "hi", 2));
    EXPECT(s_expect_whole_frame(&recorder, WSCRT_WEBSOCKET_OPCODE_BINARY, NULL, 0));
    EXPECT(s_expect_whole_frame(&recorder, WSCRT_WEBSOCKET_OPCODE_CLOSE, "\x03\xe8", 2));
    EXPECT(s_expect_begin(&recorder, WSCRT_WEBSOCKET_OPCODE_TEXT, true, 1));
    EXPECT(s_expect_nothing_left(&recorder));
    ASSERT_TRUE(wscrt_websocket_decoder_in_frame(&decoder));
    s_recorder_clean_up(&recorder);
    return 0;
}

static int s_test_budget_counts_payload_across_frames(struct wscrt_allocator *allocator) {
    struct s_recorder recorder;
    s_recorder_init(&recorder, allocator);
    struct wscrt_websocket_decoder decoder;
    s_decoder_init(&decoder, &recorder, 0);
    /* Two 2-byte BINARY frames with a budget of 3: the second stops after one byte. */
    const uint8_t frames[] = {0x82, 0x02, 'a', 'b', 0x82, 0x02, 'c', 'd'};
    struct wscrt_byte_cursor input = wscrt_byte_cursor_from_array(frames, sizeof(frames));
    uint64_t budget = 3;
    ASSERT_SUCCESS(wscrt_websocket_decoder_process(&decoder, &input, &budget));
    ASSERT_UINT_EQ(1, input.len);
    ASSERT_UINT_EQ(0, budget);
    EXPECT(s_expect_whole_frame(&recorder, WSCRT_WEBSOCKET_OPCODE_BINARY, "ab", 2));
    EXPECT(s_expect_begin(&recorder, WSCRT_WEBSOCKET_OPCODE_BINARY, true, 2));
    EXPECT(s_expect_payload_str(&recorder, "c"));
    EXPECT(s_expect_nothing_left(&recorder));
    s_recorder_clean_up(&recorder);
    return 0;
}

/* ---- failures are final ---- */

static int s_test_callback_failure_stops_processing_and_keeps_its_error(struct wscrt_allocator *allocator) {
    struct s_recorder recorder;
    s_recorder_init(&recorder, allocator);
    recorder.fail_type = S_EVENT_PAYLOAD;
    recorder.fail_after = 0;
    struct wscrt_websocket_decoder decoder;
    s_decoder_init(&decoder, &recorder, 0);
    const uint8_t frames[] = {0x82, 0x01, 'a', 0x82, 0x01, 'b'};
    struct wscrt_byte_cursor input = wscrt_byte_cursor_from_array(frames, sizeof(frames));
    ASSERT_ERROR(WSCRT_ERROR_CALLBACK_EXCEPTION, wscrt_websocket_decoder_process(&decoder, &input, NULL));
    ASSERT_UINT_EQ(WSCRT_WEBSOCKET_CLOSE_INTERNAL_ERROR, decoder.close_status_on_error);
    ASSERT_UINT_EQ(3, input.len);
    EXPECT(s_expect_begin(&recorder, WSCRT_WEBSOCKET_OPCODE_BINARY, true, 1));
    EXPECT(s_expect_nothing_left(&recorder));
    ASSERT_ERROR(WSCRT_ERROR_INVALID_STATE, wscrt_websocket_decoder_process(&decoder, &input, NULL));
    EXPECT(s_expect_nothing_left(&recorder));
    s_recorder_clean_up(&recorder);
    return 0;
}

static int s_test_decoder_refuses_input_after_a_violation(struct wscrt_allocator *allocator) {
    struct s_recorder recorder;
    s_recorder_init(&recorder, allocator);
    struct wscrt_websocket_decoder decoder;
    s_decoder_init(&decoder, &recorder, 0);
    const uint8_t bad[] = {0x83, 0x00};
    const uint8_t good[] = {0x81, 0x00};
    struct wscrt_byte_cursor input = wscrt_byte_cursor_from_array(bad, sizeof(bad));
    ASSERT_ERROR(WSCRT_ERROR_WEBSOCKET_RESERVED_OPCODE, wscrt_websocket_decoder_process(&decoder, &input, NULL));
    input = wscrt_byte_cursor_from_array(good, sizeof(good));
    ASSERT_ERROR(WSCRT_ERROR_INVALID_STATE, wscrt_websocket_decoder_process(&decoder, &input, NULL));
    ASSERT_UINT_EQ(2, input.len);
    EXPECT(s_expect_nothing_left(&recorder));
    s_recorder_clean_up(&recorder);
    return 0;
}

static int s_test_empty_input_is_accepted_in_every_state(struct wscrt_allocator *allocator) {
    struct s_recorder recorder;
    s_recorder_init(&recorder, allocator);
    struct wscrt_websocket_decoder decoder;
    s_decoder_init(&decoder, &recorder, 0);
    /* Header, control payload, data payload: an empty cursor (NULL ptr) in each. */
    const uint8_t frames[] = {0x89, 0x01, 'p', 0x82, 0x7e, 0x00, 0x80};
    const size_t stops[] = {0, 1, 2, 3, 4, 5, 7};
    size_t at = 0;
    for (size_t i = 0; i < sizeof(stops) / sizeof(stops[0]); ++i) {
        struct wscrt_byte_cursor piece = wscrt_byte_cursor_from_array(frames + at, stops[i] - at);
        ASSERT_SUCCESS(wscrt_websocket_decoder_process(&decoder, &piece, NULL));
        struct wscrt_byte_cursor empty = {0};
        ASSERT_SUCCESS(wscrt_websocket_decoder_process(&decoder, &empty, NULL));
        at = stops[i];
    }
    EXPECT(s_expect_whole_frame(&recorder, WSCRT_WEBSOCKET_OPCODE_PING, "p", 1));
    EXPECT(s_expect_begin(&recorder, WSCRT_WEBSOCKET_OPCODE_BINARY, true, 128));
    EXPECT(s_expect_nothing_left(&recorder));
    s_recorder_clean_up(&recorder);
    return 0;
}

static int s_test_decoder_without_callbacks_still_validates(struct wscrt_allocator *allocator) {
    struct wscrt_websocket_decoder_options options = {0};
    struct wscrt_websocket_decoder decoder;
    wscrt_websocket_decoder_init(&decoder, allocator, &options);
    const uint8_t frames[] = {0x81, 0x02, 'o', 'k', 0x89, 0x01, 'p', 0x81, 0x01, 0xff};
    struct wscrt_byte_cursor input = wscrt_byte_cursor_from_array(frames, sizeof(frames));
    ASSERT_ERROR(WSCRT_ERROR_WEBSOCKET_INVALID_UTF8, wscrt_websocket_decoder_process(&decoder, &input, NULL));
    ASSERT_INT_EQ(WSCRT_WEBSOCKET_CLOSE_INVALID_PAYLOAD, decoder.close_status_on_error);
    wscrt_websocket_decoder_clean_up(&decoder);
    return 0;
}

/* ---- robustness: arbitrary bytes, arbitrary splits ---- */

static uint64_t s_next_random(uint64_t *state) {
    /* xorshift64*: deterministic, so a failure reproduces. */
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    return *state * 0x2545F4914F6CDD1DULL;
}

/* Frames built from a small alphabet of plausible headers with random bytes
 * sprinkled in: every input must end in success or a named error, keep the
 * begin/payload/complete grammar, and never touch memory it should not. */
static int s_test_random_input_keeps_the_call_grammar(struct wscrt_allocator *allocator) {
    uint64_t seed = 0x9E3779B97F4A7C15ULL;
    uint8_t input[96];
    struct s_recorder recorder;
    s_recorder_init(&recorder, allocator);
    for (int round = 0; round < 20000; ++round) {
        size_t len = 1 + s_next_random(&seed) % sizeof(input);
        for (size_t i = 0; i < len; ++i) {
            uint64_t r = s_next_random(&seed);
            static const uint8_t likely[] = {0x81, 0x01, 0x82, 0x02, 0x00, 0x80, 0x89, 0x8a, 0x88, 0x7e, 0x7f, 0x03, 0xe8, 0xc3};
            input[i] = (r & 0x100) ? (uint8_t)r : likely[(r >> 16) % sizeof(likely)];
        }
        struct wscrt_websocket_decoder decoder;
        s_decoder_init(&decoder, &recorder, (uint8_t)((seed & 1) ? 0x40 : 0));
        s_recorder_reset(&recorder);
        struct wscrt_byte_cursor rest = wscrt_byte_cursor_from_array(input, len);
        uint64_t budget = s_next_random(&seed) % 8;
        bool failed = false;
        while (rest.len > 0 && !failed) {
            size_t piece_len = 1 + s_next_random(&seed) % rest.len;
            struct wscrt_byte_cursor piece = wscrt_byte_cursor_advance(&rest, piece_len);
            while (piece.len > 0 && !failed) {
                /* Input may only be left over when the budget ran out. */
                failed = wscrt_websocket_decoder_process(&decoder, &piece, &budget) != WSCRT_OP_SUCCESS;
                if (!failed && piece.len > 0) {
                    ASSERT_UINT_EQ(0, budget);
                }
                budget += s_next_random(&seed) % 4;
            }
        }
        if (failed) {
            int error = wscrt_last_error();
            ASSERT_TRUE((error >= WSCRT_ERROR_WEBSOCKET_RESERVED_BITS && error <= WSCRT_ERROR_WEBSOCKET_INVALID_UTF8) ||
                        error == WSCRT_ERROR_WEBSOCKET_MISPLACED_RSV1);
            ASSERT_TRUE(decoder.close_status_on_error == 1002 || decoder.close_status_on_error == 1007);
        }
        /* Grammar: (begin payload* complete)* [begin payload*]. */
        bool open = false;
        for (size_t i = 0; i < recorder.count; ++i) {
            switch (recorder.events[i].type) {
                case S_EVENT_BEGIN:
                    ASSERT_FALSE(open);
                    open = true;
                    break;
                case S_EVENT_PAYLOAD:
                    ASSERT_TRUE(open);
                    break;
                case S_EVENT_COMPLETE:
                    ASSERT_TRUE(open);
                    open = false;
                    break;
                case S_EVENT_NONE:
                    WSCRT_FAIL_("an event without a type");
            }
        }
        if (!failed) {
            ASSERT_INT_EQ(open, wscrt_websocket_decoder_in_frame(&decoder));
        }
        s_recorder_clean_up_decoder(&recorder); /* `decoder` goes out of scope */
    }
    s_recorder_clean_up(&recorder);
    return 0;
}

WSCRT_TEST_MAIN(s_test_each_input_gives_exactly_its_events_and_outcome,
                s_test_ping_payload_is_delivered_whole_and_copied,
                s_test_control_buffer_is_made_only_for_a_payload_in_pieces,
                s_test_in_frame_is_true_between_begin_and_complete,
                s_test_close_code_validity_follows_the_registry,
                s_test_close_with_valid_codes_is_delivered,
                s_test_close_with_invalid_codes_fails,
                s_test_invalid_utf8_chunk_fails_after_earlier_chunks_were_delivered,
                s_test_a_data_frame_that_came_whole_is_one_call,
                s_test_zero_budget_stops_before_data_payload,
                s_test_budget_does_not_limit_control_frames_or_empty_data_frames,
                s_test_budget_counts_payload_across_frames,
                s_test_callback_failure_stops_processing_and_keeps_its_error,
                s_test_decoder_refuses_input_after_a_violation,
                s_test_empty_input_is_accepted_in_every_state,
                s_test_decoder_without_callbacks_still_validates,
                s_test_random_input_keeps_the_call_grammar)
