/* Tests for crt/io/socket.c against loopback listeners made in the test:
 * connect (IPv4, IPv6), refused, timeout, close during connect, options,
 * read/writev, end of stream, and writes to a reset peer without SIGPIPE. */
#include <fcntl.h>
#include <netinet/tcp.h>
#include <signal.h>

#include "common/byte_buf.h"
#include "common/clock.h"
#include "io/event_loop.h"
#include "io/socket.h"
#include "io_loopback_helpers.h"
#include "test_harness.h"

struct s_tester {
    struct wscrt_allocator *allocator;
    struct wscrt_event_loop *loop;
    struct wscrt_socket_options options;
    struct wscrt_host_address address;
    uint32_t port;

    struct wscrt_socket *socket;
    int connect_rc;
    int connect_sync_error;

    struct s_waiter result_waiter;
    int result_calls;
    int result_error;

    /* Filled on the loop by the event callback: bytes_waiter counts bytes
     * read, error_waiter is signalled when a read fails for good. */
    struct s_waiter bytes_waiter;
    struct s_waiter error_waiter;
    struct wscrt_byte_buf received;
    int read_error; /* first error other than WOULD_BLOCK */

    int option_values[6];

    /* Input/output of s_loop_writev. */
    struct iovec iov[4];
    int iov_count;
    int write_rc;
    int write_error;
    size_t written;
};

static int s_tester_init(struct s_tester *tester, struct wscrt_allocator *allocator) {
    memset(tester, 0, sizeof(*tester));
    tester->allocator = allocator;
    wscrt_socket_options_init_default(&tester->options);
    s_waiter_init(&tester->result_waiter);
    s_waiter_init(&tester->bytes_waiter);
    s_waiter_init(&tester->error_waiter);
    ASSERT_SUCCESS(wscrt_byte_buf_init(&tester->received, allocator, 64 * 1024));
    tester->loop = wscrt_event_loop_new(allocator, "socket-test");
    ASSERT_TRUE(tester->loop != NULL);
    ASSERT_SUCCESS(wscrt_event_loop_run(tester->loop));
    return 0;
}

static void s_tester_clean_up(struct s_tester *tester) {
    wscrt_event_loop_destroy(tester->loop);
    wscrt_byte_buf_clean_up(&tester->received);
    s_waiter_clean_up(&tester->result_waiter);
    s_waiter_clean_up(&tester->bytes_waiter);
    s_waiter_clean_up(&tester->error_waiter);
}

static void s_on_connection_result(struct wscrt_socket *socket, int error_code, void *user_data) {
    (void)socket;
    struct s_tester *tester = user_data;
    tester->result_calls++;
    tester->result_error = error_code;
    s_waiter_signal(&tester->result_waiter);
}

static void s_loop_connect(void *arg) {
    struct s_tester *tester = arg;
    tester->socket = wscrt_socket_new(tester->allocator, &tester->options);
    wscrt_reset_error();
    tester->connect_rc = wscrt_socket_connect(tester->socket, &tester->address, tester->port, tester->loop,
                                              s_on_connection_result, tester);
    tester->connect_sync_error = wscrt_last_error();
}

/* connect + close in one go: the result callback must never run. */
static void s_loop_connect_then_close(void *arg) {
    struct s_tester *tester = arg;
    s_loop_connect(tester);
    wscrt_socket_close(tester->socket);
}

static void s_loop_destroy_socket(void *arg) {
    struct s_tester *tester = arg;
    wscrt_socket_destroy(tester->socket);
    tester->socket = NULL;
}

static void s_on_socket_event(struct wscrt_socket *socket, int events, void *user_data) {
    struct s_tester *tester = user_data;
    if (events & (WSCRT_IO_EVENT_READABLE | WSCRT_IO_EVENT_REMOTE_HANG_UP | WSCRT_IO_EVENT_ERROR)) {
        for (;;) {
            size_t amount = 0;
            if (wscrt_socket_read(socket, &tester->received, SIZE_MAX, &amount)) {
                if (wscrt_last_error() != WSCRT_ERROR_IO_READ_WOULD_BLOCK && tester->read_error == 0) {
                    tester->read_error = wscrt_last_error();
                    s_waiter_signal(&tester->error_waiter);
                }
                break;
            }
            if (amount == 0) {
                break; /* buffer full */
            }
            s_waiter_add(&tester->bytes_waiter, (long)amount);
        }
    }
}

static void s_loop_subscribe(void *arg) {
    struct s_tester *tester = arg;
    tester->connect_rc = wscrt_socket_subscribe_to_events(tester->socket, s_on_socket_event, tester);
}

static void s_loop_writev(void *arg) {
    struct s_tester *tester = arg;
    wscrt_reset_error();
    tester->write_rc = wscrt_socket_writev(tester->socket, tester->iov, tester->iov_count, &tester->written);
    tester->write_error = wscrt_last_error();
}

static void s_set_address(struct s_tester *tester, enum wscrt_address_family family, const char *text,
                          uint16_t port) {
    tester->address.family = family;
    snprintf(tester->address.address, sizeof(tester->address.address), "%s", text);
    tester->port = port;
}

/* Connects tester->socket and waits for a successful result. */
static int s_connect_and_wait(struct s_tester *tester) {
    ASSERT_TRUE(s_run_on_loop(tester->loop, s_loop_connect, tester));
    ASSERT_SUCCESS(tester->connect_rc);
    ASSERT_TRUE(s_waiter_wait(&tester->result_waiter, 1, S_WAIT_MS));
    ASSERT_INT_EQ(1, tester->result_calls);
    ASSERT_INT_EQ(0, tester->result_error);
    return 0;
}

/* Connect, write with two iovecs, read the answer, then see end of stream. */
static int s_exchange_bytes(struct wscrt_allocator *allocator, int family) {
    struct s_tester tester;
    ASSERT_INT_EQ(0, s_tester_init(&tester, allocator));
    uint16_t port = 0;
    int listener = s_listener_open(family, 8, &port);
    if (listener < 0 && family == AF_INET6) {
        fprintf(stderr, "  (IPv6 loopback unavailable: skipped)\n");
        s_tester_clean_up(&tester);
        return 0;
    }
    ASSERT_TRUE(listener >= 0);
    if (family == AF_INET) {
        s_set_address(&tester, WSCRT_ADDRESS_IPV4, "127.0.0.1", port);
    } else {
        s_set_address(&tester, WSCRT_ADDRESS_IPV6, "::1", port);
    }
    ASSERT_INT_EQ(0, s_connect_and_wait(&tester));
    int server = s_accept_within(listener, S_WAIT_MS);
    ASSERT_TRUE(server >= 0);
    ASSERT_TRUE(s_run_on_loop(tester.loop, s_loop_subscribe, &tester));
    ASSERT_SUCCESS(tester.connect_rc);

    static const char hello[] = "hello";
    static const char world[] = ", world";
    tester.iov[0] = (struct iovec){.iov_base = (void *)hello, .iov_len = 5};
    tester.iov[1] = (struct iovec){.iov_base = (void *)world, .iov_len = 7};
    tester.iov_count = 2;
    ASSERT_TRUE(s_run_on_loop(tester.loop, s_loop_writev, &tester));
    ASSERT_SUCCESS(tester.write_rc);
    ASSERT_UINT_EQ(12, tester.written);
    uint8_t got[12];
    ASSERT_UINT_EQ(12, s_read_fully(server, got, sizeof(got), S_WAIT_MS));
    ASSERT_BYTES_EQ("hello, world", 12, got, 12);

    ASSERT_INT_EQ(4, send(server, "pong", 4, MSG_NOSIGNAL));
    ASSERT_TRUE(s_waiter_wait(&tester.bytes_waiter, 4, S_WAIT_MS));
    ASSERT_BYTES_EQ("pong", 4, tester.received.buffer, tester.received.len);

    /* Peer closes: the next read reports end of stream. */
    close(server);
    ASSERT_TRUE(s_waiter_wait(&tester.error_waiter, 1, S_WAIT_MS));
    ASSERT_INT_EQ(WSCRT_ERROR_IO_SOCKET_CLOSED, tester.read_error);
    ASSERT_UINT_EQ(4, tester.received.len);

    ASSERT_TRUE(s_run_on_loop(tester.loop, s_loop_destroy_socket, &tester));
    close(listener);
    s_tester_clean_up(&tester);
    return 0;
}

static int s_test_socket_connects_and_exchanges_bytes_ipv4(struct wscrt_allocator *allocator) {
    return s_exchange_bytes(allocator, AF_INET);
}

static int s_test_socket_connects_and_exchanges_bytes_ipv6(struct wscrt_allocator *allocator) {
    return s_exchange_bytes(allocator, AF_INET6);
}

/* The connect's subscription stays for the connection: bytes that arrive after the connect and before
 * the subscriber comes are told to it once it subscribes (from a task), not lost with their edge. */
static int s_test_socket_bytes_before_subscribe_are_told_after_it(struct wscrt_allocator *allocator) {
    struct s_tester tester;
    ASSERT_INT_EQ(0, s_tester_init(&tester, allocator));
    uint16_t port = 0;
    int listener = s_listener_open(AF_INET, 8, &port);
    ASSERT_TRUE(listener >= 0);
    s_set_address(&tester, WSCRT_ADDRESS_IPV4, "127.0.0.1", port);
    ASSERT_INT_EQ(0, s_connect_and_wait(&tester));
    int server = s_accept_within(listener, S_WAIT_MS);
    ASSERT_TRUE(server >= 0);
    ASSERT_INT_EQ(5, send(server, "early", 5, MSG_NOSIGNAL));
    usleep(50 * 1000); /* the READABLE edge reaches the loop before anyone listens */

    ASSERT_TRUE(s_run_on_loop(tester.loop, s_loop_subscribe, &tester));
    ASSERT_SUCCESS(tester.connect_rc);
    ASSERT_TRUE(s_waiter_wait(&tester.bytes_waiter, 5, S_WAIT_MS));
    ASSERT_BYTES_EQ("early", 5, tester.received.buffer, tester.received.len);
    /* A second subscription is refused. */
    ASSERT_TRUE(s_run_on_loop(tester.loop, s_loop_subscribe, &tester));
    ASSERT_INT_EQ(WSCRT_OP_ERR, tester.connect_rc);

    close(server);
    ASSERT_TRUE(s_waiter_wait(&tester.error_waiter, 1, S_WAIT_MS));
    ASSERT_INT_EQ(WSCRT_ERROR_IO_SOCKET_CLOSED, tester.read_error);
    ASSERT_TRUE(s_run_on_loop(tester.loop, s_loop_destroy_socket, &tester));
    close(listener);
    s_tester_clean_up(&tester);
    return 0;
}

static int s_test_socket_connect_to_closed_port_is_refused(struct wscrt_allocator *allocator) {
    struct s_tester tester;
    ASSERT_INT_EQ(0, s_tester_init(&tester, allocator));
    uint16_t port = 0;
    int placeholder = s_closed_port_open(&port);
    ASSERT_TRUE(placeholder >= 0);
    s_set_address(&tester, WSCRT_ADDRESS_IPV4, "127.0.0.1", port);

    ASSERT_TRUE(s_run_on_loop(tester.loop, s_loop_connect, &tester));
    ASSERT_SUCCESS(tester.connect_rc);
    ASSERT_TRUE(s_waiter_wait(&tester.result_waiter, 1, S_WAIT_MS));
    ASSERT_INT_EQ(WSCRT_ERROR_IO_SOCKET_CONNECTION_REFUSED, tester.result_error);
    /* Exactly once: nothing else arrives, not even the timeout. */
    s_sleep_ms(50);
    ASSERT_INT_EQ(1, tester.result_calls);
    ASSERT_FALSE(wscrt_socket_is_open(tester.socket));

    ASSERT_TRUE(s_run_on_loop(tester.loop, s_loop_destroy_socket, &tester));
    close(placeholder);
    s_tester_clean_up(&tester);
    return 0;
}

/*
 * A listener whose accept queue is full drops new SYNs, so a connect to it
 * hangs. listen(fd, 0) leaves room for about one connection; fill it with
 * connections that are never accepted until one of them no longer completes.
 */
#define S_MAX_FILLERS 16
struct s_full_listener {
    int listener;
    uint16_t port;
    int fillers[S_MAX_FILLERS];
    int filler_count;
};

static bool s_full_listener_open(struct s_full_listener *full) {
    memset(full, 0, sizeof(*full));
    full->listener = s_listener_open(AF_INET, 0, &full->port);
    if (full->listener < 0) {
        return false;
    }
    struct sockaddr_in in4;
    memset(&in4, 0, sizeof(in4));
    in4.sin_family = AF_INET;
    in4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    in4.sin_port = htons(full->port);
    while (full->filler_count < S_MAX_FILLERS) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        full->fillers[full->filler_count++] = fd;
        if (connect(fd, (struct sockaddr *)&in4, sizeof(in4)) == 0) {
            continue;
        }
        if (errno != EINPROGRESS) {
            return false;
        }
        struct pollfd pfd = {.fd = fd, .events = POLLOUT};
        if (poll(&pfd, 1, 200) == 0) {
            return true; /* this one hangs: the queue is full */
        }
    }
    return false;
}

static void s_full_listener_close(struct s_full_listener *full) {
    for (int i = 0; i < full->filler_count; ++i) {
        close(full->fillers[i]);
    }
    close(full->listener);
}

/* A tester aimed at a listener whose accept backlog is full: its connect can only time out, after `timeout_ms`. */
static int s_tester_init_for_full_listener(struct s_tester *tester, struct s_full_listener *full,
                                           struct wscrt_allocator *allocator, uint32_t timeout_ms) {
    ASSERT_TRUE(s_full_listener_open(full));
    ASSERT_INT_EQ(0, s_tester_init(tester, allocator));
    tester->options.connect_timeout_ms = timeout_ms;
    s_set_address(tester, WSCRT_ADDRESS_IPV4, "127.0.0.1", full->port);
    return 0;
}

static int s_test_socket_connect_times_out(struct wscrt_allocator *allocator) {
    struct s_full_listener full;
    struct s_tester tester;
    ASSERT_INT_EQ(0, s_tester_init_for_full_listener(&tester, &full, allocator, 300));

    uint64_t start = wscrt_clock_now_ns();
    ASSERT_TRUE(s_run_on_loop(tester.loop, s_loop_connect, &tester));
    ASSERT_SUCCESS(tester.connect_rc);
    ASSERT_TRUE(s_waiter_wait(&tester.result_waiter, 1, S_WAIT_MS));
    uint64_t elapsed_ms = (wscrt_clock_now_ns() - start) / WSCRT_NS_PER_MS;
    ASSERT_INT_EQ(WSCRT_ERROR_IO_SOCKET_TIMEOUT, tester.result_error);
    ASSERT_TRUE(elapsed_ms >= 290 && elapsed_ms < 3000);
    s_sleep_ms(50);
    ASSERT_INT_EQ(1, tester.result_calls);
    ASSERT_FALSE(wscrt_socket_is_open(tester.socket));

    ASSERT_TRUE(s_run_on_loop(tester.loop, s_loop_destroy_socket, &tester));
    s_tester_clean_up(&tester);
    s_full_listener_close(&full);
    return 0;
}

static int s_test_socket_close_during_connect_suppresses_callback(struct wscrt_allocator *allocator) {
    struct s_full_listener full;
    struct s_tester tester;
    ASSERT_INT_EQ(0, s_tester_init_for_full_listener(&tester, &full, allocator, 100));

    ASSERT_TRUE(s_run_on_loop(tester.loop, s_loop_connect_then_close, &tester));
    ASSERT_SUCCESS(tester.connect_rc);
    /* Well past the timeout: had the timer survived close, it would have fired. */
    ASSERT_FALSE(s_waiter_wait(&tester.result_waiter, 1, 400));
    ASSERT_INT_EQ(0, tester.result_calls);

    ASSERT_TRUE(s_run_on_loop(tester.loop, s_loop_destroy_socket, &tester));
    s_tester_clean_up(&tester);
    s_full_listener_close(&full);
    return 0;
}

static void s_loop_read_options(void *arg) {
    struct s_tester *tester = arg;
    int *values = tester->option_values;
    int fd = wscrt_socket_get_fd(tester->socket);
    socklen_t len = sizeof(int);
    getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &values[0], &len);
    len = sizeof(int);
    getsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &values[1], &len);
    len = sizeof(int);
    getsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &values[2], &len);
    len = sizeof(int);
    getsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &values[3], &len);
    values[4] = (fcntl(fd, F_GETFL) & O_NONBLOCK) ? 1 : 0;
    values[5] = (fcntl(fd, F_GETFD) & FD_CLOEXEC) ? 1 : 0;
}

/* A tester aimed at a new listener on 127.0.0.1 (`*listener`, which the test accepts on and closes). */
static int s_tester_init_for_listener(struct s_tester *tester, int *listener, struct wscrt_allocator *allocator) {
    ASSERT_INT_EQ(0, s_tester_init(tester, allocator));
    uint16_t port = 0;
    *listener = s_listener_open(AF_INET, 8, &port);
    ASSERT_TRUE(*listener >= 0);
    s_set_address(tester, WSCRT_ADDRESS_IPV4, "127.0.0.1", port);
    return 0;
}

static int s_test_socket_applies_options(struct wscrt_allocator *allocator) {
    struct s_tester tester;
    int listener = -1;
    ASSERT_INT_EQ(0, s_tester_init_for_listener(&tester, &listener, allocator));
    tester.options.keep_alive = true;
    tester.options.keep_alive_interval_sec = 17;
    tester.options.keep_alive_timeout_sec = 5;
    ASSERT_INT_EQ(0, s_connect_and_wait(&tester));

    ASSERT_TRUE(s_run_on_loop(tester.loop, s_loop_read_options, &tester));
    const int *values = tester.option_values;
    ASSERT_INT_EQ(1, values[0] != 0);
    ASSERT_INT_EQ(1, values[1] != 0);
    ASSERT_INT_EQ(17, values[2]);
    ASSERT_INT_EQ(5, values[3]);
    ASSERT_INT_EQ(1, values[4]);
    ASSERT_INT_EQ(1, values[5]);

    ASSERT_TRUE(s_run_on_loop(tester.loop, s_loop_destroy_socket, &tester));
    close(listener);
    s_tester_clean_up(&tester);
    return 0;
}

static int s_test_socket_rejects_bad_address_and_domain(struct wscrt_allocator *allocator) {
    struct s_tester tester;
    ASSERT_INT_EQ(0, s_tester_init(&tester, allocator));

    s_set_address(&tester, WSCRT_ADDRESS_IPV4, "not-an-address", 80);
    ASSERT_TRUE(s_run_on_loop(tester.loop, s_loop_connect, &tester));
    ASSERT_INT_EQ(WSCRT_OP_ERR, tester.connect_rc);
    ASSERT_INT_EQ(WSCRT_ERROR_IO_INVALID_ADDRESS, tester.connect_sync_error);
    ASSERT_TRUE(s_run_on_loop(tester.loop, s_loop_destroy_socket, &tester));

    tester.options.domain = WSCRT_SOCKET_DOMAIN_IPV6;
    s_set_address(&tester, WSCRT_ADDRESS_IPV4, "127.0.0.1", 80);
    ASSERT_TRUE(s_run_on_loop(tester.loop, s_loop_connect, &tester));
    ASSERT_INT_EQ(WSCRT_OP_ERR, tester.connect_rc);
    ASSERT_INT_EQ(WSCRT_ERROR_IO_SOCKET_INVALID_OPTIONS, tester.connect_sync_error);
    ASSERT_TRUE(s_run_on_loop(tester.loop, s_loop_destroy_socket, &tester));

    s_sleep_ms(50);
    ASSERT_INT_EQ(0, tester.result_calls);
    s_tester_clean_up(&tester);
    return 0;
}

/* The default SIGPIPE action kills the process, so surviving is the test. */
static int s_test_socket_write_to_reset_peer_fails_without_sigpipe(struct wscrt_allocator *allocator) {
    struct sigaction previous;
    struct sigaction dfl;
    memset(&dfl, 0, sizeof(dfl));
    dfl.sa_handler = SIG_DFL;
    sigaction(SIGPIPE, &dfl, &previous);

    struct s_tester tester;
    int listener = -1;
    ASSERT_INT_EQ(0, s_tester_init_for_listener(&tester, &listener, allocator));
    ASSERT_INT_EQ(0, s_connect_and_wait(&tester));
    int server = s_accept_within(listener, S_WAIT_MS);
    ASSERT_TRUE(server >= 0);
    /* SO_LINGER 0: close sends RST. */
    struct linger linger = {.l_onoff = 1, .l_linger = 0};
    setsockopt(server, SOL_SOCKET, SO_LINGER, &linger, sizeof(linger));
    close(server);
    s_sleep_ms(50);

    /* The first write after the RST reports the reset; the ones after it
     * hit a dead socket (EPIPE), which is where SIGPIPE would be raised. */
    static uint8_t chunk[4096];
    tester.iov[0] = (struct iovec){.iov_base = chunk, .iov_len = sizeof(chunk)};
    tester.iov_count = 1;
    int failures = 0;
    bool saw_broken_pipe = false;
    for (int i = 0; i < 20 && failures < 3; ++i) {
        ASSERT_TRUE(s_run_on_loop(tester.loop, s_loop_writev, &tester));
        if (tester.write_rc != WSCRT_OP_SUCCESS) {
            failures++;
            ASSERT_TRUE(tester.write_error == WSCRT_ERROR_IO_BROKEN_PIPE ||
                        tester.write_error == WSCRT_ERROR_IO_SOCKET_CONNECTION_RESET);
            saw_broken_pipe |= tester.write_error == WSCRT_ERROR_IO_BROKEN_PIPE;
        }
    }
    ASSERT_INT_EQ(3, failures);
    ASSERT_TRUE(saw_broken_pipe);

    ASSERT_TRUE(s_run_on_loop(tester.loop, s_loop_destroy_socket, &tester));
    close(listener);
    s_tester_clean_up(&tester);
    sigaction(SIGPIPE, &previous, NULL);
    return 0;
}

WSCRT_TEST_MAIN(s_test_socket_connects_and_exchanges_bytes_ipv4, s_test_socket_connects_and_exchanges_bytes_ipv6,
                s_test_socket_connect_to_closed_port_is_refused, s_test_socket_connect_times_out,
                s_test_socket_close_during_connect_suppresses_callback, s_test_socket_applies_options,
                s_test_socket_rejects_bad_address_and_domain, s_test_socket_write_to_reset_peer_fails_without_sigpipe,
                s_test_socket_bytes_before_subscribe_are_told_after_it)
