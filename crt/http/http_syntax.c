/* HTTP/1.1 syntax rules the response parser applies (see http_syntax.h). */
#include "http/http_syntax.h"

#include <string.h>

#include "common/error.h"

bool wscrt_http_is_token_char(uint8_t c) {
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
        return true;
    }
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

bool wscrt_http_is_field_text(struct wscrt_byte_cursor text) {
    for (size_t i = 0; i < text.len; ++i) {
        uint8_t c = text.ptr[i];
        if ((c < 0x20 && c != '\t') || c == 0x7F) {
            return false;
        }
    }
    return true;
}

int wscrt_http_hex_value(uint8_t c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

int wscrt_http_collect_content_length(struct wscrt_byte_cursor element, void *context) {
    struct wscrt_http_content_length *length = context;
    unsigned long long value = 0;
    for (size_t i = 0; i < element.len; ++i) {
        if (!wscrt_http_is_digit(element.ptr[i])) {
            return WSCRT_OP_ERR;
        }
        unsigned digit = element.ptr[i] - '0';
        if (value > (~0ULL - digit) / 10) {
            return WSCRT_OP_ERR;
        }
        value = value * 10 + digit;
    }
    if (length->present && length->value != value) {
        return WSCRT_OP_ERR;
    }
    length->present = true;
    length->value = value;
    return WSCRT_OP_SUCCESS;
}

int wscrt_http_collect_transfer_coding(struct wscrt_byte_cursor element, void *context) {
    struct wscrt_http_transfer_coding *coding = context;
    if (coding->last_is_chunked) {
        coding->chunked_before_last = true;
    }
    /* A coding may carry parameters ("gzip;q=1" style): compare the name only. */
    struct wscrt_byte_cursor name = element;
    const uint8_t *semicolon = memchr(element.ptr, ';', element.len);
    if (semicolon) {
        name = wscrt_byte_cursor_trim_ows(
            wscrt_byte_cursor_from_array(element.ptr, (size_t)(semicolon - element.ptr)));
    }
    coding->last_is_chunked = wscrt_byte_cursor_eq_c_str_ignore_case(name, "chunked");
    coding->count++;
    return WSCRT_OP_SUCCESS;
}

