#ifndef WSCRT_TESTS_WEBSOCKET_DECODER_RECORDER_H
#define WSCRT_TESTS_WEBSOCKET_DECODER_RECORDER_H
/*
 * For websocket_decoder_header_test.c and websocket_decoder_payload_test.c: a recorder of the decoder's
 * events, expectations that consume them in order, hex input, and s_decode, which also checks that every
 * split of the input (byte by byte, and every two-piece cut) gives the very same events or the very same
 * error. The table rows built on it are in websocket_decoder_table.h.
 */
#include <stdlib.h>

#include "common/allocator.h"
#include "common/byte_buf.h"
#include "common/error.h"
#include "http/websocket_decoder.h"
#include "test_harness.h"
#include "test_hex.h"

/* ---- the recorder ---- */

enum s_event_type {
    S_EVENT_NONE, /* ends a list of expected events */
    S_EVENT_BEGIN,
    S_EVENT_PAYLOAD,
    S_EVENT_COMPLETE,
};

struct s_event {
    enum s_event_type type;
    uint8_t opcode;
    bool fin;
    uint8_t rsv;
    uint64_t length;       /* BEGIN: frame payload length; PAYLOAD: bytes delivered */
    size_t payload_offset; /* PAYLOAD: where its bytes start in recorder->payload */
};

#define S_MAX_EVENTS 256

struct s_recorder {
    struct s_event events[S_MAX_EVENTS];
    size_t count;
    size_t next; /* the first event no expectation has consumed yet */
    struct wscrt_byte_buf payload;
    /* Fault injection: fail the callback of this type once `fail_after` more
     * events of it were recorded (-1 = never). */
    int fail_type;
    int fail_after;
    /* in_frame as seen from inside the callbacks. */
    struct wscrt_websocket_decoder *decoder;
    bool in_frame_at_begin;
    bool in_frame_at_complete;
    /* on_whole_frame calls: each is recorded as the three events it stands for. */
    size_t whole_frames;
};

static inline void s_recorder_init(struct s_recorder *recorder, struct wscrt_allocator *allocator) {
    memset(recorder, 0, sizeof(*recorder));
    wscrt_byte_buf_init(&recorder->payload, allocator, 64);
    recorder->fail_type = -1;
}

/* Cleans up the decoder the recorder was last given (s_decoder_init), before it goes out of scope. */
static inline void s_recorder_clean_up_decoder(struct s_recorder *recorder) {
    if (recorder->decoder != NULL) {
        wscrt_websocket_decoder_clean_up(recorder->decoder);
        recorder->decoder = NULL;
    }
}

static inline void s_recorder_clean_up(struct s_recorder *recorder) {
    s_recorder_clean_up_decoder(recorder);
    wscrt_byte_buf_clean_up(&recorder->payload);
}

static inline void s_recorder_reset(struct s_recorder *recorder) {
    recorder->count = 0;
    recorder->next = 0;
    recorder->whole_frames = 0;
    wscrt_byte_buf_reset(&recorder->payload);
}

static inline int s_record(struct s_recorder *recorder, enum s_event_type type, const struct wscrt_websocket_frame *frame,
                    uint64_t length) {
    if ((int)type == recorder->fail_type && recorder->fail_after-- == 0) {
        return wscrt_raise_error(WSCRT_ERROR_CALLBACK_EXCEPTION);
    }
    if (recorder->count == S_MAX_EVENTS) {
        fprintf(stderr, "  recorder full\n");
        abort();
    }
    struct s_event *event = &recorder->events[recorder->count++];
    event->type = type;
    event->opcode = frame->opcode;
    event->fin = frame->fin;
    event->rsv = frame->rsv;
    event->length = length;
    event->payload_offset = recorder->payload.len;
    return WSCRT_OP_SUCCESS;
}

static inline int s_on_frame_begin(const struct wscrt_websocket_frame *frame, void *user_data) {
    struct s_recorder *recorder = user_data;
    recorder->in_frame_at_begin = wscrt_websocket_decoder_in_frame(recorder->decoder);
    return s_record(recorder, S_EVENT_BEGIN, frame, frame->payload_length);
}

static inline int s_on_payload(const struct wscrt_websocket_frame *frame, struct wscrt_byte_cursor data, void *user_data) {
    struct s_recorder *recorder = user_data;
    if (data.len == 0) {
        fprintf(stderr, "  empty on_payload call\n");
        abort();
    }
    /* Pieces of one frame's payload are joined (unless already checked), so
     * any split records the same events. */
    struct s_event *last = recorder->count > recorder->next ? &recorder->events[recorder->count - 1] : NULL;
    if (last && last->type == S_EVENT_PAYLOAD && recorder->fail_type != S_EVENT_PAYLOAD) {
        last->length += data.len;
    } else if (s_record(recorder, S_EVENT_PAYLOAD, frame, data.len)) {
        return WSCRT_OP_ERR;
    }
    wscrt_byte_buf_append_dynamic(&recorder->payload, data);
    return WSCRT_OP_SUCCESS;
}

static inline int s_on_frame_complete(const struct wscrt_websocket_frame *frame, void *user_data) {
    struct s_recorder *recorder = user_data;
    recorder->in_frame_at_complete = wscrt_websocket_decoder_in_frame(recorder->decoder);
    return s_record(recorder, S_EVENT_COMPLETE, frame, frame->payload_length);
}

/* Recorded as begin, payload (none when empty), complete: every test then also checks that a frame delivered
 * whole gives the very events the three callbacks give (s_decode compares with byte-by-byte input, which never
 * has a whole frame). */
static inline int s_on_whole_frame(const struct wscrt_websocket_frame *frame, struct wscrt_byte_cursor payload,
                                   void *user_data) {
    struct s_recorder *recorder = user_data;
    recorder->whole_frames++;
    if (s_record(recorder, S_EVENT_BEGIN, frame, frame->payload_length) ||
        (payload.len > 0 && s_on_payload(frame, payload, recorder))) {
        return WSCRT_OP_ERR;
    }
    return s_record(recorder, S_EVENT_COMPLETE, frame, frame->payload_length);
}

static inline void s_decoder_init(struct wscrt_websocket_decoder *decoder, struct s_recorder *recorder, uint8_t allowed_rsv) {
    struct wscrt_websocket_decoder_options options = {
        .on_frame_begin = s_on_frame_begin,
        .on_payload = s_on_payload,
        .on_frame_complete = s_on_frame_complete,
        .on_whole_frame = s_on_whole_frame,
        .user_data = recorder,
        .allowed_rsv_bits = allowed_rsv,
    };
    s_recorder_clean_up_decoder(recorder); /* the one given before: still in scope, maybe the same again */
    wscrt_websocket_decoder_init(decoder, recorder->payload.allocator, &options);
    recorder->decoder = decoder;
}

/* ---- expectations: each consumes the next recorded event ---- */

static inline int s_expect_begin(struct s_recorder *recorder, uint8_t opcode, bool fin, uint64_t length) {
    ASSERT_TRUE(recorder->next < recorder->count);
    const struct s_event *event = &recorder->events[recorder->next++];
    ASSERT_INT_EQ(S_EVENT_BEGIN, event->type);
    ASSERT_UINT_EQ(opcode, event->opcode);
    ASSERT_INT_EQ(fin, event->fin);
    ASSERT_UINT_EQ(length, event->length);
    return 0;
}

static inline int s_expect_payload(struct s_recorder *recorder, const void *bytes, size_t len) {
    ASSERT_TRUE(recorder->next < recorder->count);
    const struct s_event *event = &recorder->events[recorder->next++];
    ASSERT_INT_EQ(S_EVENT_PAYLOAD, event->type);
    ASSERT_BYTES_EQ(bytes, len, recorder->payload.buffer + event->payload_offset, event->length);
    return 0;
}

static inline int s_expect_payload_str(struct s_recorder *recorder, const char *text) {
    return s_expect_payload(recorder, text, strlen(text));
}

static inline int s_expect_complete(struct s_recorder *recorder, uint8_t opcode) {
    ASSERT_TRUE(recorder->next < recorder->count);
    const struct s_event *event = &recorder->events[recorder->next++];
    ASSERT_INT_EQ(S_EVENT_COMPLETE, event->type);
    ASSERT_UINT_EQ(opcode, event->opcode);
    return 0;
}

static inline int s_expect_nothing_left(struct s_recorder *recorder) {
    if (recorder->next != recorder->count) {
        WSCRT_FAIL_("%zu unexpected event(s) left, the first of type %d", recorder->count - recorder->next,
                    (int)recorder->events[recorder->next].type);
    }
    return 0;
}

#define EXPECT(call) ASSERT_INT_EQ(0, (call))

/* A final frame delivered whole: its begin (length `len`), its payload in one piece (none when empty), its complete. */
static inline int s_expect_whole_frame(struct s_recorder *recorder, uint8_t opcode, const void *bytes, size_t len) {
    EXPECT(s_expect_begin(recorder, opcode, true, len));
    if (len > 0) {
        EXPECT(s_expect_payload(recorder, bytes, len));
    }
    return s_expect_complete(recorder, opcode);
}

/* ---- input ---- */

struct s_outcome {
    int result;
    int error;
    uint16_t close_status;
};

/* Feeds `input` in pieces cut at the given positions (ascending, may be empty). */
static inline struct s_outcome s_feed_split(struct s_recorder *recorder, uint8_t allowed_rsv, struct wscrt_byte_cursor input,
                                     const size_t *cuts, size_t cut_count) {
    struct wscrt_websocket_decoder decoder;
    s_decoder_init(&decoder, recorder, allowed_rsv);
    s_recorder_reset(recorder);
    struct s_outcome outcome = {.result = WSCRT_OP_SUCCESS};
    size_t start = 0;
    for (size_t i = 0; i <= cut_count; ++i) {
        size_t end = i < cut_count ? cuts[i] : input.len;
        struct wscrt_byte_cursor piece = wscrt_byte_cursor_from_array(input.ptr + start, end - start);
        wscrt_reset_error();
        if (wscrt_websocket_decoder_process(&decoder, &piece, NULL)) {
            outcome.result = WSCRT_OP_ERR;
            outcome.error = wscrt_last_error();
            outcome.close_status = decoder.close_status_on_error;
            break;
        }
        if (piece.len != 0) {
            fprintf(stderr, "  decoder left %zu bytes unconsumed without a budget\n", piece.len);
            abort();
        }
        start = end;
    }
    s_recorder_clean_up_decoder(recorder);
    return outcome;
}

static inline bool s_same_events(const struct s_recorder *a, const struct s_recorder *b) {
    if (a->count != b->count || a->payload.len != b->payload.len ||
        (a->payload.len && memcmp(a->payload.buffer, b->payload.buffer, a->payload.len) != 0)) {
        return false;
    }
    for (size_t i = 0; i < a->count; ++i) {
        const struct s_event *x = &a->events[i];
        const struct s_event *y = &b->events[i];
        if (x->type != y->type || x->opcode != y->opcode || x->fin != y->fin || x->length != y->length) {
            return false;
        }
    }
    return true;
}

/*
 * Decodes hex in one piece into `recorder` and returns the outcome. When that
 * succeeds, also checks that byte-by-byte input and every two-piece split give
 * the very same events; when it fails, that every split fails the same way.
 */
static inline int s_decode(struct wscrt_allocator *allocator, struct s_recorder *recorder, uint8_t allowed_rsv,
                    const char *hex, struct s_outcome *outcome) {
    struct wscrt_byte_buf bytes;
    wscrt_byte_buf_init(&bytes, allocator, 16);
    s_hex(&bytes, hex);
    struct wscrt_byte_cursor input = wscrt_byte_cursor_from_buf(&bytes);

    struct s_recorder other;
    s_recorder_init(&other, allocator);
    int failures = 0;
    *outcome = s_feed_split(recorder, allowed_rsv, input, NULL, 0);

    size_t *cuts = wscrt_mem_calloc(allocator, input.len + 1, sizeof(size_t));
    for (size_t i = 1; i < input.len; ++i) {
        cuts[i - 1] = i;
    }
    /* cut 0 stands for byte by byte; long inputs are cut near both ends only. */
    for (size_t cut = 0; cut < input.len; ++cut) {
        if (input.len > 400 && cut > 200 && cut < input.len - 200) {
            continue;
        }
        struct s_outcome split = cut == 0 ? s_feed_split(&other, allowed_rsv, input, cuts, input.len - 1)
                                          : s_feed_split(&other, allowed_rsv, input, &cut, 1);
        if (split.result != outcome->result || split.error != outcome->error ||
            split.close_status != outcome->close_status ||
            (outcome->result == WSCRT_OP_SUCCESS && !s_same_events(recorder, &other))) {
            fprintf(stderr, "  split at %zu (0 = byte by byte) differs: %s vs %s\n", cut,
                    wscrt_error_name(split.error), wscrt_error_name(outcome->error));
            failures++;
            break;
        }
    }
    wscrt_mem_release(allocator, cuts);
    s_recorder_clean_up(&other);
    wscrt_byte_buf_clean_up(&bytes);
    ASSERT_INT_EQ(0, failures);
    return 0;
}

static inline int s_decode_ok(struct wscrt_allocator *allocator, struct s_recorder *recorder, const char *hex) {
    struct s_outcome outcome;
    EXPECT(s_decode(allocator, recorder, 0, hex, &outcome));
    if (outcome.result != WSCRT_OP_SUCCESS) {
        WSCRT_FAIL_("decoding failed with %s", wscrt_error_name(outcome.error));
    }
    return 0;
}

static inline int s_decode_fails(struct wscrt_allocator *allocator, struct s_recorder *recorder, uint8_t allowed_rsv,
                          const char *hex, int expected_error, uint16_t expected_close_status) {
    struct s_outcome outcome;
    EXPECT(s_decode(allocator, recorder, allowed_rsv, hex, &outcome));
    ASSERT_INT_EQ(WSCRT_OP_ERR, outcome.result);
    if (outcome.error != expected_error) {
        WSCRT_FAIL_("failed with %s, expected %s", wscrt_error_name(outcome.error), wscrt_error_name(expected_error));
    }
    ASSERT_UINT_EQ(expected_close_status, outcome.close_status);
    return 0;
}

static inline int s_decode_protocol_error(struct wscrt_allocator *allocator, struct s_recorder *recorder, const char *hex,
                                   int expected_error) {
    return s_decode_fails(allocator, recorder, 0, hex, expected_error, WSCRT_WEBSOCKET_CLOSE_PROTOCOL_ERROR);
}

#endif
