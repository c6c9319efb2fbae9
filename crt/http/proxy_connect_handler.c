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

/* The window this handler asks for while it reads the proxy's answer; after that it mirrors its right
 * neighbour's window. A CONNECT answer is a status line and a few headers. */
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
};

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
        return wscrt_channel_slot_send_read_data(slot, data);
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
    s_finish(proxy, 0);
    /* From now on this slot's window mirrors the right neighbour's. */
    size_t downstream = wscrt_channel_slot_downstream_read_window(slot);
    if (slot->window_size < downstream) {
        wscrt_channel_slot_increment_read_window(slot, downstream - slot->window_size);
    }
    if (data.len > 0 && proxy->state == WSCRT_PROXY_STATE_TUNNEL) {
        /* Bytes the target sent right behind the proxy's answer (only possible if it speaks first). */
        return wscrt_channel_slot_send_read_data(slot, data);
    }
    return WSCRT_OP_SUCCESS;
}

static int s_process_write_message(struct wscrt_channel_handler *handler, struct wscrt_channel_slot *slot,
                                   struct wscrt_io_message *message) {
    (void)handler;
    return wscrt_channel_slot_send_write_message(slot, message);
}

static int s_increment_read_window(struct wscrt_channel_handler *handler, struct wscrt_channel_slot *slot,
                                   size_t size) {
    struct wscrt_proxy_connect_handler *proxy = handler->impl;
    if (proxy->state != WSCRT_PROXY_STATE_TUNNEL) {
        return WSCRT_OP_SUCCESS; /* the handshake window is managed above */
    }
    return wscrt_channel_slot_increment_read_window(slot, size);
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
