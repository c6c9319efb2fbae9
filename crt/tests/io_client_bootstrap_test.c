/* Tests for crt/io/client_bootstrap.c: resolve + connect to loopback
 * listeners made in the test ("127.0.0.1", "localhost", "::1"), refused
 * connections, domain filtering, requested loops, load accounting, shutdown
 * callbacks, and bootstrap references held by pending connections. */
#include "common/byte_buf.h"
#include "io/channel.h"
#include "io/event_loop.h"
#include "io/socket.h"
#include "io_client_stack.h"
#include "io_loopback_helpers.h"
#include "io_shutdown_record.h"
#include "test_handler.h"
#include "test_harness.h"

/* ---- a slot-1 handler that counts what arrives ------------------------ */

struct s_fixture;

struct s_sink {
    struct wscrt_channel_handler base;
    struct s_fixture *fixture;
};

struct s_fixture {
    struct wscrt_allocator *allocator;
    struct s_client_stack client;

    /* Written on the loop, read by the test after the waiters. */
    struct s_waiter setup_waiter;
    int setup_calls;
    int setup_error;
    bool setup_on_channel_thread;
    struct wscrt_channel *channel;
    struct wscrt_event_loop *channel_loop;
    struct wscrt_client_bootstrap *setup_bootstrap;
    size_t load_after_setup;
    char remote[128]; /* the bootstrap's remote buffer: connected to, or tried */

    struct s_waiter received_waiter;
    uint8_t received[64];
    size_t received_len;

    struct s_shutdown_record shutdown;
    bool sink_destroyed;
};

static int s_sink_process_read_data(struct wscrt_channel_handler *base, struct wscrt_channel_slot *slot,
                                    struct wscrt_byte_cursor data) {
    struct s_sink *sink = base->impl;
    struct s_fixture *fixture = sink->fixture;
    size_t room = sizeof(fixture->received) - fixture->received_len;
    size_t take = data.len < room ? data.len : room;
    memcpy(fixture->received + fixture->received_len, data.ptr, take);
    fixture->received_len += take;
    wscrt_channel_slot_increment_read_window(slot, data.len);
    s_waiter_add(&fixture->received_waiter, (long)data.len);
    return WSCRT_OP_SUCCESS;
}

static size_t s_sink_initial_window_size(struct wscrt_channel_handler *base) {
    (void)base;
    return 4096;
}

static void s_sink_destroy(struct wscrt_channel_handler *base) {
    struct s_sink *sink = base->impl;
    sink->fixture->sink_destroyed = true;
    wscrt_mem_release(base->allocator, sink);
}

static const struct wscrt_channel_handler_vtable s_sink_vtable =
    S_LAST_SLOT_VTABLE(s_sink_process_read_data, s_complete_shutdown, s_sink_initial_window_size, s_sink_destroy);

/* ---- fixture ----------------------------------------------------------- */

static int s_fixture_init(struct s_fixture *fixture, struct wscrt_allocator *allocator, uint16_t loops) {
    memset(fixture, 0, sizeof(*fixture));
    fixture->allocator = allocator;
    s_waiter_init(&fixture->setup_waiter);
    s_waiter_init(&fixture->received_waiter);
    s_shutdown_record_init(&fixture->shutdown);
    return s_client_stack_init(&fixture->client, allocator, loops);
}

/* Releases everything (see io_client_stack.h for why the group's shutdown proves it). */
static int s_fixture_clean_up(struct s_fixture *fixture) {
    ASSERT_INT_EQ(0, s_client_stack_clean_up(&fixture->client));
    s_waiter_clean_up(&fixture->setup_waiter);
    s_waiter_clean_up(&fixture->received_waiter);
    s_shutdown_record_clean_up(&fixture->shutdown);
    return 0;
}

static void s_on_setup(struct wscrt_client_bootstrap *bootstrap, int error_code, struct wscrt_channel *channel,
                       void *user_data) {
    struct s_fixture *fixture = user_data;
    fixture->setup_calls++;
    fixture->setup_error = error_code;
    fixture->setup_bootstrap = bootstrap;
    fixture->channel = channel;
    if (channel != NULL) {
        fixture->setup_on_channel_thread = wscrt_channel_thread_is_callers_thread(channel);
        fixture->channel_loop = wscrt_channel_get_event_loop(channel);
        fixture->load_after_setup = wscrt_event_loop_load(fixture->channel_loop);
        /* The callee adds its handlers on top of the socket handler. */
        struct s_sink *sink = wscrt_mem_calloc(fixture->allocator, 1, sizeof(struct s_sink));
        sink->base.vtable = &s_sink_vtable;
        sink->base.allocator = fixture->allocator;
        sink->base.impl = sink;
        sink->fixture = fixture;
        struct wscrt_channel_slot *slot = wscrt_channel_slot_new(channel);
        wscrt_channel_slot_set_handler(slot, &sink->base);
    }
    s_waiter_signal(&fixture->setup_waiter);
}

static void s_on_shutdown(struct wscrt_client_bootstrap *bootstrap, int error_code, struct wscrt_channel *channel,
                          void *user_data) {
    (void)bootstrap;
    struct s_fixture *fixture = user_data;
    /* The callee owns the channel now. */
    wscrt_channel_destroy(channel);
    s_shutdown_record_add(&fixture->shutdown, error_code);
}

static struct wscrt_socket_channel_options s_channel_options(struct s_fixture *fixture, const char *host,
                                                             uint16_t port) {
    struct wscrt_socket_channel_options options = {
        .bootstrap = fixture->client.bootstrap,
        .host_name = host,
        .port = port,
        .on_setup = s_on_setup,
        .on_shutdown = s_on_shutdown,
        .user_data = fixture,
        .remote = fixture->remote,
        .remote_size = sizeof(fixture->remote),
    };
    return options;
}

/*
 * Connects to host:port (a listener made by the caller), checks setup, has
 * the server send "hi", then closes the server side and checks the shutdown.
 */
static int s_connect_exchange_and_close(struct s_fixture *fixture, const struct wscrt_socket_channel_options *options,
                                        int listener, const char *expected_remote) {
    ASSERT_SUCCESS(wscrt_client_bootstrap_new_socket_channel(options));
    ASSERT_TRUE(s_waiter_wait(&fixture->setup_waiter, 1, S_WAIT_MS));
    ASSERT_INT_EQ(0, fixture->setup_error);
    /* The address connected to, and only that one (not those refused before it). */
    ASSERT_BYTES_EQ(expected_remote, strlen(expected_remote), fixture->remote, strlen(fixture->remote));
    ASSERT_TRUE(fixture->channel != NULL);
    ASSERT_TRUE(fixture->setup_on_channel_thread);
    ASSERT_TRUE(fixture->setup_bootstrap == fixture->client.bootstrap);
    ASSERT_UINT_EQ(1, fixture->load_after_setup);

    int server = s_accept_within(listener, S_WAIT_MS);
    ASSERT_TRUE(server >= 0);
    ASSERT_INT_EQ(2, send(server, "hi", 2, MSG_NOSIGNAL));
    ASSERT_TRUE(s_waiter_wait(&fixture->received_waiter, 2, S_WAIT_MS));
    ASSERT_BYTES_EQ("hi", 2, fixture->received, fixture->received_len);

    close(server);
    ASSERT_INT_EQ(0, s_shutdown_record_expect(&fixture->shutdown, WSCRT_ERROR_IO_SOCKET_CLOSED));
    ASSERT_TRUE(fixture->sink_destroyed);
    ASSERT_UINT_EQ(0, wscrt_event_loop_load(fixture->channel_loop));
    s_sleep_ms(20);
    ASSERT_INT_EQ(1, fixture->setup_calls);
    ASSERT_INT_EQ(1, fixture->shutdown.calls);
    return 0;
}

/*
 * One successful connection, end to end (s_connect_exchange_and_close): a listener on the loopback of
 * `family`, a bootstrap with `loops` loops connecting to `host` (over IPv6 sockets for AF_INET6), and the
 * remote it names: `remote_format` with the port. Without IPv6 on this machine the IPv6 case is skipped.
 */
static int s_connect_case(struct wscrt_allocator *allocator, int family, uint16_t loops, const char *host,
                          const char *remote_format) {
    uint16_t port = 0;
    int listener = s_listener_open(family, 8, &port);
    if (listener < 0 && family == AF_INET6) {
        fprintf(stderr, "  (IPv6 loopback unavailable: skipped)\n");
        return 0;
    }
    ASSERT_TRUE(listener >= 0);
    struct s_fixture fixture;
    ASSERT_INT_EQ(0, s_fixture_init(&fixture, allocator, loops));
    struct wscrt_socket_options socket_options;
    wscrt_socket_options_init_default(&socket_options);
    socket_options.domain = WSCRT_SOCKET_DOMAIN_IPV6;
    struct wscrt_socket_channel_options options = s_channel_options(&fixture, host, port);
    if (family == AF_INET6) {
        options.socket_options = &socket_options;
    }
    char expected[32];
    snprintf(expected, sizeof(expected), remote_format, (unsigned)port);
    ASSERT_INT_EQ(0, s_connect_exchange_and_close(&fixture, &options, listener, expected));
    close(listener);
    ASSERT_INT_EQ(0, s_fixture_clean_up(&fixture));
    return 0;
}

static int s_test_bootstrap_connects_to_ipv4_literal(struct wscrt_allocator *allocator) {
    return s_connect_case(allocator, AF_INET, 2, "127.0.0.1", "127.0.0.1:%u");
}

/* localhost may resolve to ::1 first; with the listener on 127.0.0.1 only,
 * that attempt is refused and the next address is tried. */
static int s_test_bootstrap_connects_to_localhost_through_resolver(struct wscrt_allocator *allocator) {
    return s_connect_case(allocator, AF_INET, 1, "localhost", "127.0.0.1:%u");
}

static int s_test_bootstrap_connects_to_ipv6_loopback(struct wscrt_allocator *allocator) {
    return s_connect_case(allocator, AF_INET6, 1, "::1", "[::1]:%u");
}

/* Starts a connection with `options` and waits for the fixture's `setups`-th setup callback, which must
 * carry `expected_error`. */
static int s_connect_fails_setup(struct s_fixture *fixture, const struct wscrt_socket_channel_options *options,
                                 long setups, int expected_error) {
    ASSERT_SUCCESS(wscrt_client_bootstrap_new_socket_channel(options));
    ASSERT_TRUE(s_waiter_wait(&fixture->setup_waiter, setups, S_WAIT_MS));
    ASSERT_INT_EQ(expected_error, fixture->setup_error);
    return 0;
}

static int s_test_bootstrap_refused_connection_fails_setup_once(struct wscrt_allocator *allocator) {
    struct s_fixture fixture;
    ASSERT_INT_EQ(0, s_fixture_init(&fixture, allocator, 1));
    uint16_t port = 0;
    int placeholder = s_closed_port_open(&port);
    ASSERT_TRUE(placeholder >= 0);
    struct wscrt_socket_channel_options options = s_channel_options(&fixture, "127.0.0.1", port);
    ASSERT_INT_EQ(0, s_connect_fails_setup(&fixture, &options, 1, WSCRT_ERROR_IO_SOCKET_CONNECTION_REFUSED));
    ASSERT_TRUE(fixture.channel == NULL);
    char expected[32];
    snprintf(expected, sizeof(expected), "127.0.0.1:%u", (unsigned)port);
    ASSERT_BYTES_EQ(expected, strlen(expected), fixture.remote, strlen(fixture.remote));
    s_sleep_ms(50);
    ASSERT_INT_EQ(1, fixture.setup_calls);
    ASSERT_INT_EQ(0, fixture.shutdown.calls);
    close(placeholder);
    ASSERT_INT_EQ(0, s_fixture_clean_up(&fixture));
    return 0;
}

/* Every address of localhost refused: the error is the connect's, once. */
static int s_test_bootstrap_all_addresses_refused(struct wscrt_allocator *allocator) {
    struct s_fixture fixture;
    ASSERT_INT_EQ(0, s_fixture_init(&fixture, allocator, 1));
    uint16_t port = 0;
    int placeholder = s_closed_port_open(&port);
    ASSERT_TRUE(placeholder >= 0);
    struct wscrt_socket_channel_options options = s_channel_options(&fixture, "localhost", port);
    ASSERT_INT_EQ(0, s_connect_fails_setup(&fixture, &options, 1, WSCRT_ERROR_IO_SOCKET_CONNECTION_REFUSED));
    /* Every address tried is named: 127.0.0.1 always, and ::1 before or after it when localhost has it. */
    char v4[32];
    snprintf(v4, sizeof(v4), "127.0.0.1:%u", (unsigned)port);
    ASSERT_TRUE(strstr(fixture.remote, v4) != NULL);
    char both[80];
    snprintf(both, sizeof(both), "[::1]:%u, 127.0.0.1:%u", (unsigned)port, (unsigned)port);
    char both_reversed[80];
    snprintf(both_reversed, sizeof(both_reversed), "127.0.0.1:%u, [::1]:%u", (unsigned)port, (unsigned)port);
    ASSERT_TRUE(strcmp(fixture.remote, v4) == 0 || strcmp(fixture.remote, both) == 0 ||
                strcmp(fixture.remote, both_reversed) == 0);
    s_sleep_ms(50);
    ASSERT_INT_EQ(1, fixture.setup_calls);
    close(placeholder);
    ASSERT_INT_EQ(0, s_fixture_clean_up(&fixture));
    return 0;
}

static int s_test_bootstrap_domain_filters_addresses(struct wscrt_allocator *allocator) {
    struct s_fixture fixture;
    ASSERT_INT_EQ(0, s_fixture_init(&fixture, allocator, 1));
    struct wscrt_socket_options socket_options;
    wscrt_socket_options_init_default(&socket_options);
    socket_options.domain = WSCRT_SOCKET_DOMAIN_IPV6;
    struct wscrt_socket_channel_options options = s_channel_options(&fixture, "127.0.0.1", 9);
    options.socket_options = &socket_options;
    ASSERT_INT_EQ(0, s_connect_fails_setup(&fixture, &options, 1, WSCRT_ERROR_IO_DNS_NO_ADDRESS));
    ASSERT_TRUE(fixture.channel == NULL);
    ASSERT_INT_EQ('\0', fixture.remote[0]); /* nothing tried */
    ASSERT_INT_EQ(0, s_fixture_clean_up(&fixture));
    return 0;
}

static int s_test_bootstrap_rejects_invalid_arguments(struct wscrt_allocator *allocator) {
    struct s_fixture fixture;
    ASSERT_INT_EQ(0, s_fixture_init(&fixture, allocator, 1));
    struct wscrt_socket_channel_options options = s_channel_options(&fixture, NULL, 80);
    ASSERT_ERROR(WSCRT_ERROR_INVALID_ARGUMENT, wscrt_client_bootstrap_new_socket_channel(&options));
    options = s_channel_options(&fixture, "", 80);
    ASSERT_ERROR(WSCRT_ERROR_INVALID_ARGUMENT, wscrt_client_bootstrap_new_socket_channel(&options));
    options = s_channel_options(&fixture, "127.0.0.1", 80);
    options.port = 70000;
    ASSERT_ERROR(WSCRT_ERROR_INVALID_ARGUMENT, wscrt_client_bootstrap_new_socket_channel(&options));
    options = s_channel_options(&fixture, "127.0.0.1", 80);
    options.on_setup = NULL;
    ASSERT_ERROR(WSCRT_ERROR_INVALID_ARGUMENT, wscrt_client_bootstrap_new_socket_channel(&options));
    struct wscrt_client_bootstrap_options bad = {.event_loop_group = fixture.client.group, .host_resolver = NULL};
    wscrt_reset_error();
    ASSERT_TRUE(wscrt_client_bootstrap_new(allocator, &bad) == NULL);
    ASSERT_INT_EQ(WSCRT_ERROR_INVALID_ARGUMENT, wscrt_last_error());
    ASSERT_INT_EQ(0, fixture.setup_calls);
    ASSERT_INT_EQ(0, s_fixture_clean_up(&fixture));
    return 0;
}

/* The requested loop is used, the bootstrap may be released while the
 * connection is pending, and a user shutdown reports error 0. */
static int s_test_bootstrap_requested_loop_and_early_release(struct wscrt_allocator *allocator) {
    struct s_fixture fixture;
    ASSERT_INT_EQ(0, s_fixture_init(&fixture, allocator, 3));
    uint16_t port = 0;
    int listener = s_listener_open(AF_INET, 8, &port);
    ASSERT_TRUE(listener >= 0);
    struct wscrt_event_loop *wanted = wscrt_event_loop_group_get_loop_at(fixture.client.group, 2);
    struct wscrt_socket_channel_options options = s_channel_options(&fixture, "127.0.0.1", port);
    options.requested_event_loop = wanted;
    ASSERT_SUCCESS(wscrt_client_bootstrap_new_socket_channel(&options));
    /* Only the pending connection keeps the bootstrap alive now. */
    wscrt_client_bootstrap_release(fixture.client.bootstrap);
    fixture.client.bootstrap = NULL;

    ASSERT_TRUE(s_waiter_wait(&fixture.setup_waiter, 1, S_WAIT_MS));
    ASSERT_INT_EQ(0, fixture.setup_error);
    ASSERT_TRUE(fixture.channel_loop == wanted);
    ASSERT_TRUE(fixture.setup_bootstrap != NULL);
    int server = s_accept_within(listener, S_WAIT_MS);
    ASSERT_TRUE(server >= 0);

    ASSERT_SUCCESS(wscrt_channel_shutdown(fixture.channel, 0));
    ASSERT_INT_EQ(0, s_shutdown_record_expect(&fixture.shutdown, 0));
    ASSERT_TRUE(s_wait_for_eof(server, S_WAIT_MS));
    ASSERT_UINT_EQ(0, wscrt_event_loop_load(wanted));
    close(server);
    close(listener);
    ASSERT_INT_EQ(0, s_fixture_clean_up(&fixture));
    return 0;
}

/* A remote buffer too small for the address stays empty and is not written past; none at all is fine. */
static int s_test_bootstrap_remote_buffer_too_small_or_absent(struct wscrt_allocator *allocator) {
    struct s_fixture fixture;
    ASSERT_INT_EQ(0, s_fixture_init(&fixture, allocator, 1));
    uint16_t port = 0;
    int placeholder = s_closed_port_open(&port);
    ASSERT_TRUE(placeholder >= 0);
    memset(fixture.remote, 'x', sizeof(fixture.remote));
    struct wscrt_socket_channel_options options = s_channel_options(&fixture, "127.0.0.1", port);
    options.remote_size = 10; /* "127.0.0.1:" alone takes 10 */
    ASSERT_INT_EQ(0, s_connect_fails_setup(&fixture, &options, 1, WSCRT_ERROR_IO_SOCKET_CONNECTION_REFUSED));
    ASSERT_INT_EQ('\0', fixture.remote[0]);
    ASSERT_INT_EQ('x', fixture.remote[10]);

    options = s_channel_options(&fixture, "127.0.0.1", port);
    options.remote = NULL;
    options.remote_size = 0;
    ASSERT_INT_EQ(0, s_connect_fails_setup(&fixture, &options, 2, WSCRT_ERROR_IO_SOCKET_CONNECTION_REFUSED));
    close(placeholder);
    ASSERT_INT_EQ(0, s_fixture_clean_up(&fixture));
    return 0;
}

WSCRT_TEST_MAIN(s_test_bootstrap_connects_to_ipv4_literal, s_test_bootstrap_connects_to_localhost_through_resolver,
                s_test_bootstrap_connects_to_ipv6_loopback, s_test_bootstrap_refused_connection_fails_setup_once,
                s_test_bootstrap_all_addresses_refused, s_test_bootstrap_domain_filters_addresses,
                s_test_bootstrap_rejects_invalid_arguments, s_test_bootstrap_requested_loop_and_early_release,
                s_test_bootstrap_remote_buffer_too_small_or_absent)
