#ifndef WSCRT_HTTP_WEBSOCKET_HANDSHAKE_H
#define WSCRT_HTTP_WEBSOCKET_HANDSHAKE_H
/* RFC 6455 section 4 opening handshake, client side. */
#include <stdbool.h>

#include "common/byte_buf.h"
#include "http/websocket_extensions.h"

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

/*
 * What the client offered beyond the five required headers; the server's
 * answer is judged against it (RFC 6455 4.1: a 101 may only select what was
 * offered). The caller owns the memory the offer points to.
 */
struct wscrt_websocket_handshake_offer {
    /* The Sec-WebSocket-Protocol value as sent: tokens separated by commas, in
     * the client's order of preference ("chat, superchat"). Empty = none offered. */
    struct wscrt_byte_cursor subprotocols;
    /* permessage-deflate as offered in Sec-WebSocket-Extensions; NULL = no extension offered. */
    const struct wscrt_websocket_deflate_options *deflate;
};

/* What the server selected, filled in by wscrt_websocket_validate_handshake_answer. */
struct wscrt_websocket_handshake_answer {
    /* The subprotocol the server selected (one of the offered tokens), or
     * empty. Points into the response parser's storage: copy it before the
     * parser is cleaned up. */
    struct wscrt_byte_cursor subprotocol;
    bool deflate_accepted;
    struct wscrt_websocket_deflate_params deflate; /* valid when deflate_accepted */
};

/*
 * Adds the offer's headers to a request: Sec-WebSocket-Protocol with
 * offer->subprotocols (if not empty) and Sec-WebSocket-Extensions with the
 * permessage-deflate offer (if offer->deflate). WSCRT_ERROR_INVALID_ARGUMENT
 * if the deflate options do not validate. Any thread.
 */
int wscrt_websocket_handshake_request_add_offer(struct wscrt_http_request *request,
                                                const struct wscrt_websocket_handshake_offer *offer);

/*
 * The offer a request already carries, for a request built by the user (the
 * frame API): offer->subprotocols = its first Sec-WebSocket-Protocol value,
 * offer->deflate = NULL (only wscrt's own offer is ever accepted, so a
 * user-written Sec-WebSocket-Extensions header makes any extension answer
 * fail). Cursors point into the request.
 */
void wscrt_websocket_handshake_offer_from_request(const struct wscrt_http_request *request,
                                                  struct wscrt_websocket_handshake_offer *offer);

/*
 * Checks a response whose headers are complete against the key and the offer
 * (any thread; reads only). One named error per rule, checked in this order:
 *   status 101, or WSCRT_ERROR_WEBSOCKET_UPGRADE_FAILURE;
 *   'Upgrade: websocket' and a 'Connection' header with the token 'upgrade'
 *     (case-insensitive, comma lists), or WSCRT_ERROR_WEBSOCKET_UPGRADE_INVALID_HEADERS;
 *   exactly one Sec-WebSocket-Accept, equal to base64(SHA-1(key + GUID)), or
 *     WSCRT_ERROR_WEBSOCKET_UPGRADE_BAD_ACCEPT;
 *   Sec-WebSocket-Extensions: with no extension offered, any non-empty value fails with
 *     WSCRT_ERROR_WEBSOCKET_UNEXPECTED_EXTENSION; with permessage-deflate offered, every
 *     value is read by wscrt_websocket_deflate_parse_answer (its errors; more than 8
 *     Sec-WebSocket-Extensions headers fail with WSCRT_ERROR_WEBSOCKET_MULTIPLE_EXTENSIONS);
 *   Sec-WebSocket-Protocol: present when none was offered, or a value that is
 *     not exactly (case-sensitively) one of the offered tokens, fails with
 *     WSCRT_ERROR_WEBSOCKET_UNEXPECTED_SUBPROTOCOL; more than one header, or a
 *     comma list, with WSCRT_ERROR_WEBSOCKET_MULTIPLE_SUBPROTOCOLS. No header
 *     means the server chose none, which is no error.
 * offer may be NULL (nothing offered); answer may be NULL (not wanted).
 */
int wscrt_websocket_validate_handshake_answer(const struct wscrt_http_response_parser *response,
                                              struct wscrt_byte_cursor sent_key,
                                              const struct wscrt_websocket_handshake_offer *offer,
                                              struct wscrt_websocket_handshake_answer *answer);

/* wscrt_websocket_validate_handshake_answer with nothing offered and no answer wanted. */
int wscrt_websocket_validate_handshake_response(const struct wscrt_http_response_parser *response,
                                                struct wscrt_byte_cursor sent_key);

#endif
