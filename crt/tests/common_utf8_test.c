#include <stdint.h>

#include "common/utf8.h"
#include "test_harness.h"

static struct wscrt_byte_cursor s_cur(const void *bytes, size_t len) {
    return wscrt_byte_cursor_from_array(bytes, len);
}

/* Feeds `bytes` in one update and returns the failing offset, or -1 if valid (finalize included). */
static long long s_first_bad_offset(const uint8_t *bytes, size_t len) {
    struct wscrt_utf8_validator v;
    wscrt_utf8_validator_reset(&v);
    if (wscrt_utf8_validator_update(&v, s_cur(bytes, len))) {
        return (long long)v.bytes_seen;
    }
    if (wscrt_utf8_validator_finalize(&v)) {
        return (long long)len;
    }
    return -1;
}

static int s_test_ascii_and_empty_are_valid(struct wscrt_allocator *allocator) {
    (void)allocator;
    ASSERT_TRUE(wscrt_utf8_is_valid(s_cur(NULL, 0)));
    const char *text = "Hello, world! This is a longer ASCII run to exercise the 8-byte path.";
    ASSERT_TRUE(wscrt_utf8_is_valid(wscrt_byte_cursor_from_c_str(text)));
    struct wscrt_utf8_validator v;
    wscrt_utf8_validator_reset(&v);
    ASSERT_SUCCESS(wscrt_utf8_validator_update(&v, wscrt_byte_cursor_from_c_str(text)));
    ASSERT_UINT_EQ(strlen(text), v.bytes_seen);
    ASSERT_SUCCESS(wscrt_utf8_validator_finalize(&v));
    return 0;
}

static int s_test_valid_multibyte_boundaries(struct wscrt_allocator *allocator) {
    (void)allocator;
    static const uint8_t samples[][4] = {
        {0xC2, 0x80}, {0xDF, 0xBF},             /* U+0080, U+07FF */
        {0xE0, 0xA0, 0x80}, {0xED, 0x9F, 0xBF}, /* U+0800, U+D7FF */
        {0xEE, 0x80, 0x80}, {0xEF, 0xBF, 0xBF}, /* U+E000, U+FFFF */
        {0xF0, 0x90, 0x80, 0x80},               /* U+10000 */
        {0xF4, 0x8F, 0xBF, 0xBF},               /* U+10FFFF */
    };
    static const size_t lens[] = {2, 2, 3, 3, 3, 3, 4, 4};
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); ++i) {
        ASSERT_TRUE(wscrt_utf8_is_valid(s_cur(samples[i], lens[i])));
    }
    return 0;
}

/* Valid text, split into two updates at every byte boundary (and into single bytes). */
static int s_test_valid_split_at_every_boundary(struct wscrt_allocator *allocator) {
    (void)allocator;
    /* "aé€😀 z" followed by enough ASCII to hit the fast path, then more multibyte. */
    static const uint8_t text[] = "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80 z0123456789abcdef\xF4\x8F\xBF\xBF\xED\x9F\xBF";
    size_t len = sizeof(text) - 1;
    for (size_t split = 0; split <= len; ++split) {
        struct wscrt_utf8_validator v;
        wscrt_utf8_validator_reset(&v);
        ASSERT_SUCCESS(wscrt_utf8_validator_update(&v, s_cur(text, split)));
        ASSERT_SUCCESS(wscrt_utf8_validator_update(&v, s_cur(text + split, len - split)));
        ASSERT_UINT_EQ(len, v.bytes_seen);
        ASSERT_SUCCESS(wscrt_utf8_validator_finalize(&v));
    }
    struct wscrt_utf8_validator v;
    wscrt_utf8_validator_reset(&v);
    for (size_t i = 0; i < len; ++i) {
        ASSERT_SUCCESS(wscrt_utf8_validator_update(&v, s_cur(text + i, 1)));
    }
    ASSERT_SUCCESS(wscrt_utf8_validator_finalize(&v));
    return 0;
}

struct s_bad_case {
    const char *name;
    uint8_t bytes[8];
    size_t len;
    long long bad_offset; /* offset of the first byte that must fail */
};

static int s_test_invalid_sequences_fail_at_first_bad_byte(struct wscrt_allocator *allocator) {
    (void)allocator;
    static const struct s_bad_case cases[] = {
        {"lone continuation", {0x80}, 1, 0},
        {"lone continuation BF", {'a', 0xBF}, 2, 1},
        {"overlong C0", {0xC0, 0x80}, 2, 0},
        {"overlong C1", {0xC1, 0xBF}, 2, 0},
        {"overlong E0 80", {0xE0, 0x80, 0x80}, 3, 1},
        {"overlong E0 9F", {0xE0, 0x9F, 0xBF}, 3, 1},
        {"overlong F0 80", {0xF0, 0x80, 0x80, 0x80}, 4, 1},
        {"overlong F0 8F", {0xF0, 0x8F, 0xBF, 0xBF}, 4, 1},
        {"surrogate ED A0", {0xED, 0xA0, 0x80}, 3, 1},
        {"surrogate ED BF", {0xED, 0xBF, 0xBF}, 3, 1},
        {"above U+10FFFF F4 90", {0xF4, 0x90, 0x80, 0x80}, 4, 1},
        {"F5", {0xF5, 0x80, 0x80, 0x80}, 4, 0},
        {"FE", {'x', 'y', 0xFE}, 3, 2},
        {"FF", {0xFF}, 1, 0},
        {"lead then ASCII", {0xC3, 'a'}, 2, 1},
        {"3-byte cut by ASCII", {0xE2, 0x82, 'a'}, 3, 2},
        {"4-byte cut by lead", {0xF0, 0x9F, 0x98, 0xC3, 0xA9}, 5, 3},
        {"truncated at end", {'a', 0xE2, 0x82}, 3, 3},
        {"truncated 4-byte", {0xF0, 0x9F}, 2, 2},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
        long long offset = s_first_bad_offset(cases[i].bytes, cases[i].len);
        if (offset != cases[i].bad_offset) {
            WSCRT_FAIL_("%s: expected failure at %lld, got %lld", cases[i].name, cases[i].bad_offset, offset);
        }
        ASSERT_FALSE(wscrt_utf8_is_valid(s_cur(cases[i].bytes, cases[i].len)));
    }
    return 0;
}

/* Fail fast: "E0 80" fails at the 80 in the update, without waiting for finalize. */
static int s_test_fails_fast_across_chunks(struct wscrt_allocator *allocator) {
    (void)allocator;
    struct wscrt_utf8_validator v;
    wscrt_utf8_validator_reset(&v);
    ASSERT_SUCCESS(wscrt_utf8_validator_update(&v, wscrt_byte_cursor_from_c_str("0123456789")));
    ASSERT_SUCCESS(wscrt_utf8_validator_update(&v, s_cur("\xE0", 1)));
    ASSERT_ERROR(WSCRT_ERROR_INVALID_UTF8, wscrt_utf8_validator_update(&v, s_cur("\x80\x80", 2)));
    ASSERT_UINT_EQ(11, v.bytes_seen);
    /* Stays failed until reset. */
    ASSERT_ERROR(WSCRT_ERROR_INVALID_UTF8, wscrt_utf8_validator_update(&v, s_cur("a", 1)));
    ASSERT_ERROR(WSCRT_ERROR_INVALID_UTF8, wscrt_utf8_validator_finalize(&v));
    /* finalize resets */
    ASSERT_SUCCESS(wscrt_utf8_validator_update(&v, s_cur("ok", 2)));
    ASSERT_SUCCESS(wscrt_utf8_validator_finalize(&v));
    return 0;
}

/* A bad byte after a long ASCII run is found exactly, wherever it falls in the 8-byte words. */
static int s_test_bad_byte_offset_after_ascii_run(struct wscrt_allocator *allocator) {
    (void)allocator;
    uint8_t text[40];
    for (size_t bad = 0; bad < sizeof(text); ++bad) {
        memset(text, 'a', sizeof(text));
        text[bad] = 0xFF;
        ASSERT_INT_EQ((long long)bad, s_first_bad_offset(text, sizeof(text)));
    }
    return 0;
}

static int s_test_finalize_rejects_truncated_sequence(struct wscrt_allocator *allocator) {
    (void)allocator;
    struct wscrt_utf8_validator v;
    wscrt_utf8_validator_reset(&v);
    ASSERT_SUCCESS(wscrt_utf8_validator_update(&v, s_cur("a\xF0\x9F\x98", 4)));
    ASSERT_UINT_EQ(4, v.bytes_seen);
    ASSERT_ERROR(WSCRT_ERROR_INVALID_UTF8, wscrt_utf8_validator_finalize(&v));
    ASSERT_UINT_EQ(0, v.bytes_seen);
    return 0;
}

/* Every 2-byte and 3-byte sequence, checked against a direct reading of RFC 3629's table. */
static bool s_reference_valid(const uint8_t *b, size_t len) {
    if (len == 2) {
        return b[0] >= 0xC2 && b[0] <= 0xDF && b[1] >= 0x80 && b[1] <= 0xBF;
    }
    if (len == 3) {
        uint32_t cp = ((uint32_t)(b[0] & 0x0F) << 12) | ((uint32_t)(b[1] & 0x3F) << 6) | (b[2] & 0x3F);
        return (b[0] & 0xF0) == 0xE0 && (b[1] & 0xC0) == 0x80 && (b[2] & 0xC0) == 0x80 && cp >= 0x800 &&
               !(cp >= 0xD800 && cp <= 0xDFFF);
    }
    return false;
}

static int s_test_exhaustive_two_and_three_byte(struct wscrt_allocator *allocator) {
    (void)allocator;
    uint8_t b[3];
    for (unsigned a = 0xC0; a <= 0xDF; ++a) {
        for (unsigned c = 0; c <= 0xFF; ++c) {
            b[0] = (uint8_t)a;
            b[1] = (uint8_t)c;
            ASSERT_INT_EQ(s_reference_valid(b, 2), wscrt_utf8_is_valid(s_cur(b, 2)));
        }
    }
    for (unsigned a = 0xE0; a <= 0xEF; ++a) {
        for (unsigned c = 0x80; c <= 0xBF; ++c) {
            for (unsigned d = 0; d <= 0xFF; ++d) {
                b[0] = (uint8_t)a;
                b[1] = (uint8_t)c;
                b[2] = (uint8_t)d;
                ASSERT_INT_EQ(s_reference_valid(b, 3), wscrt_utf8_is_valid(s_cur(b, 3)));
            }
        }
    }
    return 0;
}

WSCRT_TEST_MAIN(s_test_ascii_and_empty_are_valid, s_test_valid_multibyte_boundaries,
                s_test_valid_split_at_every_boundary, s_test_invalid_sequences_fail_at_first_bad_byte,
                s_test_fails_fast_across_chunks, s_test_bad_byte_offset_after_ascii_run,
                s_test_finalize_rejects_truncated_sequence, s_test_exhaustive_two_and_three_byte)
