/*
 * libFuzzer target for the receive path of permessage-deflate: the frame
 * decoder with RSV1 negotiated, feeding the payload of compressed messages
 * to the inflater (crt/http/websocket_deflate.h) and passing uncompressed
 * ones through, as a connection does. Plus, in round-trip mode, the deflater.
 *
 * Input: the four configuration bytes of fuzz_support.h, then the stream.
 * Byte 0 is the negotiation and the limits:
 *   bits 0-2  window bits of both sides: 8 + value (8-15)
 *   bit 3     no context takeover (both sides)
 *   bits 4-6  max_message_size class: 1, 5, 100, 1000, 16384, 16385, 65536, 1 MiB
 *   bit 7     round-trip mode: the stream is message contents, not frames
 * Byte 1 and the seed cut the stream (or, in round-trip mode, the messages
 * and their fragments).
 *
 * Frame mode invariants:
 *   - fed whole, in pieces, and bytewise (short streams), the same inflated
 *     bytes come out, message by message, and the run ends with the same error;
 *   - capped vs uncapped (0 = no limit): the capped run delivers the uncapped
 *     run's bytes, except that a compressed message longer than the cap stops
 *     the run with WSCRT_ERROR_WEBSOCKET_MESSAGE_TOO_BIG after exactly `cap`
 *     of its bytes; no message ever delivers more than the cap;
 *   - inflated chunks are 1 to 16 KiB, and live memory while inflating stays
 *     below 128 KiB (zlib state and window, never the message);
 *   - errors are decoder errors, INVALID_COMPRESSED_DATA or MESSAGE_TOO_BIG;
 *   - nothing allocated is left after the connection-like run is torn down.
 * Round-trip invariant: every message compressed by the deflater (or sent
 * as is when it says so), cut into fragments with RSV1 on the first only, is
 * decoded and inflated back to the very same bytes.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/byte_buf.h"
#include "common/error.h"
#include "fuzz_support.h"
#include "http/websocket_decoder.h"
#include "http/websocket_deflate.h"
#include "http/websocket_encoder.h"

#define S_MAX_MESSAGES 512
/* Round trips set up zlib per message without context takeover (hundreds of KiB under ASan): a few
 * messages cover the window and takeover logic at a useful speed. */
#define S_MAX_ROUND_TRIP_MESSAGES 8
#define S_BYTEWISE_MAX_LEN 256
#define S_MEMORY_BOUND (128 * 1024)

static const uint64_t s_caps[8] = {1, 5, 100, 1000, 16384, 16385, 65536, 1 << 20};

struct s_run {
    const char *name;
    struct wscrt_websocket_decoder decoder;
    struct wscrt_websocket_inflater *inflater;
    uint64_t cap;
    size_t live_before;
    /* What came out: all bytes, and per message its length and whether it was compressed. */
    struct fuzz_bytes output;
    size_t message_len[S_MAX_MESSAGES];
    bool message_compressed[S_MAX_MESSAGES];
    size_t message_count; /* messages begun */
    bool in_message;
    bool failed;
    int error;
};

static int s_on_output(struct wscrt_byte_cursor data, void *user_data) {
    struct s_run *run = user_data;
    FUZZ_CHECK(data.len >= 1 && data.len <= WSCRT_WEBSOCKET_INFLATE_CHUNK_SIZE, "%s: chunk of %zu bytes", run->name,
               data.len);
    FUZZ_CHECK(run->in_message && run->message_compressed[run->message_count - 1], "%s: output outside a compressed message",
               run->name);
    size_t live = wscrt_mem_tracer_bytes(fuzz_allocator()) - run->live_before;
    FUZZ_CHECK(live < S_MEMORY_BOUND, "%s: %zu bytes live while inflating", run->name, live);
    size_t *len = &run->message_len[run->message_count - 1];
    *len += data.len;
    FUZZ_CHECK(run->cap == 0 || *len <= run->cap, "%s: message of %zu bytes delivered, cap %llu", run->name, *len,
               (unsigned long long)run->cap);
    fuzz_bytes_append(&run->output, data.ptr, data.len);
    return WSCRT_OP_SUCCESS;
}

static int s_on_frame_begin(const struct wscrt_websocket_frame *frame, void *user_data) {
    struct s_run *run = user_data;
    if (!wscrt_websocket_opcode_is_data(frame->opcode)) {
        return WSCRT_OP_SUCCESS;
    }
    if (frame->opcode != WSCRT_WEBSOCKET_OPCODE_CONTINUATION) {
        FUZZ_CHECK(!run->in_message, "%s: a new message inside a message", run->name);
        if (run->message_count == S_MAX_MESSAGES) {
            /* Plenty for 4 KiB of input; stop quietly like a callback would. */
            return wscrt_raise_error(WSCRT_ERROR_SHORT_BUFFER);
        }
        run->message_compressed[run->message_count] = frame->compressed;
        run->message_len[run->message_count] = 0;
        run->message_count++;
        run->in_message = true;
    }
    FUZZ_CHECK(frame->compressed == run->message_compressed[run->message_count - 1],
               "%s: compressed flag changed within a message", run->name);
    return WSCRT_OP_SUCCESS;
}

static int s_on_payload(const struct wscrt_websocket_frame *frame, struct wscrt_byte_cursor data, void *user_data) {
    struct s_run *run = user_data;
    if (!wscrt_websocket_opcode_is_data(frame->opcode)) {
        return WSCRT_OP_SUCCESS;
    }
    if (frame->compressed) {
        return wscrt_websocket_inflater_process(run->inflater, data);
    }
    run->message_len[run->message_count - 1] += data.len;
    fuzz_bytes_append(&run->output, data.ptr, data.len);
    return WSCRT_OP_SUCCESS;
}

static int s_on_frame_complete(const struct wscrt_websocket_frame *frame, void *user_data) {
    struct s_run *run = user_data;
    if (!wscrt_websocket_opcode_is_data(frame->opcode) || !frame->fin) {
        return WSCRT_OP_SUCCESS;
    }
    int result = frame->compressed ? wscrt_websocket_inflater_finish_message(run->inflater) : WSCRT_OP_SUCCESS;
    run->in_message = false;
    return result;
}

static void s_run_init(struct s_run *run, const char *name, const struct wscrt_websocket_deflate_params *params,
                       uint64_t cap) {
    memset(run, 0, sizeof(*run));
    run->name = name;
    run->cap = cap;
    run->live_before = wscrt_mem_tracer_bytes(fuzz_allocator());
    struct wscrt_websocket_decoder_options decoder_options = {
        .on_frame_begin = s_on_frame_begin,
        .on_payload = s_on_payload,
        .on_frame_complete = s_on_frame_complete,
        .user_data = run,
        .allowed_rsv_bits = WSCRT_WEBSOCKET_RSV1_COMPRESSED,
    };
    wscrt_websocket_decoder_init(&run->decoder, fuzz_allocator(), &decoder_options);
    struct wscrt_websocket_inflater_options options = {
        .params = *params,
        .max_message_size = cap,
        .on_output = s_on_output,
        .user_data = run,
    };
    run->inflater = wscrt_websocket_inflater_new(fuzz_allocator(), &options);
    FUZZ_CHECK(run->inflater != NULL, "inflater_new failed with %s", wscrt_error_name(wscrt_last_error()));
}

static void s_run_clean_up(struct s_run *run) {
    wscrt_websocket_decoder_clean_up(&run->decoder);
    wscrt_websocket_inflater_destroy(run->inflater);
    fuzz_bytes_free(&run->output);
}

/* Feeds [0, len) in pieces of at most max_piece (0 = whole); stops at the first error. */
static void s_feed(struct s_run *run, const uint8_t *stream, size_t len, struct fuzz_splitter *splitter) {
    size_t offset = 0;
    while (offset < len && !run->failed) {
        size_t piece = splitter ? fuzz_splitter_next(splitter, len - offset) : len;
        struct wscrt_byte_cursor data = wscrt_byte_cursor_from_array(fuzz_piece_ptr(stream, offset, piece), piece);
        wscrt_reset_error();
        if (wscrt_websocket_decoder_process(&run->decoder, &data, NULL)) {
            run->failed = true;
            run->error = wscrt_last_error();
            FUZZ_CHECK(run->error != 0, "%s: failed without an error", run->name);
        } else {
            FUZZ_CHECK(data.len == 0, "%s: %zu bytes left without a budget", run->name, data.len);
        }
        offset += piece;
    }
}

static void s_check_same(const struct s_run *a, const struct s_run *b) {
    FUZZ_CHECK(a->failed == b->failed && a->error == b->error, "%s ended with %s, %s with %s", a->name,
               a->failed ? wscrt_error_name(a->error) : "success", b->name,
               b->failed ? wscrt_error_name(b->error) : "success");
    FUZZ_CHECK(a->message_count == b->message_count, "%s: %zu messages, %s: %zu", a->name, a->message_count, b->name,
               b->message_count);
    /* The decoder checks an uncompressed TEXT chunk before delivering it, so in the message where it
     * failed on bad UTF-8, how much came out depends on the split (websocket_decoder.h): there, one
     * delivery must be a prefix of the other. Everything else, inflated bytes included, is exact. */
    size_t last = a->message_count - 1;
    bool loose_last = a->failed && a->message_count > 0 && !a->message_compressed[last];
    for (size_t i = 0; i < a->message_count; ++i) {
        FUZZ_CHECK(a->message_len[i] == b->message_len[i] || (loose_last && i == last),
                   "message %zu: %s delivered %zu bytes, %s %zu", i, a->name, a->message_len[i], b->name,
                   b->message_len[i]);
    }
    size_t common = a->output.len < b->output.len ? a->output.len : b->output.len;
    FUZZ_CHECK((a->output.len == b->output.len || loose_last) &&
                   (common == 0 || memcmp(a->output.bytes, b->output.bytes, common) == 0),
               "%s and %s delivered different bytes", a->name, b->name);
}

static void s_check_error_kind(const struct s_run *run) {
    if (!run->failed) {
        return;
    }
    bool decoder_error = run->error >= WSCRT_ERROR_WEBSOCKET_PROTOCOL_ERROR &&
                         run->error <= WSCRT_ERROR_WEBSOCKET_INVALID_UTF8;
    FUZZ_CHECK(decoder_error || run->error == WSCRT_ERROR_WEBSOCKET_MISPLACED_RSV1 ||
                   run->error == WSCRT_ERROR_WEBSOCKET_INVALID_COMPRESSED_DATA ||
                   run->error == WSCRT_ERROR_WEBSOCKET_MESSAGE_TOO_BIG || run->error == WSCRT_ERROR_SHORT_BUFFER,
               "%s: unexpected error %s", run->name, wscrt_error_name(run->error));
}

/* The capped run against the uncapped one. */
static void s_check_cap(const struct s_run *capped, const struct s_run *free_run) {
    size_t over = SIZE_MAX; /* the first compressed message longer than the cap */
    for (size_t i = 0; i < free_run->message_count && over == SIZE_MAX; ++i) {
        if (free_run->message_compressed[i] && free_run->message_len[i] > capped->cap) {
            over = i;
        }
    }
    if (over == SIZE_MAX) {
        s_check_same(capped, free_run);
        return;
    }
    FUZZ_CHECK(capped->failed && capped->error == WSCRT_ERROR_WEBSOCKET_MESSAGE_TOO_BIG,
               "message %zu inflates to %zu bytes, cap %llu, but the capped run ended with %s", over,
               free_run->message_len[over], (unsigned long long)capped->cap,
               capped->failed ? wscrt_error_name(capped->error) : "success");
    FUZZ_CHECK(capped->message_count == over + 1 && capped->message_len[over] == capped->cap,
               "the capped run stopped in message %zu after %zu bytes, expected message %zu after %llu",
               capped->message_count - 1, capped->message_len[capped->message_count - 1], over,
               (unsigned long long)capped->cap);
    FUZZ_CHECK(capped->output.len <= free_run->output.len &&
                   memcmp(capped->output.bytes, free_run->output.bytes, capped->output.len) == 0,
               "the capped run's bytes are not a prefix of the uncapped run's");
}

static void s_frame_mode(const struct fuzz_input *input, const struct wscrt_websocket_deflate_params *params,
                         uint64_t cap) {
    struct s_run whole;
    s_run_init(&whole, "whole", params, 0);
    s_feed(&whole, input->stream, input->stream_len, NULL);
    s_check_error_kind(&whole);

    struct s_run pieces;
    s_run_init(&pieces, "pieces", params, 0);
    struct fuzz_splitter splitter = fuzz_splitter_new(input);
    s_feed(&pieces, input->stream, input->stream_len, &splitter);
    s_check_same(&whole, &pieces);
    s_run_clean_up(&pieces);

    if (input->stream_len <= S_BYTEWISE_MAX_LEN) {
        struct s_run bytewise;
        s_run_init(&bytewise, "bytewise", params, 0);
        struct fuzz_splitter ones = {.rng = fuzz_rng_new(0), .max_piece = 1};
        s_feed(&bytewise, input->stream, input->stream_len, &ones);
        s_check_same(&whole, &bytewise);
        s_run_clean_up(&bytewise);
    }

    struct s_run capped;
    s_run_init(&capped, "capped", params, cap);
    struct fuzz_splitter capped_splitter = fuzz_splitter_new(input);
    s_feed(&capped, input->stream, input->stream_len, &capped_splitter);
    s_check_error_kind(&capped);
    s_check_cap(&capped, &whole);
    s_run_clean_up(&capped);
    s_run_clean_up(&whole);
}

/* Round trip: the stream is cut into messages; each is deflated, framed in fragments, decoded and inflated. */
static void s_round_trip_mode(const struct fuzz_input *input, const struct wscrt_websocket_deflate_params *params) {
    struct wscrt_websocket_deflater_options deflater_options = {
        .params = *params,
        .compression_level = 1 + input->seed % 9,
        .mem_level = 1 + (input->seed >> 4) % 9,
        .compression_threshold = (input->seed >> 8) % 8,
    };
    struct wscrt_websocket_deflater *deflater = wscrt_websocket_deflater_new(fuzz_allocator(), &deflater_options);
    FUZZ_CHECK(deflater != NULL, "deflater_new failed with %s", wscrt_error_name(wscrt_last_error()));
    struct wscrt_byte_buf wire;
    struct wscrt_byte_buf compressed_bytes;
    wscrt_byte_buf_init(&wire, fuzz_allocator(), 256);
    wscrt_byte_buf_init(&compressed_bytes, fuzz_allocator(), 256);
    struct fuzz_splitter splitter = fuzz_splitter_new(input);
    size_t offset = 0;
    size_t messages = 0;
    while (offset < input->stream_len || messages == 0) {
        size_t len = messages + 1 == S_MAX_ROUND_TRIP_MESSAGES ? input->stream_len - offset
                                                    : fuzz_splitter_next(&splitter, input->stream_len - offset);
        struct wscrt_byte_cursor message =
            wscrt_byte_cursor_from_array(fuzz_piece_ptr(input->stream, offset, len), len);
        offset += len;
        messages++;
        wscrt_byte_buf_reset(&compressed_bytes);
        bool compressed = false;
        FUZZ_CHECK(wscrt_websocket_deflate_compress_message(deflater, message, &compressed_bytes, &compressed) ==
                       WSCRT_OP_SUCCESS,
                   "compress failed with %s", wscrt_error_name(wscrt_last_error()));
        FUZZ_CHECK(compressed || compressed_bytes.len == 0, "uncompressed but bytes appended");
        struct wscrt_byte_cursor payload = compressed ? wscrt_byte_cursor_from_buf(&compressed_bytes) : message;
        /* Fragments: RSV1 on the first only. */
        bool first = true;
        do {
            size_t piece = payload.len == 0 ? 0 : 1 + (size_t)fuzz_rng_upto(&splitter.rng, payload.len - 1);
            struct wscrt_byte_cursor fragment = wscrt_byte_cursor_advance(&payload, piece);
            uint8_t header[WSCRT_WEBSOCKET_MAX_HEADER_SIZE];
            uint8_t opcode = first ? WSCRT_WEBSOCKET_OPCODE_BINARY : WSCRT_WEBSOCKET_OPCODE_CONTINUATION;
            uint8_t rsv = first && compressed ? WSCRT_WEBSOCKET_RSV1_COMPRESSED : 0;
            size_t header_len = wscrt_websocket_encode_header(header, opcode, payload.len == 0, rsv, piece, NULL);
            FUZZ_CHECK(header_len > 0, "encode_header refused a fragment");
            wscrt_byte_buf_append_dynamic(&wire, wscrt_byte_cursor_from_array(header, header_len));
            wscrt_byte_buf_append_dynamic(&wire, fragment);
            first = false;
        } while (payload.len > 0);
    }
    /* The sender is done: what is live from here on is the receiver's. */
    wscrt_websocket_deflater_destroy(deflater);
    wscrt_byte_buf_clean_up(&compressed_bytes);
    struct s_run run;
    s_run_init(&run, "round trip", params, 0);
    s_feed(&run, wire.buffer, wire.len, NULL);
    FUZZ_CHECK(!run.failed, "round trip failed with %s", wscrt_error_name(run.error));
    FUZZ_CHECK(run.message_count == messages, "%zu messages sent, %zu received", messages, run.message_count);
    FUZZ_CHECK(run.output.len == input->stream_len &&
                   (run.output.len == 0 || memcmp(run.output.bytes, input->stream, run.output.len) == 0),
               "round trip changed the bytes (%zu in, %zu out)", input->stream_len, run.output.len);
    wscrt_byte_buf_clean_up(&wire);
    s_run_clean_up(&run);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct fuzz_input input = fuzz_input_parse(data, size);
    uint8_t bits = (uint8_t)(8 + (input.options & 7));
    bool no_takeover = (input.options & 0x08) != 0;
    struct wscrt_websocket_deflate_params params = {
        .client_max_window_bits = bits,
        .server_max_window_bits = bits,
        .client_no_context_takeover = no_takeover,
        .server_no_context_takeover = no_takeover,
    };
    if (input.options & 0x80) {
        s_round_trip_mode(&input, &params);
    } else {
        s_frame_mode(&input, &params, s_caps[(input.options >> 4) & 7]);
    }
    fuzz_check_no_live_memory();
    return 0;
}
