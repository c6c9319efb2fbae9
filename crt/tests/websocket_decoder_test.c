/*
 * Frame reader tests: byte literals in, the exact event list out. Every
 * successful input is also decoded byte by byte and split at every position,
 * and must give the same events (payload pieces of one frame are joined).
 */
#include <stdlib.h>

#include "common/allocator.h"
#include "common/byte_buf.h"
#include "common/error.h"
#include "http/websocket_decoder.h"
#include "test_harness.h"

/* ---- the recorder ---- */

enum s_event_type {
    S_EVENT_BEGIN,
    S_EVENT_PAYLOAD,
    S_EVENT_COMPLETE,
};

struct s_event {
    enum s_event_type type;
    uint8_t opcode;
    bool fin;
    uint8_t rsv;
    uint64_t length;       /* BEGIN: frame payload length; PAYLOAD: bytes delivered */
    size_t payload_offset; /* PAYLOAD: where its bytes start in recorder->payload */
};

#define S_MAX_EVENTS 256

struct s_recorder {
    struct s_event events[S_MAX_EVENTS];
    size_t count;
    size_t next; /* the first event no expectation has consumed yet */
    struct wscrt_byte_buf payload;
    /* Fault injection: fail the callback of this type once `fail_after` more
     * events of it were recorded (-1 = never). */
    int fail_type;
    int fail_after;
    /* in_frame as seen from inside the callbacks. */
    struct wscrt_websocket_decoder *decoder;
    bool in_frame_at_begin;
    bool in_frame_at_complete;
};

static void s_recorder_init(struct s_recorder *recorder, struct wscrt_allocator *allocator) {
    memset(recorder, 0, sizeof(*recorder));
    wscrt_byte_buf_init(&recorder->payload, allocator, 64);
    recorder->fail_type = -1;
}

static void s_recorder_clean_up(struct s_recorder *recorder) {
    wscrt_byte_buf_clean_up(&recorder->payload);
}

static void s_recorder_reset(struct s_recorder *recorder) {
    recorder->count = 0;
    recorder->next = 0;
    wscrt_byte_buf_reset(&recorder->payload);
}

static int s_record(struct s_recorder *recorder, enum s_event_type type, const struct wscrt_websocket_frame *frame,
                    uint64_t length) {
    if ((int)type == recorder->fail_type && recorder->fail_after-- == 0) {
        return wscrt_raise_error(WSCRT_ERROR_CALLBACK_EXCEPTION);
    }
    if (recorder->count == S_MAX_EVENTS) {
        fprintf(stderr, "  recorder full\n");
        abort();
    }
    struct s_event *event = &recorder->events[recorder->count++];
    event->type = type;
    event->opcode = frame->opcode;
    event->fin = frame->fin;
    event->rsv = frame->rsv;
    event->length = length;
    event->payload_offset = recorder->payload.len;
    return WSCRT_OP_SUCCESS;
}

static int s_on_frame_begin(const struct wscrt_websocket_frame *frame, void *user_data) {
    struct s_recorder *recorder = user_data;
    recorder->in_frame_at_begin = wscrt_websocket_decoder_in_frame(recorder->decoder);
    return s_record(recorder, S_EVENT_BEGIN, frame, frame->payload_length);
}

static int s_on_payload(const struct wscrt_websocket_frame *frame, struct wscrt_byte_cursor data, void *user_data) {
    struct s_recorder *recorder = user_data;
    if (data.len == 0) {
        fprintf(stderr, "  empty on_payload call\n");
        abort();
    }
    /* Pieces of one frame's payload are joined (unless already checked), so
     * any split records the same events. */
    struct s_event *last = recorder->count > recorder->next ? &recorder->events[recorder->count - 1] : NULL;
    if (last && last->type == S_EVENT_PAYLOAD && recorder->fail_type != S_EVENT_PAYLOAD) {
        last->length += data.len;
    } else if (s_record(recorder, S_EVENT_PAYLOAD, frame, data.len)) {
        return WSCRT_OP_ERR;
    }
    wscrt_byte_buf_append_dynamic(&recorder->payload, data);
    return WSCRT_OP_SUCCESS;
}

static int s_on_frame_complete(const struct wscrt_websocket_frame *frame, void *user_data) {
    struct s_recorder *recorder = user_data;
    recorder->in_frame_at_complete = wscrt_websocket_decoder_in_frame(recorder->decoder);
    return s_record(recorder, S_EVENT_COMPLETE, frame, frame->payload_length);
}

static void s_decoder_init(struct wscrt_websocket_decoder *decoder, struct s_recorder *recorder, uint8_t allowed_rsv) {
    struct wscrt_websocket_decoder_options options = {
        .on_frame_begin = s_on_frame_begin,
        .on_payload = s_on_payload,
        .on_frame_complete = s_on_frame_complete,
        .user_data = recorder,
        .allowed_rsv_bits = allowed_rsv,
    };
    wscrt_websocket_decoder_init(decoder, &options);
    recorder->decoder = decoder;
}

/* ---- expectations: each consumes the next recorded event ---- */

static int s_expect_begin(struct s_recorder *recorder, uint8_t opcode, bool fin, uint64_t length) {
    ASSERT_TRUE(recorder->next < recorder->count);
    const struct s_event *event = &recorder->events[recorder->next++];
    ASSERT_INT_EQ(S_EVENT_BEGIN, event->type);
    ASSERT_UINT_EQ(opcode, event->opcode);
    ASSERT_INT_EQ(fin, event->fin);
    ASSERT_UINT_EQ(length, event->length);
    return 0;
}

static int s_expect_payload(struct s_recorder *recorder, const void *bytes, size_t len) {
    ASSERT_TRUE(recorder->next < recorder->count);
    const struct s_event *event = &recorder->events[recorder->next++];
    ASSERT_INT_EQ(S_EVENT_PAYLOAD, event->type);
    ASSERT_BYTES_EQ(bytes, len, recorder->payload.buffer + event->payload_offset, event->length);
    return 0;
}

static int s_expect_payload_str(struct s_recorder *recorder, const char *text) {
    return s_expect_payload(recorder, text, strlen(text));
}

static int s_expect_complete(struct s_recorder *recorder, uint8_t opcode) {
    ASSERT_TRUE(recorder->next < recorder->count);
    const struct s_event *event = &recorder->events[recorder->next++];
    ASSERT_INT_EQ(S_EVENT_COMPLETE, event->type);
    ASSERT_UINT_EQ(opcode, event->opcode);
    return 0;
}

static int s_expect_nothing_left(struct s_recorder *recorder) {
    if (recorder->next != recorder->count) {
        WSCRT_FAIL_("%zu unexpected event(s) left, the first of type %d", recorder->count - recorder->next,
                    (int)recorder->events[recorder->next].type);
    }
    return 0;
}

#define EXPECT(call) ASSERT_INT_EQ(0, (call))

/* ---- input ---- */

/* "81 05 48 65" -> bytes; spaces are ignored. */
static void s_hex(struct wscrt_byte_buf *out, const char *hex) {
    int high = -1;
    for (const char *p = hex; *p; ++p) {
        int value;
        if (*p >= '0' && *p <= '9') {
            value = *p - '0';
        } else if (*p >= 'a' && *p <= 'f') {
            value = *p - 'a' + 10;
        } else if (*p >= 'A' && *p <= 'F') {
            value = *p - 'A' + 10;
        } else {
            continue;
        }
        if (high < 0) {
            high = value;
        } else {
            wscrt_byte_buf_append_byte_dynamic(out, (uint8_t)(high << 4 | value));
            high = -1;
        }
    }
}

struct s_outcome {
    int result;
    int error;
    uint16_t close_status;
};

/* Feeds `input` in pieces cut at the given positions (ascending, may be empty). */
static struct s_outcome s_feed_split(struct s_recorder *recorder, uint8_t allowed_rsv, struct wscrt_byte_cursor input,
                                     const size_t *cuts, size_t cut_count) {
    struct wscrt_websocket_decoder decoder;
    s_decoder_init(&decoder, recorder, allowed_rsv);
    s_recorder_reset(recorder);
    struct s_outcome outcome = {.result = WSCRT_OP_SUCCESS};
    size_t start = 0;
    for (size_t i = 0; i <= cut_count; ++i) {
        size_t end = i < cut_count ? cuts[i] : input.len;
        struct wscrt_byte_cursor piece = wscrt_byte_cursor_from_array(input.ptr + start, end - start);
        wscrt_reset_error();
        if (wscrt_websocket_decoder_process(&decoder, &piece, NULL)) {
            outcome.result = WSCRT_OP_ERR;
            outcome.error = wscrt_last_error();
            outcome.close_status = decoder.close_status_on_error;
            return outcome;
        }
        if (piece.len != 0) {
            fprintf(stderr, "  decoder left %zu bytes unconsumed without a budget\n", piece.len);
            abort();
        }
        start = end;
    }
    return outcome;
}

static bool s_same_events(const struct s_recorder *a, const struct s_recorder *b) {
    if (a->count != b->count || a->payload.len != b->payload.len ||
        (a->payload.len && memcmp(a->payload.buffer, b->payload.buffer, a->payload.len) != 0)) {
        return false;
    }
    for (size_t i = 0; i < a->count; ++i) {
        const struct s_event *x = &a->events[i];
        const struct s_event *y = &b->events[i];
        if (x->type != y->type || x->opcode != y->opcode || x->fin != y->fin || x->length != y->length) {
            return false;
        }
    }
    return true;
}

/*
 * Decodes hex in one piece into `recorder` and returns the outcome. When that
 * succeeds, also checks that byte-by-byte input and every two-piece split give
 * the very same events; when it fails, that every split fails the same way.
 */
static int s_decode(struct wscrt_allocator *allocator, struct s_recorder *recorder, uint8_t allowed_rsv,
                    const char *hex, struct s_outcome *outcome) {
    struct wscrt_byte_buf bytes;
    wscrt_byte_buf_init(&bytes, allocator, 16);
    s_hex(&bytes, hex);
    struct wscrt_byte_cursor input = wscrt_byte_cursor_from_buf(&bytes);

    struct s_recorder other;
    s_recorder_init(&other, allocator);
    int failures = 0;
    *outcome = s_feed_split(recorder, allowed_rsv, input, NULL, 0);

    size_t *cuts = wscrt_mem_calloc(allocator, input.len + 1, sizeof(size_t));
    for (size_t i = 1; i < input.len; ++i) {
        cuts[i - 1] = i;
    }
    /* cut 0 stands for byte by byte; long inputs are cut near both ends only. */
    for (size_t cut = 0; cut < input.len; ++cut) {
        if (input.len > 400 && cut > 200 && cut < input.len - 200) {
            continue;
        }
        struct s_outcome split = cut == 0 ? s_feed_split(&other, allowed_rsv, input, cuts, input.len - 1)
                                          : s_feed_split(&other, allowed_rsv, input, &cut, 1);
        if (split.result != outcome->result || split.error != outcome->error ||
            split.close_status != outcome->close_status ||
            (outcome->result == WSCRT_OP_SUCCESS && !s_same_events(recorder, &other))) {
            fprintf(stderr, "  split at %zu (0 = byte by byte) differs: %s vs %s\n", cut,
                    wscrt_error_name(split.error), wscrt_error_name(outcome->error));
            failures++;
            break;
        }
    }
    wscrt_mem_release(allocator, cuts);
    s_recorder_clean_up(&other);
    wscrt_byte_buf_clean_up(&bytes);
    ASSERT_INT_EQ(0, failures);
    return 0;
}

static int s_decode_ok(struct wscrt_allocator *allocator, struct s_recorder *recorder, const char *hex) {
    struct s_outcome outcome;
    EXPECT(s_decode(allocator, recorder, 0, hex, &outcome));
    if (outcome.result != WSCRT_OP_SUCCESS) {
        WSCRT_FAIL_("decoding failed with %s", wscrt_error_name(outcome.error));
    }
    return 0;
}

static int s_decode_fails(struct wscrt_allocator *allocator, struct s_recorder *recorder, uint8_t allowed_rsv,
                          const char *hex, int expected_error, uint16_t expected_close_status) {
    struct s_outcome outcome;
    EXPECT(s_decode(allocator, recorder, allowed_rsv, hex, &outcome));
    ASSERT_INT_EQ(WSCRT_OP_ERR, outcome.result);
    if (outcome.error != expected_error) {
        WSCRT_FAIL_("failed with %s, expected %s", wscrt_error_name(outcome.error), wscrt_error_name(expected_error));
    }
    ASSERT_UINT_EQ(expected_close_status, outcome.close_status);
    return 0;
}

static int s_decode_protocol_error(struct wscrt_allocator *allocator, struct s_recorder *recorder, const char *hex,
                                   int expected_error) {
    return s_decode_fails(allocator, recorder, 0, hex, expected_error, WSCRT_WEBSOCKET_CLOSE_PROTOCOL_ERROR);
}

/* ---- well-formed frames (RFC 6455 5.7 examples first) ---- */

static int s_test_unmasked_text_frame_delivers_begin_payload_complete(struct wscrt_allocator *allocator) {
    struct s_recorder recorder;
    s_recorder_init(&recorder, allocator);
    EXPECT(s_decode_ok(allocator, &recorder, "81 05 48 65 6c 6c 6f"));
    EXPECT(s_expect_begin(&recorder, WSCRT_WEBSOCKET_OPCODE_TEXT, true, 5));
    EXPECT(s_expect_payload_str(&recorder, "Hello"));
    EXPECT(s_expect_complete(&recorder, WSCRT_WEBSOCKET_OPCODE_TEXT));
    EXPECT(s_expect_nothing_left(&recorder));
    s_recorder_clean_up(&recorder);
    return 0;
}

static int s_test_fragmented_text_message_delivers_each_fragment(struct wscrt_allocator *allocator) {
    struct s_recorder recorder;
    s_recorder_init(&recorder, allocator);
    EXPECT(s_decode_ok(allocator, &recorder, "01 03 48 65 6c  80 02 6c 6f"));
    EXPECT(s_expect_begin(&recorder, WSCRT_WEBSOCKET_OPCODE_TEXT, false, 3));
    EXPECT(s_expect_payload_str(&recorder, "Hel"));
    EXPECT(s_expect_complete(&recorder, WSCRT_WEBSOCKET_OPCODE_TEXT));
    EXPECT(s_expect_begin(&recorder, WSCRT_WEBSOCKET_OPCODE_CONTINUATION, true, 2));
    EXPECT(s_expect_payload_str(&recorder, "lo"));
    EXPECT(s_expect_complete(&recorder, WSCRT_WEBSOCKET_OPCODE_CONTINUATION));
    EXPECT(s_expect_nothing_left(&recorder));
    s_recorder_clean_up(&recorder);
    return 0;
}

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
    ASSERT_BYTES_EQ("Hello", 5, decoder.control_payload, decoder.control_payload_len);
    s_recorder_clean_up(&recorder);
    return 0;
}

static int s_test_unmasked_pong_frame_is_delivered(struct wscrt_allocator *allocator) {
    struct s_recorder recorder;
    s_recorder_init(&recorder, allocator);
    EXPECT(s_decode_ok(allocator, &recorder, "8a 05 48 65 6c 6c 6f"));
    EXPECT(s_expect_begin(&recorder, WSCRT_WEBSOCKET_OPCODE_PONG, true, 5));
    EXPECT(s_expect_payload_str(&recorder, "Hello"));
    EXPECT(s_expect_complete(&recorder, WSCRT_WEBSOCKET_OPCODE_PONG));
    EXPECT(s_expect_nothing_left(&recorder));
    s_recorder_clean_up(&recorder);
    return 0;
}

static int s_test_control_frames_between_fragments_keep_the_message_open(struct wscrt_allocator *allocator) {
    struct s_recorder recorder;
    s_recorder_init(&recorder, allocator);
    /* TEXT "Hel" (not final), PING "ab", PONG "", CONTINUATION "lo" (final). */
    EXPECT(s_decode_ok(allocator, &recorder, "01 03 48 65 6c  89 02 61 62  8a 00  80 02 6c 6f"));
    EXPECT(s_expect_begin(&recorder, WSCRT_WEBSOCKET_OPCODE_TEXT, false, 3));
    EXPECT(s_expect_payload_str(&recorder, "Hel"));
    EXPECT(s_expect_complete(&recorder, WSCRT_WEBSOCKET_OPCODE_TEXT));
    EXPECT(s_expect_begin(&recorder, WSCRT_WEBSOCKET_OPCODE_PING, true, 2));
    EXPECT(s_expect_payload_str(&recorder, "ab"));
    EXPECT(s_expect_complete(&recorder, WSCRT_WEBSOCKET_OPCODE_PING));
    EXPECT(s_expect_begin(&recorder, WSCRT_WEBSOCKET_OPCODE_PONG, true, 0));
    EXPECT(s_expect_complete(&recorder, WSCRT_WEBSOCKET_OPCODE_PONG));
    EXPECT(s_expect_begin(&recorder, WSCRT_WEBSOCKET_OPCODE_CONTINUATION, true, 2));
    EXPECT(s_expect_payload_str(&recorder, "lo"));
    EXPECT(s_expect_complete(&recorder, WSCRT_WEBSOCKET_OPCODE_CONTINUATION));
    EXPECT(s_expect_nothing_left(&recorder));
    s_recorder_clean_up(&recorder);
    return 0;
}

static int s_test_zero_length_frames_have_no_payload_event(struct wscrt_allocator *allocator) {
    struct s_recorder recorder;
    s_recorder_init(&recorder, allocator);
    EXPECT(s_decode_ok(allocator, &recorder, "81 00  82 00  89 00  8a 00  88 00"));
    const uint8_t opcodes[] = {0x1, 0x2, 0x9, 0xA, 0x8};
    for (size_t i = 0; i < sizeof(opcodes); ++i) {
        EXPECT(s_expect_begin(&recorder, opcodes[i], true, 0));
        EXPECT(s_expect_complete(&recorder, opcodes[i]));
    }
    EXPECT(s_expect_nothing_left(&recorder));
    s_recorder_clean_up(&recorder);
    return 0;
}

static int s_test_empty_fragments_make_an_empty_message(struct wscrt_allocator *allocator) {
    struct s_recorder recorder;
    s_recorder_init(&recorder, allocator);
    EXPECT(s_decode_ok(allocator, &recorder, "01 00  00 00  80 00"));
    EXPECT(s_expect_begin(&recorder, WSCRT_WEBSOCKET_OPCODE_TEXT, false, 0));
    EXPECT(s_expect_complete(&recorder, WSCRT_WEBSOCKET_OPCODE_TEXT));
    EXPECT(s_expect_begin(&recorder, WSCRT_WEBSOCKET_OPCODE_CONTINUATION, false, 0));
    EXPECT(s_expect_complete(&recorder, WSCRT_WEBSOCKET_OPCODE_CONTINUATION));
    EXPECT(s_expect_begin(&recorder, WSCRT_WEBSOCKET_OPCODE_CONTINUATION, true, 0));
    EXPECT(s_expect_complete(&recorder, WSCRT_WEBSOCKET_OPCODE_CONTINUATION));
    EXPECT(s_expect_nothing_left(&recorder));
    s_recorder_clean_up(&recorder);
    return 0;
}

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
                 s_expect_begin(&recorder, WSCRT_WEBSOCKET_OPCODE_BINARY, true, length) ||
                 s_expect_payload(&recorder, expected, length) ||
                 s_expect_complete(&recorder, WSCRT_WEBSOCKET_OPCODE_BINARY) || s_expect_nothing_left(&recorder);
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

static int s_test_largest_legal_length_is_accepted_in_the_header(struct wscrt_allocator *allocator) {
    struct s_recorder recorder;
    s_recorder_init(&recorder, allocator);
    EXPECT(s_decode_ok(allocator, &recorder, "82 7f 7f ff ff ff ff ff ff ff 61"));
    EXPECT(s_expect_begin(&recorder, WSCRT_WEBSOCKET_OPCODE_BINARY, true, 0x7fffffffffffffffULL));
    EXPECT(s_expect_payload_str(&recorder, "a"));
    EXPECT(s_expect_nothing_left(&recorder));
    s_recorder_clean_up(&recorder);
    return 0;
}

static int s_test_several_frames_in_one_buffer_are_all_delivered(struct wscrt_allocator *allocator) {
    struct s_recorder recorder;
    s_recorder_init(&recorder, allocator);
    /* TEXT "hi", BINARY 01 02, CLOSE 1000 "bye". */
    EXPECT(s_decode_ok(allocator, &recorder, "81 02 68 69  82 02 01 02  88 05 03 e8 62 79 65"));
    EXPECT(s_expect_begin(&recorder, WSCRT_WEBSOCKET_OPCODE_TEXT, true, 2));
    EXPECT(s_expect_payload_str(&recorder, "hi"));
    EXPECT(s_expect_complete(&recorder, WSCRT_WEBSOCKET_OPCODE_TEXT));
    EXPECT(s_expect_begin(&recorder, WSCRT_WEBSOCKET_OPCODE_BINARY, true, 2));
    EXPECT(s_expect_payload(&recorder, "\x01\x02", 2));
    EXPECT(s_expect_complete(&recorder, WSCRT_WEBSOCKET_OPCODE_BINARY));
    EXPECT(s_expect_begin(&recorder, WSCRT_WEBSOCKET_OPCODE_CLOSE, true, 5));
    EXPECT(s_expect_payload(&recorder, "\x03\xe8" "bye", 5));
    EXPECT(s_expect_complete(&recorder, WSCRT_WEBSOCKET_OPCODE_CLOSE));
    EXPECT(s_expect_nothing_left(&recorder));
    s_recorder_clean_up(&recorder);
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
    EXPECT(s_expect_begin(&recorder, WSCRT_WEBSOCKET_OPCODE_BINARY, true, 3));
    EXPECT(s_expect_payload(&recorder, "\x01\x02\x03", 3));
    EXPECT(s_expect_complete(&recorder, WSCRT_WEBSOCKET_OPCODE_BINARY));
    EXPECT(s_expect_nothing_left(&recorder));
    s_recorder_clean_up(&recorder);
    return 0;
}

/* ---- header violations: refused before on_frame_begin ---- */

static int s_test_server_masked_frame_fails_with_protocol_error(struct wscrt_allocator *allocator) {
    struct s_recorder recorder;
    s_recorder_init(&recorder, allocator);
    /* RFC 6455 5.7 masked "Hello": legal from a client, never from a server. */
    EXPECT(s_decode_protocol_error(allocator, &recorder, "81 85 37 fa 21 3d 7f 9f 4d 51 58",
                                   WSCRT_ERROR_WEBSOCKET_MASKED_FRAME));
    EXPECT(s_expect_nothing_left(&recorder));
    /* Known from the second byte alone. */
    EXPECT(s_decode_protocol_error(allocator, &recorder, "82 80", WSCRT_ERROR_WEBSOCKET_MASKED_FRAME));
    EXPECT(s_expect_nothing_left(&recorder));
    s_recorder_clean_up(&recorder);
    return 0;
}

static int s_test_reserved_bits_without_extension_fail(struct wscrt_allocator *allocator) {
    struct s_recorder recorder;
    s_recorder_init(&recorder, allocator);
    const char *frames[] = {"c1 00", "a1 00", "91 00", "f2 00", "c9 00"};
    for (size_t i = 0; i < sizeof(frames) / sizeof(frames[0]); ++i) {
        EXPECT(s_decode_protocol_error(allocator, &recorder, frames[i], WSCRT_ERROR_WEBSOCKET_RESERVED_BITS));
        EXPECT(s_expect_nothing_left(&recorder));
    }
    /* Known from the first byte alone. */
    EXPECT(s_decode_protocol_error(allocator, &recorder, "c1", WSCRT_ERROR_WEBSOCKET_RESERVED_BITS));
    s_recorder_clean_up(&recorder);
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
    EXPECT(s_expect_begin(&recorder, WSCRT_WEBSOCKET_OPCODE_TEXT, true, 2));
    EXPECT(s_expect_payload(&recorder, "\xff\xfe", 2));
    EXPECT(s_expect_complete(&recorder, WSCRT_WEBSOCKET_OPCODE_TEXT));
    EXPECT(s_expect_nothing_left(&recorder));
    /* RSV2 is still not allowed. */
    EXPECT(s_decode_fails(allocator, &recorder, 0x40, "e1 00", WSCRT_ERROR_WEBSOCKET_RESERVED_BITS,
                          WSCRT_WEBSOCKET_CLOSE_PROTOCOL_ERROR));
    EXPECT(s_expect_nothing_left(&recorder));
    s_recorder_clean_up(&recorder);
    return 0;
}

static int s_test_reserved_opcodes_fail(struct wscrt_allocator *allocator) {
    struct s_recorder recorder;
    s_recorder_init(&recorder, allocator);
    const char *frames[] = {"83 00", "84 00", "85 00", "86 00", "87 00", "8b 00", "8c 00", "8d 00", "8e 00", "8f 00",
                            "03"};
    for (size_t i = 0; i < sizeof(frames) / sizeof(frames[0]); ++i) {
        EXPECT(s_decode_protocol_error(allocator, &recorder, frames[i], WSCRT_ERROR_WEBSOCKET_RESERVED_OPCODE));
        EXPECT(s_expect_nothing_left(&recorder));
    }
    s_recorder_clean_up(&recorder);
    return 0;
}

static int s_test_fragmented_control_frames_fail(struct wscrt_allocator *allocator) {
    struct s_recorder recorder;
    s_recorder_init(&recorder, allocator);
    const char *frames[] = {"09 00", "0a 01 61", "08 02 03 e8"};
    for (size_t i = 0; i < sizeof(frames) / sizeof(frames[0]); ++i) {
        EXPECT(s_decode_protocol_error(allocator, &recorder, frames[i],
                                       WSCRT_ERROR_WEBSOCKET_CONTROL_FRAME_FRAGMENTED));
        EXPECT(s_expect_nothing_left(&recorder));
    }
    s_recorder_clean_up(&recorder);
    return 0;
}

static int s_test_control_frames_over_125_bytes_fail(struct wscrt_allocator *allocator) {
    struct s_recorder recorder;
    s_recorder_init(&recorder, allocator);
    /* Known from the second byte: 126 and 127 announce an extended length. */
    const char *frames[] = {"89 7e", "89 7e 00 7e", "8a 7f 00 00 00 00 00 01 00 00", "88 7e 00 7e"};
    for (size_t i = 0; i < sizeof(frames) / sizeof(frames[0]); ++i) {
        EXPECT(s_decode_protocol_error(allocator, &recorder, frames[i],
                                       WSCRT_ERROR_WEBSOCKET_CONTROL_FRAME_TOO_LONG));
        EXPECT(s_expect_nothing_left(&recorder));
    }
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
    EXPECT(s_expect_begin(&recorder, WSCRT_WEBSOCKET_OPCODE_PING, true, 125));
    EXPECT(s_expect_payload(&recorder, expected, sizeof(expected)));
    EXPECT(s_expect_complete(&recorder, WSCRT_WEBSOCKET_OPCODE_PING));
    EXPECT(s_expect_nothing_left(&recorder));
    s_recorder_clean_up(&recorder);
    wscrt_byte_buf_clean_up(&hex);
    return 0;
}

static int s_test_continuation_without_open_message_fails(struct wscrt_allocator *allocator) {
    struct s_recorder recorder;
    s_recorder_init(&recorder, allocator);
    EXPECT(s_decode_protocol_error(allocator, &recorder, "80 00", WSCRT_ERROR_WEBSOCKET_UNEXPECTED_CONTINUATION));
    EXPECT(s_expect_nothing_left(&recorder));
    EXPECT(s_decode_protocol_error(allocator, &recorder, "00 01 61",
                                   WSCRT_ERROR_WEBSOCKET_UNEXPECTED_CONTINUATION));
    EXPECT(s_expect_nothing_left(&recorder));
    /* After a finished message the next CONTINUATION has nothing to continue. */
    EXPECT(s_decode_protocol_error(allocator, &recorder, "81 01 61  80 00",
                                   WSCRT_ERROR_WEBSOCKET_UNEXPECTED_CONTINUATION));
    EXPECT(s_expect_begin(&recorder, WSCRT_WEBSOCKET_OPCODE_TEXT, true, 1));
    EXPECT(s_expect_payload_str(&recorder, "a"));
    EXPECT(s_expect_complete(&recorder, WSCRT_WEBSOCKET_OPCODE_TEXT));
    EXPECT(s_expect_nothing_left(&recorder));
    s_recorder_clean_up(&recorder);
    return 0;
}

static int s_test_new_data_frame_inside_open_message_fails(struct wscrt_allocator *allocator) {
    struct s_recorder recorder;
    s_recorder_init(&recorder, allocator);
    EXPECT(s_decode_protocol_error(allocator, &recorder, "01 01 61  82 00",
                                   WSCRT_ERROR_WEBSOCKET_EXPECTED_CONTINUATION));
    EXPECT(s_expect_begin(&recorder, WSCRT_WEBSOCKET_OPCODE_TEXT, false, 1));
    EXPECT(s_expect_payload_str(&recorder, "a"));
    EXPECT(s_expect_complete(&recorder, WSCRT_WEBSOCKET_OPCODE_TEXT));
    EXPECT(s_expect_nothing_left(&recorder));
    /* A control frame in between does not close the message. */
    EXPECT(s_decode_protocol_error(allocator, &recorder, "02 00  89 00  81 00",
                                   WSCRT_ERROR_WEBSOCKET_EXPECTED_CONTINUATION));
    EXPECT(s_expect_begin(&recorder, WSCRT_WEBSOCKET_OPCODE_BINARY, false, 0));
    EXPECT(s_expect_complete(&recorder, WSCRT_WEBSOCKET_OPCODE_BINARY));
    EXPECT(s_expect_begin(&recorder, WSCRT_WEBSOCKET_OPCODE_PING, true, 0));
    EXPECT(s_expect_complete(&recorder, WSCRT_WEBSOCKET_OPCODE_PING));
    EXPECT(s_expect_nothing_left(&recorder));
    s_recorder_clean_up(&recorder);
    return 0;
}

static int s_test_64_bit_length_with_top_bit_set_fails(struct wscrt_allocator *allocator) {
    struct s_recorder recorder;
    s_recorder_init(&recorder, allocator);
    EXPECT(s_decode_protocol_error(allocator, &recorder, "82 7f 80 00 00 00 00 00 00 00",
                                   WSCRT_ERROR_WEBSOCKET_INVALID_PAYLOAD_LENGTH));
    EXPECT(s_expect_nothing_left(&recorder));
    EXPECT(s_decode_protocol_error(allocator, &recorder, "82 7f ff ff ff ff ff ff ff ff",
                                   WSCRT_ERROR_WEBSOCKET_INVALID_PAYLOAD_LENGTH));
    EXPECT(s_expect_nothing_left(&recorder));
    /* Known from the first length byte alone. */
    EXPECT(s_decode_protocol_error(allocator, &recorder, "82 7f 80", WSCRT_ERROR_WEBSOCKET_INVALID_PAYLOAD_LENGTH));
    EXPECT(s_expect_nothing_left(&recorder));
    s_recorder_clean_up(&recorder);
    return 0;
}

static int s_test_non_minimal_lengths_fail(struct wscrt_allocator *allocator) {
    struct s_recorder recorder;
    s_recorder_init(&recorder, allocator);
    const char *frames[] = {
        "82 7e 00 00",                   /* 0 in the 16-bit form */
        "82 7e 00 7d",                   /* 125 in the 16-bit form */
        "82 7f 00 00 00 00 00 00 00 05", /* 5 in the 64-bit form */
        "82 7f 00 00 00 00 00 00 00 7e", /* 126 in the 64-bit form */
        "82 7f 00 00 00 00 00 00 ff ff", /* 65535 in the 64-bit form */
    };
    for (size_t i = 0; i < sizeof(frames) / sizeof(frames[0]); ++i) {
        EXPECT(s_decode_protocol_error(allocator, &recorder, frames[i], WSCRT_ERROR_WEBSOCKET_NON_MINIMAL_LENGTH));
        EXPECT(s_expect_nothing_left(&recorder));
    }
    s_recorder_clean_up(&recorder);
    return 0;
}

/* ---- CLOSE payloads ---- */

static int s_test_close_with_one_byte_payload_fails_before_begin(struct wscrt_allocator *allocator) {
    struct s_recorder recorder;
    s_recorder_init(&recorder, allocator);
    EXPECT(s_decode_protocol_error(allocator, &recorder, "88 01 03", WSCRT_ERROR_WEBSOCKET_INVALID_CLOSE_PAYLOAD));
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
        EXPECT(s_expect_begin(&recorder, WSCRT_WEBSOCKET_OPCODE_CLOSE, true, 2));
        EXPECT(s_expect_payload(&recorder, payload, 2));
        EXPECT(s_expect_complete(&recorder, WSCRT_WEBSOCKET_OPCODE_CLOSE));
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

static int s_test_close_with_utf8_reason_is_delivered_whole(struct wscrt_allocator *allocator) {
    struct s_recorder recorder;
    s_recorder_init(&recorder, allocator);
    /* 1000 "ok é" */
    EXPECT(s_decode_ok(allocator, &recorder, "88 07 03 e8 6f 6b 20 c3 a9"));
    EXPECT(s_expect_begin(&recorder, WSCRT_WEBSOCKET_OPCODE_CLOSE, true, 7));
    EXPECT(s_expect_payload(&recorder, "\x03\xe8ok \xc3\xa9", 7));
    EXPECT(s_expect_complete(&recorder, WSCRT_WEBSOCKET_OPCODE_CLOSE));
    EXPECT(s_expect_nothing_left(&recorder));
    s_recorder_clean_up(&recorder);
    return 0;
}

static int s_test_close_with_invalid_utf8_reason_fails_with_1007(struct wscrt_allocator *allocator) {
    struct s_recorder recorder;
    s_recorder_init(&recorder, allocator);
    const char *frames[] = {
        "88 04 03 e8 ff fe",       /* never valid bytes */
        "88 03 03 e8 c3",          /* cut off */
        "88 05 03 e8 ed a0 80",    /* a surrogate */
        "88 04 03 e8 c0 af",       /* overlong '/' */
    };
    for (size_t i = 0; i < sizeof(frames) / sizeof(frames[0]); ++i) {
        EXPECT(s_decode_fails(allocator, &recorder, 0, frames[i], WSCRT_ERROR_WEBSOCKET_INVALID_UTF8,
                              WSCRT_WEBSOCKET_CLOSE_INVALID_PAYLOAD));
        ASSERT_TRUE(recorder.count == 1 && recorder.events[0].type == S_EVENT_BEGIN);
    }
    s_recorder_clean_up(&recorder);
    return 0;
}

/* ---- TEXT UTF-8 ---- */

static int s_test_invalid_utf8_text_fails_with_1007_before_delivery(struct wscrt_allocator *allocator) {
    struct s_recorder recorder;
    s_recorder_init(&recorder, allocator);
    EXPECT(s_decode_fails(allocator, &recorder, 0, "81 02 c3 28", WSCRT_ERROR_WEBSOCKET_INVALID_UTF8,
                          WSCRT_WEBSOCKET_CLOSE_INVALID_PAYLOAD));
    EXPECT(s_expect_begin(&recorder, WSCRT_WEBSOCKET_OPCODE_TEXT, true, 2));
    EXPECT(s_expect_nothing_left(&recorder));
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

static int s_test_utf8_code_point_may_span_fragments_and_control_frames(struct wscrt_allocator *allocator) {
    struct s_recorder recorder;
    s_recorder_init(&recorder, allocator);
    /* "é" = c3 a9, and U+1F600 = f0 9f 98 80 cut in three fragments with a PING in between. */
    EXPECT(s_decode_ok(allocator, &recorder, "01 01 c3  80 01 a9  01 02 f0 9f  89 00  00 01 98  80 01 80"));
    EXPECT(s_expect_begin(&recorder, WSCRT_WEBSOCKET_OPCODE_TEXT, false, 1));
    EXPECT(s_expect_payload(&recorder, "\xc3", 1));
    EXPECT(s_expect_complete(&recorder, WSCRT_WEBSOCKET_OPCODE_TEXT));
    EXPECT(s_expect_begin(&recorder, WSCRT_WEBSOCKET_OPCODE_CONTINUATION, true, 1));
    EXPECT(s_expect_payload(&recorder, "\xa9", 1));
    EXPECT(s_expect_complete(&recorder, WSCRT_WEBSOCKET_OPCODE_CONTINUATION));
    EXPECT(s_expect_begin(&recorder, WSCRT_WEBSOCKET_OPCODE_TEXT, false, 2));
    EXPECT(s_expect_payload(&recorder, "\xf0\x9f", 2));
    EXPECT(s_expect_complete(&recorder, WSCRT_WEBSOCKET_OPCODE_TEXT));
    EXPECT(s_expect_begin(&recorder, WSCRT_WEBSOCKET_OPCODE_PING, true, 0));
    EXPECT(s_expect_complete(&recorder, WSCRT_WEBSOCKET_OPCODE_PING));
    EXPECT(s_expect_begin(&recorder, WSCRT_WEBSOCKET_OPCODE_CONTINUATION, false, 1));
    EXPECT(s_expect_payload(&recorder, "\x98", 1));
    EXPECT(s_expect_complete(&recorder, WSCRT_WEBSOCKET_OPCODE_CONTINUATION));
    EXPECT(s_expect_begin(&recorder, WSCRT_WEBSOCKET_OPCODE_CONTINUATION, true, 1));
    EXPECT(s_expect_payload(&recorder, "\x80", 1));
    EXPECT(s_expect_complete(&recorder, WSCRT_WEBSOCKET_OPCODE_CONTINUATION));
    EXPECT(s_expect_nothing_left(&recorder));
    s_recorder_clean_up(&recorder);
    return 0;
}

static int s_test_text_ending_inside_a_code_point_fails_at_the_final_fragment(struct wscrt_allocator *allocator) {
    struct s_recorder recorder;
    s_recorder_init(&recorder, allocator);
    EXPECT(s_decode_fails(allocator, &recorder, 0, "01 01 61  80 01 c3", WSCRT_ERROR_WEBSOCKET_INVALID_UTF8,
                          WSCRT_WEBSOCKET_CLOSE_INVALID_PAYLOAD));
    EXPECT(s_expect_begin(&recorder, WSCRT_WEBSOCKET_OPCODE_TEXT, false, 1));
    EXPECT(s_expect_payload_str(&recorder, "a"));
    EXPECT(s_expect_complete(&recorder, WSCRT_WEBSOCKET_OPCODE_TEXT));
    EXPECT(s_expect_begin(&recorder, WSCRT_WEBSOCKET_OPCODE_CONTINUATION, true, 1));
    EXPECT(s_expect_payload(&recorder, "\xc3", 1));
    /* no on_frame_complete for the message that ended mid code point */
    EXPECT(s_expect_nothing_left(&recorder));
    s_recorder_clean_up(&recorder);
    return 0;
}

static int s_test_each_text_message_starts_a_fresh_utf8_check(struct wscrt_allocator *allocator) {
    struct s_recorder recorder;
    s_recorder_init(&recorder, allocator);
    /* A lead byte cannot carry over into the next message, even through BINARY. */
    EXPECT(s_decode_fails(allocator, &recorder, 0, "81 01 c3  81 01 a9", WSCRT_ERROR_WEBSOCKET_INVALID_UTF8,
                          WSCRT_WEBSOCKET_CLOSE_INVALID_PAYLOAD));
    EXPECT(s_decode_ok(allocator, &recorder, "81 01 61  82 02 ff c3  81 02 c3 a9"));
    s_recorder_clean_up(&recorder);
    return 0;
}

static int s_test_binary_payload_is_not_checked_as_utf8(struct wscrt_allocator *allocator) {
    struct s_recorder recorder;
    s_recorder_init(&recorder, allocator);
    EXPECT(s_decode_ok(allocator, &recorder, "02 02 c3 28  80 01 ff"));
    EXPECT(s_expect_begin(&recorder, WSCRT_WEBSOCKET_OPCODE_BINARY, false, 2));
    EXPECT(s_expect_payload(&recorder, "\xc3\x28", 2));
    EXPECT(s_expect_complete(&recorder, WSCRT_WEBSOCKET_OPCODE_BINARY));
    EXPECT(s_expect_begin(&recorder, WSCRT_WEBSOCKET_OPCODE_CONTINUATION, true, 1));
    EXPECT(s_expect_payload(&recorder, "\xff", 1));
    EXPECT(s_expect_complete(&recorder, WSCRT_WEBSOCKET_OPCODE_CONTINUATION));
    EXPECT(s_expect_nothing_left(&recorder));
    /* Nor is a PING's payload. */
    EXPECT(s_decode_ok(allocator, &recorder, "89 01 ff"));
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
    EXPECT(s_expect_begin(&recorder, WSCRT_WEBSOCKET_OPCODE_TEXT, true, 0));
    EXPECT(s_expect_complete(&recorder, WSCRT_WEBSOCKET_OPCODE_TEXT));
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
    EXPECT(s_expect_begin(&recorder, WSCRT_WEBSOCKET_OPCODE_PING, true, 2));
    EXPECT(s_expect_payload_str(&recorder, "hi"));
    EXPECT(s_expect_complete(&recorder, WSCRT_WEBSOCKET_OPCODE_PING));
    EXPECT(s_expect_begin(&recorder, WSCRT_WEBSOCKET_OPCODE_BINARY, true, 0));
    EXPECT(s_expect_complete(&recorder, WSCRT_WEBSOCKET_OPCODE_BINARY));
    EXPECT(s_expect_begin(&recorder, WSCRT_WEBSOCKET_OPCODE_CLOSE, true, 2));
    EXPECT(s_expect_payload(&recorder, "\x03\xe8", 2));
    EXPECT(s_expect_complete(&recorder, WSCRT_WEBSOCKET_OPCODE_CLOSE));
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
    EXPECT(s_expect_begin(&recorder, WSCRT_WEBSOCKET_OPCODE_BINARY, true, 2));
    EXPECT(s_expect_payload_str(&recorder, "ab"));
    EXPECT(s_expect_complete(&recorder, WSCRT_WEBSOCKET_OPCODE_BINARY));
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
    EXPECT(s_expect_begin(&recorder, WSCRT_WEBSOCKET_OPCODE_PING, true, 1));
    EXPECT(s_expect_payload_str(&recorder, "p"));
    EXPECT(s_expect_complete(&recorder, WSCRT_WEBSOCKET_OPCODE_PING));
    EXPECT(s_expect_begin(&recorder, WSCRT_WEBSOCKET_OPCODE_BINARY, true, 128));
    EXPECT(s_expect_nothing_left(&recorder));
    s_recorder_clean_up(&recorder);
    return 0;
}

static int s_test_decoder_without_callbacks_still_validates(struct wscrt_allocator *allocator) {
    (void)allocator;
    struct wscrt_websocket_decoder_options options = {0};
    struct wscrt_websocket_decoder decoder;
    wscrt_websocket_decoder_init(&decoder, &options);
    const uint8_t frames[] = {0x81, 0x02, 'o', 'k', 0x89, 0x01, 'p', 0x81, 0x01, 0xff};
    struct wscrt_byte_cursor input = wscrt_byte_cursor_from_array(frames, sizeof(frames));
    ASSERT_ERROR(WSCRT_ERROR_WEBSOCKET_INVALID_UTF8, wscrt_websocket_decoder_process(&decoder, &input, NULL));
    ASSERT_BYTES_EQ("p", 1, decoder.control_payload, decoder.control_payload_len);
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
            ASSERT_TRUE(error >= WSCRT_ERROR_WEBSOCKET_RESERVED_BITS && error <= WSCRT_ERROR_WEBSOCKET_INVALID_UTF8);
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
            }
        }
        if (!failed) {
            ASSERT_INT_EQ(open, wscrt_websocket_decoder_in_frame(&decoder));
        }
    }
    s_recorder_clean_up(&recorder);
    return 0;
}

WSCRT_TEST_MAIN(s_test_unmasked_text_frame_delivers_begin_payload_complete,
                s_test_fragmented_text_message_delivers_each_fragment,
                s_test_ping_payload_is_delivered_whole_and_copied,
                s_test_unmasked_pong_frame_is_delivered,
                s_test_control_frames_between_fragments_keep_the_message_open,
                s_test_zero_length_frames_have_no_payload_event,
                s_test_empty_fragments_make_an_empty_message,
                s_test_length_boundaries_use_7_16_and_64_bit_forms,
                s_test_largest_legal_length_is_accepted_in_the_header,
                s_test_several_frames_in_one_buffer_are_all_delivered,
                s_test_in_frame_is_true_between_begin_and_complete,
                s_test_server_masked_frame_fails_with_protocol_error,
                s_test_reserved_bits_without_extension_fail,
                s_test_negotiated_rsv1_is_accepted_and_reported,
                s_test_reserved_opcodes_fail,
                s_test_fragmented_control_frames_fail,
                s_test_control_frames_over_125_bytes_fail,
                s_test_control_frame_of_exactly_125_bytes_is_accepted,
                s_test_continuation_without_open_message_fails,
                s_test_new_data_frame_inside_open_message_fails,
                s_test_64_bit_length_with_top_bit_set_fails,
                s_test_non_minimal_lengths_fail,
                s_test_close_with_one_byte_payload_fails_before_begin,
                s_test_close_code_validity_follows_the_registry,
                s_test_close_with_valid_codes_is_delivered,
                s_test_close_with_invalid_codes_fails,
                s_test_close_with_utf8_reason_is_delivered_whole,
                s_test_close_with_invalid_utf8_reason_fails_with_1007,
                s_test_invalid_utf8_text_fails_with_1007_before_delivery,
                s_test_invalid_utf8_chunk_fails_after_earlier_chunks_were_delivered,
                s_test_utf8_code_point_may_span_fragments_and_control_frames,
                s_test_text_ending_inside_a_code_point_fails_at_the_final_fragment,
                s_test_each_text_message_starts_a_fresh_utf8_check,
                s_test_binary_payload_is_not_checked_as_utf8,
                s_test_zero_budget_stops_before_data_payload,
                s_test_budget_does_not_limit_control_frames_or_empty_data_frames,
                s_test_budget_counts_payload_across_frames,
                s_test_callback_failure_stops_processing_and_keeps_its_error,
                s_test_decoder_refuses_input_after_a_violation,
                s_test_empty_input_is_accepted_in_every_state,
                s_test_decoder_without_callbacks_still_validates,
                s_test_random_input_keeps_the_call_grammar)
