#ifndef WSCRT_COMMON_UTF8_H
#define WSCRT_COMMON_UTF8_H
/*
 * Incremental UTF-8 validator (RFC 3629: no overlongs, no surrogates, nothing
 * above U+10FFFF). State survives across chunks, so a code point may be split
 * anywhere; it fails at the first byte that can no longer start or continue a
 * valid sequence (fail fast), not at the end of the message.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/byte_buf.h"

struct wscrt_utf8_validator {
    uint32_t state;      /* private */
    uint32_t codepoint;  /* private */
    uint64_t bytes_seen; /* total bytes accepted so far */
};

void wscrt_utf8_validator_reset(struct wscrt_utf8_validator *validator);
/* WSCRT_OP_ERR + WSCRT_ERROR_INVALID_UTF8 at the first bad byte; bytes_seen
 * then holds the offset of that byte from the start of the stream. */
int wscrt_utf8_validator_update(struct wscrt_utf8_validator *validator, struct wscrt_byte_cursor bytes);
/* Fails if the stream ended inside a multi-byte sequence. Resets. */
int wscrt_utf8_validator_finalize(struct wscrt_utf8_validator *validator);
bool wscrt_utf8_is_valid(struct wscrt_byte_cursor bytes);

#endif
