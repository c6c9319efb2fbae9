/* The CONNECT tunnel handler; see proxy_connect_handler.h. */
#include "http/proxy_connect_handler.h"

#include <stdio.h>
#include <string.h>

#include "common/allocator.h"
#include "common/crypto.h"
#include "common/error.h"
#include "common/logging.h"
#include "http/http_response_parser.h"
#include "io/channel.h"

/* The window this handler asks for while it reads the proxy's answer. A CONNECT answer is a status line and
 * a few headers. Once the tunnel is open the handler passes bytes through, and its window follows its right
 * neighbour's: it never grants its left neighbour more than the right one can take minus what it holds.
 * Windows only grow, so what the handshake window granted beyond that (at most this much) may still arrive;
 * it waits in `pending` until the right neighbour has room. */
#define WSCRT_PROXY_HANDSHAKE_WINDOW (64 * 1024)

enum wscrt_proxy_state {
    WSCRT_PROXY_STATE_CONNECTING,
    WSCRT_PROXY_STATE_TUNNEL,
    WSCRT_PROXY_STATE_FAILED,
};

struct wscrt_proxy_connect_handler {
    struct wscrt_channel_handler handler;
    struct wscrt_channel_slot *slot;
    enum wscrt_proxy_state state;
    struct wscrt_http_response_parser response;
    wscrt_proxy_on_connect_result_fn *on_result;
    void *user_data;
    struct wscrt_byte_buf pending; /* tunnel bytes the right neighbour had no room for; freed once drained */
    size_t pending_offset;         /* bytes of `pending` already passed on */
    bool flushing;                 /* inside s_flush_pending: a nested call (the right neighbour opening its
                                    * window while it reads) leaves the buffer alone */
};

/* What the right neighbour can take now: 0 before it exists. */
static size_t s_right_room(struct wscrt_channel_slot *slot) {
    struct wscrt_channel_slot *right = slot->adj_right;
    return right != NULL && right->handler != NULL ? right->window_size : 0;
}

static size_t s_pending_len(const struct wscrt_proxy_connect_handler *proxy) {
    return proxy->pending.len - proxy->pending_offset;
}

/* Passes held bytes on as far as the right neighbour's window allows. */
static int s_flush_pending(struct wscrt_proxy_connect_handler *proxy) {
    if (proxy->flushing) {
        return WSCRT_OP_SUCCESS;
    }
    proxy->flushing = true;
    int result = WSCRT_OP_SUCCESS;
    size_t room;
    while (s_pending_len(proxy) > 0 && (room = s_right_room(proxy->slot)) > 0) {
        size_t n = s_pending_len(proxy) < room ? s_pending_len(proxy) : room;
        struct wscrt_byte_cursor part = wscrt_byte_cursor_from_array(proxy->pending.buffer + proxy->pending_offset, n);
        proxy->pending_offset += n;
        if (wscrt_channel_slot_send_read_data(proxy->slot, part)) {
            result = WSCRT_OP_ERR;
            break;
        }
    }
    proxy->flushing = false;
    if (proxy->pending.buffer != NULL && s_pending_len(proxy) == 0) {
        wscrt_byte_buf_clean_up(&proxy->pending);
        proxy->pending_offset = 0;
    }
    return result;
}

/* Tunnel bytes: what fits goes right now, the rest is held (bounded by the window granted earlier). */
static int s_pass_on(struct wscrt_proxy_connect_handler *proxy, struct wscrt_byte_cursor data) {
    if (s_pending_len(proxy) == 0 && !proxy->flushing) {
        size_t room = s_right_room(proxy->slot);
        size_t n = data.len < room ? data.len : room;
        if (n > 0 && wscrt_channel_slot_send_read_data(proxy->slot, wscrt_byte_cursor_advance(&data, n))) {
            return WSCRT_OP_ERR;
        }
        if (data.len == 0) {
            return WSCRT_OP_SUCCESS;
        }
    }
    if (proxy->pending.buffer == NULL) {
        wscrt_byte_buf_init(&proxy->pending, proxy->handler.allocator, data.len);
    }
    wscrt_byte_buf_append_dynamic(&proxy->pending, data);
    return s_flush_pending(proxy);
}

/* Grants the left neighbour what the right one can take beyond the bytes held and already granted. */
static int s_follow_right_window(struct wscrt_proxy_connect_handler *proxy) {
    size_t room = s_right_room(proxy->slot);
    size_t held = s_pending_len(proxy);
    size_t wanted = room > held ? room - held : 0;
    if (wanted > proxy->slot->window_size) {
        return wscrt_channel_slot_increment_read_window(proxy->slot, wanted - proxy->slot->window_size);
    }
    return WSCRT_OP_SUCCESS;
}

static void s_finish(struct wscrt_proxy_connect_handler *proxy, int error_code) {
    if (proxy->state != WSCRT_PROXY_STATE_CONNECTING) {
        return;
    }
    proxy->state = error_code == 0 ? WSCRT_PROXY_STATE_TUNNEL : WSCRT_PROXY_STATE_FAILED;
    WSCRT_LOGF_DEBUG(WSCRT_LS_HTTP, "id=%p: CONNECT %s (%s), status=%d", (void *)proxy,
                     error_code == 0 ? "established" : "failed", wscrt_error_name(error_code),
                     proxy->response.headers_complete ? proxy->response.status : 0);
    proxy->on_result(&proxy->handler, error_code, proxy->response.headers_complete ? &proxy->response : NULL,
                     proxy->user_data);
}

static int s_process_read_data(struct wscrt_channel_handler *handler, struct wscrt_channel_slot *slot,
                               struct wscrt_byte_cursor data) {
    struct wscrt_proxy_connect_handler *proxy = handler->impl;
    if (proxy->state == WSCRT_PROXY_STATE_TUNNEL) {
        return s_pass_on(proxy, data);
    }
    if (proxy->state == WSCRT_PROXY_STATE_FAILED) {
        return WSCRT_OP_SUCCESS;
    }
    size_t before = data.len;
    if (wscrt_http_response_parser_process(&proxy->response, &data)) {
        s_finish(proxy, wscrt_last_error());
        return WSCRT_OP_SUCCESS;
    }
    size_t consumed = before - data.len;
    if (!proxy->response.complete) {
        return wscrt_channel_slot_increment_read_window(slot, consumed);
    }
    int status = proxy->response.status;
    if (status / 100 != 2) {
        s_finish(proxy, status == 407 ? WSCRT_ERROR_HTTP_PROXY_AUTH_REQUIRED : WSCRT_ERROR_HTTP_PROXY_CONNECT_FAILED);
        return WSCRT_OP_SUCCESS;
    }
    /* The owner installs the next handler (TLS or the upgrade) to the right from this callback. */
    s_finish(proxy, 0);
    if (proxy->state != WSCRT_PROXY_STATE_TUNNEL) {
        return WSCRT_OP_SUCCESS;
    }
    if (data.len > 0 && s_pass_on(proxy, data)) {
        /* Bytes the target sent right behind the proxy's answer (only possible if it speaks first). */
        return WSCRT_OP_ERR;
    }
    return s_follow_right_window(proxy);
}

static int s_process_write_message(struct wscrt_channel_handler *handler, struct wscrt_channel_slot *slot,
                                   struct wscrt_io_message *message) {
    (void)handler;
    return wscrt_channel_slot_send_write_message(slot, message);
}

static int s_increment_read_window(struct wscrt_channel_handler *handler, struct wscrt_channel_slot *slot,
                                   size_t size) {
    (void)slot;
    (void)size;
    struct wscrt_proxy_connect_handler *proxy = handler->impl;
    if (proxy->state != WSCRT_PROXY_STATE_TUNNEL) {
        return WSCRT_OP_SUCCESS; /* the handshake window is managed above */
    }
    if (s_flush_pending(proxy)) {
        return WSCRT_OP_ERR;
    }
    return s_follow_right_window(proxy);
}

static int s_shutdown(struct wscrt_channel_handler *handler, struct wscrt_channel_slot *slot,
                      enum wscrt_channel_direction direction, int error_code, bool free_scarce) {
    struct wscrt_proxy_connect_handler *proxy = handler->impl;
    if (direction == WSCRT_CHANNEL_DIR_READ && proxy->state == WSCRT_PROXY_STATE_CONNECTING) {
        int result = error_code;
        if (error_code == 0 || error_code == WSCRT_ERROR_IO_SOCKET_CLOSED) {
            result = WSCRT_ERROR_HTTP_CONNECTION_CLOSED;
            if (proxy->response.headers_complete && proxy->response.status / 100 != 2) {
                /* A refusal whose body ends when the proxy closes (no Content-Length): still a refusal. */
                wscrt_http_response_parser_on_eof(&proxy->response);
                result = proxy->response.status == 407 ? WSCRT_ERROR_HTTP_PROXY_AUTH_REQUIRED
                                                       : WSCRT_ERROR_HTTP_PROXY_CONNECT_FAILED;
            }
        }
        s_finish(proxy, result);
    }
    return wscrt_channel_slot_on_handler_shutdown_complete(slot, direction, error_code, free_scarce);
}

static size_t s_initial_window_size(struct wscrt_channel_handler *handler) {
    (void)handler;
    return WSCRT_PROXY_HANDSHAKE_WINDOW;
}

static void s_destroy(struct wscrt_channel_handler *handler) {
    struct wscrt_proxy_connect_handler *proxy = handler->impl;
    wscrt_http_response_parser_clean_up(&proxy->response);
    wscrt_byte_buf_clean_up(&proxy->pending);
    wscrt_mem_release(handler->allocator, proxy);
}

static const struct wscrt_channel_handler_vtable s_proxy_vtable = {
    .process_read_data = s_process_read_data,
    .process_write_message = s_process_write_message,
    .increment_read_window = s_increment_read_window,
    .shutdown = s_shutdown,
    .initial_window_size = s_initial_window_size,
    .destroy = s_destroy,
};

/* "CONNECT host:port HTTP/1.1" with Host and, for BASIC, Proxy-Authorization (RFC 7617). */
static int s_encode_connect(const struct wscrt_proxy_connect_options *options, struct wscrt_byte_buf *out) {
    const char *host = options->target_host;
    bool ipv6 = strchr(host, ':') != NULL;
    char authority[300];
    int len = snprintf(authority, sizeof(authority), ipv6 ? "[%s]:%u" : "%s:%u", host, options->target_port);
    if (len < 0 || (size_t)len >= sizeof(authority) || strpbrk(host, "\r\n ") != NULL) {
        return wscrt_raise_error(WSCRT_ERROR_INVALID_ARGUMENT);
    }
    struct wscrt_byte_cursor authority_cursor = wscrt_byte_cursor_from_array(authority, (size_t)len);
    wscrt_byte_buf_append_dynamic(out, wscrt_byte_cursor_from_c_str("CONNECT "));
    wscrt_byte_buf_append_dynamic(out, authority_cursor);
    wscrt_byte_buf_append_dynamic(out, wscrt_byte_cursor_from_c_str(" HTTP/1.1\r\nHost: "));
    wscrt_byte_buf_append_dynamic(out, authority_cursor);
    wscrt_byte_buf_append_dynamic(out, wscrt_byte_cursor_from_c_str("\r\n"));
    if (options->auth == WSCRT_HTTP_PROXY_AUTH_BASIC) {
        const char *user = options->username ? options->username : "";
        const char *password = options->password ? options->password : "";
        if (strchr(user, ':') || strpbrk(user, "\r\n") || strpbrk(password, "\r\n")) {
            return wscrt_raise_error(WSCRT_ERROR_INVALID_ARGUMENT);
        }
        struct wscrt_byte_buf credentials;
        wscrt_byte_buf_init(&credentials, out->allocator, strlen(user) + strlen(password) + 1);
        wscrt_byte_buf_append_dynamic(&credentials, wscrt_byte_cursor_from_c_str(user));
        wscrt_byte_buf_append_dynamic(&credentials, wscrt_byte_cursor_from_c_str(":"));
        wscrt_byte_buf_append_dynamic(&credentials, wscrt_byte_cursor_from_c_str(password));
        wscrt_byte_buf_append_dynamic(out, wscrt_byte_cursor_from_c_str("Proxy-Authorization: Basic "));
        wscrt_byte_buf_reserve(out, out->len + wscrt_base64_encoded_len(credentials.len) + 4);
        int result = wscrt_base64_encode(wscrt_byte_cursor_from_buf(&credentials), out);
        wscrt_byte_buf_clean_up(&credentials);
        if (result) {
            return WSCRT_OP_ERR;
        }
        wscrt_byte_buf_append_dynamic(out, wscrt_byte_cursor_from_c_str("\r\n"));
    }
    return wscrt_byte_buf_append_dynamic(out, wscrt_byte_cursor_from_c_str("\r\n"));
}

struct wscrt_channel_handler *wscrt_proxy_connect_handler_new(struct wscrt_allocator *allocator,
                                                              const struct wscrt_proxy_connect_options *options,
                                                              struct wscrt_channel_slot *slot) {
    if (!options || !options->target_host || !options->on_result || !slot) {
        wscrt_raise_error(WSCRT_ERROR_INVALID_ARGUMENT);
        return NULL;
    }
    struct wscrt_byte_buf request;
    wscrt_byte_buf_init(&request, allocator, 256);
    if (s_encode_connect(options, &request)) {
        wscrt_byte_buf_clean_up(&request);
        return NULL;
    }
    struct wscrt_proxy_connect_handler *proxy =
        wscrt_mem_calloc(allocator, 1, sizeof(struct wscrt_proxy_connect_handler));
    proxy->handler.vtable = &s_proxy_vtable;
    proxy->handler.allocator = allocator;
    proxy->handler.impl = proxy;
    proxy->slot = slot;
    proxy->on_result = options->on_result;
    proxy->user_data = options->user_data;
    struct wscrt_http_response_parser_options parser_options = {.is_connect_response = true};
    wscrt_http_response_parser_init(&proxy->response, allocator, &parser_options);
    if (wscrt_channel_slot_set_handler(slot, &proxy->handler)) {
        wscrt_byte_buf_clean_up(&request);
        s_destroy(&proxy->handler);
        return NULL;
    }
    struct wscrt_io_message *message = wscrt_io_message_new(allocator, request.len);
    memcpy(message->data.buffer, request.buffer, request.len);
    message->data.len = request.len;
    wscrt_byte_buf_clean_up(&request);
    if (wscrt_channel_slot_send_write_message(slot, message)) {
        wscrt_io_message_destroy(message);
        return NULL; /* the handler is installed: the channel destroys it */
    }
    return &proxy->handler;
}
