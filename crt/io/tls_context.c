/*
 * TLS client context: one SSL_CTX configured from wscrt_tls_ctx_options and
 * shared (read-only) by every connection that holds a reference.
 */
#include "io/tls_context.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/allocator.h"
#include "common/byte_buf.h"
#include "common/error.h"
#include "common/logging.h"
#include "common/ref_count.h"
#include "io/tls_records.h"
#include "io/tls_session_cache.h"

struct wscrt_tls_ctx {
    struct wscrt_allocator *allocator;
    struct wscrt_ref_count ref_count;
    SSL_CTX *ssl_ctx;
    bool verify_peer;
    bool has_client_cert;
    struct wscrt_tls_session_cache *sessions; /* NULL = resumption off */
};

/* The system CA bundles, most common first; see tls_context.h. */
static const char *const s_bundle_files[] = {
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/cert.pem",
    "/etc/ssl/ca-bundle.pem",
};
static const char *const s_bundle_dirs[] = {
    "/etc/ssl/certs",
};

const char *wscrt_tls_system_trust_store_locations(void) {
    return "/etc/ssl/certs/ca-certificates.crt, /etc/pki/tls/certs/ca-bundle.crt, "
           "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem, /etc/ssl/cert.pem, /etc/ssl/ca-bundle.pem, "
           "/etc/ssl/certs (directory)";
}

void wscrt_tls_ctx_options_init_default_client(struct wscrt_tls_ctx_options *options) {
    memset(options, 0, sizeof(*options));
    options->verify_peer = true;
    options->session_resumption = true;
}

/* Logs and clears OpenSSL's error queue for this thread. */
static void s_log_openssl_errors(const char *what) {
    unsigned long code;
    char text[256];
    bool any = false;
    while ((code = ERR_get_error()) != 0) {
        any = true;
        ERR_error_string_n(code, text, sizeof(text));
        WSCRT_LOGF_ERROR(WSCRT_LS_IO_TLS, "%s: %s", what, text);
    }
    if (!any) {
        WSCRT_LOGF_ERROR(WSCRT_LS_IO_TLS, "%s", what);
    }
}

static int s_context_failure(const char *what) {
    s_log_openssl_errors(what);
    return wscrt_raise_error(WSCRT_ERROR_TLS_CONTEXT_FAILURE);
}

/* ---- ALPN ------------------------------------------------------------- */

int wscrt_tls_alpn_list_to_wire(const char *alpn_list, struct wscrt_byte_buf *out) {
    if (alpn_list == NULL || out == NULL) {
        return wscrt_raise_error(WSCRT_ERROR_INVALID_ARGUMENT);
    }
    struct wscrt_byte_cursor input = wscrt_byte_cursor_from_c_str(alpn_list);
    struct wscrt_byte_cursor name;
    while (wscrt_byte_cursor_next_split(&input, ';', &name)) {
        if (name.len == 0 || name.len > 255) {
            return wscrt_raise_error(WSCRT_ERROR_INVALID_ARGUMENT);
        }
        if (wscrt_byte_buf_append_byte_dynamic(out, (uint8_t)name.len) ||
            wscrt_byte_buf_append_dynamic(out, name)) {
            return WSCRT_OP_ERR;
        }
    }
    return WSCRT_OP_SUCCESS;
}

/* ---- trust anchors ----------------------------------------------------- */

static bool s_is_readable_file(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, R_OK) == 0;
}

/* A directory OpenSSL can look certificates up in: it holds at least one
 * subject-hash link ("9d04f354.0"). An empty /etc/ssl/certs (the openssl
 * package without ca-certificates) does not count. */
static bool s_is_hashed_cert_dir(const char *path) {
    DIR *dir = opendir(path);
    if (dir == NULL) {
        return false;
    }
    bool found = false;
    struct dirent *entry;
    while (!found && (entry = readdir(dir)) != NULL) {
        const char *name = entry->d_name;
        size_t hex = strspn(name, "0123456789abcdef");
        found = hex == 8 && name[8] == '.' && name[9] >= '0' && name[9] <= '9';
    }
    closedir(dir);
    return found;
}

/* $SSL_CERT_DIR is a ':'-separated list, like OpenSSL's; true if one entry is a directory. */
static bool s_any_dir_exists(const char *list) {
    struct wscrt_byte_cursor input = wscrt_byte_cursor_from_c_str(list);
    struct wscrt_byte_cursor entry;
    while (wscrt_byte_cursor_next_split(&input, ':', &entry)) {
        char path[4096];
        if (entry.len == 0 || entry.len >= sizeof(path)) {
            continue;
        }
        memcpy(path, entry.ptr, entry.len);
        path[entry.len] = '\0';
        struct stat st;
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
            return true;
        }
    }
    return false;
}

static int s_load_system_trust_store(SSL_CTX *ssl_ctx) {
    const char *env_file = secure_getenv("SSL_CERT_FILE");
    const char *env_dir = secure_getenv("SSL_CERT_DIR");
    if ((env_file != NULL && env_file[0] != '\0') || (env_dir != NULL && env_dir[0] != '\0')) {
        /* The user pointed OpenSSL's usual variables somewhere: honour them
         * and only them, as OpenSSL itself would. */
        bool loaded = false;
        if (env_file != NULL && env_file[0] != '\0' && s_is_readable_file(env_file) &&
            SSL_CTX_load_verify_file(ssl_ctx, env_file) == 1) {
            loaded = true;
        }
        if (env_dir != NULL && env_dir[0] != '\0' && s_any_dir_exists(env_dir) &&
            SSL_CTX_load_verify_dir(ssl_ctx, env_dir) == 1) {
            loaded = true;
        }
        ERR_clear_error();
        if (!loaded) {
            WSCRT_LOGF_ERROR(WSCRT_LS_IO_TLS, "no usable trust store: tried SSL_CERT_FILE=%s, SSL_CERT_DIR=%s",
                             env_file != NULL ? env_file : "(unset)", env_dir != NULL ? env_dir : "(unset)");
            return wscrt_raise_error(WSCRT_ERROR_TLS_NO_TRUST_STORE);
        }
        WSCRT_LOGF_DEBUG(WSCRT_LS_IO_TLS, "trust store from SSL_CERT_FILE=%s, SSL_CERT_DIR=%s",
                         env_file != NULL ? env_file : "(unset)", env_dir != NULL ? env_dir : "(unset)");
        return WSCRT_OP_SUCCESS;
    }

    for (size_t i = 0; i < sizeof(s_bundle_files) / sizeof(s_bundle_files[0]); ++i) {
        const char *path = s_bundle_files[i];
        if (!s_is_readable_file(path)) {
            continue;
        }
        if (SSL_CTX_load_verify_file(ssl_ctx, path) == 1) {
            WSCRT_LOGF_DEBUG(WSCRT_LS_IO_TLS, "trust store: %s", path);
            return WSCRT_OP_SUCCESS;
        }
        s_log_openssl_errors("skipping an unreadable CA bundle");
        WSCRT_LOGF_WARN(WSCRT_LS_IO_TLS, "CA bundle %s could not be loaded; trying the next location", path);
    }
    for (size_t i = 0; i < sizeof(s_bundle_dirs) / sizeof(s_bundle_dirs[0]); ++i) {
        const char *path = s_bundle_dirs[i];
        if (s_is_hashed_cert_dir(path) && SSL_CTX_load_verify_dir(ssl_ctx, path) == 1) {
            WSCRT_LOGF_DEBUG(WSCRT_LS_IO_TLS, "trust store: directory %s", path);
            return WSCRT_OP_SUCCESS;
        }
        ERR_clear_error();
    }
    WSCRT_LOGF_ERROR(WSCRT_LS_IO_TLS, "no system trust store found; tried %s",
                     wscrt_tls_system_trust_store_locations());
    return wscrt_raise_error(WSCRT_ERROR_TLS_NO_TRUST_STORE);
}

static int s_load_ca_pem(SSL_CTX *ssl_ctx, const char *pem) {
    BIO *bio = BIO_new_mem_buf(pem, -1);
    if (bio == NULL) {
        return s_context_failure("CA PEM: out of memory");
    }
    STACK_OF(X509_INFO) *infos = PEM_X509_INFO_read_bio(bio, NULL, NULL, NULL);
    BIO_free(bio);
    if (infos == NULL) {
        return s_context_failure("CA PEM could not be parsed");
    }
    X509_STORE *store = SSL_CTX_get_cert_store(ssl_ctx);
    int added = 0;
    int result = WSCRT_OP_SUCCESS;
    for (int i = 0; i < sk_X509_INFO_num(infos); ++i) {
        X509_INFO *info = sk_X509_INFO_value(infos, i);
        if (info->x509 == NULL) {
            continue;
        }
        if (X509_STORE_add_cert(store, info->x509) != 1) {
            result = s_context_failure("CA certificate could not be added");
            break;
        }
        ++added;
    }
    sk_X509_INFO_pop_free(infos, X509_INFO_free);
    if (result == WSCRT_OP_SUCCESS && added == 0) {
        result = s_context_failure("CA PEM holds no certificate");
    }
    return result;
}

static int s_load_trust(SSL_CTX *ssl_ctx, const struct wscrt_tls_ctx_options *options) {
    bool custom = options->ca_pem != NULL || options->ca_file != NULL || options->ca_dir != NULL;
    if (!custom) {
        return options->verify_peer ? s_load_system_trust_store(ssl_ctx) : WSCRT_OP_SUCCESS;
    }
    if (options->ca_pem != NULL && s_load_ca_pem(ssl_ctx, options->ca_pem)) {
        return WSCRT_OP_ERR;
    }
    if (options->ca_file != NULL || options->ca_dir != NULL) {
        if (SSL_CTX_load_verify_locations(ssl_ctx, options->ca_file, options->ca_dir) != 1) {
            WSCRT_LOGF_ERROR(WSCRT_LS_IO_TLS, "CA file %s / directory %s could not be loaded",
                             options->ca_file != NULL ? options->ca_file : "(none)",
                             options->ca_dir != NULL ? options->ca_dir : "(none)");
            return s_context_failure("CA locations");
        }
    }
    return WSCRT_OP_SUCCESS;
}

/* ---- client certificate ------------------------------------------------ */

static int s_load_client_cert_pem(SSL_CTX *ssl_ctx, const char *cert_pem, const char *key_pem) {
    BIO *bio = BIO_new_mem_buf(cert_pem, -1);
    if (bio == NULL) {
        return s_context_failure("client certificate: out of memory");
    }
    X509 *leaf = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    if (leaf == NULL || SSL_CTX_use_certificate(ssl_ctx, leaf) != 1) {
        X509_free(leaf);
        BIO_free(bio);
        return s_context_failure("client certificate PEM could not be used");
    }
    X509_free(leaf);
    /* The rest of the text, if any, is the chain. */
    X509 *extra;
    while ((extra = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        if (SSL_CTX_add0_chain_cert(ssl_ctx, extra) != 1) {
            X509_free(extra);
            BIO_free(bio);
            return s_context_failure("client certificate chain could not be used");
        }
    }
    ERR_clear_error(); /* the loop ends on "no start line" */
    BIO_free(bio);

    bio = BIO_new_mem_buf(key_pem, -1);
    if (bio == NULL) {
        return s_context_failure("client key: out of memory");
    }
    EVP_PKEY *key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    BIO_free(bio);
    if (key == NULL || SSL_CTX_use_PrivateKey(ssl_ctx, key) != 1) {
        EVP_PKEY_free(key);
        return s_context_failure("client private key PEM could not be used");
    }
    EVP_PKEY_free(key);
    return WSCRT_OP_SUCCESS;
}

static int s_load_client_cert(SSL_CTX *ssl_ctx, const struct wscrt_tls_ctx_options *options) {
    if (options->cert_pem != NULL) {
        if (s_load_client_cert_pem(ssl_ctx, options->cert_pem, options->key_pem)) {
            return WSCRT_OP_ERR;
        }
    } else {
        if (SSL_CTX_use_certificate_chain_file(ssl_ctx, options->cert_file) != 1) {
            WSCRT_LOGF_ERROR(WSCRT_LS_IO_TLS, "client certificate file %s could not be used", options->cert_file);
            return s_context_failure("client certificate file");
        }
        if (SSL_CTX_use_PrivateKey_file(ssl_ctx, options->key_file, SSL_FILETYPE_PEM) != 1) {
            WSCRT_LOGF_ERROR(WSCRT_LS_IO_TLS, "client key file %s could not be used", options->key_file);
            return s_context_failure("client key file");
        }
    }
    if (SSL_CTX_check_private_key(ssl_ctx) != 1) {
        return s_context_failure("client private key does not match the certificate");
    }
    return WSCRT_OP_SUCCESS;
}

/* ---- the context ------------------------------------------------------- */

static int s_version_number(enum wscrt_tls_version version, int default_number) {
    switch (version) {
        case WSCRT_TLS_VERSION_1_2:
            return TLS1_2_VERSION;
        case WSCRT_TLS_VERSION_1_3:
            return TLS1_3_VERSION;
        default:
            return default_number;
    }
}

static bool s_options_valid(const struct wscrt_tls_ctx_options *options) {
    bool pem_cert = options->cert_pem != NULL || options->key_pem != NULL;
    bool file_cert = options->cert_file != NULL || options->key_file != NULL;
    if (pem_cert && file_cert) {
        return false;
    }
    if (pem_cert && (options->cert_pem == NULL || options->key_pem == NULL)) {
        return false;
    }
    if (file_cert && (options->cert_file == NULL || options->key_file == NULL)) {
        return false;
    }
    if (options->session_cache_size > WSCRT_TLS_SESSION_CACHE_MAX_CAPACITY) {
        return false;
    }
    if ((unsigned)options->minimum_version > WSCRT_TLS_VERSION_1_3 ||
        (unsigned)options->maximum_version > WSCRT_TLS_VERSION_1_3) {
        return false;
    }
    if (options->maximum_version != WSCRT_TLS_VERSION_DEFAULT &&
        s_version_number(options->minimum_version, TLS1_2_VERSION) > s_version_number(options->maximum_version, 0)) {
        return false;
    }
    return true;
}

static void s_ctx_on_zero(void *object) {
    struct wscrt_tls_ctx *ctx = object;
    WSCRT_LOGF_DEBUG(WSCRT_LS_IO_TLS, "ctx=%p: destroying", (void *)ctx);
    wscrt_tls_session_cache_destroy(ctx->sessions);
    SSL_CTX_free(ctx->ssl_ctx);
    wscrt_mem_release(ctx->allocator, ctx);
}

struct wscrt_tls_session_cache *wscrt_tls_ctx_get_session_cache(const struct wscrt_tls_ctx *ctx) {
    return ctx->sessions;
}

size_t wscrt_tls_ctx_session_count(const struct wscrt_tls_ctx *ctx) {
    return ctx->sessions != NULL ? wscrt_tls_session_cache_count(ctx->sessions) : 0;
}

static int s_configure(SSL_CTX *ssl_ctx, const struct wscrt_tls_ctx_options *options) {
    /* Idle connections keep no OpenSSL record buffers. */
    SSL_CTX_set_mode(ssl_ctx, SSL_MODE_RELEASE_BUFFERS);
    /* The TLS 1.3 traffic secrets, for our record layer once the handshake is over (tls_records.h): the
     * callback keeps them in the connection, never logs or writes them anywhere. */
    SSL_CTX_set_keylog_callback(ssl_ctx, wscrt_tls_capture_on_keylog);
    /* A renegotiation in the middle of a stream gains a client nothing. */
    SSL_CTX_set_options(ssl_ctx, SSL_OP_NO_RENEGOTIATION);
    if (SSL_CTX_set_min_proto_version(ssl_ctx, s_version_number(options->minimum_version, TLS1_2_VERSION)) != 1 ||
        SSL_CTX_set_max_proto_version(ssl_ctx, s_version_number(options->maximum_version, 0)) != 1) {
        return s_context_failure("protocol versions");
    }
    SSL_CTX_set_verify(ssl_ctx, options->verify_peer ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
    if (s_load_trust(ssl_ctx, options)) {
        return WSCRT_OP_ERR;
    }
    if ((options->cert_pem != NULL || options->cert_file != NULL) && s_load_client_cert(ssl_ctx, options)) {
        return WSCRT_OP_ERR;
    }
    if (!options->session_resumption) { /* else the session cache sets itself up in SSL_CTX */
        SSL_CTX_set_session_cache_mode(ssl_ctx, SSL_SESS_CACHE_OFF);
        SSL_CTX_set_options(ssl_ctx, SSL_OP_NO_TICKET); /* asks no TLS 1.2 server for a ticket */
    }
    return WSCRT_OP_SUCCESS;
}

static int s_set_ctx_alpn(struct wscrt_allocator *allocator, SSL_CTX *ssl_ctx, const char *alpn_list) {
    if (alpn_list == NULL || alpn_list[0] == '\0') {
        return WSCRT_OP_SUCCESS;
    }
    struct wscrt_byte_buf wire;
    wscrt_byte_buf_init(&wire, allocator, 32);
    int result = wscrt_tls_alpn_list_to_wire(alpn_list, &wire);
    /* SSL_CTX_set_alpn_protos returns 0 on success. */
    if (result == WSCRT_OP_SUCCESS && SSL_CTX_set_alpn_protos(ssl_ctx, wire.buffer, (unsigned)wire.len) != 0) {
        result = s_context_failure("ALPN list");
    }
    wscrt_byte_buf_clean_up(&wire);
    return result;
}

struct wscrt_tls_ctx *wscrt_tls_ctx_new_client(struct wscrt_allocator *allocator,
                                               const struct wscrt_tls_ctx_options *options) {
    if (allocator == NULL || options == NULL || !s_options_valid(options)) {
        wscrt_raise_error(WSCRT_ERROR_INVALID_ARGUMENT);
        return NULL;
    }
    ERR_clear_error();
    SSL_CTX *ssl_ctx = SSL_CTX_new(TLS_client_method());
    if (ssl_ctx == NULL) {
        s_context_failure("SSL_CTX_new");
        return NULL;
    }
    if (s_configure(ssl_ctx, options) || s_set_ctx_alpn(allocator, ssl_ctx, options->alpn_list)) {
        int error_code = wscrt_last_error();
        SSL_CTX_free(ssl_ctx);
        wscrt_raise_error(error_code);
        return NULL;
    }
    struct wscrt_tls_ctx *ctx = wscrt_mem_calloc(allocator, 1, sizeof(struct wscrt_tls_ctx));
    ctx->allocator = allocator;
    ctx->ssl_ctx = ssl_ctx;
    ctx->verify_peer = options->verify_peer;
    ctx->has_client_cert = options->cert_pem != NULL || options->cert_file != NULL;
    if (options->session_resumption) {
        ctx->sessions =
            wscrt_tls_session_cache_new(allocator, ssl_ctx, options->verify_peer, options->session_cache_size);
    }
    wscrt_ref_count_init(&ctx->ref_count, ctx, s_ctx_on_zero);
    WSCRT_LOGF_DEBUG(WSCRT_LS_IO_TLS, "ctx=%p: created (verify_peer=%d, client cert=%d, ALPN=%s)", (void *)ctx,
                     (int)ctx->verify_peer, (int)ctx->has_client_cert,
                     options->alpn_list != NULL ? options->alpn_list : "");
    return ctx;
}

struct wscrt_tls_ctx *wscrt_tls_ctx_acquire(struct wscrt_tls_ctx *ctx) {
    if (ctx != NULL) {
        wscrt_ref_count_acquire(&ctx->ref_count);
    }
    return ctx;
}

void wscrt_tls_ctx_release(struct wscrt_tls_ctx *ctx) {
    if (ctx != NULL) {
        wscrt_ref_count_release(&ctx->ref_count);
    }
}

void *wscrt_tls_ctx_get_ssl_ctx(const struct wscrt_tls_ctx *ctx) {
    return ctx->ssl_ctx;
}

bool wscrt_tls_ctx_has_client_cert(const struct wscrt_tls_ctx *ctx) {
    return ctx->has_client_cert;
}

bool wscrt_tls_ctx_verifies_peer(const struct wscrt_tls_ctx *ctx) {
    return ctx->verify_peer;
}

static bool s_is_ip_literal(const char *name) {
    unsigned char address[16];
    return inet_pton(AF_INET, name, address) == 1 || inet_pton(AF_INET6, name, address) == 1;
}

int wscrt_tls_ctx_configure_connection(const struct wscrt_tls_ctx *ctx, void *ssl_pointer, const char *server_name,
                                       const char *alpn_list, struct wscrt_allocator *allocator) {
    SSL *ssl = ssl_pointer;
    if (server_name != NULL) {
        bool ip = s_is_ip_literal(server_name);
        if (!ip && SSL_set_tlsext_host_name(ssl, server_name) != 1) {
            return wscrt_raise_error(WSCRT_ERROR_INVALID_ARGUMENT);
        }
        if (wscrt_tls_ctx_verifies_peer(ctx)) {
            int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), server_name)
                        : SSL_set1_host(ssl, server_name);
            if (ok != 1) {
                return wscrt_raise_error(WSCRT_ERROR_INVALID_ARGUMENT);
            }
            SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        }
    }
    if (alpn_list != NULL) {
        struct wscrt_byte_buf wire;
        wscrt_byte_buf_init(&wire, allocator, 32);
        int result = alpn_list[0] == '\0' ? WSCRT_OP_SUCCESS : wscrt_tls_alpn_list_to_wire(alpn_list, &wire);
        /* SSL_set_alpn_protos returns 0 on success; an empty list turns ALPN off. */
        if (result == WSCRT_OP_SUCCESS &&
            SSL_set_alpn_protos(ssl, wire.len > 0 ? wire.buffer : NULL, (unsigned)wire.len) != 0) {
            result = wscrt_raise_error(WSCRT_ERROR_INVALID_ARGUMENT);
        }
        wscrt_byte_buf_clean_up(&wire);
        if (result != WSCRT_OP_SUCCESS) {
            return WSCRT_OP_ERR;
        }
    }
    return WSCRT_OP_SUCCESS;
}
