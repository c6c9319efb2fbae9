/*
 * The websocket connection end to end in C (so the sanitizer build covers
 * websocket_*.c): a scripted blocking server on a thread answers the upgrade and
 * writes exact bytes; the client's callbacks are recorded and checked.
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
};

static int s_server_start(struct server *server) {
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

static void s_server_stop(struct server *server) {
    if (server->conn_fd >= 0) {
        close(server->conn_fd);
    }
    close(server->listen_fd);
}

static int s_server_accept_only(struct server *server) {
    struct timeval timeout = {.tv_sec = 5};
    setsockopt(server->listen_fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    server->conn_fd = accept(server->listen_fd, NULL, NULL);
    if (server->conn_fd < 0) {
        return -1;
    }
    return setsockopt(server->conn_fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
}

/* Reads one request head (up to the blank line) into head. */
static int s_server_read_head(struct server *server, char *head, size_t cap) {
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
static int s_server_read_upgrade(struct server *server, char *key_out, size_t key_cap) {
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
static int s_server_accept(struct server *server, char *key_out, size_t key_cap) {
    if (s_server_accept_only(server)) {
        return -1;
    }
    return s_server_read_upgrade(server, key_out, key_cap);
}

static int s_server_send(struct server *server, const void *bytes, size_t len) {
    return send(server->conn_fd, bytes, len, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1;
}

/* A 101 with the right accept and `extra` header lines ("Name: value\r\n"...). */
static int s_server_send_101_with(struct wscrt_allocator *allocator, struct server *server, const char *key,
                                  const char *extra) {
    struct wscrt_byte_buf accept;
    wscrt_byte_buf_init(&accept, allocator, 64);
    wscrt_websocket_compute_accept(wscrt_byte_cursor_from_c_str(key), &accept);
    char response[512];
    int n = snprintf(response, sizeof(response),
                     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Accept: %.*s\r\n%s\r\n",
                     (int)accept.len, (const char *)accept.buffer, extra);
    wscrt_byte_buf_clean_up(&accept);
    return s_server_send(server, response, (size_t)n);
}

static int s_server_send_101(struct wscrt_allocator *allocator, struct server *server, const char *key) {
    return s_server_send_101_with(allocator, server, key, "");
}

/* Reads one client frame (masked), unmasks it. Returns the opcode, or -1. */
static int s_server_read_frame(struct server *server, uint8_t *payload, size_t cap, size_t *payload_len) {
    uint8_t header[14];
    if (recv(server->conn_fd, header, 2, MSG_WAITALL) != 2 || !(header[1] & 0x80)) {
        return -1;
    }
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
};

static void s_recorder_init(struct recorder *r) {
    memset(r, 0, sizeof(*r));
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->signal, NULL);
}

static void s_recorder_clean_up(struct recorder *r) {
    pthread_mutex_destroy(&r->lock);
    pthread_cond_destroy(&r->signal);
}

/* Waits until *counter >= target; returns false on timeout. */
static bool s_wait_for(struct recorder *r, const int *counter, int target) {
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
static size_t s_payload_len(struct recorder *r) {
    pthread_mutex_lock(&r->lock);
    size_t len = r->payload_len;
    pthread_mutex_unlock(&r->lock);
    return len;
}

static void s_on_setup(const struct wscrt_websocket_setup_data *setup, void *user_data) {
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

static void s_on_shutdown(struct wscrt_websocket *websocket, int error_code, void *user_data) {
    (void)websocket;
    struct recorder *r = user_data;
    pthread_mutex_lock(&r->lock);
    r->shutdown_count++;
    r->shutdown_error = error_code;
    pthread_cond_broadcast(&r->signal);
    pthread_mutex_unlock(&r->lock);
}

static bool s_on_begin(struct wscrt_websocket *websocket, const struct wscrt_websocket_incoming_frame *frame,
                       void *user_data) {
    (void)websocket;
    struct recorder *r = user_data;
    pthread_mutex_lock(&r->lock);
    r->begin_count++;
    r->last_opcode = frame->opcode;
    pthread_mutex_unlock(&r->lock);
    return true;
}

static bool s_on_payload(struct wscrt_websocket *websocket, const struct wscrt_websocket_incoming_frame *frame,
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

static bool s_on_complete(struct wscrt_websocket *websocket, const struct wscrt_websocket_incoming_frame *frame,
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

static void s_on_send_complete(struct wscrt_websocket *websocket, int error_code, void *user_data) {
    (void)websocket;
    (void)error_code;
    struct recorder *r = user_data;
    pthread_mutex_lock(&r->lock);
    r->sends_completed++;
    pthread_cond_broadcast(&r->signal);
    pthread_mutex_unlock(&r->lock);
}

/* ---- fixture --------------------------------------------------------------------------------------------------- */

struct fixture {
    struct wscrt_allocator *allocator;
    struct wscrt_event_loop_group *group;
    struct wscrt_host_resolver *resolver;
    struct wscrt_client_bootstrap *bootstrap;
    struct server server;
    struct recorder recorder;
    pthread_mutex_t group_lock;
    pthread_cond_t group_signal;
    bool group_done;
    const char *subprotocols; /* set after init: the request's Sec-WebSocket-Protocol; NULL = none */
};

static void s_on_group_shutdown(void *user_data) {
    struct fixture *f = user_data;
    pthread_mutex_lock(&f->group_lock);
    f->group_done = true;
    pthread_cond_broadcast(&f->group_signal);
    pthread_mutex_unlock(&f->group_lock);
}

static int s_fixture_init(struct fixture *f, struct wscrt_allocator *allocator) {
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

static int s_fixture_connect_via(struct fixture *f, bool manual_window, uint64_t window,
                                 const struct wscrt_websocket_proxy_options *proxy, uint16_t target_port);

static int s_fixture_connect(struct fixture *f, bool manual_window, uint64_t window) {
    return s_fixture_connect_via(f, manual_window, window, NULL, f->server.port);
}

static int s_fixture_connect_via(struct fixture *f, bool manual_window, uint64_t window,
                                 const struct wscrt_websocket_proxy_options *proxy, uint16_t target_port) {
    struct wscrt_http_request *request = wscrt_websocket_handshake_request_new(
        f->allocator, wscrt_byte_cursor_from_c_str("127.0.0.1"), wscrt_byte_cursor_from_c_str("/"));
    if (f->subprotocols) {
        struct wscrt_http_header protocol = {wscrt_byte_cursor_from_c_str("Sec-WebSocket-Protocol"),
                                             wscrt_byte_cursor_from_c_str(f->subprotocols)};
        wscrt_http_request_add_header(request, protocol);
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
        .user_data = &f->recorder,
    };
    int result = wscrt_websocket_client_connect(&options);
    wscrt_http_request_destroy(request);
    return result;
}

/* Starts the fixture, connects, and has the server accept and answer 101 (setup is not awaited, so a
 * test can write frames right behind the 101). */
static int s_fixture_upgrade(struct fixture *f, struct wscrt_allocator *allocator, bool manual_window,
                             uint64_t window) {
    ASSERT_SUCCESS(s_fixture_init(f, allocator));
    ASSERT_SUCCESS(s_fixture_connect(f, manual_window, window));
    char key[64];
    ASSERT_SUCCESS(s_server_accept(&f->server, key, sizeof(key)));
    ASSERT_SUCCESS(s_server_send_101(allocator, &f->server, key));
    return 0;
}

/* Releases everything and waits for the group's threads to finish, so the leak check is exact. */
static int s_fixture_clean_up(struct fixture *f) {
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

/* ---- tests ----------------------------------------------------------------------------------------------------- */

static int s_test_frames_flow_and_peer_close_is_clean(struct wscrt_allocator *allocator) {
    struct fixture f;
    ASSERT_SUCCESS(s_fixture_upgrade(&f, allocator, false, 0));
    ASSERT_TRUE(s_wait_for(&f.recorder, &f.recorder.setup_count, 1));
    ASSERT_INT_EQ(0, f.recorder.setup_error);
    ASSERT_INT_EQ(101, f.recorder.setup_status);

    /* TEXT "hi", then PING "p": the client answers the PING with PONG "p". */
    static const uint8_t frames[] = {0x81, 0x02, 'h', 'i', 0x89, 0x01, 'p'};
    ASSERT_SUCCESS(s_server_send(&f.server, frames, sizeof(frames)));
    uint8_t payload[256];
    size_t payload_len = 0;
    ASSERT_INT_EQ(0xA, s_server_read_frame(&f.server, payload, sizeof(payload), &payload_len));
    ASSERT_BYTES_EQ("p", 1, payload, payload_len);
    ASSERT_TRUE(s_wait_for(&f.recorder, &f.recorder.complete_count, 2));
    ASSERT_BYTES_EQ("hip", 3, f.recorder.payload, f.recorder.payload_len);

    /* A client frame arrives masked and intact. */
    struct wscrt_websocket_send_frame_options send = {
        .opcode = WSCRT_WEBSOCKET_OPCODE_BINARY,
        .fin = true,
        .payload = wscrt_byte_cursor_from_c_str("binary payload"),
        .on_complete = s_on_send_complete,
        .user_data = &f.recorder,
    };
    ASSERT_SUCCESS(wscrt_websocket_send_frame(f.recorder.websocket, &send));
    ASSERT_INT_EQ(0x2, s_server_read_frame(&f.server, payload, sizeof(payload), &payload_len));
    ASSERT_BYTES_EQ("binary payload", 14, payload, payload_len);
    ASSERT_TRUE(s_wait_for(&f.recorder, &f.recorder.sends_completed, 1));

    /* Server CLOSE 1001: echoed with the same code, then a clean shutdown. */
    static const uint8_t close_frame[] = {0x88, 0x02, 0x03, 0xE9};
    ASSERT_SUCCESS(s_server_send(&f.server, close_frame, sizeof(close_frame)));
    ASSERT_INT_EQ(0x8, s_server_read_frame(&f.server, payload, sizeof(payload), &payload_len));
    ASSERT_BYTES_EQ("\x03\xE9", 2, payload, payload_len);
    ASSERT_TRUE(s_wait_for(&f.recorder, &f.recorder.shutdown_count, 1));
    ASSERT_INT_EQ(0, f.recorder.shutdown_error);
    ASSERT_INT_EQ(1, f.recorder.setup_count);

    /* A send after shutdown completes with an error instead of being lost. */
    send.opcode = WSCRT_WEBSOCKET_OPCODE_TEXT;
    ASSERT_SUCCESS(wscrt_websocket_send_frame(f.recorder.websocket, &send));
    ASSERT_TRUE(s_wait_for(&f.recorder, &f.recorder.sends_completed, 2));
    return s_fixture_clean_up(&f);
}

static int s_test_masked_server_frame_fails_with_close_1002(struct wscrt_allocator *allocator) {
    struct fixture f;
    ASSERT_SUCCESS(s_fixture_upgrade(&f, allocator, false, 0));
    static const uint8_t masked[] = {0x81, 0x82, 1, 2, 3, 4, 'h' ^ 1, 'i' ^ 2};
    ASSERT_SUCCESS(s_server_send(&f.server, masked, sizeof(masked)));
    uint8_t payload[256];
    size_t payload_len = 0;
    ASSERT_INT_EQ(0x8, s_server_read_frame(&f.server, payload, sizeof(payload), &payload_len));
    ASSERT_BYTES_EQ("\x03\xEA", 2, payload, payload_len);
    ASSERT_TRUE(s_wait_for(&f.recorder, &f.recorder.shutdown_count, 1));
    ASSERT_INT_EQ(WSCRT_ERROR_WEBSOCKET_MASKED_FRAME, f.recorder.shutdown_error);
    ASSERT_INT_EQ(0, f.recorder.begin_count);
    return s_fixture_clean_up(&f);
}

static int s_test_rejected_upgrade_reports_status_and_body(struct wscrt_allocator *allocator) {
    struct fixture f;
    ASSERT_SUCCESS(s_fixture_init(&f, allocator));
    ASSERT_SUCCESS(s_fixture_connect(&f, false, 0));
    char key[64];
    ASSERT_SUCCESS(s_server_accept(&f.server, key, sizeof(key)));
    static const char response[] = "HTTP/1.1 403 Forbidden\r\nContent-Length: 8\r\n\r\ngo away!";
    ASSERT_SUCCESS(s_server_send(&f.server, response, sizeof(response) - 1));
    ASSERT_TRUE(s_wait_for(&f.recorder, &f.recorder.setup_count, 1));
    ASSERT_INT_EQ(WSCRT_ERROR_WEBSOCKET_UPGRADE_FAILURE, f.recorder.setup_error);
    ASSERT_INT_EQ(403, f.recorder.setup_status);
    ASSERT_TRUE(strcmp("go away!", f.recorder.setup_body) == 0);
    ASSERT_TRUE(f.recorder.websocket == NULL);
    usleep(50 * 1000);
    ASSERT_INT_EQ(0, f.recorder.shutdown_count); /* never a shutdown after a failed setup */
    return s_fixture_clean_up(&f);
}

static int s_test_read_window_limits_delivery_exactly(struct wscrt_allocator *allocator) {
    struct fixture f;
    ASSERT_SUCCESS(s_fixture_upgrade(&f, allocator, true, 10));
    uint8_t frame[2 + 100];
    frame[0] = 0x82;
    frame[1] = 100;
    for (int i = 0; i < 100; ++i) {
        frame[2 + i] = (uint8_t)i;
    }
    ASSERT_SUCCESS(s_server_send(&f.server, frame, sizeof(frame)));
    ASSERT_TRUE(s_wait_for(&f.recorder, &f.recorder.setup_count, 1));
    int target = 10;
    uint64_t deadline = wscrt_clock_now_ns() + WAIT_NS;
    while (s_payload_len(&f.recorder) < (size_t)target && wscrt_clock_now_ns() < deadline) {
        usleep(1000);
    }
    usleep(100 * 1000); /* nothing more may arrive */
    ASSERT_UINT_EQ(10, s_payload_len(&f.recorder));
    wscrt_websocket_increment_read_window(f.recorder.websocket, 90);
    ASSERT_TRUE(s_wait_for(&f.recorder, &f.recorder.complete_count, 1));
    ASSERT_UINT_EQ(100, f.recorder.payload_len);
    ASSERT_BYTES_EQ(frame + 2, 100, f.recorder.payload, 100);
    return s_fixture_clean_up(&f);
}

/* The server plays the proxy: it checks the CONNECT request, answers 200, then serves the websocket. */
static int s_test_proxy_connect_tunnels_to_the_target(struct wscrt_allocator *allocator) {
    struct fixture f;
    ASSERT_SUCCESS(s_fixture_init(&f, allocator));
    struct wscrt_websocket_proxy_options proxy = {
        .host = "127.0.0.1",
        .port = f.server.port,
        .basic_auth = true,
        .username = "user",
        .password = "pass",
    };
    ASSERT_SUCCESS(s_fixture_connect_via(&f, false, 0, &proxy, 4444));
    ASSERT_SUCCESS(s_server_accept_only(&f.server));
    char head[4096];
    ASSERT_SUCCESS(s_server_read_head(&f.server, head, sizeof(head)));
    ASSERT_TRUE(strncmp(head, "CONNECT 127.0.0.1:4444 HTTP/1.1\r\n", strlen("CONNECT 127.0.0.1:4444 HTTP/1.1\r\n")) == 0);
    ASSERT_TRUE(strstr(head, "\r\nHost: 127.0.0.1:4444\r\n") != NULL);
    ASSERT_TRUE(strstr(head, "\r\nProxy-Authorization: Basic dXNlcjpwYXNz\r\n") != NULL);
    static const char established[] = "HTTP/1.1 200 Connection established\r\n\r\n";
    ASSERT_SUCCESS(s_server_send(&f.server, established, sizeof(established) - 1));
    char key[64];
    ASSERT_SUCCESS(s_server_read_upgrade(&f.server, key, sizeof(key)));
    ASSERT_SUCCESS(s_server_send_101(allocator, &f.server, key));
    ASSERT_TRUE(s_wait_for(&f.recorder, &f.recorder.setup_count, 1));
    ASSERT_INT_EQ(0, f.recorder.setup_error);
    static const uint8_t text[] = {0x81, 0x02, 'o', 'k'};
    ASSERT_SUCCESS(s_server_send(&f.server, text, sizeof(text)));
    ASSERT_TRUE(s_wait_for(&f.recorder, &f.recorder.complete_count, 1));
    ASSERT_BYTES_EQ("ok", 2, f.recorder.payload, f.recorder.payload_len);
    return s_fixture_clean_up(&f);
}

static int s_test_proxy_407_fails_setup_with_its_status(struct wscrt_allocator *allocator) {
    struct fixture f;
    ASSERT_SUCCESS(s_fixture_init(&f, allocator));
    struct wscrt_websocket_proxy_options proxy = {.host = "127.0.0.1", .port = f.server.port};
    ASSERT_SUCCESS(s_fixture_connect_via(&f, false, 0, &proxy, 4444));
    ASSERT_SUCCESS(s_server_accept_only(&f.server));
    char head[4096];
    ASSERT_SUCCESS(s_server_read_head(&f.server, head, sizeof(head)));
    static const char denied[] = "HTTP/1.1 407 Proxy Authentication Required\r\n"
                                 "Proxy-Authenticate: Basic realm=\"x\"\r\nContent-Length: 6\r\n\r\ndenied";
    ASSERT_SUCCESS(s_server_send(&f.server, denied, sizeof(denied) - 1));
    ASSERT_TRUE(s_wait_for(&f.recorder, &f.recorder.setup_count, 1));
    ASSERT_INT_EQ(WSCRT_ERROR_HTTP_PROXY_AUTH_REQUIRED, f.recorder.setup_error);
    ASSERT_INT_EQ(407, f.recorder.setup_status);
    ASSERT_TRUE(strcmp("denied", f.recorder.setup_body) == 0);
    return s_fixture_clean_up(&f);
}

/* close(): CLOSE 1000 goes out, data that arrives afterwards is dropped, the server's CLOSE ends it cleanly. */
static int s_test_close_waits_for_the_peer_and_drops_later_data(struct wscrt_allocator *allocator) {
    struct fixture f;
    ASSERT_SUCCESS(s_fixture_upgrade(&f, allocator, false, 0));
    ASSERT_TRUE(s_wait_for(&f.recorder, &f.recorder.setup_count, 1));
    wscrt_websocket_close(f.recorder.websocket);
    uint8_t payload[256];
    size_t payload_len = 0;
    ASSERT_INT_EQ(0x8, s_server_read_frame(&f.server, payload, sizeof(payload), &payload_len));
    ASSERT_BYTES_EQ("\x03\xE8", 2, payload, payload_len);
    usleep(50 * 1000);
    ASSERT_INT_EQ(0, f.recorder.shutdown_count); /* still waiting for the server's CLOSE */
    static const uint8_t late_then_close[] = {0x81, 0x04, 'l', 'a', 't', 'e', 0x88, 0x02, 0x03, 0xE8};
    ASSERT_SUCCESS(s_server_send(&f.server, late_then_close, sizeof(late_then_close)));
    ASSERT_TRUE(s_wait_for(&f.recorder, &f.recorder.shutdown_count, 1));
    ASSERT_INT_EQ(0, f.recorder.shutdown_error);
    ASSERT_UINT_EQ(2, f.recorder.payload_len); /* only the CLOSE's 2 payload bytes were delivered */
    ASSERT_INT_EQ(1, f.recorder.begin_count);       /* the CLOSE, not the dropped TEXT */
    ASSERT_INT_EQ(0x8, f.recorder.last_opcode);
    return s_fixture_clean_up(&f);
}

/* A rejection larger than the read window's slack is still read in full with a manual window of 0. */
static int s_test_large_rejection_is_read_whole_with_a_zero_window(struct wscrt_allocator *allocator) {
    struct fixture f;
    ASSERT_SUCCESS(s_fixture_init(&f, allocator));
    ASSERT_SUCCESS(s_fixture_connect(&f, true, 0));
    char key[64];
    ASSERT_SUCCESS(s_server_accept(&f.server, key, sizeof(key)));
    enum { BODY = 100 * 1024 };
    static char response[BODY + 128];
    int head = snprintf(response, sizeof(response), "HTTP/1.1 403 Forbidden\r\nContent-Length: %d\r\n\r\n", BODY);
    memset(response + head, 'x', BODY);
    ASSERT_SUCCESS(s_server_send(&f.server, response, (size_t)head + BODY));
    ASSERT_TRUE(s_wait_for(&f.recorder, &f.recorder.setup_count, 1));
    ASSERT_INT_EQ(WSCRT_ERROR_WEBSOCKET_UPGRADE_FAILURE, f.recorder.setup_error);
    ASSERT_INT_EQ(403, f.recorder.setup_status);
    ASSERT_TRUE(f.recorder.setup_body[0] == 'x');
    return s_fixture_clean_up(&f);
}

/* RFC 6455 4.1: a 101 may select one subprotocol the request offered, and it is exposed; one it did
 * not offer fails the setup, reporting the response. (Every rule: websocket_handshake_test.c.) */
static int s_test_101_selects_only_an_offered_subprotocol(struct wscrt_allocator *allocator) {
    const char *answers[] = {"Sec-WebSocket-Protocol: superchat\r\n", "Sec-WebSocket-Protocol: mqtt\r\n"};
    for (int i = 0; i < 2; ++i) {
        struct fixture f;
        ASSERT_SUCCESS(s_fixture_init(&f, allocator));
        f.subprotocols = "chat, superchat";
        ASSERT_SUCCESS(s_fixture_connect(&f, false, 0));
        char key[64];
        ASSERT_SUCCESS(s_server_accept(&f.server, key, sizeof(key)));
        ASSERT_SUCCESS(s_server_send_101_with(allocator, &f.server, key, answers[i]));
        ASSERT_TRUE(s_wait_for(&f.recorder, &f.recorder.setup_count, 1));
        ASSERT_INT_EQ(101, f.recorder.setup_status);
        if (i == 0) {
            ASSERT_INT_EQ(0, f.recorder.setup_error);
            ASSERT_TRUE(strcmp("superchat", wscrt_websocket_get_subprotocol(f.recorder.websocket)) == 0);
        } else {
            ASSERT_INT_EQ(WSCRT_ERROR_WEBSOCKET_UNEXPECTED_SUBPROTOCOL, f.recorder.setup_error);
            ASSERT_TRUE(f.recorder.websocket == NULL);
        }
        ASSERT_SUCCESS(s_fixture_clean_up(&f));
    }
    return 0;
}

WSCRT_TEST_MAIN(s_test_frames_flow_and_peer_close_is_clean, s_test_masked_server_frame_fails_with_close_1002,
                s_test_rejected_upgrade_reports_status_and_body, s_test_read_window_limits_delivery_exactly,
                s_test_proxy_connect_tunnels_to_the_target, s_test_proxy_407_fails_setup_with_its_status,
                s_test_close_waits_for_the_peer_and_drops_later_data,
                s_test_large_rejection_is_read_whole_with_a_zero_window,
                s_test_101_selects_only_an_offered_subprotocol)
