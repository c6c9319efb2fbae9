#ifndef WSCRT_HTTP_WEBSOCKET_H
#define WSCRT_HTTP_WEBSOCKET_H
/*
 * A client WebSocket connection: bootstrap -> channel -> upgrade -> frames.
 *
 * Threading: every callback runs on the connection's event-loop thread.
 * wscrt_websocket_send_frame, _increment_read_window, _close and _release are
 * safe from any thread, including from inside callbacks.
 *
 * Lifetime: the websocket handed to on_connection_setup belongs to the user,
 * who calls wscrt_websocket_release exactly once when done (it closes the
 * connection if still open). The memory lives until both that release and the
 * connection's shutdown have happened. No callback runs after
 * on_connection_shutdown.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/byte_buf.h"
#include "http/http_request.h"
#include "http/websocket_extensions.h"
#include "http/websocket_frame.h"
#include "io/socket.h"

struct wscrt_allocator;
struct wscrt_client_bootstrap;
struct wscrt_event_loop;
struct wscrt_tls_connection_options;
struct wscrt_websocket;

/* An HTTP proxy reached first and asked to CONNECT to the target (for ws:// and wss:// alike). */
struct wscrt_websocket_proxy_options {
    const char *host;
    uint32_t port;
    bool basic_auth;
    const char *username;
    const char *password;
    const struct wscrt_tls_connection_options *tls_options; /* TLS to the proxy itself; NULL = plain TCP */
};

struct wscrt_websocket_incoming_frame {
    uint64_t payload_length;
    uint8_t opcode;
    bool fin;
};

struct wscrt_websocket_setup_data {
    int error_code;                     /* 0 = connected */
    struct wscrt_websocket *websocket;  /* NULL on failure */
    const int *handshake_response_status; /* NULL if no response was received */
    const struct wscrt_http_header *handshake_response_headers;
    size_t num_handshake_response_headers;
    const struct wscrt_byte_cursor *handshake_response_body; /* NULL unless a rejecting response had a body */
    /* The address the TCP connection went to (the proxy's when there is one), "127.0.0.1:8080" or
     * "[::1]:8080"; after a failed connect every address tried, separated by ", "; "" when the name did
     * not resolve. Never NULL; valid only during the call. */
    const char *remote_address;
};

/* Runs once. After a failure no other callback runs. */
typedef void(wscrt_websocket_on_connection_setup_fn)(const struct wscrt_websocket_setup_data *setup, void *user_data);
/* Runs once after a successful setup. error_code 0 = clean close. */
typedef void(wscrt_websocket_on_connection_shutdown_fn)(struct wscrt_websocket *websocket, int error_code,
                                                        void *user_data);
/* Frame callbacks return false to shut the connection down with
 * WSCRT_ERROR_CALLBACK_EXCEPTION (a user callback threw). */
typedef bool(wscrt_websocket_on_incoming_frame_begin_fn)(struct wscrt_websocket *websocket,
                                                         const struct wscrt_websocket_incoming_frame *frame,
                                                         void *user_data);
/* `data` is valid only during the call (it points into the loop's read buffer). */
typedef bool(wscrt_websocket_on_incoming_frame_payload_fn)(struct wscrt_websocket *websocket,
                                                           const struct wscrt_websocket_incoming_frame *frame,
                                                           struct wscrt_byte_cursor data, void *user_data);
/* error_code != 0 when the connection was lost or failed mid-frame. */
typedef bool(wscrt_websocket_on_incoming_frame_complete_fn)(struct wscrt_websocket *websocket,
                                                            const struct wscrt_websocket_incoming_frame *frame,
                                                            int error_code, void *user_data);
/* Optional: a data frame whose whole payload came in one read, in one call instead of begin, payload (none when
 * empty) and complete; the same frame and bytes, `payload` valid only during the call. Without it those frames
 * get the three calls. */
typedef bool(wscrt_websocket_on_incoming_frame_whole_fn)(struct wscrt_websocket *websocket,
                                                         const struct wscrt_websocket_incoming_frame *frame,
                                                         struct wscrt_byte_cursor payload, void *user_data);
/* After the events of one network read were delivered (lets a binding flush a
 * batch of events in one upcall). Optional. Returns false like the others. */
typedef bool(wscrt_websocket_on_incoming_batch_end_fn)(struct wscrt_websocket *websocket, void *user_data);
/* A whole incoming message (message mode): TEXT (valid UTF-8) or BINARY with every fragment joined, or a
 * PING, PONG or CLOSE frame. `payload` is valid only during the call. Returns false like the others. */
struct wscrt_websocket_incoming_message {
    uint8_t opcode;
    struct wscrt_byte_cursor payload;
    /* Partial messages, and pieces of binary_frame_pieces: more of this TEXT/BINARY message follows (false
     * on its last piece). TEXT pieces may split a UTF-8 sequence; the message as a whole is valid UTF-8. */
    bool more;
    /* The whole message's length in bytes when it is known: payload.len for a whole message, the frame's
     * payload length for a piece of binary_frame_pieces; 0 for a piece in partial mode. */
    uint64_t message_length;
};
typedef bool(wscrt_websocket_on_incoming_message_fn)(struct wscrt_websocket *websocket,
                                                     const struct wscrt_websocket_incoming_message *message,
                                                     void *user_data);
/*
 * permessage-deflate (RFC 7692) for a message-mode connection: what to offer, and how to compress. The
 * offer goes into the upgrade request's Sec-WebSocket-Extensions header; the server's answer is checked
 * strictly (websocket_extensions.h lists the errors, each failing the setup with the response in the setup
 * data). Once negotiated, TEXT and BINARY messages sent whole (fin set) are compressed (RSV1 on their one
 * frame) unless shorter than compression_threshold; fragments and control frames never are. Incoming
 * compressed messages are inflated, capped by max_message_size on the inflated bytes.
 */
struct wscrt_websocket_deflate_config {
    struct wscrt_websocket_deflate_options offer;
    int compression_level; /* 1-9; 0 = zlib's default (6) */
    int mem_level;         /* 1-9; 0 = 8 */
    size_t compression_threshold; /* messages shorter than this go uncompressed; 0 = compress all */
};

/* Each sent frame gets exactly one completion. */
typedef void(wscrt_websocket_on_send_complete_fn)(struct wscrt_websocket *websocket, int error_code, void *user_data);
/* The send queue has come down to the mark of wscrt_websocket_notify_when_queued_at_most (loop thread). */
typedef void(wscrt_websocket_on_send_queue_drained_fn)(struct wscrt_websocket *websocket, void *user_data);

struct wscrt_websocket_client_connection_options {
    struct wscrt_allocator *allocator;
    struct wscrt_client_bootstrap *bootstrap;
    const struct wscrt_socket_options *socket_options; /* NULL = defaults */
    const char *host;
    uint32_t port;
    /* TLS to the target (wss://); NULL = ws://. A NULL server_name means `host`. Copied. */
    const struct wscrt_tls_connection_options *tls_options;
    /* NULL = connect directly. Copied. */
    const struct wscrt_websocket_proxy_options *proxy_options;
    /* Copied; must pass wscrt_websocket_validate_handshake_request. */
    const struct wscrt_http_request *handshake_request;
    bool manual_window_management;
    uint64_t initial_window_size; /* data payload bytes; only with manual_window_management */
    uint32_t handshake_timeout_ms;    /* 0 = 10 s */
    uint32_t close_timeout_ms;        /* 0 = 5 s: how long to wait for the peer's CLOSE after ours */
    size_t max_response_header_bytes; /* 0 = 64 KiB */
    /*
     * Bytes of frames queued and not yet written above which a send fails at once with
     * WSCRT_ERROR_WEBSOCKET_SEND_QUEUE_FULL (the connection stays up); a frame larger than the limit is
     * accepted when nothing is queued. 0 = no limit. Replies the connection sends itself (PONG, CLOSE
     * echo) are not counted. Memory: besides the frames queued, the connection keeps the blocks of frames
     * already written, up to this many bytes (at most 16 MiB), for the next sends; it gives them back
     * once nothing has been queued for 250 ms.
     */
    uint64_t send_queue_limit;
    /*
     * Message mode: when on_incoming_message is set, data frames are joined into whole messages and
     * control frames delivered as messages too; the frame callbacks are not called. A message longer
     * than max_message_size fails the connection with WSCRT_ERROR_WEBSOCKET_MESSAGE_TOO_BIG (CLOSE
     * 1009) as soon as a frame header announces it; 0 = 16 MiB.
     * With partial_messages, data frames are not joined: each piece of payload is delivered as it is
     * decoded (its opcode the message's, `more` set until the last piece, an empty last piece when the
     * final frame is empty), nothing is buffered and max_message_size does not apply.
     * With binary_frame_pieces (and without partial_messages), a BINARY message that is one uncompressed
     * frame whose payload arrives in more than one read is not joined either: its pieces are delivered as
     * they arrive, each with `more` and the message's length, for a binding that joins them into memory of
     * its own and would otherwise copy the joined message once more. The size limit is checked as before;
     * other messages are joined as before.
     */
    wscrt_websocket_on_incoming_message_fn *on_incoming_message;
    uint64_t max_message_size;
    bool partial_messages;
    bool binary_frame_pieces;
    /* Offer permessage-deflate (message mode only; NULL = no offer). Copied. A request that already carries
     * a Sec-WebSocket-Extensions header, or deflate without message mode, is WSCRT_ERROR_INVALID_ARGUMENT:
     * frame-mode callbacks report frames as they are on the wire, so they never see compressed data. */
    const struct wscrt_websocket_deflate_config *deflate;
    /*
     * Keepalive (websocket_keepalive.c), 0 = off. While the connection is open, a PING (payload: a 4-byte
     * big-endian counter) goes out every ping_interval_ms, whatever else is sent or received; it jumps
     * ahead of queued user frames, may go between the fragments of a user message (RFC 6455 5.4), and
     * does not count against send_queue_limit. With pong_timeout_ms too (it needs ping_interval_ms), the
     * connection fails with WSCRT_ERROR_WEBSOCKET_PING_TIMEOUT when no byte at all arrives from the peer
     * (a PONG, or any other frame or part of one) within pong_timeout_ms after a PING was written to the
     * socket: CLOSE 1001 is attempted (bounded by close_timeout_ms) and the shutdown reports the error.
     * With manual_window_management, the deadline is not enforced while the read window is 0 (the user,
     * not the peer, stopped the reading). Timers run on the connection's event loop; no thread, and no
     * allocation per PING beyond the frame itself.
     */
    uint32_t ping_interval_ms;
    uint32_t pong_timeout_ms;
    wscrt_websocket_on_connection_setup_fn *on_connection_setup;
    wscrt_websocket_on_connection_shutdown_fn *on_connection_shutdown;
    wscrt_websocket_on_incoming_frame_begin_fn *on_incoming_frame_begin;
    wscrt_websocket_on_incoming_frame_payload_fn *on_incoming_frame_payload;
    wscrt_websocket_on_incoming_frame_complete_fn *on_incoming_frame_complete;
    wscrt_websocket_on_incoming_frame_whole_fn *on_incoming_frame_whole;
    wscrt_websocket_on_incoming_batch_end_fn *on_incoming_batch_end;
    /* Optional: see wscrt_websocket_notify_when_queued_at_most. */
    wscrt_websocket_on_send_queue_drained_fn *on_send_queue_drained;
    void *user_data;
};

/* Any thread. WSCRT_OP_ERR (no callback will run) only for invalid options. */
int wscrt_websocket_client_connect(const struct wscrt_websocket_client_connection_options *options);

struct wscrt_websocket_send_frame_options {
    uint8_t opcode;
    bool fin;
    /* Copied (and masked in the same pass) before the call returns. */
    struct wscrt_byte_cursor payload;
    wscrt_websocket_on_send_complete_fn *on_complete; /* may be NULL */
    void *user_data;
};

/*
 * Any thread. Frames go out in call order. Returns WSCRT_OP_ERR (and no
 * completion) with WSCRT_ERROR_WEBSOCKET_INVALID_FRAME for an invalid frame
 * (unknown opcode, control frame with fin=false or payload > 125), or with
 * WSCRT_ERROR_WEBSOCKET_SEND_QUEUE_FULL when the frame would take the queued
 * bytes past send_queue_limit. Nothing invalid goes on the wire: in call
 * order, a CONTINUATION with no fragmented message open
 * (WSCRT_ERROR_WEBSOCKET_SEND_UNEXPECTED_CONTINUATION), a TEXT or BINARY
 * frame inside one (..._SEND_EXPECTED_CONTINUATION), TEXT bytes that are not
 * UTF-8, checked incrementally across fragments (..._SEND_INVALID_UTF8), and
 * a CLOSE payload of 1 byte, with a code that may not be sent (RFC 6455 7.4)
 * or a reason that is not UTF-8 (..._SEND_INVALID_CLOSE) are refused.
 * After CLOSE was sent or the connection shut down, the frame is not sent and
 * its completion runs (on the loop) with WSCRT_ERROR_WEBSOCKET_CLOSE_FRAME_SENT
 * or WSCRT_ERROR_WEBSOCKET_CONNECTION_CLOSED.
 */
int wscrt_websocket_send_frame(struct wscrt_websocket *websocket,
                               const struct wscrt_websocket_send_frame_options *options);
/* Any thread. No-op without manual_window_management. */
void wscrt_websocket_increment_read_window(struct wscrt_websocket *websocket, uint64_t size);
/* Any thread, idempotent: the close handshake. Frames queued before it go out, then CLOSE 1000 (unless
 * a CLOSE was sent); data frames that begin afterwards are dropped (no callbacks, no read window); the
 * connection shuts down cleanly when the peer's CLOSE arrives, or with
 * WSCRT_ERROR_WEBSOCKET_CLOSE_TIMEOUT after close_timeout_ms without it. */
void wscrt_websocket_close(struct wscrt_websocket *websocket);
/* Any thread: closes the socket at once (no CLOSE frame); the shutdown reports WSCRT_ERROR_WEBSOCKET_ABORTED. */
void wscrt_websocket_abort(struct wscrt_websocket *websocket);
/* Any thread: fails the connection with error_code (a failing CLOSE 1002/1011 goes out first). */
void wscrt_websocket_shutdown_with_error(struct wscrt_websocket *websocket, int error_code);
/* Any thread, after setup: the TLS version negotiated with the server ("TLSv1.3"), "" for ws://. */
const char *wscrt_websocket_get_tls_version(const struct wscrt_websocket *websocket);
/* Any thread, after setup: whether TLS to the target resumed an earlier session; false for ws://. */
bool wscrt_websocket_get_tls_session_resumed(const struct wscrt_websocket *websocket);
/* Any thread, after setup: the ALPN protocol the server selected, "" when none. */
const char *wscrt_websocket_get_alpn_protocol(const struct wscrt_websocket *websocket);
/* Any thread, after setup: the subprotocol the server selected from the request's Sec-WebSocket-Protocol
 * offer, "" when none. A 101 selecting one not offered, or several, fails the setup (websocket_handshake.h). */
const char *wscrt_websocket_get_subprotocol(const struct wscrt_websocket *websocket);
/* Any thread, after setup: the extension in use as negotiated, e.g. "permessage-deflate;
 * server_max_window_bits=10" (the parameters that apply, in a fixed order), "" when none. */
const char *wscrt_websocket_get_extensions(const struct wscrt_websocket *websocket);
/* Any thread: bytes of frames sent and not yet written (see send_queue_limit). */
uint64_t wscrt_websocket_get_queued_bytes(const struct wscrt_websocket *websocket);
/*
 * Any thread: flow control for a sender that keeps the queue between two marks. Returns true when at most
 * `bytes` are queued already (nothing is armed then: the caller goes on). Otherwise arms the notice and
 * returns false: on_send_queue_drained runs once, on the loop thread, when a frame written or failed (or a
 * send refused) leaves at most the mark queued, which disarms it. One mark per connection: arming again
 * before it was reached raises it to `bytes` if that is higher and otherwise keeps it, so the notice comes
 * no later than the highest mark asked for. Never after the shutdown callback began. Once the connection
 * has shut down, its frames have all failed and nothing is queued, so this returns true.
 */
bool wscrt_websocket_notify_when_queued_at_most(struct wscrt_websocket *websocket, uint64_t bytes);
/* Any thread, after setup: the event loop every callback of this websocket runs on (send completions too). */
struct wscrt_event_loop *wscrt_websocket_get_event_loop(const struct wscrt_websocket *websocket);
/* Any thread, exactly once per websocket received in setup. */
void wscrt_websocket_release(struct wscrt_websocket *websocket);

#endif
