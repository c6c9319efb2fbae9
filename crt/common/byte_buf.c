#include "common/byte_buf.h"

#include <stdint.h>
#include <string.h>

#include "common/allocator.h"
#include "common/error.h"

int wscrt_byte_buf_init(struct wscrt_byte_buf *buf, struct wscrt_allocator *allocator, size_t capacity) {
    if (buf == NULL || allocator == NULL) {
        return wscrt_raise_error(WSCRT_ERROR_INVALID_ARGUMENT);
    }
    buf->len = 0;
    buf->capacity = capacity;
    buf->allocator = allocator;
    buf->buffer = capacity > 0 ? wscrt_mem_acquire(allocator, capacity) : NULL;
    return WSCRT_OP_SUCCESS;
}

struct wscrt_byte_buf wscrt_byte_buf_from_empty_array(void *bytes, size_t capacity) {
    struct wscrt_byte_buf buf = {
        .len = 0,
        .buffer = bytes,
        .capacity = capacity,
        .allocator = NULL,
    };
    return buf;
}

void wscrt_byte_buf_clean_up(struct wscrt_byte_buf *buf) {
    if (buf == NULL) {
        return;
    }
    if (buf->allocator != NULL) {
        wscrt_mem_release(buf->allocator, buf->buffer);
    }
    buf->len = 0;
    buf->buffer = NULL;
    buf->capacity = 0;
    buf->allocator = NULL;
}

int wscrt_byte_buf_reserve(struct wscrt_byte_buf *buf, size_t capacity) {
    if (capacity <= buf->capacity) {
        return WSCRT_OP_SUCCESS;
    }
    if (buf->allocator == NULL) {
        /* Memory we do not own cannot grow. */
        return wscrt_raise_error(WSCRT_ERROR_SHORT_BUFFER);
    }
    buf->buffer = wscrt_mem_realloc(buf->allocator, buf->buffer, buf->capacity, capacity);
    buf->capacity = capacity;
    return WSCRT_OP_SUCCESS;
}

int wscrt_byte_buf_append(struct wscrt_byte_buf *buf, struct wscrt_byte_cursor from) {
    if (from.len > buf->capacity - buf->len) {
        return wscrt_raise_error(WSCRT_ERROR_SHORT_BUFFER);
    }
    if (from.len > 0) {
        memcpy(buf->buffer + buf->len, from.ptr, from.len);
        buf->len += from.len;
    }
    return WSCRT_OP_SUCCESS;
}

/* Makes room for `extra` more bytes, at least doubling to keep appends amortised O(1). */
static int s_ensure_room(struct wscrt_byte_buf *buf, size_t extra) {
    if (extra <= buf->capacity - buf->len) {
        return WSCRT_OP_SUCCESS;
    }
    if (extra > SIZE_MAX - buf->len) {
        return wscrt_raise_error(WSCRT_ERROR_OVERFLOW_DETECTED);
    }
    size_t needed = buf->len + extra;
    size_t doubled = buf->capacity > SIZE_MAX / 2 ? SIZE_MAX : buf->capacity * 2;
    return wscrt_byte_buf_reserve(buf, doubled > needed ? doubled : needed);
}

int wscrt_byte_buf_append_dynamic(struct wscrt_byte_buf *buf, struct wscrt_byte_cursor from) {
    if (s_ensure_room(buf, from.len)) {
        return WSCRT_OP_ERR;
    }
    return wscrt_byte_buf_append(buf, from);
}

int wscrt_byte_buf_append_byte_dynamic(struct wscrt_byte_buf *buf, uint8_t value) {
    if (s_ensure_room(buf, 1)) {
        return WSCRT_OP_ERR;
    }
    buf->buffer[buf->len++] = value;
    return WSCRT_OP_SUCCESS;
}

void wscrt_byte_buf_reset(struct wscrt_byte_buf *buf) {
    buf->len = 0;
}

struct wscrt_byte_cursor wscrt_byte_cursor_from_buf(const struct wscrt_byte_buf *buf) {
    struct wscrt_byte_cursor cursor = {.len = buf->len, .ptr = buf->buffer};
    return cursor;
}

struct wscrt_byte_cursor wscrt_byte_cursor_from_c_str(const char *str) {
    struct wscrt_byte_cursor cursor = {.len = str != NULL ? strlen(str) : 0, .ptr = (const uint8_t *)str};
    return cursor;
}

struct wscrt_byte_cursor wscrt_byte_cursor_from_array(const void *bytes, size_t len) {
    struct wscrt_byte_cursor cursor = {.len = len, .ptr = bytes};
    return cursor;
}

struct wscrt_byte_cursor wscrt_byte_cursor_advance(struct wscrt_byte_cursor *cursor, size_t n) {
    struct wscrt_byte_cursor taken = {.len = 0, .ptr = NULL};
    if (n > cursor->len) {
        return taken;
    }
    taken.len = n;
    taken.ptr = cursor->ptr;
    cursor->ptr = cursor->ptr != NULL ? cursor->ptr + n : NULL;
    cursor->len -= n;
    return taken;
}

bool wscrt_byte_cursor_read_u8(struct wscrt_byte_cursor *cursor, uint8_t *out) {
    if (cursor->len < 1) {
        return false;
    }
    *out = cursor->ptr[0];
    wscrt_byte_cursor_advance(cursor, 1);
    return true;
}

bool wscrt_byte_cursor_read_be16(struct wscrt_byte_cursor *cursor, uint16_t *out) {
    if (cursor->len < 2) {
        return false;
    }
    *out = (uint16_t)(((uint16_t)cursor->ptr[0] << 8) | cursor->ptr[1]);
    wscrt_byte_cursor_advance(cursor, 2);
    return true;
}

bool wscrt_byte_cursor_read_be64(struct wscrt_byte_cursor *cursor, uint64_t *out) {
    if (cursor->len < 8) {
        return false;
    }
    uint64_t value = 0;
    for (size_t i = 0; i < 8; ++i) {
        value = (value << 8) | cursor->ptr[i];
    }
    *out = value;
    wscrt_byte_cursor_advance(cursor, 8);
    return true;
}

bool wscrt_byte_cursor_eq(struct wscrt_byte_cursor a, struct wscrt_byte_cursor b) {
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

/* ASCII only: HTTP tokens are case-insensitive in ASCII, and locale must not matter. */
static uint8_t s_ascii_lower(uint8_t c) {
    return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + ('a' - 'A')) : c;
}

bool wscrt_byte_cursor_eq_ignore_case(struct wscrt_byte_cursor a, struct wscrt_byte_cursor b) {
    if (a.len != b.len) {
        return false;
    }
    for (size_t i = 0; i < a.len; ++i) {
        if (s_ascii_lower(a.ptr[i]) != s_ascii_lower(b.ptr[i])) {
            return false;
        }
    }
    return true;
}

bool wscrt_byte_cursor_eq_c_str_ignore_case(struct wscrt_byte_cursor a, const char *c_str) {
    return wscrt_byte_cursor_eq_ignore_case(a, wscrt_byte_cursor_from_c_str(c_str));
}

static bool s_is_ows(uint8_t c) {
    return c == ' ' || c == '\t';
}

struct wscrt_byte_cursor wscrt_byte_cursor_trim_ows(struct wscrt_byte_cursor cursor) {
    while (cursor.len > 0 && s_is_ows(cursor.ptr[0])) {
        cursor.ptr++;
        cursor.len--;
    }
    while (cursor.len > 0 && s_is_ows(cursor.ptr[cursor.len - 1])) {
        cursor.len--;
    }
    return cursor;
}

/*
 * The input's ptr becomes NULL once the last token has been handed out, which
 * is what tells "a," (tokens "a" and "") apart from "a" (token "a" only).
 * A cursor with a non-NULL ptr and len 0 therefore yields one empty token.
 */
bool wscrt_byte_cursor_next_split(struct wscrt_byte_cursor *input, char separator, struct wscrt_byte_cursor *token) {
    if (input->ptr == NULL) {
        token->ptr = NULL;
        token->len = 0;
        return false;
    }
    const uint8_t *found = input->len > 0 ? memchr(input->ptr, (unsigned char)separator, input->len) : NULL;
    token->ptr = input->ptr;
    if (found == NULL) {
        token->len = input->len;
        input->ptr = NULL;
        input->len = 0;
    } else {
        token->len = (size_t)(found - input->ptr);
        input->len -= token->len + 1;
        input->ptr = found + 1;
    }
    return true;
}
