#ifndef WSCRT_IO_TLS_HANDLER_IMPL_H
#define WSCRT_IO_TLS_HANDLER_IMPL_H
/*
 * TLS client handler: OpenSSL driven through an in-memory BIO.
 *
 * The BIO is ours (a BIO_METHOD with read/write callbacks), not BIO_s_mem:
 *   - OpenSSL reads ciphertext straight from the bytes the socket handler
 *     lends us (the event loop's read buffer); only what it has not read when
 *     process_read_data returns is copied, into `stash`, which is freed as
 *     soon as it is drained;
 *   - OpenSSL writes records straight into the wscrt_io_message that goes to
 *     the socket handler.
 * So no connection owns a BIO buffer, and with SSL_MODE_RELEASE_BUFFERS an
 * idle connection owns no record buffer either (BIO_s_mem would keep its
 * high-water mark allocated for the life of the connection, and copy once
 * more in each direction).
 *
 * Reading:  socket --ciphertext--> input/stash --BIO--> SSL --plaintext--> loop's plaintext buffer --> right slot
 * Writing:  right slot --plaintext msg--> SSL_write (16 KiB pieces) --BIO--> ciphertext msg --> socket
 *
 * After a TLS 1.3 handshake the SSL is freed as soon as it holds nothing
 * (tls_records.h), and `records` takes its place in both paths: it reads
 * whole records from input/stash and writes records into the ciphertext
 * message itself, with no BIO in between.
 *
 * Plaintext is decrypted into the event loop's plaintext buffer (64 KiB: up
 * to four records per delivery) and lent to the right slot for the duration
 * of the call, like the socket handler lends the loop's read buffer (the JNI
 * binding makes both Java-owned, so payloads in them reach Java without a
 * copy). A nested TLS handler on the same thread (TLS through a TLS proxy)
 * finds that buffer busy and uses a one-record heap buffer for that call
 * instead.
 *
 * Write completions are chained: each ciphertext message carries, in a small
 * header just before its bytes, how many plaintext messages end in it; the
 * socket handler completes ciphertext messages in order, so those plaintext
 * messages are the first ones of `awaiting`.
 *
 * Files (all private to the TLS handler; OpenSSL configuration shared by
 * connections is in tls_context.c):
 *   tls_handler.c          creation, the handshake, failures, shutdown, destroy
 *   tls_handler_read.c     ciphertext in, plaintext delivered within the window,
 *                          the drain after the peer's end of stream
 *   tls_handler_write.c    plaintext in, records out, write completions
 *   tls_bio.c              the BIO between OpenSSL and the channel
 *   tls_errors.c           OpenSSL failures, verify results and alerts -> wscrt errors
 *   tls_records_capture.c  following a TLS 1.3 handshake; the hand-over from OpenSSL
 *   tls_records.c          TLS 1.3 records after the hand-over (tls_records.h)
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "common/byte_buf.h"
#include "common/linked_list.h"
#include "io/channel.h"
#include "io/event_loop.h"
#include "io/tls_handler.h"
#include "io/tls_records.h"
#include "io/tls_session_cache.h"

/* The largest plaintext a TLS record carries (RFC 8446 5.1). */
#define WSCRT_TLS_MAX_RECORD_PLAINTEXT 16384
/* What a record adds to its plaintext: 22 bytes for TLS 1.3 AES-GCM, 29 for
 * TLS 1.2 GCM, more for CBC suites. Only an estimate, for window and message
 * sizes; nothing breaks if a record is bigger. */
#define WSCRT_TLS_RECORD_OVERHEAD 64
/* Ciphertext window while handshaking: a full record and then some, topped
 * up after every read. */
#define WSCRT_TLS_HANDSHAKE_WINDOW (2 * WSCRT_TLS_MAX_RECORD_PLAINTEXT)
/* Ciphertext handed to the socket and not yet written, above which we stop
 * encrypting until completions come back: bounds memory for a large send. */
#define WSCRT_TLS_MAX_CIPHERTEXT_IN_FLIGHT (256 * 1024)
/* Plaintext per ciphertext message when encrypting a large message (four records). */
#define WSCRT_TLS_OUTPUT_CHUNK (4 * WSCRT_TLS_MAX_RECORD_PLAINTEXT)
/* Smallest message for handshake records and alerts (one ClientHello or a
 * client Certificate flight fits). */
#define WSCRT_TLS_MIN_OUTPUT_MESSAGE 2048
/* After the peer's end of stream, plaintext still held for a reader with no
 * room waits for the reader's window increments for at most this long; a
 * reader slower than that loses the rest. */
#define WSCRT_TLS_DRAIN_LIMIT_MS 10000

/* Loop thread only: every field below. */
enum wscrt_tls_state {
    WSCRT_TLS_STATE_INIT,        /* created, start_negotiation not called */
    WSCRT_TLS_STATE_NEGOTIATING, /* ClientHello sent */
    WSCRT_TLS_STATE_NEGOTIATED,  /* handshake done, records flow */
    WSCRT_TLS_STATE_FAILED,      /* a handshake or record failure; the channel is (being) shut down */
};

struct wscrt_tls_handler {
    struct wscrt_channel_handler base;
    struct wscrt_allocator *allocator;
    struct wscrt_channel_slot *slot;
    struct wscrt_tls_ctx *ctx; /* a reference */
    SSL *ssl;                  /* NULL once a TLS 1.3 connection is handed over to `records` */
    struct wscrt_tls_capture *capture; /* following the handshake until the hand-over (or TLS 1.2) */
    struct wscrt_tls_records *records; /* our record layer after the hand-over */
    struct wscrt_task hand_over_task;  /* the hand-over without a session ticket */
    bool hand_over_task_scheduled;
    char *server_name;         /* owned, NULL when none */
    char *protocol;            /* owned ALPN result, NULL when none */
    struct wscrt_tls_session_key session_key; /* the peer, for the context's session cache */
    uint64_t kept_session_id;  /* after the hand-over: the cached session to drop if the connection fails */
    bool session_resumed;      /* the handshake resumed a session */
    const char *version_name;  /* OpenSSL's static string, NULL before the handshake */
    uint32_t timeout_ms;
    wscrt_tls_on_negotiation_result_fn *on_negotiation_result;
    void *user_data;
    enum wscrt_tls_state state;
    bool client_cert_requested; /* the server sent a CertificateRequest */

    /* Reading. */
    struct wscrt_byte_cursor input; /* borrowed ciphertext, set only inside process_read_data */
    struct wscrt_byte_buf stash;    /* ciphertext received but not yet read by OpenSSL */
    size_t stash_offset;            /* bytes of `stash` already read */
    struct wscrt_task deliver_task; /* resumes delivery after a window increment, also while draining */
    bool deliver_task_scheduled;
    bool read_shutdown_started;
    bool read_shut_down;
    int read_shutdown_error;
    bool read_shutdown_free_scarce;
    bool draining;                  /* read shutdown started with data still held: delivered as the window allows */
    struct wscrt_task drain_deadline_task; /* ends a drain the reader does not finish in time */
    bool close_notify_received; /* nothing after it is data */

    /* Writing. */
    struct wscrt_linked_list pending;  /* plaintext messages not fully encrypted, FIFO */
    struct wscrt_linked_list awaiting; /* fully encrypted, waiting for their ciphertext to be written */
    struct wscrt_io_message *out;      /* ciphertext message being filled */
    size_t out_hint;                   /* capacity wanted for the next `out`; 0 = WSCRT_TLS_MIN_OUTPUT_MESSAGE or more */
    size_t in_flight;                  /* ciphertext bytes sent left and not yet completed */
    bool write_shut_down;
    struct wscrt_linked_list failed;   /* plaintext messages to fail from completion_task */
    int failed_error;
    struct wscrt_task completion_task;
    bool completion_task_scheduled;

    /* Handshake timeout and deferred channel shutdown. */
    struct wscrt_task timeout_task;
    bool timeout_task_scheduled;
    struct wscrt_task shutdown_task;
    bool shutdown_task_scheduled;
    int shutdown_error;
};

/* In front of each ciphertext message's bytes. */
struct wscrt_tls_record_header {
    size_t completes; /* plaintext messages whose last byte is in this message */
};
static inline struct wscrt_channel *wscrt_tls_channel(struct wscrt_tls_handler *handler) {
    return handler->slot->channel;
}

static inline struct wscrt_event_loop *wscrt_tls_loop(struct wscrt_tls_handler *handler) {
    return wscrt_channel_get_event_loop(wscrt_tls_channel(handler));
}

static inline size_t wscrt_tls_add_saturating(size_t a, size_t b) {
    return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

/* Ciphertext bytes that `plaintext` bytes become, roughly (window and message sizes only). */
static inline size_t wscrt_tls_ciphertext_estimate(size_t plaintext) {
    if (plaintext == SIZE_MAX) {
        return SIZE_MAX;
    }
    size_t records = plaintext / WSCRT_TLS_MAX_RECORD_PLAINTEXT + 1;
    return wscrt_tls_add_saturating(plaintext, records * WSCRT_TLS_RECORD_OVERHEAD);
}

/* ---- tls_handler.c ---- */
void wscrt_tls_drive_handshake(struct wscrt_tls_handler *handler);
void wscrt_tls_cancel_timeout(struct wscrt_tls_handler *handler);
/* The handshake failed: report once, then (if asked) take the channel down. */
void wscrt_tls_negotiation_failed(struct wscrt_tls_handler *handler, int error_code, bool shut_down_channel);
/* A record-layer failure after the handshake: the channel shuts down at once with it. */
void wscrt_tls_connection_failed(struct wscrt_tls_handler *handler, int error_code);

/* ---- tls_handler_read.c ---- */
int wscrt_tls_process_read_data(struct wscrt_channel_handler *base, struct wscrt_channel_slot *slot,
                                struct wscrt_byte_cursor data);
int wscrt_tls_increment_read_window(struct wscrt_channel_handler *base, struct wscrt_channel_slot *slot, size_t size);
int wscrt_tls_shutdown_read(struct wscrt_tls_handler *handler, int error_code, bool free_scarce);
/* Decrypts and delivers plaintext while the right slot has room. */
void wscrt_tls_deliver(struct wscrt_tls_handler *handler);
void wscrt_tls_drop_stash(struct wscrt_tls_handler *handler);
void wscrt_tls_on_deliver_task(struct wscrt_task *task, void *arg, enum wscrt_task_status status);
void wscrt_tls_on_drain_deadline(struct wscrt_task *task, void *arg, enum wscrt_task_status status);

/* ---- tls_handler_write.c ---- */
int wscrt_tls_process_write_message(struct wscrt_channel_handler *base, struct wscrt_channel_slot *slot,
                                    struct wscrt_io_message *message);
int wscrt_tls_shutdown_write(struct wscrt_tls_handler *handler, int error_code, bool free_scarce);
/* Encrypts queued plaintext until none is left or (unless `everything`) enough is in flight. */
void wscrt_tls_encrypt(struct wscrt_tls_handler *handler, bool everything);
/* A ciphertext message with room for `capacity` bytes and the completion-chain header in front. */
struct wscrt_io_message *wscrt_tls_ciphertext_message_new(struct wscrt_tls_handler *handler, size_t capacity);
/* Sends the ciphertext message being filled to the left slot. */
void wscrt_tls_send_output(struct wscrt_tls_handler *handler);
void wscrt_tls_complete_plaintext(struct wscrt_tls_handler *handler, struct wscrt_io_message *message,
                                  int error_code);
/* Fails a plaintext message from a task: never inside the sender's call. */
void wscrt_tls_fail_plaintext_later(struct wscrt_tls_handler *handler, struct wscrt_io_message *message,
                                    int error_code);
/* Runs the completions of the messages failed so far. */
void wscrt_tls_run_failed(struct wscrt_tls_handler *handler);
void wscrt_tls_on_completion_task(struct wscrt_task *task, void *arg, enum wscrt_task_status status);

/* ---- tls_bio.c ---- */
/* A BIO that reads the handler's input and stash and writes into its output messages; NULL on failure. */
BIO *wscrt_tls_bio_new(struct wscrt_tls_handler *handler);

/* ---- tls_errors.c ---- */
/* Turns a failed SSL call into a wscrt error code; logs and clears OpenSSL's error queue. */
int wscrt_tls_map_failure(struct wscrt_tls_handler *handler, int ssl_error, bool handshaking);

#endif
