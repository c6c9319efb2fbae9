#ifndef WSCRT_IO_TLS_SESSION_CACHE_H
#define WSCRT_IO_TLS_SESSION_CACHE_H
/*
 * The client session cache of one TLS context (private to crt/io: made by
 * tls_context.c, used by the TLS handler).
 *
 * One resumable session per key, the key naming exactly one peer as the
 * connection knew it: "<server name>\n<host>:<port>". A bounded table (`capacity` entries; the least recently used one goes
 * when a new key arrives at a full table) under a mutex, because a context is
 * shared by connections on every event-loop thread: OpenSSL hands new
 * sessions over on the loop that received them (TLS 1.3 tickets arrive after
 * the handshake) and handshakes on other loops look them up.
 *
 * Sessions are OpenSSL's reference-counted SSL_SESSION objects, shared by
 * the table and the connections that offer them. OpenSSL hands them over
 * through SSL_CTX callbacks (a new session; a session made unusable by a
 * fatal alert); expired ones are dropped when found. The table's own memory
 * comes from the allocator; the sessions are OpenSSL's.
 *
 * Threading: every function is safe from any thread.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

struct wscrt_allocator;
struct wscrt_tls_session_cache;

/* Default number of peers whose sessions a context keeps. */
#define WSCRT_TLS_SESSION_CACHE_DEFAULT_CAPACITY 64

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

/*
 * Before the handshake: names the connection's peer key
 * ("<server_name>\n<host>:<port>", allocated in `*key_storage`, which must
 * outlive `ssl`), under which the sessions it receives are kept, and offers
 * the session kept under that key, if any. Nothing at all (and *key_storage
 * NULL) for a NULL cache or port 0. INVALID_ARGUMENT if OpenSSL refuses.
 */
int wscrt_tls_session_cache_prepare(struct wscrt_tls_session_cache *cache, SSL *ssl, const char *server_name,
                                    const char *host, uint16_t port, struct wscrt_allocator *allocator,
                                    char **key_storage);

/* The handshake succeeded. A resumed TLS 1.2 handshake may have renewed the
 * ticket (OpenSSL then drops the old session without announcing the new
 * one): the connection's current session is kept. */
void wscrt_tls_session_cache_on_handshake_done(struct wscrt_tls_session_cache *cache, SSL *ssl);

/* The connection failed: nothing it receives from now on is kept, and the
 * session it offered or made is dropped. */
void wscrt_tls_session_cache_forget(struct wscrt_tls_session_cache *cache, SSL *ssl);

/* Sessions kept now (for tests). */
size_t wscrt_tls_session_cache_count(struct wscrt_tls_session_cache *cache);

#endif
