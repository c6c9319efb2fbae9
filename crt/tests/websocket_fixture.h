#ifndef WSCRT_TESTS_WEBSOCKET_FIXTURE_H
#define WSCRT_TESTS_WEBSOCKET_FIXTURE_H
/*
 * The shared fixture of the websocket end-to-end C tests: a scripted blocking
 * server on a thread that answers the upgrade and writes exact bytes, a
 * recorder of the client's callbacks, and a client connected through a real
 * event loop, resolver and bootstrap.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "http/http_request.h"
#include "http/websocket.h"
#include "http/websocket_handshake.h"
#include "io/client_bootstrap.h"
#include "io/event_loop_group.h"
#include "io/host_resolver.h"
#include "test_harness.h"

#define WAIT_NS (5ULL * WSCRT_NS_PER_SEC)

/* ---- scripted server ------------------------------------------------------------------------------------------- */

struct server {
    int listen_fd;
    int conn_fd;
    uint16_t port;
    uint8_t last_frame_byte0; /* FIN, RSV and opcode of the last frame s_server_read_frame read */
};

static inline int s_server_start(struct server *server) {
    memset(server, 0, sizeof(*server));
    server->conn_fd = -1;
    server->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(addr);
    if (bind(server->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) || listen(server->listen_fd, 4) ||
        getsockname(server->listen_fd, (struct sockaddr *)&addr, &len)) {
        return -1;
    }
    server->port = ntohs(addr.sin_port);
    return 0;
}

/* Closes the server's sockets; calling it again is harmless. */
static inline void s_server_stop(struct server *server) {
    if (server->conn_fd >= 0) {
        close(server->conn_fd);
        server->conn_fd = -1;
    }
    if (server->listen_fd >= 0) {
        close(server->listen_fd);
        server->listen_fd = -1;
    }
}

static inline int s_server_accept_only(struct server *server) {
    struct timeval timeout = {.tv_sec = 5};
    setsockopt(server->listen_fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    server->conn_fd = accept(server->listen_fd, NULL, NULL);
    if (server->conn_fd < 0) {
        return -1;
    }
    return setsockopt(server->conn_fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
}

/* Reads one request head (up to the blank line) into head. */
static inline int s_server_read_head(struct server *server, char *head, size_t cap) {
    size_t len = 0;
    while (len < cap - 1) {
        ssize_t n = recv(server->conn_fd, head + len, 1, 0);
        if (n <= 0) {
            return -1;
        }
        len += (size_t)n;
        head[len] = '\0';
        if (len >= 4 && memcmp(head + len - 4, "\r\n\r\n", 4) == 0) {
            return 0;
        }
    }
    return -1;
}

/* Reads the upgrade request on the accepted connection and finds the key. */
static inline int s_server_read_upgrade(struct server *server, char *key_out, size_t key_cap) {
    char head[4096];
    if (s_server_read_head(server, head, sizeof(head))) {
        return -1;
    }
    const char *key = strstr(head, "Sec-WebSocket-Key: ");
    if (!key) {
        return -1;
    }
    key += strlen("Sec-WebSocket-Key: ");
    size_t key_len = strcspn(key, "\r");
    if (key_len >= key_cap) {
        return -1;
    }
    memcpy(key_out, key, key_len);
    key_out[key_len] = '\0';
    return 0;
}

/* Accepts, reads the request head, finds the key. Returns 0 on success. */
static inline int s_server_accept(struct server *server, char *key_out, size_t key_cap) {
    if (s_server_accept_only(server)) {
        return -1;
    }
    return s_server_read_upgrade(server, key_out, key_cap);
}

static inline int s_server_send(struct server *server, const void *bytes, size_t len) {
    return send(server->conn_fd, bytes, len, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1;
}

/* A 101 for `key`, with `extra_headers` ("Name: value\r\n" lines, or "") before the blank line. */
static inline int s_server_send_101_with(struct wscrt_allocator *allocator, struct server *server, const char *key,
                                         const char *extra_headers) {
    struct wscrt_byte_buf accept;
    wscrt_byte_buf_init(&accept, allocator, 64);
    wscrt_websocket_compute_accept(wscrt_byte_cursor_from_c_str(key), &accept);
    char response[512];
    int n = snprintf(response, sizeof(response),
                     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Accept: %.*s\r\n%s\r\n",
                     (int)accept.len, (const char *)accept.buffer, extra_headers);
    wscrt_byte_buf_clean_up(&accept);
    return s_server_send(server, response, (size_t)n);
}

static inline int s_server_send_101(struct wscrt_allocator *allocator, struct server *server, const char *key) {
    return s_server_send_101_with(allocator, server, key, "");
}

/* Reads one client frame (masked), unmasks it. Returns the opcode, or -1. */
static inline int s_server_read_frame(struct server *server, uint8_t *payload, size_t cap, size_t *payload_len) {
    uint8_t header[14];
    if (recv(server->conn_fd, header, 2, MSG_WAITALL) != 2 || !(header[1] & 0x80)) {
        return -1;
    }
    server->last_frame_byte0 = header[0];
    uint64_t len = header[1] & 0x7F;
    if (len == 126) {
        if (recv(server->conn_fd, header + 2, 2, MSG_WAITALL) != 2) {
            return -1;
        }
        len = ((uint64_t)header[2] << 8) | header[3];
    } else if (len == 127) {
        return -1; /* not used by these tests */
    }
    uint8_t mask[4];
    if (recv(server->conn_fd, mask, 4, MSG_WAITALL) != 4 || len > cap) {
        return -1;
    }
    if (len > 0 && recv(server->conn_fd, payload, len, MSG_WAITALL) != (ssize_t)len) {
        return -1;
    }
    for (uint64_t i = 0; i < len; ++i) {
        payload[i] ^= mask[i % 4];
    }
    *payload_len = (size_t)len;
    return header[0] & 0x0F;
}

/* ---- client recorder ------------------------------------------------------------------------------------------- */

struct recorder {
    pthread_mutex_t lock;
    pthread_cond_t signal;
    int setup_count;
    int setup_error;
    int setup_status;
    char setup_body[64];
    struct wscrt_websocket *websocket;
    int shutdown_count;
    int shutdown_error;
    int begin_count;
    int complete_count;
    int complete_error;
    uint8_t payload[4096];
    size_t payload_len;
    uint8_t last_opcode;
    int sends_completed;
    int sends_failed;    /* of those, completed with an error */
    int last_send_error; /* the error of the last one that failed */
    int drained_count;       /* on_send_queue_drained calls */
    uint64_t drained_queued; /* the queued bytes in the last of them */
    /* Message mode: one entry per message, payloads appended to `payload`. */
    int message_count;
    uint8_t message_opcodes[16];
    size_t message_lengths[16];
    bool message_more[16];
    uint64_t message_total_lengths[16]; /* each message's message_length */
};

static inline void s_recorder_init(struct recorder *r) {
    memset(r, 0, sizeof(*r));
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->signal, NULL);
}

static inline void s_recorder_clean_up(struct recorder *r) {
    pthread_mutex_destroy(&r->lock);
    pthread_cond_destroy(&r->signal);
}

/* Waits until *counter >= target; returns false on timeout. */
static inline bool s_wait_for(struct recorder *r, const int *counter, int target) {
    uint64_t deadline = wscrt_clock_now_ns() + WAIT_NS;
    pthread_mutex_lock(&r->lock);
    while (*counter < target && wscrt_clock_now_ns() < deadline) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 10 * 1000 * 1000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&r->signal, &r->lock, &ts);
    }
    bool ok = *counter >= target;
    pthread_mutex_unlock(&r->lock);
    return ok;
}

/* Payload bytes delivered so far (written on the loop thread under the lock). */
static inline size_t s_payload_len(struct recorder *r) {
    pthread_mutex_lock(&r->lock);
    size_t len = r->payload_len;
    pthread_mutex_unlock(&r->lock);
    return len;
}

static inline void s_on_setup(const struct wscrt_websocket_setup_data *setup, void *user_data) {
    struct recorder *r = user_data;
    pthread_mutex_lock(&r->lock);
    r->setup_count++;
    r->setup_error = setup->error_code;
    r->websocket = setup->websocket;
    r->setup_status = setup->handshake_response_status ? *setup->handshake_response_status : -1;
    if (setup->handshake_response_body) {
        size_t n = setup->handshake_response_body->len < sizeof(r->setup_body) - 1 ? setup->handshake_response_body->len
                                                                                  : sizeof(r->setup_body) - 1;
        memcpy(r->setup_body, setup->handshake_response_body->ptr, n);
    }
    pthread_cond_broadcast(&r->signal);
    pthread_mutex_unlock(&r->lock);
}

static inline void s_on_shutdown(struct wscrt_websocket *websocket, int error_code, void *user_data) {
    (void)websocket;
    struct recorder *r = user_data;
    pthread_mutex_lock(&r->lock);
    r->shutdown_count++;
    r->shutdown_error = error_code;
    pthread_cond_broadcast(&r->signal);
    pthread_mutex_unlock(&r->lock);
}

static inline bool s_on_begin(struct wscrt_websocket *websocket, const struct wscrt_websocket_incoming_frame *frame,
                       void *user_data) {
    (void)websocket;
    struct recorder *r = user_data;
    pthread_mutex_lock(&r->lock);
    r->begin_count++;
    r->last_opcode = frame->opcode;
    pthread_mutex_unlock(&r->lock);
    return true;
}

static inline bool s_on_payload(struct wscrt_websocket *websocket, const struct wscrt_websocket_incoming_frame *frame,
                         struct wscrt_byte_cursor data, void *user_data) {
    (void)websocket;
    (void)frame;
    struct recorder *r = user_data;
    pthread_mutex_lock(&r->lock);
    if (r->payload_len + data.len <= sizeof(r->payload)) {
        memcpy(r->payload + r->payload_len, data.ptr, data.len);
    }
    r->payload_len += data.len;
    pthread_cond_broadcast(&r->signal);
    pthread_mutex_unlock(&r->lock);
    return true;
}

static inline bool s_on_complete(struct wscrt_websocket *websocket, const struct wscrt_websocket_incoming_frame *frame,
                          int error_code, void *user_data) {
    (void)websocket;
    (void)frame;
    struct recorder *r = user_data;
    pthread_mutex_lock(&r->lock);
    r->complete_count++;
    if (error_code) {
        r->complete_error = error_code;
    }
    pthread_cond_broadcast(&r->signal);
    pthread_mutex_unlock(&r->lock);
    return true;
}

static inline bool s_on_message(struct wscrt_websocket *websocket, const struct wscrt_websocket_incoming_message *m,
                                void *user_data) {
    (void)websocket;
    struct recorder *r = user_data;
    pthread_mutex_lock(&r->lock);
    if (r->message_count < 16) {
        r->message_opcodes[r->message_count] = m->opcode;
        r->message_lengths[r->message_count] = m->payload.len;
        r->message_more[r->message_count] = m->more;
        r->message_total_lengths[r->message_count] = m->message_length;
    }
    if (m->payload.len > 0 && r->payload_len + m->payload.len <= sizeof(r->payload)) {
        memcpy(r->payload + r->payload_len, m->payload.ptr, m->payload.len); /* an empty piece may have no ptr */
    }
    r->payload_len += m->payload.len;
    r->message_count++;
    pthread_cond_broadcast(&r->signal);
    pthread_mutex_unlock(&r->lock);
    return true;
}

static inline void s_on_send_complete(struct wscrt_websocket *websocket, int error_code, void *user_data) {
    (void)websocket;
    struct recorder *r = user_data;
    pthread_mutex_lock(&r->lock);
    r->sends_completed++;
    if (error_code != 0) {
        r->sends_failed++;
        r->last_send_error = error_code;
    }
    pthread_cond_broadcast(&r->signal);
    pthread_mutex_unlock(&r->lock);
}

static inline void s_on_send_queue_drained(struct wscrt_websocket *websocket, void *user_data) {
    struct recorder *r = user_data;
    pthread_mutex_lock(&r->lock);
    r->drained_count++;
    r->drained_queued = wscrt_websocket_get_queued_bytes(websocket);
    pthread_cond_broadcast(&r->signal);
    pthread_mutex_unlock(&r->lock);
}

/* ---- fixture --------------------------------------------------------------------------------------------------- */

struct fixture {
    /* Set before connecting (after s_fixture_init): message mode and limits. */
    bool message_mode;
    uint64_t max_message_size;
    bool partial_messages;
    bool binary_frame_pieces;
    uint64_t send_queue_limit;
    const char *subprotocols; /* Sec-WebSocket-Protocol to offer, NULL = none */
    const struct wscrt_websocket_deflate_config *deflate; /* permessage-deflate to offer, NULL = none */
    uint32_t ping_interval_ms; /* keepalive, 0 = off */
    uint32_t pong_timeout_ms;
    struct wscrt_allocator *allocator;
    struct wscrt_event_loop_group *group;
    struct wscrt_host_resolver *resolver;
    struct wscrt_client_bootstrap *bootstrap;
    struct server server;
    struct recorder recorder;
    pthread_mutex_t group_lock;
    pthread_cond_t group_signal;
    bool group_done;
};

static inline void s_on_group_shutdown(void *user_data) {
    struct fixture *f = user_data;
    pthread_mutex_lock(&f->group_lock);
    f->group_done = true;
    pthread_cond_broadcast(&f->group_signal);
    pthread_mutex_unlock(&f->group_lock);
}

static inline int s_fixture_init(struct fixture *f, struct wscrt_allocator *allocator) {
    memset(f, 0, sizeof(*f));
    f->allocator = allocator;
    pthread_mutex_init(&f->group_lock, NULL);
    pthread_cond_init(&f->group_signal, NULL);
    struct wscrt_shutdown_callback_options shutdown = {s_on_group_shutdown, f};
    f->group = wscrt_event_loop_group_new(allocator, 1, &shutdown);
    f->resolver = wscrt_host_resolver_new(allocator, f->group, 4);
    struct wscrt_client_bootstrap_options options = {.event_loop_group = f->group, .host_resolver = f->resolver};
    f->bootstrap = wscrt_client_bootstrap_new(allocator, &options);
    s_recorder_init(&f->recorder);
    return s_server_start(&f->server);
}

static inline int s_fixture_connect_via(struct fixture *f, bool manual_window, uint64_t window,
                                 const struct wscrt_websocket_proxy_options *proxy, uint16_t target_port);

static inline int s_fixture_connect(struct fixture *f, bool manual_window, uint64_t window) {
    return s_fixture_connect_via(f, manual_window, window, NULL, f->server.port);
}

static inline int s_fixture_connect_via(struct fixture *f, bool manual_window, uint64_t window,
                                 const struct wscrt_websocket_proxy_options *proxy, uint16_t target_port) {
    struct wscrt_http_request *request = wscrt_websocket_handshake_request_new(
        f->allocator, wscrt_byte_cursor_from_c_str("127.0.0.1"), wscrt_byte_cursor_from_c_str("/"));
    if (f->subprotocols) {
        struct wscrt_http_header offer = {
            .name = wscrt_byte_cursor_from_c_str("Sec-WebSocket-Protocol"),
            .value = wscrt_byte_cursor_from_c_str(f->subprotocols),
        };
        wscrt_http_request_add_header(request, offer);
    }
    struct wscrt_websocket_client_connection_options options = {
        .allocator = f->allocator,
        .bootstrap = f->bootstrap,
        .host = "127.0.0.1",
        .port = target_port,
        .proxy_options = proxy,
        .handshake_request = request,
        .manual_window_management = manual_window,
        .initial_window_size = window,
        .handshake_timeout_ms = 3000,
        .on_connection_setup = s_on_setup,
        .on_connection_shutdown = s_on_shutdown,
        .on_incoming_frame_begin = s_on_begin,
        .on_incoming_frame_payload = s_on_payload,
        .on_incoming_frame_complete = s_on_complete,
        .on_incoming_message = f->message_mode ? s_on_message : NULL,
        .max_message_size = f->max_message_size,
        .partial_messages = f->partial_messages,
        .binary_frame_pieces = f->binary_frame_pieces,
        .send_queue_limit = f->send_queue_limit,
        .deflate = f->deflate,
        .ping_interval_ms = f->ping_interval_ms,
        .pong_timeout_ms = f->pong_timeout_ms,
        .on_send_queue_drained = s_on_send_queue_drained,
        .user_data = &f->recorder,
    };
    int result = wscrt_websocket_client_connect(&options);
    wscrt_http_request_destroy(request);
    return result;
}

/* Starts the fixture, connects, and has the server accept and answer 101 (setup is not awaited, so a
 * test can write frames right behind the 101). */
static inline int s_fixture_upgrade_configured(struct fixture *f, struct wscrt_allocator *allocator,
                                               bool manual_window, uint64_t window) {
    ASSERT_SUCCESS(s_fixture_connect(f, manual_window, window));
    char key[64];
    ASSERT_SUCCESS(s_server_accept(&f->server, key, sizeof(key)));
    ASSERT_SUCCESS(s_server_send_101(allocator, &f->server, key));
    return 0;
}

static inline int s_fixture_upgrade(struct fixture *f, struct wscrt_allocator *allocator, bool manual_window,
                                    uint64_t window) {
    ASSERT_SUCCESS(s_fixture_init(f, allocator));
    return s_fixture_upgrade_configured(f, allocator, manual_window, window);
}

/* s_fixture_upgrade without a read window, then waits for the setup, which must have succeeded. */
static inline int s_fixture_open(struct fixture *f, struct wscrt_allocator *allocator) {
    ASSERT_SUCCESS(s_fixture_upgrade(f, allocator, false, 0));
    ASSERT_TRUE(s_wait_for(&f->recorder, &f->recorder.setup_count, 1));
    ASSERT_INT_EQ(0, f->recorder.setup_error);
    return 0;
}

/* Releases everything and waits for the group's threads to finish, so the leak check is exact. */
static inline int s_fixture_clean_up(struct fixture *f) {
    if (f->recorder.websocket) {
        wscrt_websocket_release(f->recorder.websocket);
    }
    s_server_stop(&f->server);
    wscrt_client_bootstrap_release(f->bootstrap);
    wscrt_host_resolver_release(f->resolver);
    wscrt_event_loop_group_release(f->group);
    uint64_t deadline = wscrt_clock_now_ns() + WAIT_NS;
    pthread_mutex_lock(&f->group_lock);
    while (!f->group_done && wscrt_clock_now_ns() < deadline) {
        pthread_mutex_unlock(&f->group_lock);
        usleep(1000);
        pthread_mutex_lock(&f->group_lock);
    }
    bool done = f->group_done;
    pthread_mutex_unlock(&f->group_lock);
    s_recorder_clean_up(&f->recorder);
    pthread_mutex_destroy(&f->group_lock);
    pthread_cond_destroy(&f->group_signal);
    ASSERT_TRUE(done);
    return 0;
}

/* ---- what the client sends when it ends the connection ------------------------------------------------------- */

/* The server reads the client's next frame: a CLOSE whose payload is the status code `status` alone. */
static inline int s_expect_client_close(struct fixture *f, uint16_t status) {
    uint8_t payload[256];
    size_t payload_len = 0;
    ASSERT_INT_EQ(0x8, s_server_read_frame(&f->server, payload, sizeof(payload), &payload_len));
    ASSERT_UINT_EQ(2, payload_len);
    ASSERT_UINT_EQ(status, (unsigned)(payload[0] << 8 | payload[1]));
    return 0;
}

/* The client failed the connection: its CLOSE carries `status`, its shutdown reports `error_code`, and
 * `messages_before` messages were delivered before it. */
static inline int s_expect_client_failure(struct fixture *f, uint16_t status, int error_code, int messages_before) {
    ASSERT_INT_EQ(0, s_expect_client_close(f, status));
    ASSERT_TRUE(s_wait_for(&f->recorder, &f->recorder.shutdown_count, 1));
    ASSERT_INT_EQ(error_code, f->recorder.shutdown_error);
    ASSERT_INT_EQ(messages_before, f->recorder.message_count);
    return 0;
}

#endif
