/*
 * Keepalive end to end in C (websocket_keepalive.c, under ASan/UBSan and TSan
 * too): the scripted server of websocket_fixture.h reads the client's PINGs
 * and answers them, or not.
 */
#include <stdatomic.h>

#include "common/error.h"
#include "websocket_fixture.h"

#define PING_INTERVAL_MS 50

static int s_upgrade_with_keepalive(struct fixture *f, struct wscrt_allocator *allocator, uint32_t interval_ms,
                                    uint32_t timeout_ms) {
    ASSERT_SUCCESS(s_fixture_init(f, allocator));
    f->ping_interval_ms = interval_ms;
    f->pong_timeout_ms = timeout_ms;
    ASSERT_SUCCESS(s_fixture_upgrade_configured(f, allocator, false, 0));
    ASSERT_TRUE(s_wait_for(&f->recorder, &f->recorder.setup_count, 1));
    ASSERT_INT_EQ(0, f->recorder.setup_error);
    return 0;
}

/* Reads client frames until a PING; answers it with `answer_opcode` (0 = no answer). Returns the PING's counter. */
static int64_t s_server_take_ping(struct server *server, uint8_t answer_opcode) {
    uint8_t payload[128];
    size_t len = 0;
    int opcode = s_server_read_frame(server, payload, sizeof(payload), &len);
    if (opcode != WSCRT_WEBSOCKET_OPCODE_PING || len != 4) {
        return -1;
    }
    if (answer_opcode != 0) {
        uint8_t answer[6] = {(uint8_t)(0x80 | answer_opcode), 4, payload[0], payload[1], payload[2], payload[3]};
        if (s_server_send(server, answer, sizeof(answer))) {
            return -1;
        }
    }
    return ((int64_t)payload[0] << 24) | (payload[1] << 16) | (payload[2] << 8) | payload[3];
}

static int s_test_pings_go_out_every_interval_and_pongs_keep_the_connection_open(struct wscrt_allocator *allocator) {
    struct fixture f;
    uint64_t start = wscrt_clock_now_ns();
    ASSERT_SUCCESS(s_upgrade_with_keepalive(&f, allocator, PING_INTERVAL_MS, 4 * PING_INTERVAL_MS));
    for (int64_t i = 0; i < 10; ++i) {
        ASSERT_INT_EQ(i, s_server_take_ping(&f.server, WSCRT_WEBSOCKET_OPCODE_PONG));
    }
    /* Ten intervals at least: no PING comes early. */
    ASSERT_TRUE(wscrt_clock_now_ns() - start >= 10ULL * PING_INTERVAL_MS * WSCRT_NS_PER_MS);
    ASSERT_TRUE(s_wait_for(&f.recorder, &f.recorder.complete_count, 10)); /* the PONGs reach the user too */
    ASSERT_INT_EQ(0, f.recorder.shutdown_count);
    return s_fixture_clean_up(&f);
}

/* A PONG may be read before the PING's write completion has run: it still counts. */
static int s_test_a_pong_timeout_shorter_than_the_interval_holds_while_answered(struct wscrt_allocator *allocator) {
    struct fixture f;
    ASSERT_SUCCESS(s_upgrade_with_keepalive(&f, allocator, 2 * PING_INTERVAL_MS, PING_INTERVAL_MS / 2));
    for (int64_t i = 0; i < 8; ++i) {
        ASSERT_INT_EQ(i, s_server_take_ping(&f.server, WSCRT_WEBSOCKET_OPCODE_PONG));
    }
    usleep(PING_INTERVAL_MS * 1000);
    ASSERT_INT_EQ(0, f.recorder.shutdown_count);
    return s_fixture_clean_up(&f);
}

static int s_test_any_incoming_frame_is_proof_of_life(struct wscrt_allocator *allocator) {
    struct fixture f;
    ASSERT_SUCCESS(s_upgrade_with_keepalive(&f, allocator, PING_INTERVAL_MS, 2 * PING_INTERVAL_MS));
    /* The server never sends a PONG, only a TEXT frame after each PING. */
    for (int64_t i = 0; i < 8; ++i) {
        ASSERT_INT_EQ(i, s_server_take_ping(&f.server, WSCRT_WEBSOCKET_OPCODE_TEXT));
    }
    ASSERT_TRUE(s_wait_for(&f.recorder, &f.recorder.complete_count, 8));
    ASSERT_INT_EQ(0, f.recorder.shutdown_count);
    return s_fixture_clean_up(&f);
}

static int s_test_a_silent_peer_fails_with_ping_timeout_after_close_1001(struct wscrt_allocator *allocator) {
    struct fixture f;
    ASSERT_SUCCESS(s_upgrade_with_keepalive(&f, allocator, PING_INTERVAL_MS, 2 * PING_INTERVAL_MS));
    ASSERT_INT_EQ(0, s_server_take_ping(&f.server, WSCRT_WEBSOCKET_OPCODE_PONG));
    uint64_t silent_from = wscrt_clock_now_ns();
    ASSERT_INT_EQ(1, s_server_take_ping(&f.server, 0)); /* not answered */
    uint8_t payload[128];
    size_t len = 0;
    int opcode;
    do { /* PINGs may still come before the deadline passes */
        opcode = s_server_read_frame(&f.server, payload, sizeof(payload), &len);
    } while (opcode == WSCRT_WEBSOCKET_OPCODE_PING);
    ASSERT_INT_EQ(WSCRT_WEBSOCKET_OPCODE_CLOSE, opcode);
    ASSERT_BYTES_EQ("\x03\xE9", 2, payload, len); /* 1001 */
    ASSERT_TRUE(s_wait_for(&f.recorder, &f.recorder.shutdown_count, 1));
    uint64_t elapsed_ms = (wscrt_clock_now_ns() - silent_from) / WSCRT_NS_PER_MS;
    ASSERT_INT_EQ(WSCRT_ERROR_WEBSOCKET_PING_TIMEOUT, f.recorder.shutdown_error);
    /* The deadline: interval + timeout after the last answered PING, plus scheduling slack (loaded host). */
    ASSERT_TRUE(elapsed_ms >= 2 * PING_INTERVAL_MS - 10);
    ASSERT_TRUE(elapsed_ms < 3000);
    usleep(4 * PING_INTERVAL_MS * 1000);
    ASSERT_INT_EQ(1, f.recorder.shutdown_count); /* exactly once; no timer runs after the shutdown */
    return s_fixture_clean_up(&f);
}

/*
 * With manual_window_management and the read window at 0, the user, not the peer, stopped the reading: the
 * deadline is not enforced (websocket.h). Once the user opens the window, a silent peer times out as usual.
 */
static int s_test_a_read_window_held_at_0_suspends_the_pong_deadline(struct wscrt_allocator *allocator) {
    struct fixture f;
    ASSERT_SUCCESS(s_fixture_init(&f, allocator));
    f.ping_interval_ms = PING_INTERVAL_MS;
    f.pong_timeout_ms = PING_INTERVAL_MS / 2;
    ASSERT_SUCCESS(s_fixture_upgrade_configured(&f, allocator, true, 0));
    ASSERT_TRUE(s_wait_for(&f.recorder, &f.recorder.setup_count, 1));
    ASSERT_INT_EQ(0, f.recorder.setup_error);
    /* Ten unanswered PINGs, each far past its deadline by the time the next one goes out. */
    for (int64_t i = 0; i < 10; ++i) {
        ASSERT_INT_EQ(i, s_server_take_ping(&f.server, 0));
    }
    ASSERT_INT_EQ(0, f.recorder.shutdown_count);
    uint64_t opened_at = wscrt_clock_now_ns();
    wscrt_websocket_increment_read_window(f.recorder.websocket, 1024);
    uint8_t payload[128];
    size_t len = 0;
    int opcode;
    do {
        opcode = s_server_read_frame(&f.server, payload, sizeof(payload), &len);
    } while (opcode == WSCRT_WEBSOCKET_OPCODE_PING);
    ASSERT_INT_EQ(WSCRT_WEBSOCKET_OPCODE_CLOSE, opcode);
    ASSERT_BYTES_EQ("\x03\xE9", 2, payload, len); /* 1001 */
    ASSERT_TRUE(s_wait_for(&f.recorder, &f.recorder.shutdown_count, 1));
    ASSERT_INT_EQ(WSCRT_ERROR_WEBSOCKET_PING_TIMEOUT, f.recorder.shutdown_error);
    ASSERT_TRUE((wscrt_clock_now_ns() - opened_at) / WSCRT_NS_PER_MS < 3000);
    return s_fixture_clean_up(&f);
}

static int s_test_pings_go_between_the_fragments_of_a_user_message(struct wscrt_allocator *allocator) {
    struct fixture f;
    ASSERT_SUCCESS(s_upgrade_with_keepalive(&f, allocator, PING_INTERVAL_MS, 4 * PING_INTERVAL_MS));
    struct wscrt_websocket_send_frame_options send = {
        .opcode = WSCRT_WEBSOCKET_OPCODE_TEXT,
        .fin = false,
        .payload = wscrt_byte_cursor_from_c_str("frag"),
    };
    ASSERT_SUCCESS(wscrt_websocket_send_frame(f.recorder.websocket, &send));
    uint8_t payload[128];
    size_t len = 0;
    ASSERT_INT_EQ(WSCRT_WEBSOCKET_OPCODE_TEXT, s_server_read_frame(&f.server, payload, sizeof(payload), &len));
    ASSERT_INT_EQ(0, s_server_take_ping(&f.server, WSCRT_WEBSOCKET_OPCODE_PONG));
    ASSERT_INT_EQ(1, s_server_take_ping(&f.server, WSCRT_WEBSOCKET_OPCODE_PONG));
    send.opcode = WSCRT_WEBSOCKET_OPCODE_CONTINUATION;
    send.fin = true;
    send.payload = wscrt_byte_cursor_from_c_str("mented");
    ASSERT_SUCCESS(wscrt_websocket_send_frame(f.recorder.websocket, &send)); /* the message is still open */
    int opcode;
    do {
        opcode = s_server_read_frame(&f.server, payload, sizeof(payload), &len);
    } while (opcode == WSCRT_WEBSOCKET_OPCODE_PING);
    ASSERT_INT_EQ(WSCRT_WEBSOCKET_OPCODE_CONTINUATION, opcode);
    ASSERT_BYTES_EQ("mented", 6, payload, len);
    ASSERT_INT_EQ(0, f.recorder.shutdown_count);
    return s_fixture_clean_up(&f);
}

/*
 * The server stops reading: user frames fill the kernel buffers and then the send queue up to its limit.
 * The keepalive PING waits in the channel behind them, is not counted in the queue (a user send past the
 * limit still fails, and queued_bytes stays what the user queued), is queued once however many intervals
 * pass, and its deadline starts only when it is written to the socket, so a stalled writer is not taken for
 * a dead peer (the pong timeout must still cover what the kernel buffers hold ahead of the PING).
 */
static int s_test_a_stalled_writer_holds_one_ping_outside_the_send_queue(struct wscrt_allocator *allocator) {
    struct fixture f;
    ASSERT_SUCCESS(s_fixture_init(&f, allocator));
    int small = 4096;
    setsockopt(f.server.listen_fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    /* The queue fills within a few tens of ms (well over a second under TSan), so the first PING (at 3 s) is
     * queued behind it. The pong timeout is long enough for the drain below: the kernel buffers hold
     * megabytes ahead of the PING. */
    f.ping_interval_ms = 3000;
    f.pong_timeout_ms = 6000;
    f.send_queue_limit = 256 * 1024;
    ASSERT_SUCCESS(s_fixture_upgrade_configured(&f, allocator, false, 0));
    ASSERT_TRUE(s_wait_for(&f.recorder, &f.recorder.setup_count, 1));
    static uint8_t chunk[60000];
    struct wscrt_websocket_send_frame_options send = {
        .opcode = WSCRT_WEBSOCKET_OPCODE_BINARY,
        .fin = true,
        .payload = wscrt_byte_cursor_from_array(chunk, sizeof(chunk)),
    };
    int sent = 0;
    uint64_t deadline = wscrt_clock_now_ns() + WAIT_NS;
    while (sent < 2000 && wscrt_clock_now_ns() < deadline) {
        if (wscrt_websocket_send_frame(f.recorder.websocket, &send)) {
            ASSERT_INT_EQ(WSCRT_ERROR_WEBSOCKET_SEND_QUEUE_FULL, wscrt_last_error());
            break;
        }
        ++sent;
        usleep(200); /* lets the loop write what the kernel takes */
    }
    ASSERT_TRUE(sent < 2000);
    uint64_t queued = wscrt_websocket_get_queued_bytes(f.recorder.websocket);
    usleep(7000 * 1000); /* more than two intervals and one pong timeout */
    /* Keepalive PINGs never count in the user's queue (the kernel may still take a little of it). */
    ASSERT_TRUE(wscrt_websocket_get_queued_bytes(f.recorder.websocket) <= queued);
    ASSERT_INT_EQ(0, f.recorder.shutdown_count);

    /* Drain, answering PINGs: the PINGs among the user frames are few, not one per interval of the stall. */
    static uint8_t payload[65536];
    int user_frames = 0;
    int pings_among_them = 0;
    while (user_frames < sent) {
        size_t len = 0;
        int opcode = s_server_read_frame(&f.server, payload, sizeof(payload), &len);
        if (opcode == WSCRT_WEBSOCKET_OPCODE_PING) {
            ++pings_among_them;
            uint8_t pong[6] = {0x8A, 4, payload[0], payload[1], payload[2], payload[3]};
            ASSERT_SUCCESS(s_server_send(&f.server, pong, sizeof(pong)));
        } else {
            if (opcode != WSCRT_WEBSOCKET_OPCODE_BINARY) {
                fprintf(stderr, "frame %d: opcode %d, shutdown %d (%s)\n", user_frames, opcode,
                        f.recorder.shutdown_count, wscrt_error_name(f.recorder.shutdown_error));
            }
            ASSERT_INT_EQ(WSCRT_WEBSOCKET_OPCODE_BINARY, opcode);
            ++user_frames;
        }
    }
    if (pings_among_them == 0) { /* the one queued during the stall may come right behind the user frames */
        ASSERT_INT_EQ(WSCRT_WEBSOCKET_OPCODE_PING, s_server_take_ping(&f.server, WSCRT_WEBSOCKET_OPCODE_PONG) >= 0
                                                       ? WSCRT_WEBSOCKET_OPCODE_PING
                                                       : -1);
        pings_among_them = 1;
    }
    ASSERT_TRUE(pings_among_them <= 2);
    ASSERT_INT_EQ(0, f.recorder.shutdown_count);
    return s_fixture_clean_up(&f);
}

/* ---- allocations per PING ---- */

struct counting_allocator {
    struct wscrt_allocator base;
    struct wscrt_allocator *wrapped;
    atomic_size_t acquisitions;
};

static void *s_counting_acquire(struct wscrt_allocator *allocator, size_t size) {
    struct counting_allocator *counting = allocator->impl;
    atomic_fetch_add(&counting->acquisitions, 1);
    return counting->wrapped->mem_acquire(counting->wrapped, size);
}

static void s_counting_release(struct wscrt_allocator *allocator, void *ptr) {
    struct counting_allocator *counting = allocator->impl;
    counting->wrapped->mem_release(counting->wrapped, ptr);
}

static void *s_counting_realloc(struct wscrt_allocator *allocator, void *ptr, size_t old_size, size_t new_size) {
    struct counting_allocator *counting = allocator->impl;
    atomic_fetch_add(&counting->acquisitions, 1);
    return counting->wrapped->mem_realloc(counting->wrapped, ptr, old_size, new_size);
}

/* Every allocation of the whole client (loop, channel, connection) over N answered PINGs of an otherwise idle
 * connection: exactly the frames' own blocks, the same as a PING the user sends. */
static int s_test_an_idle_connection_allocates_only_the_frame_per_ping(struct wscrt_allocator *allocator) {
    struct counting_allocator counting = {
        .base = {s_counting_acquire, s_counting_release, s_counting_realloc, &counting},
        .wrapped = allocator,
    };
    struct fixture f;
    enum { INTERVAL_MS = 150, PINGS = 8 };
    ASSERT_SUCCESS(s_upgrade_with_keepalive(&f, &counting.base, INTERVAL_MS, 4 * INTERVAL_MS));
    ASSERT_INT_EQ(0, s_server_take_ping(&f.server, WSCRT_WEBSOCKET_OPCODE_PONG));
    ASSERT_INT_EQ(1, s_server_take_ping(&f.server, WSCRT_WEBSOCKET_OPCODE_PONG));
    usleep(INTERVAL_MS * 1000 / 3); /* PING 1's completion and PONG are behind us; PING 2 is not due */
    size_t before_user_ping = atomic_load(&counting.acquisitions);
    struct wscrt_websocket_send_frame_options send = {.opcode = WSCRT_WEBSOCKET_OPCODE_PING, .fin = true};
    ASSERT_SUCCESS(wscrt_websocket_send_frame(f.recorder.websocket, &send));
    uint8_t payload[128];
    size_t len = 0;
    ASSERT_INT_EQ(WSCRT_WEBSOCKET_OPCODE_PING, s_server_read_frame(&f.server, payload, sizeof(payload), &len));
    ASSERT_UINT_EQ(0, len);
    size_t per_frame = atomic_load(&counting.acquisitions) - before_user_ping;

    ASSERT_INT_EQ(2, s_server_take_ping(&f.server, WSCRT_WEBSOCKET_OPCODE_PONG));
    usleep(INTERVAL_MS * 1000 / 3);
    size_t before = atomic_load(&counting.acquisitions);
    for (int64_t i = 3; i < 3 + PINGS; ++i) {
        ASSERT_INT_EQ(i, s_server_take_ping(&f.server, WSCRT_WEBSOCKET_OPCODE_PONG));
    }
    usleep(INTERVAL_MS * 1000 / 3);
    size_t during = atomic_load(&counting.acquisitions) - before;
    fprintf(stderr, "allocations: %zu per user PING, %zu over %d keepalive PINGs; shutdown %s\n", per_frame, during,
            PINGS, wscrt_error_name(f.recorder.shutdown_error));
    ASSERT_TRUE(per_frame >= 1);
    ASSERT_UINT_EQ(PINGS * per_frame, during);
    ASSERT_INT_EQ(0, f.recorder.shutdown_count);
    return s_fixture_clean_up(&f);
}

static int s_test_pong_timeout_without_ping_interval_is_refused(struct wscrt_allocator *allocator) {
    struct fixture f;
    ASSERT_SUCCESS(s_fixture_init(&f, allocator));
    f.pong_timeout_ms = 100;
    ASSERT_ERROR(WSCRT_ERROR_INVALID_ARGUMENT, s_fixture_connect(&f, false, 0));
    return s_fixture_clean_up(&f);
}

WSCRT_TEST_MAIN(s_test_pings_go_out_every_interval_and_pongs_keep_the_connection_open,
                s_test_a_pong_timeout_shorter_than_the_interval_holds_while_answered,
                s_test_any_incoming_frame_is_proof_of_life,
                s_test_a_silent_peer_fails_with_ping_timeout_after_close_1001,
                s_test_a_read_window_held_at_0_suspends_the_pong_deadline,
                s_test_pings_go_between_the_fragments_of_a_user_message,
                s_test_a_stalled_writer_holds_one_ping_outside_the_send_queue,
                s_test_an_idle_connection_allocates_only_the_frame_per_ping,
                s_test_pong_timeout_without_ping_interval_is_refused)
