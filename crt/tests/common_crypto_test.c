#include "common/crypto.h"

#include "common/allocator.h"
#include "test_harness.h"

static int s_hex_eq(const uint8_t *bytes, size_t len, const char *hex) {
    static const char digits[] = "0123456789abcdef";
    if (strlen(hex) != len * 2) {
        return 0;
    }
    for (size_t i = 0; i < len; ++i) {
        if (hex[2 * i] != digits[bytes[i] >> 4] || hex[2 * i + 1] != digits[bytes[i] & 0xF]) {
            return 0;
        }
    }
    return 1;
}

static int s_test_sha1_vectors(struct wscrt_allocator *allocator) {
    (void)allocator;
    uint8_t digest[WSCRT_SHA1_LEN];
    ASSERT_SUCCESS(wscrt_sha1(wscrt_byte_cursor_from_array(NULL, 0), digest));
    ASSERT_TRUE(s_hex_eq(digest, sizeof(digest), "da39a3ee5e6b4b0d3255bfef95601890afd80709"));
    ASSERT_SUCCESS(wscrt_sha1(wscrt_byte_cursor_from_c_str("abc"), digest));
    ASSERT_TRUE(s_hex_eq(digest, sizeof(digest), "a9993e364706816aba3e25717850c26c9cd0d89d"));
    ASSERT_SUCCESS(
        wscrt_sha1(wscrt_byte_cursor_from_c_str("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"), digest));
    ASSERT_TRUE(s_hex_eq(digest, sizeof(digest), "84983e441c3bd26ebaae4aa1f95129e5e54670f1"));
    return 0;
}

/* RFC 6455 section 1.3: the accept value for the sample key. */
static int s_test_websocket_accept_example(struct wscrt_allocator *allocator) {
    uint8_t digest[WSCRT_SHA1_LEN];
    ASSERT_SUCCESS(wscrt_sha1(
        wscrt_byte_cursor_from_c_str("dGhlIHNhbXBsZSBub25jZQ==258EAFA5-E914-47DA-95CA-C5AB0DC85B11"), digest));
    struct wscrt_byte_buf out;
    ASSERT_SUCCESS(wscrt_byte_buf_init(&out, allocator, 0));
    ASSERT_SUCCESS(wscrt_base64_encode(wscrt_byte_cursor_from_array(digest, sizeof(digest)), &out));
    const char *expected = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
    ASSERT_BYTES_EQ(expected, strlen(expected), out.buffer, out.len);
    wscrt_byte_buf_clean_up(&out);
    return 0;
}

/* RFC 4648 section 10. */
static const char *s_vectors[][2] = {
    {"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},         {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
};

static int s_test_base64_rfc4648_vectors(struct wscrt_allocator *allocator) {
    for (size_t i = 0; i < sizeof(s_vectors) / sizeof(s_vectors[0]); ++i) {
        const char *raw = s_vectors[i][0];
        const char *encoded = s_vectors[i][1];
        ASSERT_UINT_EQ(strlen(encoded), wscrt_base64_encoded_len(strlen(raw)));

        struct wscrt_byte_buf buf;
        ASSERT_SUCCESS(wscrt_byte_buf_init(&buf, allocator, 1));
        ASSERT_SUCCESS(wscrt_base64_encode(wscrt_byte_cursor_from_c_str(raw), &buf));
        ASSERT_BYTES_EQ(encoded, strlen(encoded), buf.buffer, buf.len);

        wscrt_byte_buf_reset(&buf);
        ASSERT_SUCCESS(wscrt_base64_decode(wscrt_byte_cursor_from_c_str(encoded), &buf));
        ASSERT_BYTES_EQ(raw, strlen(raw), buf.buffer, buf.len);
        wscrt_byte_buf_clean_up(&buf);
    }
    return 0;
}

static int s_test_base64_appends_and_round_trips_all_bytes(struct wscrt_allocator *allocator) {
    uint8_t raw[256];
    for (size_t i = 0; i < sizeof(raw); ++i) {
        raw[i] = (uint8_t)i;
    }
    for (size_t len = 0; len <= sizeof(raw); len += 37) {
        struct wscrt_byte_buf enc;
        struct wscrt_byte_buf dec;
        ASSERT_SUCCESS(wscrt_byte_buf_init(&enc, allocator, 0));
        ASSERT_SUCCESS(wscrt_byte_buf_init(&dec, allocator, 0));
        ASSERT_SUCCESS(wscrt_byte_buf_append_dynamic(&enc, wscrt_byte_cursor_from_c_str("x:")));
        ASSERT_SUCCESS(wscrt_base64_encode(wscrt_byte_cursor_from_array(raw, len), &enc));
        ASSERT_UINT_EQ(2 + wscrt_base64_encoded_len(len), enc.len);
        ASSERT_SUCCESS(wscrt_byte_buf_append_byte_dynamic(&dec, 0x42));
        ASSERT_SUCCESS(wscrt_base64_decode(wscrt_byte_cursor_from_array(enc.buffer + 2, enc.len - 2), &dec));
        ASSERT_UINT_EQ(0x42, dec.buffer[0]);
        ASSERT_BYTES_EQ(raw, len, dec.buffer + 1, dec.len - 1);
        wscrt_byte_buf_clean_up(&enc);
        wscrt_byte_buf_clean_up(&dec);
    }
    return 0;
}

static int s_test_base64_decode_rejects_bad_input(struct wscrt_allocator *allocator) {
    static const char *bad[] = {
        "Zg",       /* missing padding */
        "Zg=",      /* length not a multiple of 4 */
        "Zm9v!A==", /* character outside the alphabet */
        "Zm 9",     /* whitespace */
        "Z===",     /* too much padding */
        "====",     /* only padding */
        "Zg==Zm8=", /* padding in the middle */
        "Z=g=",     /* data after padding */
        "Zh==",     /* non-zero bits under the padding */
        "Zm9=",     /* non-zero bits under one '=' */
        "Zm-_",     /* base64url alphabet is not accepted */
    };
    struct wscrt_byte_buf out;
    ASSERT_SUCCESS(wscrt_byte_buf_init(&out, allocator, 4));
    ASSERT_SUCCESS(wscrt_byte_buf_append(&out, wscrt_byte_cursor_from_c_str("keep")));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); ++i) {
        ASSERT_ERROR(WSCRT_ERROR_INVALID_BASE64, wscrt_base64_decode(wscrt_byte_cursor_from_c_str(bad[i]), &out));
        /* a failed decode leaves what was there */
        ASSERT_BYTES_EQ("keep", 4, out.buffer, out.len);
    }
    wscrt_byte_buf_clean_up(&out);
    return 0;
}

static int s_test_base64_into_fixed_buffer(struct wscrt_allocator *allocator) {
    (void)allocator;
    uint8_t storage[4];
    struct wscrt_byte_buf small = wscrt_byte_buf_from_empty_array(storage, sizeof(storage));
    ASSERT_SUCCESS(wscrt_base64_encode(wscrt_byte_cursor_from_c_str("foo"), &small));
    ASSERT_BYTES_EQ("Zm9v", 4, small.buffer, small.len);
    ASSERT_ERROR(WSCRT_ERROR_SHORT_BUFFER, wscrt_base64_encode(wscrt_byte_cursor_from_c_str("f"), &small));
    ASSERT_UINT_EQ(4, small.len);
    return 0;
}

static int s_test_random_bytes_fill(struct wscrt_allocator *allocator) {
    (void)allocator;
    uint8_t a[64];
    uint8_t b[64];
    memset(a, 0, sizeof(a));
    memset(b, 0, sizeof(b));
    ASSERT_SUCCESS(wscrt_random_bytes(a, sizeof(a)));
    ASSERT_SUCCESS(wscrt_random_bytes(b, sizeof(b)));
    /* 2^-512 chance of a false failure. */
    ASSERT_TRUE(memcmp(a, b, sizeof(a)) != 0);
    size_t zeros = 0;
    for (size_t i = 0; i < sizeof(a); ++i) {
        zeros += a[i] == 0;
    }
    ASSERT_TRUE(zeros < 16);
    ASSERT_SUCCESS(wscrt_random_bytes(a, 0));
    return 0;
}

WSCRT_TEST_MAIN(s_test_sha1_vectors, s_test_websocket_accept_example, s_test_base64_rfc4648_vectors,
                s_test_base64_appends_and_round_trips_all_bytes, s_test_base64_decode_rejects_bad_input,
                s_test_base64_into_fixed_buffer, s_test_random_bytes_fill)
