/*
 * Response parser tests, the body and where a response ends: statuses without
 * a body (1xx, 204, 304, a 2xx to CONNECT), Content-Length and chunked bodies
 * (extensions, trailers, malformed sizes), bodies read to the close, the body
 * limit, the connection closing part-way, the bytes left in the cursor after a
 * response, and mutated responses that must end in success or a named error
 * within both limits. Every table input is parsed in one piece, byte by byte,
 * and split in two at every position; all must end the same way (same error,
 * or same status, headers, body and number of bytes consumed); see
 * http_response_parser_cases.h. The status line, header lines and the header
 * block limit are in http_response_parser_head_test.c.
 */
#include "http_response_parser_cases.h"

/* ---- the table: one response each, and how it must end ---- */

#define CHUNKED_500 "HTTP/1.1 500 E\r\nTransfer-Encoding: chunked\r\n\r\n"

static const struct s_response_case s_cases[] = {
    /* bodies */
    {"a 204 has no body, whatever Content-Length says", "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nhello",
     .summary = "1 1 204\nContent-Length: 5\nbody:", .rest = 5},
    {"a 304 has no body, even chunked", "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
     .summary = "1 1 304\nTransfer-Encoding: chunked\nbody:", .rest = 5},
    {"a 101 has no body", "HTTP/1.1 101 OK\r\nContent-Length: 5\r\n\r\nhello",
     .summary = "1 1 101\nContent-Length: 5\nbody:", .rest = 5},
    {"the proxy tunnel starts right after a 2xx to CONNECT",
     "HTTP/1.1 200 Connection established\r\nContent-Length: 5\r\n\r\n\x16\x03\x01",
     .options = {.is_connect_response = true}, .summary = "1 1 200\nContent-Length: 5\nbody:", .rest = 3},
    {"a proxy's refusal of CONNECT has a body",
     "HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 2\r\n\r\nnoX",
     .options = {.is_connect_response = true}, .summary = "1 1 407\nContent-Length: 2\nbody:no", .rest = 1},
    {"a Content-Length body is read and the rest left",
     "HTTP/1.1 403 Forbidden\r\nContent-Length: 11\r\n\r\nhello worldNEXT",
     .summary = "1 1 403\nContent-Length: 11\nbody:hello world", .rest = 4},
    {"Content-Length 0 reads no body", "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\nNEXT",
     .summary = "1 1 404\nContent-Length: 0\nbody:", .rest = 4},
    {"repeated equal Content-Lengths are accepted",
     "HTTP/1.1 400 Bad\r\nContent-Length: 3\r\nContent-Length: 3, 3\r\n\r\nabc",
     .summary = "1 1 400\nContent-Length: 3\nContent-Length: 3, 3\nbody:abc"},
    {"Content-Length abc fails", "HTTP/1.1 400 Bad\r\nContent-Length: abc\r\n\r\n", .error = INVALID},
    {"Content-Length -1 fails", "HTTP/1.1 400 Bad\r\nContent-Length: -1\r\n\r\n", .error = INVALID},
    {"Content-Length +1 fails", "HTTP/1.1 400 Bad\r\nContent-Length: +1\r\n\r\n", .error = INVALID},
    {"Content-Length 1 2 fails", "HTTP/1.1 400 Bad\r\nContent-Length: 1 2\r\n\r\n", .error = INVALID},
    {"an empty Content-Length fails", "HTTP/1.1 400 Bad\r\nContent-Length:\r\n\r\n", .error = INVALID},
    {"a hexadecimal Content-Length fails", "HTTP/1.1 400 Bad\r\nContent-Length: 0x10\r\n\r\n", .error = INVALID},
    {"a Content-Length over 64 bits fails", "HTTP/1.1 400 Bad\r\nContent-Length: 99999999999999999999999\r\n\r\n",
     .error = INVALID},
    {"two different Content-Lengths fail", "HTTP/1.1 400 Bad\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
     .error = INVALID},
    {"a Content-Length list of different values fails", "HTTP/1.1 400 Bad\r\nContent-Length: 3, 4\r\n\r\nabcd",
     .error = INVALID},
    {"a Content-Length over the body limit fails before any body byte",
     "HTTP/1.1 500 Err\r\nContent-Length: 11\r\n\r\n", .options = {.max_body_bytes = 10}, .error = BODY_TOO_LARGE},
    {"a body of exactly the limit parses", "HTTP/1.1 500 Err\r\nContent-Length: 10\r\n\r\n0123456789",
     .options = {.max_body_bytes = 10}, .summary = "1 1 500\nContent-Length: 10\nbody:0123456789"},
    {"the default body limit is 1 MiB", "HTTP/1.1 500 Err\r\nContent-Length: 1048577\r\n\r\n",
     .error = BODY_TOO_LARGE},
    {"a chunked body with extensions and trailers is joined",
     "HTTP/1.1 502 Bad Gateway\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;name=value;flag\r\n world\r\n"
     "A \t; spaced\r\n0123456789\r\n0\r\nTrailer-One: 1\r\nTrailer-Two: 2\r\n\r\nNEXT",
     .summary = "1 1 502\nTransfer-Encoding: chunked\nbody:hello world0123456789", .rest = 4},
    {"an empty chunked body parses", "HTTP/1.1 502 Bad\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
     .summary = "1 1 502\nTransfer-Encoding: chunked\nbody:"},
    {"chunk sizes may be uppercase hex with leading zeros, lines may end in bare LF",
     "HTTP/1.1 502 Bad\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n00B\nabcdefghijk\n0\n\n",
     .summary = "1 1 502\nTransfer-Encoding: gzip, Chunked\nbody:abcdefghijk"},
    {"a chunk size that is not hex fails", CHUNKED_500 "zz\r\n", .error = INVALID},
    {"an empty chunk size line fails", CHUNKED_500 "\r\n", .error = INVALID},
    {"a negative chunk size fails", CHUNKED_500 "-1\r\n", .error = INVALID},
    {"text after a chunk size without ';' fails", CHUNKED_500 "5 x\r\n", .error = INVALID},
    {"chunk data longer than its size fails", CHUNKED_500 "3\r\nabcX\r\n", .error = INVALID},
    {"a bare CR after chunk data fails", CHUNKED_500 "3\r\nabc\r\r\n", .error = INVALID},
    {"a chunk size over 64 bits fails", CHUNKED_500 "10000000000000000\r\n", .error = INVALID},
    {"a malformed trailer fails", CHUNKED_500 "0\r\nBad Trailer\r\n\r\n", .error = INVALID},
    {"a folded trailer fails", CHUNKED_500 "0\r\nX: a\r\n folded\r\n\r\n", .error = INVALID},
    {"chunked before another coding fails", "HTTP/1.1 500 E\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
     .error = INVALID},
    {"chunked twice fails", "HTTP/1.1 500 E\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
     .error = INVALID},
    {"an empty Transfer-Encoding fails", "HTTP/1.1 500 E\r\nTransfer-Encoding: \r\n\r\n", .error = INVALID},
    {"a chunk over the body limit fails from its size", CHUNKED_500 "5\r\nhello\r\n6\r\n",
     .options = {.max_body_bytes = 10}, .error = BODY_TOO_LARGE},
    {"the largest chunk size fails the body limit", CHUNKED_500 "FFFFFFFFFFFFFFFF\r\n",
     .options = {.max_body_bytes = 10}, .error = BODY_TOO_LARGE},
    {"trailers count against the header block limit", CHUNKED_500 "0\r\nTrailer: 0123456789abcdef\r\n\r\n",
     .options = {.max_header_bytes = 70}, .error = TOO_LARGE},
    {"a body read to the close over the limit fails", "HTTP/1.1 500 Oops\r\n\r\n0123456789A",
     .options = {.max_body_bytes = 10}, .error = BODY_TOO_LARGE},

    /* the connection closing */
    {"a close before any byte fails with CONNECTION_CLOSED", "", .eof = true, .error = CLOSED},
    {"a close inside the status line fails", "HTTP/1.1 10", .eof = true, .error = CLOSED},
    {"a close inside the headers fails", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n", .eof = true,
     .error = CLOSED},
    {"a close inside a Content-Length body fails", "HTTP/1.1 403 Forbidden\r\nContent-Length: 10\r\n\r\nabc",
     .eof = true, .error = CLOSED},
    {"a close inside a chunk fails", "HTTP/1.1 403 Forbidden\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
     .eof = true, .error = CLOSED},
    {"a close after a complete response is fine", S_101, .eof = true, .summary = S_101_SUMMARY},
};

static int s_test_each_response_ends_as_its_row_says(struct wscrt_allocator *allocator) {
    return s_check_cases(allocator, s_cases, WSCRT_COUNT_OF(s_cases));
}

/* ---- what a row cannot say ---- */

static int s_test_bytes_after_101_stay_in_the_cursor(struct wscrt_allocator *allocator) {
    /* The server's first frame arrives in the same read as the 101. */
    const char input[] = S_101 "\x81\x05Hello";
    struct s_parse_case parse_case = {.input = input, .input_len = sizeof(input) - 1};
    EXPECT(s_expect_response(allocator, &parse_case, S_101_SUMMARY, strlen(S_101)));

    struct wscrt_http_response_parser parser;
    ASSERT_SUCCESS(wscrt_http_response_parser_init(&parser, allocator, NULL));
    struct wscrt_byte_cursor data = wscrt_byte_cursor_from_array(input, sizeof(input) - 1);
    ASSERT_SUCCESS(wscrt_http_response_parser_process(&parser, &data));
    ASSERT_TRUE(parser.complete);
    ASSERT_BYTES_EQ("\x81\x05Hello", 7, data.ptr, data.len);
    /* A complete parser takes nothing more. */
    ASSERT_SUCCESS(wscrt_http_response_parser_process(&parser, &data));
    ASSERT_UINT_EQ(7, data.len);
    wscrt_http_response_parser_clean_up(&parser);
    return 0;
}

static int s_test_chunk_size_line_length_is_bounded(struct wscrt_allocator *allocator) {
    struct wscrt_http_response_parser parser;
    ASSERT_SUCCESS(wscrt_http_response_parser_init(&parser, allocator, NULL));
    struct wscrt_byte_cursor data =
        wscrt_byte_cursor_from_c_str("HTTP/1.1 500 E\r\nTransfer-Encoding: chunked\r\n\r\n1;ext=");
    ASSERT_SUCCESS(wscrt_http_response_parser_process(&parser, &data));
    char filler[1024];
    memset(filler, 'x', sizeof(filler));
    int result = WSCRT_OP_SUCCESS;
    for (int i = 0; i < 8 && result == WSCRT_OP_SUCCESS; ++i) {
        data = wscrt_byte_cursor_from_array(filler, sizeof(filler));
        wscrt_reset_error();
        result = wscrt_http_response_parser_process(&parser, &data);
    }
    ASSERT_INT_EQ(WSCRT_OP_ERR, result);
    ASSERT_INT_EQ(WSCRT_ERROR_HTTP_INVALID_RESPONSE, wscrt_last_error());
    wscrt_http_response_parser_clean_up(&parser);
    return 0;
}

static int s_test_body_without_length_ends_at_eof(struct wscrt_allocator *allocator) {
    struct s_parse_case parse_case = {.input = "HTTP/1.1 500 Oops\r\nServer: x\r\n\r\nsomething broke", .eof = true};
    EXPECT(s_expect_response(allocator, &parse_case, "1 1 500\nServer: x\nbody:something broke",
                             strlen(parse_case.input)));
    /* Before the close it is not complete. */
    struct wscrt_http_response_parser parser;
    ASSERT_SUCCESS(wscrt_http_response_parser_init(&parser, allocator, NULL));
    struct wscrt_byte_cursor data = wscrt_byte_cursor_from_c_str(parse_case.input);
    ASSERT_SUCCESS(wscrt_http_response_parser_process(&parser, &data));
    ASSERT_TRUE(parser.headers_complete);
    ASSERT_FALSE(parser.complete);
    ASSERT_UINT_EQ(0, data.len);
    ASSERT_SUCCESS(wscrt_http_response_parser_on_eof(&parser));
    ASSERT_TRUE(parser.complete);
    wscrt_http_response_parser_clean_up(&parser);
    /* A transfer coding other than chunked also reads to the close. */
    parse_case.input = "HTTP/1.1 500 Oops\r\nTransfer-Encoding: gzip\r\nContent-Length: 2\r\n\r\nabcdef";
    EXPECT(s_expect_response(allocator, &parse_case,
                             "1 1 500\nTransfer-Encoding: gzip\nContent-Length: 2\nbody:abcdef",
                             strlen(parse_case.input)));
    return 0;
}

/* ---- robustness ---- */

static uint64_t s_next_random(uint64_t *state) {
    /* xorshift64*: deterministic, so a failure reproduces. */
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    return *state * 0x2545F4914F6CDD1DULL;
}

/* Mutations of real responses, fed in random pieces with small limits: each
 * must end in success or a named HTTP error, within its memory bounds. */
static int s_test_mutated_responses_never_misbehave(struct wscrt_allocator *allocator) {
    const char *seeds[] = {
        S_101 "\x81\x00",
        "HTTP/1.1 403 Forbidden\r\nContent-Length: 5\r\n\r\nhello",
        "HTTP/1.1 502 Bad\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n0\r\nT: 1\r\n\r\n",
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 500 Oops\r\n\r\nbody",
    };
    uint64_t seed = 0x2545F4914F6CDD1DULL;
    uint8_t input[160];
    for (int round = 0; round < 20000; ++round) {
        const char *base = seeds[round % 4];
        size_t len = strlen(base);
        memcpy(input, base, len);
        int mutations = 1 + (int)(s_next_random(&seed) % 4);
        for (int m = 0; m < mutations; ++m) {
            uint64_t r = s_next_random(&seed);
            size_t at = (size_t)(r % len);
            static const char likely[] = "\r\n :;,0F9\t\x00\x7f\xff-";
            input[at] = (r & 0x10000) ? (uint8_t)(r >> 24) : (uint8_t)likely[(r >> 32) % (sizeof(likely) - 1)];
            if ((r & 0x300000) == 0 && len > 1) {
                len -= 1 + (r >> 40) % (len - 1); /* truncate */
            }
        }
        struct wscrt_http_response_parser_options options = {
            .max_header_bytes = 40 + (size_t)(s_next_random(&seed) % 80),
            .max_body_bytes = (size_t)(s_next_random(&seed) % 12),
            .is_connect_response = (seed & 1) != 0,
        };
        struct wscrt_http_response_parser parser;
        ASSERT_SUCCESS(wscrt_http_response_parser_init(&parser, allocator, &options));
        struct wscrt_byte_cursor rest = wscrt_byte_cursor_from_array(input, len);
        int result = WSCRT_OP_SUCCESS;
        while (rest.len > 0 && result == WSCRT_OP_SUCCESS && !parser.complete) {
            struct wscrt_byte_cursor piece = wscrt_byte_cursor_advance(&rest, 1 + s_next_random(&seed) % rest.len);
            result = wscrt_http_response_parser_process(&parser, &piece);
            if (result == WSCRT_OP_SUCCESS && piece.len > 0) {
                ASSERT_TRUE(parser.complete); /* only a complete response leaves bytes */
            }
        }
        if (result == WSCRT_OP_SUCCESS && !parser.complete) {
            result = wscrt_http_response_parser_on_eof(&parser);
        }
        if (result != WSCRT_OP_SUCCESS) {
            int error = wscrt_last_error();
            ASSERT_TRUE(error == WSCRT_ERROR_HTTP_INVALID_RESPONSE || error == WSCRT_ERROR_HTTP_HEADER_BLOCK_TOO_LARGE ||
                        error == WSCRT_ERROR_HTTP_BODY_TOO_LARGE || error == WSCRT_ERROR_HTTP_CONNECTION_CLOSED);
        } else {
            ASSERT_TRUE(parser.complete);
            ASSERT_TRUE(wscrt_http_response_parser_body(&parser).len <= parser.options.max_body_bytes);
        }
        ASSERT_TRUE(parser.head_bytes <= parser.options.max_header_bytes);
        wscrt_http_response_parser_clean_up(&parser);
    }
    return 0;
}

WSCRT_TEST_MAIN(s_test_each_response_ends_as_its_row_says,
                s_test_bytes_after_101_stay_in_the_cursor,
                s_test_chunk_size_line_length_is_bounded,
                s_test_body_without_length_ends_at_eof,
                s_test_mutated_responses_never_misbehave)
