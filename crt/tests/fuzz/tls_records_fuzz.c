/*
 * libFuzzer target for the TLS 1.3 record reader that takes over from
 * OpenSSL after the handshake (crt/io/tls_records.c).
 *
 * Random bytes would all fail authentication, so the harness plays the
 * server: the input is a script of records, which it protects itself with
 * OpenSSL's TLS13-KDF and EVP AEAD calls (not the code under test), then
 * feeds the ciphertext to the reader in pieces, as the socket would.
 *
 * Input: the four configuration bytes of fuzz_support.h, then the script.
 * Byte 0:
 *   bits 0-1  cipher suite: AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305 (3: AES-128-GCM)
 *   bits 2-4  reader capacity: 1, 7, 100, 16383, 16384, 16385, 65536, drawn per call
 *   bit 5     our write side is shut: no alert or KeyUpdate answer goes out
 *   bit 6     the first read sequence number is 2^32 - 3 (the nonce's upper bytes in use)
 * The script is records, each: two bytes of inner plaintext length (big
 * endian), a flags byte (bit 0: flip a bit of the ciphertext, at the
 * position the next byte picks, which is then skipped), then the inner
 * plaintext (content, content type, zero padding: RFC 8446 5.2).
 *
 * Every run checks:
 *   - the application data delivered is, byte for byte, a prefix of the
 *     contents of the type-23 records in order that were not tampered with;
 *   - while every record is simple (application data; a whole NewSessionTicket
 *     or KeyUpdate in one handshake record; close_notify) and untouched, the
 *     reader fails nothing, delivers all of it, stops at close_notify, and
 *     answers each KeyUpdate that asks for it with one record (27 bytes)
 *     unless our write side is shut; the harness follows the server's
 *     KeyUpdates with its own key schedule, so a wrong one fails the next record;
 *   - a tampered record is never delivered, and fails the reader;
 *   - a peer's alert other than close_notify, after simple records, fails the
 *     reader with WSCRT_ERROR_TLS_ALERT_RECEIVED once their data is delivered;
 *   - the reader never hands out more than the capacity it was given;
 *   - zero live bytes in the tracking allocator at the end.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include "common/allocator.h"
#include "common/byte_buf.h"
#include "common/error.h"
#include "fuzz_support.h"
#include "io/tls_handler_impl.h"
#include "io/tls_records.h"

#define S_TAG 16
#define S_MAX_INNER (16384 + 256 - S_TAG)
#define S_MAX_RECORDS 64

/* ---- what tls_records.c calls in the rest of the handler: stand-ins ---- */

static struct wscrt_event_loop_local s_loop_local;
static size_t s_output_records;
static size_t s_output_bytes;

struct wscrt_event_loop_local *wscrt_event_loop_tls_local(struct wscrt_event_loop *loop) {
    (void)loop;
    return &s_loop_local;
}

struct wscrt_io_message *wscrt_tls_ciphertext_message_new(struct wscrt_tls_handler *handler, size_t capacity) {
    struct wscrt_io_message *message = wscrt_mem_calloc(handler->allocator, 1, sizeof(*message));
    message->allocator = handler->allocator;
    wscrt_byte_buf_init(&message->data, handler->allocator, capacity);
    return message;
}

/* "Sends" the output: counts its records (each of our answers is one). */
void wscrt_tls_send_output(struct wscrt_tls_handler *handler) {
    struct wscrt_io_message *message = handler->out;
    if (message == NULL) {
        return;
    }
    handler->out = NULL;
    for (size_t at = 0; at + 5 <= message->data.len;) {
        size_t len = (size_t)message->data.buffer[at + 3] << 8 | message->data.buffer[at + 4];
        s_output_records++;
        s_output_bytes += 5 + len;
        at += 5 + len;
    }
    wscrt_byte_buf_clean_up(&message->data);
    wscrt_mem_release(message->allocator, message);
}

void wscrt_tls_drop_stash(struct wscrt_tls_handler *handler) {
    wscrt_byte_buf_clean_up(&handler->stash);
    handler->stash_offset = 0;
}

/* ---- the server's side ---- */

struct s_suite {
    uint16_t id;
    const char *cipher;
    const char *digest;
    size_t key_len;
    size_t secret_len;
};

static const struct s_suite s_suites[4] = {
    {0x1301, "AES-128-GCM", "SHA256", 16, 32},
    {0x1302, "AES-256-GCM", "SHA384", 32, 48},
    {0x1303, "ChaCha20-Poly1305", "SHA256", 32, 32},
    {0x1301, "AES-128-GCM", "SHA256", 16, 32},
};

static bool s_expand(const struct s_suite *suite, const uint8_t *secret, const char *label, uint8_t *out,
                     size_t len) {
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "TLS13-KDF", NULL);
    EVP_KDF_CTX *ctx = kdf != NULL ? EVP_KDF_CTX_new(kdf) : NULL;
    int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)suite->digest, 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)secret, suite->secret_len),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PREFIX, "tls13 ", 6),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_LABEL, (void *)label, strlen(label)),
        OSSL_PARAM_construct_end(),
    };
    bool ok = ctx != NULL && EVP_KDF_derive(ctx, out, len, params) == 1;
    EVP_KDF_CTX_free(ctx);
    EVP_KDF_free(kdf);
    return ok;
}

struct s_server {
    const struct s_suite *suite;
    uint8_t secret[48];
    uint8_t key[32];
    uint8_t iv[12];
    uint64_t seq;
};

static void s_server_key(struct s_server *server) {
    FUZZ_CHECK(s_expand(server->suite, server->secret, "key", server->key, server->suite->key_len) &&
                   s_expand(server->suite, server->secret, "iv", server->iv, 12),
               "TLS13-KDF failed");
}

static void s_server_update(struct s_server *server) {
    uint8_t next[48];
    FUZZ_CHECK(s_expand(server->suite, server->secret, "traffic upd", next, server->suite->secret_len),
               "TLS13-KDF failed");
    memcpy(server->secret, next, server->suite->secret_len);
    s_server_key(server);
    server->seq = 0;
}

/* Appends the record protecting `inner` to `out`. */
static void s_server_seal(struct s_server *server, const uint8_t *inner, size_t len, struct wscrt_byte_buf *out) {
    uint8_t header[5] = {23, 3, 3, (uint8_t)((len + S_TAG) >> 8), (uint8_t)(len + S_TAG)};
    uint8_t nonce[12];
    memcpy(nonce, server->iv, 12);
    for (int i = 0; i < 8; ++i) {
        nonce[11 - i] ^= (uint8_t)(server->seq >> (8 * i));
    }
    server->seq++;
    wscrt_byte_buf_reserve(out, out->len + 5 + len + S_TAG);
    memcpy(out->buffer + out->len, header, 5);
    uint8_t *body = out->buffer + out->len + 5;
    EVP_CIPHER *cipher = EVP_CIPHER_fetch(NULL, server->suite->cipher, NULL);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n = 0;
    bool ok = cipher != NULL && ctx != NULL && EVP_EncryptInit_ex2(ctx, cipher, server->key, nonce, NULL) == 1 &&
              EVP_EncryptUpdate(ctx, NULL, &n, header, 5) == 1 &&
              (len == 0 || EVP_EncryptUpdate(ctx, body, &n, inner, (int)len) == 1) &&
              EVP_EncryptFinal_ex(ctx, body + len, &n) == 1 &&
              EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, S_TAG, body + len) == 1;
    EVP_CIPHER_CTX_free(ctx);
    EVP_CIPHER_free(cipher);
    FUZZ_CHECK(ok, "sealing failed");
    out->len += 5 + len + S_TAG;
}

/* ---- what a correct reader must do with a script, as far as simple records go ---- */

struct s_expected {
    struct wscrt_byte_buf all_data;    /* contents of the untampered type-23 records, in order */
    size_t simple_data;                /* bytes of all_data the reader must deliver */
    bool simple_to_the_end;            /* every record simple and untampered */
    bool closes;                       /* the simple records end with close_notify */
    size_t answers;                    /* KeyUpdates asking for ours among the simple records */
    size_t tampered;                   /* records tampered with */
    bool ends_with_alert;              /* the first record that is not simple is a well-formed alert, untouched */
};

/* Content type and content length of an inner plaintext (0 type: all zeros). */
static uint8_t s_inner_type(const uint8_t *inner, size_t len, size_t *content_len) {
    while (len > 0 && inner[len - 1] == 0) {
        len--;
    }
    *content_len = len > 0 ? len - 1 : 0;
    return len > 0 ? inner[len - 1] : 0;
}

/* ---- the run ---- */

static const size_t s_capacities[8] = {1, 7, 100, 16383, 16384, 16385, 65536, 0};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct fuzz_input input = fuzz_input_parse(data, size);
    struct wscrt_allocator *allocator = fuzz_allocator();
    const struct s_suite *suite = &s_suites[input.options & 0x3];
    size_t capacity_class = (input.options >> 2) & 0x7;
    bool write_shut = (input.options & 0x20) != 0;
    uint64_t first_seq = (input.options & 0x40) ? (UINT64_C(1) << 32) - 3 : 0;

    struct s_server server = {.suite = suite, .seq = first_seq};
    memset(server.secret, 0x5A, sizeof(server.secret));
    s_server_key(&server);
    struct wscrt_tls_capture capture = {.server_secret_len = suite->secret_len,
                                        .client_secret_len = suite->secret_len,
                                        .records_read = first_seq};
    memcpy(capture.server_secret, server.secret, suite->secret_len);
    memset(capture.client_secret, 0xC3, suite->secret_len);

    /* The script, sealed. */
    struct wscrt_byte_buf wire;
    wscrt_byte_buf_init(&wire, allocator, 1024);
    struct s_expected expected = {.simple_to_the_end = true};
    wscrt_byte_buf_init(&expected.all_data, allocator, 256);
    const uint8_t *script = input.stream;
    size_t left = input.stream_len;
    bool simple = true;
    for (int records = 0; records < S_MAX_RECORDS && left >= 3; ++records) {
        size_t len = (size_t)script[0] << 8 | script[1];
        uint8_t flags = script[2];
        script += 3;
        left -= 3;
        size_t flip_at = 0;
        if (flags & 1) {
            flip_at = left > 0 ? script[0] : 0;
            script += left > 0;
            left -= left > 0;
        }
        len = len < left ? len : left;
        len = len < S_MAX_INNER ? len : S_MAX_INNER;
        const uint8_t *inner = script;
        script += len;
        left -= len;

        size_t start = wire.len;
        s_server_seal(&server, inner, len, &wire);
        bool tampered = (flags & 1) != 0;
        if (tampered) {
            wire.buffer[start + 5 + flip_at % (len + S_TAG)] ^= 0x01;
            expected.tampered++;
        }
        size_t content_len;
        uint8_t type = s_inner_type(inner, len, &content_len);
        if (type == 23 && !tampered) {
            wscrt_byte_buf_append_dynamic(&expected.all_data, wscrt_byte_cursor_from_array(inner, content_len));
        }
        bool key_update = type == 22 && content_len == 5 && inner[0] == 24 && inner[1] == 0 && inner[2] == 0 &&
                          inner[3] == 1 && inner[4] <= 1;
        bool ticket = type == 22 && content_len >= 4 && inner[0] == 4 &&
                      ((size_t)inner[1] << 16 | (size_t)inner[2] << 8 | inner[3]) == content_len - 4;
        bool close_notify = type == 21 && content_len == 2 && inner[1] == 0;
        bool this_simple = !tampered && content_len <= 16384 && (type == 23 || key_update || ticket || close_notify);
        if (simple && this_simple) {
            if (type == 23) {
                expected.simple_data += content_len;
            }
            expected.answers += key_update && inner[4] == 1 && !write_shut;
            if (close_notify) {
                expected.closes = true;
                simple = false; /* nothing after it is read */
            }
        } else if (simple) {
            simple = false;
            expected.simple_to_the_end = false;
            expected.ends_with_alert = !tampered && type == 21 && content_len == 2 && inner[1] != 0;
        }
        if (key_update && !tampered) {
            s_server_update(&server); /* the server's next records use its next key */
        }
    }

    /* The reader, fed in pieces as deliveries would be. */
    struct wscrt_tls_handler handler;
    memset(&handler, 0, sizeof(handler));
    handler.allocator = allocator;
    handler.write_shut_down = write_shut;
    handler.records = wscrt_tls_records_new(allocator, (struct wscrt_event_loop *)&handler, suite->id, &capture);
    FUZZ_CHECK(handler.records != NULL, "no record layer");
    s_output_records = 0;
    s_output_bytes = 0;

    struct fuzz_splitter splitter = fuzz_splitter_new(&input);
    struct fuzz_rng rng = fuzz_rng_new(input.seed ^ 0xA5A5u);
    uint8_t *out = wscrt_mem_acquire(allocator, 65536);
    struct wscrt_byte_buf delivered;
    wscrt_byte_buf_init(&delivered, allocator, 256);
    enum wscrt_tls_read_result last = WSCRT_TLS_READ_WANT_MORE;
    int error = 0;
    size_t offset = 0;
    while (last != WSCRT_TLS_READ_FAILED && last != WSCRT_TLS_READ_CLOSED && offset < wire.len) {
        size_t piece = fuzz_splitter_next(&splitter, wire.len - offset);
        handler.input = wscrt_byte_cursor_from_array(wire.buffer + offset, piece);
        offset += piece;
        /* Deliveries as the handler makes them: records fill a buffer of `capacity` bytes, a record that no
         * longer fits ends the delivery (FULL), one larger than the whole buffer is held and handed out in
         * pieces. Each call hands out at least a byte or ends a delivery: bounded by the bytes sent. */
        size_t capacity = 0;
        size_t got = 0;
        for (size_t calls = 0; calls <= 2 * wire.len + 2; ++calls) {
            if (got == 0) {
                capacity = s_capacities[capacity_class];
                capacity = capacity != 0 ? capacity : s_capacities[fuzz_rng_upto(&rng, 6)];
            }
            size_t amount = 0;
            last = wscrt_tls_records_read(&handler, out + got, capacity - got, got == 0, &amount, &error);
            wscrt_tls_send_output(&handler); /* as the handler's delivery does: a KeyUpdate answer, an alert */
            FUZZ_CHECK(amount <= capacity - got, "%zu bytes handed out for %zu of room", amount, capacity - got);
            FUZZ_CHECK(last != WSCRT_TLS_READ_FULL || got > 0, "FULL although the reader may hold");
            if (last == WSCRT_TLS_READ_DATA) {
                FUZZ_CHECK(amount > 0, "data without bytes");
                wscrt_byte_buf_append_dynamic(&delivered, wscrt_byte_cursor_from_array(out + got, amount));
                got += amount;
                if (got == capacity) {
                    got = 0; /* delivered */
                }
                continue;
            }
            got = 0;
            if (last != WSCRT_TLS_READ_FULL) {
                break;
            }
        }
        /* What is not read waits in the stash, as the handler keeps it. */
        if (handler.input.len > 0 && last != WSCRT_TLS_READ_FAILED && last != WSCRT_TLS_READ_CLOSED) {
            if (handler.stash.buffer == NULL) {
                wscrt_byte_buf_init(&handler.stash, allocator, handler.input.len);
            }
            wscrt_byte_buf_append_dynamic(&handler.stash, handler.input);
        }
        handler.input = wscrt_byte_cursor_from_array(NULL, 0);
    }

    FUZZ_CHECK(delivered.len <= expected.all_data.len &&
                   memcmp(delivered.buffer, expected.all_data.buffer, delivered.len) == 0,
               "delivered %zu bytes that are not a prefix of the %zu sent", delivered.len, expected.all_data.len);
    if (expected.simple_to_the_end || expected.closes) {
        FUZZ_CHECK(last != WSCRT_TLS_READ_FAILED, "failed (error %d) on simple records", error);
        FUZZ_CHECK(delivered.len == expected.simple_data, "delivered %zu of %zu bytes", delivered.len,
                   expected.simple_data);
        FUZZ_CHECK(expected.closes == (last == WSCRT_TLS_READ_CLOSED), "close_notify %s",
                   expected.closes ? "missed" : "invented");
        FUZZ_CHECK(s_output_records == expected.answers && s_output_bytes == 27 * expected.answers,
                   "%zu records (%zu bytes) written for %zu KeyUpdate answers", s_output_records, s_output_bytes,
                   expected.answers);
    } else if (expected.ends_with_alert) {
        FUZZ_CHECK(last == WSCRT_TLS_READ_FAILED && error == WSCRT_ERROR_TLS_ALERT_RECEIVED &&
                       delivered.len == expected.simple_data,
                   "a peer's alert ended in %d (error %d) after %zu of %zu bytes", (int)last, error, delivered.len,
                   expected.simple_data);
    } else if (expected.tampered > 0 && last != WSCRT_TLS_READ_CLOSED) {
        FUZZ_CHECK(last == WSCRT_TLS_READ_FAILED || offset < wire.len, "a tampered record was read without failing");
    }

    wscrt_mem_release(allocator, out);
    wscrt_byte_buf_clean_up(&delivered);
    wscrt_byte_buf_clean_up(&expected.all_data);
    wscrt_byte_buf_clean_up(&wire);
    wscrt_tls_drop_stash(&handler);
    wscrt_tls_records_destroy(allocator, handler.records);
    if (s_loop_local.free_fn != NULL) {
        s_loop_local.free_fn(s_loop_local.value);
        s_loop_local.value = NULL;
        s_loop_local.free_fn = NULL;
    }
    fuzz_check_no_live_memory();
    return 0;
}
