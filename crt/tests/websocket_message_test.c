/*
 * Message mode end to end (websocket_message.c) and the send queue limit:
 * a scripted server writes exact frames; whole messages, their order among
 * control frames, the 1009 cap, and refused sends are checked.
 */
#include "io/event_loop.h"
#include "websocket_fixture.h"

static int s_upgrade_in_mode(struct fixture *f, struct wscrt_allocator *allocator, uint64_t max_size, bool partial) {
    ASSERT_SUCCESS(s_fixture_init(f, allocator));
    f->message_mode = true;
    f->max_message_size = max_size;
    f->partial_messages = partial;
    ASSERT_SUCCESS(s_fixture_upgrade_configured(f, allocator, false, 0));
    ASSERT_TRUE(s_wait_for(&f->recorder, &f->recorder.setup_count, 1));
    ASSERT_INT_EQ(0, f->recorder.setup_error);
    return 0;
}

static int s_upgrade_in_message_mode(struct fixture *f, struct wscrt_allocator *allocator, uint64_t max_size) {
    return s_upgrade_in_mode(f, allocator, max_size, false);
}

static int s_test_fragments_are_joined_and_control_frames_keep_their_place(struct wscrt_allocator *allocator) {
    struct fixture f;
    ASSERT_SUCCESS(s_upgrade_in_message_mode(&f, allocator, 0));
    /* TEXT "he" (not final), PING "p", CONTINUATION "ll", CONTINUATION "o" (final), BINARY "xyz". */
    static const uint8_t frames[] = {0x01, 0x02, 'h',  'e',  0x89, 0x01, 'p',  0x00, 0x02, 'l', 'l',
                                     0x80, 0x01, 'o',  0x82, 0x03, 'x',  'y',  'z'};
    ASSERT_SUCCESS(s_server_send(&f.server, frames, sizeof(frames)));
    ASSERT_TRUE(s_wait_for(&f.recorder, &f.recorder.message_count, 3));
    ASSERT_INT_EQ(3, f.recorder.message_count);
    ASSERT_INT_EQ(WSCRT_WEBSOCKET_OPCODE_PING, f.recorder.message_opcodes[0]);
    ASSERT_INT_EQ(WSCRT_WEBSOCKET_OPCODE_TEXT, f.recorder.message_opcodes[1]);
    ASSERT_UINT_EQ(5, f.recorder.message_lengths[1]);
    ASSERT_INT_EQ(WSCRT_WEBSOCKET_OPCODE_BINARY, f.recorder.message_opcodes[2]);
    ASSERT_BYTES_EQ("phelloxyz", 9, f.recorder.payload, f.recorder.payload_len);
    ASSERT_INT_EQ(0, f.recorder.begin_count); /* no frame callbacks in message mode */
    uint8_t payload[256];
    size_t payload_len = 0;
    ASSERT_INT_EQ(0xA, s_server_read_frame(&f.server, payload, sizeof(payload), &payload_len));
    ASSERT_BYTES_EQ("p", 1, payload, payload_len);
    return s_fixture_clean_up(&f);
}

/* Split reads: a message whose frame arrives in two writes is joined, not delivered in pieces. */
static int s_test_a_frame_split_across_reads_is_one_message(struct wscrt_allocator *allocator) {
    struct fixture f;
    ASSERT_SUCCESS(s_upgrade_in_message_mode(&f, allocator, 0));
    static const uint8_t first[] = {0x82, 0x06, '1', '2', '3'};
    static const uint8_t second[] = {'4', '5', '6'};
    ASSERT_SUCCESS(s_server_send(&f.server, first, sizeof(first)));
    usleep(50 * 1000);
    ASSERT_SUCCESS(s_server_send(&f.server, second, sizeof(second)));
    ASSERT_TRUE(s_wait_for(&f.recorder, &f.recorder.message_count, 1));
    usleep(20 * 1000);
    ASSERT_INT_EQ(1, f.recorder.message_count);
    ASSERT_BYTES_EQ("123456", 6, f.recorder.payload, f.recorder.payload_len);
    return s_fixture_clean_up(&f);
}

/* binary_frame_pieces: a one-frame BINARY message split across reads comes in pieces with its length, under
 * the size cap; TEXT, fragmented and whole messages are joined as without it. */
static int s_test_binary_frame_pieces_deliver_a_split_binary_frame_as_it_arrives(struct wscrt_allocator *allocator) {
    struct fixture f;
    ASSERT_SUCCESS(s_fixture_init(&f, allocator));
    f.message_mode = true;
    f.max_message_size = 6;
    f.binary_frame_pieces = true;
    ASSERT_SUCCESS(s_fixture_upgrade_configured(&f, allocator, false, 0));
    ASSERT_TRUE(s_wait_for(&f.recorder, &f.recorder.setup_count, 1));
    static const uint8_t first[] = {0x82, 0x06, '1', '2'};
    static const uint8_t second[] = {'3', '4'};
    static const uint8_t third[] = {'5', '6', 0x81, 0x04, 'a', 'b'};
    static const uint8_t fourth[] = {'c', 'd', 0x02, 0x01, 'x', 0x80, 0x01, 'y', 0x82, 0x01, 'z'};
    ASSERT_SUCCESS(s_server_send(&f.server, first, sizeof(first)));
    ASSERT_TRUE(s_wait_for(&f.recorder, &f.recorder.message_count, 1));
    ASSERT_SUCCESS(s_server_send(&f.server, second, sizeof(second)));
    ASSERT_TRUE(s_wait_for(&f.recorder, &f.recorder.message_count, 2));
    ASSERT_SUCCESS(s_server_send(&f.server, third, sizeof(third)));
    ASSERT_TRUE(s_wait_for(&f.recorder, &f.recorder.message_count, 3));
    usleep(30 * 1000); /* the TEXT frame's first half waits, joined */
    ASSERT_SUCCESS(s_server_send(&f.server, fourth, sizeof(fourth)));
    ASSERT_TRUE(s_wait_for(&f.recorder, &f.recorder.message_count, 6));
    usleep(20 * 1000);
    static const uint8_t opcodes[] = {WSCRT_WEBSOCKET_OPCODE_BINARY, WSCRT_WEBSOCKET_OPCODE_BINARY,
                                      WSCRT_WEBSOCKET_OPCODE_BINARY, WSCRT_WEBSOCKET_OPCODE_TEXT,
                                      WSCRT_WEBSOCKET_OPCODE_BINARY, WSCRT_WEBSOCKET_OPCODE_BINARY};
    static const size_t lengths[] = {2, 2, 2, 4, 2, 1};
    static const bool more[] = {true, true, false, false, false, false};
    static const uint64_t totals[] = {6, 6, 6, 4, 2, 1};
    ASSERT_INT_EQ(6, f.recorder.message_count);
    for (int i = 0; i < 6; i++) {
        ASSERT_INT_EQ(opcodes[i], f.recorder.message_opcodes[i]);
        ASSERT_UINT_EQ(lengths[i], f.recorder.message_lengths[i]);
        ASSERT_INT_EQ(more[i], f.recorder.message_more[i]);
        ASSERT_UINT_EQ(totals[i], f.recorder.message_total_lengths[i]);
    }
    ASSERT_BYTES_EQ("123456abcdxyz", 13, f.recorder.payload, f.recorder.payload_len);
    /* The cap still holds at the frame header: 7 bytes announced, nothing delivered. */
    static const uint8_t past_maximum[] = {0x82, 0x07, '1', '2'};
    ASSERT_SUCCESS(s_server_send(&f.server, past_maximum, sizeof(past_maximum)));
    ASSERT_SUCCESS(s_expect_client_failure(&f, 1009, WSCRT_ERROR_WEBSOCKET_MESSAGE_TOO_BIG, 6));
    return s_fixture_clean_up(&f);
}

/* Partial messages: each piece as decoded, `more` until the last, pings between pieces, no size cap. */
static int s_test_partial_messages_deliver_pieces_as_they_arrive(struct wscrt_allocator *allocator) {
    struct fixture f;
    ASSERT_SUCCESS(s_upgrade_in_mode(&f, allocator, 4, true));
    /* TEXT "he" (not final), PING "p", CONTINUATION "ll" (not final), empty final CONTINUATION. */
    static const uint8_t frames[] = {0x01, 0x02, 'h', 'e', 0x89, 0x01, 'p', 0x00, 0x02, 'l', 'l', 0x80, 0x00};
    ASSERT_SUCCESS(s_server_send(&f.server, frames, sizeof(frames)));
    ASSERT_TRUE(s_wait_for(&f.recorder, &f.recorder.message_count, 4));
    /* A BINARY frame of 6 bytes (above max_message_size) split across two reads. */
    static const uint8_t first[] = {0x82, 0x06, '1', '2', '3'};
    static const uint8_t second[] = {'4', '5', '6'};
    ASSERT_SUCCESS(s_server_send(&f.server, first, sizeof(first)));
    ASSERT_TRUE(s_wait_for(&f.recorder, &f.recorder.message_count, 5));
    ASSERT_SUCCESS(s_server_send(&f.server, second, sizeof(second)));
    ASSERT_TRUE(s_wait_for(&f.recorder, &f.recorder.message_count, 6));
    static const uint8_t opcodes[] = {WSCRT_WEBSOCKET_OPCODE_TEXT, WSCRT_WEBSOCKET_OPCODE_PING,
                                      WSCRT_WEBSOCKET_OPCODE_TEXT, WSCRT_WEBSOCKET_OPCODE_TEXT,
                                      WSCRT_WEBSOCKET_OPCODE_BINARY, WSCRT_WEBSOCKET_OPCODE_BINARY};
    static const size_t lengths[] = {2, 1, 2, 0, 3, 3};
    static const bool more[] = {true, false, true, false, true, false};
    ASSERT_INT_EQ(6, f.recorder.message_count);
    for (int i = 0; i < 6; i++) {
        ASSERT_INT_EQ(opcodes[i], f.recorder.message_opcodes[i]);
        ASSERT_UINT_EQ(lengths[i], f.recorder.message_lengths[i]);
        ASSERT_INT_EQ(more[i], f.recorder.message_more[i]);
    }
    ASSERT_BYTES_EQ("hepll123456", 11, f.recorder.payload, f.recorder.payload_len);
    /* A character cut between frames: the pieces are the bytes as they come (the binding decodes). */
    static const uint8_t cut[] = {0x01, 0x02, 'a', 0xC3, 0x00, 0x03, 0xA9, 0xE2, 0x82, 0x80, 0x01, 0xAC};
    ASSERT_SUCCESS(s_server_send(&f.server, cut, 4));
    usleep(30 * 1000);
    ASSERT_SUCCESS(s_server_send(&f.server, cut + 4, sizeof(cut) - 4));
    ASSERT_TRUE(s_wait_for(&f.recorder, &f.recorder.message_count, 9));
    /* An empty frame that is not final delivers nothing; the final frame after it is the message's one piece. */
    static const uint8_t empty_first[] = {0x02, 0x00, 0x80, 0x01, 'z'};
    ASSERT_SUCCESS(s_server_send(&f.server, empty_first, sizeof(empty_first)));
    ASSERT_TRUE(s_wait_for(&f.recorder, &f.recorder.message_count, 10));
    usleep(20 * 1000);
    ASSERT_INT_EQ(10, f.recorder.message_count);
    ASSERT_INT_EQ(WSCRT_WEBSOCKET_OPCODE_BINARY, f.recorder.message_opcodes[9]);
    ASSERT_UINT_EQ(1, f.recorder.message_lengths[9]);
    ASSERT_INT_EQ(false, f.recorder.message_more[9]);
    ASSERT_INT_EQ(0, f.recorder.shutdown_error);
    ASSERT_INT_EQ(0, f.recorder.shutdown_count);
    return s_fixture_clean_up(&f);
}

static int s_test_a_frame_announcing_more_than_the_maximum_fails_with_1009(struct wscrt_allocator *allocator) {
    struct fixture f;
    ASSERT_SUCCESS(s_upgrade_in_message_mode(&f, allocator, 10));
    /* A 2^40-byte BINARY frame: refused at its header, before any payload is buffered. */
    static const uint8_t huge[] = {0x82, 0x7F, 0, 0, 0x01, 0, 0, 0, 0, 0, 'x'};
    ASSERT_SUCCESS(s_server_send(&f.server, huge, sizeof(huge)));
    ASSERT_SUCCESS(s_expect_client_failure(&f, 1009, WSCRT_ERROR_WEBSOCKET_MESSAGE_TOO_BIG, 0));
    return s_fixture_clean_up(&f);
}

static int s_test_a_whole_frame_at_the_maximum_is_delivered_and_one_past_it_fails_with_1009(
    struct wscrt_allocator *allocator) {
    struct fixture f;
    ASSERT_SUCCESS(s_upgrade_in_message_mode(&f, allocator, 10));
    /* Each frame arrives whole, in one read: the path that checks the size without a begin event. */
    static const uint8_t at_maximum[] = {0x82, 0x0A, '1', '2', '3', '4', '5', '6', '7', '8', '9', '0'};
    ASSERT_SUCCESS(s_server_send(&f.server, at_maximum, sizeof(at_maximum)));
    ASSERT_TRUE(s_wait_for(&f.recorder, &f.recorder.message_count, 1));
    ASSERT_UINT_EQ(10, f.recorder.message_lengths[0]);
    static const uint8_t past_maximum[] = {0x82, 0x0B, '1', '2', '3', '4', '5', '6', '7', '8', '9', '0', '!'};
    ASSERT_SUCCESS(s_server_send(&f.server, past_maximum, sizeof(past_maximum)));
    ASSERT_SUCCESS(s_expect_client_failure(&f, 1009, WSCRT_ERROR_WEBSOCKET_MESSAGE_TOO_BIG, 1));
    return s_fixture_clean_up(&f);
}

static int s_test_fragments_adding_up_past_the_maximum_fail_with_1009(struct wscrt_allocator *allocator) {
    struct fixture f;
    ASSERT_SUCCESS(s_upgrade_in_message_mode(&f, allocator, 10));
    static const uint8_t frames[] = {0x02, 0x06, '1', '2', '3', '4', '5', '6', 0x80, 0x05, '7', '8', '9', '0', '!'};
    ASSERT_SUCCESS(s_server_send(&f.server, frames, sizeof(frames)));
    ASSERT_SUCCESS(s_expect_client_failure(&f, 1009, WSCRT_ERROR_WEBSOCKET_MESSAGE_TOO_BIG, 0));
    return s_fixture_clean_up(&f);
}

/* Holds the event loop (so nothing queued is written) until released. */
struct loop_blocker {
    struct wscrt_task task;
    pthread_mutex_t lock;
    pthread_cond_t signal;
    bool running;
    bool released;
};

static void s_block_loop(struct wscrt_task *task, void *arg, enum wscrt_task_status status) {
    (void)task;
    (void)status;
    struct loop_blocker *b = arg;
    pthread_mutex_lock(&b->lock);
    b->running = true;
    pthread_cond_broadcast(&b->signal);
    uint64_t deadline = wscrt_clock_now_ns() + WAIT_NS; /* bounded even if the test fails first */
    while (!b->released && wscrt_clock_now_ns() < deadline) {
        pthread_mutex_unlock(&b->lock);
        usleep(1000);
        pthread_mutex_lock(&b->lock);
    }
    pthread_mutex_unlock(&b->lock);
}

static bool s_loop_blocked(struct loop_blocker *b, struct fixture *f) {
    pthread_mutex_init(&b->lock, NULL);
    pthread_cond_init(&b->signal, NULL);
    wscrt_task_init(&b->task, s_block_loop, b);
    wscrt_event_loop_schedule_task_now(wscrt_event_loop_group_get_loop_at(f->group, 0), &b->task);
    uint64_t deadline = wscrt_clock_now_ns() + WAIT_NS;
    pthread_mutex_lock(&b->lock);
    while (!b->running && wscrt_clock_now_ns() < deadline) {
        pthread_mutex_unlock(&b->lock);
        usleep(1000);
        pthread_mutex_lock(&b->lock);
    }
    bool running = b->running;
    pthread_mutex_unlock(&b->lock);
    return running;
}

static void s_loop_release(struct loop_blocker *b) {
    pthread_mutex_lock(&b->lock);
    b->released = true;
    pthread_mutex_unlock(&b->lock);
}

static int s_test_a_send_past_the_queue_limit_fails_at_once_and_the_connection_stays_up(
    struct wscrt_allocator *allocator) {
    struct fixture f;
    ASSERT_SUCCESS(s_fixture_init(&f, allocator));
    f.send_queue_limit = 100;
    ASSERT_SUCCESS(s_fixture_upgrade_configured(&f, allocator, false, 0));
    ASSERT_TRUE(s_wait_for(&f.recorder, &f.recorder.setup_count, 1));
    uint8_t bytes[200] = {0};
    struct wscrt_websocket_send_frame_options send = {
        .opcode = WSCRT_WEBSOCKET_OPCODE_BINARY,
        .fin = true,
        .payload = wscrt_byte_cursor_from_array(bytes, 60), /* 66 bytes with header and mask */
        .on_complete = s_on_send_complete,
        .user_data = &f.recorder,
    };
    struct loop_blocker blocker = {0};
    ASSERT_TRUE(s_loop_blocked(&blocker, &f)); /* nothing is written while we look */
    ASSERT_SUCCESS(wscrt_websocket_send_frame(f.recorder.websocket, &send));
    ASSERT_UINT_EQ(66, wscrt_websocket_get_queued_bytes(f.recorder.websocket));
    ASSERT_INT_EQ(WSCRT_OP_ERR, wscrt_websocket_send_frame(f.recorder.websocket, &send));
    ASSERT_INT_EQ(WSCRT_ERROR_WEBSOCKET_SEND_QUEUE_FULL, wscrt_last_error());
    ASSERT_UINT_EQ(66, wscrt_websocket_get_queued_bytes(f.recorder.websocket));
    s_loop_release(&blocker);

    uint8_t payload[256];
    size_t payload_len = 0;
    ASSERT_INT_EQ(0x2, s_server_read_frame(&f.server, payload, sizeof(payload), &payload_len));
    ASSERT_UINT_EQ(60, payload_len);
    ASSERT_TRUE(s_wait_for(&f.recorder, &f.recorder.sends_completed, 1));
    ASSERT_UINT_EQ(0, wscrt_websocket_get_queued_bytes(f.recorder.websocket));

    /* A frame larger than the limit goes into an empty queue: any message can be sent. */
    send.payload.len = 200;
    ASSERT_SUCCESS(wscrt_websocket_send_frame(f.recorder.websocket, &send));
    ASSERT_INT_EQ(0x2, s_server_read_frame(&f.server, payload, sizeof(payload), &payload_len));
    ASSERT_UINT_EQ(200, payload_len);
    ASSERT_TRUE(s_wait_for(&f.recorder, &f.recorder.sends_completed, 2));
    ASSERT_INT_EQ(0, f.recorder.shutdown_count);
    pthread_mutex_destroy(&blocker.lock);
    pthread_cond_destroy(&blocker.signal);
    return s_fixture_clean_up(&f);
}

WSCRT_TEST_MAIN(s_test_fragments_are_joined_and_control_frames_keep_their_place,
                s_test_a_frame_split_across_reads_is_one_message,
                s_test_binary_frame_pieces_deliver_a_split_binary_frame_as_it_arrives,
                s_test_partial_messages_deliver_pieces_as_they_arrive,
                s_test_a_frame_announcing_more_than_the_maximum_fails_with_1009,
                s_test_a_whole_frame_at_the_maximum_is_delivered_and_one_past_it_fails_with_1009,
                s_test_fragments_adding_up_past_the_maximum_fail_with_1009,
                s_test_a_send_past_the_queue_limit_fails_at_once_and_the_connection_stays_up)
