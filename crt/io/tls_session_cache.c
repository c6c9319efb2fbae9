/*
 * A bounded, locked table of resumable client sessions, one per peer key,
 * and its wiring to OpenSSL (see tls_session_cache.h). A linear scan: the
 * table is small (64 peers by default) and looked up once per handshake.
 */
#include "io/tls_session_cache.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/allocator.h"
#include "common/error.h"
#include "common/logging.h"

struct s_entry {
    struct wscrt_tls_session_key key;
    SSL_SESSION *session; /* one reference; NULL = free entry */
    uint64_t last_used;   /* the table's clock at the last put or get */
    uint64_t id;          /* the table's clock at the put: names this session while it is kept */
};

struct wscrt_tls_session_cache {
    struct wscrt_allocator *allocator;
    SSL_CTX *ssl_ctx; /* not owned: the context's */
    bool verify_peer;
    pthread_mutex_t lock;
    /* Under `lock`: */
    struct s_entry *entries; /* `capacity` of them */
    size_t capacity;
    size_t count;
    uint64_t clock;
};

/* Frees the entry's session; `lock` held (or the cache unshared). */
static void s_entry_clear(struct wscrt_tls_session_cache *cache, struct s_entry *entry) {
    SSL_SESSION_free(entry->session);
    memset(entry, 0, sizeof(*entry));
    cache->count--;
}

void wscrt_tls_session_cache_destroy(struct wscrt_tls_session_cache *cache) {
    if (cache == NULL) {
        return;
    }
    SSL_CTX_set_app_data(cache->ssl_ctx, NULL); /* no callback reaches the cache any more */
    for (size_t i = 0; i < cache->capacity; ++i) {
        if (cache->entries[i].session != NULL) {
            s_entry_clear(cache, &cache->entries[i]);
        }
    }
    pthread_mutex_destroy(&cache->lock);
    wscrt_mem_release(cache->allocator, cache->entries);
    wscrt_mem_release(cache->allocator, cache);
}

static struct s_entry *s_find(struct wscrt_tls_session_cache *cache, const struct wscrt_tls_session_key *key) {
    for (size_t i = 0; i < cache->capacity; ++i) {
        const struct s_entry *entry = &cache->entries[i];
        if (entry->session != NULL && memcmp(entry->key.digest, key->digest, sizeof(key->digest)) == 0) {
            return &cache->entries[i];
        }
    }
    return NULL;
}

/* A free entry, or the least recently used one emptied. */
static struct s_entry *s_make_room(struct wscrt_tls_session_cache *cache) {
    struct s_entry *oldest = NULL;
    for (size_t i = 0; i < cache->capacity; ++i) {
        struct s_entry *entry = &cache->entries[i];
        if (entry->session == NULL) {
            return entry;
        }
        if (oldest == NULL || entry->last_used < oldest->last_used) {
            oldest = entry;
        }
    }
    s_entry_clear(cache, oldest);
    return oldest;
}

/* Whether a client may still offer `session`: resumable (OpenSSL clears
 * that after a fatal alert on its connection) and not past its lifetime
 * (the ticket lifetime hint for TLS 1.3 and TLS 1.2 tickets). */
static bool s_still_usable(const SSL_SESSION *session) {
    if (!SSL_SESSION_is_resumable(session)) {
        return false;
    }
    long issued = SSL_SESSION_get_time(session);
    long lifetime = SSL_SESSION_get_timeout(session);
    return (long)time(NULL) < issued + lifetime;
}

static void s_put(struct wscrt_tls_session_cache *cache, const struct wscrt_tls_session_key *key,
                  SSL_SESSION *session) {
    pthread_mutex_lock(&cache->lock);
    struct s_entry *entry = s_find(cache, key);
    if (entry != NULL) {
        s_entry_clear(cache, entry); /* a newer session replaces the key's older one */
    } else {
        entry = s_make_room(cache);
    }
    entry->key = *key;
    entry->session = session;
    entry->last_used = ++cache->clock;
    entry->id = entry->last_used;
    cache->count++;
    pthread_mutex_unlock(&cache->lock);
}

static SSL_SESSION *s_get(struct wscrt_tls_session_cache *cache, const struct wscrt_tls_session_key *key) {
    SSL_SESSION *session = NULL;
    pthread_mutex_lock(&cache->lock);
    struct s_entry *entry = s_find(cache, key);
    if (entry != NULL) {
        if (s_still_usable(entry->session)) {
            session = entry->session;
            SSL_SESSION_up_ref(session);
            entry->last_used = ++cache->clock;
        } else {
            s_entry_clear(cache, entry);
        }
    }
    pthread_mutex_unlock(&cache->lock);
    return session;
}

static void s_remove(struct wscrt_tls_session_cache *cache, const SSL_SESSION *session) {
    pthread_mutex_lock(&cache->lock);
    for (size_t i = 0; i < cache->capacity; ++i) {
        if (cache->entries[i].session != NULL && cache->entries[i].session == session) {
            s_entry_clear(cache, &cache->entries[i]);
        }
    }
    pthread_mutex_unlock(&cache->lock);
}

size_t wscrt_tls_session_cache_count(struct wscrt_tls_session_cache *cache) {
    pthread_mutex_lock(&cache->lock);
    size_t count = cache->count;
    pthread_mutex_unlock(&cache->lock);
    return count;
}

/* ---- OpenSSL ------------------------------------------------------------ */

/* The SSL ex_data slot holding a connection's peer key; NULL = nothing it
 * receives is kept. Made once per process. */
static pthread_once_t s_key_index_once = PTHREAD_ONCE_INIT;
static int s_key_index = -1;

static void s_key_index_init(void) {
    s_key_index = SSL_get_ex_new_index(0, "wscrt session cache key", NULL, NULL, NULL);
}

static int s_get_key_index(void) {
    pthread_once(&s_key_index_once, s_key_index_init);
    return s_key_index;
}

static const struct wscrt_tls_session_key *s_connection_key(SSL *ssl) {
    int index = s_get_key_index();
    return index >= 0 ? SSL_get_ex_data(ssl, index) : NULL;
}

/*
 * OpenSSL has a new session for a connection: at the end of a full TLS 1.2
 * handshake, or for each TLS 1.3 ticket the server sends after its
 * handshake (on the connection's loop, inside SSL_read). Returns 1: the
 * reference is the cache's; 0: OpenSSL frees it.
 */
static int s_on_new_session(SSL *ssl, SSL_SESSION *session) {
    struct wscrt_tls_session_cache *cache = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
    const struct wscrt_tls_session_key *key = s_connection_key(ssl);
    if (cache == NULL || key == NULL || !SSL_SESSION_is_resumable(session)) {
        return 0;
    }
    /* Only a session whose peer passed verification may skip it next time. */
    if (cache->verify_peer && SSL_get_verify_result(ssl) != X509_V_OK) {
        return 0;
    }
    s_put(cache, key, session);
    WSCRT_LOGF_TRACE(WSCRT_LS_IO_TLS, "cache=%p: kept a %s session", (void *)cache, SSL_get_version(ssl));
    return 1;
}

/* OpenSSL found a session unusable (a fatal alert on its connection, or a
 * TLS 1.2 ticket renewed). */
static void s_on_remove_session(SSL_CTX *ssl_ctx, SSL_SESSION *session) {
    struct wscrt_tls_session_cache *cache = SSL_CTX_get_app_data(ssl_ctx);
    if (cache != NULL) {
        s_remove(cache, session);
    }
}

struct wscrt_tls_session_cache *wscrt_tls_session_cache_new(struct wscrt_allocator *allocator, SSL_CTX *ssl_ctx,
                                                            bool verify_peer, size_t capacity) {
    if (capacity == 0) {
        capacity = WSCRT_TLS_SESSION_CACHE_DEFAULT_CAPACITY;
    }
    struct wscrt_tls_session_cache *cache = wscrt_mem_calloc(allocator, 1, sizeof(struct wscrt_tls_session_cache));
    cache->entries = wscrt_mem_calloc(allocator, capacity, sizeof(struct s_entry));
    cache->allocator = allocator;
    cache->ssl_ctx = ssl_ctx;
    cache->verify_peer = verify_peer;
    cache->capacity = capacity;
    pthread_mutex_init(&cache->lock, NULL);
    /* Client sessions come here only: OpenSSL's internal store is keyed by
     * session id, of no use to a client looking for a peer's session. */
    SSL_CTX_set_session_cache_mode(ssl_ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(ssl_ctx, s_on_new_session);
    SSL_CTX_sess_set_remove_cb(ssl_ctx, s_on_remove_session);
    SSL_CTX_set_app_data(ssl_ctx, cache);
    return cache;
}

/* SHA-256 of "<server name>\n<host>:<port>": one peer, in a fixed size. */
static bool s_make_key(struct wscrt_tls_session_key *key, const char *server_name, const char *host,
                       uint16_t port) {
    const char *name = server_name != NULL ? server_name : "";
    const char *address = host != NULL ? host : name;
    char port_text[8];
    snprintf(port_text, sizeof(port_text), ":%u", (unsigned)port);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned int len = 0;
    bool ok = md != NULL && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
              EVP_DigestUpdate(md, name, strlen(name)) == 1 && EVP_DigestUpdate(md, "\n", 1) == 1 &&
              EVP_DigestUpdate(md, address, strlen(address)) == 1 &&
              EVP_DigestUpdate(md, port_text, strlen(port_text)) == 1 &&
              EVP_DigestFinal_ex(md, key->digest, &len) == 1 && len == sizeof(key->digest);
    EVP_MD_CTX_free(md);
    return ok;
}

int wscrt_tls_session_cache_prepare(struct wscrt_tls_session_cache *cache, SSL *ssl, const char *server_name,
                                    const char *host, uint16_t port, struct wscrt_tls_session_key *key) {
    if (cache == NULL || port == 0) {
        return WSCRT_OP_SUCCESS;
    }
    int index = s_get_key_index();
    if (index < 0 || !s_make_key(key, server_name, host, port) || SSL_set_ex_data(ssl, index, key) != 1) {
        ERR_clear_error();
        return wscrt_raise_error(WSCRT_ERROR_INVALID_ARGUMENT);
    }
    SSL_SESSION *session = s_get(cache, key);
    if (session != NULL) {
        int ok = SSL_set_session(ssl, session); /* takes its own reference */
        SSL_SESSION_free(session);
        if (ok != 1) {
            return wscrt_raise_error(WSCRT_ERROR_INVALID_ARGUMENT);
        }
    }
    return WSCRT_OP_SUCCESS;
}

void wscrt_tls_session_cache_on_handshake_done(struct wscrt_tls_session_cache *cache, SSL *ssl) {
    if (cache == NULL || SSL_session_reused(ssl) != 1 || SSL_version(ssl) >= TLS1_3_VERSION) {
        return; /* a full handshake or TLS 1.3: OpenSSL announces new sessions itself */
    }
    const struct wscrt_tls_session_key *key = s_connection_key(ssl);
    SSL_SESSION *session = SSL_get1_session(ssl);
    if (key != NULL && session != NULL && SSL_SESSION_is_resumable(session)) {
        s_put(cache, key, session);
    } else {
        SSL_SESSION_free(session);
    }
}

void wscrt_tls_session_cache_forget(struct wscrt_tls_session_cache *cache, SSL *ssl) {
    if (cache == NULL || ssl == NULL || s_connection_key(ssl) == NULL) {
        return; /* no cache, or the connection was handed over from OpenSSL */
    }
    SSL_set_ex_data(ssl, s_get_key_index(), NULL);
    SSL_SESSION *session = SSL_get0_session(ssl);
    if (session != NULL) {
        s_remove(cache, session);
    }
}

uint64_t wscrt_tls_session_cache_kept_id(struct wscrt_tls_session_cache *cache, SSL *ssl) {
    if (cache == NULL || ssl == NULL || s_connection_key(ssl) == NULL) {
        return 0;
    }
    const SSL_SESSION *session = SSL_get0_session(ssl);
    uint64_t id = 0;
    pthread_mutex_lock(&cache->lock);
    for (size_t i = 0; session != NULL && i < cache->capacity; ++i) {
        if (cache->entries[i].session == session) {
            id = cache->entries[i].id;
        }
    }
    pthread_mutex_unlock(&cache->lock);
    return id;
}

void wscrt_tls_session_cache_forget_kept(struct wscrt_tls_session_cache *cache, uint64_t kept_id) {
    if (cache == NULL || kept_id == 0) {
        return;
    }
    pthread_mutex_lock(&cache->lock);
    for (size_t i = 0; i < cache->capacity; ++i) {
        if (cache->entries[i].session != NULL && cache->entries[i].id == kept_id) {
            s_entry_clear(cache, &cache->entries[i]);
        }
    }
    pthread_mutex_unlock(&cache->lock);
}
