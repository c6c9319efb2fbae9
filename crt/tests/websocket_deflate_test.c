/*
 * permessage-deflate data path (RFC 7692 7.2): compressed payloads as hex
 * byte literals (the RFC's own examples first), the tail handled both ways,
 * context takeover, the size cap, and memory that stays near the cap.
 */
#include <stdlib.h>

#include "common/allocator.h"
#include "common/byte_buf.h"
#include "common/error.h"
#include "http/websocket_deflate.h"
#include "test_harness.h"
#include "test_hex.h"

#define EXPECT(call) ASSERT_INT_EQ(0, (call))

static struct wscrt_websocket_deflate_params s_params(uint8_t bits, bool no_context_takeover) {
    struct wscrt_websocket_deflate_params params = {
        .client_max_window_bits = bits,
        .server_max_window_bits = bits,
        .client_no_context_takeover = no_context_takeover,
        .server_no_context_takeover = no_context_takeover,
    };
    return params;
}

/* ---- receiving: the inflater ---- */

/* Collects what the inflater delivers; can fail on purpose; samples live memory. */
struct s_sink {
    struct wscrt_allocator *allocator;
    struct wscrt_byte_buf output;
    bool keep_output;          /* false: count only (for the very large cases) */
    uint64_t delivered;
    size_t calls;
    size_t largest_chunk;
    size_t peak_live_bytes;    /* the tracking allocator's bytes, at each chunk */
    int fail_at_call;          /* 1-based; 0 = never */
};

static int s_on_output(struct wscrt_byte_cursor data, void *user_data) {
    struct s_sink *sink = user_data;
    sink->calls++;
    if (data.len == 0 || data.len > WSCRT_WEBSOCKET_INFLATE_CHUNK_SIZE) {
        fprintf(stderr, "  chunk of %zu bytes\n", data.len);
        abort();
    }
    size_t live = wscrt_mem_tracer_bytes(sink->allocator);
    sink->peak_live_bytes = live > sink->peak_live_bytes ? live : sink->peak_live_bytes;
    sink->largest_chunk = data.len > sink->largest_chunk ? data.len : sink->largest_chunk;
    if (sink->fail_at_call != 0 && (int)sink->calls == sink->fail_at_call) {
        return wscrt_raise_error(WSCRT_ERROR_CALLBACK_EXCEPTION);
    }
    sink->delivered += data.len;
    if (sink->keep_output) {
        wscrt_byte_buf_append_dynamic(&sink->output, data);
    }
    return WSCRT_OP_SUCCESS;
}

static struct wscrt_websocket_inflater *s_inflater_new(struct wscrt_allocator *allocator, struct s_sink *sink,
                                                       struct wscrt_websocket_deflate_params params,
                                                       uint64_t max_message_size) {
    memset(sink, 0, sizeof(*sink));
    sink->allocator = allocator;
    sink->keep_output = true;
    wscrt_byte_buf_init(&sink->output, allocator, 64);
    struct wscrt_websocket_inflater_options options = {
        .params = params,
        .max_message_size = max_message_size,
        .on_output = s_on_output,
        .user_data = sink,
    };
    return wscrt_websocket_inflater_new(allocator, &options);
}

/* Inflates one message given as hex, whole; its text must equal `expected` (NULL: expect `error`). */
static int s_inflate_hex(struct wscrt_allocator *allocator, struct wscrt_websocket_inflater *inflater,
                         struct s_sink *sink, const char *hex, const char *expected, int error) {
    struct wscrt_byte_buf bytes;
    wscrt_byte_buf_init(&bytes, allocator, 16);
    s_hex(&bytes, hex);
    wscrt_byte_buf_reset(&sink->output);
    wscrt_reset_error();
    int result = wscrt_websocket_inflater_process(inflater, wscrt_byte_cursor_from_buf(&bytes));
    if (result == WSCRT_OP_SUCCESS) {
        result = wscrt_websocket_inflater_finish_message(inflater);
    }
    int raised = wscrt_last_error();
    wscrt_byte_buf_clean_up(&bytes);
    if (expected) {
        if (result != WSCRT_OP_SUCCESS) {
            WSCRT_FAIL_("%s failed with %s", hex, wscrt_error_name(raised));
        }
        ASSERT_BYTES_EQ(expected, strlen(expected), sink->output.buffer, sink->output.len);
    } else {
        ASSERT_INT_EQ(WSCRT_OP_ERR, result);
        if (raised != error) {
            WSCRT_FAIL_("%s failed with %s, expected %s", hex, wscrt_error_name(raised), wscrt_error_name(error));
        }
    }
    return 0;
}

static int s_test_rfc_examples_inflate(struct wscrt_allocator *allocator) {
    /* RFC 7692 7.2.3.1 (one fixed-Huffman block), 7.2.3.3 (stored block), 7.2.3.4 (BFINAL set),
     * 7.2.3.5 (two blocks, the first sync-flushed), 7.2.3.6 (an empty message). */
    const char *messages[][2] = {
        {"f2 48 cd c9 c9 07 00", "Hello"},
        {"00 05 00 fa ff 48 65 6c 6c 6f 00", "Hello"},
        {"f3 48 cd c9 c9 07 00 00", "Hello"},
        {"f2 48 05 00 00 00 ff ff ca c9 c9 07 00", "Hello"},
        {"00", ""},
        {"", ""},
    };
    for (size_t i = 0; i < sizeof(messages) / sizeof(messages[0]); ++i) {
        struct s_sink sink;
        struct wscrt_websocket_inflater *inflater = s_inflater_new(allocator, &sink, s_params(15, false), 0);
        int failed = s_inflate_hex(allocator, inflater, &sink, messages[i][0], messages[i][1], 0);
        wscrt_websocket_inflater_destroy(inflater);
        wscrt_byte_buf_clean_up(&sink.output);
        if (failed) {
            WSCRT_FAIL_("example %zu", i);
        }
    }
    return 0;
}

static int s_test_every_split_of_a_message_inflates_the_same(struct wscrt_allocator *allocator) {
    struct wscrt_byte_buf bytes;
    wscrt_byte_buf_init(&bytes, allocator, 16);
    s_hex(&bytes, "f2 48 05 00 00 00 ff ff ca c9 c9 07 00");
    for (size_t cut = 0; cut <= bytes.len; ++cut) {
        for (size_t second = cut; second <= bytes.len; ++second) {
            struct s_sink sink;
            struct wscrt_websocket_inflater *inflater = s_inflater_new(allocator, &sink, s_params(15, false), 0);
            struct wscrt_byte_cursor all = wscrt_byte_cursor_from_buf(&bytes);
            ASSERT_SUCCESS(wscrt_websocket_inflater_process(inflater, wscrt_byte_cursor_advance(&all, cut)));
            ASSERT_SUCCESS(wscrt_websocket_inflater_process(inflater, wscrt_byte_cursor_advance(&all, second - cut)));
            ASSERT_SUCCESS(wscrt_websocket_inflater_process(inflater, all));
            ASSERT_SUCCESS(wscrt_websocket_inflater_finish_message(inflater));
            ASSERT_BYTES_EQ("Hello", 5, sink.output.buffer, sink.output.len);
            wscrt_websocket_inflater_destroy(inflater);
            wscrt_byte_buf_clean_up(&sink.output);
        }
    }
    wscrt_byte_buf_clean_up(&bytes);
    return 0;
}

static int s_test_context_takeover_lets_a_message_refer_to_the_previous_one(struct wscrt_allocator *allocator) {
    struct s_sink sink;
    struct wscrt_websocket_inflater *inflater = s_inflater_new(allocator, &sink, s_params(15, false), 0);
    /* RFC 7692 7.2.3.2: the second "Hello" is a back-reference into the first. */
    EXPECT(s_inflate_hex(allocator, inflater, &sink, "f2 48 cd c9 c9 07 00", "Hello", 0));
    EXPECT(s_inflate_hex(allocator, inflater, &sink, "f2 00 11 00 00", "Hello", 0));
    /* A message that ended with a final block keeps the window for the next one. */
    EXPECT(s_inflate_hex(allocator, inflater, &sink, "f3 48 cd c9 c9 07 00 00", "Hello", 0));
    EXPECT(s_inflate_hex(allocator, inflater, &sink, "f2 00 11 00 00", "Hello", 0));
    /* What follows a final block is not read (here: an empty stored block, then noise). */
    EXPECT(s_inflate_hex(allocator, inflater, &sink, "f3 48 cd c9 c9 07 00 00 00 00 ff ff 01 02", "Hello", 0));
    wscrt_websocket_inflater_destroy(inflater);
    wscrt_byte_buf_clean_up(&sink.output);
    return 0;
}

static int s_test_without_context_takeover_state_is_freed_after_each_message(struct wscrt_allocator *allocator) {
    struct s_sink sink;
    size_t before = wscrt_mem_tracer_bytes(allocator);
    struct wscrt_websocket_inflater *inflater = s_inflater_new(allocator, &sink, s_params(15, true), 0);
    /* Lazily allocated: nothing but the struct until the first message. */
    size_t idle = wscrt_mem_tracer_bytes(allocator) - before;
    EXPECT(s_inflate_hex(allocator, inflater, &sink, "f2 48 cd c9 c9 07 00", "Hello", 0));
    ASSERT_TRUE(sink.peak_live_bytes - before > idle + 1024); /* zlib state was live while inflating */
    ASSERT_UINT_EQ(idle, wscrt_mem_tracer_bytes(allocator) - before);
    /* The window is gone: a back-reference into the previous message is invalid data. */
    EXPECT(s_inflate_hex(allocator, inflater, &sink, "f2 00 11 00 00", NULL,
                         WSCRT_ERROR_WEBSOCKET_INVALID_COMPRESSED_DATA));
    wscrt_websocket_inflater_destroy(inflater);
    wscrt_byte_buf_clean_up(&sink.output);
    /* With takeover the state stays between messages. */
    inflater = s_inflater_new(allocator, &sink, s_params(15, false), 0);
    EXPECT(s_inflate_hex(allocator, inflater, &sink, "f2 48 cd c9 c9 07 00", "Hello", 0));
    ASSERT_TRUE(wscrt_mem_tracer_bytes(allocator) - before > idle + 1024);
    wscrt_websocket_inflater_destroy(inflater);
    wscrt_byte_buf_clean_up(&sink.output);
    return 0;
}

static int s_test_invalid_deflate_data_fails_with_invalid_compressed_data(struct wscrt_allocator *allocator) {
    const char *messages[] = {
        "ff",                             /* block type 3 is reserved */
        "00 05 00 fb ff 48 65 6c 6c 6f",  /* stored block whose NLEN is not ~LEN */
        "f2 00 11 00 00",                 /* a back-reference with no earlier message to refer to */
    };
    for (size_t i = 0; i < sizeof(messages) / sizeof(messages[0]); ++i) {
        struct s_sink sink;
        struct wscrt_websocket_inflater *inflater = s_inflater_new(allocator, &sink, s_params(15, false), 0);
        int failed = s_inflate_hex(allocator, inflater, &sink, messages[i], NULL,
                                   WSCRT_ERROR_WEBSOCKET_INVALID_COMPRESSED_DATA);
        /* A failed inflater refuses further use and holds no zlib state. */
        ASSERT_ERROR(WSCRT_ERROR_INVALID_STATE,
                     wscrt_websocket_inflater_process(inflater, wscrt_byte_cursor_from_c_str("x")));
        ASSERT_ERROR(WSCRT_ERROR_INVALID_STATE, wscrt_websocket_inflater_finish_message(inflater));
        wscrt_websocket_inflater_destroy(inflater);
        wscrt_byte_buf_clean_up(&sink.output);
        if (failed) {
            WSCRT_FAIL_("message %zu", i);
        }
    }
    ASSERT_UINT_EQ(1007, wscrt_websocket_deflate_close_status(WSCRT_ERROR_WEBSOCKET_INVALID_COMPRESSED_DATA));
    return 0;
}

static int s_test_cap_allows_exactly_max_message_size_bytes(struct wscrt_allocator *allocator) {
    struct s_sink sink;
    struct wscrt_websocket_inflater *inflater = s_inflater_new(allocator, &sink, s_params(15, false), 5);
    EXPECT(s_inflate_hex(allocator, inflater, &sink, "f2 48 cd c9 c9 07 00", "Hello", 0));
    /* The count is per message. */
    EXPECT(s_inflate_hex(allocator, inflater, &sink, "f2 00 11 00 00", "Hello", 0));
    wscrt_websocket_inflater_destroy(inflater);
    wscrt_byte_buf_clean_up(&sink.output);

    inflater = s_inflater_new(allocator, &sink, s_params(15, false), 4);
    EXPECT(s_inflate_hex(allocator, inflater, &sink, "f2 48 cd c9 c9 07 00", NULL,
                         WSCRT_ERROR_WEBSOCKET_MESSAGE_TOO_BIG));
    ASSERT_BYTES_EQ("Hell", 4, sink.output.buffer, sink.output.len); /* up to the cap, not a byte more */
    wscrt_websocket_inflater_destroy(inflater);
    wscrt_byte_buf_clean_up(&sink.output);
    ASSERT_UINT_EQ(1009, wscrt_websocket_deflate_close_status(WSCRT_ERROR_WEBSOCKET_MESSAGE_TOO_BIG));
    return 0;
}

/* One sync-flushed DEFLATE segment (tail kept) of `len` zero bytes; repeated, it is a valid stream. */
static void s_zeros_segment(struct wscrt_allocator *allocator, size_t len, struct wscrt_byte_buf *out) {
    struct wscrt_websocket_deflater_options options = {.params = s_params(15, true), .compression_level = 9};
    struct wscrt_websocket_deflater *deflater = wscrt_websocket_deflater_new(allocator, &options);
    uint8_t *zeros = wscrt_mem_calloc(allocator, 1, len);
    bool compressed = false;
    wscrt_websocket_deflate_compress_message(deflater, wscrt_byte_cursor_from_array(zeros, len), out, &compressed);
    wscrt_byte_buf_append_dynamic(out, wscrt_byte_cursor_from_array("\x00\x00\xff\xff", 4));
    wscrt_mem_release(allocator, zeros);
    wscrt_websocket_deflater_destroy(deflater);
}

static int s_test_a_bomb_is_refused_at_the_cap_with_memory_near_the_cap(struct wscrt_allocator *allocator) {
    /* 1 MiB of zeros compresses to about 1 KiB; 1024 of them make a 1 GiB message from about 1 MiB. */
    struct wscrt_byte_buf segment;
    wscrt_byte_buf_init(&segment, allocator, 2048);
    s_zeros_segment(allocator, 1 << 20, &segment);
    ASSERT_TRUE(segment.len < 2048);
    size_t before = wscrt_mem_tracer_bytes(allocator);

    struct s_sink sink;
    const uint64_t cap = 16u << 20;
    struct wscrt_websocket_inflater *inflater = s_inflater_new(allocator, &sink, s_params(15, false), cap);
    sink.keep_output = false;
    int result = WSCRT_OP_SUCCESS;
    size_t segments_fed = 0;
    for (; segments_fed < 1024 && result == WSCRT_OP_SUCCESS; ++segments_fed) {
        wscrt_reset_error();
        result = wscrt_websocket_inflater_process(inflater, wscrt_byte_cursor_from_buf(&segment));
    }
    ASSERT_INT_EQ(WSCRT_OP_ERR, result);
    ASSERT_INT_EQ(WSCRT_ERROR_WEBSOCKET_MESSAGE_TOO_BIG, wscrt_last_error());
    /* Stopped at the 17th segment: exactly the cap delivered, nothing past it. */
    ASSERT_UINT_EQ(17, segments_fed);
    ASSERT_UINT_EQ(cap, sink.delivered);
    ASSERT_TRUE(sink.largest_chunk <= WSCRT_WEBSOCKET_INFLATE_CHUNK_SIZE);
    /* zlib's inflate state and 32 KiB window, not the message: well under 64 KiB live at any time. */
    size_t peak = sink.peak_live_bytes - before;
    if (peak > 64 * 1024) {
        WSCRT_FAIL_("%zu bytes live while inflating", peak);
    }
    wscrt_websocket_inflater_destroy(inflater);
    wscrt_byte_buf_clean_up(&sink.output);
    wscrt_byte_buf_clean_up(&segment);
    return 0;
}

static int s_test_output_callback_failure_stops_with_its_error(struct wscrt_allocator *allocator) {
    struct wscrt_byte_buf segment;
    wscrt_byte_buf_init(&segment, allocator, 2048);
    s_zeros_segment(allocator, 100000, &segment);
    struct s_sink sink;
    struct wscrt_websocket_inflater *inflater = s_inflater_new(allocator, &sink, s_params(15, false), 0);
    sink.fail_at_call = 2;
    ASSERT_ERROR(WSCRT_ERROR_CALLBACK_EXCEPTION,
                 wscrt_websocket_inflater_process(inflater, wscrt_byte_cursor_from_buf(&segment)));
    ASSERT_UINT_EQ(2, sink.calls);
    ASSERT_ERROR(WSCRT_ERROR_INVALID_STATE, wscrt_websocket_inflater_finish_message(inflater));
    wscrt_websocket_inflater_destroy(inflater);
    wscrt_byte_buf_clean_up(&sink.output);
    wscrt_byte_buf_clean_up(&segment);
    return 0;
}

static int s_test_inflater_options_are_checked(struct wscrt_allocator *allocator) {
    struct wscrt_websocket_inflater_options options = {.params = s_params(15, false)};
    wscrt_reset_error();
    ASSERT_TRUE(wscrt_websocket_inflater_new(allocator, &options) == NULL); /* no on_output */
    ASSERT_INT_EQ(WSCRT_ERROR_INVALID_ARGUMENT, wscrt_last_error());
    options.on_output = s_on_output;
    options.params.server_max_window_bits = 16;
    ASSERT_TRUE(wscrt_websocket_inflater_new(allocator, &options) == NULL);
    options.params.server_max_window_bits = 7;
    ASSERT_TRUE(wscrt_websocket_inflater_new(allocator, &options) == NULL);
    /* 8 is legal (inflated with a 32 KiB window, as every window is). */
    options.params.server_max_window_bits = 8;
    struct s_sink sink;
    memset(&sink, 0, sizeof(sink));
    sink.allocator = allocator;
    sink.keep_output = true;
    wscrt_byte_buf_init(&sink.output, allocator, 8);
    options.user_data = &sink;
    struct wscrt_websocket_inflater *inflater = wscrt_websocket_inflater_new(allocator, &options);
    ASSERT_TRUE(inflater != NULL);
    EXPECT(s_inflate_hex(allocator, inflater, &sink, "f2 48 cd c9 c9 07 00", "Hello", 0));
    wscrt_websocket_inflater_destroy(inflater);
    wscrt_byte_buf_clean_up(&sink.output);
    wscrt_websocket_inflater_destroy(NULL);
    return 0;
}

/* ---- sending: the deflater ---- */

static struct wscrt_websocket_deflater *s_deflater_new(struct wscrt_allocator *allocator,
                                                       struct wscrt_websocket_deflate_params params,
                                                       size_t threshold) {
    struct wscrt_websocket_deflater_options options = {.params = params, .compression_threshold = threshold};
    return wscrt_websocket_deflater_new(allocator, &options);
}

/* Compresses `text`; expects `hex` out (NULL: expects it to be sent uncompressed, nothing appended). */
static int s_expect_compressed(struct wscrt_allocator *allocator, struct wscrt_websocket_deflater *deflater,
                               const char *text, const char *hex) {
    struct wscrt_byte_buf out;
    struct wscrt_byte_buf expected;
    wscrt_byte_buf_init(&out, allocator, 4);
    wscrt_byte_buf_init(&expected, allocator, 4);
    wscrt_byte_buf_append_dynamic(&out, wscrt_byte_cursor_from_c_str(">"));
    s_hex(&expected, hex ? hex : "");
    bool compressed = !hex;
    int result = wscrt_websocket_deflate_compress_message(deflater, wscrt_byte_cursor_from_c_str(text), &out,
                                                          &compressed);
    bool same = out.len == expected.len + 1 && memcmp(out.buffer + 1, expected.buffer, expected.len) == 0;
    if (!same) {
        fprintf(stderr, "  compressed to:");
        for (size_t i = 1; i < out.len; ++i) {
            fprintf(stderr, " %02x", out.buffer[i]);
        }
        fprintf(stderr, "\n");
    }
    wscrt_byte_buf_clean_up(&out);
    wscrt_byte_buf_clean_up(&expected);
    ASSERT_SUCCESS(result);
    ASSERT_INT_EQ(hex != NULL, compressed);
    ASSERT_TRUE(same);
    return 0;
}

static int s_test_compressed_hello_matches_the_rfc_without_the_tail(struct wscrt_allocator *allocator) {
    /* RFC 7692 7.2.3.1 and 7.2.3.2: with context takeover the second "Hello" refers to the first. */
    struct wscrt_websocket_deflater *deflater = s_deflater_new(allocator, s_params(15, false), 0);
    EXPECT(s_expect_compressed(allocator, deflater, "Hello", "f2 48 cd c9 c9 07 00"));
    EXPECT(s_expect_compressed(allocator, deflater, "Hello", "f2 00 11 00 00"));
    wscrt_websocket_deflater_destroy(deflater);
    /* RFC 7692 7.2.3.6: an empty message compresses to a single 0x00, first or after others. */
    deflater = s_deflater_new(allocator, s_params(15, false), 0);
    EXPECT(s_expect_compressed(allocator, deflater, "", "00"));
    EXPECT(s_expect_compressed(allocator, deflater, "Hello", "f2 48 cd c9 c9 07 00"));
    EXPECT(s_expect_compressed(allocator, deflater, "", "00"));
    EXPECT(s_expect_compressed(allocator, deflater, "Hello", "f2 00 11 00 00"));
    wscrt_websocket_deflater_destroy(deflater);
    return 0;
}

/* "Hello Hello Hello Hello" compressed on its own: "Hello " then one back-reference of length 17, distance 6. */
#define S_HELLO_4 "Hello Hello Hello Hello"
#define S_HELLO_4_DEFLATED "f2 48 cd c9 c9 57 f0 40 27 01 00"

static int s_test_without_context_takeover_each_message_stands_alone(struct wscrt_allocator *allocator) {
    size_t before = wscrt_mem_tracer_bytes(allocator);
    struct wscrt_websocket_deflater *deflater = s_deflater_new(allocator, s_params(15, true), 0);
    size_t idle = wscrt_mem_tracer_bytes(allocator) - before;
    ASSERT_TRUE(idle < 512); /* lazily allocated */
    EXPECT(s_expect_compressed(allocator, deflater, S_HELLO_4, S_HELLO_4_DEFLATED));
    ASSERT_UINT_EQ(idle, wscrt_mem_tracer_bytes(allocator) - before); /* freed after the message */
    EXPECT(s_expect_compressed(allocator, deflater, S_HELLO_4, S_HELLO_4_DEFLATED));
    /* Standing alone, a message DEFLATE cannot shrink is sent as it is (7 bytes for "Hello"). */
    EXPECT(s_expect_compressed(allocator, deflater, "Hello", NULL));
    ASSERT_UINT_EQ(idle, wscrt_mem_tracer_bytes(allocator) - before);
    wscrt_websocket_deflater_destroy(deflater);
    /* With takeover the compressor keeps its window (and memory) between messages. */
    deflater = s_deflater_new(allocator, s_params(15, false), 0);
    EXPECT(s_expect_compressed(allocator, deflater, "Hello", "f2 48 cd c9 c9 07 00"));
    ASSERT_TRUE(wscrt_mem_tracer_bytes(allocator) - before > idle + 1024);
    wscrt_websocket_deflater_destroy(deflater);
    return 0;
}

static int s_test_messages_below_the_threshold_go_uncompressed(struct wscrt_allocator *allocator) {
    struct wscrt_websocket_deflater *deflater = s_deflater_new(allocator, s_params(15, false), 6);
    EXPECT(s_expect_compressed(allocator, deflater, "Hello", NULL));
    EXPECT(s_expect_compressed(allocator, deflater, "", NULL));
    /* Uncompressed messages never entered the window: the first compressed one starts afresh. */
    EXPECT(s_expect_compressed(allocator, deflater, "Hello!", "f2 48 cd c9 c9 57 04 00"));
    wscrt_websocket_deflater_destroy(deflater);
    return 0;
}

static int s_test_an_8_bit_client_window_sends_everything_uncompressed(struct wscrt_allocator *allocator) {
    struct wscrt_websocket_deflater *deflater = s_deflater_new(allocator, s_params(8, false), 0);
    EXPECT(s_expect_compressed(allocator, deflater, "Hello Hello Hello Hello", NULL));
    wscrt_websocket_deflater_destroy(deflater);
    return 0;
}

static int s_test_deflater_options_are_checked(struct wscrt_allocator *allocator) {
    struct wscrt_websocket_deflater_options options = {.params = s_params(7, false)};
    ASSERT_TRUE(wscrt_websocket_deflater_new(allocator, &options) == NULL);
    options.params = s_params(16, false);
    ASSERT_TRUE(wscrt_websocket_deflater_new(allocator, &options) == NULL);
    options.params = s_params(15, false);
    options.compression_level = 10;
    ASSERT_TRUE(wscrt_websocket_deflater_new(allocator, &options) == NULL);
    options.compression_level = 1;
    options.mem_level = 10;
    wscrt_reset_error();
    ASSERT_TRUE(wscrt_websocket_deflater_new(allocator, &options) == NULL);
    ASSERT_INT_EQ(WSCRT_ERROR_INVALID_ARGUMENT, wscrt_last_error());
    wscrt_websocket_deflater_destroy(NULL);
    return 0;
}

/* Random messages through deflater and inflater, in random pieces, for every window and both takeover modes. */
static int s_test_round_trip_keeps_every_byte(struct wscrt_allocator *allocator) {
    srand(7);
    struct wscrt_byte_buf message;
    struct wscrt_byte_buf wire;
    wscrt_byte_buf_init(&message, allocator, 1 << 16);
    wscrt_byte_buf_init(&wire, allocator, 1 << 16);
    for (uint8_t bits = 9; bits <= 15; ++bits) {
        for (int takeover = 0; takeover < 2; ++takeover) {
            struct wscrt_websocket_deflate_params params = s_params(bits, takeover == 0);
            struct wscrt_websocket_deflater *deflater = s_deflater_new(allocator, params, 0);
            struct s_sink sink;
            struct wscrt_websocket_inflater *inflater = s_inflater_new(allocator, &sink, params, 1 << 16);
            for (int round = 0; round < 12; ++round) {
                /* Text-like repetitive bytes, sometimes noise, up to 40 KB (several output chunks). */
                size_t len = (size_t)(rand() % (round % 4 == 0 ? 40000 : 300));
                wscrt_byte_buf_reset(&message);
                for (size_t i = 0; i < len; ++i) {
                    uint8_t byte = round % 3 == 0 ? (uint8_t)rand() : (uint8_t)("abcab cabd "[rand() % 11]);
                    wscrt_byte_buf_append_byte_dynamic(&message, byte);
                }
                wscrt_byte_buf_reset(&wire);
                bool compressed = false;
                ASSERT_SUCCESS(wscrt_websocket_deflate_compress_message(
                    deflater, wscrt_byte_cursor_from_buf(&message), &wire, &compressed));
                wscrt_byte_buf_reset(&sink.output);
                if (!compressed) {
                    ASSERT_TRUE(takeover == 0); /* with takeover every message is compressed */
                    continue;
                }
                struct wscrt_byte_cursor in = wscrt_byte_cursor_from_buf(&wire);
                while (in.len > 0) {
                    size_t piece = 1 + (size_t)rand() % (in.len < 700 ? in.len : 700);
                    ASSERT_SUCCESS(wscrt_websocket_inflater_process(inflater, wscrt_byte_cursor_advance(&in, piece)));
                }
                ASSERT_SUCCESS(wscrt_websocket_inflater_finish_message(inflater));
                ASSERT_BYTES_EQ(message.buffer, message.len, sink.output.buffer, sink.output.len);
            }
            wscrt_websocket_deflater_destroy(deflater);
            wscrt_websocket_inflater_destroy(inflater);
            wscrt_byte_buf_clean_up(&sink.output);
        }
    }
    wscrt_byte_buf_clean_up(&message);
    wscrt_byte_buf_clean_up(&wire);
    return 0;
}

WSCRT_TEST_MAIN(s_test_rfc_examples_inflate,
                s_test_every_split_of_a_message_inflates_the_same,
                s_test_context_takeover_lets_a_message_refer_to_the_previous_one,
                s_test_without_context_takeover_state_is_freed_after_each_message,
                s_test_invalid_deflate_data_fails_with_invalid_compressed_data,
                s_test_cap_allows_exactly_max_message_size_bytes,
                s_test_a_bomb_is_refused_at_the_cap_with_memory_near_the_cap,
                s_test_output_callback_failure_stops_with_its_error,
                s_test_inflater_options_are_checked,
                s_test_compressed_hello_matches_the_rfc_without_the_tail,
                s_test_without_context_takeover_each_message_stands_alone,
                s_test_messages_below_the_threshold_go_uncompressed,
                s_test_an_8_bit_client_window_sends_everything_uncompressed,
                s_test_deflater_options_are_checked,
                s_test_round_trip_keeps_every_byte)
