/* Frame writer tests: hand-computed bytes, including RFC 6455 section 5.7. */
#include "common/allocator.h"
#include "common/byte_buf.h"
#include "common/error.h"
#include "http/websocket_encoder.h"
#include "http/websocket_frame.h"
#include "test_harness.h"
#include "test_hex.h"

#define EXPECT(call) ASSERT_INT_EQ(0, (call))

/* RFC 6455 5.7 uses this masking key. */
static const uint8_t s_rfc_key[4] = {0x37, 0xfa, 0x21, 0x3d};

/* A whole frame: header then (masked) payload, as a client sends it. */
static size_t s_encode_frame(uint8_t *out, uint8_t opcode, bool fin, uint8_t rsv, const void *payload, size_t len,
                             const uint8_t *key) {
    size_t header_len = wscrt_websocket_encode_header(out, opcode, fin, rsv, len, key);
    if (key) {
        wscrt_websocket_mask_copy(out + header_len, payload, len, key, 0);
    } else if (len > 0) {
        memcpy(out + header_len, payload, len);
    }
    return header_len + len;
}

/* One frame with a short text payload (masked with `key` unless NULL) encodes to the bytes `hex`. */
static int s_expect_encoded(uint8_t opcode, bool fin, const char *payload, const uint8_t *key, const char *hex) {
    uint8_t out[32];
    size_t len = s_encode_frame(out, opcode, fin, 0, payload, strlen(payload), key);
    uint8_t expected[32];
    size_t expected_len = s_hex_to_array(expected, sizeof(expected), hex);
    ASSERT_BYTES_EQ(expected, expected_len, out, len);
    return 0;
}

static int s_test_header_size_follows_the_length_boundaries(struct wscrt_allocator *allocator) {
    (void)allocator;
    const struct {
        uint64_t length;
        size_t size;
    } cases[] = {
        {0, 2}, {1, 2}, {125, 2}, {126, 4}, {127, 4}, {65535, 4}, {65536, 10}, {0x7fffffffffffffffULL, 10},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
        ASSERT_UINT_EQ(cases[i].size, wscrt_websocket_frame_header_size(cases[i].length, false));
        ASSERT_UINT_EQ(cases[i].size + 4, wscrt_websocket_frame_header_size(cases[i].length, true));
    }
    return 0;
}

static int s_test_unmasked_text_hello_matches_rfc_example(struct wscrt_allocator *allocator) {
    (void)allocator;
    EXPECT(s_expect_encoded(WSCRT_WEBSOCKET_OPCODE_TEXT, true, "Hello", NULL, "81 05 48 65 6c 6c 6f"));
    return 0;
}

static int s_test_masked_text_hello_matches_rfc_example(struct wscrt_allocator *allocator) {
    (void)allocator;
    EXPECT(s_expect_encoded(WSCRT_WEBSOCKET_OPCODE_TEXT, true, "Hello", s_rfc_key, "81 85 37 fa 21 3d 7f 9f 4d 51 58"));
    return 0;
}

static int s_test_fragmented_text_matches_rfc_example(struct wscrt_allocator *allocator) {
    (void)allocator;
    EXPECT(s_expect_encoded(WSCRT_WEBSOCKET_OPCODE_TEXT, false, "Hel", NULL, "01 03 48 65 6c"));
    EXPECT(s_expect_encoded(WSCRT_WEBSOCKET_OPCODE_CONTINUATION, true, "lo", NULL, "80 02 6c 6f"));
    return 0;
}

static int s_test_ping_and_masked_pong_match_rfc_example(struct wscrt_allocator *allocator) {
    (void)allocator;
    EXPECT(s_expect_encoded(WSCRT_WEBSOCKET_OPCODE_PING, true, "Hello", NULL, "89 05 48 65 6c 6c 6f"));
    EXPECT(s_expect_encoded(WSCRT_WEBSOCKET_OPCODE_PONG, true, "Hello", s_rfc_key, "8a 85 37 fa 21 3d 7f 9f 4d 51 58"));
    return 0;
}

static int s_test_headers_use_the_minimal_length_form(struct wscrt_allocator *allocator) {
    (void)allocator;
    const struct {
        uint64_t length;
        const uint8_t *key;
        uint8_t expected[WSCRT_WEBSOCKET_MAX_HEADER_SIZE];
        size_t expected_len;
    } cases[] = {
        {0, NULL, {0x82, 0x00}, 2},
        {125, NULL, {0x82, 0x7d}, 2},
        {126, NULL, {0x82, 0x7e, 0x00, 0x7e}, 4},
        {256, NULL, {0x82, 0x7e, 0x01, 0x00}, 4}, /* RFC 6455 5.7 */
        {65535, NULL, {0x82, 0x7e, 0xff, 0xff}, 4},
        {65536, NULL, {0x82, 0x7f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00}, 10}, /* RFC 6455 5.7 */
        {0x0102030405060708ULL, NULL, {0x82, 0x7f, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08}, 10},
        {125, s_rfc_key, {0x82, 0xfd, 0x37, 0xfa, 0x21, 0x3d}, 6},
        {126, s_rfc_key, {0x82, 0xfe, 0x00, 0x7e, 0x37, 0xfa, 0x21, 0x3d}, 8},
        {65535, s_rfc_key, {0x82, 0xfe, 0xff, 0xff, 0x37, 0xfa, 0x21, 0x3d}, 8},
        {65536, s_rfc_key, {0x82, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x37, 0xfa, 0x21, 0x3d}, 14},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
        uint8_t out[WSCRT_WEBSOCKET_MAX_HEADER_SIZE];
        size_t len = wscrt_websocket_encode_header(out, WSCRT_WEBSOCKET_OPCODE_BINARY, true, 0, cases[i].length,
                                                   cases[i].key);
        ASSERT_BYTES_EQ(cases[i].expected, cases[i].expected_len, out, len);
        ASSERT_UINT_EQ(wscrt_websocket_frame_header_size(cases[i].length, cases[i].key != NULL), len);
    }
    return 0;
}

static int s_test_header_carries_fin_rsv_and_opcode_bits(struct wscrt_allocator *allocator) {
    (void)allocator;
    uint8_t out[WSCRT_WEBSOCKET_MAX_HEADER_SIZE];
    ASSERT_UINT_EQ(2, wscrt_websocket_encode_header(out, WSCRT_WEBSOCKET_OPCODE_TEXT, true, 0x40, 3, NULL));
    ASSERT_UINT_EQ(0xc1, out[0]);
    ASSERT_UINT_EQ(0x03, out[1]);
    ASSERT_UINT_EQ(2, wscrt_websocket_encode_header(out, WSCRT_WEBSOCKET_OPCODE_BINARY, false, 0x70, 0, NULL));
    ASSERT_UINT_EQ(0x72, out[0]);
    ASSERT_UINT_EQ(2, wscrt_websocket_encode_header(out, WSCRT_WEBSOCKET_OPCODE_CLOSE, true, 0, 0, NULL));
    ASSERT_UINT_EQ(0x88, out[0]);
    ASSERT_UINT_EQ(0x00, out[1]);
    return 0;
}

static int s_test_header_refuses_values_that_do_not_fit_their_fields(struct wscrt_allocator *allocator) {
    (void)allocator;
    uint8_t out[WSCRT_WEBSOCKET_MAX_HEADER_SIZE];
    /* RFC 6455 5.2: the most significant bit of a 64-bit length must be 0. */
    ASSERT_UINT_EQ(0, wscrt_websocket_encode_header(out, WSCRT_WEBSOCKET_OPCODE_BINARY, true, 0,
                                                    0x8000000000000000ULL, NULL));
    ASSERT_UINT_EQ(0, wscrt_websocket_encode_header(out, 0x10, true, 0, 0, NULL));
    ASSERT_UINT_EQ(0, wscrt_websocket_encode_header(out, WSCRT_WEBSOCKET_OPCODE_BINARY, true, 0x01, 0, NULL));
    ASSERT_UINT_EQ(0, wscrt_websocket_encode_header(out, WSCRT_WEBSOCKET_OPCODE_BINARY, true, 0x80, 0, NULL));
    return 0;
}

static void s_mask_reference(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t key[4], size_t key_offset) {
    for (size_t i = 0; i < len; ++i) {
        dst[i] = src[i] ^ key[(key_offset + i) % 4];
    }
}

static int s_test_mask_copy_matches_bytewise_masking_at_any_alignment_and_offset(struct wscrt_allocator *allocator) {
    (void)allocator;
    const uint8_t key[4] = {0xa1, 0xb2, 0xc3, 0xd4};
    uint8_t src_storage[160];
    uint8_t dst_storage[160];
    uint8_t expected[160];
    for (size_t i = 0; i < sizeof(src_storage); ++i) {
        src_storage[i] = (uint8_t)(i * 7 + 3);
    }
    for (size_t len = 0; len <= 130; ++len) {
        for (size_t src_align = 0; src_align < 8; ++src_align) {
            for (size_t dst_align = 0; dst_align < 8; dst_align += 3) {
                for (size_t key_offset = 0; key_offset < 9; ++key_offset) {
                    const uint8_t *src = src_storage + src_align;
                    uint8_t *dst = dst_storage + dst_align;
                    memset(dst_storage, 0xee, sizeof(dst_storage));
                    s_mask_reference(expected, src, len, key, key_offset);
                    wscrt_websocket_mask_copy(dst, src, len, key, key_offset);
                    if ((len && memcmp(expected, dst, len) != 0) || (dst_align && dst_storage[dst_align - 1] != 0xee) ||
                        dst[len] != 0xee) {
                        WSCRT_FAIL_("mask_copy differs: len %zu, src +%zu, dst +%zu, key offset %zu", len, src_align,
                                    dst_align, key_offset);
                    }
                }
            }
        }
    }
    return 0;
}

static int s_test_mask_copy_works_in_place(struct wscrt_allocator *allocator) {
    (void)allocator;
    uint8_t buffer[] = {'H', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd', ',', ' ', 'm', 'a', 's', 'k', 'e', 'd'};
    uint8_t expected[sizeof(buffer)];
    s_mask_reference(expected, buffer, sizeof(buffer), s_rfc_key, 0);
    wscrt_websocket_mask_copy(buffer + 0, buffer + 0, sizeof(buffer), s_rfc_key, 0);
    ASSERT_BYTES_EQ(expected, sizeof(expected), buffer, sizeof(buffer));
    /* Masking is its own inverse. */
    wscrt_websocket_mask_copy(buffer, buffer, sizeof(buffer), s_rfc_key, 0);
    ASSERT_BYTES_EQ("Hello world, masked", sizeof(buffer), buffer, sizeof(buffer));
    return 0;
}

static int s_test_mask_copy_in_pieces_equals_one_pass(struct wscrt_allocator *allocator) {
    (void)allocator;
    uint8_t src[100];
    for (size_t i = 0; i < sizeof(src); ++i) {
        src[i] = (uint8_t)(255 - i);
    }
    uint8_t whole[sizeof(src)];
    wscrt_websocket_mask_copy(whole, src, sizeof(src), s_rfc_key, 0);
    for (size_t cut = 0; cut <= sizeof(src); ++cut) {
        uint8_t pieces[sizeof(src)];
        /* key_offset continues the key where the first piece stopped. */
        wscrt_websocket_mask_copy(pieces, src, cut, s_rfc_key, 0);
        wscrt_websocket_mask_copy(pieces + cut, src + cut, sizeof(src) - cut, s_rfc_key, cut);
        ASSERT_BYTES_EQ(whole, sizeof(whole), pieces, sizeof(pieces));
    }
    return 0;
}

static int s_test_masked_65536_byte_frame_has_the_64_bit_header_and_masked_payload(struct wscrt_allocator *allocator) {
    size_t len = 65536;
    uint8_t *payload = wscrt_mem_acquire(allocator, len);
    uint8_t *out = wscrt_mem_acquire(allocator, len + WSCRT_WEBSOCKET_MAX_HEADER_SIZE);
    for (size_t i = 0; i < len; ++i) {
        payload[i] = (uint8_t)(i ^ (i >> 8));
    }
    size_t written = s_encode_frame(out, WSCRT_WEBSOCKET_OPCODE_BINARY, true, 0, payload, len, s_rfc_key);
    const uint8_t header[] = {0x82, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x37, 0xfa, 0x21, 0x3d};
    int failed = written != sizeof(header) + len || memcmp(out, header, sizeof(header)) != 0;
    for (size_t i = 0; i < len && !failed; ++i) {
        failed = out[sizeof(header) + i] != (payload[i] ^ s_rfc_key[i % 4]);
    }
    wscrt_mem_release(allocator, payload);
    wscrt_mem_release(allocator, out);
    ASSERT_FALSE(failed);
    return 0;
}

WSCRT_TEST_MAIN(s_test_header_size_follows_the_length_boundaries,
                s_test_unmasked_text_hello_matches_rfc_example,
                s_test_masked_text_hello_matches_rfc_example,
                s_test_fragmented_text_matches_rfc_example,
                s_test_ping_and_masked_pong_match_rfc_example,
                s_test_headers_use_the_minimal_length_form,
                s_test_header_carries_fin_rsv_and_opcode_bits,
                s_test_header_refuses_values_that_do_not_fit_their_fields,
                s_test_mask_copy_matches_bytewise_masking_at_any_alignment_and_offset,
                s_test_mask_copy_works_in_place,
                s_test_mask_copy_in_pieces_equals_one_pass,
                s_test_masked_65536_byte_frame_has_the_64_bit_header_and_masked_payload)
