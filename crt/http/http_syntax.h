#ifndef WSCRT_HTTP_HTTP_SYNTAX_H
#define WSCRT_HTTP_HTTP_SYNTAX_H
/*
 * The HTTP/1.1 syntax rules the response parser applies: character classes
 * (RFC 9110 5.6.2, 5.5) and the readers of the list elements that frame a
 * body (Content-Length, Transfer-Encoding; RFC 9112 6.3). Pure functions on
 * bytes; any thread.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/byte_buf.h"

static inline bool wscrt_http_is_digit(uint8_t c) {
    return c >= '0' && c <= '9';
}

/* tchar of RFC 9110 5.6.2. */
bool wscrt_http_is_token_char(uint8_t c);
/* Field values and reason phrases: visible ASCII, space, tab and obs-text; other control characters
 * (NUL, a stray CR...) are refused. */
bool wscrt_http_is_field_text(struct wscrt_byte_cursor text);
/* 0-15, or -1 for a character that is not a hex digit. */
int wscrt_http_hex_value(uint8_t c);

struct wscrt_http_content_length {
    bool present;
    unsigned long long value;
};
/* One element of a Content-Length list; every element of every Content-Length must be the same number
 * (RFC 9110 8.6). WSCRT_OP_ERR for a non-number, an overflow or a different number. */
int wscrt_http_collect_content_length(struct wscrt_byte_cursor element, void *content_length);

struct wscrt_http_transfer_coding {
    size_t count;
    bool last_is_chunked;
    bool chunked_before_last;
};
/* One element of a Transfer-Encoding list (parameters ignored): counts codings and tracks chunked. */
int wscrt_http_collect_transfer_coding(struct wscrt_byte_cursor element, void *transfer_coding);

#endif
