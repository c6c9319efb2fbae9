/*
 * Non-blocking TCP client socket on one event loop.
 *
 * Connect: socket(SOCK_NONBLOCK | SOCK_CLOEXEC) + connect() -> EINPROGRESS,
 * then wait for WRITABLE and read the outcome from SO_ERROR. A timer task on
 * the loop bounds the wait. The result callback runs exactly once, always from
 * the loop (never from inside wscrt_socket_connect), and never after
 * wscrt_socket_close/_destroy.
 *
 * Writes use sendmsg(MSG_NOSIGNAL) so that a peer that went away yields EPIPE
 * instead of a process-killing SIGPIPE.
 */
#include "io/socket.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/allocator.h"
#include "common/byte_buf.h"
#include "common/clock.h"
#include "common/error.h"
#include "common/logging.h"
#include "io/event_loop.h"

/* Used when options->connect_timeout_ms is 0: a connect without a bound can
 * hang for minutes on a black-holed address. */
#define WSCRT_SOCKET_DEFAULT_CONNECT_TIMEOUT_MS 3000

/* Lifecycle: INIT -> CONNECTING -> CONNECTED -> CLOSED; any state -> CLOSED. */
enum s_socket_state {
    S_SOCKET_INIT,
    S_SOCKET_CONNECTING,
    S_SOCKET_CONNECTED,
    S_SOCKET_CLOSED,
};

struct wscrt_socket {
    struct wscrt_allocator *allocator;
    struct wscrt_socket_options options;
    enum s_socket_state state;
    int fd; /* -1 when closed */
    struct wscrt_event_loop *loop;
    bool subscribed;

    /* Connect (loop thread only). */
    wscrt_socket_on_connection_result_fn *on_result;
    void *on_result_user_data;
    /* One task, for one job at a time: while connecting, the connect timeout, or the report of an error
     * that connect() returned synchronously (then no timeout is needed); once connected, the hand-over of
     * pending_events. */
    struct wscrt_task task;
    bool task_scheduled;
    int immediate_error;

    /* After connect. The subscription made for the connect stays (one epoll_ctl per connection, and
     * close(2) ends it): events that come before on_event is set wait in pending_events, and a task
     * hands them over once it is. */
    wscrt_socket_on_io_event_fn *on_event;
    void *on_event_user_data;
    int pending_events; /* `task`, done with connecting, carries them */
};

void wscrt_socket_options_init_default(struct wscrt_socket_options *options) {
    memset(options, 0, sizeof(*options));
    options->connect_timeout_ms = WSCRT_SOCKET_DEFAULT_CONNECT_TIMEOUT_MS;
    options->keep_alive = false;
    options->domain = WSCRT_SOCKET_DOMAIN_UNSPEC;
    options->no_delay = true;
}

struct wscrt_socket *wscrt_socket_new(struct wscrt_allocator *allocator, const struct wscrt_socket_options *options) {
    if (allocator == NULL) {
        wscrt_raise_error(WSCRT_ERROR_INVALID_ARGUMENT);
        return NULL;
    }
    struct wscrt_socket *socket = wscrt_mem_calloc(allocator, 1, sizeof(struct wscrt_socket));
    socket->allocator = allocator;
    if (options != NULL) {
        socket->options = *options;
    } else {
        wscrt_socket_options_init_default(&socket->options);
    }
    if (socket->options.connect_timeout_ms == 0) {
        socket->options.connect_timeout_ms = WSCRT_SOCKET_DEFAULT_CONNECT_TIMEOUT_MS;
    }
    socket->fd = -1;
    socket->state = S_SOCKET_INIT;
    return socket;
}

void wscrt_socket_destroy(struct wscrt_socket *socket) {
    if (socket == NULL) {
        return;
    }
    wscrt_socket_close(socket);
    wscrt_mem_release(socket->allocator, socket);
}

/* Maps an errno to its wscrt code without leaving it raised on this thread. */
static int s_code_from_errno(int errno_value) {
    int saved = wscrt_last_error();
    wscrt_raise_errno(errno_value);
    int code = wscrt_last_error();
    wscrt_raise_error(saved);
    return code;
}

/* Parses a numeric address (IPv6 may carry a %scope) into sockaddr storage. */
static int s_parse_address(const struct wscrt_host_address *address, uint32_t port, struct sockaddr_storage *storage,
                           socklen_t *length) {
    memset(storage, 0, sizeof(*storage));
    if (address->family == WSCRT_ADDRESS_IPV4) {
        struct sockaddr_in *in4 = (struct sockaddr_in *)storage;
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)port);
        if (inet_pton(AF_INET, address->address, &in4->sin_addr) != 1) {
            return wscrt_raise_error(WSCRT_ERROR_IO_INVALID_ADDRESS);
        }
        *length = sizeof(*in4);
        return WSCRT_OP_SUCCESS;
    }
    if (address->family == WSCRT_ADDRESS_IPV6) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)storage;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        char text[sizeof(address->address)];
        size_t text_len = strnlen(address->address, sizeof(address->address));
        if (text_len == sizeof(address->address)) {
            return wscrt_raise_error(WSCRT_ERROR_IO_INVALID_ADDRESS);
        }
        memcpy(text, address->address, text_len + 1);
        char *scope = strchr(text, '%');
        if (scope != NULL) {
            *scope++ = '\0';
            unsigned int index = if_nametoindex(scope);
            if (index == 0) {
                char *end = NULL;
                unsigned long numeric = strtoul(scope, &end, 10);
                if (*scope == '\0' || *end != '\0' || numeric > UINT32_MAX) {
                    return wscrt_raise_error(WSCRT_ERROR_IO_INVALID_ADDRESS);
                }
                index = (unsigned int)numeric;
            }
            in6->sin6_scope_id = index;
        }
        if (inet_pton(AF_INET6, text, &in6->sin6_addr) != 1) {
            return wscrt_raise_error(WSCRT_ERROR_IO_INVALID_ADDRESS);
        }
        *length = sizeof(*in6);
        return WSCRT_OP_SUCCESS;
    }
    return wscrt_raise_error(WSCRT_ERROR_IO_INVALID_ADDRESS);
}

static int s_set_int_option(struct wscrt_socket *socket, int level, int name, int value, const char *what) {
    if (setsockopt(socket->fd, level, name, &value, sizeof(value)) != 0) {
        int err = errno;
        WSCRT_LOGF_ERROR(WSCRT_LS_IO_SOCKET, "id=%p: setsockopt(%s) failed, errno=%d", (void *)socket, what, err);
        return wscrt_raise_error(WSCRT_ERROR_IO_SOCKET_INVALID_OPTIONS);
    }
    return WSCRT_OP_SUCCESS;
}

static int s_apply_options(struct wscrt_socket *socket) {
    const struct wscrt_socket_options *options = &socket->options;
    if (options->no_delay && s_set_int_option(socket, IPPROTO_TCP, TCP_NODELAY, 1, "TCP_NODELAY")) {
        return WSCRT_OP_ERR;
    }
    if (options->keep_alive) {
        if (s_set_int_option(socket, SOL_SOCKET, SO_KEEPALIVE, 1, "SO_KEEPALIVE")) {
            return WSCRT_OP_ERR;
        }
        /* Same meaning as in aws-c-io: the interval is the idle time before
         * (and between) probes, the timeout how long to wait for an answer. */
        if (options->keep_alive_interval_sec != 0 &&
            s_set_int_option(socket, IPPROTO_TCP, TCP_KEEPIDLE, options->keep_alive_interval_sec, "TCP_KEEPIDLE")) {
            return WSCRT_OP_ERR;
        }
        if (options->keep_alive_timeout_sec != 0 &&
            s_set_int_option(socket, IPPROTO_TCP, TCP_KEEPINTVL, options->keep_alive_timeout_sec, "TCP_KEEPINTVL")) {
            return WSCRT_OP_ERR;
        }
    }
    return WSCRT_OP_SUCCESS;
}

/* For a descriptor about to be closed, which takes it out of epoll. */
static void s_unsubscribe_before_close(struct wscrt_socket *socket) {
    if (socket->subscribed) {
        wscrt_event_loop_unsubscribe_before_close(socket->loop, socket->fd);
        socket->subscribed = false;
    }
}

/* The flag is cleared before cancelling: a task that runs CANCELED with its
 * flag still set was cancelled by the loop's destruction, not by us. */
static void s_cancel_task(struct wscrt_socket *socket) {
    if (socket->task_scheduled) {
        socket->task_scheduled = false;
        wscrt_event_loop_cancel_task(socket->loop, &socket->task);
    }
}

static void s_schedule_task(struct wscrt_socket *socket, wscrt_task_fn *fn, uint64_t run_at_ns) {
    wscrt_task_init(&socket->task, fn, socket);
    socket->task_scheduled = true;
    wscrt_event_loop_schedule_task_future(socket->loop, &socket->task, run_at_ns);
}

/*
 * Ends a connect attempt. The callback is the last thing done: the callee may
 * destroy the socket inside it (the bootstrap does, to try the next address).
 */
static void s_finish_connect(struct wscrt_socket *socket, int error_code) {
    s_cancel_task(socket);
    if (error_code == 0) {
        socket->state = S_SOCKET_CONNECTED;
        WSCRT_LOGF_DEBUG(WSCRT_LS_IO_SOCKET, "id=%p: connected, fd=%d", (void *)socket, socket->fd);
    } else {
        WSCRT_LOGF_DEBUG(WSCRT_LS_IO_SOCKET, "id=%p: connect failed, fd=%d, error=%s", (void *)socket, socket->fd,
                         wscrt_error_name(error_code));
        s_unsubscribe_before_close(socket);
        close(socket->fd);
        socket->fd = -1;
        socket->state = S_SOCKET_CLOSED;
    }
    wscrt_socket_on_connection_result_fn *on_result = socket->on_result;
    void *user_data = socket->on_result_user_data;
    socket->on_result = NULL;
    on_result(socket, error_code, user_data);
}

static void s_on_timeout(struct wscrt_task *task, void *arg, enum wscrt_task_status status) {
    (void)task;
    struct wscrt_socket *socket = arg;
    if (!socket->task_scheduled) {
        return; /* cancelled by s_cancel_task */
    }
    socket->task_scheduled = false;
    if (socket->state != S_SOCKET_CONNECTING) {
        return;
    }
    if (status != WSCRT_TASK_STATUS_RUN_READY) {
        /* The loop is being destroyed: the result must still arrive once. */
        s_finish_connect(socket, WSCRT_ERROR_IO_EVENT_LOOP_SHUTDOWN);
        return;
    }
    WSCRT_LOGF_DEBUG(WSCRT_LS_IO_SOCKET, "id=%p: connect timed out after %u ms", (void *)socket,
                     (unsigned)socket->options.connect_timeout_ms);
    s_finish_connect(socket, WSCRT_ERROR_IO_SOCKET_TIMEOUT);
}

static void s_on_immediate_result(struct wscrt_task *task, void *arg, enum wscrt_task_status status) {
    (void)task;
    struct wscrt_socket *socket = arg;
    if (!socket->task_scheduled) {
        return; /* cancelled by s_cancel_task */
    }
    socket->task_scheduled = false;
    if (socket->state != S_SOCKET_CONNECTING) {
        return;
    }
    s_finish_connect(socket, status == WSCRT_TASK_STATUS_RUN_READY ? socket->immediate_error
                                                                   : WSCRT_ERROR_IO_EVENT_LOOP_SHUTDOWN);
}

static void s_on_connect_event(struct wscrt_event_loop *loop, int fd, int events, void *user_data) {
    (void)loop;
    (void)fd;
    struct wscrt_socket *socket = user_data;
    if (socket->state != S_SOCKET_CONNECTING) {
        return;
    }
    int so_error = 0;
    socklen_t len = sizeof(so_error);
    if (getsockopt(socket->fd, SOL_SOCKET, SO_ERROR, &so_error, &len) != 0) {
        so_error = errno;
    }
    if (so_error == 0) {
        /* A WRITABLE edge with SO_ERROR 0 can still precede completion in
         * theory; getpeername tells for sure. */
        struct sockaddr_storage peer;
        socklen_t peer_len = sizeof(peer);
        if (getpeername(socket->fd, (struct sockaddr *)&peer, &peer_len) != 0) {
            if (errno == ENOTCONN && !(events & (WSCRT_IO_EVENT_ERROR | WSCRT_IO_EVENT_REMOTE_HANG_UP))) {
                return; /* keep waiting */
            }
            so_error = errno == ENOTCONN ? ECONNREFUSED : errno;
        }
    }
    s_finish_connect(socket, so_error == 0 ? 0 : s_code_from_errno(so_error));
}

/* The one subscription of a socket, from its connect to its close. */
static void s_on_io_event(struct wscrt_event_loop *loop, int fd, int events, void *user_data) {
    struct wscrt_socket *socket = user_data;
    if (socket->state == S_SOCKET_CONNECTING) {
        /* What the edge says besides "connected" is kept for the subscriber: edges do not repeat. */
        socket->pending_events |= events & ~WSCRT_IO_EVENT_WRITABLE;
        s_on_connect_event(loop, fd, events, socket); /* may free the socket, then returns at once */
        return;
    }
    if (socket->state != S_SOCKET_CONNECTED) {
        return;
    }
    if (socket->on_event == NULL) {
        socket->pending_events |= events;
        return;
    }
    socket->on_event(socket, events, socket->on_event_user_data);
}

static void s_on_pending_events(struct wscrt_task *task, void *arg, enum wscrt_task_status status) {
    (void)task;
    struct wscrt_socket *socket = arg;
    if (!socket->task_scheduled) {
        return; /* cancelled by s_cancel_task */
    }
    socket->task_scheduled = false;
    int events = socket->pending_events;
    socket->pending_events = 0;
    if (status == WSCRT_TASK_STATUS_RUN_READY && socket->state == S_SOCKET_CONNECTED && socket->on_event != NULL) {
        socket->on_event(socket, events, socket->on_event_user_data);
    }
}

/* Defined before any parameter named `socket` can shadow socket(2). */
static int s_create_fd(int family) {
    return socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
}

int wscrt_socket_connect(struct wscrt_socket *socket, const struct wscrt_host_address *address, uint32_t port,
                         struct wscrt_event_loop *loop, wscrt_socket_on_connection_result_fn *on_result,
                         void *user_data) {
    if (socket == NULL || address == NULL || loop == NULL || on_result == NULL || port > 65535) {
        return wscrt_raise_error(WSCRT_ERROR_INVALID_ARGUMENT);
    }
    if (socket->state != S_SOCKET_INIT) {
        return wscrt_raise_error(WSCRT_ERROR_INVALID_STATE);
    }
    if ((socket->options.domain == WSCRT_SOCKET_DOMAIN_IPV4 && address->family != WSCRT_ADDRESS_IPV4) ||
        (socket->options.domain == WSCRT_SOCKET_DOMAIN_IPV6 && address->family != WSCRT_ADDRESS_IPV6)) {
        return wscrt_raise_error(WSCRT_ERROR_IO_SOCKET_INVALID_OPTIONS);
    }
    struct sockaddr_storage storage;
    socklen_t storage_len = 0;
    if (s_parse_address(address, port, &storage, &storage_len)) {
        return WSCRT_OP_ERR;
    }

    int fd = s_create_fd(storage.ss_family);
    if (fd < 0) {
        return wscrt_raise_errno(errno);
    }
    socket->fd = fd;
    if (s_apply_options(socket)) {
        close(fd);
        socket->fd = -1;
        return WSCRT_OP_ERR;
    }

    socket->loop = loop;
    socket->on_result = on_result;
    socket->on_result_user_data = user_data;
    socket->state = S_SOCKET_CONNECTING;

    int rc;
    do {
        rc = connect(fd, (struct sockaddr *)&storage, storage_len);
    } while (rc != 0 && errno == EINTR);
    int connect_errno = rc == 0 ? 0 : errno;

    WSCRT_LOGF_DEBUG(WSCRT_LS_IO_SOCKET, "id=%p: connecting fd=%d to %s port %u, timeout=%u ms", (void *)socket, fd,
                     address->address, (unsigned)port, (unsigned)socket->options.connect_timeout_ms);

    if (rc == 0 || connect_errno == EINPROGRESS) {
        /* Even an immediate success is reported through the WRITABLE event,
         * so the callback never runs inside this call. */
        if (wscrt_event_loop_subscribe_to_io_events(loop, fd, WSCRT_IO_EVENT_READABLE | WSCRT_IO_EVENT_WRITABLE,
                                                    s_on_io_event, socket)) {
            int err = wscrt_last_error();
            close(fd);
            socket->fd = -1;
            socket->state = S_SOCKET_INIT;
            socket->on_result = NULL;
            return wscrt_raise_error(err);
        }
        socket->subscribed = true;
    } else {
        /* ECONNREFUSED and friends may come back synchronously on loopback;
         * report them from the loop like any other outcome. */
        socket->immediate_error = s_code_from_errno(connect_errno);
        s_schedule_task(socket, s_on_immediate_result, 0);
        return WSCRT_OP_SUCCESS;
    }
    uint64_t deadline = wscrt_clock_now_ns() + (uint64_t)socket->options.connect_timeout_ms * WSCRT_NS_PER_MS;
    s_schedule_task(socket, s_on_timeout, deadline);
    return WSCRT_OP_SUCCESS;
}

int wscrt_socket_subscribe_to_events(struct wscrt_socket *socket, wscrt_socket_on_io_event_fn *on_event,
                                     void *user_data) {
    if (socket == NULL || on_event == NULL) {
        return wscrt_raise_error(WSCRT_ERROR_INVALID_ARGUMENT);
    }
    if (socket->state != S_SOCKET_CONNECTED) {
        return wscrt_raise_error(WSCRT_ERROR_IO_SOCKET_NOT_CONNECTED);
    }
    if (socket->on_event != NULL || !socket->subscribed) {
        return wscrt_raise_error(WSCRT_ERROR_INVALID_STATE);
    }
    socket->on_event = on_event;
    socket->on_event_user_data = user_data;
    /* The subscription is the connect's. Data that came before now is told from a task, as an epoll
     * registration made now would have told it: never inside this call. */
    if (socket->pending_events != 0) {
        s_schedule_task(socket, s_on_pending_events, 0);
    }
    return WSCRT_OP_SUCCESS;
}

int wscrt_socket_read(struct wscrt_socket *socket, struct wscrt_byte_buf *buffer, size_t max_bytes,
                      size_t *amount_read) {
    *amount_read = 0;
    if (socket->state != S_SOCKET_CONNECTED) {
        return wscrt_raise_error(WSCRT_ERROR_IO_SOCKET_NOT_CONNECTED);
    }
    size_t room = buffer->capacity - buffer->len;
    size_t to_read = room < max_bytes ? room : max_bytes;
    if (to_read == 0) {
        return WSCRT_OP_SUCCESS;
    }
    ssize_t n;
    do {
        n = read(socket->fd, buffer->buffer + buffer->len, to_read);
    } while (n < 0 && errno == EINTR);
    if (n > 0) {
        buffer->len += (size_t)n;
        *amount_read = (size_t)n;
        return WSCRT_OP_SUCCESS;
    }
    if (n == 0) {
        WSCRT_LOGF_DEBUG(WSCRT_LS_IO_SOCKET, "id=%p: end of stream on fd=%d", (void *)socket, socket->fd);
        return wscrt_raise_error(WSCRT_ERROR_IO_SOCKET_CLOSED);
    }
    int err = errno;
    if (err == EAGAIN || err == EWOULDBLOCK) {
        return wscrt_raise_error(WSCRT_ERROR_IO_READ_WOULD_BLOCK);
    }
    WSCRT_LOGF_DEBUG(WSCRT_LS_IO_SOCKET, "id=%p: read failed on fd=%d, errno=%d", (void *)socket, socket->fd, err);
    return wscrt_raise_errno(err);
}

int wscrt_socket_writev(struct wscrt_socket *socket, const struct iovec *iov, int iov_count, size_t *written) {
    *written = 0;
    if (socket->state != S_SOCKET_CONNECTED) {
        return wscrt_raise_error(WSCRT_ERROR_IO_SOCKET_NOT_CONNECTED);
    }
    if (iov_count <= 0) {
        return WSCRT_OP_SUCCESS;
    }
    struct msghdr msg;
    memset(&msg, 0, sizeof(msg));
    msg.msg_iov = (struct iovec *)iov;
    msg.msg_iovlen = (size_t)iov_count;
    ssize_t n;
    do {
        n = sendmsg(socket->fd, &msg, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n >= 0) {
        *written = (size_t)n;
        return WSCRT_OP_SUCCESS;
    }
    int err = errno;
    if (err == EAGAIN || err == EWOULDBLOCK) {
        return WSCRT_OP_SUCCESS;
    }
    WSCRT_LOGF_DEBUG(WSCRT_LS_IO_SOCKET, "id=%p: write failed on fd=%d, errno=%d", (void *)socket, socket->fd, err);
    return wscrt_raise_errno(err);
}

int wscrt_socket_close(struct wscrt_socket *socket) {
    if (socket == NULL) {
        return wscrt_raise_error(WSCRT_ERROR_INVALID_ARGUMENT);
    }
    if (socket->state == S_SOCKET_CLOSED || socket->fd < 0) {
        socket->state = S_SOCKET_CLOSED;
        return WSCRT_OP_SUCCESS;
    }
    WSCRT_LOGF_DEBUG(WSCRT_LS_IO_SOCKET, "id=%p: closing fd=%d", (void *)socket, socket->fd);
    s_cancel_task(socket);
    s_unsubscribe_before_close(socket);
    close(socket->fd);
    socket->fd = -1;
    socket->state = S_SOCKET_CLOSED;
    /* A connect in progress is abandoned silently: its callback must not run. */
    socket->on_result = NULL;
    socket->on_event = NULL;
    return WSCRT_OP_SUCCESS;
}

bool wscrt_socket_is_open(const struct wscrt_socket *socket) {
    return socket != NULL && socket->fd >= 0 && socket->state != S_SOCKET_CLOSED;
}

int wscrt_socket_get_fd(const struct wscrt_socket *socket) {
    return socket->fd;
}

struct wscrt_event_loop *wscrt_socket_get_event_loop(const struct wscrt_socket *socket) {
    return socket->loop;
}
