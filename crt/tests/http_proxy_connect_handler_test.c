/* Tests for crt/http/proxy_connect_handler.c: once the tunnel is open, the
 * handler passes bytes right no faster than the right neighbour's window
 * admits, holds what the handshake window let in beyond it, and grants its
 * left neighbour only what the right one can take. Recording handlers on
 * both sides, on a real event loop. */
#include <string.h>

#include "common/error.h"
#include "http/proxy_connect_handler.h"
#include "io/channel.h"
#include "io/event_loop.h"
#include "io_loopback_helpers.h"
#include "test_harness.h"

struct s_side {
    struct wscrt_channel_handler base;
    size_t initial_window;
    size_t bytes_received;  /* process_read_data */
    size_t granted;         /* increment_read_window from the right */
    int write_messages;     /* the CONNECT request, on the left */
};

struct s_fixture {
    struct wscrt_allocator *allocator;
    struct wscrt_event_loop *loop;
    struct wscrt_channel *channel;
    struct wscrt_channel_slot *left_slot;
    struct wscrt_channel_slot *proxy_slot;
    struct wscrt_channel_slot *right_slot;
    struct s_side left;
    struct s_side right;
    int result_error; /* -1 until on_result */
    size_t right_initial_window;
    int rc;
    int err;
    size_t arg;
    struct s_waiter shut_down;
};

static int s_side_read(struct wscrt_channel_handler *base, struct wscrt_channel_slot *slot,
                       struct wscrt_byte_cursor data) {
    (void)slot;
    struct s_side *side = base->impl;
    side->bytes_received += data.len;
    return WSCRT_OP_SUCCESS;
}

static int s_side_write(struct wscrt_channel_handler *base, struct wscrt_channel_slot *slot,
                        struct wscrt_io_message *message) {
    (void)slot;
    struct s_side *side = base->impl;
    side->write_messages++;
    wscrt_io_message_destroy(message);
    return WSCRT_OP_SUCCESS;
}

static int s_side_increment(struct wscrt_channel_handler *base, struct wscrt_channel_slot *slot, size_t size) {
    (void)slot;
    struct s_side *side = base->impl;
    side->granted += size;
    return WSCRT_OP_SUCCESS;
}

static int s_side_shutdown(struct wscrt_channel_handler *base, struct wscrt_channel_slot *slot,
                           enum wscrt_channel_direction direction, int error_code, bool free_scarce) {
    (void)base;
    return wscrt_channel_slot_on_handler_shutdown_complete(slot, direction, error_code, free_scarce);
}

static size_t s_side_initial_window(struct wscrt_channel_handler *base) {
    return ((struct s_side *)base->impl)->initial_window;
}

static void s_side_destroy(struct wscrt_channel_handler *base) {
    (void)base; /* embedded in the fixture */
}

static const struct wscrt_channel_handler_vtable s_side_vtable = {
    .process_read_data = s_side_read,
    .process_write_message = s_side_write,
    .increment_read_window = s_side_increment,
    .shutdown = s_side_shutdown,
    .initial_window_size = s_side_initial_window,
    .destroy = s_side_destroy,
};

static void s_side_init(struct s_side *side, struct wscrt_allocator *allocator, size_t window) {
    memset(side, 0, sizeof(*side));
    side->base.vtable = &s_side_vtable;
    side->base.allocator = allocator;
    side->base.impl = side;
    side->initial_window = window;
}

/* The owner's callback: like the websocket bootstrap, it installs the next handler to the right. */
static void s_on_result(struct wscrt_channel_handler *handler, int error_code,
                        const struct wscrt_http_response_parser *response, void *user_data) {
    (void)handler;
    (void)response;
    struct s_fixture *f = user_data;
    f->result_error = error_code;
    if (error_code == 0) {
        f->right_slot = wscrt_channel_slot_new(f->channel);
        s_side_init(&f->right, f->allocator, f->right_initial_window);
        wscrt_channel_slot_set_handler(f->right_slot, &f->right.base);
    }
}

static void s_on_shutdown(struct wscrt_channel *channel, int error_code, void *user_data) {
    (void)channel;
    (void)error_code;
    s_waiter_signal(&((struct s_fixture *)user_data)->shut_down);
}

static void s_loop_build(void *arg) {
    struct s_fixture *f = arg;
    struct wscrt_channel_options options = {.event_loop = f->loop, .on_shutdown_completed = s_on_shutdown,
                                            .user_data = f};
    f->channel = wscrt_channel_new(f->allocator, &options);
    f->left_slot = wscrt_channel_slot_new(f->channel);
    s_side_init(&f->left, f->allocator, SIZE_MAX);
    wscrt_channel_slot_set_handler(f->left_slot, &f->left.base);
    f->proxy_slot = wscrt_channel_slot_new(f->channel);
    struct wscrt_proxy_connect_options options_connect = {
        .target_host = "target.example", .target_port = 443, .on_result = s_on_result, .user_data = f};
    f->rc = wscrt_proxy_connect_handler_new(f->allocator, &options_connect, f->proxy_slot) == NULL;
}

/* The left neighbour (the socket, say) delivers f->arg bytes: the proxy's answer, then tunnel bytes. */
static const char s_answer[] = "HTTP/1.1 200 Connection established\r\n\r\n";
static uint8_t s_bytes[200 * 1024];

static void s_loop_left_sends_answer(void *arg) {
    struct s_fixture *f = arg;
    struct wscrt_byte_cursor data = wscrt_byte_cursor_from_array(s_answer, strlen(s_answer));
    f->rc = wscrt_channel_slot_send_read_data(f->left_slot, data);
    f->err = f->rc ? wscrt_last_error() : 0;
}

static void s_loop_left_sends(void *arg) {
    struct s_fixture *f = arg;
    f->rc = wscrt_channel_slot_send_read_data(f->left_slot, wscrt_byte_cursor_from_array(s_bytes, f->arg));
    f->err = f->rc ? wscrt_last_error() : 0;
}

static void s_loop_right_opens(void *arg) {
    struct s_fixture *f = arg;
    f->rc = wscrt_channel_slot_increment_read_window(f->right_slot, f->arg);
    f->err = f->rc ? wscrt_last_error() : 0;
}

static void s_loop_shutdown(void *arg) {
    struct s_fixture *f = arg;
    wscrt_channel_shutdown(f->channel, 0);
}

static void s_loop_destroy(void *arg) {
    struct s_fixture *f = arg;
    wscrt_channel_destroy(f->channel);
}

/* A running event loop for the channel; the right handler will open with `right_window`. */
static int s_fixture_init(struct s_fixture *f, struct wscrt_allocator *allocator, size_t right_window) {
    memset(f, 0, sizeof(*f));
    f->allocator = allocator;
    f->result_error = -1;
    f->right_initial_window = right_window;
    s_waiter_init(&f->shut_down);
    f->loop = wscrt_event_loop_new(allocator, "proxy-test");
    ASSERT_SUCCESS(wscrt_event_loop_run(f->loop));
    return 0;
}

/* Shuts the channel down (waiting for it), destroys it and the loop. */
static int s_fixture_clean_up(struct s_fixture *f) {
    ASSERT_TRUE(s_run_on_loop(f->loop, s_loop_shutdown, f));
    ASSERT_TRUE(s_waiter_wait(&f->shut_down, 1, S_WAIT_MS));
    ASSERT_TRUE(s_run_on_loop(f->loop, s_loop_destroy, f));
    wscrt_event_loop_destroy(f->loop);
    s_waiter_clean_up(&f->shut_down);
    return 0;
}

static int s_test_tunnel_holds_what_the_right_window_does_not_admit(struct wscrt_allocator *allocator) {
    struct s_fixture f;
    ASSERT_INT_EQ(0, s_fixture_init(&f, allocator, 16));

    ASSERT_TRUE(s_run_on_loop(f.loop, s_loop_build, &f));
    ASSERT_INT_EQ(0, f.rc);
    ASSERT_INT_EQ(1, f.left.write_messages); /* the CONNECT request */
    ASSERT_TRUE(s_run_on_loop(f.loop, s_loop_left_sends_answer, &f));
    ASSERT_INT_EQ(0, f.rc);
    ASSERT_INT_EQ(0, f.result_error);
    ASSERT_TRUE(f.right_slot != NULL);
    /* The handshake window is what the left may still send: more than the right's 16 bytes. */
    size_t credit = f.proxy_slot->window_size;
    ASSERT_TRUE(credit > 16 && credit < SIZE_MAX);

    /* All of it arrives at once: 16 bytes go right, the rest is held, nothing fails. */
    f.arg = credit;
    ASSERT_TRUE(s_run_on_loop(f.loop, s_loop_left_sends, &f));
    ASSERT_INT_EQ(0, f.err);
    ASSERT_UINT_EQ(16, f.right.bytes_received);
    size_t granted_before = f.left.granted;

    /* The right opens 100: 100 held bytes go right; the left gets nothing more while bytes are held. */
    f.arg = 100;
    ASSERT_TRUE(s_run_on_loop(f.loop, s_loop_right_opens, &f));
    ASSERT_INT_EQ(0, f.err);
    ASSERT_UINT_EQ(116, f.right.bytes_received);
    ASSERT_UINT_EQ(granted_before, f.left.granted);

    /* The right opens enough for everything and 1000 more: all held bytes go, and the left may send 1000. */
    f.arg = credit - 116 + 1000;
    ASSERT_TRUE(s_run_on_loop(f.loop, s_loop_right_opens, &f));
    ASSERT_INT_EQ(0, f.err);
    ASSERT_UINT_EQ(credit, f.right.bytes_received);
    ASSERT_UINT_EQ(1000, f.proxy_slot->window_size);
    ASSERT_UINT_EQ(1000, f.right_slot->window_size);

    /* From here the windows match: what the left may send, the right takes. */
    f.arg = 1000;
    ASSERT_TRUE(s_run_on_loop(f.loop, s_loop_left_sends, &f));
    ASSERT_INT_EQ(0, f.err);
    ASSERT_UINT_EQ(credit + 1000, f.right.bytes_received);

    ASSERT_INT_EQ(0, s_fixture_clean_up(&f));
    return 0;
}

static int s_test_tunnel_bytes_held_at_shutdown_are_freed(struct wscrt_allocator *allocator) {
    struct s_fixture f;
    ASSERT_INT_EQ(0, s_fixture_init(&f, allocator, 0));
    ASSERT_TRUE(s_run_on_loop(f.loop, s_loop_build, &f));
    ASSERT_TRUE(s_run_on_loop(f.loop, s_loop_left_sends_answer, &f));
    ASSERT_INT_EQ(0, f.result_error);
    f.arg = 4096;
    ASSERT_TRUE(s_run_on_loop(f.loop, s_loop_left_sends, &f));
    ASSERT_INT_EQ(0, f.err);
    ASSERT_UINT_EQ(0, f.right.bytes_received); /* held: the right has no room */
    ASSERT_INT_EQ(0, s_fixture_clean_up(&f));
    return 0; /* the harness checks that nothing leaked */
}

WSCRT_TEST_MAIN(s_test_tunnel_holds_what_the_right_window_does_not_admit,
                s_test_tunnel_bytes_held_at_shutdown_are_freed)
