/*
 * Response parser tests. Every input is parsed in one piece, byte by byte, and
 * split in two at every position; all must end the same way (same error, or
 * same status, headers, body and number of bytes consumed).
 */
#include "common/allocator.h"
#include "common/byte_buf.h"
#include "common/error.h"
#include "http/http_response_parser.h"
#include "test_harness.h"

#define EXPECT(call) ASSERT_INT_EQ(0, (call))

struct s_result {
    int result;
    int error;
    size_t consumed;
    struct wscrt_byte_buf summary; /* "complete status\nname: value\n...\nbody" */
};

static void s_summarize(struct wscrt_http_response_parser *parser, struct wscrt_byte_buf *summary) {
    char line[64];
    snprintf(line, sizeof(line), "%d %d %d\n", parser->headers_complete, parser->complete, parser->status);
    wscrt_byte_buf_append_dynamic(summary, wscrt_byte_cursor_from_c_str(line));
    for (size_t i = 0; i < wscrt_http_response_parser_header_count(parser); ++i) {
        struct wscrt_http_header header;
        wscrt_http_response_parser_get_header(parser, i, &header);
        if (header.name.len) {
            wscrt_byte_buf_append_dynamic(summary, header.name);
        }
        wscrt_byte_buf_append_dynamic(summary, wscrt_byte_cursor_from_c_str(": "));
        if (header.value.len) {
            wscrt_byte_buf_append_dynamic(summary, header.value);
        }
        wscrt_byte_buf_append_dynamic(summary, wscrt_byte_cursor_from_c_str("\n"));
    }
    struct wscrt_byte_cursor body = wscrt_http_response_parser_body(parser);
    wscrt_byte_buf_append_dynamic(summary, wscrt_byte_cursor_from_c_str("body:"));
    if (body.len) {
        wscrt_byte_buf_append_dynamic(summary, body);
    }
}

/* Parses input cut at `cut` (0 = no cut, SIZE_MAX = byte by byte). The
 * parser is left initialized for the caller to inspect and clean up. */
static void s_parse_split(struct wscrt_allocator *allocator, struct wscrt_http_response_parser *parser,
                          const struct wscrt_http_response_parser_options *options, struct wscrt_byte_cursor input,
                          size_t cut, bool eof, struct s_result *result) {
    wscrt_http_response_parser_init(parser, allocator, options);
    result->result = WSCRT_OP_SUCCESS;
    result->error = 0;
    size_t start = 0;
    while (start < input.len || (start == 0 && input.len == 0)) {
        size_t end = cut == SIZE_MAX ? start + 1 : (cut > start ? cut : input.len);
        if (end > input.len) {
            end = input.len;
        }
        struct wscrt_byte_cursor piece = wscrt_byte_cursor_from_array(input.ptr + start, end - start);
        wscrt_reset_error();
        if (wscrt_http_response_parser_process(parser, &piece)) {
            result->result = WSCRT_OP_ERR;
            result->error = wscrt_last_error();
            break;
        }
        start = end - piece.len;
        if (piece.len > 0 || end == input.len) {
            /* Stopped early: the response is complete. */
            break;
        }
    }
    if (result->result == WSCRT_OP_SUCCESS && eof) {
        wscrt_reset_error();
        if (wscrt_http_response_parser_on_eof(parser)) {
            result->result = WSCRT_OP_ERR;
            result->error = wscrt_last_error();
        }
    }
    result->consumed = start;
    wscrt_byte_buf_init(&result->summary, allocator, 128);
    s_summarize(parser, &result->summary);
}

static bool s_same_result(const struct s_result *a, const struct s_result *b) {
    if (a->result != b->result || a->error != b->error) {
        return false;
    }
    if (a->result != WSCRT_OP_SUCCESS) {
        return true;
    }
    return a->consumed == b->consumed && a->summary.len == b->summary.len &&
           memcmp(a->summary.buffer, b->summary.buffer, a->summary.len) == 0;
}

struct s_parse_case {
    const char *input;
    size_t input_len; /* 0 = strlen */
    struct wscrt_http_response_parser_options options;
    bool eof; /* call on_eof after the input */
};

/* Parses the case every way; the one-piece parser is left for inspection. */
static int s_parse(struct wscrt_allocator *allocator, struct wscrt_http_response_parser *parser,
                   const struct s_parse_case *parse_case, struct s_result *result) {
    struct wscrt_byte_cursor input = wscrt_byte_cursor_from_array(
        parse_case->input, parse_case->input_len ? parse_case->input_len : strlen(parse_case->input));
    s_parse_split(allocator, parser, &parse_case->options, input, 0, parse_case->eof, result);
    int differences = 0;
    for (size_t cut = 1; cut <= input.len && differences == 0; ++cut) {
        size_t split_at = cut == input.len ? SIZE_MAX : cut;
        struct wscrt_http_response_parser other;
        struct s_result other_result;
        s_parse_split(allocator, &other, &parse_case->options, input, split_at, parse_case->eof, &other_result);
        if (!s_same_result(result, &other_result)) {
            fprintf(stderr, "  split at %zu differs: %s / %zu consumed vs %s / %zu consumed\n", cut,
                    wscrt_error_name(other_result.error), other_result.consumed, wscrt_error_name(result->error),
                    result->consumed);
            differences++;
        }
        wscrt_byte_buf_clean_up(&other_result.summary);
        wscrt_http_response_parser_clean_up(&other);
    }
    ASSERT_INT_EQ(0, differences);
    return 0;
}

static void s_done(struct wscrt_http_response_parser *parser, struct s_result *result) {
    wscrt_byte_buf_clean_up(&result->summary);
    wscrt_http_response_parser_clean_up(parser);
}

/* Parses and expects success with the summary given ("complete status" line,
 * "name: value" lines, "body:..."), and `consumed` bytes taken. */
static int s_expect_response(struct wscrt_allocator *allocator, const struct s_parse_case *parse_case,
                             const char *expected_summary, size_t expected_consumed) {
    struct wscrt_http_response_parser parser;
    struct s_result result;
    int failed = s_parse(allocator, &parser, parse_case, &result);
    if (!failed && result.result != WSCRT_OP_SUCCESS) {
        fprintf(stderr, "  parse failed with %s\n", wscrt_error_name(result.error));
        failed = 1;
    }
    if (!failed && (result.summary.len != strlen(expected_summary) ||
                    memcmp(result.summary.buffer, expected_summary, result.summary.len) != 0)) {
        fprintf(stderr, "  got:\n%.*s\n  expected:\n%s\n", (int)result.summary.len, (const char *)result.summary.buffer,
                expected_summary);
        failed = 1;
    }
    if (!failed && expected_consumed != result.consumed) {
        fprintf(stderr, "  consumed %zu bytes, expected %zu\n", result.consumed, expected_consumed);
        failed = 1;
    }
    s_done(&parser, &result);
    ASSERT_INT_EQ(0, failed);
    return 0;
}

static int s_expect_failure(struct wscrt_allocator *allocator, const struct s_parse_case *parse_case, int error) {
    struct wscrt_http_response_parser parser;
    struct s_result result;
    int failed = s_parse(allocator, &parser, parse_case, &result);
    if (!failed && (result.result != WSCRT_OP_ERR || result.error != error)) {
        fprintf(stderr, "  got %s, expected %s for: %s\n", wscrt_error_name(result.error), wscrt_error_name(error),
                parse_case->input);
        failed = 1;
    }
    s_done(&parser, &result);
    ASSERT_INT_EQ(0, failed);
    return 0;
}

#define S_101                                                                                                          \
    "HTTP/1.1 101 Switching Protocols\r\n"                                                                             \
    "Upgrade: websocket\r\n"                                                                                           \
    "Connection: Upgrade\r\n"                                                                                          \
    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"                                                           \
    "\r\n"

#define S_101_SUMMARY                                                                                                  \
    "1 1 101\n"                                                                                                        \
    "Upgrade: websocket\n"                                                                                             \
    "Connection: Upgrade\n"                                                                                            \
    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\n"                                                             \
    "body:"

/* ---- the table: one response each, and how it must end ---- */

#define INVALID WSCRT_ERROR_HTTP_INVALID_RESPONSE
#define TOO_LARGE WSCRT_ERROR_HTTP_HEADER_BLOCK_TOO_LARGE
#define BODY_TOO_LARGE WSCRT_ERROR_HTTP_BODY_TOO_LARGE
#define CLOSED WSCRT_ERROR_HTTP_CONNECTION_CLOSED
#define CHUNKED_500 "HTTP/1.1 500 E\r\nTransfer-Encoding: chunked\r\n\r\n"
#define NUL_IN_VALUE "HTTP/1.1 101 OK\r\nX: nul\0inside\r\n\r\n"

struct s_response_case {
    const char *name;
    const char *input;
    size_t input_len; /* 0: strlen(input) */
    struct wscrt_http_response_parser_options options;
    bool eof;            /* the connection closes after the input */
    int error;           /* 0: the response parses */
    const char *summary; /* when it parses: "headers_complete complete status", "name: value" lines, "body:..." */
    size_t rest;         /* when it parses: bytes of the input left after the response */
};

static const struct s_response_case s_cases[] = {
    /* status line and headers */
    {"a 101 gives its status and headers", S_101, .summary = S_101_SUMMARY},
    {"HTTP/1.0 is accepted", "HTTP/1.0 101 Switching Protocols\r\n\r\n", .summary = "1 1 101\nbody:"},
    {"a missing reason phrase is accepted", "HTTP/1.1 101\r\n\r\n", .summary = "1 1 101\nbody:"},
    {"an empty reason phrase is accepted", "HTTP/1.1 101 \r\n\r\n", .summary = "1 1 101\nbody:"},
    {"bare LF line endings are accepted", "HTTP/1.1 101 OK\nUpgrade: websocket\n\n",
     .summary = "1 1 101\nUpgrade: websocket\nbody:"},
    {"header values are trimmed of OWS, inner spaces kept",
     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: \t websocket \t\r\nConnection:Upgrade\r\nX-Empty:\r\n"
     "X-Spaces:    \r\nX-Inner: a  b\r\n\r\n",
     .summary = "1 1 101\nUpgrade: websocket\nConnection: Upgrade\nX-Empty: \nX-Spaces: \nX-Inner: a  b\nbody:"},
    {"interim 1xx responses are skipped",
     "HTTP/1.1 100 Continue\r\nX-Interim: 1\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n" S_101 "rest",
     .summary = S_101_SUMMARY, .rest = 4},
    {"header values may hold obs-text and tabs", "HTTP/1.1 101 OK\r\nX-Text: caf\xc3\xa9\tbar\r\n\r\n",
     .summary = "1 1 101\nX-Text: caf\xc3\xa9\tbar\nbody:"},

    /* not HTTP: fails at the first wrong byte */
    {"an SSH banner is not HTTP", "SSH-2.0-OpenSSH_9.2\r\n", .error = INVALID},
    {"a TLS ClientHello is not HTTP", "\x16\x03\x01\x02\x00", .error = INVALID},
    {"a request line is not a response", "GET / HTTP/1.1\r\n", .error = INVALID},
    {"HTTP/2 is refused", "HTTP/2 200\r\n", .error = INVALID},
    {"HTTP/1.2 is refused", "HTTP/1.2 101\r\n", .error = INVALID},
    {"a lowercase protocol name is refused", "http/1.1 101\r\n", .error = INVALID},
    {"a letter in the status code is refused", "HTTP/1.1 1O1\r\n", .error = INVALID},
    {"two spaces before the status code are refused", "HTTP/1.1  101\r\n", .error = INVALID},
    {"text glued to the status code is refused", "HTTP/1.1 101X\r\n", .error = INVALID},
    {"an empty line before the status line is refused", "\r\nHTTP/1.1 101\r\n\r\n", .error = INVALID},
    {"a space before the status line is refused", " HTTP/1.1 101\r\n\r\n", .error = INVALID},

    /* malformed status lines and header lines */
    {"a status line without a code fails", "HTTP/1.1\r\n\r\n", .error = INVALID},
    {"a two-digit status fails", "HTTP/1.1 10\r\n\r\n", .error = INVALID},
    {"a status below 100 fails", "HTTP/1.1 099 Low\r\n\r\n", .error = INVALID},
    {"a status of 600 fails", "HTTP/1.1 600 High\r\n\r\n", .error = INVALID},
    {"a control byte in the reason fails", "HTTP/1.1 101 Bad\x01reason\r\n\r\n", .error = INVALID},
    {"a bare CR in the reason fails", "HTTP/1.1 101 A\rB\r\n\r\n", .error = INVALID},
    {"a header line without a colon fails", "HTTP/1.1 101 OK\r\nNoColon\r\n\r\n", .error = INVALID},
    {"an empty header name fails", "HTTP/1.1 101 OK\r\n: empty name\r\n\r\n", .error = INVALID},
    {"a space inside a header name fails", "HTTP/1.1 101 OK\r\nSpace Before : x\r\n\r\n", .error = INVALID},
    {"a space between name and colon fails", "HTTP/1.1 101 OK\r\nName : x\r\n\r\n", .error = INVALID},
    {"a separator in a header name fails", "HTTP/1.1 101 OK\r\nBad(Name): x\r\n\r\n", .error = INVALID},
    {"a NUL in a header value fails", NUL_IN_VALUE, sizeof(NUL_IN_VALUE) - 1, .error = INVALID},
    {"a bare CR in a header value fails", "HTTP/1.1 101 OK\r\nX: bare\rcr\r\n\r\n", .error = INVALID},
    {"DEL in a header value fails", "HTTP/1.1 101 OK\r\nX: del\x7f\r\n\r\n", .error = INVALID},
    {"an obs-fold line (space) is refused", "HTTP/1.1 101 OK\r\nX-Long: a\r\n b\r\n\r\n", .error = INVALID},
    {"an obs-fold line (tab) is refused", "HTTP/1.1 101 OK\r\nX-Long: a\r\n\tb\r\n\r\n", .error = INVALID},
    {"a first header line starting with a space is refused", "HTTP/1.1 101 OK\r\n Leading: space\r\n\r\n",
     .error = INVALID},

    /* limits: the header block counts the status line and the headers (17 + 20 + 2 = 39 bytes here) */
    {"a header block of exactly the limit parses", "HTTP/1.1 101 OK\r\nUpgrade: websocket\r\n\r\n",
     .options = {.max_header_bytes = 39}, .summary = "1 1 101\nUpgrade: websocket\nbody:"},
    {"a header block one byte over the limit fails", "HTTP/1.1 101 OK\r\nUpgrade: websocket\r\n\r\n",
     .options = {.max_header_bytes = 38}, .error = TOO_LARGE},
    {"a status line alone can exceed the limit", "HTTP/1.1 101 OK\r\nUpgrade: websocket\r\n\r\n",
     .options = {.max_header_bytes = 10}, .error = TOO_LARGE},
    {"interim responses count against the header limit",
     "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 101 OK\r\n\r\n",
     .options = {.max_header_bytes = 60}, .error = TOO_LARGE},

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

static int s_check_case(struct wscrt_allocator *allocator, const struct s_response_case *c) {
    struct s_parse_case parse_case = {.input = c->input, .input_len = c->input_len, .options = c->options,
                                      .eof = c->eof};
    if (c->error) {
        return s_expect_failure(allocator, &parse_case, c->error);
    }
    size_t len = c->input_len ? c->input_len : strlen(c->input);
    return s_expect_response(allocator, &parse_case, c->summary, len - c->rest);
}

static int s_test_each_response_ends_as_its_row_says(struct wscrt_allocator *allocator) {
    int failures = 0;
    for (size_t i = 0; i < sizeof(s_cases) / sizeof(s_cases[0]); ++i) {
        failures += WSCRT_CASE(s_cases[i].name, s_check_case(allocator, &s_cases[i]));
    }
    return failures;
}

/* ---- what a row cannot say ---- */

/* A single wrong first byte is enough: no waiting for a line end or 64 KiB. */
static int s_test_one_wrong_first_byte_fails_at_once(struct wscrt_allocator *allocator) {
    struct wscrt_http_response_parser parser;
    ASSERT_SUCCESS(wscrt_http_response_parser_init(&parser, allocator, NULL));
    struct wscrt_byte_cursor data = wscrt_byte_cursor_from_c_str("<");
    ASSERT_ERROR(WSCRT_ERROR_HTTP_INVALID_RESPONSE, wscrt_http_response_parser_process(&parser, &data));
    wscrt_http_response_parser_clean_up(&parser);
    return 0;
}

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

static int s_test_find_header_ignores_case_and_returns_the_first(struct wscrt_allocator *allocator) {
    struct wscrt_http_response_parser parser;
    ASSERT_SUCCESS(wscrt_http_response_parser_init(&parser, allocator, NULL));
    struct wscrt_byte_cursor data = wscrt_byte_cursor_from_c_str("HTTP/1.1 101 Switching Protocols\r\n"
                                                                 "Connection: keep-alive\r\n"
                                                                 "CONNECTION: Upgrade\r\n"
                                                                 "\r\n");
    ASSERT_SUCCESS(wscrt_http_response_parser_process(&parser, &data));
    struct wscrt_byte_cursor value;
    ASSERT_TRUE(wscrt_http_response_parser_find_header(&parser, "connection", &value));
    ASSERT_BYTES_EQ("keep-alive", 10, value.ptr, value.len);
    ASSERT_FALSE(wscrt_http_response_parser_find_header(&parser, "Upgrade", &value));
    ASSERT_UINT_EQ(2, wscrt_http_response_parser_header_count(&parser));
    struct wscrt_http_header header;
    ASSERT_ERROR(WSCRT_ERROR_INVALID_ARGUMENT, wscrt_http_response_parser_get_header(&parser, 2, &header));
    wscrt_http_response_parser_clean_up(&parser);
    return 0;
}

static int s_test_many_headers_are_all_kept(struct wscrt_allocator *allocator) {
    struct wscrt_byte_buf input;
    struct wscrt_byte_buf summary;
    wscrt_byte_buf_init(&input, allocator, 4096);
    wscrt_byte_buf_init(&summary, allocator, 4096);
    wscrt_byte_buf_append_dynamic(&input, wscrt_byte_cursor_from_c_str("HTTP/1.1 101 OK\r\n"));
    wscrt_byte_buf_append_dynamic(&summary, wscrt_byte_cursor_from_c_str("1 1 101\n"));
    for (int i = 0; i < 100; ++i) {
        char line[64];
        snprintf(line, sizeof(line), "X-Header-%d: value %d\r\n", i, i * 7);
        wscrt_byte_buf_append_dynamic(&input, wscrt_byte_cursor_from_c_str(line));
        snprintf(line, sizeof(line), "X-Header-%d: value %d\n", i, i * 7);
        wscrt_byte_buf_append_dynamic(&summary, wscrt_byte_cursor_from_c_str(line));
    }
    wscrt_byte_buf_append_dynamic(&input, wscrt_byte_cursor_from_c_str("\r\n"));
    wscrt_byte_buf_append_dynamic(&summary, wscrt_byte_cursor_from_c_str("body:"));
    wscrt_byte_buf_append_byte_dynamic(&summary, 0);
    struct s_parse_case parse_case = {.input = (const char *)input.buffer, .input_len = input.len};
    int failed = s_expect_response(allocator, &parse_case, (const char *)summary.buffer, input.len);
    wscrt_byte_buf_clean_up(&input);
    wscrt_byte_buf_clean_up(&summary);
    ASSERT_INT_EQ(0, failed);
    return 0;
}

static int s_test_default_header_block_limit_is_64_kib(struct wscrt_allocator *allocator) {
    const char *head = "HTTP/1.1 101 OK\r\nX-Big: ";
    const char *tail = "\r\n\r\n";
    size_t limit = 64 * 1024;
    /* Exactly at the limit passes, one byte more fails. */
    for (size_t total = limit; total <= limit + 1; ++total) {
        size_t filler = total - strlen(head) - strlen(tail);
        struct wscrt_byte_buf input;
        wscrt_byte_buf_init(&input, allocator, total);
        wscrt_byte_buf_append(&input, wscrt_byte_cursor_from_c_str(head));
        memset(input.buffer + input.len, 'a', filler);
        input.len += filler;
        wscrt_byte_buf_append(&input, wscrt_byte_cursor_from_c_str(tail));
        struct wscrt_http_response_parser parser;
        ASSERT_SUCCESS(wscrt_http_response_parser_init(&parser, allocator, NULL));
        struct wscrt_byte_cursor data = wscrt_byte_cursor_from_buf(&input);
        wscrt_reset_error();
        int result = wscrt_http_response_parser_process(&parser, &data);
        int error = wscrt_last_error();
        bool complete = parser.complete;
        wscrt_http_response_parser_clean_up(&parser);
        wscrt_byte_buf_clean_up(&input);
        if (total == limit) {
            ASSERT_INT_EQ(WSCRT_OP_SUCCESS, result);
            ASSERT_TRUE(complete);
        } else {
            ASSERT_INT_EQ(WSCRT_OP_ERR, result);
            ASSERT_INT_EQ(WSCRT_ERROR_HTTP_HEADER_BLOCK_TOO_LARGE, error);
        }
    }
    return 0;
}

static int s_test_endless_header_line_fails_at_the_limit_not_later(struct wscrt_allocator *allocator) {
    struct wscrt_http_response_parser parser;
    struct wscrt_http_response_parser_options options = {.max_header_bytes = 100};
    ASSERT_SUCCESS(wscrt_http_response_parser_init(&parser, allocator, &options));
    struct wscrt_byte_cursor data = wscrt_byte_cursor_from_c_str("HTTP/1.1 101 OK\r\nX: ");
    ASSERT_SUCCESS(wscrt_http_response_parser_process(&parser, &data));
    char chunk[50];
    memset(chunk, 'z', sizeof(chunk));
    data = wscrt_byte_cursor_from_array(chunk, sizeof(chunk));
    ASSERT_SUCCESS(wscrt_http_response_parser_process(&parser, &data));
    data = wscrt_byte_cursor_from_array(chunk, sizeof(chunk));
    ASSERT_ERROR(WSCRT_ERROR_HTTP_HEADER_BLOCK_TOO_LARGE, wscrt_http_response_parser_process(&parser, &data));
    /* Nothing is buffered past the limit. */
    ASSERT_TRUE(parser.line.len <= 100);
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

static int s_test_parser_refuses_input_after_an_error(struct wscrt_allocator *allocator) {
    struct wscrt_http_response_parser parser;
    ASSERT_SUCCESS(wscrt_http_response_parser_init(&parser, allocator, NULL));
    struct wscrt_byte_cursor data = wscrt_byte_cursor_from_c_str("XTTP");
    ASSERT_ERROR(WSCRT_ERROR_HTTP_INVALID_RESPONSE, wscrt_http_response_parser_process(&parser, &data));
    data = wscrt_byte_cursor_from_c_str(S_101);
    ASSERT_ERROR(WSCRT_ERROR_INVALID_STATE, wscrt_http_response_parser_process(&parser, &data));
    ASSERT_FALSE(parser.headers_complete);
    wscrt_http_response_parser_clean_up(&parser);
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

/* Fuzz regression: an empty read before any byte (UBSan: memcpy from a NULL line buffer). */
static int s_test_empty_input_on_a_fresh_parser_is_fine(struct wscrt_allocator *allocator) {
    struct wscrt_http_response_parser parser;
    ASSERT_SUCCESS(wscrt_http_response_parser_init(&parser, allocator, NULL));
    struct wscrt_byte_cursor empty = {0};
    ASSERT_SUCCESS(wscrt_http_response_parser_process(&parser, &empty));
    ASSERT_FALSE(parser.headers_complete);
    wscrt_http_response_parser_clean_up(&parser);
    return 0;
}

/* `input` under a header limit of `limit` fails with `expected_error`, whether it arrives whole or byte by byte. */
static int s_check_error_however_split(struct wscrt_allocator *allocator, const char *input, size_t limit,
                                       int expected_error) {
    struct wscrt_http_response_parser_options options = {.max_header_bytes = limit};
    const size_t pieces[] = {strlen(input), 1}; /* whole, then byte by byte */
    for (size_t i = 0; i < 2; ++i) {
        struct wscrt_http_response_parser parser;
        ASSERT_SUCCESS(wscrt_http_response_parser_init(&parser, allocator, &options));
        struct wscrt_byte_cursor all = wscrt_byte_cursor_from_c_str(input);
        int result = WSCRT_OP_SUCCESS;
        while (all.len > 0 && result == WSCRT_OP_SUCCESS) {
            struct wscrt_byte_cursor chunk = wscrt_byte_cursor_advance(&all, pieces[i] < all.len ? pieces[i] : all.len);
            result = wscrt_http_response_parser_process(&parser, &chunk);
        }
        ASSERT_INT_EQ(WSCRT_OP_ERR, result);
        ASSERT_INT_EQ(expected_error, wscrt_last_error());
        wscrt_http_response_parser_clean_up(&parser);
    }
    return 0;
}

/* Fuzz regression (crt/tests/fuzz/regressions/http_response_parser/overlong_garbage_status_line): a non-HTTP
 * status line longer than the header limit is INVALID_RESPONSE however it is split. */
static int s_test_overlong_garbage_is_invalid_response_however_split(struct wscrt_allocator *allocator) {
    return s_check_error_however_split(allocator, "XTTP/1.1 200 OK\r\n", 13, WSCRT_ERROR_HTTP_INVALID_RESPONSE);
}

/* Fuzz regression (regressions/http_response_parser/interim_then_bad_version_at_the_header_limit): a bad byte
 * and the header limit; whichever comes first in the byte stream names the error, however it is split. */
static int s_test_first_of_bad_byte_and_header_limit_wins_however_split(struct wscrt_allocator *allocator) {
    static const char input[] = "HTTP/1.1 100 A\r\n\r\nHTTP/2.1 200 OK\r\n\r\n"; /* the '2' is byte 23 */
    ASSERT_SUCCESS(s_check_error_however_split(allocator, input, 30, WSCRT_ERROR_HTTP_INVALID_RESPONSE));
    ASSERT_SUCCESS(s_check_error_however_split(allocator, input, 20, WSCRT_ERROR_HTTP_HEADER_BLOCK_TOO_LARGE));
    return 0;
}

WSCRT_TEST_MAIN(s_test_each_response_ends_as_its_row_says,
                s_test_one_wrong_first_byte_fails_at_once,
                s_test_bytes_after_101_stay_in_the_cursor,
                s_test_find_header_ignores_case_and_returns_the_first,
                s_test_many_headers_are_all_kept,
                s_test_default_header_block_limit_is_64_kib,
                s_test_endless_header_line_fails_at_the_limit_not_later,
                s_test_chunk_size_line_length_is_bounded,
                s_test_body_without_length_ends_at_eof,
                s_test_parser_refuses_input_after_an_error,
                s_test_mutated_responses_never_misbehave,
                s_test_overlong_garbage_is_invalid_response_however_split,
                s_test_empty_input_on_a_fresh_parser_is_fine,
                s_test_first_of_bad_byte_and_header_limit_wins_however_split)
