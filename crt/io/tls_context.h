#ifndef WSCRT_IO_TLS_CONTEXT_H
#define WSCRT_IO_TLS_CONTEXT_H
/*
 * TLS client configuration (OpenSSL 3, linked statically and hidden).
 *
 * A wscrt_tls_ctx holds one SSL_CTX: trust anchors, the client certificate,
 * protocol versions and the default ALPN list. It is ref-counted and
 * immutable once built, so many connections on any threads share it; each
 * TLS handler holds a reference for its whole life.
 *
 * Trust: with verify_peer (the default) the peer's chain and name are
 * checked. The anchors are the configured CA (PEM text, file and/or
 * directory) if any, else the system trust store. A statically linked
 * OpenSSL cannot rely on its compiled-in directory, so the system store is
 * found by probing, in order:
 *   $SSL_CERT_FILE / $SSL_CERT_DIR   (when set, only these are tried)
 *   /etc/ssl/certs/ca-certificates.crt               Debian, Ubuntu
 *   /etc/pki/tls/certs/ca-bundle.crt                 RHEL, Fedora, CentOS
 *   /etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem  RHEL, Fedora (extracted)
 *   /etc/ssl/cert.pem                                Alpine, macOS-like layouts
 *   /etc/ssl/ca-bundle.pem                           SUSE
 *   /etc/ssl/certs  (hashed directory, only when no bundle file exists)
 * When none exists, creation fails with WSCRT_ERROR_TLS_NO_TRUST_STORE and
 * the locations tried are logged (and listed by
 * wscrt_tls_system_trust_store_locations() for error messages).
 *
 * Threading: every function here is safe from any thread.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct wscrt_allocator;
struct wscrt_byte_buf;
struct wscrt_tls_ctx;
struct wscrt_tls_session_cache;

enum wscrt_tls_version {
    WSCRT_TLS_VERSION_DEFAULT = 0, /* minimum: TLS 1.2; maximum: the highest OpenSSL knows */
    WSCRT_TLS_VERSION_1_2,
    WSCRT_TLS_VERSION_1_3,
};

struct wscrt_tls_ctx_options {
    /* Check the peer's chain and host name. Default true. */
    bool verify_peer;

    /* Trust anchors replacing the system store; any combination, NULL = unset. */
    const char *ca_pem;  /* one or more PEM certificates */
    const char *ca_file; /* a PEM bundle */
    const char *ca_dir;  /* a hashed directory (c_rehash / openssl rehash) */

    /* Client certificate (mTLS): PEM text or PEM files, never both kinds.
     * The certificate text/file may hold the chain after the leaf. */
    const char *cert_pem;
    const char *key_pem;
    const char *cert_file;
    const char *key_file;

    enum wscrt_tls_version minimum_version; /* DEFAULT = TLS 1.2 */
    enum wscrt_tls_version maximum_version; /* DEFAULT = no cap; mainly to force TLS 1.2 */

    /* ALPN protocols offered, ';'-separated in preference order ("h2;http/1.1");
     * NULL or "" = no ALPN. Each name is 1..255 bytes. */
    const char *alpn_list;

    /* Session resumption (default true): the context keeps the last session
     * each peer gave it (TLS 1.3 tickets, TLS 1.2 session ids and tickets) and
     * offers it on the next handshake with that peer, saving the key exchange
     * and the certificate check. A peer is one server name at one host and
     * port; a session never crosses to another one, nor to another context
     * (whose trust or client certificate may differ). false: full handshakes. */
    bool session_resumption;
    /* Peers whose sessions are kept, least recently used out first; 0 = 64, at most 65536. */
    uint32_t session_cache_size;
};

/* verify_peer = true, session_resumption = true, everything else unset. */
void wscrt_tls_ctx_options_init_default_client(struct wscrt_tls_ctx_options *options);

/*
 * NULL on failure with: INVALID_ARGUMENT (bad combination, bad ALPN list,
 * minimum above maximum, session cache over its maximum), TLS_NO_TRUST_STORE (verification on, no CA given,
 * no system store found), TLS_CONTEXT_FAILURE (unreadable or invalid
 * certificate, key or CA; the OpenSSL reason is logged).
 */
struct wscrt_tls_ctx *wscrt_tls_ctx_new_client(struct wscrt_allocator *allocator,
                                               const struct wscrt_tls_ctx_options *options);
struct wscrt_tls_ctx *wscrt_tls_ctx_acquire(struct wscrt_tls_ctx *ctx);
void wscrt_tls_ctx_release(struct wscrt_tls_ctx *ctx);

/* "a, b, ... (directory)": the system locations probed, for error messages. */
const char *wscrt_tls_system_trust_store_locations(void);

/*
 * Parses a ';'-separated ALPN list into the wire format (length-prefixed
 * names) appended to `out` (which must be initialised; grows as needed).
 * INVALID_ARGUMENT for an empty name or a name over 255 bytes.
 */
int wscrt_tls_alpn_list_to_wire(const char *alpn_list, struct wscrt_byte_buf *out);

/* ---- for the TLS handler (io/tls_handler.c) --------------------------- */

/*
 * Applies one connection's settings to its `SSL *`: SNI (not for an IP
 * literal), host-name or IP verification when the context verifies peers,
 * and an ALPN list overriding the context's ("" turns ALPN off; NULL keeps
 * the context's). INVALID_ARGUMENT if OpenSSL refuses one of them.
 */
int wscrt_tls_ctx_configure_connection(const struct wscrt_tls_ctx *ctx, void *ssl, const char *server_name,
                                       const char *alpn_list, struct wscrt_allocator *allocator);

/* The context's session cache (io/tls_session_cache.h), NULL when resumption is off. */
struct wscrt_tls_session_cache *wscrt_tls_ctx_get_session_cache(const struct wscrt_tls_ctx *ctx);
/* Sessions the context keeps now (for tests). */
size_t wscrt_tls_ctx_session_count(const struct wscrt_tls_ctx *ctx);

/* The shared SSL_CTX (an `SSL_CTX *`), valid while the context is held. */
void *wscrt_tls_ctx_get_ssl_ctx(const struct wscrt_tls_ctx *ctx);
/* Whether a client certificate was configured (names the mTLS failure). */
bool wscrt_tls_ctx_has_client_cert(const struct wscrt_tls_ctx *ctx);
bool wscrt_tls_ctx_verifies_peer(const struct wscrt_tls_ctx *ctx);

#endif
