#ifndef WSCRT_HTTP_WEBSOCKET_ENCODER_H
#define WSCRT_HTTP_WEBSOCKET_ENCODER_H
/* Frame writer: events in, bytes out. Knows nothing of sockets. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* 2, 4 or 10 bytes, plus 4 when masked. */
size_t wscrt_websocket_frame_header_size(uint64_t payload_length, bool masked);
/* Writes a minimal-length header to `out` (room for WSCRT_WEBSOCKET_MAX_HEADER_SIZE);
 * masking_key NULL = unmasked. Returns the bytes written, or 0 (nothing
 * written) if a value does not fit its field: payload_length >= 2^63, opcode >
 * 0xF, or rsv bits outside 0x70; or for RSV1 (WSCRT_WEBSOCKET_RSV1_COMPRESSED)
 * on a control or CONTINUATION frame: a compressed message has RSV1 on its
 * first frame only, and control frames are never compressed (RFC 7692 6). */
size_t wscrt_websocket_encode_header(uint8_t *out, uint8_t opcode, bool fin, uint8_t rsv, uint64_t payload_length,
                                     const uint8_t *masking_key);
/* dst[i] = src[i] ^ key[(key_offset + i) % 4], eight bytes at a time. dst and
 * src may be the same buffer. This is the copy into the send queue: masking
 * costs no separate pass. */
void wscrt_websocket_mask_copy(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t key[4], size_t key_offset);

#endif
