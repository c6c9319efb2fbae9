#include "http/websocket_encoder.h"

#include <string.h>

#include "http/websocket_frame.h"

size_t wscrt_websocket_frame_header_size(uint64_t payload_length, bool masked) {
    size_t size = 2;
    if (payload_length > UINT16_MAX) {
        size += 8;
    } else if (payload_length >= WSCRT_WEBSOCKET_LENGTH7_U16) {
        size += 2;
    }
    if (masked) {
        size += 4;
    }
    return size;
}

size_t wscrt_websocket_encode_header(uint8_t *out, uint8_t opcode, bool fin, uint8_t rsv, uint64_t payload_length,
                                     const uint8_t *masking_key) {
    /* A length with the top bit set cannot be sent (RFC 6455 5.2), and bits
     * outside their fields would corrupt the neighbouring ones. */
    if (payload_length > (uint64_t)INT64_MAX || (opcode & ~WSCRT_WEBSOCKET_OPCODE_MASK) != 0 ||
        (rsv & ~WSCRT_WEBSOCKET_RSV_MASK) != 0) {
        return 0;
    }
    if ((rsv & WSCRT_WEBSOCKET_RSV1_COMPRESSED) &&
        (opcode == WSCRT_WEBSOCKET_OPCODE_CONTINUATION || !wscrt_websocket_opcode_is_data(opcode))) {
        return 0;
    }
    size_t pos = 0;
    out[pos++] = (uint8_t)((fin ? WSCRT_WEBSOCKET_FIN_BIT : 0) | rsv | opcode);
    uint8_t mask_bit = masking_key ? WSCRT_WEBSOCKET_MASK_BIT : 0;
    if (payload_length < WSCRT_WEBSOCKET_LENGTH7_U16) {
        out[pos++] = (uint8_t)(mask_bit | payload_length);
    } else if (payload_length <= UINT16_MAX) {
        out[pos++] = (uint8_t)(mask_bit | WSCRT_WEBSOCKET_LENGTH7_U16);
        out[pos++] = (uint8_t)(payload_length >> 8);
        out[pos++] = (uint8_t)payload_length;
    } else {
        out[pos++] = (uint8_t)(mask_bit | WSCRT_WEBSOCKET_LENGTH7_U64);
        for (int shift = 56; shift >= 0; shift -= 8) {
            out[pos++] = (uint8_t)(payload_length >> shift);
        }
    }
    if (masking_key) {
        memcpy(out + pos, masking_key, 4);
        pos += 4;
    }
    return pos;
}

void wscrt_websocket_mask_copy(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t key[4], size_t key_offset) {
    /* The key laid out in memory order starting at key_offset: XOR-ing a word
     * loaded with memcpy is then independent of endianness, and since 8 is a
     * multiple of 4 the same word fits every 8-byte step. */
    uint8_t rotated[8];
    for (size_t i = 0; i < 8; ++i) {
        rotated[i] = key[(key_offset + i) & 3];
    }
    uint64_t key_word;
    memcpy(&key_word, rotated, sizeof(key_word));

    size_t i = 0;
    /* Four words per iteration lets the compiler keep several loads in flight;
     * memcpy makes any alignment legal and compiles to plain moves. Four
     * separate words rather than an array: with an array GCC 12 copies through
     * the stack on aarch64. (No intrinsics: the same C is vectorized for SSE2
     * and NEON; ARMv8 and x86-64 both allow unaligned loads.) */
    for (; i + 32 <= len; i += 32) {
        uint64_t w0, w1, w2, w3;
        memcpy(&w0, src + i, 8);
        memcpy(&w1, src + i + 8, 8);
        memcpy(&w2, src + i + 16, 8);
        memcpy(&w3, src + i + 24, 8);
        w0 ^= key_word;
        w1 ^= key_word;
        w2 ^= key_word;
        w3 ^= key_word;
        memcpy(dst + i, &w0, 8);
        memcpy(dst + i + 8, &w1, 8);
        memcpy(dst + i + 16, &w2, 8);
        memcpy(dst + i + 24, &w3, 8);
    }
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, src + i, 8);
        w ^= key_word;
        memcpy(dst + i, &w, 8);
    }
    for (; i < len; ++i) {
        dst[i] = src[i] ^ rotated[i & 7];
    }
}
