#include "http/http_response_parser.h"
#include "http/http_syntax.h"

#include <string.h>

#include "common/allocator.h"
#include "common/error.h"
#include "common/logging.h"

/* 64 KiB: far above any real upgrade or proxy answer, small enough to bound memory. */
#define S_DEFAULT_MAX_HEADER_BYTES (64 * 1024)
/* 1 MiB: room for an error page, not a download. */
#define S_DEFAULT_MAX_BODY_BYTES (1024 * 1024)
/* A chunk-size line is hex digits plus rare extensions; 4 KiB is generous. */
#define S_MAX_CHUNK_LINE_BYTES 4096
/* Enough hex digits for any size below 2^64 (the body limit refuses far less). */
#define S_MAX_CHUNK_SIZE_DIGITS 16

enum s_parser_state {
    S_STATE_STATUS_LINE,
    S_STATE_HEADER_LINE,
    S_STATE_BODY_LENGTH,
    S_STATE_BODY_UNTIL_EOF,
    S_STATE_CHUNK_SIZE_LINE,
    S_STATE_CHUNK_DATA,
    S_STATE_CHUNK_DATA_END,
    S_STATE_TRAILER_LINE,
    S_STATE_COMPLETE,
    S_STATE_FAILED,
};

enum s_body_mode {
    S_BODY_NONE,
    S_BODY_CONTENT_LENGTH,
    S_BODY_CHUNKED,
    S_BODY_UNTIL_EOF,
};

int wscrt_http_response_parser_init(struct wscrt_http_response_parser *parser, struct wscrt_allocator *allocator,
                                    const struct wscrt_http_response_parser_options *options) {
    memset(parser, 0, sizeof(*parser));
    parser->allocator = allocator;
    if (options) {
        parser->options = *options;
    }
    if (parser->options.max_header_bytes == 0) {
        parser->options.max_header_bytes = S_DEFAULT_MAX_HEADER_BYTES;
    }
    if (parser->options.max_body_bytes == 0) {
        parser->options.max_body_bytes = S_DEFAULT_MAX_BODY_BYTES;
    }
    /* Sized for a typical 101 answer (~150 bytes of header text); grows on demand. */
    if (wscrt_byte_buf_init(&parser->line, allocator, 128) ||
        wscrt_byte_buf_init(&parser->header_storage, allocator, 256)) {
        wscrt_http_response_parser_clean_up(parser);
        return WSCRT_OP_ERR;
    }
    /* The body buffer is only allocated if a body arrives. */
    parser->state = S_STATE_STATUS_LINE;
    return WSCRT_OP_SUCCESS;
}

static void s_clean_up_buf(struct wscrt_byte_buf *buf) {
    if (buf->allocator) {
        wscrt_byte_buf_clean_up(buf);
    }
    memset(buf, 0, sizeof(*buf));
}

void wscrt_http_response_parser_clean_up(struct wscrt_http_response_parser *parser) {
    s_clean_up_buf(&parser->line);
    s_clean_up_buf(&parser->header_storage);
    s_clean_up_buf(&parser->body);
    wscrt_mem_release(parser->allocator, parser->headers);
    parser->headers = NULL;
    parser->header_count = 0;
    parser->header_capacity = 0;
}

static int s_fail(struct wscrt_http_response_parser *parser, int error_code) {
    parser->state = S_STATE_FAILED;
    WSCRT_LOGF_DEBUG(WSCRT_LS_HTTP, "id=%p: Cannot parse HTTP response: %s", (void *)parser, wscrt_error_str(error_code));
    return wscrt_raise_error(error_code);
}

/* ---- lines ---- */

enum s_line_result {
    S_LINE_ERROR = -1,
    S_LINE_PARTIAL = 0,
    S_LINE_COMPLETE = 1,
};

/*
 * Moves bytes into parser->line up to and including the next LF, counting them
 * in *used against max (too_long_error when exceeded: nothing is buffered past
 * the limit). On S_LINE_COMPLETE the line holds the text without its LF or a
 * CR before it; a bare LF ending is accepted (RFC 9112 2.2).
 */
static enum s_line_result s_read_line(struct wscrt_http_response_parser *parser, struct wscrt_byte_cursor *data,
                                      size_t *used, size_t max, int too_long_error) {
    if (data->len == 0) {
        return S_LINE_PARTIAL;
    }
    const uint8_t *lf = memchr(data->ptr, '\n', data->len);
    size_t segment = lf ? (size_t)(lf - data->ptr) + 1 : data->len;
    if (segment > max - *used) {
        s_fail(parser, too_long_error);
        return S_LINE_ERROR;
    }
    *used += segment;
    struct wscrt_byte_cursor bytes = wscrt_byte_cursor_advance(data, segment);
    bytes.len -= lf ? 1 : 0;
    if (bytes.len > 0 && wscrt_byte_buf_append_dynamic(&parser->line, bytes)) {
        s_fail(parser, wscrt_last_error());
        return S_LINE_ERROR;
    }
    if (!lf) {
        return S_LINE_PARTIAL;
    }
    if (parser->line.len > 0 && parser->line.buffer[parser->line.len - 1] == '\r') {
        parser->line.len--;
    }
    return S_LINE_COMPLETE;
}

static enum s_line_result s_read_head_line(struct wscrt_http_response_parser *parser,
                                           struct wscrt_byte_cursor *data) {
    return s_read_line(parser, data, &parser->head_bytes, parser->options.max_header_bytes,
                       WSCRT_ERROR_HTTP_HEADER_BLOCK_TOO_LARGE);
}

static struct wscrt_byte_cursor s_line(const struct wscrt_http_response_parser *parser) {
    return wscrt_byte_cursor_from_buf(&parser->line);
}

/* ---- status line ---- */

/*
 * "HTTP/1.x DDD[ reason]". Checked on every partial line too, so something
 * that is not HTTP fails within its first bytes rather than after 64 KiB.
 */
static bool s_status_line_prefix_is_valid(struct wscrt_byte_cursor line) {
    static const char pattern[] = "HTTP/1.v dddr";
    for (size_t i = 0; i < line.len && i < sizeof(pattern) - 1; ++i) {
        uint8_t c = line.ptr[i];
        switch (pattern[i]) {
            case 'v':
                if (c != '0' && c != '1') {
                    return false;
                }
                break;
            case 'd':
                if (!wscrt_http_is_digit(c)) {
                    return false;
                }
                break;
            case 'r':
                if (c != ' ') {
                    return false;
                }
                break;
            default:
                if (c != (uint8_t)pattern[i]) {
                    return false;
                }
                break;
        }
    }
    return true;
}

static int s_parse_status_line(struct wscrt_http_response_parser *parser) {
    struct wscrt_byte_cursor line = s_line(parser);
    const size_t reason_start = sizeof("HTTP/1.1 101") - 1;
    /* The SP before an empty reason phrase is often left out: accept both. */
    if (line.len < reason_start || !s_status_line_prefix_is_valid(line) || !wscrt_http_is_field_text(line)) {
        return s_fail(parser, WSCRT_ERROR_HTTP_INVALID_RESPONSE);
    }
    int status = (line.ptr[9] - '0') * 100 + (line.ptr[10] - '0') * 10 + (line.ptr[11] - '0');
    /* RFC 9110 15: only 100-599 are status codes. */
    if (status < 100 || status > 599) {
        return s_fail(parser, WSCRT_ERROR_HTTP_INVALID_RESPONSE);
    }
    parser->status = status;
    return WSCRT_OP_SUCCESS;
}

/* ---- header lines ---- */

/* Cursors must follow header_storage when it moves: rebuilt from the lengths,
 * since the pairs are stored back to back in order. */
static void s_rebuild_header_cursors(struct wscrt_http_response_parser *parser) {
    const uint8_t *p = parser->header_storage.buffer;
    for (size_t i = 0; i < parser->header_count; ++i) {
        parser->headers[i].name.ptr = p;
        p += parser->headers[i].name.len;
        parser->headers[i].value.ptr = p;
        p += parser->headers[i].value.len;
    }
}

static int s_store_header(struct wscrt_http_response_parser *parser, struct wscrt_byte_cursor name,
                          struct wscrt_byte_cursor value) {
    if (parser->header_count == parser->header_capacity) {
        size_t new_capacity = parser->header_capacity ? parser->header_capacity * 2 : 16;
        parser->headers = wscrt_mem_realloc(parser->allocator, parser->headers,
                                            parser->header_capacity * sizeof(*parser->headers),
                                            new_capacity * sizeof(*parser->headers));
        parser->header_capacity = new_capacity;
    }
    /* name is never empty; value may be. */
    if (wscrt_byte_buf_append_dynamic(&parser->header_storage, name) ||
        (value.len > 0 && wscrt_byte_buf_append_dynamic(&parser->header_storage, value))) {
        return s_fail(parser, wscrt_last_error());
    }
    struct wscrt_http_header *header = &parser->headers[parser->header_count++];
    header->name.len = name.len;
    header->value.len = value.len;
    s_rebuild_header_cursors(parser);
    return WSCRT_OP_SUCCESS;
}

/* "name: OWS value OWS". Splits the current line; fails on anything else. */
static int s_split_header_line(struct wscrt_http_response_parser *parser, struct wscrt_byte_cursor *name,
                               struct wscrt_byte_cursor *value) {
    struct wscrt_byte_cursor line = s_line(parser);
    /* A leading space or tab is obs-fold (a continuation line): RFC 9112 5.2
     * lets a client refuse it, and accepting it invites smuggling tricks. */
    const uint8_t *colon = line.len ? memchr(line.ptr, ':', line.len) : NULL;
    if (!colon || colon == line.ptr) {
        return s_fail(parser, WSCRT_ERROR_HTTP_INVALID_RESPONSE);
    }
    *name = wscrt_byte_cursor_from_array(line.ptr, (size_t)(colon - line.ptr));
    for (size_t i = 0; i < name->len; ++i) {
        /* Also refuses whitespace before the colon (RFC 9112 5.1). */
        if (!wscrt_http_is_token_char(name->ptr[i])) {
            return s_fail(parser, WSCRT_ERROR_HTTP_INVALID_RESPONSE);
        }
    }
    struct wscrt_byte_cursor raw_value = wscrt_byte_cursor_from_array(colon + 1, line.len - name->len - 1);
    if (!wscrt_http_is_field_text(raw_value)) {
        return s_fail(parser, WSCRT_ERROR_HTTP_INVALID_RESPONSE);
    }
    *value = wscrt_byte_cursor_trim_ows(raw_value);
    return WSCRT_OP_SUCCESS;
}

/* ---- framing of the body (RFC 9112 6.3) ---- */

/* Calls fn on every comma-separated, OWS-trimmed, non-empty element of every
 * header with this name. Stops at the first failure. */
typedef int(s_list_element_fn)(struct wscrt_byte_cursor element, void *context);

static int s_for_each_list_element(const struct wscrt_http_response_parser *parser, const char *name,
                                   s_list_element_fn *fn, void *context) {
    for (size_t i = 0; i < parser->header_count; ++i) {
        if (!wscrt_byte_cursor_eq_c_str_ignore_case(parser->headers[i].name, name)) {
            continue;
        }
        struct wscrt_byte_cursor rest = parser->headers[i].value;
        while (rest.len > 0) {
            const uint8_t *comma = memchr(rest.ptr, ',', rest.len);
            size_t element_len = comma ? (size_t)(comma - rest.ptr) : rest.len;
            struct wscrt_byte_cursor element = wscrt_byte_cursor_trim_ows(wscrt_byte_cursor_from_array(rest.ptr, element_len));
            wscrt_byte_cursor_advance(&rest, comma ? element_len + 1 : element_len);
            if (element.len > 0 && fn(element, context)) {
                return WSCRT_OP_ERR;
            }
        }
    }
    return WSCRT_OP_SUCCESS;
}

static bool s_has_header(const struct wscrt_http_response_parser *parser, const char *name) {
    return wscrt_http_response_parser_find_header(parser, name, NULL);
}

static void s_complete(struct wscrt_http_response_parser *parser) {
    parser->state = S_STATE_COMPLETE;
    parser->complete = true;
}

static int s_start_body_buffer(struct wscrt_http_response_parser *parser, size_t initial_capacity) {
    if (initial_capacity == 0) {
        initial_capacity = 1024;
    }
    if (initial_capacity > parser->options.max_body_bytes) {
        initial_capacity = parser->options.max_body_bytes;
    }
    if (wscrt_byte_buf_init(&parser->body, parser->allocator, initial_capacity)) {
        return s_fail(parser, wscrt_last_error());
    }
    return WSCRT_OP_SUCCESS;
}

static int s_on_headers_complete(struct wscrt_http_response_parser *parser) {
    int status = parser->status;
    if (status >= 100 && status < 200 && status != 101) {
        /* Interim response: forget it and read the final one. head_bytes is
         * not reset, so a stream of interim responses still hits the limit. */
        parser->header_count = 0;
        wscrt_byte_buf_reset(&parser->header_storage);
        parser->state = S_STATE_STATUS_LINE;
        return WSCRT_OP_SUCCESS;
    }
    parser->headers_complete = true;
    if (status < 200 || status == 204 || status == 304 || (parser->options.is_connect_response && status < 300)) {
        parser->body_mode = S_BODY_NONE;
        s_complete(parser);
        return WSCRT_OP_SUCCESS;
    }

    if (s_has_header(parser, "Transfer-Encoding")) {
        /* Transfer-Encoding overrides Content-Length (RFC 9112 6.3 item 3). */
        struct wscrt_http_transfer_coding coding = {0};
        s_for_each_list_element(parser, "Transfer-Encoding", wscrt_http_collect_transfer_coding, &coding);
        if (coding.count == 0 || coding.chunked_before_last) {
            return s_fail(parser, WSCRT_ERROR_HTTP_INVALID_RESPONSE);
        }
        if (coding.last_is_chunked) {
            parser->body_mode = S_BODY_CHUNKED;
            parser->state = S_STATE_CHUNK_SIZE_LINE;
            return s_start_body_buffer(parser, 0);
        }
        /* Any other final coding: the body is delimited by the close. */
        parser->body_mode = S_BODY_UNTIL_EOF;
        parser->state = S_STATE_BODY_UNTIL_EOF;
        return s_start_body_buffer(parser, 0);
    }

    struct wscrt_http_content_length length = {0};
    if (s_for_each_list_element(parser, "Content-Length", wscrt_http_collect_content_length, &length)) {
        return s_fail(parser, WSCRT_ERROR_HTTP_INVALID_RESPONSE);
    }
    if (s_has_header(parser, "Content-Length") && !length.present) {
        /* Present but empty. */
        return s_fail(parser, WSCRT_ERROR_HTTP_INVALID_RESPONSE);
    }
    if (length.present) {
        if (length.value > parser->options.max_body_bytes) {
            return s_fail(parser, WSCRT_ERROR_HTTP_BODY_TOO_LARGE);
        }
        parser->body_mode = S_BODY_CONTENT_LENGTH;
        parser->body_remaining = length.value;
        if (length.value == 0) {
            s_complete(parser);
            return WSCRT_OP_SUCCESS;
        }
        parser->state = S_STATE_BODY_LENGTH;
        return s_start_body_buffer(parser, (size_t)length.value);
    }
    parser->body_mode = S_BODY_UNTIL_EOF;
    parser->state = S_STATE_BODY_UNTIL_EOF;
    return s_start_body_buffer(parser, 0);
}

/* ---- body ---- */

static int s_append_body(struct wscrt_http_response_parser *parser, struct wscrt_byte_cursor bytes) {
    if (bytes.len > parser->options.max_body_bytes - parser->body.len) {
        return s_fail(parser, WSCRT_ERROR_HTTP_BODY_TOO_LARGE);
    }
    if (bytes.len > 0 && wscrt_byte_buf_append_dynamic(&parser->body, bytes)) {
        return s_fail(parser, wscrt_last_error());
    }
    return WSCRT_OP_SUCCESS;
}

/* "hex-size [BWS ; extensions]". Extensions are allowed and ignored. */
static int s_parse_chunk_size_line(struct wscrt_http_response_parser *parser) {
    struct wscrt_byte_cursor line = s_line(parser);
    if (!wscrt_http_is_field_text(line)) {
        return s_fail(parser, WSCRT_ERROR_HTTP_INVALID_RESPONSE);
    }
    unsigned long long size = 0;
    size_t i = 0;
    for (; i < line.len && wscrt_http_hex_value(line.ptr[i]) >= 0; ++i) {
        if (i == S_MAX_CHUNK_SIZE_DIGITS) {
            return s_fail(parser, WSCRT_ERROR_HTTP_INVALID_RESPONSE);
        }
        size = (size << 4) | (unsigned)wscrt_http_hex_value(line.ptr[i]);
    }
    if (i == 0) {
        return s_fail(parser, WSCRT_ERROR_HTTP_INVALID_RESPONSE);
    }
    struct wscrt_byte_cursor rest = wscrt_byte_cursor_trim_ows(wscrt_byte_cursor_from_array(line.ptr + i, line.len - i));
    if (rest.len > 0 && rest.ptr[0] != ';') {
        return s_fail(parser, WSCRT_ERROR_HTTP_INVALID_RESPONSE);
    }
    if (size > parser->options.max_body_bytes - parser->body.len) {
        return s_fail(parser, WSCRT_ERROR_HTTP_BODY_TOO_LARGE);
    }
    parser->body_remaining = size;
    parser->state = size == 0 ? S_STATE_TRAILER_LINE : S_STATE_CHUNK_DATA;
    return WSCRT_OP_SUCCESS;
}

/* Copies up to body_remaining bytes of the body. */
static int s_read_counted_body(struct wscrt_http_response_parser *parser, struct wscrt_byte_cursor *data) {
    size_t take = parser->body_remaining < data->len ? (size_t)parser->body_remaining : data->len;
    if (s_append_body(parser, wscrt_byte_cursor_advance(data, take))) {
        return WSCRT_OP_ERR;
    }
    parser->body_remaining -= take;
    return WSCRT_OP_SUCCESS;
}

/* ---- the state machine ---- */

/* One step; returns with *progress false when it needs more data. */
static int s_step(struct wscrt_http_response_parser *parser, struct wscrt_byte_cursor *data, bool *progress) {
    *progress = false;
    enum s_line_result line_result;
    size_t chunk_line_used = parser->line.len;
    switch (parser->state) {
        case S_STATE_STATUS_LINE: {
            /* Garbage fails as INVALID_RESPONSE at its first bytes, however the bytes were split: check the
             * start of the line (held + arriving) before the length limit can speak. */
            uint8_t head[16];
            size_t held = parser->line.len < sizeof(head) ? parser->line.len : sizeof(head);
            if (held > 0) {
                memcpy(head, parser->line.buffer, held);
            }
            size_t arriving = data->len < sizeof(head) - held ? data->len : sizeof(head) - held;
            /* Look only at bytes within the header budget, so that which error wins (a bad byte before
             * the limit, or the limit before a bad byte) depends on byte positions, not on the split. */
            size_t budget = parser->options.max_header_bytes - parser->head_bytes;
            arriving = arriving < budget ? arriving : budget;
            const uint8_t *lf = arriving ? memchr(data->ptr, '\n', arriving) : NULL;
            if (lf) {
                arriving = (size_t)(lf - data->ptr);
            }
            if (arriving > 0) {
                memcpy(head + held, data->ptr, arriving);
            }
            struct wscrt_byte_cursor start = wscrt_byte_cursor_from_array(head, held + arriving);
            if (start.len > 0 && start.ptr[start.len - 1] == '\r') {
                start.len--;
            }
            if (!s_status_line_prefix_is_valid(start)) {
                return s_fail(parser, WSCRT_ERROR_HTTP_INVALID_RESPONSE);
            }
        }
            line_result = s_read_head_line(parser, data);
            if (line_result == S_LINE_ERROR) {
                return WSCRT_OP_ERR;
            }
            if (line_result == S_LINE_PARTIAL) {
                /* The input may end between the CR and the LF. */
                struct wscrt_byte_cursor partial = s_line(parser);
                if (partial.len > 0 && partial.ptr[partial.len - 1] == '\r') {
                    partial.len--;
                }
                return s_status_line_prefix_is_valid(partial) ? WSCRT_OP_SUCCESS
                                                              : s_fail(parser, WSCRT_ERROR_HTTP_INVALID_RESPONSE);
            }
            if (s_parse_status_line(parser)) {
                return WSCRT_OP_ERR;
            }
            parser->state = S_STATE_HEADER_LINE;
            break;

        case S_STATE_HEADER_LINE:
        case S_STATE_TRAILER_LINE:
            line_result = s_read_head_line(parser, data);
            if (line_result != S_LINE_COMPLETE) {
                return line_result == S_LINE_ERROR ? WSCRT_OP_ERR : WSCRT_OP_SUCCESS;
            }
            if (parser->line.len == 0) {
                if (parser->state == S_STATE_TRAILER_LINE) {
                    s_complete(parser);
                } else if (s_on_headers_complete(parser)) {
                    return WSCRT_OP_ERR;
                }
            } else {
                struct wscrt_byte_cursor name;
                struct wscrt_byte_cursor value;
                if (s_split_header_line(parser, &name, &value)) {
                    return WSCRT_OP_ERR;
                }
                /* Trailers are checked for syntax but not kept. */
                if (parser->state == S_STATE_HEADER_LINE && s_store_header(parser, name, value)) {
                    return WSCRT_OP_ERR;
                }
            }
            break;

        case S_STATE_CHUNK_SIZE_LINE:
        case S_STATE_CHUNK_DATA_END:
            /* These lines are framing, not head: bounded on their own. The
             * line after chunk data must be empty: only its CRLF is allowed. */
            line_result = s_read_line(parser, data, &chunk_line_used,
                                      parser->state == S_STATE_CHUNK_SIZE_LINE ? S_MAX_CHUNK_LINE_BYTES : 2,
                                      WSCRT_ERROR_HTTP_INVALID_RESPONSE);
            if (line_result != S_LINE_COMPLETE) {
                return line_result == S_LINE_ERROR ? WSCRT_OP_ERR : WSCRT_OP_SUCCESS;
            }
            if (parser->state == S_STATE_CHUNK_SIZE_LINE) {
                if (s_parse_chunk_size_line(parser)) {
                    return WSCRT_OP_ERR;
                }
            } else if (parser->line.len != 0) {
                return s_fail(parser, WSCRT_ERROR_HTTP_INVALID_RESPONSE);
            } else {
                parser->state = S_STATE_CHUNK_SIZE_LINE;
            }
            break;

        case S_STATE_CHUNK_DATA:
        case S_STATE_BODY_LENGTH:
            if (data->len == 0) {
                return WSCRT_OP_SUCCESS;
            }
            if (s_read_counted_body(parser, data)) {
                return WSCRT_OP_ERR;
            }
            if (parser->body_remaining == 0) {
                if (parser->state == S_STATE_CHUNK_DATA) {
                    parser->state = S_STATE_CHUNK_DATA_END;
                } else {
                    s_complete(parser);
                }
            }
            *progress = true;
            return WSCRT_OP_SUCCESS;

        case S_STATE_BODY_UNTIL_EOF:
            if (data->len == 0) {
                return WSCRT_OP_SUCCESS;
            }
            return s_append_body(parser, wscrt_byte_cursor_advance(data, data->len));

        case S_STATE_COMPLETE:
            return WSCRT_OP_SUCCESS;

        default:
            return wscrt_raise_error(WSCRT_ERROR_INVALID_STATE);
    }
    /* A whole line was consumed. */
    wscrt_byte_buf_reset(&parser->line);
    *progress = true;
    return WSCRT_OP_SUCCESS;
}

int wscrt_http_response_parser_process(struct wscrt_http_response_parser *parser, struct wscrt_byte_cursor *data) {
    bool progress = true;
    while (progress && parser->state != S_STATE_COMPLETE) {
        if (s_step(parser, data, &progress)) {
            return WSCRT_OP_ERR;
        }
    }
    return WSCRT_OP_SUCCESS;
}

int wscrt_http_response_parser_on_eof(struct wscrt_http_response_parser *parser) {
    if (parser->state == S_STATE_BODY_UNTIL_EOF) {
        s_complete(parser);
    }
    if (parser->state == S_STATE_COMPLETE) {
        return WSCRT_OP_SUCCESS;
    }
    parser->state = S_STATE_FAILED;
    return wscrt_raise_error(WSCRT_ERROR_HTTP_CONNECTION_CLOSED);
}

size_t wscrt_http_response_parser_header_count(const struct wscrt_http_response_parser *parser) {
    return parser->header_count;
}

int wscrt_http_response_parser_get_header(const struct wscrt_http_response_parser *parser, size_t index,
                                          struct wscrt_http_header *out) {
    if (index >= parser->header_count) {
        return wscrt_raise_error(WSCRT_ERROR_INVALID_ARGUMENT);
    }
    *out = parser->headers[index];
    return WSCRT_OP_SUCCESS;
}

bool wscrt_http_response_parser_find_header(const struct wscrt_http_response_parser *parser, const char *name,
                                            struct wscrt_byte_cursor *value) {
    for (size_t i = 0; i < parser->header_count; ++i) {
        if (wscrt_byte_cursor_eq_c_str_ignore_case(parser->headers[i].name, name)) {
            if (value) {
                *value = parser->headers[i].value;
            }
            return true;
        }
    }
    return false;
}

struct wscrt_byte_cursor wscrt_http_response_parser_body(const struct wscrt_http_response_parser *parser) {
    return wscrt_byte_cursor_from_array(parser->body.buffer, parser->body.len);
}
