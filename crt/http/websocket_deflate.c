#include "http/websocket_deflate.h"

#include <limits.h>
#include <string.h>
#include <zlib.h>

#include "common/allocator.h"
#include "common/error.h"
#include "common/logging.h"
#include "http/websocket_frame.h"

/* RFC 7692 7.2.1: a sync flush ends with an empty stored block, whose last four bytes are not sent. */
static const uint8_t s_tail[4] = {0x00, 0x00, 0xff, 0xff};

/* zlib counts in uInt: larger inputs are fed in slices of this size. */
#define S_MAX_SLICE ((size_t)1 << 30)

/* zlib's smallest raw-DEFLATE window: deflateInit2 refuses 8 (see websocket_extensions.h). */
#define S_ZLIB_MIN_WINDOW_BITS 9

/* ---- zlib memory through the wscrt allocator ---- */

static voidpf s_zalloc(voidpf opaque, uInt items, uInt size) {
    if (size != 0 && items > SIZE_MAX / size) {
        return Z_NULL;
    }
    return wscrt_mem_acquire(opaque, (size_t)items * size);
}

static void s_zfree(voidpf opaque, voidpf ptr) {
    wscrt_mem_release(opaque, ptr);
}

static void s_zstream_init(z_stream *stream, struct wscrt_allocator *allocator) {
    memset(stream, 0, sizeof(*stream));
    stream->zalloc = s_zalloc;
    stream->zfree = s_zfree;
    stream->opaque = allocator;
}

static bool s_window_bits_valid(uint8_t bits) {
    return bits >= WSCRT_WEBSOCKET_DEFLATE_MIN_WINDOW_BITS && bits <= WSCRT_WEBSOCKET_DEFLATE_MAX_WINDOW_BITS;
}

uint16_t wscrt_websocket_deflate_close_status(int error_code) {
    switch (error_code) {
        case WSCRT_ERROR_WEBSOCKET_MESSAGE_TOO_BIG:
            return 1009; /* RFC 6455 7.4.1: a message too big to process */
        case WSCRT_ERROR_WEBSOCKET_INVALID_COMPRESSED_DATA:
            return WSCRT_WEBSOCKET_CLOSE_INVALID_PAYLOAD;
        default:
            return WSCRT_WEBSOCKET_CLOSE_INTERNAL_ERROR;
    }
}

/* ---------------------------------------------------------------------------------------------------------------- */
/* Deflater                                                                                                         */
/* ---------------------------------------------------------------------------------------------------------------- */

struct wscrt_websocket_deflater {
    struct wscrt_allocator *allocator;
    struct wscrt_websocket_deflater_options options;
    bool stream_live; /* zlib state allocated (stream holds the window when context is taken over) */
    z_stream stream;
};

struct wscrt_websocket_deflater *wscrt_websocket_deflater_new(struct wscrt_allocator *allocator,
                                                              const struct wscrt_websocket_deflater_options *options) {
    if (!options || !s_window_bits_valid(options->params.client_max_window_bits) ||
        options->compression_level < 0 || options->compression_level > 9 || options->mem_level < 0 ||
        options->mem_level > 9) {
        wscrt_raise_error(WSCRT_ERROR_INVALID_ARGUMENT);
        return NULL;
    }
    struct wscrt_websocket_deflater *deflater = wscrt_mem_calloc(allocator, 1, sizeof(*deflater));
    deflater->allocator = allocator;
    deflater->options = *options;
    return deflater;
}

static void s_deflater_free_stream(struct wscrt_websocket_deflater *deflater) {
    if (deflater->stream_live) {
        deflateEnd(&deflater->stream);
        deflater->stream_live = false;
    }
}

void wscrt_websocket_deflater_destroy(struct wscrt_websocket_deflater *deflater) {
    if (!deflater) {
        return;
    }
    s_deflater_free_stream(deflater);
    wscrt_mem_release(deflater->allocator, deflater);
}

static int s_deflater_start_stream(struct wscrt_websocket_deflater *deflater) {
    if (deflater->stream_live) {
        return WSCRT_OP_SUCCESS;
    }
    const struct wscrt_websocket_deflater_options *options = &deflater->options;
    s_zstream_init(&deflater->stream, deflater->allocator);
    int level = options->compression_level ? options->compression_level : Z_DEFAULT_COMPRESSION;
    int mem_level = options->mem_level ? options->mem_level : 8;
    /* Negative window bits: raw DEFLATE, no zlib header or checksum (RFC 7692 7.2.1). */
    if (deflateInit2(&deflater->stream, level, Z_DEFLATED, -(int)options->params.client_max_window_bits, mem_level,
                     Z_DEFAULT_STRATEGY) != Z_OK) {
        return wscrt_raise_error(WSCRT_ERROR_WEBSOCKET_COMPRESSION_FAILURE);
    }
    deflater->stream_live = true;
    return WSCRT_OP_SUCCESS;
}

/* Runs deflate(Z_SYNC_FLUSH) over the whole message, growing `out`. */
static int s_deflate_all(struct wscrt_websocket_deflater *deflater, struct wscrt_byte_cursor message,
                         struct wscrt_byte_buf *out) {
    z_stream *stream = &deflater->stream;
    /* A first guess that fits most messages in one pass; the loop grows it when not. */
    size_t guess = (size_t)deflateBound(stream, (uLong)(message.len < S_MAX_SLICE ? message.len : S_MAX_SLICE)) + 16;
    for (;;) {
        size_t slice = message.len < S_MAX_SLICE ? message.len : S_MAX_SLICE;
        bool last_slice = slice == message.len;
        stream->next_in = (Bytef *)message.ptr;
        stream->avail_in = (uInt)slice;
        int flush = last_slice ? Z_SYNC_FLUSH : Z_NO_FLUSH;
        do {
            if (out->capacity - out->len < 64 && wscrt_byte_buf_reserve(out, out->len + guess)) {
                return WSCRT_OP_ERR;
            }
            size_t room = out->capacity - out->len;
            stream->next_out = out->buffer + out->len;
            stream->avail_out = (uInt)(room < S_MAX_SLICE ? room : S_MAX_SLICE);
            uInt before = stream->avail_out;
            int rc = deflate(stream, flush);
            out->len += before - stream->avail_out;
            if (rc != Z_OK && rc != Z_BUF_ERROR) {
                return wscrt_raise_error(WSCRT_ERROR_WEBSOCKET_COMPRESSION_FAILURE);
            }
            /* With room left after a flush, everything is out; without, there may be more. */
        } while (stream->avail_in > 0 || stream->avail_out == 0);
        wscrt_byte_cursor_advance(&message, slice);
        if (last_slice) {
            return WSCRT_OP_SUCCESS;
        }
    }
}

int wscrt_websocket_deflate_compress_message(struct wscrt_websocket_deflater *deflater,
                                             struct wscrt_byte_cursor message, struct wscrt_byte_buf *out,
                                             bool *compressed) {
    const struct wscrt_websocket_deflater_options *options = &deflater->options;
    *compressed = false;
    if (message.len < options->compression_threshold ||
        options->params.client_max_window_bits < S_ZLIB_MIN_WINDOW_BITS) {
        return WSCRT_OP_SUCCESS;
    }
    if (message.len == 0) {
        /* RFC 7692 7.2.3.6: an empty stored block, tail removed. zlib is not asked: right after another
         * sync flush it would write nothing at all. The window does not change. */
        if (wscrt_byte_buf_append_byte_dynamic(out, 0x00)) {
            return WSCRT_OP_ERR;
        }
        *compressed = true;
        return WSCRT_OP_SUCCESS;
    }
    if (s_deflater_start_stream(deflater)) {
        return WSCRT_OP_ERR;
    }
    size_t start = out->len;
    if (s_deflate_all(deflater, message, out) || out->len - start < sizeof(s_tail) ||
        memcmp(out->buffer + out->len - sizeof(s_tail), s_tail, sizeof(s_tail)) != 0) {
        int error = wscrt_last_error() == WSCRT_ERROR_OVERFLOW_DETECTED ? WSCRT_ERROR_OVERFLOW_DETECTED
                                                                        : WSCRT_ERROR_WEBSOCKET_COMPRESSION_FAILURE;
        out->len = start;
        /* The window is now out of step with what the peer will see: start afresh. */
        s_deflater_free_stream(deflater);
        return wscrt_raise_error(error);
    }
    out->len -= sizeof(s_tail);
    if (options->params.client_no_context_takeover) {
        s_deflater_free_stream(deflater);
        /* Each message stands alone, so an unhelpful compression can be dropped. */
        if (out->len - start >= message.len) {
            out->len = start;
            return WSCRT_OP_SUCCESS;
        }
    }
    *compressed = true;
    return WSCRT_OP_SUCCESS;
}

/* ---------------------------------------------------------------------------------------------------------------- */
/* Inflater                                                                                                         */
/* ---------------------------------------------------------------------------------------------------------------- */

struct wscrt_websocket_inflater {
    struct wscrt_allocator *allocator;
    struct wscrt_websocket_inflater_options options;
    uint64_t message_output; /* inflated bytes of the current message so far */
    bool failed;
    bool stream_live;  /* zlib state allocated */
    bool stream_ended; /* the message had a final (BFINAL) block: the rest of it is not read */
    z_stream stream;
};

struct wscrt_websocket_inflater *wscrt_websocket_inflater_new(struct wscrt_allocator *allocator,
                                                              const struct wscrt_websocket_inflater_options *options) {
    if (!options || !options->on_output || !s_window_bits_valid(options->params.server_max_window_bits)) {
        wscrt_raise_error(WSCRT_ERROR_INVALID_ARGUMENT);
        return NULL;
    }
    struct wscrt_websocket_inflater *inflater = wscrt_mem_calloc(allocator, 1, sizeof(*inflater));
    inflater->allocator = allocator;
    inflater->options = *options;
    return inflater;
}

static void s_inflater_free_stream(struct wscrt_websocket_inflater *inflater) {
    if (inflater->stream_live) {
        inflateEnd(&inflater->stream);
        inflater->stream_live = false;
    }
}

void wscrt_websocket_inflater_destroy(struct wscrt_websocket_inflater *inflater) {
    if (!inflater) {
        return;
    }
    s_inflater_free_stream(inflater);
    wscrt_mem_release(inflater->allocator, inflater);
}

static int s_inflater_fail(struct wscrt_websocket_inflater *inflater, int error_code) {
    inflater->failed = true;
    s_inflater_free_stream(inflater);
    WSCRT_LOGF_DEBUG(WSCRT_LS_WEBSOCKET, "id=%p: Inflating a message failed: %s", (void *)inflater,
                    wscrt_error_str(error_code));
    return wscrt_raise_error(error_code);
}

static int s_inflater_start_stream(struct wscrt_websocket_inflater *inflater) {
    if (inflater->stream_live) {
        return WSCRT_OP_SUCCESS;
    }
    /* Always the largest window, whatever the server's: zlib judges a distance by the history it holds
     * (its window plus this call's output), so with a smaller window a server that overreaches would be
     * refused or not depending on how its frames were split. With 32 KiB, every distance DEFLATE can
     * express is judged by the bytes that came before, however they arrived. */
    s_zstream_init(&inflater->stream, inflater->allocator);
    if (inflateInit2(&inflater->stream, -WSCRT_WEBSOCKET_DEFLATE_MAX_WINDOW_BITS) != Z_OK) {
        return s_inflater_fail(inflater, WSCRT_ERROR_WEBSOCKET_COMPRESSION_FAILURE);
    }
    inflater->stream_live = true;
    return WSCRT_OP_SUCCESS;
}

/* Inflates all of `input` (at most S_MAX_SLICE bytes), delivering output in bounded chunks. */
static int s_inflate_slice(struct wscrt_websocket_inflater *inflater, const uint8_t *input, size_t len) {
    z_stream *stream = &inflater->stream;
    uint64_t cap = inflater->options.max_message_size;
    uint8_t chunk[WSCRT_WEBSOCKET_INFLATE_CHUNK_SIZE];
    stream->next_in = (Bytef *)input;
    stream->avail_in = (uInt)len;
    for (;;) {
        if (inflater->stream_ended) {
            /* After a final block a sender still appends an empty stored block (RFC 7692 7.2.3.4); zlib
             * reads nothing past the final block, and neither do we: the rest of the message is ignored. */
            return WSCRT_OP_SUCCESS;
        }
        /* One byte of room past the cap is enough to see that the cap is exceeded. */
        size_t room = sizeof(chunk);
        if (cap != 0 && cap - inflater->message_output < room) {
            room = (size_t)(cap - inflater->message_output) + 1;
        }
        stream->next_out = chunk;
        stream->avail_out = (uInt)room;
        int rc = inflate(stream, Z_SYNC_FLUSH);
        size_t produced = room - stream->avail_out;
        int error = 0;
        if (rc == Z_STREAM_END) {
            inflater->stream_ended = true;
        } else if (rc == Z_DATA_ERROR || rc == Z_NEED_DICT) {
            error = WSCRT_ERROR_WEBSOCKET_INVALID_COMPRESSED_DATA;
        } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
            error = WSCRT_ERROR_WEBSOCKET_COMPRESSION_FAILURE;
        }
        /* What came before a failure is still delivered, so the bytes handed over do not depend on how the
         * input was split: up to the cap exactly, and the good prefix of bad data. */
        if (cap != 0 && produced > cap - inflater->message_output) {
            produced = (size_t)(cap - inflater->message_output);
            error = WSCRT_ERROR_WEBSOCKET_MESSAGE_TOO_BIG;
        }
        inflater->message_output += produced;
        if (produced > 0 &&
            inflater->options.on_output(wscrt_byte_cursor_from_array(chunk, produced), inflater->options.user_data)) {
            return s_inflater_fail(inflater, wscrt_last_error());
        }
        if (error) {
            return s_inflater_fail(inflater, error);
        }
        /* Done when the input is used up and zlib had room to spare (nothing pending). */
        if (!inflater->stream_ended && stream->avail_in == 0 && stream->avail_out > 0) {
            return WSCRT_OP_SUCCESS;
        }
        if (rc == Z_BUF_ERROR && produced == 0) {
            return WSCRT_OP_SUCCESS; /* no progress possible: zlib wants more input */
        }
    }
}

int wscrt_websocket_inflater_process(struct wscrt_websocket_inflater *inflater, struct wscrt_byte_cursor data) {
    if (inflater->failed) {
        return wscrt_raise_error(WSCRT_ERROR_INVALID_STATE);
    }
    if (data.len == 0) {
        return WSCRT_OP_SUCCESS;
    }
    if (s_inflater_start_stream(inflater)) {
        return WSCRT_OP_ERR;
    }
    while (data.len > 0) {
        size_t slice = data.len < S_MAX_SLICE ? data.len : S_MAX_SLICE;
        if (s_inflate_slice(inflater, data.ptr, slice)) {
            return WSCRT_OP_ERR;
        }
        wscrt_byte_cursor_advance(&data, slice);
    }
    return WSCRT_OP_SUCCESS;
}

/* After a final block zlib's stream is over; the next message starts a new
 * one, with the same window when the server takes its context over. */
static int s_inflater_restart_after_final_block(struct wscrt_websocket_inflater *inflater) {
    z_stream *stream = &inflater->stream;
    uint8_t window[1 << WSCRT_WEBSOCKET_DEFLATE_MAX_WINDOW_BITS];
    uInt window_len = 0;
    if (inflateGetDictionary(stream, window, &window_len) != Z_OK || inflateReset(stream) != Z_OK ||
        (window_len > 0 && inflateSetDictionary(stream, window, window_len) != Z_OK)) {
        return s_inflater_fail(inflater, WSCRT_ERROR_WEBSOCKET_COMPRESSION_FAILURE);
    }
    return WSCRT_OP_SUCCESS;
}

int wscrt_websocket_inflater_finish_message(struct wscrt_websocket_inflater *inflater) {
    if (inflater->failed) {
        return wscrt_raise_error(WSCRT_ERROR_INVALID_STATE);
    }
    if (s_inflater_start_stream(inflater)) {
        return WSCRT_OP_ERR;
    }
    if (!inflater->stream_ended && s_inflate_slice(inflater, s_tail, sizeof(s_tail))) {
        return WSCRT_OP_ERR;
    }
    inflater->message_output = 0;
    if (inflater->options.params.server_no_context_takeover) {
        s_inflater_free_stream(inflater);
    } else if (inflater->stream_ended && s_inflater_restart_after_final_block(inflater)) {
        return WSCRT_OP_ERR;
    }
    inflater->stream_ended = false;
    return WSCRT_OP_SUCCESS;
}
