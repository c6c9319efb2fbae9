#ifndef WSCRT_IO_TLS_HANDLER_H
#define WSCRT_IO_TLS_HANDLER_H
/*
 * TLS client channel handler (OpenSSL, in-memory BIO, never blocks).
 *
 *   socket <-> TLS <-> ...      ciphertext on the left, plaintext on the right
 *
 * Reads: ciphertext from the left goes through OpenSSL; plaintext goes right,
 * never more than the right slot's read window. Plaintext that does not fit
 * stays inside OpenSSL (the rest of the current record) or as unread
 * ciphertext, and delivery resumes from a task after the right slot grows
 * its window. This slot's own window follows the right one (plus record
 * overhead), so a reader that stops makes the socket stop.
 *
 * Writes: each plaintext message from the right is encrypted in record-sized
 * pieces (16 KiB) into ciphertext messages sent left; it completes (its
 * on_completion runs, then it is destroyed) once the socket has written the
 * ciphertext holding its last byte, with the socket's error code if that
 * failed. Messages sent before the handshake finished wait for it. At most a
 * few hundred KiB of ciphertext are in flight; the rest is encrypted as the
 * socket drains.
 *
 * Shutdown: the write direction with error 0 sends close_notify (after
 * everything queued). A close_notify from the peer shuts the channel down
 * with WSCRT_ERROR_IO_SOCKET_CLOSED, exactly like a TCP end of stream.
 *
 * Failures: the handshake result reaches on_negotiation_result once, with 0
 * or one of WSCRT_ERROR_TLS_CERT_EXPIRED, _CERT_SELF_SIGNED, _CERT_UNKNOWN_CA,
 * _CERT_HOSTNAME_MISMATCH, _CERT_VERIFY_FAILED (other X509 reasons),
 * _PROTOCOL_VERSION, _CLIENT_CERT_REQUIRED, _ALERT_RECEIVED,
 * _PEER_CLOSED_DURING_HANDSHAKE, _HANDSHAKE_TIMEOUT, _HANDSHAKE_FAILURE
 * (anything else), or the channel's shutdown error. After a failure the
 * channel shuts down with that error. A server that refuses the client's
 * certificate under TLS 1.3 says so only after the client finished its
 * handshake: that failure arrives as the channel's shutdown error
 * (_CLIENT_CERT_REQUIRED or _ALERT_RECEIVED) after a successful negotiation.
 *
 * Threading: everything runs on the channel's event loop thread.
 */
#include <stdbool.h>
#include <stdint.h>

struct wscrt_allocator;
struct wscrt_channel_handler;
struct wscrt_channel_slot;
struct wscrt_tls_ctx;

/*
 * Runs on the channel's loop, exactly once per started negotiation. On
 * success the callee may add its slots to the right of this one (data that
 * arrived with the end of the handshake waits for them). On failure the
 * channel shuts down with error_code right after; the callee must not
 * destroy the channel here.
 */
typedef void(wscrt_tls_on_negotiation_result_fn)(struct wscrt_channel_handler *handler, int error_code,
                                                 void *user_data);

struct wscrt_tls_connection_options {
    struct wscrt_tls_ctx *ctx; /* required; the handler holds a reference */
    /* The peer's name: sent as SNI and checked against the certificate when
     * the context verifies peers. An IP address literal is checked against
     * the certificate's IP entries and not sent as SNI (RFC 6066). NULL = no
     * SNI and no name check (the client bootstrap fills in the host). */
    const char *server_name;
    const char *alpn_list;   /* ';'-separated; NULL = the context's list, "" = no ALPN */
    /* The host and port connected to (a proxy's CONNECT target through a
     * proxy): with server_name, the peer whose session is offered and kept
     * when the context resumes sessions. host NULL = server_name; port 0 =
     * unknown, no resumption. The client bootstrap fills in its own. */
    const char *host;
    uint16_t port;
    uint32_t timeout_ms;     /* handshake timeout; 0 = 10 s */
    wscrt_tls_on_negotiation_result_fn *on_negotiation_result; /* may be NULL */
    void *user_data;
};

#define WSCRT_TLS_DEFAULT_HANDSHAKE_TIMEOUT_MS 10000

/*
 * Loop thread. Creates the handler and installs it in `slot` (normally right
 * of the socket handler); the handshake starts with
 * wscrt_tls_client_handler_start_negotiation. Options are copied. NULL with
 * INVALID_ARGUMENT, INVALID_STATE (slot taken) or TLS_CONTEXT_FAILURE.
 */
struct wscrt_channel_handler *wscrt_tls_client_handler_new(struct wscrt_allocator *allocator,
                                                           const struct wscrt_tls_connection_options *options,
                                                           struct wscrt_channel_slot *slot);

/* Loop thread. Sends the ClientHello and arms the handshake timeout. Once. */
int wscrt_tls_client_handler_start_negotiation(struct wscrt_channel_handler *handler);

/* Getters, loop thread; "" for a handler that is not a TLS handler. */
/* The ALPN protocol the server selected, "" when none (or not negotiated yet). */
const char *wscrt_tls_handler_protocol(const struct wscrt_channel_handler *handler);
/* "TLSv1.2", "TLSv1.3"; "" before the handshake finished. */
const char *wscrt_tls_handler_version_name(const struct wscrt_channel_handler *handler);
/* The server name given in the options, "" when none. */
const char *wscrt_tls_handler_server_name(const struct wscrt_channel_handler *handler);
/* Whether the handshake resumed an earlier session (no certificate was
 * exchanged); false before the handshake finished and for other handlers. */
bool wscrt_tls_handler_session_resumed(const struct wscrt_channel_handler *handler);

#endif
