#ifndef WSCRT_COMMON_BYTE_BUF_H
#define WSCRT_COMMON_BYTE_BUF_H
/*
 * wscrt_byte_buf owns memory (len used of capacity); wscrt_byte_cursor is a
 * non-owning view that is advanced as it is read.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct wscrt_allocator;

struct wscrt_byte_cursor {
    size_t len;
    const uint8_t *ptr;
};

struct wscrt_byte_buf {
    size_t len;
    uint8_t *buffer;
    size_t capacity;
    struct wscrt_allocator *allocator; /* NULL when the buf wraps memory it does not own */
};

int wscrt_byte_buf_init(struct wscrt_byte_buf *buf, struct wscrt_allocator *allocator, size_t capacity);
/* A buf over existing memory, len 0, not owned (clean_up does not free it). */
struct wscrt_byte_buf wscrt_byte_buf_from_empty_array(void *bytes, size_t capacity);
void wscrt_byte_buf_clean_up(struct wscrt_byte_buf *buf);
/* Grows capacity to at least `capacity` (owned bufs only). */
int wscrt_byte_buf_reserve(struct wscrt_byte_buf *buf, size_t capacity);
/* Fails with WSCRT_ERROR_SHORT_BUFFER if it does not fit. */
int wscrt_byte_buf_append(struct wscrt_byte_buf *buf, struct wscrt_byte_cursor from);
/* Grows (doubling) as needed. */
int wscrt_byte_buf_append_dynamic(struct wscrt_byte_buf *buf, struct wscrt_byte_cursor from);
int wscrt_byte_buf_append_byte_dynamic(struct wscrt_byte_buf *buf, uint8_t value);
void wscrt_byte_buf_reset(struct wscrt_byte_buf *buf); /* len = 0 */

struct wscrt_byte_cursor wscrt_byte_cursor_from_buf(const struct wscrt_byte_buf *buf);
struct wscrt_byte_cursor wscrt_byte_cursor_from_c_str(const char *str);
struct wscrt_byte_cursor wscrt_byte_cursor_from_array(const void *bytes, size_t len);
/* Returns the first n bytes and advances the cursor past them; an empty cursor
 * (ptr NULL, len 0) and no advance if fewer than n remain. */
struct wscrt_byte_cursor wscrt_byte_cursor_advance(struct wscrt_byte_cursor *cursor, size_t n);
bool wscrt_byte_cursor_read_u8(struct wscrt_byte_cursor *cursor, uint8_t *out);
bool wscrt_byte_cursor_read_be16(struct wscrt_byte_cursor *cursor, uint16_t *out);
bool wscrt_byte_cursor_read_be64(struct wscrt_byte_cursor *cursor, uint64_t *out);
bool wscrt_byte_cursor_eq(struct wscrt_byte_cursor a, struct wscrt_byte_cursor b);
bool wscrt_byte_cursor_eq_ignore_case(struct wscrt_byte_cursor a, struct wscrt_byte_cursor b);
bool wscrt_byte_cursor_eq_c_str_ignore_case(struct wscrt_byte_cursor a, const char *c_str);
/* Strips leading and trailing spaces and tabs. */
struct wscrt_byte_cursor wscrt_byte_cursor_trim_ows(struct wscrt_byte_cursor cursor);
/* Splits on `separator`: returns true and the next token (untrimmed) each call
 * until the input is exhausted. `input` is advanced. */
bool wscrt_byte_cursor_next_split(struct wscrt_byte_cursor *input, char separator, struct wscrt_byte_cursor *token);

#endif
