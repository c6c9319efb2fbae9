/*
 * libFuzzer target for the WebSocket frame decoder (crt/http/websocket_decoder.h).
 *
 * Input: the four configuration bytes of fuzz_support.h, then the bytes a
 * server sends. Byte 0:
 *   bits 0-3  largest data_payload_budget per call in the budget run
 *             (0, 1, 2, 3, 5, 8, 13, 64, 125, 126, 1000, 4096, 65536, ...)
 *   bits 4-6  allowed_rsv_bits (an extension's RSV bits, in place: mask 0x70)
 *   bit 7     also run with a callback that stops processing at one event
 *
 * The stream is decoded several times: whole, in pieces, one byte at a time
 * (short streams), and in pieces with a data-payload budget per call; the
 * runs in pieces (with or without a budget) also take data frames that came
 * whole in one on_whole_frame call, one event checked as the three it stands
 * for. Every run checks, as the events arrive:
 *   - the grammar: on_frame_begin on_payload* on_frame_complete, and the frame
 *     handed to every callback is the one begun;
 *   - payload bytes delivered for a completed frame == its payload_length; a
 *     control frame's payload comes in exactly one call just before complete
 *     (none when empty); data payload chunks are non-empty views of the bytes
 *     passed to that very process() call;
 *   - what reaches the callbacks obeys RFC 6455: no mask, no RSV bit that was
 *     not allowed, known opcodes, control frames final and <= 125 bytes,
 *     continuation order, a negotiated RSV1 only on a TEXT or BINARY frame
 *     and `compressed` on every data frame of such a message and no other,
 *     TEXT text valid UTF-8 as far as delivered (fail
 *     fast) and complete at the end of the message, CLOSE bodies empty or a
 *     valid code plus UTF-8 reason;
 *   - with a budget, no call delivers more data payload than its budget, and
 *     process() returns early only when the budget is spent;
 *   - after an error (returned by the decoder or by a callback) no callback
 *     runs again, further process() calls fail and consume nothing, and
 *     close_status_on_error is 1002, 1007 (bad UTF-8) or 1011 (callback);
 *   - in_frame() matches the grammar between calls.
 * Then all runs must agree: the same frames, the same payload bytes, the same
 * error (the frame being read when the error struck may have had a different
 * prefix of its payload delivered). The decoder allocates nothing, but the
 * tracking allocator is still checked so that a future allocation is covered.
 * The "whole" run is also checked against a plain reader of RFC 6455
 * (websocket_decoder_fuzz_reference.c): the same frames and payload bytes,
 * and on a broken rule an error that reader allows.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/byte_buf.h"
#include "common/error.h"
#include "common/utf8.h"
#include "fuzz_support.h"
#include "http/websocket_decoder.h"
#include "http/websocket_frame.h"
#include "websocket_decoder_fuzz.h"

/* Byte-at-a-time decoding costs one call per byte: bounded to keep runs fast
 * (split class 0 of byte 1 feeds longer inputs one byte at a time anyway). */
#define S_BYTEWISE_MAX_LEN 512

struct s_run {
    const char *name;
    struct wscrt_websocket_decoder decoder;
    uint8_t allowed_rsv;

    struct wscrt_fuzz_frame_record *frames;
    size_t frame_count;
    size_t frame_capacity;
    struct fuzz_bytes payload_log;
    bool in_frame;

    /* Message-level state, kept here independently of the decoder. */
    bool message_open;
    bool message_is_checked_text;
    bool message_compressed;
    struct wscrt_utf8_validator text;

    /* The bytes of the current process() call, which data payload must point into. */
    const uint8_t *call_begin;
    const uint8_t *call_end;
    uint64_t call_payload_bytes;

    /* Error handling. */
    size_t events;
    size_t stop_at_event; /* 0 = never: the callback for this event number fails */
    bool failed;          /* no callback may run once this is set */
    int error_code;
    uint16_t close_status;
};

static struct wscrt_fuzz_frame_record *s_current(struct s_run *run) {
    FUZZ_CHECK(run->in_frame && run->frame_count > 0, "%s: a payload or complete event outside a frame", run->name);
    return &run->frames[run->frame_count - 1];
}

/* The payload delivered for a frame (NULL when nothing was delivered yet). */
static const uint8_t *s_payload_of(const struct s_run *run, const struct wscrt_fuzz_frame_record *record) {
    return record->payload_len > 0 ? run->payload_log.bytes + record->payload_offset : NULL;
}

/* Every callback starts here: counts the event and may fail it on purpose. */
static int s_event(struct s_run *run, const char *what) {
    FUZZ_CHECK(!run->failed, "%s: %s called after the decoder failed", run->name, what);
    run->events++;
    if (run->events == run->stop_at_event) {
        run->failed = true;
        return wscrt_raise_error(WSCRT_ERROR_CALLBACK_EXCEPTION);
    }
    return WSCRT_OP_SUCCESS;
}

/* The checks and records of a frame's begin, payload piece and completion, shared by the three callbacks and
 * by on_whole_frame, which is one event made of all three. */
static void s_record_begin(struct s_run *run, const struct wscrt_websocket_frame *frame) {
    FUZZ_CHECK(!run->failed, "%s: a frame begun after the decoder failed", run->name);
    FUZZ_CHECK(!run->in_frame, "%s: on_frame_begin while frame %zu is still open", run->name, run->frame_count);
    FUZZ_CHECK(!frame->masked, "%s: masked frame delivered", run->name);
    FUZZ_CHECK((frame->rsv & ~WSCRT_WEBSOCKET_RSV_MASK) == 0 && (frame->rsv & ~run->allowed_rsv) == 0,
               "%s: rsv 0x%02x delivered, allowed 0x%02x", run->name, frame->rsv, run->allowed_rsv);
    FUZZ_CHECK(wscrt_websocket_opcode_is_known(frame->opcode), "%s: reserved opcode 0x%x delivered", run->name,
               frame->opcode);
    FUZZ_CHECK(frame->payload_length <= (uint64_t)INT64_MAX, "%s: 64-bit length with the top bit set", run->name);
    FUZZ_CHECK(!(frame->rsv & WSCRT_WEBSOCKET_RSV1_COMPRESSED) || frame->opcode == WSCRT_WEBSOCKET_OPCODE_TEXT ||
                   frame->opcode == WSCRT_WEBSOCKET_OPCODE_BINARY,
               "%s: RSV1 on a %s delivered", run->name, wscrt_fuzz_opcode_name(frame->opcode));
    FUZZ_CHECK(!frame->compressed || wscrt_websocket_opcode_is_data(frame->opcode),
               "%s: %s reported compressed", run->name, wscrt_fuzz_opcode_name(frame->opcode));
    if (!wscrt_websocket_opcode_is_data(frame->opcode)) {
        FUZZ_CHECK(frame->fin, "%s: fragmented %s delivered", run->name, wscrt_fuzz_opcode_name(frame->opcode));
        FUZZ_CHECK(frame->payload_length <= WSCRT_WEBSOCKET_MAX_CONTROL_PAYLOAD, "%s: %s of %llu bytes delivered",
                   run->name, wscrt_fuzz_opcode_name(frame->opcode), (unsigned long long)frame->payload_length);
        FUZZ_CHECK(!(frame->opcode == WSCRT_WEBSOCKET_OPCODE_CLOSE && frame->payload_length == 1),
                   "%s: 1-byte CLOSE delivered", run->name);
    } else if (frame->opcode == WSCRT_WEBSOCKET_OPCODE_CONTINUATION) {
        FUZZ_CHECK(run->message_open, "%s: CONTINUATION delivered with no message open", run->name);
        FUZZ_CHECK(frame->compressed == run->message_compressed, "%s: CONTINUATION compressed=%d in a message %s",
                   run->name, (int)frame->compressed, run->message_compressed ? "compressed" : "not compressed");
        run->message_open = !frame->fin;
    } else {
        FUZZ_CHECK(frame->compressed == ((frame->rsv & WSCRT_WEBSOCKET_RSV1_COMPRESSED) != 0),
                   "%s: %s with rsv 0x%02x reported compressed=%d", run->name, wscrt_fuzz_opcode_name(frame->opcode),
                   frame->rsv, (int)frame->compressed);
        run->message_compressed = frame->compressed;
        FUZZ_CHECK(!run->message_open, "%s: %s delivered inside an open message", run->name,
                   wscrt_fuzz_opcode_name(frame->opcode));
        run->message_open = !frame->fin;
        run->message_is_checked_text = frame->opcode == WSCRT_WEBSOCKET_OPCODE_TEXT && frame->rsv == 0;
        wscrt_utf8_validator_reset(&run->text);
    }

    if (run->frame_count == run->frame_capacity) {
        run->frame_capacity = run->frame_capacity ? run->frame_capacity * 2 : 16;
        run->frames = realloc(run->frames, run->frame_capacity * sizeof(*run->frames));
        FUZZ_CHECK(run->frames != NULL, "out of memory in the fuzz harness");
    }
    run->frames[run->frame_count++] = (struct wscrt_fuzz_frame_record){
        .frame = *frame,
        .payload_offset = run->payload_log.len,
    };
    run->in_frame = true;
}

static void s_record_payload(struct s_run *run, const struct wscrt_websocket_frame *frame,
                             struct wscrt_byte_cursor data) {
    FUZZ_CHECK(!run->failed, "%s: on_payload called after the decoder failed", run->name);
    struct wscrt_fuzz_frame_record *record = s_current(run);
    FUZZ_CHECK(wscrt_fuzz_frames_equal(frame, &record->frame), "%s: on_payload got a different frame than begun",
               run->name);
    FUZZ_CHECK(data.len > 0 && data.ptr != NULL, "%s: empty on_payload", run->name);
    FUZZ_CHECK(data.len <= frame->payload_length - record->payload_len,
               "%s: %zu payload bytes delivered with %llu of %llu left", run->name, data.len,
               (unsigned long long)(frame->payload_length - record->payload_len),
               (unsigned long long)frame->payload_length);

    if (!wscrt_websocket_opcode_is_data(frame->opcode)) {
        FUZZ_CHECK(record->payload_calls == 0 && data.len == frame->payload_length,
                   "%s: %s payload delivered in pieces (%zu of %llu bytes, call %zu)", run->name,
                   wscrt_fuzz_opcode_name(frame->opcode), data.len, (unsigned long long)frame->payload_length,
                   record->payload_calls + 1);
    } else {
        FUZZ_CHECK(data.ptr >= run->call_begin && data.ptr + data.len <= run->call_end,
                   "%s: data payload does not point into the bytes of this process() call", run->name);
        run->call_payload_bytes += data.len;
        if (run->message_is_checked_text) {
            FUZZ_CHECK(wscrt_utf8_validator_update(&run->text, data) == WSCRT_OP_SUCCESS,
                       "%s: TEXT payload with invalid UTF-8 delivered (message offset %llu)", run->name,
                       (unsigned long long)run->text.bytes_seen);
        }
    }
    fuzz_bytes_append(&run->payload_log, data.ptr, data.len);
    record->payload_len += data.len;
    record->payload_calls++;
}

static void s_record_complete(struct s_run *run, const struct wscrt_websocket_frame *frame) {
    FUZZ_CHECK(!run->failed, "%s: on_frame_complete called after the decoder failed", run->name);
    struct wscrt_fuzz_frame_record *record = s_current(run);
    FUZZ_CHECK(wscrt_fuzz_frames_equal(frame, &record->frame), "%s: on_frame_complete got a different frame than begun",
               run->name);
    FUZZ_CHECK(record->payload_len == frame->payload_length, "%s: %s completed after %zu of %llu payload bytes",
               run->name, wscrt_fuzz_opcode_name(frame->opcode), record->payload_len,
               (unsigned long long)frame->payload_length);
    const uint8_t *payload = s_payload_of(run, record);

    if (!wscrt_websocket_opcode_is_data(frame->opcode)) {
        FUZZ_CHECK(record->payload_calls == (frame->payload_length > 0 ? 1u : 0u),
                   "%s: %s completed after %zu payload calls", run->name, wscrt_fuzz_opcode_name(frame->opcode),
                   record->payload_calls);
        if (frame->opcode == WSCRT_WEBSOCKET_OPCODE_CLOSE && record->payload_len > 0) {
            FUZZ_CHECK(record->payload_len >= 2, "%s: CLOSE with a 1-byte body completed", run->name);
            uint16_t code = (uint16_t)((payload[0] << 8) | payload[1]);
            FUZZ_CHECK(wscrt_fuzz_close_code_allowed_on_wire(code), "%s: CLOSE with code %u completed", run->name,
                       code);
            FUZZ_CHECK(wscrt_utf8_is_valid(wscrt_byte_cursor_from_array(payload + 2, record->payload_len - 2)),
                       "%s: CLOSE with an invalid UTF-8 reason completed", run->name);
        }
        FUZZ_CHECK(record->payload_len == run->decoder.control_payload_len &&
                       (record->payload_len == 0 ||
                        memcmp(run->decoder.control_payload, payload, record->payload_len) == 0),
                   "%s: control_payload does not hold the delivered payload at on_frame_complete", run->name);
    } else if (frame->fin && run->message_is_checked_text) {
        FUZZ_CHECK(wscrt_utf8_validator_finalize(&run->text) == WSCRT_OP_SUCCESS,
                   "%s: TEXT message ending inside a code point completed", run->name);
    }
    record->complete = true;
    run->in_frame = false;
}

static int s_on_frame_begin(const struct wscrt_websocket_frame *frame, void *user_data) {
    s_record_begin(user_data, frame);
    return s_event(user_data, "on_frame_begin");
}

static int s_on_payload(const struct wscrt_websocket_frame *frame, struct wscrt_byte_cursor data, void *user_data) {
    s_record_payload(user_data, frame, data);
    return s_event(user_data, "on_payload");
}

static int s_on_frame_complete(const struct wscrt_websocket_frame *frame, void *user_data) {
    s_record_complete(user_data, frame);
    return s_event(user_data, "on_frame_complete");
}

/* A data frame whose payload is all in this process() call: what the three callbacks would see, as one event. */
static int s_on_whole_frame(const struct wscrt_websocket_frame *frame, struct wscrt_byte_cursor payload,
                            void *user_data) {
    struct s_run *run = user_data;
    FUZZ_CHECK(wscrt_websocket_opcode_is_data(frame->opcode), "%s: a %s delivered as a whole frame", run->name,
               wscrt_fuzz_opcode_name(frame->opcode));
    FUZZ_CHECK(payload.len == frame->payload_length, "%s: a whole frame of %llu bytes delivered with %zu",
               run->name, (unsigned long long)frame->payload_length, payload.len);
    s_record_begin(run, frame);
    if (payload.len > 0) {
        s_record_payload(run, frame, payload);
    }
    s_record_complete(run, frame);
    return s_event(run, "on_whole_frame");
}

/* whole_frames: the decoder may deliver a data frame that came whole in one on_whole_frame call. */
static void s_run_init(struct s_run *run, const char *name, uint8_t allowed_rsv, size_t stop_at_event,
                       bool whole_frames) {
    memset(run, 0, sizeof(*run));
    run->name = name;
    run->allowed_rsv = allowed_rsv;
    run->stop_at_event = stop_at_event;
    wscrt_utf8_validator_reset(&run->text);
    struct wscrt_websocket_decoder_options options = {
        .on_frame_begin = s_on_frame_begin,
        .on_payload = s_on_payload,
        .on_frame_complete = s_on_frame_complete,
        .on_whole_frame = whole_frames ? s_on_whole_frame : NULL,
        .user_data = run,
        .allowed_rsv_bits = allowed_rsv,
    };
    wscrt_websocket_decoder_init(&run->decoder, fuzz_allocator(), &options);
}

static void s_run_clean_up(struct s_run *run) {
    wscrt_websocket_decoder_clean_up(&run->decoder);
    free(run->frames);
    fuzz_bytes_free(&run->payload_log);
}

/* A failed decoder must refuse more input without a callback and without consuming. */
static void s_check_stays_failed(struct s_run *run, struct wscrt_byte_cursor rest) {
    static const uint8_t ping[] = {0x89, 0x00};
    struct wscrt_byte_cursor more = rest.len > 0 ? rest : wscrt_byte_cursor_from_array(ping, sizeof(ping));
    struct wscrt_byte_cursor before = more;
    uint64_t budget = UINT64_MAX;
    FUZZ_CHECK(wscrt_websocket_decoder_process(&run->decoder, &more, &budget) == WSCRT_OP_ERR,
               "%s: a failed decoder accepted more input", run->name);
    FUZZ_CHECK(more.len == before.len && more.ptr == before.ptr, "%s: a failed decoder consumed input", run->name);
    FUZZ_CHECK(!wscrt_websocket_decoder_in_frame(&run->decoder), "%s: a failed decoder is in a frame", run->name);
}

/*
 * One process() call with its checks. budget is NULL for no limit. Returns
 * false once the decoder has failed (and records the error).
 */
static bool s_process(struct s_run *run, struct wscrt_byte_cursor *data, uint64_t *budget) {
    run->call_begin = data->ptr;
    run->call_end = data->len > 0 ? data->ptr + data->len : data->ptr;
    run->call_payload_bytes = 0;
    uint64_t budget_before = budget ? *budget : 0;
    wscrt_reset_error();
    int result = wscrt_websocket_decoder_process(&run->decoder, data, budget);
    FUZZ_CHECK(run->decoder.control_payload_len <= WSCRT_WEBSOCKET_MAX_CONTROL_PAYLOAD,
               "%s: control_payload_len %zu", run->name, run->decoder.control_payload_len);
    if (budget) {
        FUZZ_CHECK(*budget <= budget_before && budget_before - *budget == run->call_payload_bytes,
                   "%s: budget went from %llu to %llu but %llu data payload bytes were delivered", run->name,
                   (unsigned long long)budget_before, (unsigned long long)*budget,
                   (unsigned long long)run->call_payload_bytes);
    }

    if (result == WSCRT_OP_SUCCESS) {
        FUZZ_CHECK(!run->failed, "%s: process() succeeded after a callback failed", run->name);
        FUZZ_CHECK(data->len == 0 || (budget && *budget == 0),
                   "%s: process() returned with %zu bytes left and budget %llu", run->name, data->len,
                   budget ? (unsigned long long)*budget : 0ULL);
        FUZZ_CHECK(wscrt_websocket_decoder_in_frame(&run->decoder) == run->in_frame,
                   "%s: in_frame() is %d between calls, the events say %d", run->name,
                   (int)wscrt_websocket_decoder_in_frame(&run->decoder), (int)run->in_frame);
        return true;
    }

    run->error_code = wscrt_last_error();
    run->close_status = run->decoder.close_status_on_error;
    if (run->failed) {
        /* A callback said stop. */
        FUZZ_CHECK(run->error_code == WSCRT_ERROR_CALLBACK_EXCEPTION, "%s: callback error replaced by %s",
                   run->name, wscrt_error_name(run->error_code));
        FUZZ_CHECK(run->close_status == WSCRT_WEBSOCKET_CLOSE_INTERNAL_ERROR,
                   "%s: close status %u after a callback failed", run->name, run->close_status);
    } else {
        FUZZ_CHECK((run->error_code >= WSCRT_ERROR_WEBSOCKET_PROTOCOL_ERROR &&
                    run->error_code <= WSCRT_ERROR_WEBSOCKET_INVALID_UTF8) ||
                       run->error_code == WSCRT_ERROR_WEBSOCKET_MISPLACED_RSV1,
                   "%s: decoder failed with %s", run->name, wscrt_error_name(run->error_code));
        uint16_t expected = run->error_code == WSCRT_ERROR_WEBSOCKET_INVALID_UTF8
                                ? WSCRT_WEBSOCKET_CLOSE_INVALID_PAYLOAD
                                : WSCRT_WEBSOCKET_CLOSE_PROTOCOL_ERROR;
        FUZZ_CHECK(run->close_status == expected, "%s: close status %u for %s", run->name, run->close_status,
                   wscrt_error_name(run->error_code));
        run->failed = true;
    }
    s_check_stays_failed(run, *data);
    return false;
}

enum s_feed {
    S_FEED_WHOLE,
    S_FEED_PIECES,
    S_FEED_BYTEWISE,
    S_FEED_BUDGET,
};

struct s_feed_config {
    enum s_feed feed;
    const struct fuzz_input *input;
    uint64_t max_budget;
};

static void s_feed(struct s_run *run, const struct s_feed_config *config) {
    const uint8_t *stream = config->input->stream;
    size_t len = config->input->stream_len;
    struct fuzz_splitter splitter = fuzz_splitter_new(config->input);
    struct fuzz_rng budget_rng = fuzz_rng_new(config->input->seed ^ 0xB0D6E7u);
    size_t offset = 0;
    bool last_budget_was_zero = false;
    for (size_t calls = 0; offset < len || calls == 0; ++calls) {
        size_t remaining = len - offset;
        size_t piece = config->feed == S_FEED_WHOLE      ? remaining
                       : config->feed == S_FEED_BYTEWISE ? (remaining > 0 ? 1 : 0)
                                                         : fuzz_splitter_next(&splitter, remaining);
        struct wscrt_byte_cursor data = wscrt_byte_cursor_from_array(fuzz_piece_ptr(stream, offset, piece), piece);
        if (config->feed != S_FEED_BUDGET) {
            if (!s_process(run, &data, NULL)) {
                return;
            }
        } else {
            /* Refill the budget until the piece is used up, as a reader would. */
            do {
                uint64_t budget = fuzz_rng_upto(&budget_rng, config->max_budget);
                if (budget == 0 && last_budget_was_zero) {
                    budget = 1;
                }
                last_budget_was_zero = budget == 0;
                if (!s_process(run, &data, &budget)) {
                    return;
                }
            } while (data.len > 0);
        }
        offset += piece;
    }
}

/* All runs see the same bytes, so they must see the same frames and the same end. */
static void s_check_same_outcome(const struct s_run *a, const struct s_run *b) {
    FUZZ_CHECK(a->failed == b->failed && a->error_code == b->error_code && a->close_status == b->close_status,
               "%s ended with %s (close %u), %s with %s (close %u)", a->name,
               a->failed ? wscrt_error_name(a->error_code) : "success", a->close_status, b->name,
               b->failed ? wscrt_error_name(b->error_code) : "success", b->close_status);
    FUZZ_CHECK(a->frame_count == b->frame_count, "%s began %zu frames, %s began %zu", a->name, a->frame_count,
               b->name, b->frame_count);
    for (size_t i = 0; i < a->frame_count; ++i) {
        const struct wscrt_fuzz_frame_record *fa = &a->frames[i];
        const struct wscrt_fuzz_frame_record *fb = &b->frames[i];
        FUZZ_CHECK(wscrt_fuzz_frames_equal(&fa->frame, &fb->frame) && fa->complete == fb->complete,
                   "frame %zu differs between %s and %s", i, a->name, b->name);
        const uint8_t *pa = s_payload_of(a, fa);
        const uint8_t *pb = s_payload_of(b, fb);
        bool interrupted = a->failed && i + 1 == a->frame_count && !fa->complete;
        if (interrupted) {
            /* Each run delivered a prefix of the same payload. */
            size_t common = fa->payload_len < fb->payload_len ? fa->payload_len : fb->payload_len;
            FUZZ_CHECK(common == 0 || memcmp(pa, pb, common) == 0,
                       "frame %zu: %s and %s delivered different payload before the error", i, a->name, b->name);
        } else {
            FUZZ_CHECK(fa->payload_len == fb->payload_len &&
                           (fa->payload_len == 0 || memcmp(pa, pb, fa->payload_len) == 0),
                       "frame %zu: %s delivered %zu payload bytes, %s %zu (or different bytes)", i, a->name,
                       fa->payload_len, b->name, fb->payload_len);
        }
    }
}

/* A run that a callback stopped saw a prefix of what the unstopped run saw. */
static void s_check_stopped_prefix(const struct s_run *stopped, const struct s_run *full) {
    FUZZ_CHECK(stopped->events == stopped->stop_at_event, "%s: stopped at event %zu, asked for %zu",
               stopped->name, stopped->events, stopped->stop_at_event);
    FUZZ_CHECK(stopped->frame_count <= full->frame_count, "%s: more frames than the full run", stopped->name);
    for (size_t i = 0; i < stopped->frame_count; ++i) {
        const struct wscrt_fuzz_frame_record *fs = &stopped->frames[i];
        const struct wscrt_fuzz_frame_record *ff = &full->frames[i];
        FUZZ_CHECK(wscrt_fuzz_frames_equal(&fs->frame, &ff->frame), "%s: frame %zu differs from the full run",
                   stopped->name, i);
        FUZZ_CHECK(fs->payload_len <= ff->payload_len &&
                       (fs->payload_len == 0 ||
                        memcmp(s_payload_of(stopped, fs), s_payload_of(full, ff), fs->payload_len) == 0),
                   "%s: frame %zu payload is not a prefix of the full run's", stopped->name, i);
    }
}


/* The whole run as the reference reader sees it. */
static struct wscrt_fuzz_delivered s_delivered(const struct s_run *run) {
    return (struct wscrt_fuzz_delivered){
        .frames = run->frames,
        .frame_count = run->frame_count,
        .payload_log = run->payload_log.bytes,
        .failed = run->failed,
        .error_code = run->error_code,
    };
}

/* Budget classes for byte 0, bits 0-3: around the control limit and the length encodings. */
static const uint64_t s_max_budget[16] = {0, 1, 2, 3, 5, 8, 13, 64, 125, 126, 1000, 4096, 65535, 65536,
                                          UINT64_MAX / 2, UINT64_MAX};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct fuzz_input input = fuzz_input_parse(data, size);
    uint8_t allowed_rsv = input.options & WSCRT_WEBSOCKET_RSV_MASK;

    struct s_run whole;
    s_run_init(&whole, "whole", allowed_rsv, 0, false);
    s_feed(&whole, &(struct s_feed_config){.feed = S_FEED_WHOLE, .input = &input});
    struct wscrt_fuzz_delivered delivered = s_delivered(&whole);
    wscrt_fuzz_check_against_reference(&delivered, &input, allowed_rsv);

    struct s_run pieces;
    s_run_init(&pieces, "pieces", allowed_rsv, 0, true);
    s_feed(&pieces, &(struct s_feed_config){.feed = S_FEED_PIECES, .input = &input});
    s_check_same_outcome(&whole, &pieces);

    if (input.stream_len <= S_BYTEWISE_MAX_LEN) {
        struct s_run bytewise;
        s_run_init(&bytewise, "bytewise", allowed_rsv, 0, false);
        s_feed(&bytewise, &(struct s_feed_config){.feed = S_FEED_BYTEWISE, .input = &input});
        s_check_same_outcome(&whole, &bytewise);
        s_run_clean_up(&bytewise);
    }

    /* A zero budget everywhere would never finish: 0 in the table means "0 or 1". */
    uint64_t max_budget = s_max_budget[input.options & 0x0F];
    struct s_run budget;
    s_run_init(&budget, "budget", allowed_rsv, 0, true);
    s_feed(&budget, &(struct s_feed_config){.feed = S_FEED_BUDGET, .input = &input, .max_budget = max_budget});
    s_check_same_outcome(&whole, &budget);

    if ((input.options & 0x80) && pieces.events > 0) {
        /* Stop at one event of the pieces run (same pieces, so the same events). */
        size_t stop_at = 1 + (size_t)(fuzz_rng_next(&(struct fuzz_rng){.state = input.seed}) % pieces.events);
        struct s_run stopped;
        s_run_init(&stopped, "stopped", allowed_rsv, stop_at, true);
        s_feed(&stopped, &(struct s_feed_config){.feed = S_FEED_PIECES, .input = &input});
        FUZZ_CHECK(stopped.failed && stopped.error_code == WSCRT_ERROR_CALLBACK_EXCEPTION,
                   "stopped: the failing callback did not stop the decoder");
        s_check_stopped_prefix(&stopped, &pieces);
        s_run_clean_up(&stopped);
    }

    s_run_clean_up(&whole);
    s_run_clean_up(&pieces);
    s_run_clean_up(&budget);
    fuzz_check_no_live_memory();
    return 0;
}
