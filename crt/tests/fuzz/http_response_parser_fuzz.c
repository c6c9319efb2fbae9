/*
 * libFuzzer target for the HTTP/1.1 response parser (crt/http/http_response_parser.h).
 *
 * Input: the four configuration bytes of fuzz_support.h, then the bytes a
 * server (or proxy) answers. Byte 0:
 *   bit 0     options.is_connect_response
 *   bits 1-3  options.max_header_bytes: 0 (the 64 KiB default), 13, 16, 40,
 *             64, 128, 256, 1024
 *   bits 4-6  options.max_body_bytes: 0 (the 1 MiB default), 1, 7, 16, 100,
 *             255, 1024, 4096
 *   bit 7     the peer closes after the last byte: call on_eof()
 *
 * The response is parsed whole, in pieces, and one byte at a time (short
 * inputs). Every run checks, after each process() call:
 *   - the header bytes consumed never exceed max_header_bytes, and the headers
 *     kept could not have come from a longer head than the limit allows;
 *   - the body never exceeds max_body_bytes;
 *   - a final status is 101 or 200-599 (interim 1xx are skipped); header names
 *     are non-empty tokens, values hold no control bytes but tab and carry no
 *     surrounding spaces; find_header returns the first header of that name;
 *   - a response without a body (1xx, 204, 304, 2xx to CONNECT) has none, and
 *     a Content-Length body that completed has exactly that length;
 *   - once complete, the parser consumes nothing more; once failed, process()
 *     fails again without consuming.
 * Then all runs must agree: the same status, headers, body, the same number of
 * bytes consumed (the rest belongs to the WebSocket or the tunnel), or the
 * same error. Each run ends with clean_up and zero live bytes in the tracking
 * allocator.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/allocator.h"
#include "common/byte_buf.h"
#include "common/error.h"
#include "fuzz_support.h"
#include "http/http_response_parser.h"

/* Byte-at-a-time parsing costs one call per byte: bounded to keep runs fast
 * (split class 0 of byte 1 feeds longer inputs one byte at a time anyway). */
#define S_BYTEWISE_MAX_LEN 512
/* The shortest line a header can take: "n:\n" holds name + value + 2 bytes. */
#define S_HEADER_LINE_OVERHEAD 2
/* The shortest status line, "HTTP/1.1 101\n", and the empty line ending the head. */
#define S_MIN_STATUS_LINE 13
#define S_MIN_HEAD_END 1

static const size_t s_max_header_bytes[8] = {0, 13, 16, 40, 64, 128, 256, 1024};
static const size_t s_max_body_bytes[8] = {0, 1, 7, 16, 100, 255, 1024, 4096};

struct s_result {
    const char *name;
    bool failed;
    int error_code;
    bool eof_called;
    int eof_result;
    int eof_error;
    int status;
    bool headers_complete;
    bool complete;
    size_t consumed;         /* bytes taken from the stream */
    size_t complete_at;      /* consumed when complete first became true */
    size_t header_count;
    struct fuzz_bytes heads; /* name '\0' value '\0' ... for comparing runs */
    struct fuzz_bytes body;
};

static bool s_is_token_char(uint8_t c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static bool s_eq_ignore_case(struct wscrt_byte_cursor a, struct wscrt_byte_cursor b) {
    if (a.len != b.len) {
        return false;
    }
    for (size_t i = 0; i < a.len; ++i) {
        uint8_t x = a.ptr[i];
        uint8_t y = b.ptr[i];
        x = (x >= 'A' && x <= 'Z') ? (uint8_t)(x + 32) : x;
        y = (y >= 'A' && y <= 'Z') ? (uint8_t)(y + 32) : y;
        if (x != y) {
            return false;
        }
    }
    return true;
}

/* Parses "Content-Length" the strict way: one or more identical decimal
 * elements. Returns false when absent or not of that form. */
static bool s_single_content_length(const struct wscrt_http_response_parser *parser, unsigned long long *out) {
    bool found = false;
    for (size_t i = 0; i < parser->header_count; ++i) {
        struct wscrt_http_header header;
        wscrt_http_response_parser_get_header(parser, i, &header);
        if (!s_eq_ignore_case(header.name, wscrt_byte_cursor_from_c_str("Content-Length"))) {
            continue;
        }
        if (header.value.len == 0 || header.value.len > 18) {
            return false;
        }
        unsigned long long value = 0;
        for (size_t k = 0; k < header.value.len; ++k) {
            if (header.value.ptr[k] < '0' || header.value.ptr[k] > '9') {
                return false;
            }
            value = value * 10 + (unsigned)(header.value.ptr[k] - '0');
        }
        if (found && value != *out) {
            return false;
        }
        found = true;
        *out = value;
    }
    return found;
}

static bool s_has_header(const struct wscrt_http_response_parser *parser, const char *name) {
    for (size_t i = 0; i < parser->header_count; ++i) {
        struct wscrt_http_header header;
        wscrt_http_response_parser_get_header(parser, i, &header);
        if (s_eq_ignore_case(header.name, wscrt_byte_cursor_from_c_str(name))) {
            return true;
        }
    }
    return false;
}

static void s_check_headers(const struct wscrt_http_response_parser *parser, const char *run) {
    size_t count = wscrt_http_response_parser_header_count(parser);
    size_t head_lower_bound = S_MIN_STATUS_LINE + S_MIN_HEAD_END;
    for (size_t i = 0; i < count; ++i) {
        struct wscrt_http_header header;
        FUZZ_CHECK(wscrt_http_response_parser_get_header(parser, i, &header) == WSCRT_OP_SUCCESS,
                   "%s: get_header(%zu) of %zu failed", run, i, count);
        FUZZ_CHECK(header.name.len > 0, "%s: header %zu has an empty name", run, i);
        for (size_t k = 0; k < header.name.len; ++k) {
            FUZZ_CHECK(s_is_token_char(header.name.ptr[k]), "%s: header %zu name byte 0x%02x is not a token char",
                       run, i, header.name.ptr[k]);
        }
        for (size_t k = 0; k < header.value.len; ++k) {
            uint8_t c = header.value.ptr[k];
            FUZZ_CHECK((c >= 0x20 || c == '\t') && c != 0x7F, "%s: header %zu value holds byte 0x%02x", run, i, c);
        }
        if (header.value.len > 0) {
            uint8_t first = header.value.ptr[0];
            uint8_t last = header.value.ptr[header.value.len - 1];
            FUZZ_CHECK(first != ' ' && first != '\t' && last != ' ' && last != '\t',
                       "%s: header %zu value is not trimmed", run, i);
        }
        head_lower_bound += header.name.len + header.value.len + S_HEADER_LINE_OVERHEAD;

        /* find_header answers with the first header of that name. */
        char name[256];
        if (header.name.len < sizeof(name)) {
            memcpy(name, header.name.ptr, header.name.len);
            name[header.name.len] = '\0';
            struct wscrt_byte_cursor found = {0};
            FUZZ_CHECK(wscrt_http_response_parser_find_header(parser, name, &found),
                       "%s: find_header(\"%s\") misses header %zu", run, name, i);
            size_t first = 0;
            struct wscrt_http_header candidate;
            for (;; ++first) {
                wscrt_http_response_parser_get_header(parser, first, &candidate);
                if (s_eq_ignore_case(candidate.name, header.name)) {
                    break;
                }
            }
            FUZZ_CHECK(found.len == candidate.value.len &&
                           (found.len == 0 || memcmp(found.ptr, candidate.value.ptr, found.len) == 0),
                       "%s: find_header(\"%s\") is not the value of header %zu", run, name, first);
        }
    }
    struct wscrt_http_header none;
    FUZZ_CHECK(wscrt_http_response_parser_get_header(parser, count, &none) == WSCRT_OP_ERR,
               "%s: get_header past the end succeeded", run);
    if (parser->headers_complete) {
        FUZZ_CHECK(head_lower_bound <= parser->options.max_header_bytes,
                   "%s: %zu headers need at least %zu head bytes, the limit is %zu", run, count, head_lower_bound,
                   parser->options.max_header_bytes);
    }
}

/* Checks that hold after every process() call. */
static void s_check_parser(const struct wscrt_http_response_parser *parser, const char *run) {
    FUZZ_CHECK(parser->head_bytes <= parser->options.max_header_bytes, "%s: %zu head bytes, limit %zu", run,
               parser->head_bytes, parser->options.max_header_bytes);
    FUZZ_CHECK(parser->header_storage.len <= parser->options.max_header_bytes,
               "%s: %zu bytes of headers stored, limit %zu", run, parser->header_storage.len,
               parser->options.max_header_bytes);
    struct wscrt_byte_cursor body = wscrt_http_response_parser_body(parser);
    FUZZ_CHECK(body.len <= parser->options.max_body_bytes, "%s: body of %zu bytes, limit %zu", run, body.len,
               parser->options.max_body_bytes);
    FUZZ_CHECK(!parser->complete || parser->headers_complete, "%s: complete before the headers", run);
    if (!parser->headers_complete) {
        return;
    }
    int status = parser->status;
    FUZZ_CHECK(status == 101 || (status >= 200 && status <= 599), "%s: final status %d", run, status);
    s_check_headers(parser, run);
    bool bodiless = status < 200 || status == 204 || status == 304 ||
                    (parser->options.is_connect_response && status < 300);
    if (bodiless) {
        FUZZ_CHECK(parser->complete && body.len == 0, "%s: status %d must end at the head (complete %d, body %zu)",
                   run, status, (int)parser->complete, body.len);
    }
    unsigned long long content_length;
    if (parser->complete && !bodiless && !s_has_header(parser, "Transfer-Encoding") &&
        s_single_content_length(parser, &content_length)) {
        FUZZ_CHECK(body.len == content_length, "%s: Content-Length %llu but a body of %zu bytes", run,
                   content_length, body.len);
    }
}

static void s_record_result(struct s_result *result, const struct wscrt_http_response_parser *parser) {
    result->status = parser->status;
    result->headers_complete = parser->headers_complete;
    result->complete = parser->complete;
    result->header_count = wscrt_http_response_parser_header_count(parser);
    for (size_t i = 0; i < result->header_count; ++i) {
        struct wscrt_http_header header;
        wscrt_http_response_parser_get_header(parser, i, &header);
        static const uint8_t nul = 0;
        fuzz_bytes_append(&result->heads, header.name.ptr, header.name.len);
        fuzz_bytes_append(&result->heads, &nul, 1);
        fuzz_bytes_append(&result->heads, header.value.ptr, header.value.len);
        fuzz_bytes_append(&result->heads, &nul, 1);
    }
    struct wscrt_byte_cursor body = wscrt_http_response_parser_body(parser);
    fuzz_bytes_append(&result->body, body.ptr, body.len);
}

enum s_feed {
    S_FEED_WHOLE,
    S_FEED_PIECES,
    S_FEED_BYTEWISE,
};

static void s_parse(struct s_result *result, enum s_feed feed, const struct fuzz_input *input,
                    const struct wscrt_http_response_parser_options *options, bool call_eof) {
    struct wscrt_http_response_parser parser;
    FUZZ_CHECK(wscrt_http_response_parser_init(&parser, fuzz_allocator(), options) == WSCRT_OP_SUCCESS,
               "%s: init failed", result->name);
    struct fuzz_splitter splitter = fuzz_splitter_new(input);
    size_t len = input->stream_len;
    size_t offset = 0;
    for (size_t calls = 0; offset < len || calls == 0; ++calls) {
        size_t remaining = len - offset;
        size_t piece = feed == S_FEED_WHOLE      ? remaining
                       : feed == S_FEED_BYTEWISE ? (remaining > 0 ? 1 : 0)
                                                 : fuzz_splitter_next(&splitter, remaining);
        struct wscrt_byte_cursor data =
            wscrt_byte_cursor_from_array(fuzz_piece_ptr(input->stream, offset, piece), piece);
        bool was_complete = parser.complete;
        wscrt_reset_error();
        int rc = wscrt_http_response_parser_process(&parser, &data);
        size_t used = piece - data.len;
        FUZZ_CHECK(data.len <= piece && (piece == 0 || data.ptr == input->stream + offset + used),
                   "%s: the cursor was not advanced over exactly the bytes consumed", result->name);
        result->consumed += used;
        if (rc != WSCRT_OP_SUCCESS) {
            result->failed = true;
            result->error_code = wscrt_last_error();
            FUZZ_CHECK(result->error_code == WSCRT_ERROR_HTTP_INVALID_RESPONSE ||
                           result->error_code == WSCRT_ERROR_HTTP_HEADER_BLOCK_TOO_LARGE ||
                           result->error_code == WSCRT_ERROR_HTTP_BODY_TOO_LARGE,
                       "%s: failed with %s", result->name, wscrt_error_name(result->error_code));
            FUZZ_CHECK(!parser.complete, "%s: failed but complete", result->name);
            s_check_parser(&parser, result->name);
            /* A failed parser stays failed and takes nothing more. */
            struct wscrt_byte_cursor again = data;
            FUZZ_CHECK(wscrt_http_response_parser_process(&parser, &again) == WSCRT_OP_ERR &&
                           again.len == data.len,
                       "%s: a failed parser accepted more input", result->name);
            break;
        }
        s_check_parser(&parser, result->name);
        if (was_complete) {
            FUZZ_CHECK(used == 0, "%s: consumed %zu bytes after the response was complete", result->name, used);
        }
        if (parser.complete) {
            if (!was_complete) {
                result->complete_at = result->consumed;
            }
        } else {
            FUZZ_CHECK(data.len == 0, "%s: stopped with %zu bytes left but not complete", result->name, data.len);
        }
        offset += piece;
    }
    if (call_eof && !result->failed) {
        result->eof_called = true;
        wscrt_reset_error();
        result->eof_result = wscrt_http_response_parser_on_eof(&parser);
        result->eof_error = result->eof_result ? wscrt_last_error() : 0;
        if (result->eof_result) {
            FUZZ_CHECK(result->eof_error == WSCRT_ERROR_HTTP_CONNECTION_CLOSED && !parser.complete,
                       "%s: on_eof failed with %s", result->name, wscrt_error_name(result->eof_error));
        } else {
            FUZZ_CHECK(parser.complete, "%s: on_eof succeeded on an incomplete response", result->name);
        }
        s_check_parser(&parser, result->name);
    }
    s_record_result(result, &parser);
    wscrt_http_response_parser_clean_up(&parser);
    fuzz_check_no_live_memory();
}

static void s_result_clean_up(struct s_result *result) {
    fuzz_bytes_free(&result->heads);
    fuzz_bytes_free(&result->body);
}

static bool s_bytes_equal(const struct fuzz_bytes *a, const struct fuzz_bytes *b) {
    return a->len == b->len && (a->len == 0 || memcmp(a->bytes, b->bytes, a->len) == 0);
}

static void s_check_same_outcome(const struct s_result *a, const struct s_result *b) {
    FUZZ_CHECK(a->failed == b->failed && a->error_code == b->error_code, "%s: %s, %s: %s", a->name,
               a->failed ? wscrt_error_name(a->error_code) : "success", b->name,
               b->failed ? wscrt_error_name(b->error_code) : "success");
    FUZZ_CHECK(a->status == b->status && a->headers_complete == b->headers_complete,
               "%s: status %d (head done %d), %s: status %d (head done %d)", a->name, a->status,
               (int)a->headers_complete, b->name, b->status, (int)b->headers_complete);
    if (a->headers_complete) {
        FUZZ_CHECK(a->header_count == b->header_count && s_bytes_equal(&a->heads, &b->heads),
                   "%s and %s kept different headers (%zu and %zu)", a->name, b->name, a->header_count,
                   b->header_count);
    }
    if (a->failed) {
        return; /* how much of the body was buffered before the error depends on the pieces */
    }
    FUZZ_CHECK(a->complete == b->complete, "%s: complete %d, %s: complete %d", a->name, (int)a->complete, b->name,
               (int)b->complete);
    FUZZ_CHECK(a->consumed == b->consumed && (!a->complete || a->complete_at == b->complete_at),
               "%s consumed %zu (complete at %zu), %s consumed %zu (complete at %zu)", a->name, a->consumed,
               a->complete_at, b->name, b->consumed, b->complete_at);
    FUZZ_CHECK(s_bytes_equal(&a->body, &b->body), "%s and %s have different bodies (%zu and %zu bytes)", a->name,
               b->name, a->body.len, b->body.len);
    FUZZ_CHECK(a->eof_called == b->eof_called && a->eof_result == b->eof_result && a->eof_error == b->eof_error,
               "%s and %s disagree on on_eof", a->name, b->name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct fuzz_input input = fuzz_input_parse(data, size);
    struct wscrt_http_response_parser_options options = {
        .is_connect_response = (input.options & 0x01) != 0,
        .max_header_bytes = s_max_header_bytes[(input.options >> 1) & 0x7],
        .max_body_bytes = s_max_body_bytes[(input.options >> 4) & 0x7],
    };
    bool call_eof = (input.options & 0x80) != 0;

    struct s_result whole = {.name = "whole"};
    s_parse(&whole, S_FEED_WHOLE, &input, &options, call_eof);
    struct s_result pieces = {.name = "pieces"};
    s_parse(&pieces, S_FEED_PIECES, &input, &options, call_eof);
    s_check_same_outcome(&whole, &pieces);
    if (input.stream_len <= S_BYTEWISE_MAX_LEN) {
        struct s_result bytewise = {.name = "bytewise"};
        s_parse(&bytewise, S_FEED_BYTEWISE, &input, &options, call_eof);
        s_check_same_outcome(&whole, &bytewise);
        s_result_clean_up(&bytewise);
    }
    s_result_clean_up(&whole);
    s_result_clean_up(&pieces);
    return 0;
}
