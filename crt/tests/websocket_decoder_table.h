#ifndef WSCRT_TESTS_WEBSOCKET_DECODER_TABLE_H
#define WSCRT_TESTS_WEBSOCKET_DECODER_TABLE_H
/*
 * The table form of the websocket_decoder_*_test.c files: a row is a name,
 * the input in hex, the error it must end with (none, or the error and the
 * close status to send), and every event the decoder must deliver before
 * that, in order. s_check_cases runs each row through s_decode (whole, byte
 * by byte, and cut in two at every position; see websocket_decoder_recorder.h)
 * as one case of the harness.
 */
#include "websocket_decoder_recorder.h"

struct s_expected_event {
    enum s_event_type type;
    uint8_t opcode;
    bool fin;
    uint64_t length;   /* BEGIN: the frame's payload length */
    const char *bytes; /* PAYLOAD: all bytes delivered for the frame */
    size_t len;
};

#define BEGIN(op, fin, length) {S_EVENT_BEGIN, WSCRT_WEBSOCKET_OPCODE_##op, fin, length, NULL, 0}
#define PAYLOAD(literal) {S_EVENT_PAYLOAD, 0, false, 0, literal, sizeof(literal) - 1}
#define COMPLETE(op) {S_EVENT_COMPLETE, WSCRT_WEBSOCKET_OPCODE_##op, false, 0, NULL, 0}
/* A whole final frame with a payload, and a frame without one. */
#define FRAME(op, literal) BEGIN(op, true, sizeof(literal) - 1), PAYLOAD(literal), COMPLETE(op)
#define EMPTY(op, fin) BEGIN(op, fin, 0), COMPLETE(op)

#define PROTOCOL_ERROR(name) WSCRT_ERROR_WEBSOCKET_##name, WSCRT_WEBSOCKET_CLOSE_PROTOCOL_ERROR
#define INVALID_UTF8 WSCRT_ERROR_WEBSOCKET_INVALID_UTF8, WSCRT_WEBSOCKET_CLOSE_INVALID_PAYLOAD

struct s_decode_case {
    const char *name;
    const char *hex;
    int error;             /* 0: the input decodes without error */
    uint16_t close_status; /* with an error: the status the connection must close with */
    struct s_expected_event events[18];
};

static inline int s_check_case(struct wscrt_allocator *allocator, const struct s_decode_case *c) {
    struct s_recorder recorder;
    s_recorder_init(&recorder, allocator);
    struct s_outcome outcome;
    int failed = s_decode(allocator, &recorder, 0, c->hex, &outcome);
    if (!failed && (outcome.error != c->error || (c->error && outcome.close_status != c->close_status))) {
        fprintf(stderr, "  ended with %s (close status %u), expected %s (close status %u)\n",
                outcome.result ? wscrt_error_name(outcome.error) : "success", (unsigned)outcome.close_status,
                c->error ? wscrt_error_name(c->error) : "success", (unsigned)c->close_status);
        failed = 1;
    }
    for (const struct s_expected_event *e = c->events; !failed && e->type != S_EVENT_NONE; ++e) {
        switch (e->type) {
            case S_EVENT_BEGIN:
                failed = s_expect_begin(&recorder, e->opcode, e->fin, e->length);
                break;
            case S_EVENT_PAYLOAD:
                failed = s_expect_payload(&recorder, e->bytes, e->len);
                break;
            case S_EVENT_COMPLETE:
                failed = s_expect_complete(&recorder, e->opcode);
                break;
            case S_EVENT_NONE:
                break;
        }
    }
    failed = failed || s_expect_nothing_left(&recorder);
    s_recorder_clean_up(&recorder);
    return failed;
}

/* Every row of `cases` as one case of the harness; returns how many failed. */
static inline int s_check_cases(struct wscrt_allocator *allocator, const struct s_decode_case *cases, size_t count) {
    int failures = 0;
    for (size_t i = 0; i < count; ++i) {
        failures += WSCRT_CASE(cases[i].name, s_check_case(allocator, &cases[i]));
    }
    return failures;
}

#endif
