#include "common/crypto.h"

#include <limits.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/error.h"

int wscrt_sha1(struct wscrt_byte_cursor input, uint8_t out[WSCRT_SHA1_LEN]) {
    static const uint8_t s_empty[1] = {0};
    const void *data = input.len > 0 ? (const void *)input.ptr : (const void *)s_empty;
    unsigned int out_len = 0;
    if (EVP_Digest(data, input.len, out, &out_len, EVP_sha1(), NULL) != 1 || out_len != WSCRT_SHA1_LEN) {
        return wscrt_raise_error(WSCRT_ERROR_CRYPTO_FAILURE);
    }
    return WSCRT_OP_SUCCESS;
}

int wscrt_random_bytes(void *out, size_t len) {
    uint8_t *dst = out;
    /* RAND_bytes takes an int length. */
    while (len > 0) {
        int chunk = len > (size_t)INT_MAX ? INT_MAX : (int)len;
        if (RAND_bytes(dst, chunk) != 1) {
            return wscrt_raise_error(WSCRT_ERROR_RANDOM_GEN_FAILED);
        }
        dst += chunk;
        len -= (size_t)chunk;
    }
    return WSCRT_OP_SUCCESS;
}

static const char s_base64_alphabet[64] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* 0xFF marks bytes outside the alphabet ('=' included, handled separately). */
#define S_INVALID 0xFF

static uint8_t s_base64_value(uint8_t c) {
    if (c >= 'A' && c <= 'Z') {
        return (uint8_t)(c - 'A');
    }
    if (c >= 'a' && c <= 'z') {
        return (uint8_t)(c - 'a' + 26);
    }
    if (c >= '0' && c <= '9') {
        return (uint8_t)(c - '0' + 52);
    }
    if (c == '+') {
        return 62;
    }
    if (c == '/') {
        return 63;
    }
    return S_INVALID;
}

size_t wscrt_base64_encoded_len(size_t raw_len) {
    return (raw_len / 3 + (raw_len % 3 != 0)) * 4;
}

int wscrt_base64_encode(struct wscrt_byte_cursor input, struct wscrt_byte_buf *out) {
    if (input.len / 3 >= SIZE_MAX / 4) {
        return wscrt_raise_error(WSCRT_ERROR_OVERFLOW_DETECTED);
    }
    size_t encoded_len = wscrt_base64_encoded_len(input.len);
    if (encoded_len > SIZE_MAX - out->len) {
        return wscrt_raise_error(WSCRT_ERROR_OVERFLOW_DETECTED);
    }
    if (wscrt_byte_buf_reserve(out, out->len + encoded_len)) {
        return WSCRT_OP_ERR;
    }
    uint8_t *dst = out->buffer + out->len;
    const uint8_t *src = input.ptr;
    size_t remaining = input.len;
    while (remaining >= 3) {
        uint32_t group = ((uint32_t)src[0] << 16) | ((uint32_t)src[1] << 8) | src[2];
        dst[0] = (uint8_t)s_base64_alphabet[(group >> 18) & 0x3F];
        dst[1] = (uint8_t)s_base64_alphabet[(group >> 12) & 0x3F];
        dst[2] = (uint8_t)s_base64_alphabet[(group >> 6) & 0x3F];
        dst[3] = (uint8_t)s_base64_alphabet[group & 0x3F];
        src += 3;
        dst += 4;
        remaining -= 3;
    }
    if (remaining > 0) {
        uint32_t group = (uint32_t)src[0] << 16;
        if (remaining == 2) {
            group |= (uint32_t)src[1] << 8;
        }
        dst[0] = (uint8_t)s_base64_alphabet[(group >> 18) & 0x3F];
        dst[1] = (uint8_t)s_base64_alphabet[(group >> 12) & 0x3F];
        dst[2] = remaining == 2 ? (uint8_t)s_base64_alphabet[(group >> 6) & 0x3F] : '=';
        dst[3] = '=';
    }
    out->len += encoded_len;
    return WSCRT_OP_SUCCESS;
}

/*
 * Strict decoder: the length must be a multiple of 4, '=' may only fill the
 * last one or two places, and the bits that padding drops must be zero, so
 * every accepted text is the one canonical encoding of its bytes.
 */
int wscrt_base64_decode(struct wscrt_byte_cursor input, struct wscrt_byte_buf *out) {
    if (input.len % 4 != 0) {
        return wscrt_raise_error(WSCRT_ERROR_INVALID_BASE64);
    }
    if (input.len == 0) {
        return WSCRT_OP_SUCCESS;
    }
    size_t padding = 0;
    if (input.ptr[input.len - 1] == '=') {
        padding = input.ptr[input.len - 2] == '=' ? 2 : 1;
    }
    size_t decoded_len = input.len / 4 * 3 - padding;
    if (decoded_len > SIZE_MAX - out->len) {
        return wscrt_raise_error(WSCRT_ERROR_OVERFLOW_DETECTED);
    }
    if (wscrt_byte_buf_reserve(out, out->len + decoded_len)) {
        return WSCRT_OP_ERR;
    }
    /* out->len moves only at the end, so a failure leaves `out` as it was. */
    uint8_t *dst = out->buffer + out->len;
    size_t groups = input.len / 4;
    for (size_t g = 0; g < groups; ++g) {
        const uint8_t *src = input.ptr + g * 4;
        bool last = g + 1 == groups;
        size_t group_padding = last ? padding : 0;
        uint32_t group = 0;
        for (size_t i = 0; i < 4; ++i) {
            uint8_t value = 0;
            if (i < 4 - group_padding) {
                value = s_base64_value(src[i]);
                if (value == S_INVALID) {
                    return wscrt_raise_error(WSCRT_ERROR_INVALID_BASE64);
                }
            }
            group = (group << 6) | value;
        }
        /* Non-canonical: padding drops bits that are not zero. */
        if ((group_padding == 1 && (group & 0xFF) != 0) || (group_padding == 2 && (group & 0xFFFF) != 0)) {
            return wscrt_raise_error(WSCRT_ERROR_INVALID_BASE64);
        }
        *dst++ = (uint8_t)(group >> 16);
        if (group_padding < 2) {
            *dst++ = (uint8_t)(group >> 8);
        }
        if (group_padding < 1) {
            *dst++ = (uint8_t)group;
        }
    }
    out->len += decoded_len;
    return WSCRT_OP_SUCCESS;
}
