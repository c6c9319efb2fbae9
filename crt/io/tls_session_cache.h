#ifndef WSCRT_IO_TLS_SESSION_CACHE_H
#define WSCRT_IO_TLS_SESSION_CACHE_H
/*
 * The client session cache of one TLS context (private to crt/io: made by
 * tls_context.c, used by the TLS handler).
 *
 * One resumable session per key, the key naming exactly one peer as the
 * connection knew it (server name, host and port). A bounded table
 * (`capacity` entries; the least recently used one goes when a new key
 * arrives at a full table) under a mutex, because a context is
 * shared by connections on every event-loop thread: OpenSSL hands new
 * sessions over on the loop that received them (TLS 1.3 tickets arrive after
 * the handshake) and handshakes on other loops look them up.
 *
 * Sessions are OpenSSL's reference-counted SSL_SESSION objects, shared by
 * the table and the connections that offer them. OpenSSL hands them over
 * through SSL_CTX callbacks (a new session; a session made unusable by a
 * fatal alert); expired ones are dropped when found. The table's memory
 * comes from the allocator, all of it when the cache is made (so a context's
 * native memory does not grow with its sessions); the sessions are OpenSSL's.
 *
 * A TLS 1.3 ticket is offered again until a newer one replaces it (servers
 * send new ones after each handshake). RFC 8446 C.4 advises single use so
 * that observers cannot link connections; these connections go to one host
 * and port, which links them anyway, and single use would turn concurrent
 * connects into full handshakes.
 *
 * Threading: every function is safe from any thread.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

struct wscrt_allocator;
struct wscrt_tls_session_cache;

/* Default and largest number of peers whose sessions a context keeps. */
#define WSCRT_TLS_SESSION_CACHE_DEFAULT_CAPACITY 64
#define WSCRT_TLS_SESSION_CACHE_MAX_CAPACITY 65536

/*
 * Makes the cache of `ssl_ctx` (a client context being configured, not yet
 * shared): OpenSSL's client session cache mode with no internal store, and
 * the callbacks that bring new sessions here. `verify_peer`: only sessions
 * whose peer passed verification are kept. capacity 0 = the default.
 */
struct wscrt_tls_session_cache *wscrt_tls_session_cache_new(struct wscrt_allocator *allocator, SSL_CTX *ssl_ctx,
                                                            bool verify_peer, size_t capacity);
/* Frees every session and the table; before the SSL_CTX is freed. */
void wscrt_tls_session_cache_destroy(struct wscrt_tls_session_cache *cache);

/* ---- per connection (the TLS handler, on its loop) ---------------------- */

/* A peer, as the connection knew it: the SHA-256 of "<server name>\n<host>:<port>"
 * (a fixed size, so the table allocates nothing after it is made). */
struct wscrt_tls_session_key {
    uint8_t digest[32];
};

/*
 * Before the handshake: fills in `key` (which must outlive `ssl`), under which
 * the sessions the connection receives are kept, and offers the session kept
 * under it, if any. Nothing at all for a NULL cache or port 0.
 * INVALID_ARGUMENT if OpenSSL refuses.
 */
int wscrt_tls_session_cache_prepare(struct wscrt_tls_session_cache *cache, SSL *ssl, const char *server_name,
                                    const char *host, uint16_t port, struct wscrt_tls_session_key *key);

/* The handshake succeeded. A resumed TLS 1.2 handshake may have renewed the
 * ticket (OpenSSL then drops the old session without announcing the new
 * one): the connection's current session is kept. */
void wscrt_tls_session_cache_on_handshake_done(struct wscrt_tls_session_cache *cache, SSL *ssl);

/* The connection failed: nothing it receives from now on is kept, and the
 * session it offered or made is dropped. */
void wscrt_tls_session_cache_forget(struct wscrt_tls_session_cache *cache, SSL *ssl);

/*
 * A TLS 1.3 connection is handed over to our record layer (its SSL is about
 * to be freed): names the session it made or offered, as the table keeps it
 * now, for wscrt_tls_session_cache_forget_kept. 0 when the table keeps none
 * of them (or for a NULL cache).
 */
uint64_t wscrt_tls_session_cache_kept_id(struct wscrt_tls_session_cache *cache, SSL *ssl);

/* A handed-over connection failed: the session `kept_id` names is dropped if
 * the table still keeps it (a newer one under the same key stays). Nothing
 * for 0 or a NULL cache. */
void wscrt_tls_session_cache_forget_kept(struct wscrt_tls_session_cache *cache, uint64_t kept_id);

/* Sessions kept now (for tests). */
size_t wscrt_tls_session_cache_count(struct wscrt_tls_session_cache *cache);

#endif
