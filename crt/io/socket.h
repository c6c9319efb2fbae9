#ifndef WSCRT_IO_SOCKET_H
#define WSCRT_IO_SOCKET_H
/*
 * Non-blocking TCP client socket bound to one event loop. All functions but
 * wscrt_socket_new/_destroy run on that loop's thread.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "io/host_resolver.h"

struct wscrt_allocator;
struct wscrt_byte_buf;
struct wscrt_event_loop;
struct wscrt_socket;

enum wscrt_socket_domain {
    WSCRT_SOCKET_DOMAIN_UNSPEC, /* whatever the resolved address is */
    WSCRT_SOCKET_DOMAIN_IPV4,
    WSCRT_SOCKET_DOMAIN_IPV6,
};

struct wscrt_socket_options {
    uint32_t connect_timeout_ms; /* default 3000 */
    bool keep_alive;
    uint16_t keep_alive_interval_sec; /* 0 = system default */
    uint16_t keep_alive_timeout_sec;  /* 0 = system default */
    enum wscrt_socket_domain domain;
    bool no_delay; /* TCP_NODELAY, default true */
};

void wscrt_socket_options_init_default(struct wscrt_socket_options *options);

/* Runs on the loop. error_code 0 = connected. Errors: IO_SOCKET_TIMEOUT,
 * IO_SOCKET_CONNECTION_REFUSED, IO_SOCKET_NETWORK_DOWN, IO_SOCKET_NO_ROUTE, ... */
typedef void(wscrt_socket_on_connection_result_fn)(struct wscrt_socket *socket, int error_code, void *user_data);
/* Runs on the loop; events is a mask of wscrt_io_event_type. */
typedef void(wscrt_socket_on_io_event_fn)(struct wscrt_socket *socket, int events, void *user_data);

struct wscrt_socket *wscrt_socket_new(struct wscrt_allocator *allocator, const struct wscrt_socket_options *options);
/* Closes if open and frees. */
void wscrt_socket_destroy(struct wscrt_socket *socket);

/* Loop thread. Starts a connect with options->connect_timeout_ms. */
int wscrt_socket_connect(struct wscrt_socket *socket, const struct wscrt_host_address *address, uint32_t port,
                         struct wscrt_event_loop *loop, wscrt_socket_on_connection_result_fn *on_result,
                         void *user_data);
/* After a successful connect: edge-triggered READABLE | WRITABLE events. Events that came between the
 * connect and this call are delivered from a task (never inside it). Once only. */
int wscrt_socket_subscribe_to_events(struct wscrt_socket *socket, wscrt_socket_on_io_event_fn *on_event,
                                     void *user_data);
/*
 * Reads at most max_bytes (and at most the room left in buffer) and appends.
 * WSCRT_OP_ERR with WSCRT_ERROR_IO_READ_WOULD_BLOCK when nothing is there,
 * WSCRT_ERROR_IO_SOCKET_CLOSED at end of stream, or the mapped errno.
 */
int wscrt_socket_read(struct wscrt_socket *socket, struct wscrt_byte_buf *buffer, size_t max_bytes,
                      size_t *amount_read);
/* One writev. *written may be 0 when the kernel buffer is full (not an error). */
int wscrt_socket_writev(struct wscrt_socket *socket, const struct iovec *iov, int iov_count, size_t *written);
/* Unsubscribes and closes the descriptor. Idempotent. */
int wscrt_socket_close(struct wscrt_socket *socket);
bool wscrt_socket_is_open(const struct wscrt_socket *socket);
int wscrt_socket_get_fd(const struct wscrt_socket *socket);
struct wscrt_event_loop *wscrt_socket_get_event_loop(const struct wscrt_socket *socket);

#endif
