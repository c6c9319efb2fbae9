#ifndef WSCRT_COMMON_CRYPTO_H
#define WSCRT_COMMON_CRYPTO_H
/* Thin wrappers over libcrypto (linked statically, hidden). */
#include <stddef.h>
#include <stdint.h>

#include "common/byte_buf.h"

#define WSCRT_SHA1_LEN 20

int wscrt_sha1(struct wscrt_byte_cursor input, uint8_t out[WSCRT_SHA1_LEN]);
/* Cryptographically strong random bytes (RAND_bytes). */
int wscrt_random_bytes(void *out, size_t len);

/* Base64 (RFC 4648, with padding). encode appends to `out` (dynamic). */
size_t wscrt_base64_encoded_len(size_t raw_len);
int wscrt_base64_encode(struct wscrt_byte_cursor input, struct wscrt_byte_buf *out);
int wscrt_base64_decode(struct wscrt_byte_cursor input, struct wscrt_byte_buf *out);

#endif
