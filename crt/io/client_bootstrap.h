#ifndef WSCRT_IO_CLIENT_BOOTSTRAP_H
#define WSCRT_IO_CLIENT_BOOTSTRAP_H
/*
 * resolve -> connect (each resolved address in turn until one works) ->
 * channel with a socket handler in slot 0 [-> TLS handler in slot 1, handshake]
 * -> setup callback.
 * Ref-counted; holds its event loop group and resolver.
 */
#include <stdint.h>

#include "io/socket.h"

struct wscrt_allocator;
struct wscrt_channel;
struct wscrt_client_bootstrap;
struct wscrt_event_loop;
struct wscrt_event_loop_group;
struct wscrt_host_resolver;
struct wscrt_tls_connection_options;

struct wscrt_client_bootstrap_options {
    struct wscrt_event_loop_group *event_loop_group;
    struct wscrt_host_resolver *host_resolver;
};

struct wscrt_client_bootstrap *wscrt_client_bootstrap_new(struct wscrt_allocator *allocator,
                                                          const struct wscrt_client_bootstrap_options *options);
struct wscrt_client_bootstrap *wscrt_client_bootstrap_acquire(struct wscrt_client_bootstrap *bootstrap);
void wscrt_client_bootstrap_release(struct wscrt_client_bootstrap *bootstrap);
/* Any thread: the group the bootstrap's connections run on (valid while the bootstrap is held). */
struct wscrt_event_loop_group *wscrt_client_bootstrap_get_event_loop_group(const struct wscrt_client_bootstrap *bootstrap);

/* Runs on the channel's loop. On success, channel holds the socket handler in
 * its first slot (and the TLS handler in the second, its handshake done) and
 * the callee adds its own slots. On failure channel is NULL and no shutdown
 * callback follows. */
typedef void(wscrt_client_bootstrap_on_channel_setup_fn)(struct wscrt_client_bootstrap *bootstrap, int error_code,
                                                         struct wscrt_channel *channel, void *user_data);
/* Runs on the channel's loop after a successful setup, once the channel has
 * shut down. The callee then owns the channel and calls wscrt_channel_destroy. */
typedef void(wscrt_client_bootstrap_on_channel_shutdown_fn)(struct wscrt_client_bootstrap *bootstrap,
                                                            int error_code, struct wscrt_channel *channel,
                                                            void *user_data);

struct wscrt_socket_channel_options {
    struct wscrt_client_bootstrap *bootstrap;
    const char *host_name;
    uint32_t port;
    const struct wscrt_socket_options *socket_options; /* NULL = defaults */
    struct wscrt_event_loop *requested_event_loop;      /* NULL = the group picks */
    wscrt_client_bootstrap_on_channel_setup_fn *on_setup;
    wscrt_client_bootstrap_on_channel_shutdown_fn *on_shutdown;
    void *user_data;
    /* NULL = plain TCP. Otherwise the channel gets a TLS handler in slot 1
     * and on_setup runs once the handshake succeeded; a failed handshake
     * reaches on_setup as its error (WSCRT_ERROR_TLS_...). Copied (with a
     * reference on the context); server_name NULL = host_name. Its
     * on_negotiation_result and user_data are not used. */
    const struct wscrt_tls_connection_options *tls_options;
    /* Optional (NULL = not wanted): a buffer of remote_size bytes the bootstrap fills, NUL-terminated,
     * before on_setup runs: the address connected to ("127.0.0.1:8080", "[::1]:8080"), or after a
     * failed connect every address tried, in order, separated by ", " (cut at an entry boundary with
     * ", ..." when it does not fit); left as it was when the name did not resolve. */
    char *remote;
    size_t remote_size;
};

/* Any thread. Fails synchronously only for invalid arguments. */
int wscrt_client_bootstrap_new_socket_channel(const struct wscrt_socket_channel_options *options);

#endif
