#ifndef WSCRT_HTTP_WEBSOCKET_DEFLATE_H
#define WSCRT_HTTP_WEBSOCKET_DEFLATE_H
/*
 * permessage-deflate data path (RFC 7692 section 7.2) on zlib's raw DEFLATE:
 * a deflater that compresses whole outgoing messages, and an inflater that
 * decompresses an incoming message piece by piece as its frames arrive.
 * Negotiation is in websocket_extensions.h; framing (RSV1) in the codec.
 *
 * How a connection uses them, once deflate was negotiated:
 *
 *   send:    wscrt_websocket_deflate_compress_message(deflater, payload, &out, &compressed)
 *            -> compressed: send `out` as the message, RSV1 on its first frame only
 *               (WSCRT_WEBSOCKET_RSV1_COMPRESSED); else send `payload` as is, RSV1 clear
 *   receive: for each data frame of a message the decoder reports `compressed`:
 *              wscrt_websocket_inflater_process(inflater, payload piece)   (any split)
 *            at the message's final frame (fin):
 *              wscrt_websocket_inflater_finish_message(inflater)
 *            the inflated text/binary comes out through on_output, in chunks
 *
 * Threads: a deflater or inflater belongs to one connection and is used from
 * one thread at a time (the connection's event loop); it has no locks.
 *
 * Memory: every allocation, zlib's included (zalloc/zfree hooks), goes
 * through the allocator passed in, so the tracking allocator counts it. zlib
 * state is allocated on first use, and freed again after every message when
 * that side has no context takeover; an idle connection that negotiated
 * deflate but never used it holds only the two small structs. Inflated bytes
 * are produced into a fixed 16 KiB buffer on the stack and handed to
 * on_output chunk by chunk, so memory never grows with the inflated size.
 *
 * Errors set the thread-local error and return WSCRT_OP_ERR; after one, the
 * inflater must not be used again (the connection fails with the close status
 * wscrt_websocket_deflate_close_status() gives).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/byte_buf.h"
#include "http/websocket_extensions.h"

struct wscrt_allocator;
struct wscrt_websocket_deflater;
struct wscrt_websocket_inflater;

/* Inflated bytes are handed over in chunks of at most this size. */
#define WSCRT_WEBSOCKET_INFLATE_CHUNK_SIZE (16 * 1024)

/* ---- compressing (what we send) ---- */

struct wscrt_websocket_deflater_options {
    /* As negotiated: client_max_window_bits and client_no_context_takeover apply. */
    struct wscrt_websocket_deflate_params params;
    int compression_level; /* 1 (fastest) to 9 (smallest); 0 = zlib's default, 6 */
    int mem_level;         /* zlib memLevel 1 to 9 (memory vs speed); 0 = 8 */
    /* Messages shorter than this are sent uncompressed (RSV1 clear): below a
     * few dozen bytes DEFLATE saves nothing and costs time. 0 = compress all. */
    size_t compression_threshold;
};

/* NULL with WSCRT_ERROR_INVALID_ARGUMENT for a level, mem_level or window bits out of range. */
struct wscrt_websocket_deflater *wscrt_websocket_deflater_new(struct wscrt_allocator *allocator,
                                                              const struct wscrt_websocket_deflater_options *options);
/* NULL is ignored. */
void wscrt_websocket_deflater_destroy(struct wscrt_websocket_deflater *deflater);

/*
 * Compresses one whole message. On success *compressed says how to send it:
 *   true:  the DEFLATE bytes were appended to `out` (grown with its own
 *          allocator), already without the 0x00 0x00 0xff 0xff tail (RFC 7692
 *          7.2.1); send them with RSV1 on the message's first frame.
 *   false: nothing was appended; send `message` itself, RSV1 clear. This
 *          happens below compression_threshold, when the negotiated window is
 *          8 bits (zlib cannot compress with a 256-byte window), and, without
 *          context takeover, when compressing would not make it smaller.
 * With context takeover the compressor keeps its window across messages, so
 * every message handed to it must be sent, in order. Errors:
 * WSCRT_ERROR_WEBSOCKET_COMPRESSION_FAILURE (zlib failed; nothing appended).
 */
int wscrt_websocket_deflate_compress_message(struct wscrt_websocket_deflater *deflater,
                                             struct wscrt_byte_cursor message, struct wscrt_byte_buf *out,
                                             bool *compressed);

/* ---- decompressing (what we receive) ---- */

/* Called with each chunk of inflated bytes (1 to WSCRT_WEBSOCKET_INFLATE_CHUNK_SIZE
 * bytes, valid only during the call), on the thread calling process/finish.
 * Return WSCRT_OP_ERR with an error raised to stop: process/finish then
 * return WSCRT_OP_ERR with that error. */
typedef int(wscrt_websocket_inflater_on_output_fn)(struct wscrt_byte_cursor data, void *user_data);

struct wscrt_websocket_inflater_options {
    /* As negotiated: server_no_context_takeover applies. server_max_window_bits
     * is checked (8-15) but the inflater always keeps a 32 KiB window, so that
     * whether a message is accepted never depends on how it was split. */
    struct wscrt_websocket_deflate_params params;
    /* Inflated bytes one message may have; 0 = no limit. The inflater never
     * delivers a byte past it: at the first one it fails with
     * WSCRT_ERROR_WEBSOCKET_MESSAGE_TOO_BIG, having delivered exactly
     * max_message_size bytes of the message. */
    uint64_t max_message_size;
    wscrt_websocket_inflater_on_output_fn *on_output;
    void *user_data;
};

/* NULL with WSCRT_ERROR_INVALID_ARGUMENT for window bits out of range or no on_output. */
struct wscrt_websocket_inflater *wscrt_websocket_inflater_new(struct wscrt_allocator *allocator,
                                                              const struct wscrt_websocket_inflater_options *options);
/* NULL is ignored. */
void wscrt_websocket_inflater_destroy(struct wscrt_websocket_inflater *inflater);

/*
 * Inflates the next piece of a compressed message's payload (any part of any
 * of its frames; pieces may be empty). Output is delivered before it returns.
 * On any failure the bytes inflated before it have been delivered, so what
 * on_output sees does not depend on how the payload was split into pieces.
 * Bytes after a block with BFINAL set are ignored (a sender appends an empty
 * stored block there, RFC 7692 7.2.3.4). Errors:
 * WSCRT_ERROR_WEBSOCKET_INVALID_COMPRESSED_DATA (not DEFLATE, e.g. a reserved
 * block type or a distance before the window), WSCRT_ERROR_WEBSOCKET_MESSAGE_TOO_BIG, an error
 * on_output raised, WSCRT_ERROR_INVALID_STATE after an earlier failure.
 */
int wscrt_websocket_inflater_process(struct wscrt_websocket_inflater *inflater, struct wscrt_byte_cursor data);

/*
 * The message's last frame has been processed: appends the 0x00 0x00 0xff
 * 0xff tail (RFC 7692 7.2.2), delivers the rest of the output, and makes the
 * inflater ready for the next message (its zlib state freed if the server
 * has no context takeover). Same errors as process.
 */
int wscrt_websocket_inflater_finish_message(struct wscrt_websocket_inflater *inflater);

/* The close status for failing the connection with one of the errors above:
 * 1009 (message too big), 1007 (invalid compressed data), else 1011. */
uint16_t wscrt_websocket_deflate_close_status(int error_code);

#endif
