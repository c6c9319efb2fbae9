/*
 * Client bootstrap: resolve -> connect (each address in turn) -> channel with
 * the socket handler in slot 0 [-> TLS handler in slot 1 and its handshake]
 * -> on_setup; later on_shutdown.
 *
 * Every connection attempt is a s_connection that holds a reference to the
 * bootstrap until its last callback has run, so a user may release the
 * bootstrap right after asking for a channel.
 */
#include "io/client_bootstrap.h"

#include <stdio.h>
#include <string.h>

#include "common/allocator.h"
#include "common/error.h"
#include "common/logging.h"
#include "common/ref_count.h"
#include "io/channel.h"
#include "io/event_loop.h"
#include "io/event_loop_group.h"
#include "io/host_resolver.h"
#include "io/socket.h"
#include "io/socket_handler.h"
#include "io/tls_context.h"
#include "io/tls_handler.h"

struct wscrt_client_bootstrap {
    struct wscrt_allocator *allocator;
    struct wscrt_event_loop_group *event_loop_group;
    struct wscrt_host_resolver *host_resolver;
    struct wscrt_ref_count ref_count;
};

/* One new_socket_channel request. Loop thread only once created. */
struct s_connection {
    struct wscrt_allocator *allocator;
    struct wscrt_client_bootstrap *bootstrap; /* a reference */
    struct wscrt_event_loop *loop;
    char *host_name;
    uint32_t port;
    struct wscrt_socket_options socket_options;
    wscrt_client_bootstrap_on_channel_setup_fn *on_setup;
    wscrt_client_bootstrap_on_channel_shutdown_fn *on_shutdown;
    void *user_data;

    char *remote; /* the caller's buffer, or NULL */
    size_t remote_size;

    struct wscrt_host_address *addresses;
    size_t address_count;
    size_t next_address;
    int last_error;

    struct wscrt_socket *socket; /* the attempt in progress */
    struct wscrt_task failure_task; /* reports a failure that happened off the loop */
    int failure_error;

    /* TLS: a copy of the user's options (ctx referenced, strings owned). */
    bool use_tls;
    struct wscrt_tls_connection_options tls_options;
    char *tls_server_name;
    char *tls_alpn_list;
    struct wscrt_channel *channel;
    int tls_error; /* a failed handshake, reported once the channel is down */
};

/*
 * What a connection keeps once its setup was reported, until its channel has shut down: the rest of
 * s_connection (addresses, host name, socket and TLS options) is only for the setup, and goes then, so that
 * an open connection holds these few words instead.
 */
struct s_established {
    struct wscrt_allocator *allocator;
    struct wscrt_client_bootstrap *bootstrap; /* a reference */
    struct wscrt_event_loop *loop;
    wscrt_client_bootstrap_on_channel_shutdown_fn *on_shutdown;
    void *user_data;
};

/* ---- the bootstrap ----------------------------------------------------- */

static void s_bootstrap_on_zero(void *object) {
    struct wscrt_client_bootstrap *bootstrap = object;
    WSCRT_LOGF_DEBUG(WSCRT_LS_IO_BOOTSTRAP, "id=%p: destroying", (void *)bootstrap);
    wscrt_host_resolver_release(bootstrap->host_resolver);
    wscrt_event_loop_group_release(bootstrap->event_loop_group);
    wscrt_mem_release(bootstrap->allocator, bootstrap);
}

struct wscrt_client_bootstrap *wscrt_client_bootstrap_new(struct wscrt_allocator *allocator,
                                                          const struct wscrt_client_bootstrap_options *options) {
    if (allocator == NULL || options == NULL || options->event_loop_group == NULL || options->host_resolver == NULL) {
        wscrt_raise_error(WSCRT_ERROR_INVALID_ARGUMENT);
        return NULL;
    }
    struct wscrt_client_bootstrap *bootstrap = wscrt_mem_calloc(allocator, 1, sizeof(struct wscrt_client_bootstrap));
    bootstrap->allocator = allocator;
    bootstrap->event_loop_group = wscrt_event_loop_group_acquire(options->event_loop_group);
    bootstrap->host_resolver = wscrt_host_resolver_acquire(options->host_resolver);
    wscrt_ref_count_init(&bootstrap->ref_count, bootstrap, s_bootstrap_on_zero);
    WSCRT_LOGF_DEBUG(WSCRT_LS_IO_BOOTSTRAP, "id=%p: created", (void *)bootstrap);
    return bootstrap;
}

struct wscrt_client_bootstrap *wscrt_client_bootstrap_acquire(struct wscrt_client_bootstrap *bootstrap) {
    if (bootstrap != NULL) {
        wscrt_ref_count_acquire(&bootstrap->ref_count);
    }
    return bootstrap;
}

void wscrt_client_bootstrap_release(struct wscrt_client_bootstrap *bootstrap) {
    if (bootstrap != NULL) {
        wscrt_ref_count_release(&bootstrap->ref_count);
    }
}

struct wscrt_event_loop_group *wscrt_client_bootstrap_get_event_loop_group(
    const struct wscrt_client_bootstrap *bootstrap) {
    return bootstrap->event_loop_group;
}

/* ---- one connection ---------------------------------------------------- */

static char *s_copy_string(struct wscrt_allocator *allocator, const char *text) {
    if (text == NULL) {
        return NULL;
    }
    size_t len = strlen(text);
    char *copy = wscrt_mem_acquire(allocator, len + 1);
    memcpy(copy, text, len + 1);
    return copy;
}

static void s_connection_destroy(struct s_connection *connection) {
    struct wscrt_client_bootstrap *bootstrap = connection->bootstrap;
    if (connection->use_tls) {
        wscrt_tls_ctx_release(connection->tls_options.ctx);
        wscrt_mem_release(connection->allocator, connection->tls_server_name);
        wscrt_mem_release(connection->allocator, connection->tls_alpn_list);
    }
    wscrt_mem_release(connection->allocator, connection->addresses);
    wscrt_mem_release(connection->allocator, connection->host_name);
    wscrt_mem_release(connection->allocator, connection);
    wscrt_client_bootstrap_release(bootstrap);
}

static void s_setup_failed(struct s_connection *connection, int error_code) {
    if (error_code == 0) {
        error_code = WSCRT_ERROR_UNKNOWN;
    }
    WSCRT_LOGF_DEBUG(WSCRT_LS_IO_BOOTSTRAP, "id=%p: connection to %s port %u failed, error=%s",
                     (void *)connection->bootstrap, connection->host_name, (unsigned)connection->port,
                     wscrt_error_name(error_code));
    connection->on_setup(connection->bootstrap, error_code, NULL, connection->user_data);
    s_connection_destroy(connection);
}

/* A channel whose setup was not reported (the TLS handshake never succeeded: the user never saw it) shut down;
 * one that was set up reports its shutdown through s_established instead (s_report_channel). */
static void s_on_channel_shutdown(struct wscrt_channel *channel, int error_code, void *user_data) {
    struct s_connection *connection = user_data;
    WSCRT_LOGF_DEBUG(WSCRT_LS_IO_BOOTSTRAP, "id=%p: channel %p shut down before setup, error=%s",
                     (void *)connection->bootstrap, (void *)channel, wscrt_error_name(error_code));
    wscrt_event_loop_add_load(connection->loop, -1);
    wscrt_channel_destroy(channel);
    s_setup_failed(connection, connection->tls_error != 0 ? connection->tls_error : error_code);
}

static void s_on_established_channel_shutdown(struct wscrt_channel *channel, int error_code, void *user_data) {
    struct s_established *established = user_data;
    WSCRT_LOGF_DEBUG(WSCRT_LS_IO_BOOTSTRAP, "id=%p: channel %p shut down, error=%s", (void *)established->bootstrap,
                     (void *)channel, wscrt_error_name(error_code));
    wscrt_event_loop_add_load(established->loop, -1);
    established->on_shutdown(established->bootstrap, error_code, channel, established->user_data);
    struct wscrt_client_bootstrap *bootstrap = established->bootstrap;
    wscrt_mem_release(established->allocator, established);
    wscrt_client_bootstrap_release(bootstrap);
}

/* The channel is set up: the channel's shutdown goes to a record of what it needs, then the caller's
 * on_setup runs, and the setup state is freed. */
static void s_report_channel(struct s_connection *connection, struct wscrt_channel *channel) {
    struct s_established *established = wscrt_mem_acquire(connection->allocator, sizeof(struct s_established));
    *established = (struct s_established){
        .allocator = connection->allocator,
        .bootstrap = wscrt_client_bootstrap_acquire(connection->bootstrap),
        .loop = connection->loop,
        .on_shutdown = connection->on_shutdown,
        .user_data = connection->user_data,
    };
    wscrt_channel_set_on_shutdown_completed(channel, s_on_established_channel_shutdown, established);
    connection->on_setup(connection->bootstrap, 0, channel, connection->user_data);
    s_connection_destroy(connection);
}

static void s_on_tls_negotiated(struct wscrt_channel_handler *handler, int error_code, void *user_data) {
    (void)handler;
    struct s_connection *connection = user_data;
    if (error_code != 0) {
        connection->tls_error = error_code; /* the channel shuts down next */
        return;
    }
    s_report_channel(connection, connection->channel);
}

/* Slot 1: the TLS handler, then its handshake; on_setup waits for the result. */
static int s_add_tls(struct s_connection *connection, struct wscrt_channel *channel) {
    struct wscrt_channel_slot *slot = wscrt_channel_slot_new(channel);
    struct wscrt_channel_handler *handler =
        slot != NULL ? wscrt_tls_client_handler_new(connection->allocator, &connection->tls_options, slot) : NULL;
    if (handler == NULL) {
        return WSCRT_OP_ERR;
    }
    return wscrt_tls_client_handler_start_negotiation(handler);
}

/* The socket is connected: build the channel and hand it over. */
static void s_setup_channel(struct s_connection *connection, struct wscrt_socket *socket) {
    struct wscrt_channel_options channel_options = {
        .event_loop = connection->loop,
        .on_shutdown_completed = s_on_channel_shutdown,
        .user_data = connection,
    };
    struct wscrt_channel *channel = wscrt_channel_new(connection->allocator, &channel_options);
    if (channel == NULL) {
        int error_code = wscrt_last_error();
        wscrt_socket_destroy(socket);
        s_setup_failed(connection, error_code);
        return;
    }
    struct wscrt_channel_slot *slot = wscrt_channel_slot_new(channel);
    struct wscrt_channel_handler *handler =
        slot != NULL ? wscrt_socket_handler_new(connection->allocator, socket, slot) : NULL;
    if (handler == NULL) {
        int error_code = wscrt_last_error();
        wscrt_channel_destroy(channel);
        wscrt_socket_destroy(socket); /* not taken over on failure */
        s_setup_failed(connection, error_code);
        return;
    }
    wscrt_event_loop_add_load(connection->loop, 1);
    WSCRT_LOGF_DEBUG(WSCRT_LS_IO_BOOTSTRAP, "id=%p: channel %p set up to %s port %u", (void *)connection->bootstrap,
                     (void *)channel, connection->host_name, (unsigned)connection->port);
    if (connection->use_tls) {
        connection->channel = channel;
        if (s_add_tls(connection, channel)) {
            /* Nothing started yet: no shutdown to wait for. */
            int error_code = wscrt_last_error();
            wscrt_event_loop_add_load(connection->loop, -1);
            wscrt_channel_destroy(channel);
            s_setup_failed(connection, error_code);
        }
        return;
    }
    s_report_channel(connection, channel);
}

/* Writes addresses[first, end) as "a:port, [b]:port" into the caller's buffer (see the header). */
static void s_note_remote(struct s_connection *connection, size_t first, size_t end) {
    if (connection->remote == NULL || connection->remote_size == 0) {
        return;
    }
    size_t used = 0;
    connection->remote[0] = '\0';
    for (size_t i = first; i < end; ++i) {
        const struct wscrt_host_address *address = &connection->addresses[i];
        bool v6 = address->family == WSCRT_ADDRESS_IPV6;
        char entry[64];
        int len = snprintf(entry, sizeof(entry), "%s%s%s%s:%u", i > first ? ", " : "", v6 ? "[" : "",
                           address->address, v6 ? "]" : "", (unsigned)connection->port);
        /* Room for this entry and, unless it is the last, a later ", ..." */
        size_t reserve = i + 1 < end ? sizeof(", ...") - 1 : 0;
        if (len < 0 || used + (size_t)len + reserve >= connection->remote_size) {
            if (i > first && used + sizeof(", ...") <= connection->remote_size) {
                memcpy(connection->remote + used, ", ...", sizeof(", ..."));
            }
            return;
        }
        memcpy(connection->remote + used, entry, (size_t)len + 1);
        used += (size_t)len;
    }
}

static void s_try_next_address(struct s_connection *connection);

static void s_on_socket_connected(struct wscrt_socket *socket, int error_code, void *user_data) {
    struct s_connection *connection = user_data;
    connection->socket = NULL;
    if (error_code != 0) {
        WSCRT_LOGF_DEBUG(WSCRT_LS_IO_BOOTSTRAP, "id=%p: connect to %s failed, error=%s",
                         (void *)connection->bootstrap, connection->addresses[connection->next_address - 1].address,
                         wscrt_error_name(error_code));
        connection->last_error = error_code;
        wscrt_socket_destroy(socket);
        s_try_next_address(connection);
        return;
    }
    s_note_remote(connection, connection->next_address - 1, connection->next_address);
    s_setup_channel(connection, socket);
}

static void s_try_next_address(struct s_connection *connection) {
    while (connection->next_address < connection->address_count) {
        const struct wscrt_host_address *address = &connection->addresses[connection->next_address++];
        struct wscrt_socket *socket = wscrt_socket_new(connection->allocator, &connection->socket_options);
        if (socket == NULL) {
            connection->last_error = wscrt_last_error();
            continue;
        }
        connection->socket = socket;
        if (wscrt_socket_connect(socket, address, connection->port, connection->loop, s_on_socket_connected,
                                 connection) == WSCRT_OP_SUCCESS) {
            return; /* s_on_socket_connected continues */
        }
        connection->last_error = wscrt_last_error();
        connection->socket = NULL;
        wscrt_socket_destroy(socket);
    }
    s_note_remote(connection, 0, connection->next_address);
    s_setup_failed(connection, connection->last_error);
}

static bool s_address_allowed(const struct s_connection *connection, const struct wscrt_host_address *address) {
    switch (connection->socket_options.domain) {
        case WSCRT_SOCKET_DOMAIN_IPV4:
            return address->family == WSCRT_ADDRESS_IPV4;
        case WSCRT_SOCKET_DOMAIN_IPV6:
            return address->family == WSCRT_ADDRESS_IPV6;
        default:
            return true;
    }
}

static void s_on_host_resolved(struct wscrt_host_resolver *resolver, const char *host_name, int error_code,
                               const struct wscrt_host_address *addresses, size_t count, void *user_data) {
    (void)resolver;
    (void)host_name;
    struct s_connection *connection = user_data;
    if (error_code != 0 || count == 0) {
        s_setup_failed(connection, error_code != 0 ? error_code : WSCRT_ERROR_IO_DNS_NO_ADDRESS);
        return;
    }
    connection->addresses = wscrt_mem_calloc(connection->allocator, count, sizeof(struct wscrt_host_address));
    for (size_t i = 0; i < count; ++i) {
        if (s_address_allowed(connection, &addresses[i])) {
            connection->addresses[connection->address_count++] = addresses[i];
        }
    }
    WSCRT_LOGF_DEBUG(WSCRT_LS_IO_BOOTSTRAP, "id=%p: %s resolved to %zu addresses, %zu usable",
                     (void *)connection->bootstrap, connection->host_name, count, connection->address_count);
    if (connection->address_count == 0) {
        s_setup_failed(connection, WSCRT_ERROR_IO_DNS_NO_ADDRESS);
        return;
    }
    connection->last_error = WSCRT_ERROR_IO_SOCKET_CONNECTION_REFUSED;
    s_try_next_address(connection);
}

static void s_on_failure_task(struct wscrt_task *task, void *arg, enum wscrt_task_status status) {
    (void)task;
    (void)status; /* even when the loop is going away, the callback must run once */
    struct s_connection *connection = arg;
    s_setup_failed(connection, connection->failure_error);
}

int wscrt_client_bootstrap_new_socket_channel(const struct wscrt_socket_channel_options *options) {
    if (options == NULL || options->bootstrap == NULL || options->host_name == NULL ||
        options->host_name[0] == '\0' || options->port > 65535 || options->on_setup == NULL ||
        options->on_shutdown == NULL || (options->tls_options != NULL && options->tls_options->ctx == NULL)) {
        return wscrt_raise_error(WSCRT_ERROR_INVALID_ARGUMENT);
    }
    struct wscrt_client_bootstrap *bootstrap = options->bootstrap;
    struct wscrt_allocator *allocator = bootstrap->allocator;
    struct wscrt_event_loop *loop = options->requested_event_loop;
    if (loop == NULL) {
        loop = wscrt_event_loop_group_get_next_loop(bootstrap->event_loop_group);
        if (loop == NULL) {
            return wscrt_raise_error(WSCRT_ERROR_IO_EVENT_LOOP_SHUTDOWN);
        }
    }

    struct s_connection *connection = wscrt_mem_calloc(allocator, 1, sizeof(struct s_connection));
    connection->allocator = allocator;
    connection->bootstrap = wscrt_client_bootstrap_acquire(bootstrap);
    connection->loop = loop;
    size_t host_len = strlen(options->host_name);
    connection->host_name = wscrt_mem_acquire(allocator, host_len + 1);
    memcpy(connection->host_name, options->host_name, host_len + 1);
    connection->port = options->port;
    if (options->socket_options != NULL) {
        connection->socket_options = *options->socket_options;
    } else {
        wscrt_socket_options_init_default(&connection->socket_options);
    }
    connection->on_setup = options->on_setup;
    connection->on_shutdown = options->on_shutdown;
    connection->user_data = options->user_data;
    connection->remote = options->remote;
    connection->remote_size = options->remote_size;
    if (options->tls_options != NULL) {
        connection->use_tls = true;
        connection->tls_options = *options->tls_options;
        connection->tls_options.ctx = wscrt_tls_ctx_acquire(options->tls_options->ctx);
        const char *server_name = options->tls_options->server_name;
        connection->tls_server_name = s_copy_string(allocator, server_name != NULL ? server_name : options->host_name);
        connection->tls_alpn_list = s_copy_string(allocator, options->tls_options->alpn_list);
        connection->tls_options.server_name = connection->tls_server_name;
        connection->tls_options.alpn_list = connection->tls_alpn_list;
        if (connection->tls_options.host == NULL) {
            connection->tls_options.host = connection->host_name;
            connection->tls_options.port = connection->port;
        }
        connection->tls_options.on_negotiation_result = s_on_tls_negotiated;
        connection->tls_options.user_data = connection;
    }

    WSCRT_LOGF_DEBUG(WSCRT_LS_IO_BOOTSTRAP, "id=%p: connecting to %s port %u on loop %p", (void *)bootstrap,
                     connection->host_name, (unsigned)connection->port, (void *)loop);
    if (wscrt_host_resolver_resolve(bootstrap->host_resolver, connection->host_name, loop, s_on_host_resolved,
                                    connection)) {
        /* Only invalid arguments fail synchronously; anything else reaches
         * the user through on_setup, from the loop. */
        connection->failure_error = wscrt_last_error();
        wscrt_task_init(&connection->failure_task, s_on_failure_task, connection);
        wscrt_event_loop_schedule_task_now(loop, &connection->failure_task);
    }
    return WSCRT_OP_SUCCESS;
}
