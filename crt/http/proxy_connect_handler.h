#ifndef WSCRT_HTTP_PROXY_CONNECT_HANDLER_H
#define WSCRT_HTTP_PROXY_CONNECT_HANDLER_H
/*
 * HTTP proxy tunnelling (RFC 9110 9.3.6): a channel handler that sends
 * "CONNECT host:port HTTP/1.1" to the proxy, reads the answer, and on a 2xx
 * becomes a transparent pipe between its neighbours (bytes and windows pass
 * through untouched), so that TLS to the target and the websocket work as if
 * the socket reached the target directly.
 *
 *   socket <-> [TLS to proxy] <-> CONNECT <-> [TLS to target] <-> websocket
 *
 * Everything runs on the channel's event loop thread.
 */
#include <stdint.h>

struct wscrt_allocator;
struct wscrt_channel_handler;
struct wscrt_channel_slot;
struct wscrt_http_response_parser;

enum wscrt_http_proxy_auth {
    WSCRT_HTTP_PROXY_AUTH_NONE,
    WSCRT_HTTP_PROXY_AUTH_BASIC,
};

/*
 * Runs once. error_code 0: the tunnel is up and the callee adds its slots to
 * the right. Otherwise WSCRT_ERROR_HTTP_PROXY_AUTH_REQUIRED (407),
 * WSCRT_ERROR_HTTP_PROXY_CONNECT_FAILED (any other non-2xx) or the parser's
 * or connection's error; `response` (valid only during the call) holds what
 * the proxy answered, or is NULL when no answer came. After a failure the
 * callee shuts the channel down.
 */
typedef void(wscrt_proxy_on_connect_result_fn)(struct wscrt_channel_handler *handler, int error_code,
                                               const struct wscrt_http_response_parser *response, void *user_data);

struct wscrt_proxy_connect_options {
    const char *target_host;
    uint32_t target_port;
    enum wscrt_http_proxy_auth auth;
    const char *username; /* BASIC only */
    const char *password; /* BASIC only */
    wscrt_proxy_on_connect_result_fn *on_result;
    void *user_data;
};

/* Creates the handler, installs it in `slot` and sends the CONNECT request. */
struct wscrt_channel_handler *wscrt_proxy_connect_handler_new(struct wscrt_allocator *allocator,
                                                              const struct wscrt_proxy_connect_options *options,
                                                              struct wscrt_channel_slot *slot);

#endif
