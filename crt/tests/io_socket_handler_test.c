/* Tests for crt/io/socket_handler.c: socket channels (the socket handler in
 * slot 0, an application handler in slot 1) to a loopback peer driven by the
 * test: 64 MiB both ways, read window 0, flush on clean shutdown, failures on
 * error shutdown and on destroy, peer close. */
#include <fcntl.h>

#include "common/byte_buf.h"
#include "io/channel.h"
#include "io/event_loop.h"
#include "io/socket.h"
#include "io/socket_handler.h"
#include "io_loopback_helpers.h"
#include "io_shutdown_record.h"
#include "test_handler.h"
#include "test_harness.h"

#define S_MESSAGE_SIZE (64 * 1024)
#define S_MAX_IN_FLIGHT 16

struct s_app {
    struct wscrt_channel_handler base;
    struct s_net *net;
    size_t initial_window;
    bool auto_increment; /* give back every byte as soon as it is consumed */

    uint64_t received;
    uint64_t mismatch_at; /* UINT64_MAX while the content is right */

    uint64_t send_total;
    uint64_t sent; /* queued */
    int in_flight;
    int send_error; /* first error from send_write_message */
    uint64_t message_size;

    char log[8];
    int log_count;
};

struct s_net {
    struct wscrt_allocator *allocator;
    struct wscrt_event_loop *loop;
    int listener;
    uint16_t port;
    int server;

    struct wscrt_socket *socket;
    struct wscrt_channel *channel;
    struct wscrt_channel_slot *app_slot;
    struct s_app *app;
    size_t app_initial_window;
    bool app_auto_increment;

    struct s_waiter setup_waiter;
    int setup_error;
    struct s_waiter received_waiter; /* bytes delivered to the app */
    struct s_waiter written_waiter;  /* bytes whose messages completed with 0 */
    struct s_waiter failed_waiter;   /* messages completed with an error */
    int failed_error;
    struct s_shutdown_record shutdown;
    bool app_destroyed;
};

static void s_app_send_more(struct s_app *app);

static void s_on_app_message_written(struct wscrt_channel *channel, struct wscrt_io_message *message, int error_code,
                                     void *user_data) {
    (void)channel;
    struct s_app *app = user_data;
    app->in_flight--;
    if (error_code != 0) {
        app->net->failed_error = error_code;
        s_waiter_signal(&app->net->failed_waiter);
        return;
    }
    s_waiter_add(&app->net->written_waiter, (long)message->data.len);
    s_app_send_more(app);
}

static void s_app_send_more(struct s_app *app) {
    while (app->in_flight < S_MAX_IN_FLIGHT && app->sent < app->send_total && app->send_error == 0) {
        uint64_t size = app->send_total - app->sent;
        if (size > app->message_size) {
            size = app->message_size;
        }
        struct wscrt_io_message *message = wscrt_io_message_new(app->net->allocator, (size_t)size);
        s_pattern_fill(message->data.buffer, (size_t)size, app->sent);
        message->data.len = (size_t)size;
        message->on_completion = s_on_app_message_written;
        message->user_data = app;
        if (wscrt_channel_slot_send_write_message(app->base.slot, message)) {
            app->send_error = wscrt_last_error();
            wscrt_io_message_destroy(message);
            return;
        }
        app->sent += size;
        app->in_flight++;
    }
}

static int s_app_process_read_data(struct wscrt_channel_handler *base, struct wscrt_channel_slot *slot,
                                   struct wscrt_byte_cursor data) {
    struct s_app *app = base->impl;
    size_t bad = s_pattern_check(data.ptr, data.len, app->received);
    if (bad < data.len && app->mismatch_at == UINT64_MAX) {
        app->mismatch_at = app->received + bad;
    }
    app->received += data.len;
    if (app->auto_increment) {
        wscrt_channel_slot_increment_read_window(slot, data.len);
    }
    s_waiter_add(&app->net->received_waiter, (long)data.len);
    return WSCRT_OP_SUCCESS;
}

static int s_app_shutdown(struct wscrt_channel_handler *base, struct wscrt_channel_slot *slot,
                          enum wscrt_channel_direction direction, int error_code, bool free_scarce) {
    struct s_app *app = base->impl;
    if (app->log_count < (int)sizeof(app->log) - 1) {
        app->log[app->log_count++] = direction == WSCRT_CHANNEL_DIR_READ ? 'R' : 'W';
    }
    return wscrt_channel_slot_on_handler_shutdown_complete(slot, direction, error_code, free_scarce);
}

static size_t s_app_initial_window_size(struct wscrt_channel_handler *base) {
    struct s_app *app = base->impl;
    return app->initial_window;
}

static void s_app_destroy(struct wscrt_channel_handler *base) {
    struct s_app *app = base->impl;
    app->net->app_destroyed = true;
    app->net->app = NULL;
    wscrt_mem_release(base->allocator, app);
}

static const struct wscrt_channel_handler_vtable s_app_vtable =
    S_LAST_SLOT_VTABLE(s_app_process_read_data, s_app_shutdown, s_app_initial_window_size, s_app_destroy);

/* Loop: the socket connected; build socket handler + app handler. */
static void s_on_net_connected(struct wscrt_socket *socket, int error_code, void *user_data) {
    struct s_net *net = user_data;
    if (error_code != 0) {
        net->setup_error = error_code;
        wscrt_socket_destroy(socket);
        net->socket = NULL;
        s_waiter_signal(&net->setup_waiter);
        return;
    }
    struct wscrt_channel_options options = {
        .event_loop = net->loop,
        .on_shutdown_completed = s_shutdown_record_on_channel_shutdown,
        .user_data = &net->shutdown,
    };
    net->channel = wscrt_channel_new(net->allocator, &options);
    struct wscrt_channel_slot *socket_slot = wscrt_channel_slot_new(net->channel);
    struct wscrt_channel_handler *socket_handler = wscrt_socket_handler_new(net->allocator, socket, socket_slot);
    if (socket_handler == NULL) {
        net->setup_error = wscrt_last_error();
        s_waiter_signal(&net->setup_waiter);
        return;
    }
    /* Harmless second install (the constructor already did it). */
    wscrt_channel_slot_set_handler(socket_slot, socket_handler);
    net->socket = NULL; /* owned by the handler now */

    struct s_app *app = wscrt_mem_calloc(net->allocator, 1, sizeof(struct s_app));
    app->base.vtable = &s_app_vtable;
    app->base.allocator = net->allocator;
    app->base.impl = app;
    app->net = net;
    app->initial_window = net->app_initial_window;
    app->auto_increment = net->app_auto_increment;
    app->mismatch_at = UINT64_MAX;
    app->message_size = S_MESSAGE_SIZE;
    net->app = app;
    net->app_slot = wscrt_channel_slot_new(net->channel);
    net->setup_error = wscrt_channel_slot_set_handler(net->app_slot, &app->base) ? wscrt_last_error() : 0;
    s_waiter_signal(&net->setup_waiter);
}

static void s_loop_net_connect(void *arg) {
    struct s_net *net = arg;
    net->socket = wscrt_socket_new(net->allocator, NULL);
    struct wscrt_host_address address = {.family = WSCRT_ADDRESS_IPV4, .address = "127.0.0.1"};
    if (wscrt_socket_connect(net->socket, &address, net->port, net->loop, s_on_net_connected, net)) {
        net->setup_error = wscrt_last_error();
        wscrt_socket_destroy(net->socket);
        net->socket = NULL;
        s_waiter_signal(&net->setup_waiter);
    }
}

static void s_loop_net_destroy(void *arg) {
    struct s_net *net = arg;
    wscrt_channel_destroy(net->channel);
    net->channel = NULL;
}

/* Connects a socket channel to a fresh loopback listener and accepts it. */
static int s_net_setup(struct s_net *net, struct wscrt_allocator *allocator, size_t app_window, bool auto_increment) {
    memset(net, 0, sizeof(*net));
    net->allocator = allocator;
    net->app_initial_window = app_window;
    net->app_auto_increment = auto_increment;
    net->server = -1;
    s_waiter_init(&net->setup_waiter);
    s_waiter_init(&net->received_waiter);
    s_waiter_init(&net->written_waiter);
    s_waiter_init(&net->failed_waiter);
    s_shutdown_record_init(&net->shutdown);
    net->listener = s_listener_open(AF_INET, 8, &net->port);
    ASSERT_TRUE(net->listener >= 0);
    net->loop = wscrt_event_loop_new(allocator, "net-test");
    ASSERT_TRUE(net->loop != NULL);
    ASSERT_SUCCESS(wscrt_event_loop_run(net->loop));
    ASSERT_TRUE(s_run_on_loop(net->loop, s_loop_net_connect, net));
    ASSERT_TRUE(s_waiter_wait(&net->setup_waiter, 1, S_WAIT_MS));
    ASSERT_INT_EQ(0, net->setup_error);
    net->server = s_accept_within(net->listener, S_WAIT_MS);
    ASSERT_TRUE(net->server >= 0);
    return 0;
}

/* Waits for shutdown (if the channel exists), destroys it on the loop, frees all. */
static int s_net_clean_up(struct s_net *net) {
    if (net->channel != NULL) {
        ASSERT_TRUE(s_run_on_loop(net->loop, s_loop_net_destroy, net));
    }
    wscrt_event_loop_destroy(net->loop);
    if (net->server >= 0) {
        close(net->server);
    }
    close(net->listener);
    s_waiter_clean_up(&net->setup_waiter);
    s_waiter_clean_up(&net->received_waiter);
    s_waiter_clean_up(&net->written_waiter);
    s_waiter_clean_up(&net->failed_waiter);
    s_shutdown_record_clean_up(&net->shutdown);
    return 0;
}

static int s_net_shutdown_and_wait(struct s_net *net, int error_code) {
    ASSERT_SUCCESS(wscrt_channel_shutdown(net->channel, error_code));
    ASSERT_TRUE(s_waiter_wait(&net->shutdown.waiter, 1, S_WAIT_MS));
    return 0;
}

/* ---- the loopback peer: sends a pattern and/or receives and checks one ---- */

struct s_peer {
    int fd;
    uint64_t send_total;
    uint64_t recv_total;
    int timeout_ms;
    uint64_t sent;
    uint64_t received;
    uint64_t mismatch_at;
};

static void *s_peer_thread(void *arg) {
    struct s_peer *peer = arg;
    peer->mismatch_at = UINT64_MAX;
    fcntl(peer->fd, F_SETFL, fcntl(peer->fd, F_GETFL) | O_NONBLOCK);
    size_t chunk = 256 * 1024;
    uint8_t *out = malloc(chunk);
    uint8_t *in = malloc(chunk);
    struct timespec deadline = s_deadline_after_ms(peer->timeout_ms);
    while (peer->sent < peer->send_total || peer->received < peer->recv_total) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec > deadline.tv_sec || (now.tv_sec == deadline.tv_sec && now.tv_nsec >= deadline.tv_nsec)) {
            break;
        }
        struct pollfd pfd = {.fd = peer->fd, .events = 0};
        if (peer->sent < peer->send_total) {
            pfd.events |= POLLOUT;
        }
        if (peer->received < peer->recv_total) {
            pfd.events |= POLLIN;
        }
        if (poll(&pfd, 1, 100) <= 0) {
            continue;
        }
        if ((pfd.revents & POLLOUT) && peer->sent < peer->send_total) {
            size_t len = peer->send_total - peer->sent < chunk ? (size_t)(peer->send_total - peer->sent) : chunk;
            s_pattern_fill(out, len, peer->sent);
            ssize_t n = send(peer->fd, out, len, MSG_NOSIGNAL);
            if (n > 0) {
                peer->sent += (uint64_t)n;
            } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
                break;
            }
        }
        if ((pfd.revents & (POLLIN | POLLHUP | POLLERR)) && peer->received < peer->recv_total) {
            ssize_t n = recv(peer->fd, in, chunk, 0);
            if (n > 0) {
                size_t bad = s_pattern_check(in, (size_t)n, peer->received);
                if (bad < (size_t)n && peer->mismatch_at == UINT64_MAX) {
                    peer->mismatch_at = peer->received + bad;
                }
                peer->received += (uint64_t)n;
            } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
                break;
            }
        }
    }
    free(out);
    free(in);
    return NULL;
}

static void s_loop_app_start_sending(void *arg) {
    struct s_net *net = arg;
    s_app_send_more(net->app);
}

static void s_loop_app_set_send_total(void *arg) {
    struct s_net *net = arg;
    net->app->send_total = 64ull * 1024 * 1024;
}

#define S_BIG_TRANSFER (64ull * 1024 * 1024)

static int s_test_socket_channel_transfers_64mib_both_ways(struct wscrt_allocator *allocator) {
    struct s_net net;
    ASSERT_INT_EQ(0, s_net_setup(&net, allocator, 256 * 1024, true));
    struct s_peer peer = {.fd = net.server, .send_total = S_BIG_TRANSFER, .recv_total = S_BIG_TRANSFER,
                          .timeout_ms = 60000};
    pthread_t thread;
    ASSERT_INT_EQ(0, pthread_create(&thread, NULL, s_peer_thread, &peer));
    ASSERT_TRUE(s_run_on_loop(net.loop, s_loop_app_set_send_total, &net));
    ASSERT_TRUE(s_run_on_loop(net.loop, s_loop_app_start_sending, &net));

    bool all_in = s_waiter_wait(&net.received_waiter, (long)S_BIG_TRANSFER, 60000);
    bool all_out = s_waiter_wait(&net.written_waiter, (long)S_BIG_TRANSFER, 60000);
    pthread_join(thread, NULL);
    ASSERT_TRUE(all_in);
    ASSERT_TRUE(all_out);
    ASSERT_UINT_EQ(S_BIG_TRANSFER, peer.sent);
    ASSERT_UINT_EQ(S_BIG_TRANSFER, peer.received);
    ASSERT_UINT_EQ(UINT64_MAX, peer.mismatch_at);

    ASSERT_INT_EQ(0, s_net_shutdown_and_wait(&net, 0));
    ASSERT_UINT_EQ(S_BIG_TRANSFER, (uint64_t)s_waiter_count(&net.received_waiter));
    ASSERT_UINT_EQ(S_BIG_TRANSFER, (uint64_t)s_waiter_count(&net.written_waiter));
    ASSERT_INT_EQ(0, s_waiter_count(&net.failed_waiter));
    ASSERT_INT_EQ(0, net.shutdown.error);
    ASSERT_UINT_EQ(UINT64_MAX, net.app->mismatch_at);
    ASSERT_UINT_EQ(S_BIG_TRANSFER, net.app->received);
    ASSERT_INT_EQ(0, net.app->send_error);
    ASSERT_TRUE(strcmp("RW", net.app->log) == 0);
    ASSERT_TRUE(s_wait_for_eof(net.server, S_WAIT_MS));
    ASSERT_INT_EQ(0, s_net_clean_up(&net));
    ASSERT_TRUE(net.app_destroyed);
    return 0;
}

struct s_increment {
    struct s_net *net;
    size_t size;
};

static void s_loop_increment(void *arg) {
    struct s_increment *increment = arg;
    wscrt_channel_slot_increment_read_window(increment->net->app_slot, increment->size);
}

#define S_WINDOW_TRANSFER (1024 * 1024)

static int s_test_socket_channel_read_window_zero_stops_reads(struct wscrt_allocator *allocator) {
    struct s_net net;
    ASSERT_INT_EQ(0, s_net_setup(&net, allocator, 0, false));
    struct s_peer peer = {.fd = net.server, .send_total = S_WINDOW_TRANSFER, .timeout_ms = 20000};
    pthread_t thread;
    ASSERT_INT_EQ(0, pthread_create(&thread, NULL, s_peer_thread, &peer));

    /* Window 0: the server's bytes wait in the kernel, nothing is delivered. */
    ASSERT_FALSE(s_waiter_wait(&net.received_waiter, 1, 200));

    struct s_increment increment = {.net = &net, .size = 1000};
    ASSERT_TRUE(s_run_on_loop(net.loop, s_loop_increment, &increment));
    ASSERT_TRUE(s_waiter_wait(&net.received_waiter, 1000, S_WAIT_MS));
    s_sleep_ms(100);
    ASSERT_INT_EQ(1000, s_waiter_count(&net.received_waiter));

    increment.size = S_WINDOW_TRANSFER - 1000;
    ASSERT_TRUE(s_run_on_loop(net.loop, s_loop_increment, &increment));
    bool all = s_waiter_wait(&net.received_waiter, S_WINDOW_TRANSFER, 20000);
    pthread_join(thread, NULL);
    ASSERT_TRUE(all);
    ASSERT_UINT_EQ(S_WINDOW_TRANSFER, peer.sent);
    s_sleep_ms(50);
    ASSERT_INT_EQ(S_WINDOW_TRANSFER, s_waiter_count(&net.received_waiter));
    ASSERT_UINT_EQ(UINT64_MAX, net.app->mismatch_at);
    ASSERT_UINT_EQ(0, net.app_slot->window_size);

    ASSERT_INT_EQ(0, s_net_shutdown_and_wait(&net, 0));
    ASSERT_INT_EQ(0, s_net_clean_up(&net));
    return 0;
}

/* Loop: queue 8 small messages, then shut down in the same task, before the
 * write task had a chance to run. */
struct s_queue_then {
    struct s_net *net;
    int shutdown_error;
    bool destroy_instead;
};

static void s_loop_queue_then_shutdown(void *arg) {
    struct s_queue_then *step = arg;
    struct s_app *app = step->net->app;
    app->message_size = 512;
    app->send_total = 8 * 512;
    s_app_send_more(app);
    if (step->destroy_instead) {
        wscrt_channel_destroy(step->net->channel);
        step->net->channel = NULL;
    } else {
        wscrt_channel_shutdown(step->net->channel, step->shutdown_error);
    }
}

static int s_test_socket_channel_clean_shutdown_flushes_queued_writes(struct wscrt_allocator *allocator) {
    struct s_net net;
    ASSERT_INT_EQ(0, s_net_setup(&net, allocator, 1024, true));
    struct s_queue_then step = {.net = &net, .shutdown_error = 0};
    ASSERT_TRUE(s_run_on_loop(net.loop, s_loop_queue_then_shutdown, &step));
    ASSERT_INT_EQ(0, s_shutdown_record_expect(&net.shutdown, 0));
    /* Completions ran before the shutdown callback. */
    ASSERT_INT_EQ(8 * 512, s_waiter_count(&net.written_waiter));
    ASSERT_INT_EQ(0, s_waiter_count(&net.failed_waiter));

    uint8_t got[8 * 512];
    ASSERT_UINT_EQ(sizeof(got), s_read_fully(net.server, got, sizeof(got), S_WAIT_MS));
    ASSERT_UINT_EQ(sizeof(got), s_pattern_check(got, sizeof(got), 0));
    ASSERT_TRUE(s_wait_for_eof(net.server, S_WAIT_MS));
    ASSERT_INT_EQ(0, s_net_clean_up(&net));
    return 0;
}

static int s_test_socket_channel_error_shutdown_fails_queued_writes(struct wscrt_allocator *allocator) {
    struct s_net net;
    ASSERT_INT_EQ(0, s_net_setup(&net, allocator, 1024, true));
    struct s_queue_then step = {.net = &net, .shutdown_error = WSCRT_ERROR_CALLBACK_EXCEPTION};
    ASSERT_TRUE(s_run_on_loop(net.loop, s_loop_queue_then_shutdown, &step));
    ASSERT_INT_EQ(0, s_shutdown_record_expect(&net.shutdown, WSCRT_ERROR_CALLBACK_EXCEPTION));
    ASSERT_INT_EQ(8, s_waiter_count(&net.failed_waiter));
    ASSERT_INT_EQ(WSCRT_ERROR_CALLBACK_EXCEPTION, net.failed_error);
    ASSERT_INT_EQ(0, s_waiter_count(&net.written_waiter));
    /* Nothing was written: the peer sees end of stream right away. */
    uint8_t byte;
    ASSERT_UINT_EQ(0, s_read_fully(net.server, &byte, 1, S_WAIT_MS));
    ASSERT_INT_EQ(0, s_net_clean_up(&net));
    return 0;
}

static int s_test_socket_channel_destroy_fails_pending_writes(struct wscrt_allocator *allocator) {
    struct s_net net;
    ASSERT_INT_EQ(0, s_net_setup(&net, allocator, 1024, true));
    struct s_queue_then step = {.net = &net, .destroy_instead = true};
    ASSERT_TRUE(s_run_on_loop(net.loop, s_loop_queue_then_shutdown, &step));
    /* Synchronously inside destroy, before the app handler went away. */
    ASSERT_INT_EQ(8, s_waiter_count(&net.failed_waiter));
    ASSERT_INT_EQ(WSCRT_ERROR_IO_CHANNEL_SHUT_DOWN, net.failed_error);
    ASSERT_TRUE(net.app_destroyed);
    s_sleep_ms(50);
    ASSERT_INT_EQ(0, net.shutdown.calls);
    ASSERT_TRUE(s_wait_for_eof(net.server, S_WAIT_MS));
    ASSERT_INT_EQ(0, s_net_clean_up(&net));
    return 0;
}

static int s_test_socket_channel_peer_close_shuts_down_with_socket_closed(struct wscrt_allocator *allocator) {
    struct s_net net;
    ASSERT_INT_EQ(0, s_net_setup(&net, allocator, 1024, true));
    ASSERT_INT_EQ(3, send(net.server, "abc", 3, MSG_NOSIGNAL));
    close(net.server);
    net.server = -1;
    ASSERT_INT_EQ(0, s_shutdown_record_expect(&net.shutdown, WSCRT_ERROR_IO_SOCKET_CLOSED));
    /* The bytes before the end of stream were delivered first. */
    ASSERT_INT_EQ(3, s_waiter_count(&net.received_waiter));
    ASSERT_TRUE(strcmp("RW", net.app->log) == 0);
    ASSERT_INT_EQ(0, s_net_clean_up(&net));
    return 0;
}

WSCRT_TEST_MAIN(s_test_socket_channel_transfers_64mib_both_ways, s_test_socket_channel_read_window_zero_stops_reads,
                s_test_socket_channel_clean_shutdown_flushes_queued_writes,
                s_test_socket_channel_error_shutdown_fails_queued_writes,
                s_test_socket_channel_destroy_fails_pending_writes,
                s_test_socket_channel_peer_close_shuts_down_with_socket_closed)
