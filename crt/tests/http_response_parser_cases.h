#ifndef WSCRT_TESTS_HTTP_RESPONSE_PARSER_CASES_H
#define WSCRT_TESTS_HTTP_RESPONSE_PARSER_CASES_H
/*
 * Shared by http_response_parser_head_test.c and http_response_parser_body_test.c:
 * s_parse parses an input in one piece, byte by byte, and split in two at every
 * position, and fails unless all end the same way (same error, or same status,
 * headers, body and number of bytes consumed); s_expect_response and
 * s_expect_failure check how it ended; the table row format (s_response_case)
 * and s_check_cases, which runs every row as one case of the harness.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/allocator.h"
#include "common/byte_buf.h"
#include "common/error.h"
#include "http/http_response_parser.h"
#include "test_harness.h"

#define EXPECT(call) ASSERT_INT_EQ(0, (call))

/* ---- parsing every way ---- */

struct s_result {
    int result;
    int error;
    size_t consumed;
    struct wscrt_byte_buf summary; /* "complete status\nname: value\n...\nbody" */
};

static inline void s_summarize(struct wscrt_http_response_parser *parser, struct wscrt_byte_buf *summary) {
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
static inline void s_parse_split(struct wscrt_allocator *allocator, struct wscrt_http_response_parser *parser,
                                 const struct wscrt_http_response_parser_options *options,
                                 struct wscrt_byte_cursor input, size_t cut, bool eof, struct s_result *result) {
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

static inline bool s_same_result(const struct s_result *a, const struct s_result *b) {
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
static inline int s_parse(struct wscrt_allocator *allocator, struct wscrt_http_response_parser *parser,
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

static inline void s_done(struct wscrt_http_response_parser *parser, struct s_result *result) {
    wscrt_byte_buf_clean_up(&result->summary);
    wscrt_http_response_parser_clean_up(parser);
}

/* Parses and expects success with the summary given ("complete status" line,
 * "name: value" lines, "body:..."), and `consumed` bytes taken. */
static inline int s_expect_response(struct wscrt_allocator *allocator, const struct s_parse_case *parse_case,
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

static inline int s_expect_failure(struct wscrt_allocator *allocator, const struct s_parse_case *parse_case,
                                   int error) {
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

/* A server's 101 to a WebSocket upgrade, and its summary. */
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

/* ---- the table's rows: one response each, and how it must end ---- */

#define INVALID WSCRT_ERROR_HTTP_INVALID_RESPONSE
#define TOO_LARGE WSCRT_ERROR_HTTP_HEADER_BLOCK_TOO_LARGE
#define BODY_TOO_LARGE WSCRT_ERROR_HTTP_BODY_TOO_LARGE
#define CLOSED WSCRT_ERROR_HTTP_CONNECTION_CLOSED

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

static inline int s_check_case(struct wscrt_allocator *allocator, const struct s_response_case *c) {
    struct s_parse_case parse_case = {.input = c->input, .input_len = c->input_len, .options = c->options,
                                      .eof = c->eof};
    if (c->error) {
        return s_expect_failure(allocator, &parse_case, c->error);
    }
    size_t len = c->input_len ? c->input_len : strlen(c->input);
    return s_expect_response(allocator, &parse_case, c->summary, len - c->rest);
}

/* Every row of `cases` as one case of the harness; returns how many failed. */
static inline int s_check_cases(struct wscrt_allocator *allocator, const struct s_response_case *cases,
                                size_t count) {
    int failures = 0;
    for (size_t i = 0; i < count; ++i) {
        failures += WSCRT_CASE(cases[i].name, s_check_case(allocator, &cases[i]));
    }
    return failures;
}

#endif
