/*
 * The websocket connection end to end in C (so the sanitizer build covers
 * websocket_*.c): a scripted blocking server on a thread answers the upgrade and
 * writes exact bytes; the client's callbacks are recorded and checked.
 */
#include "websocket_fixture.h"

/* ---- tests ----------------------------------------------------------------------------------------------------- */

static int s_test_frames_flow_and_peer_close_is_clean(struct wscrt_allocator *allocator) {
    struct fixture f;
    ASSERT_SUCCESS(s_fixture_open(&f, allocator));
    ASSERT_INT_EQ(101, f.recorder.setup_status);

    /* TEXT "hi", then PING "p": the client answers the PING with PONG "p". */
    static const uint8_t frames[] = {0x81, 0x02, 'h', 'i', 0x89, 0x01, 'p'};
    ASSERT_SUCCESS(s_server_send(&f.server, frames, sizeof(frames)));
    uint8_t payload[256];
    size_t payload_len = 0;
    ASSERT_INT_EQ(0xA, s_server_read_frame(&f.server, payload, sizeof(payload), &payload_len));
    ASSERT_BYTES_EQ("p", 1, payload, payload_len);
    ASSERT_TRUE(s_wait_for(&f.recorder, &f.recorder.complete_count, 2));
    ASSERT_BYTES_EQ("hip", 3, f.recorder.payload, f.recorder.payload_len);

    /* A client frame arrives masked and intact. */
    struct wscrt_websocket_send_frame_options send = {
        .opcode = WSCRT_WEBSOCKET_OPCODE_BINARY,
        .fin = true,
        .payload = wscrt_byte_cursor_from_c_str("binary payload"),
        .on_complete = s_on_send_complete,
        .user_data = &f.recorder,
    };
    ASSERT_SUCCESS(wscrt_websocket_send_frame(f.recorder.websocket, &send));
    ASSERT_INT_EQ(0x2, s_server_read_frame(&f.server, payload, sizeof(payload), &payload_len));
    ASSERT_BYTES_EQ("binary payload", 14, payload, payload_len);
    ASSERT_TRUE(s_wait_for(&f.recorder, &f.recorder.sends_completed, 1));

    /* Server CLOSE 1001: echoed with the same code, then a clean shutdown. */
    static const uint8_t close_frame[] = {0x88, 0x02, 0x03, 0xE9};
    ASSERT_SUCCESS(s_server_send(&f.server, close_frame, sizeof(close_frame)));
    ASSERT_SUCCESS(s_expect_client_close(&f, 1001));
    ASSERT_TRUE(s_wait_for(&f.recorder, &f.recorder.shutdown_count, 1));
    ASSERT_INT_EQ(0, f.recorder.shutdown_error);
    ASSERT_INT_EQ(1, f.recorder.setup_count);

    /* A send after shutdown completes with an error instead of being lost, once, and its frame is freed: a
     * small frame (its record inside its message's block) and a large one (record and block apart). */
    ASSERT_INT_EQ(0, f.recorder.sends_failed);
    send.opcode = WSCRT_WEBSOCKET_OPCODE_TEXT;
    ASSERT_SUCCESS(wscrt_websocket_send_frame(f.recorder.websocket, &send));
    static uint8_t large[8 * 1024];
    send.opcode = WSCRT_WEBSOCKET_OPCODE_BINARY;
    send.payload = wscrt_byte_cursor_from_array(large, sizeof(large));
    ASSERT_SUCCESS(wscrt_websocket_send_frame(f.recorder.websocket, &send));
    ASSERT_TRUE(s_wait_for(&f.recorder, &f.recorder.sends_completed, 3));
    ASSERT_INT_EQ(2, f.recorder.sends_failed);
    ASSERT_INT_EQ(WSCRT_ERROR_WEBSOCKET_CONNECTION_CLOSED, f.recorder.last_send_error);
    usleep(50 * 1000);
    ASSERT_INT_EQ(3, f.recorder.sends_completed); /* each once */
    return s_fixture_clean_up(&f);
}

static int s_test_masked_server_frame_fails_with_close_1002(struct wscrt_allocator *allocator) {
    struct fixture f;
    ASSERT_SUCCESS(s_fixture_upgrade(&f, allocator, false, 0));
    static const uint8_t masked[] = {0x81, 0x82, 1, 2, 3, 4, 'h' ^ 1, 'i' ^ 2};
    ASSERT_SUCCESS(s_server_send(&f.server, masked, sizeof(masked)));
    ASSERT_SUCCESS(s_expect_client_close(&f, 1002));
    ASSERT_TRUE(s_wait_for(&f.recorder, &f.recorder.shutdown_count, 1));
    ASSERT_INT_EQ(WSCRT_ERROR_WEBSOCKET_MASKED_FRAME, f.recorder.shutdown_error);
    ASSERT_INT_EQ(0, f.recorder.begin_count);
    return s_fixture_clean_up(&f);
}

static int s_test_rejected_upgrade_reports_status_and_body(struct wscrt_allocator *allocator) {
    struct fixture f;
    ASSERT_SUCCESS(s_fixture_init(&f, allocator));
    ASSERT_SUCCESS(s_fixture_connect(&f, false, 0));
    char key[64];
    ASSERT_SUCCESS(s_server_accept(&f.server, key, sizeof(key)));
    static const char response[] = "HTTP/1.1 403 Forbidden\r\nContent-Length: 8\r\n\r\ngo away!";
    ASSERT_SUCCESS(s_server_send(&f.server, response, sizeof(response) - 1));
    ASSERT_TRUE(s_wait_for(&f.recorder, &f.recorder.setup_count, 1));
    ASSERT_INT_EQ(WSCRT_ERROR_WEBSOCKET_UPGRADE_FAILURE, f.recorder.setup_error);
    ASSERT_INT_EQ(403, f.recorder.setup_status);
    ASSERT_TRUE(strcmp("go away!", f.recorder.setup_body) == 0);
    ASSERT_TRUE(f.recorder.websocket == NULL);
    usleep(50 * 1000);
    ASSERT_INT_EQ(0, f.recorder.shutdown_count); /* never a shutdown after a failed setup */
    return s_fixture_clean_up(&f);
}

static int s_test_read_window_limits_delivery_exactly(struct wscrt_allocator *allocator) {
    struct fixture f;
    ASSERT_SUCCESS(s_fixture_upgrade(&f, allocator, true, 10));
    uint8_t frame[2 + 100];
    frame[0] = 0x82;
    frame[1] = 100;
    for (int i = 0; i < 100; ++i) {
        frame[2 + i] = (uint8_t)i;
    }
    ASSERT_SUCCESS(s_server_send(&f.server, frame, sizeof(frame)));
    ASSERT_TRUE(s_wait_for(&f.recorder, &f.recorder.setup_count, 1));
    int target = 10;
    uint64_t deadline = wscrt_clock_now_ns() + WAIT_NS;
    while (s_payload_len(&f.recorder) < (size_t)target && wscrt_clock_now_ns() < deadline) {
        usleep(1000);
    }
    usleep(100 * 1000); /* nothing more may arrive */
    ASSERT_UINT_EQ(10, s_payload_len(&f.recorder));
    wscrt_websocket_increment_read_window(f.recorder.websocket, 90);
    ASSERT_TRUE(s_wait_for(&f.recorder, &f.recorder.complete_count, 1));
    ASSERT_UINT_EQ(100, f.recorder.payload_len);
    ASSERT_BYTES_EQ(frame + 2, 100, f.recorder.payload, 100);
    return s_fixture_clean_up(&f);
}

/* The server plays the proxy: it checks the CONNECT request, answers 200, then serves the websocket. */
static int s_test_proxy_connect_tunnels_to_the_target(struct wscrt_allocator *allocator) {
    struct fixture f;
    ASSERT_SUCCESS(s_fixture_init(&f, allocator));
    struct wscrt_websocket_proxy_options proxy = {
        .host = "127.0.0.1",
        .port = f.server.port,
        .basic_auth = true,
        .username = "user",
        .password = "pass",
    };
    ASSERT_SUCCESS(s_fixture_connect_via(&f, false, 0, &proxy, 4444));
    ASSERT_SUCCESS(s_server_accept_only(&f.server));
    char head[4096];
    ASSERT_SUCCESS(s_server_read_head(&f.server, head, sizeof(head)));
    ASSERT_TRUE(strncmp(head, "CONNECT 127.0.0.1:4444 HTTP/1.1\r\n", strlen("CONNECT 127.0.0.1:4444 HTTP/1.1\r\n")) == 0);
    ASSERT_TRUE(strstr(head, "\r\nHost: 127.0.0.1:4444\r\n") != NULL);
    ASSERT_TRUE(strstr(head, "\r\nProxy-Authorization: Basic dXNlcjpwYXNz\r\n") != NULL);
    static const char established[] = "HTTP/1.1 200 Connection established\r\n\r\n";
    ASSERT_SUCCESS(s_server_send(&f.server, established, sizeof(established) - 1));
    char key[64];
    ASSERT_SUCCESS(s_server_read_upgrade(&f.server, key, sizeof(key)));
    ASSERT_SUCCESS(s_server_send_101(allocator, &f.server, key));
    ASSERT_TRUE(s_wait_for(&f.recorder, &f.recorder.setup_count, 1));
    ASSERT_INT_EQ(0, f.recorder.setup_error);
    static const uint8_t text[] = {0x81, 0x02, 'o', 'k'};
    ASSERT_SUCCESS(s_server_send(&f.server, text, sizeof(text)));
    ASSERT_TRUE(s_wait_for(&f.recorder, &f.recorder.complete_count, 1));
    ASSERT_BYTES_EQ("ok", 2, f.recorder.payload, f.recorder.payload_len);
    return s_fixture_clean_up(&f);
}

static int s_test_proxy_407_fails_setup_with_its_status(struct wscrt_allocator *allocator) {
    struct fixture f;
    ASSERT_SUCCESS(s_fixture_init(&f, allocator));
    struct wscrt_websocket_proxy_options proxy = {.host = "127.0.0.1", .port = f.server.port};
    ASSERT_SUCCESS(s_fixture_connect_via(&f, false, 0, &proxy, 4444));
    ASSERT_SUCCESS(s_server_accept_only(&f.server));
    char head[4096];
    ASSERT_SUCCESS(s_server_read_head(&f.server, head, sizeof(head)));
    static const char denied[] = "HTTP/1.1 407 Proxy Authentication Required\r\n"
                                 "Proxy-Authenticate: Basic realm=\"x\"\r\nContent-Length: 6\r\n\r\ndenied";
    ASSERT_SUCCESS(s_server_send(&f.server, denied, sizeof(denied) - 1));
    ASSERT_TRUE(s_wait_for(&f.recorder, &f.recorder.setup_count, 1));
    ASSERT_INT_EQ(WSCRT_ERROR_HTTP_PROXY_AUTH_REQUIRED, f.recorder.setup_error);
    ASSERT_INT_EQ(407, f.recorder.setup_status);
    ASSERT_TRUE(strcmp("denied", f.recorder.setup_body) == 0);
    return s_fixture_clean_up(&f);
}

/* close(): CLOSE 1000 goes out, data that arrives afterwards is dropped, the server's CLOSE ends it cleanly. */
static int s_test_close_waits_for_the_peer_and_drops_later_data(struct wscrt_allocator *allocator) {
    struct fixture f;
    ASSERT_SUCCESS(s_fixture_upgrade(&f, allocator, false, 0));
    ASSERT_TRUE(s_wait_for(&f.recorder, &f.recorder.setup_count, 1));
    wscrt_websocket_close(f.recorder.websocket);
    ASSERT_SUCCESS(s_expect_client_close(&f, 1000));
    usleep(50 * 1000);
    ASSERT_INT_EQ(0, f.recorder.shutdown_count); /* still waiting for the server's CLOSE */
    static const uint8_t late_then_close[] = {0x81, 0x04, 'l', 'a', 't', 'e', 0x88, 0x02, 0x03, 0xE8};
    ASSERT_SUCCESS(s_server_send(&f.server, late_then_close, sizeof(late_then_close)));
    ASSERT_TRUE(s_wait_for(&f.recorder, &f.recorder.shutdown_count, 1));
    ASSERT_INT_EQ(0, f.recorder.shutdown_error);
    ASSERT_UINT_EQ(2, f.recorder.payload_len); /* only the CLOSE's 2 payload bytes were delivered */
    ASSERT_INT_EQ(1, f.recorder.begin_count);       /* the CLOSE, not the dropped TEXT */
    ASSERT_INT_EQ(0x8, f.recorder.last_opcode);
    return s_fixture_clean_up(&f);
}

/* A rejection larger than the read window's slack is still read in full with a manual window of 0. */
static int s_test_large_rejection_is_read_whole_with_a_zero_window(struct wscrt_allocator *allocator) {
    struct fixture f;
    ASSERT_SUCCESS(s_fixture_init(&f, allocator));
    ASSERT_SUCCESS(s_fixture_connect(&f, true, 0));
    char key[64];
    ASSERT_SUCCESS(s_server_accept(&f.server, key, sizeof(key)));
    enum { BODY = 100 * 1024 };
    static char response[BODY + 128];
    int head = snprintf(response, sizeof(response), "HTTP/1.1 403 Forbidden\r\nContent-Length: %d\r\n\r\n", BODY);
    memset(response + head, 'x', BODY);
    ASSERT_SUCCESS(s_server_send(&f.server, response, (size_t)head + BODY));
    ASSERT_TRUE(s_wait_for(&f.recorder, &f.recorder.setup_count, 1));
    ASSERT_INT_EQ(WSCRT_ERROR_WEBSOCKET_UPGRADE_FAILURE, f.recorder.setup_error);
    ASSERT_INT_EQ(403, f.recorder.setup_status);
    ASSERT_TRUE(f.recorder.setup_body[0] == 'x');
    return s_fixture_clean_up(&f);
}

/* After a stream of large frames, an open connection that goes idle gives its cached frame blocks back within
 * WSCRT_WEBSOCKET_SEND_BLOCKS_IDLE_MS: the tracking allocator comes back to (at most) what it held before. */
static int s_test_idle_connection_gives_back_its_send_blocks(struct wscrt_allocator *allocator) {
    enum { FRAMES = 32, FRAME_SIZE = 60000 }; /* >= 4 KiB: these frames go through the block cache */
    static uint8_t big[FRAME_SIZE];
    static uint8_t read_back[FRAME_SIZE];
    size_t read_len = 0;
    struct fixture f;
    ASSERT_SUCCESS(s_fixture_open(&f, allocator));

    /* One large frame first, so that what the connection allocates on its first large send (the block cache
     * itself) is in the baseline, taken once that frame's block has been given back. */
    struct wscrt_websocket_send_frame_options send = {
        .opcode = WSCRT_WEBSOCKET_OPCODE_BINARY,
        .fin = true,
        .payload = wscrt_byte_cursor_from_array(big, sizeof(big)),
        .on_complete = s_on_send_complete,
        .user_data = &f.recorder,
    };
    ASSERT_SUCCESS(wscrt_websocket_send_frame(f.recorder.websocket, &send));
    ASSERT_INT_EQ(0x2, s_server_read_frame(&f.server, read_back, sizeof(read_back), &read_len));
    ASSERT_TRUE(s_wait_for(&f.recorder, &f.recorder.sends_completed, 1));
    size_t with_block = wscrt_mem_tracer_bytes(allocator);
    uint64_t first_deadline = wscrt_clock_now_ns() + WAIT_NS;
    size_t idle = with_block;
    while (idle + FRAME_SIZE > with_block && wscrt_clock_now_ns() < first_deadline) {
        usleep(10 * 1000);
        idle = wscrt_mem_tracer_bytes(allocator);
    }
    ASSERT_TRUE(idle + FRAME_SIZE <= with_block); /* the first frame's block was given back */

    for (int i = 0; i < FRAMES; ++i) {
        ASSERT_SUCCESS(wscrt_websocket_send_frame(f.recorder.websocket, &send));
    }
    for (int i = 0; i < FRAMES; ++i) {
        ASSERT_INT_EQ(0x2, s_server_read_frame(&f.server, read_back, sizeof(read_back), &read_len));
        ASSERT_INT_EQ(FRAME_SIZE, (int)read_len);
    }
    ASSERT_TRUE(s_wait_for(&f.recorder, &f.recorder.sends_completed, 1 + FRAMES));

    /* Bounded: the give-back is due 250 ms after the queue emptied; 5 s allows for sanitizer builds. */
    uint64_t deadline = wscrt_clock_now_ns() + WAIT_NS;
    size_t held = wscrt_mem_tracer_bytes(allocator);
    while (held > idle && wscrt_clock_now_ns() < deadline) {
        usleep(10 * 1000);
        held = wscrt_mem_tracer_bytes(allocator);
    }
    if (held > idle) {
        fprintf(stderr, "  idle connection holds %zu bytes, %zu before the stream\n", held, idle);
    }
    ASSERT_TRUE(held <= idle); /* less: the warm-up frame may be freed just after its completion was counted */
    return s_fixture_clean_up(&f);
}

/* Waiting for room in the send queue: while the peer reads nothing, frames pile up past the mark and no notice
 * comes; a lower mark armed meanwhile keeps the higher one; once the peer reads, the notice comes once, on the
 * loop thread, with the queue at or below the mark. A mark the queue is at already is reached at once. */
static int s_test_drain_mark_is_reported_once_when_the_queue_comes_down_to_it(struct wscrt_allocator *allocator) {
    enum { FRAMES = 400, FRAME_SIZE = 60000 }; /* 24 MB: more than loopback's socket buffers take */
    const uint64_t mark = 1024 * 1024;
    static uint8_t big[FRAME_SIZE];
    static uint8_t read_back[FRAME_SIZE];
    size_t read_len = 0;
    struct fixture f;
    ASSERT_SUCCESS(s_fixture_open(&f, allocator));
    struct wscrt_websocket *ws = f.recorder.websocket;
    ASSERT_TRUE(wscrt_websocket_notify_when_queued_at_most(ws, 0)); /* nothing queued */

    struct wscrt_websocket_send_frame_options send = {
        .opcode = WSCRT_WEBSOCKET_OPCODE_BINARY,
        .fin = true,
        .payload = wscrt_byte_cursor_from_array(big, sizeof(big)),
    };
    for (int i = 0; i < FRAMES; ++i) {
        ASSERT_SUCCESS(wscrt_websocket_send_frame(ws, &send));
    }
    ASSERT_FALSE(wscrt_websocket_notify_when_queued_at_most(ws, mark));
    ASSERT_FALSE(wscrt_websocket_notify_when_queued_at_most(ws, mark / 2)); /* lower: the mark stays */
    usleep(100 * 1000);
    ASSERT_TRUE(wscrt_websocket_get_queued_bytes(ws) > mark); /* the peer has read nothing */
    pthread_mutex_lock(&f.recorder.lock);
    ASSERT_INT_EQ(0, f.recorder.drained_count);
    pthread_mutex_unlock(&f.recorder.lock);

    for (int i = 0; i < FRAMES; ++i) {
        ASSERT_INT_EQ(0x2, s_server_read_frame(&f.server, read_back, sizeof(read_back), &read_len));
        ASSERT_INT_EQ(FRAME_SIZE, (int)read_len);
    }
    ASSERT_TRUE(s_wait_for(&f.recorder, &f.recorder.drained_count, 1));
    pthread_mutex_lock(&f.recorder.lock);
    ASSERT_INT_EQ(1, f.recorder.drained_count);
    ASSERT_TRUE(f.recorder.drained_queued <= mark);
    ASSERT_TRUE(f.recorder.drained_queued > mark / 2); /* the notice came at the higher mark, not the lower */
    pthread_mutex_unlock(&f.recorder.lock);
    /* The server has read every byte, but the last write's completion, which takes the frames off the queue's
     * count, may still be on its way on the loop thread: wait (bounded) for it. */
    for (int waited_ms = 0; wscrt_websocket_get_queued_bytes(ws) != 0 && waited_ms < 5000; ++waited_ms) {
        usleep(1000);
    }
    ASSERT_TRUE(wscrt_websocket_notify_when_queued_at_most(ws, 0)); /* all written */
    return s_fixture_clean_up(&f);
}

/* What an open, idle ws:// connection holds in wscrt's allocator (everything the connection owns: websocket,
 * channel, slots, socket), measured as the drop when it goes away. Setup-only state must be gone by then. */
#define IDLE_CONNECTION_BUDGET 1472
/* The websocket, its socket handler, socket, channel (with both slots), the bootstrap's record of the channel
 * and the event loop's subscription: each allocation also costs malloc's header (and here the tracer's). */
#define IDLE_CONNECTION_ALLOCATIONS 6
static int s_test_idle_connection_holds_at_most_its_budget(struct wscrt_allocator *allocator) {
    struct fixture f;
    ASSERT_SUCCESS(s_fixture_open(&f, allocator));
    static const uint8_t text[] = {0x81, 0x02, 'h', 'i'};
    ASSERT_SUCCESS(s_server_send(&f.server, text, sizeof(text)));
    ASSERT_TRUE(s_wait_for(&f.recorder, &f.recorder.complete_count, 1));
    usleep(50 * 1000); /* nothing is in flight: the frame was delivered, no send was made */
    size_t open = wscrt_mem_tracer_bytes(allocator);
    size_t open_count = wscrt_mem_tracer_count(allocator);

    s_server_stop(&f.server); /* the peer goes away: the connection shuts down */
    ASSERT_TRUE(s_wait_for(&f.recorder, &f.recorder.shutdown_count, 1));
    wscrt_websocket_release(f.recorder.websocket);
    f.recorder.websocket = NULL;
    /* Destroyed on the loop thread, in steps (channel, then websocket): wait until the count has dropped and
     * then stayed put for 50 ms. */
    uint64_t deadline = wscrt_clock_now_ns() + WAIT_NS;
    size_t gone = wscrt_mem_tracer_bytes(allocator);
    int steady_ms = 0;
    while ((gone == open || steady_ms < 50) && wscrt_clock_now_ns() < deadline) {
        usleep(1000);
        size_t now = wscrt_mem_tracer_bytes(allocator);
        steady_ms = now == gone ? steady_ms + 1 : 0;
        gone = now;
    }
    fprintf(stderr, "  an idle ws:// connection holds %zu bytes in %zu allocations (budget %d in %d)\n", open - gone,
            open_count - wscrt_mem_tracer_count(allocator), IDLE_CONNECTION_BUDGET, IDLE_CONNECTION_ALLOCATIONS);
    ASSERT_TRUE(open > gone);
    ASSERT_TRUE(open - gone <= IDLE_CONNECTION_BUDGET);
    ASSERT_TRUE(open_count - wscrt_mem_tracer_count(allocator) <= IDLE_CONNECTION_ALLOCATIONS);
    return s_fixture_clean_up(&f);
}

WSCRT_TEST_MAIN(s_test_frames_flow_and_peer_close_is_clean, s_test_masked_server_frame_fails_with_close_1002,
                s_test_rejected_upgrade_reports_status_and_body, s_test_read_window_limits_delivery_exactly,
                s_test_proxy_connect_tunnels_to_the_target, s_test_proxy_407_fails_setup_with_its_status,
                s_test_close_waits_for_the_peer_and_drops_later_data,
                s_test_large_rejection_is_read_whole_with_a_zero_window,
                s_test_idle_connection_gives_back_its_send_blocks, s_test_idle_connection_holds_at_most_its_budget,
                s_test_drain_mark_is_reported_once_when_the_queue_comes_down_to_it)
