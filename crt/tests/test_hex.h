#ifndef WSCRT_TESTS_TEST_HEX_H
#define WSCRT_TESTS_TEST_HEX_H
/*
 * Hex byte literals for the tests: "81 05 48 65" -> bytes. Two hex digits (either case, as the HTTP
 * parser reads them) make a byte; anything else (the spaces) is skipped, and an odd last digit is dropped.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/byte_buf.h"
#include "http/http_syntax.h"

/* The next byte of the hex text at `*cursor` (advanced past it); false at the text's end. */
static inline bool s_hex_next(const char **cursor, uint8_t *byte) {
    int high = -1;
    for (; **cursor; ++*cursor) {
        int value = wscrt_http_hex_value((uint8_t)**cursor);
        if (value < 0) {
            continue;
        }
        if (high < 0) {
            high = value;
        } else {
            *byte = (uint8_t)(high << 4 | value);
            ++*cursor;
            return true;
        }
    }
    return false;
}

/* Appends the bytes of `hex` to `out`, growing it. */
static inline void s_hex(struct wscrt_byte_buf *out, const char *hex) {
    uint8_t byte;
    while (s_hex_next(&hex, &byte)) {
        wscrt_byte_buf_append_byte_dynamic(out, byte);
    }
}

/* Writes the bytes of `hex` to `out` (at most `capacity` of them); returns how many. */
static inline size_t s_hex_to_array(uint8_t *out, size_t capacity, const char *hex) {
    size_t len = 0;
    uint8_t byte;
    while (len < capacity && s_hex_next(&hex, &byte)) {
        out[len++] = byte;
    }
    return len;
}

#endif
