#ifndef WSCRT_HTTP_HTTP_RESPONSE_PARSER_H
#define WSCRT_HTTP_HTTP_RESPONSE_PARSER_H
/*
 * Incremental HTTP/1.1 response parser: status line, header block (bounded),
 * then the body if the response has one (Content-Length, chunked, or until
 * close). It stops consuming at the end of the response, so bytes that follow
 * a 101 (WebSocket frames) or a CONNECT 2xx (the tunnel) stay in the cursor.
 *
 * A response has no body when its status is 1xx, 204 or 304, or when it is a
 * 2xx answer to CONNECT (options.is_connect_response). Interim responses (1xx
 * other than 101, e.g. 100 Continue, 103 Early Hints) are skipped: the parser
 * goes on to the final response, and max_header_bytes bounds all of them
 * together (plus chunked trailers).
 */
#include <stdbool.h>
#include <stddef.h>

#include "common/byte_buf.h"
#include "http/http_request.h"

struct wscrt_allocator;

struct wscrt_http_response_parser_options {
    size_t max_header_bytes; /* 0 = 64 KiB: bigger than any real upgrade answer, small enough to bound memory */
    size_t max_body_bytes;   /* 0 = 1 MiB: a rejection page, not a download */
    bool is_connect_response;
};

struct wscrt_http_response_parser {
    struct wscrt_allocator *allocator;
    struct wscrt_http_response_parser_options options;
    int status;             /* valid once headers_complete */
    bool headers_complete;
    bool complete;          /* whole response consumed */
    /* private below */
    int state;
    struct wscrt_byte_buf header_storage; /* raw header block */
    struct wscrt_byte_buf line;           /* the line being assembled */
    struct wscrt_http_header *headers;    /* point into header_storage */
    size_t header_count;
    size_t header_capacity;
    struct wscrt_byte_buf body;
    int body_mode;
    unsigned long long body_remaining;
    size_t head_bytes; /* status lines + headers (+ interim 1xx + trailers) consumed, against max_header_bytes */
};

/* options may be NULL (all defaults); parser->options holds the limits in effect. */
int wscrt_http_response_parser_init(struct wscrt_http_response_parser *parser, struct wscrt_allocator *allocator,
                                    const struct wscrt_http_response_parser_options *options);
void wscrt_http_response_parser_clean_up(struct wscrt_http_response_parser *parser);
/* Consumes from `data` (advancing it) until the response is complete or the
 * data runs out. Errors: WSCRT_ERROR_HTTP_INVALID_RESPONSE,
 * WSCRT_ERROR_HTTP_HEADER_BLOCK_TOO_LARGE, WSCRT_ERROR_HTTP_BODY_TOO_LARGE. */
int wscrt_http_response_parser_process(struct wscrt_http_response_parser *parser, struct wscrt_byte_cursor *data);
/* The peer closed: completes a body delimited by close, otherwise fails with
 * WSCRT_ERROR_HTTP_CONNECTION_CLOSED. */
int wscrt_http_response_parser_on_eof(struct wscrt_http_response_parser *parser);
size_t wscrt_http_response_parser_header_count(const struct wscrt_http_response_parser *parser);
int wscrt_http_response_parser_get_header(const struct wscrt_http_response_parser *parser, size_t index,
                                          struct wscrt_http_header *out);
/* First header with this name (case-insensitive), value with OWS trimmed. */
bool wscrt_http_response_parser_find_header(const struct wscrt_http_response_parser *parser, const char *name,
                                            struct wscrt_byte_cursor *value);
struct wscrt_byte_cursor wscrt_http_response_parser_body(const struct wscrt_http_response_parser *parser);

#endif
