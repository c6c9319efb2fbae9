#ifndef WSCRT_HTTP_WEBSOCKET_HANDSHAKE_H
#define WSCRT_HTTP_WEBSOCKET_HANDSHAKE_H
/* RFC 6455 section 4 opening handshake, client side. */
#include "common/byte_buf.h"

struct wscrt_allocator;
struct wscrt_http_request;
struct wscrt_http_response_parser;

/* RFC 6455 4.2.2: appended to the key before hashing. */
#define WSCRT_WEBSOCKET_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

/* Appends base64 of 16 random bytes (24 characters). */
int wscrt_websocket_generate_key(struct wscrt_byte_buf *out);
/* Appends base64(SHA-1(key + GUID)) (28 characters). */
int wscrt_websocket_compute_accept(struct wscrt_byte_cursor key, struct wscrt_byte_buf *out);
/* A new GET request for host/path with the five required headers. */
struct wscrt_http_request *wscrt_websocket_handshake_request_new(struct wscrt_allocator *allocator,
                                                                 struct wscrt_byte_cursor host,
                                                                 struct wscrt_byte_cursor path);
/* WSCRT_ERROR_HTTP_INVALID_REQUEST unless: method GET, and Host, Upgrade
 * (websocket), Connection (with the upgrade token), Sec-WebSocket-Key (base64
 * of 16 bytes) and Sec-WebSocket-Version (13) present. */
int wscrt_websocket_validate_handshake_request(const struct wscrt_http_request *request);
/* For a response whose headers are complete: status 101 or
 * WSCRT_ERROR_WEBSOCKET_UPGRADE_FAILURE; 'Upgrade: websocket' and a
 * 'Connection' header with the token 'upgrade' (case-insensitive, comma lists)
 * or WSCRT_ERROR_WEBSOCKET_UPGRADE_INVALID_HEADERS; the right
 * Sec-WebSocket-Accept or WSCRT_ERROR_WEBSOCKET_UPGRADE_BAD_ACCEPT. */
int wscrt_websocket_validate_handshake_response(const struct wscrt_http_response_parser *response,
                                                struct wscrt_byte_cursor sent_key);

#endif
