/*
 * Response parser tests, the head: the status line (what is HTTP and what is
 * not, failing at the first wrong byte), header lines (names, values and their
 * OWS, obs-fold), interim 1xx responses, header lookup, the header block limit,
 * and the state after an error. Every table input is parsed in one piece, byte
 * by byte, and split in two at every position; all must end the same way (same
 * error, or same status, headers, body and number of bytes consumed); see
 * http_response_parser_cases.h. The body, the connection closing and mutated
 * responses are in http_response_parser_body_test.c.
 */
#include "http_response_parser_cases.h"

/* ---- the table: one response each, and how it must end ---- */

#define NUL_IN_VALUE "HTTP/1.1 101 OK\r\nX: nul\0inside\r\n\r\n"

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
};

static int s_test_each_response_ends_as_its_row_says(struct wscrt_allocator *allocator) {
    return s_check_cases(allocator, s_cases, WSCRT_COUNT_OF(s_cases));
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

/* ---- fuzz regressions ---- */

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
                s_test_find_header_ignores_case_and_returns_the_first,
                s_test_many_headers_are_all_kept,
                s_test_default_header_block_limit_is_64_kib,
                s_test_endless_header_line_fails_at_the_limit_not_later,
                s_test_parser_refuses_input_after_an_error,
                s_test_overlong_garbage_is_invalid_response_however_split,
                s_test_empty_input_on_a_fresh_parser_is_fine,
                s_test_first_of_bad_byte_and_header_limit_wins_however_split)
