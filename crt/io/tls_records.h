#ifndef WSCRT_IO_TLS_RECORDS_H
#define WSCRT_IO_TLS_RECORDS_H
/*
 * The TLS 1.3 record layer of an established connection, without OpenSSL's
 * SSL object (private to the TLS handler).
 *
 * An SSL object costs 15-18 KB for the life of a connection, idle or not.
 * Once a TLS 1.3 handshake is over and OpenSSL holds nothing (no plaintext,
 * no part of a record), the handler frees it and protects records itself
 * with the traffic secrets OpenSSL reported through the keylog callback:
 * RFC 8446 section 5 (AEAD record protection, per-record nonce = IV xor
 * sequence number, inner content type, padding) and 4.6.3 (KeyUpdate), with
 * OpenSSL's EVP AEAD ciphers doing the cryptography. What is left per
 * connection is this struct: the cipher contexts belong to the event loop.
 *
 * Before that, `wscrt_tls_capture` follows the handshake through OpenSSL's
 * callbacks: the two application traffic secrets and how many records each
 * side has protected with them (the sequence numbers to continue from).
 *
 * The hand-over waits for the server's first session ticket when the context
 * keeps a session cache (a ticket after it is not cached), or for
 * WSCRT_TLS_HAND_OVER_DELAY_MS after the handshake. TLS 1.2 connections,
 * cipher suites other than AES-GCM and ChaCha20-Poly1305, and connections
 * whose keys were updated before the hand-over stay with OpenSSL.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/ssl.h>

struct wscrt_allocator;
struct wscrt_event_loop;
struct wscrt_tls_handler;

/* Without a session ticket, the hand-over waits this long after the handshake. */
#define WSCRT_TLS_HAND_OVER_DELAY_MS 1000
/* Records one key protects before we replace it with a KeyUpdate (RFC 8446 5.5
 * bounds AES-GCM at 2^24.5 full-size records). */
#define WSCRT_TLS_RECORDS_PER_KEY (UINT64_C(1) << 24)

/* What the handshake leaves behind, gathered from OpenSSL's callbacks. */
struct wscrt_tls_capture {
    uint8_t client_secret[EVP_MAX_MD_SIZE];
    uint8_t server_secret[EVP_MAX_MD_SIZE];
    size_t client_secret_len;
    size_t server_secret_len;
    bool write_keyed;        /* our Finished is written: later records use the client application secret */
    bool read_keyed;         /* the server's Finished is read: later records use the server application secret */
    uint64_t records_written; /* under the client application secret */
    uint64_t records_read;    /* under the server application secret */
    bool ticket_received;
    bool key_updated;        /* a KeyUpdate went either way: the secrets above are stale (OpenSSL keeps it) */
    /* Where OpenSSL is in the ciphertext it has been given: a header part or a body left. */
    uint8_t header[5];
    size_t header_len;
    size_t body_left;
};

/* One direction's protection. */
struct wscrt_tls_direction {
    uint8_t secret[EVP_MAX_MD_SIZE];
    uint8_t key[32];
    uint8_t iv[12];
    uint64_t key_id; /* which key a loop's cipher context holds, when it holds this one */
    uint64_t seq;
};

/*
 * Per event loop, not per connection (an AES-GCM context is about 1.1 KB): a
 * context to encrypt and one to decrypt, keyed for whichever connection used
 * it last. A connection sending or receiving a run of records keys it once.
 */
struct wscrt_tls_loop_ciphers {
    EVP_CIPHER_CTX *encrypt;
    EVP_CIPHER_CTX *decrypt;
    const EVP_CIPHER *encrypt_cipher;
    const EVP_CIPHER *decrypt_cipher;
    uint64_t encrypt_key_id; /* 0: none */
    uint64_t decrypt_key_id;
    uint64_t last_key_id;
};

struct wscrt_tls_records {
    struct wscrt_tls_loop_ciphers *ciphers; /* the connection's loop's */
    const EVP_MD *md;
    const EVP_CIPHER *cipher;
    size_t key_len;
    size_t secret_len;
    struct wscrt_tls_direction read;
    struct wscrt_tls_direction write;
    uint64_t records_per_key; /* WSCRT_TLS_RECORDS_PER_KEY; lower in tests */
    /* A post-handshake message being read: its header so far, then the body bytes left. */
    uint8_t message_header[4];
    size_t message_header_len;
    size_t message_left;
    uint8_t key_update; /* the KeyUpdate's request byte once read */
    /* Plaintext of a record larger than the reader's window, handed out as the window allows. */
    uint8_t *held;
    size_t held_offset;
    size_t held_len;
};

enum wscrt_tls_read_result {
    WSCRT_TLS_READ_DATA,      /* `amount` bytes of application data */
    WSCRT_TLS_READ_FULL,      /* the next record does not fit in what is left of the buffer */
    WSCRT_TLS_READ_WANT_MORE, /* no whole record is buffered */
    WSCRT_TLS_READ_CLOSED,    /* close_notify */
    WSCRT_TLS_READ_FAILED,    /* `error` says why; an alert went to the peer */
};

/* ---- during the handshake (tls_records_capture.c) ---- */
/* Starts following the handshake of `ssl` (the SSL's app data is the handler). */
void wscrt_tls_capture_start(struct wscrt_tls_handler *handler);
/* OpenSSL's keylog callback, set on every client context. */
void wscrt_tls_capture_on_keylog(const SSL *ssl, const char *line);
/* Follows the ciphertext the BIO hands OpenSSL (record boundaries). */
void wscrt_tls_capture_on_ciphertext(struct wscrt_tls_handler *handler, const uint8_t *bytes, size_t len);
/* Frees the capture, secrets wiped. */
void wscrt_tls_capture_free(struct wscrt_tls_handler *handler);
/* Frees the SSL and continues with our own record layer if everything allows it now; `due`: the delay has
 * passed (no ticket needed). */
void wscrt_tls_try_hand_over(struct wscrt_tls_handler *handler, bool due);

/* ---- after it (tls_records.c) ---- */
/* The negotiated TLS 1.3 cipher suite when it is one we do and its secrets were captured, else 0. */
uint16_t wscrt_tls_records_suite(const SSL *ssl, const struct wscrt_tls_capture *capture);
/* The record layer continuing from the captured secrets and counts; NULL when out of memory. */
struct wscrt_tls_records *wscrt_tls_records_new(struct wscrt_allocator *allocator, struct wscrt_event_loop *loop,
                                                uint16_t suite, const struct wscrt_tls_capture *capture);
void wscrt_tls_records_destroy(struct wscrt_allocator *allocator, struct wscrt_tls_records *records);
/* Plaintext held back from the reader. */
bool wscrt_tls_records_holding(const struct wscrt_tls_records *records);
/* Decrypts the next record from the handler's stash and input into `out`; a record larger than `capacity` is
 * held (`may_hold`) or left for the next call (WSCRT_TLS_READ_FULL). */
enum wscrt_tls_read_result wscrt_tls_records_read(struct wscrt_tls_handler *handler, uint8_t *out, size_t capacity,
                                                  bool may_hold, size_t *amount, int *error);
/* Protects `len` (at most 16 KiB) bytes of application data into the handler's output message. */
int wscrt_tls_records_write(struct wscrt_tls_handler *handler, const uint8_t *data, size_t len);
/* Sends close_notify. */
void wscrt_tls_records_close_notify(struct wscrt_tls_handler *handler);

#endif
