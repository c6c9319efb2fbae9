#ifndef WSCRT_HTTP_WEBSOCKET_EXTENSIONS_H
#define WSCRT_HTTP_WEBSOCKET_EXTENSIONS_H
/*
 * permessage-deflate negotiation (RFC 7692 section 7), client side: the offer
 * that goes into the upgrade request's Sec-WebSocket-Extensions header, and a
 * strict reader of the server's answer.
 *
 * Pure functions on caller-owned memory: no allocation except growing the
 * caller's byte_buf, no state, callable from any thread.
 *
 * The only extension wscrt offers is permessage-deflate, once, so a valid
 * answer holds at most one extension element and it is permessage-deflate.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/byte_buf.h"

/* RFC 7692 7.1.2: an LZ77 window of 2^8 to 2^15 bytes. */
#define WSCRT_WEBSOCKET_DEFLATE_MIN_WINDOW_BITS 8
#define WSCRT_WEBSOCKET_DEFLATE_MAX_WINDOW_BITS 15

/*
 * What the client offers. All zero is the plain offer "permessage-deflate"
 * (both sides use 32 KiB windows and keep their context between messages
 * unless the server says otherwise).
 */
struct wscrt_websocket_deflate_options {
    /* 0: not offered, so the server may not limit our window. 8-14: offered
     * with that value (our compressor never uses a larger window); 15: offered
     * without a value ("the server may pick any limit"). */
    uint8_t client_max_window_bits;
    /* 0: not requested. 8-15: the server must answer with a window of at most this. */
    uint8_t server_max_window_bits;
    /* We promise to compress every message on its own (costs ratio, saves
     * the compressor's memory between messages). */
    bool client_no_context_takeover;
    /* The server must compress every message on its own, so our inflater can
     * be freed between messages; an answer without it fails the handshake. */
    bool server_no_context_takeover;
};

/* What both sides agreed on: the parameters the deflater and inflater run with. */
struct wscrt_websocket_deflate_params {
    /* The largest window our compressor may use (8-15). 8 cannot be done by
     * zlib's raw deflate (it needs 9); the deflater then sends messages
     * uncompressed, which RFC 7692 allows per message. */
    uint8_t client_max_window_bits;
    /* The largest window the server compresses with (8-15). */
    uint8_t server_max_window_bits;
    /* Our compressor resets after every message (offered or demanded). */
    bool client_no_context_takeover;
    /* The server resets after every message: our inflater state can be freed. */
    bool server_no_context_takeover;
};

/* WSCRT_OP_SUCCESS, or WSCRT_ERROR_INVALID_ARGUMENT for window bits other than 0 or 8-15. */
int wscrt_websocket_deflate_options_validate(const struct wscrt_websocket_deflate_options *options);

/*
 * Appends the Sec-WebSocket-Extensions value of the offer to `out` (grown as
 * needed), e.g. "permessage-deflate; client_max_window_bits; server_no_context_takeover".
 * WSCRT_ERROR_INVALID_ARGUMENT when the options do not validate.
 */
int wscrt_websocket_deflate_write_offer(const struct wscrt_websocket_deflate_options *options,
                                        struct wscrt_byte_buf *out);

/*
 * Reads the server's Sec-WebSocket-Extensions answer to `offer`. `values` are
 * the values of every Sec-WebSocket-Extensions header of the 101 response, in
 * order (several headers are one comma-separated list, RFC 9110 5.3);
 * value_count may be 0.
 *
 * On success *accepted says whether the server accepted permessage-deflate
 * (no extension element at all = declined, which is no error) and, when it
 * did, *negotiated holds the agreed parameters. Elements are read in order,
 * each one's syntax first, then its name, then its parameters in order; the
 * first broken rule is the error (RFC 7692 7 and RFC 6455 9.1):
 *   WSCRT_ERROR_WEBSOCKET_MALFORMED_EXTENSION_HEADER   not extension-list syntax: a bad token,
 *       an unterminated or non-token quoted string, '=' without a value, a stray ';'
 *   WSCRT_ERROR_WEBSOCKET_UNEXPECTED_EXTENSION         an extension other than permessage-deflate
 *   WSCRT_ERROR_WEBSOCKET_MULTIPLE_EXTENSIONS          permessage-deflate accepted twice
 *   WSCRT_ERROR_WEBSOCKET_UNKNOWN_EXTENSION_PARAMETER  a parameter RFC 7692 does not define
 *   WSCRT_ERROR_WEBSOCKET_DUPLICATE_EXTENSION_PARAMETER the same parameter twice
 *   WSCRT_ERROR_WEBSOCKET_BAD_EXTENSION_PARAMETER      window bits missing or not 8-15 in plain
 *       decimal (no sign, no leading zero), or a value on a *_no_context_takeover
 *   WSCRT_ERROR_WEBSOCKET_EXTENSION_PARAMETER_NOT_ALLOWED client_max_window_bits that was not
 *       offered; server_max_window_bits larger than requested, or missing when requested;
 *       server_no_context_takeover missing when requested
 * Parameter and extension names are matched case-insensitively; a quoted
 * value ("12") counts as the token inside it. A client_max_window_bits answer
 * larger than the value offered is no error: the smaller one applies.
 */
int wscrt_websocket_deflate_parse_answer(const struct wscrt_websocket_deflate_options *offer,
                                         const struct wscrt_byte_cursor *values, size_t value_count,
                                         bool *accepted, struct wscrt_websocket_deflate_params *negotiated);

#endif
