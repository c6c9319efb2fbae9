#ifndef WSCRT_TESTS_TLS_TEST_CERTS_H
#define WSCRT_TESTS_TLS_TEST_CERTS_H
/*
 * Certificates made at test time with the OpenSSL API (P-256 keys, SHA-256
 * signatures), and a small blocking OpenSSL server on a thread: the peer
 * for the TLS handler tests. Everything is static (each test is its own
 * executable); nothing touches the network beyond 127.0.0.1.
 *
 *   ca           CN=wscrt test CA, CA:TRUE
 *   server       localhost + IP 127.0.0.1, signed by ca, valid now
 *   expired      localhost + IP 127.0.0.1, signed by ca, expired yesterday
 *   wrong_name   wrong.example.invalid, signed by ca
 *   self_signed  localhost, signs itself
 *   client       CN=wscrt test client, clientAuth, signed by ca
 */
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "io_loopback_helpers.h"

/* ---- certificates ------------------------------------------------------ */

struct s_test_identity {
    EVP_PKEY *key;
    X509 *cert;
    char *cert_pem; /* malloc'd, NUL-terminated */
    char *key_pem;
};

struct s_test_pki {
    struct s_test_identity ca;
    struct s_test_identity server;
    struct s_test_identity expired;
    struct s_test_identity wrong_name;
    struct s_test_identity self_signed;
    struct s_test_identity client;
};

static inline char *s_bio_to_string(BIO *bio) {
    char *data = NULL;
    long len = BIO_get_mem_data(bio, &data);
    char *copy = malloc((size_t)len + 1);
    memcpy(copy, data, (size_t)len);
    copy[len] = '\0';
    return copy;
}

static inline bool s_add_ext(X509 *cert, X509 *issuer, int nid, const char *value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (ext == NULL) {
        return false;
    }
    bool ok = X509_add_ext(cert, ext, -1) == 1;
    X509_EXTENSION_free(ext);
    return ok;
}

/*
 * Makes `identity` (key + certificate). issuer NULL = self-signed. Validity
 * runs from now + not_before_s to now + not_after_s. san may be NULL.
 */
static inline bool s_identity_make(struct s_test_identity *identity, const char *cn,
                                   const struct s_test_identity *issuer, long not_before_s, long not_after_s,
                                   const char *san, bool is_ca, const char *extended_usage, long serial) {
    memset(identity, 0, sizeof(*identity));
    identity->key = EVP_EC_gen("P-256");
    X509 *cert = X509_new();
    if (identity->key == NULL || cert == NULL) {
        X509_free(cert);
        return false;
    }
    identity->cert = cert;
    X509_set_version(cert, X509_VERSION_3);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), serial);
    X509_gmtime_adj(X509_getm_notBefore(cert), not_before_s);
    X509_gmtime_adj(X509_getm_notAfter(cert), not_after_s);
    X509_set_pubkey(cert, identity->key);
    X509_NAME *name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509 *issuer_cert = issuer != NULL ? issuer->cert : cert;
    EVP_PKEY *issuer_key = issuer != NULL ? issuer->key : identity->key;
    X509_set_issuer_name(cert, X509_get_subject_name(issuer_cert));
    bool ok = s_add_ext(cert, issuer_cert, NID_basic_constraints, is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE") &&
              s_add_ext(cert, issuer_cert, NID_key_usage,
                        is_ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature,keyEncipherment") &&
              s_add_ext(cert, issuer_cert, NID_subject_key_identifier, "hash");
    if (ok && issuer != NULL) {
        ok = s_add_ext(cert, issuer_cert, NID_authority_key_identifier, "keyid:always");
    }
    if (ok && san != NULL) {
        ok = s_add_ext(cert, issuer_cert, NID_subject_alt_name, san);
    }
    if (ok && extended_usage != NULL) {
        ok = s_add_ext(cert, issuer_cert, NID_ext_key_usage, extended_usage);
    }
    if (!ok || X509_sign(cert, issuer_key, EVP_sha256()) <= 0) {
        return false;
    }
    BIO *bio = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(bio, cert);
    identity->cert_pem = s_bio_to_string(bio);
    BIO_free(bio);
    bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(bio, identity->key, NULL, NULL, 0, NULL, NULL);
    identity->key_pem = s_bio_to_string(bio);
    BIO_free(bio);
    return true;
}

static inline void s_identity_clean_up(struct s_test_identity *identity) {
    EVP_PKEY_free(identity->key);
    X509_free(identity->cert);
    free(identity->cert_pem);
    free(identity->key_pem);
    memset(identity, 0, sizeof(*identity));
}

#define S_DAY_S (24L * 3600L)

static inline bool s_pki_init(struct s_test_pki *pki) {
    memset(pki, 0, sizeof(*pki));
    bool ok = s_identity_make(&pki->ca, "wscrt test CA", NULL, -S_DAY_S, 30 * S_DAY_S, NULL, true, NULL, 1) &&
              s_identity_make(&pki->server, "localhost", &pki->ca, -S_DAY_S, 30 * S_DAY_S,
                              "DNS:localhost,IP:127.0.0.1", false, "serverAuth", 2) &&
              s_identity_make(&pki->expired, "localhost", &pki->ca, -3 * S_DAY_S, -S_DAY_S,
                              "DNS:localhost,IP:127.0.0.1", false, "serverAuth", 3) &&
              s_identity_make(&pki->wrong_name, "wrong.example.invalid", &pki->ca, -S_DAY_S, 30 * S_DAY_S,
                              "DNS:wrong.example.invalid", false, "serverAuth", 4) &&
              s_identity_make(&pki->self_signed, "localhost", NULL, -S_DAY_S, 30 * S_DAY_S,
                              "DNS:localhost,IP:127.0.0.1", false, "serverAuth", 5) &&
              s_identity_make(&pki->client, "wscrt test client", &pki->ca, -S_DAY_S, 30 * S_DAY_S, NULL, false,
                              "clientAuth", 6);
    if (!ok) {
        ERR_print_errors_fp(stderr);
    }
    return ok;
}

static inline void s_pki_clean_up(struct s_test_pki *pki) {
    s_identity_clean_up(&pki->ca);
    s_identity_clean_up(&pki->server);
    s_identity_clean_up(&pki->expired);
    s_identity_clean_up(&pki->wrong_name);
    s_identity_clean_up(&pki->self_signed);
    s_identity_clean_up(&pki->client);
}

/* Writes text to a fresh file under /tmp; the path is malloc'd (unlink + free it). */
static inline char *s_write_temp_file(const char *text) {
    char *path = strdup("/tmp/wscrt-tls-test-XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0) {
        free(path);
        return NULL;
    }
    size_t len = strlen(text);
    bool ok = write(fd, text, len) == (ssize_t)len;
    close(fd);
    if (!ok) {
        unlink(path);
        free(path);
        return NULL;
    }
    return path;
}

/* ---- a blocking TLS server on a thread --------------------------------- */

enum s_server_mode {
    S_SERVER_ECHO,           /* handshake, then echo until close_notify or EOF */
    S_SERVER_CLOSE_AT_ONCE,  /* accept, then close without a word */
};

struct s_server_options {
    const struct s_test_identity *identity;
    const struct s_test_identity *client_ca; /* non-NULL: a client certificate signed by it is required */
    int max_version;                          /* 0 = OpenSSL's highest */
    const char *alpn_select;                  /* selected when the client offers it; NULL = no ALPN */
    enum s_server_mode mode;
    uint64_t close_after;                     /* ECHO: close_notify and close after echoing this many (0 = never) */
    int connections;                          /* how many connections to serve in turn (0 = 1) */
    bool no_tickets;                          /* TLS 1.2: resume by session id only (SSL_OP_NO_TICKET) */
    const struct s_server *share_ctx_with;    /* non-NULL: use that server's SSL_CTX (its sessions and ticket keys) */
    const char *ciphersuites;                 /* TLS 1.3 suites the server takes (NULL = OpenSSL's) */
    bool no_tls13_tickets;                    /* TLS 1.3: no NewSessionTicket after the handshake */
    uint64_t key_update_every;                /* ECHO: a KeyUpdate asking for ours after each this many bytes echoed */
    bool key_update_at_start;                 /* ECHO: one such KeyUpdate right after the handshake */
    uint64_t forge_after;                     /* ECHO: then a record no key made, written straight to the socket */
};

struct s_server {
    struct s_server_options options;
    SSL_CTX *ctx;
    int listener;
    uint16_t port;
    pthread_t thread;
    bool started;
    /* Written by the server thread, read after s_server_stop joined it. */
    int handshakes_ok;
    int handshakes_failed;
    int handshakes_resumed;                   /* of handshakes_ok */
    char version[16];
    char alpn[64];
    char client_cn[64];
    uint64_t echoed;
    bool got_close_notify;
    int key_updates_received;                 /* the client's KeyUpdate messages */
};

static inline void s_server_on_message(int write_p, int version, int content_type, const void *buf, size_t len,
                                       SSL *ssl, void *arg) {
    (void)version;
    (void)ssl;
    struct s_server *server = arg;
    if (!write_p && content_type == SSL3_RT_HANDSHAKE && len > 0 && ((const uint8_t *)buf)[0] == SSL3_MT_KEY_UPDATE) {
        server->key_updates_received++;
    }
}

/* A TLS 1.3 application_data record of 32 bytes no key made: it fails authentication. */
static inline void s_server_forge_record(int fd) {
    uint8_t record[5 + 32] = {23, 3, 3, 0, 32};
    for (size_t i = 5; i < sizeof(record); ++i) {
        record[i] = (uint8_t)(i * 37);
    }
    ssize_t written = write(fd, record, sizeof(record));
    (void)written;
}

static inline int s_server_alpn_select(SSL *ssl, const unsigned char **out, unsigned char *out_len,
                                       const unsigned char *in, unsigned int in_len, void *arg) {
    (void)ssl;
    const char *wanted = arg;
    size_t wanted_len = strlen(wanted);
    unsigned int i = 0;
    while (i < in_len) {
        unsigned int len = in[i];
        if (i + 1 + len > in_len) {
            break;
        }
        if (len == wanted_len && memcmp(in + i + 1, wanted, len) == 0) {
            *out = in + i + 1;
            *out_len = (unsigned char)len;
            return SSL_TLSEXT_ERR_OK;
        }
        i += 1 + len;
    }
    return SSL_TLSEXT_ERR_NOACK;
}

static inline void s_server_serve_one(struct s_server *server, int fd) {
    struct s_server_options *options = &server->options;
    if (options->mode == S_SERVER_CLOSE_AT_ONCE) {
        close(fd);
        return;
    }
    /* Every blocking call below is bounded by these. */
    struct timeval timeout = {.tv_sec = S_WAIT_MS / 1000, .tv_usec = 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
    SSL *ssl = SSL_new(server->ctx);
    SSL_set_fd(ssl, fd);
    SSL_set_msg_callback(ssl, s_server_on_message);
    SSL_set_msg_callback_arg(ssl, server);
    if (SSL_accept(ssl) != 1) {
        server->handshakes_failed++;
        ERR_clear_error();
        SSL_free(ssl);
        close(fd);
        return;
    }
    server->handshakes_ok++;
    server->handshakes_resumed += SSL_session_reused(ssl) == 1;
    snprintf(server->version, sizeof(server->version), "%s", SSL_get_version(ssl));
    const unsigned char *alpn = NULL;
    unsigned int alpn_len = 0;
    SSL_get0_alpn_selected(ssl, &alpn, &alpn_len);
    snprintf(server->alpn, sizeof(server->alpn), "%.*s", (int)alpn_len, alpn != NULL ? (const char *)alpn : "");
    X509 *peer = SSL_get1_peer_certificate(ssl);
    if (peer != NULL) {
        X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, server->client_cn,
                                  sizeof(server->client_cn));
        X509_free(peer);
    }
    if (options->key_update_at_start) {
        SSL_key_update(ssl, SSL_KEY_UPDATE_REQUESTED);
        SSL_do_handshake(ssl); /* sends it now */
    }
    uint8_t *buffer = malloc(64 * 1024);
    for (;;) {
        size_t limit = 64 * 1024;
        if (options->close_after > 0) {
            if (server->echoed >= options->close_after) {
                break;
            }
            if (options->close_after - server->echoed < limit) {
                limit = (size_t)(options->close_after - server->echoed);
            }
        }
        size_t got = 0;
        if (SSL_read_ex(ssl, buffer, limit, &got) != 1) {
            server->got_close_notify = SSL_get_error(ssl, 0) == SSL_ERROR_ZERO_RETURN;
            break;
        }
        size_t sent = 0;
        if (SSL_write_ex(ssl, buffer, got, &sent) != 1 || sent != got) {
            break;
        }
        uint64_t before = server->echoed;
        server->echoed += got;
        uint64_t every = options->key_update_every;
        if (every > 0 && before / every != server->echoed / every) {
            SSL_key_update(ssl, SSL_KEY_UPDATE_REQUESTED);
            SSL_do_handshake(ssl); /* sends it now */
        }
        if (options->forge_after > 0 && before < options->forge_after && server->echoed >= options->forge_after) {
            s_server_forge_record(fd);
        }
    }
    free(buffer);
    ERR_clear_error();
    SSL_shutdown(ssl); /* our close_notify */
    ERR_clear_error();
    SSL_free(ssl);
    close(fd);
}

static inline void *s_server_main(void *arg) {
    struct s_server *server = arg;
    int connections = server->options.connections > 0 ? server->options.connections : 1;
    for (int i = 0; i < connections; ++i) {
        int fd = s_accept_within(server->listener, S_WAIT_MS);
        if (fd < 0) {
            break;
        }
        s_server_serve_one(server, fd);
    }
    ERR_clear_error();
    return NULL;
}

static inline bool s_server_start(struct s_server *server, const struct s_server_options *options) {
    /* OpenSSL's socket BIO writes with write(2): a client that already
     * closed must not kill the test process. */
    signal(SIGPIPE, SIG_IGN);
    memset(server, 0, sizeof(*server));
    server->options = *options;
    server->listener = s_listener_open(AF_INET, 64, &server->port);
    if (server->listener < 0) {
        return false;
    }
    if (options->share_ctx_with != NULL) {
        server->ctx = options->share_ctx_with->ctx;
        SSL_CTX_up_ref(server->ctx);
    } else {
        server->ctx = SSL_CTX_new(TLS_server_method());
    }
    if (options->no_tickets) {
        SSL_CTX_set_options(server->ctx, SSL_OP_NO_TICKET);
    }
    if (options->no_tls13_tickets) {
        SSL_CTX_set_num_tickets(server->ctx, 0);
    }
    if (options->ciphersuites != NULL) {
        SSL_CTX_set_ciphersuites(server->ctx, options->ciphersuites);
    }
    SSL_CTX_use_certificate(server->ctx, options->identity->cert);
    SSL_CTX_use_PrivateKey(server->ctx, options->identity->key);
    if (options->max_version != 0) {
        SSL_CTX_set_max_proto_version(server->ctx, options->max_version);
    }
    if (options->client_ca != NULL) {
        X509_STORE_add_cert(SSL_CTX_get_cert_store(server->ctx), options->client_ca->cert);
        SSL_CTX_set_verify(server->ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    }
    if (options->alpn_select != NULL) {
        SSL_CTX_set_alpn_select_cb(server->ctx, s_server_alpn_select, (void *)options->alpn_select);
    }
    if (pthread_create(&server->thread, NULL, s_server_main, server) != 0) {
        SSL_CTX_free(server->ctx);
        close(server->listener);
        return false;
    }
    server->started = true;
    return true;
}

/* Joins the thread (every wait in it is bounded) and frees everything. */
static inline void s_server_stop(struct s_server *server) {
    if (server->started) {
        pthread_join(server->thread, NULL);
        server->started = false;
    }
    SSL_CTX_free(server->ctx);
    server->ctx = NULL;
    close(server->listener);
}

#endif
