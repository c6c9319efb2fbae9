#include "common/byte_buf.h"

#include "common/allocator.h"
#include "test_harness.h"

static struct wscrt_byte_cursor s_str(const char *text) {
    return wscrt_byte_cursor_from_c_str(text);
}

static int s_test_init_append_and_clean_up(struct wscrt_allocator *allocator) {
    struct wscrt_byte_buf buf;
    ASSERT_SUCCESS(wscrt_byte_buf_init(&buf, allocator, 8));
    ASSERT_UINT_EQ(0, buf.len);
    ASSERT_UINT_EQ(8, buf.capacity);
    ASSERT_TRUE(buf.allocator == allocator);
    ASSERT_SUCCESS(wscrt_byte_buf_append(&buf, s_str("abcd")));
    ASSERT_SUCCESS(wscrt_byte_buf_append(&buf, s_str("efgh")));
    ASSERT_BYTES_EQ("abcdefgh", 8, buf.buffer, buf.len);
    ASSERT_ERROR(WSCRT_ERROR_SHORT_BUFFER, wscrt_byte_buf_append(&buf, s_str("i")));
    ASSERT_UINT_EQ(8, buf.len);
    ASSERT_SUCCESS(wscrt_byte_buf_append(&buf, wscrt_byte_cursor_from_array(NULL, 0)));
    wscrt_byte_buf_reset(&buf);
    ASSERT_UINT_EQ(0, buf.len);
    ASSERT_UINT_EQ(8, buf.capacity);
    wscrt_byte_buf_clean_up(&buf);
    ASSERT_TRUE(buf.buffer == NULL);
    ASSERT_UINT_EQ(0, buf.capacity);
    wscrt_byte_buf_clean_up(&buf); /* twice is harmless */
    return 0;
}

static int s_test_append_dynamic_grows(struct wscrt_allocator *allocator) {
    struct wscrt_byte_buf buf;
    ASSERT_SUCCESS(wscrt_byte_buf_init(&buf, allocator, 0));
    ASSERT_TRUE(buf.buffer == NULL);
    for (int i = 0; i < 1000; ++i) {
        ASSERT_SUCCESS(wscrt_byte_buf_append_byte_dynamic(&buf, (uint8_t)i));
    }
    ASSERT_UINT_EQ(1000, buf.len);
    ASSERT_TRUE(buf.capacity >= 1000);
    for (int i = 0; i < 1000; ++i) {
        ASSERT_UINT_EQ((uint8_t)i, buf.buffer[i]);
    }
    ASSERT_SUCCESS(wscrt_byte_buf_append_dynamic(&buf, s_str("tail")));
    ASSERT_BYTES_EQ("tail", 4, buf.buffer + 1000, 4);
    /* the buffer is the one live block */
    ASSERT_UINT_EQ(1, wscrt_mem_tracer_count(allocator));
    ASSERT_UINT_EQ(buf.capacity, wscrt_mem_tracer_bytes(allocator));
    wscrt_byte_buf_clean_up(&buf);
    return 0;
}

static int s_test_reserve(struct wscrt_allocator *allocator) {
    struct wscrt_byte_buf buf;
    ASSERT_SUCCESS(wscrt_byte_buf_init(&buf, allocator, 4));
    ASSERT_SUCCESS(wscrt_byte_buf_append(&buf, s_str("ab")));
    ASSERT_SUCCESS(wscrt_byte_buf_reserve(&buf, 2)); /* never shrinks */
    ASSERT_UINT_EQ(4, buf.capacity);
    ASSERT_SUCCESS(wscrt_byte_buf_reserve(&buf, 100));
    ASSERT_UINT_EQ(100, buf.capacity);
    ASSERT_BYTES_EQ("ab", 2, buf.buffer, buf.len);
    wscrt_byte_buf_clean_up(&buf);
    return 0;
}

static int s_test_from_empty_array_is_not_owned(struct wscrt_allocator *allocator) {
    (void)allocator;
    uint8_t storage[4];
    struct wscrt_byte_buf buf = wscrt_byte_buf_from_empty_array(storage, sizeof(storage));
    ASSERT_TRUE(buf.allocator == NULL);
    ASSERT_TRUE(buf.buffer == storage);
    ASSERT_UINT_EQ(0, buf.len);
    ASSERT_SUCCESS(wscrt_byte_buf_append_dynamic(&buf, s_str("abc")));
    ASSERT_SUCCESS(wscrt_byte_buf_append_byte_dynamic(&buf, 'd'));
    ASSERT_ERROR(WSCRT_ERROR_SHORT_BUFFER, wscrt_byte_buf_append_dynamic(&buf, s_str("e")));
    ASSERT_ERROR(WSCRT_ERROR_SHORT_BUFFER, wscrt_byte_buf_reserve(&buf, 5));
    ASSERT_BYTES_EQ("abcd", 4, storage, 4);
    wscrt_byte_buf_clean_up(&buf); /* must not free the stack array */
    return 0;
}

static int s_test_cursor_advance(struct wscrt_allocator *allocator) {
    (void)allocator;
    struct wscrt_byte_cursor cursor = s_str("hello world");
    struct wscrt_byte_cursor head = wscrt_byte_cursor_advance(&cursor, 5);
    ASSERT_BYTES_EQ("hello", 5, head.ptr, head.len);
    ASSERT_BYTES_EQ(" world", 6, cursor.ptr, cursor.len);
    struct wscrt_byte_cursor too_much = wscrt_byte_cursor_advance(&cursor, 7);
    ASSERT_TRUE(too_much.ptr == NULL);
    ASSERT_UINT_EQ(0, too_much.len);
    ASSERT_UINT_EQ(6, cursor.len); /* no advance */
    struct wscrt_byte_cursor rest = wscrt_byte_cursor_advance(&cursor, 6);
    ASSERT_BYTES_EQ(" world", 6, rest.ptr, rest.len);
    ASSERT_UINT_EQ(0, cursor.len);
    return 0;
}

static int s_test_cursor_reads_big_endian(struct wscrt_allocator *allocator) {
    (void)allocator;
    static const uint8_t bytes[] = {0x81, 0x7E, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04, 0xFF};
    struct wscrt_byte_cursor cursor = wscrt_byte_cursor_from_array(bytes, sizeof(bytes));
    uint8_t u8 = 0;
    uint16_t u16 = 0;
    uint64_t u64 = 0;
    ASSERT_TRUE(wscrt_byte_cursor_read_u8(&cursor, &u8));
    ASSERT_UINT_EQ(0x81, u8);
    ASSERT_TRUE(wscrt_byte_cursor_read_be16(&cursor, &u16));
    ASSERT_UINT_EQ(0x7E01, u16);
    ASSERT_TRUE(wscrt_byte_cursor_read_be64(&cursor, &u64));
    ASSERT_UINT_EQ(0x0000000001020304ULL, u64);
    ASSERT_UINT_EQ(1, cursor.len);
    ASSERT_FALSE(wscrt_byte_cursor_read_be16(&cursor, &u16));
    ASSERT_FALSE(wscrt_byte_cursor_read_be64(&cursor, &u64));
    ASSERT_UINT_EQ(1, cursor.len); /* failed reads do not advance */
    ASSERT_TRUE(wscrt_byte_cursor_read_u8(&cursor, &u8));
    ASSERT_UINT_EQ(0xFF, u8);
    ASSERT_FALSE(wscrt_byte_cursor_read_u8(&cursor, &u8));
    return 0;
}

static int s_test_cursor_equality(struct wscrt_allocator *allocator) {
    (void)allocator;
    ASSERT_TRUE(wscrt_byte_cursor_eq(s_str("abc"), s_str("abc")));
    ASSERT_FALSE(wscrt_byte_cursor_eq(s_str("abc"), s_str("abd")));
    ASSERT_FALSE(wscrt_byte_cursor_eq(s_str("abc"), s_str("ab")));
    ASSERT_TRUE(wscrt_byte_cursor_eq(wscrt_byte_cursor_from_array(NULL, 0), s_str("")));
    ASSERT_TRUE(wscrt_byte_cursor_eq_ignore_case(s_str("WebSocket"), s_str("websocket")));
    ASSERT_FALSE(wscrt_byte_cursor_eq_ignore_case(s_str("websocket"), s_str("websockets")));
    ASSERT_TRUE(wscrt_byte_cursor_eq_c_str_ignore_case(s_str("UPGRADE"), "upgrade"));
    ASSERT_FALSE(wscrt_byte_cursor_eq_c_str_ignore_case(s_str("upgrade"), "upgrad"));
    /* only ASCII letters fold: '@' (0x40) and '`' (0x60) differ */
    ASSERT_FALSE(wscrt_byte_cursor_eq_ignore_case(s_str("@"), s_str("`")));
    return 0;
}

static int s_test_trim_ows(struct wscrt_allocator *allocator) {
    (void)allocator;
    struct wscrt_byte_cursor trimmed = wscrt_byte_cursor_trim_ows(s_str(" \t keep-alive \t"));
    ASSERT_BYTES_EQ("keep-alive", 10, trimmed.ptr, trimmed.len);
    trimmed = wscrt_byte_cursor_trim_ows(s_str(" \t "));
    ASSERT_UINT_EQ(0, trimmed.len);
    trimmed = wscrt_byte_cursor_trim_ows(s_str("a b"));
    ASSERT_BYTES_EQ("a b", 3, trimmed.ptr, trimmed.len);
    return 0;
}

static int s_test_next_split(struct wscrt_allocator *allocator) {
    (void)allocator;
    struct wscrt_byte_cursor input = s_str("keep-alive, Upgrade,,x");
    struct wscrt_byte_cursor token;
    static const char *expected[] = {"keep-alive", " Upgrade", "", "x"};
    for (size_t i = 0; i < 4; ++i) {
        ASSERT_TRUE(wscrt_byte_cursor_next_split(&input, ',', &token));
        ASSERT_BYTES_EQ(expected[i], strlen(expected[i]), token.ptr, token.len);
    }
    ASSERT_FALSE(wscrt_byte_cursor_next_split(&input, ',', &token));
    ASSERT_FALSE(wscrt_byte_cursor_next_split(&input, ',', &token));

    /* a trailing separator yields a final empty token */
    input = s_str("a,");
    ASSERT_TRUE(wscrt_byte_cursor_next_split(&input, ',', &token));
    ASSERT_BYTES_EQ("a", 1, token.ptr, token.len);
    ASSERT_TRUE(wscrt_byte_cursor_next_split(&input, ',', &token));
    ASSERT_UINT_EQ(0, token.len);
    ASSERT_FALSE(wscrt_byte_cursor_next_split(&input, ',', &token));

    /* no separator: the whole input once */
    input = s_str("Upgrade");
    ASSERT_TRUE(wscrt_byte_cursor_next_split(&input, ',', &token));
    ASSERT_BYTES_EQ("Upgrade", 7, token.ptr, token.len);
    ASSERT_FALSE(wscrt_byte_cursor_next_split(&input, ',', &token));

    /* an empty cursor with no memory behind it yields nothing */
    input = wscrt_byte_cursor_from_array(NULL, 0);
    ASSERT_FALSE(wscrt_byte_cursor_next_split(&input, ',', &token));
    return 0;
}

static int s_test_cursor_from_buf(struct wscrt_allocator *allocator) {
    struct wscrt_byte_buf buf;
    ASSERT_SUCCESS(wscrt_byte_buf_init(&buf, allocator, 16));
    ASSERT_SUCCESS(wscrt_byte_buf_append(&buf, s_str("payload")));
    struct wscrt_byte_cursor cursor = wscrt_byte_cursor_from_buf(&buf);
    ASSERT_TRUE(cursor.ptr == buf.buffer);
    ASSERT_UINT_EQ(7, cursor.len);
    wscrt_byte_buf_clean_up(&buf);
    return 0;
}

WSCRT_TEST_MAIN(s_test_init_append_and_clean_up, s_test_append_dynamic_grows, s_test_reserve,
                s_test_from_empty_array_is_not_owned, s_test_cursor_advance, s_test_cursor_reads_big_endian,
                s_test_cursor_equality, s_test_trim_ows, s_test_next_split, s_test_cursor_from_buf)
