/*
 * TLS 1.3 record protection after the hand-over from OpenSSL (design in
 * tls_records.h): records in from the handler's stash and input, out into
 * its ciphertext messages; post-handshake messages (session tickets are
 * skipped, KeyUpdate honoured and answered); alerts; a KeyUpdate of our own
 * before a key has protected WSCRT_TLS_RECORDS_PER_KEY records.
 */
#include "io/tls_records.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/hmac.h>

#include "common/allocator.h"
#include "common/error.h"
#include "common/logging.h"
#include "io/tls_handler_impl.h"

#define S_HEADER_LEN 5
#define S_TAG_LEN 16
#define S_IV_LEN 12
#define S_TYPE_ALERT 21
#define S_TYPE_HANDSHAKE 22
#define S_TYPE_APPLICATION_DATA 23
/* RFC 8446 5.2: the ciphertext of a record is at most 2^14 + 256 bytes. */
#define S_MAX_CIPHERTEXT (WSCRT_TLS_MAX_RECORD_PLAINTEXT + 256)
#define S_MT_NEW_SESSION_TICKET 4
#define S_MT_KEY_UPDATE 24
#define S_ALERT_CLOSE_NOTIFY 0
#define S_ALERT_UNEXPECTED_MESSAGE 10
#define S_ALERT_BAD_RECORD_MAC 20
#define S_ALERT_RECORD_OVERFLOW 22
#define S_ALERT_ILLEGAL_PARAMETER 47
#define S_ALERT_DECODE_ERROR 50

/* HKDF-Expand-Label(secret, label, "", out_len) of RFC 8446 7.1; every length asked for here is at most the
 * hash's, so HKDF-Expand is its first block: HMAC(secret, HkdfLabel || 0x01). */
static bool s_expand_label(const EVP_MD *md, const uint8_t *secret, size_t secret_len, const char *label,
                           uint8_t *out, size_t out_len) {
    static const char prefix[] = "tls13 ";
    size_t label_len = strlen(label);
    uint8_t info[2 + 1 + 32 + 1 + 1];
    size_t n = 0;
    info[n++] = (uint8_t)(out_len >> 8);
    info[n++] = (uint8_t)out_len;
    info[n++] = (uint8_t)(sizeof(prefix) - 1 + label_len);
    memcpy(info + n, prefix, sizeof(prefix) - 1);
    n += sizeof(prefix) - 1;
    memcpy(info + n, label, label_len);
    n += label_len;
    info[n++] = 0; /* empty context */
    info[n++] = 1; /* the block counter */
    uint8_t block[EVP_MAX_MD_SIZE];
    unsigned int block_len = 0;
    bool ok = out_len <= (size_t)EVP_MD_get_size(md) &&
              HMAC(md, secret, (int)secret_len, info, n, block, &block_len) != NULL && block_len >= out_len;
    if (ok) {
        memcpy(out, block, out_len);
    }
    OPENSSL_cleanse(block, sizeof(block));
    return ok;
}

/* The key and IV of `direction` from its secret, sequence number 0. */
static bool s_key(struct wscrt_tls_records *records, struct wscrt_tls_direction *direction) {
    direction->key_id = ++records->ciphers->last_key_id;
    direction->seq = 0;
    return s_expand_label(records->md, direction->secret, records->secret_len, "key", direction->key,
                          records->key_len) &&
           s_expand_label(records->md, direction->secret, records->secret_len, "iv", direction->iv, S_IV_LEN);
}

/* application_traffic_secret_N+1 (RFC 8446 7.2), then keys from it. */
static bool s_next_key(struct wscrt_tls_records *records, struct wscrt_tls_direction *direction) {
    uint8_t next[EVP_MAX_MD_SIZE];
    bool ok = s_expand_label(records->md, direction->secret, records->secret_len, "traffic upd", next,
                             records->secret_len);
    if (ok) {
        memcpy(direction->secret, next, records->secret_len);
    }
    OPENSSL_cleanse(next, sizeof(next));
    return ok && s_key(records, direction);
}

/* What a TLS 1.3 cipher suite uses; false for the suites we leave to OpenSSL (the CCM ones). */
static bool s_suite(uint16_t suite, const EVP_CIPHER **cipher, const EVP_MD **md, size_t *key_len) {
    switch (suite) {
        case 0x1301: /* TLS_AES_128_GCM_SHA256 */
            *cipher = EVP_aes_128_gcm(), *md = EVP_sha256(), *key_len = 16;
            return true;
        case 0x1302: /* TLS_AES_256_GCM_SHA384 */
            *cipher = EVP_aes_256_gcm(), *md = EVP_sha384(), *key_len = 32;
            return true;
        case 0x1303: /* TLS_CHACHA20_POLY1305_SHA256 */
            *cipher = EVP_chacha20_poly1305(), *md = EVP_sha256(), *key_len = 32;
            return true;
        default:
            return false;
    }
}

uint16_t wscrt_tls_records_suite(const SSL *ssl, const struct wscrt_tls_capture *capture) {
    const SSL_CIPHER *current = SSL_get_current_cipher(ssl);
    uint16_t suite = current != NULL ? SSL_CIPHER_get_protocol_id(current) : 0;
    const EVP_CIPHER *cipher;
    const EVP_MD *md;
    size_t key_len;
    if (!s_suite(suite, &cipher, &md, &key_len)) {
        return 0;
    }
    size_t secret_len = (size_t)EVP_MD_get_size(md);
    bool have_secrets = capture->client_secret_len == secret_len && capture->server_secret_len == secret_len;
    return have_secrets ? suite : 0;
}

static void s_loop_ciphers_free(void *value) {
    struct wscrt_tls_loop_ciphers *ciphers = value;
    EVP_CIPHER_CTX_free(ciphers->encrypt);
    EVP_CIPHER_CTX_free(ciphers->decrypt);
    OPENSSL_free(ciphers);
}

/* The loop's cipher contexts, made on first use; NULL when out of memory. The holder comes from OpenSSL's
 * allocator, like the contexts in it: it belongs to the loop, not to a connection, so it stays out of the
 * per-connection accounting of ours (a connection's native bytes are back to zero when it is gone). */
static struct wscrt_tls_loop_ciphers *s_loop_ciphers(struct wscrt_event_loop *loop) {
    struct wscrt_event_loop_local *local = wscrt_event_loop_tls_local(loop);
    if (local->value == NULL) {
        struct wscrt_tls_loop_ciphers *ciphers = OPENSSL_zalloc(sizeof(*ciphers));
        if (ciphers == NULL) {
            return NULL;
        }
        ciphers->encrypt = EVP_CIPHER_CTX_new();
        ciphers->decrypt = EVP_CIPHER_CTX_new();
        if (ciphers->encrypt == NULL || ciphers->decrypt == NULL) {
            s_loop_ciphers_free(ciphers);
            return NULL;
        }
        local->value = ciphers;
        local->free_fn = s_loop_ciphers_free;
    }
    return local->value;
}

/* The loop's context for `direction`, keyed with its key if another key was in it. */
static EVP_CIPHER_CTX *s_cipher(struct wscrt_tls_records *records, const struct wscrt_tls_direction *direction,
                                bool encrypt) {
    struct wscrt_tls_loop_ciphers *ciphers = records->ciphers;
    EVP_CIPHER_CTX *context = encrypt ? ciphers->encrypt : ciphers->decrypt;
    uint64_t *key_id = encrypt ? &ciphers->encrypt_key_id : &ciphers->decrypt_key_id;
    const EVP_CIPHER **cipher = encrypt ? &ciphers->encrypt_cipher : &ciphers->decrypt_cipher;
    if (*key_id == direction->key_id) {
        return context;
    }
    *key_id = 0;
    /* The same cipher as before: only the key changes, without a new provider context or fetch. */
    const EVP_CIPHER *with = *cipher == records->cipher ? NULL : records->cipher;
    if (EVP_CipherInit_ex(context, with, NULL, direction->key, NULL, encrypt ? 1 : 0) != 1) {
        *cipher = NULL;
        return NULL;
    }
    *cipher = records->cipher;
    *key_id = direction->key_id;
    return context;
}

struct wscrt_tls_records *wscrt_tls_records_new(struct wscrt_allocator *allocator, struct wscrt_event_loop *loop,
                                                uint16_t suite, const struct wscrt_tls_capture *capture) {
    const EVP_CIPHER *cipher;
    const EVP_MD *md;
    size_t key_len;
    struct wscrt_tls_loop_ciphers *ciphers = s_loop_ciphers(loop);
    if (ciphers == NULL || !s_suite(suite, &cipher, &md, &key_len)) {
        return NULL;
    }
    struct wscrt_tls_records *records = wscrt_mem_calloc(allocator, 1, sizeof(struct wscrt_tls_records));
    records->ciphers = ciphers;
    records->md = md;
    records->cipher = cipher;
    records->key_len = key_len;
    records->secret_len = (size_t)EVP_MD_get_size(md);
    records->records_per_key = WSCRT_TLS_RECORDS_PER_KEY;
    memcpy(records->write.secret, capture->client_secret, records->secret_len);
    memcpy(records->read.secret, capture->server_secret, records->secret_len);
    if (!s_key(records, &records->write) || !s_key(records, &records->read)) {
        wscrt_tls_records_destroy(allocator, records);
        return NULL;
    }
    records->write.seq = capture->records_written;
    records->read.seq = capture->records_read;
    return records;
}

/* The record-sized buffer goes as soon as the reader has taken its plaintext. */
static void s_free_held(struct wscrt_allocator *allocator, struct wscrt_tls_records *records) {
    wscrt_mem_release(allocator, records->held);
    records->held = NULL;
    records->held_offset = 0;
    records->held_len = 0;
}

void wscrt_tls_records_destroy(struct wscrt_allocator *allocator, struct wscrt_tls_records *records) {
    if (records == NULL) {
        return;
    }
    s_free_held(allocator, records);
    OPENSSL_cleanse(records, sizeof(*records));
    wscrt_mem_release(allocator, records);
}

bool wscrt_tls_records_holding(const struct wscrt_tls_records *records) {
    return records != NULL && records->held_offset < records->held_len;
}

/* The nonce of the direction's next record (RFC 8446 5.3). */
static void s_nonce(const struct wscrt_tls_direction *direction, uint8_t nonce[S_IV_LEN]) {
    memcpy(nonce, direction->iv, S_IV_LEN);
    for (int i = 0; i < 8; ++i) {
        nonce[S_IV_LEN - 1 - i] ^= (uint8_t)(direction->seq >> (8 * i));
    }
}

/* ---- writing ---- */

static uint8_t *s_reserve_output(struct wscrt_tls_handler *handler, size_t len) {
    if (handler->out != NULL && handler->out->data.capacity - handler->out->data.len < len) {
        wscrt_tls_send_output(handler);
    }
    if (handler->out == NULL) {
        size_t capacity = handler->out_hint > len ? handler->out_hint : len;
        if (handler->out_hint == 0 && capacity < WSCRT_TLS_MIN_OUTPUT_MESSAGE) {
            capacity = WSCRT_TLS_MIN_OUTPUT_MESSAGE;
        }
        handler->out = wscrt_tls_ciphertext_message_new(handler, capacity);
    }
    return handler->out->data.buffer + handler->out->data.len;
}

static int s_seal(struct wscrt_tls_handler *handler, uint8_t content_type, const uint8_t *data, size_t len) {
    struct wscrt_tls_direction *write = &handler->records->write;
    size_t body = len + 1 + S_TAG_LEN;
    uint8_t *record = s_reserve_output(handler, S_HEADER_LEN + body);
    record[0] = S_TYPE_APPLICATION_DATA;
    record[1] = 3;
    record[2] = 3;
    record[3] = (uint8_t)(body >> 8);
    record[4] = (uint8_t)body;
    uint8_t nonce[S_IV_LEN];
    s_nonce(write, nonce);
    int n = 0;
    EVP_CIPHER_CTX *aead = s_cipher(handler->records, write, true);
    bool ok = aead != NULL && EVP_EncryptInit_ex(aead, NULL, NULL, NULL, nonce) == 1 &&
              EVP_EncryptUpdate(aead, NULL, &n, record, S_HEADER_LEN) == 1 &&
              (len == 0 || EVP_EncryptUpdate(aead, record + S_HEADER_LEN, &n, data, (int)len) == 1) &&
              EVP_EncryptUpdate(aead, record + S_HEADER_LEN + len, &n, &content_type, 1) == 1 &&
              EVP_EncryptFinal_ex(aead, record + S_HEADER_LEN + len + 1, &n) == 1 &&
              EVP_CIPHER_CTX_ctrl(aead, EVP_CTRL_AEAD_GET_TAG, S_TAG_LEN, record + S_HEADER_LEN + len + 1) == 1;
    if (!ok) {
        return wscrt_raise_error(WSCRT_ERROR_TLS_IO_FAILURE);
    }
    write->seq++;
    handler->out->data.len += S_HEADER_LEN + body;
    return WSCRT_OP_SUCCESS;
}

/* KeyUpdate, then our next key (RFC 8446 4.6.3). */
static int s_update_write_key(struct wscrt_tls_handler *handler, uint8_t request) {
    const uint8_t key_update[5] = {S_MT_KEY_UPDATE, 0, 0, 1, request};
    if (s_seal(handler, S_TYPE_HANDSHAKE, key_update, sizeof(key_update))) {
        return WSCRT_OP_ERR;
    }
    if (!s_next_key(handler->records, &handler->records->write)) {
        return wscrt_raise_error(WSCRT_ERROR_TLS_IO_FAILURE);
    }
    WSCRT_LOGF_DEBUG(WSCRT_LS_IO_TLS, "id=%p: KeyUpdate sent (update %srequested)", (void *)handler,
                     request ? "" : "not ");
    return WSCRT_OP_SUCCESS;
}

int wscrt_tls_records_write(struct wscrt_tls_handler *handler, const uint8_t *data, size_t len) {
    if (s_seal(handler, S_TYPE_APPLICATION_DATA, data, len)) {
        return WSCRT_OP_ERR;
    }
    /* The KeyUpdate's own record is the one over the limit. */
    if (handler->records->write.seq + 1 >= handler->records->records_per_key) {
        return s_update_write_key(handler, 0);
    }
    return WSCRT_OP_SUCCESS;
}

static void s_send_alert(struct wscrt_tls_handler *handler, uint8_t description) {
    const uint8_t alert[2] = {description == S_ALERT_CLOSE_NOTIFY ? 1 : 2, description};
    if (!handler->write_shut_down && s_seal(handler, S_TYPE_ALERT, alert, sizeof(alert)) == WSCRT_OP_SUCCESS) {
        wscrt_tls_send_output(handler);
    }
}

void wscrt_tls_records_close_notify(struct wscrt_tls_handler *handler) {
    s_send_alert(handler, S_ALERT_CLOSE_NOTIFY);
}

/* ---- reading ---- */

/* Bytes of the ciphertext waiting: first the stash, then the borrowed input. */
static size_t s_available(const struct wscrt_tls_handler *handler) {
    return handler->stash.len - handler->stash_offset + handler->input.len;
}

static uint8_t s_byte_at(const struct wscrt_tls_handler *handler, size_t index) {
    size_t stashed = handler->stash.len - handler->stash_offset;
    return index < stashed ? handler->stash.buffer[handler->stash_offset + index]
                           : handler->input.ptr[index - stashed];
}

/* The next `len` bytes in one piece (a record split between stash and input is joined in the stash). */
static const uint8_t *s_contiguous(struct wscrt_tls_handler *handler, size_t len) {
    size_t stashed = handler->stash.len - handler->stash_offset;
    if (stashed == 0) {
        return handler->input.ptr;
    }
    if (stashed < len) {
        struct wscrt_byte_cursor rest = wscrt_byte_cursor_from_array(handler->input.ptr, len - stashed);
        wscrt_byte_buf_append_dynamic(&handler->stash, rest);
        handler->input.ptr += rest.len;
        handler->input.len -= rest.len;
    }
    return handler->stash.buffer + handler->stash_offset;
}

static void s_consume(struct wscrt_tls_handler *handler, size_t len) {
    size_t stashed = handler->stash.len - handler->stash_offset;
    if (stashed > 0) {
        handler->stash_offset += len; /* s_contiguous put the whole record in the stash */
        if (handler->stash_offset == handler->stash.len) {
            wscrt_tls_drop_stash(handler);
        }
        return;
    }
    handler->input.ptr += len;
    handler->input.len -= len;
}

static enum wscrt_tls_read_result s_fail(struct wscrt_tls_handler *handler, uint8_t alert, int error_code,
                                         int *error, const char *why) {
    WSCRT_LOGF_DEBUG(WSCRT_LS_IO_TLS, "id=%p: %s (sending alert %d)", (void *)handler, why, (int)alert);
    s_send_alert(handler, alert);
    *error = error_code;
    return WSCRT_TLS_READ_FAILED;
}

/* Post-handshake messages, possibly split across records: a NewSessionTicket is skipped (the session cache
 * took the ticket that came before the hand-over); a KeyUpdate changes the read key and, when asked, ours. */
static bool s_read_handshake(struct wscrt_tls_handler *handler, const uint8_t *content, size_t len, int *error) {
    struct wscrt_tls_records *records = handler->records;
    while (len > 0) {
        if (records->message_header_len < sizeof(records->message_header)) {
            records->message_header[records->message_header_len++] = *content++;
            len--;
            if (records->message_header_len < sizeof(records->message_header)) {
                continue;
            }
            const uint8_t *header = records->message_header;
            records->message_left = (size_t)header[1] << 16 | (size_t)header[2] << 8 | header[3];
            if (header[0] == S_MT_KEY_UPDATE ? records->message_left != 1
                                              : header[0] != S_MT_NEW_SESSION_TICKET) {
                s_fail(handler, header[0] == S_MT_KEY_UPDATE ? S_ALERT_DECODE_ERROR : S_ALERT_UNEXPECTED_MESSAGE,
                       WSCRT_ERROR_TLS_IO_FAILURE, error, "unexpected post-handshake message");
                return false;
            }
        }
        size_t take = records->message_left < len ? records->message_left : len;
        if (records->message_header[0] == S_MT_KEY_UPDATE && take > 0) {
            records->key_update = content[0];
        }
        content += take;
        len -= take;
        records->message_left -= take;
        if (records->message_left > 0) {
            continue;
        }
        records->message_header_len = 0;
        if (records->message_header[0] != S_MT_KEY_UPDATE) {
            continue;
        }
        /* The new key starts with the next record, so nothing may follow in this one (RFC 8446 5.1). */
        if (len > 0) {
            s_fail(handler, S_ALERT_UNEXPECTED_MESSAGE, WSCRT_ERROR_TLS_IO_FAILURE, error,
                   "data after a KeyUpdate in its record");
            return false;
        }
        if (records->key_update > 1) {
            s_fail(handler, S_ALERT_ILLEGAL_PARAMETER, WSCRT_ERROR_TLS_IO_FAILURE, error,
                   "KeyUpdate with an invalid request");
            return false;
        }
        /* Asked to update ours too: answered at once, unless we have said close_notify. */
        bool answer = records->key_update == 1 && !handler->write_shut_down;
        if (!s_next_key(records, &records->read) || (answer && s_update_write_key(handler, 0))) {
            *error = WSCRT_ERROR_TLS_IO_FAILURE;
            return false;
        }
        WSCRT_LOGF_DEBUG(WSCRT_LS_IO_TLS, "id=%p: KeyUpdate received", (void *)handler);
    }
    return true;
}

/* Decrypts a record whose body (ciphertext and tag) is `body` into `out`, the last plaintext byte into *last:
 * `out` needs room for the plaintext less one byte, what the content can be at most. */
static bool s_open(struct wscrt_tls_records *records, const uint8_t *header, const uint8_t *body, size_t body_len,
                   uint8_t *out, uint8_t *last) {
    struct wscrt_tls_direction *read = &records->read;
    uint8_t nonce[S_IV_LEN];
    s_nonce(read, nonce);
    size_t plaintext_len = body_len - S_TAG_LEN;
    int n = 0;
    EVP_CIPHER_CTX *aead = s_cipher(records, read, false);
    return aead != NULL && EVP_DecryptInit_ex(aead, NULL, NULL, NULL, nonce) == 1 &&
           EVP_DecryptUpdate(aead, NULL, &n, header, S_HEADER_LEN) == 1 &&
           (plaintext_len == 1 || EVP_DecryptUpdate(aead, out, &n, body, (int)plaintext_len - 1) == 1) &&
           EVP_DecryptUpdate(aead, last, &n, body + plaintext_len - 1, 1) == 1 &&
           EVP_CIPHER_CTX_ctrl(aead, EVP_CTRL_AEAD_SET_TAG, S_TAG_LEN, (void *)(body + plaintext_len)) == 1 &&
           EVP_DecryptFinal_ex(aead, out, &n) == 1;
}

static size_t s_hand_out_held(struct wscrt_allocator *allocator, struct wscrt_tls_records *records, uint8_t *out,
                              size_t capacity) {
    size_t amount = records->held_len - records->held_offset;
    amount = amount < capacity ? amount : capacity;
    memcpy(out, records->held + records->held_offset, amount);
    records->held_offset += amount;
    if (records->held_offset == records->held_len) {
        s_free_held(allocator, records);
    }
    return amount;
}

enum wscrt_tls_read_result wscrt_tls_records_read(struct wscrt_tls_handler *handler, uint8_t *out, size_t capacity,
                                                  bool may_hold, size_t *amount, int *error) {
    struct wscrt_tls_records *records = handler->records;
    *amount = 0;
    if (wscrt_tls_records_holding(records)) {
        *amount = s_hand_out_held(handler->allocator, records, out, capacity);
        return WSCRT_TLS_READ_DATA;
    }
    for (;;) {
        if (s_available(handler) < S_HEADER_LEN) {
            return WSCRT_TLS_READ_WANT_MORE;
        }
        uint8_t header[S_HEADER_LEN];
        for (size_t i = 0; i < S_HEADER_LEN; ++i) {
            header[i] = s_byte_at(handler, i);
        }
        size_t body_len = (size_t)header[3] << 8 | header[4];
        if (header[0] != S_TYPE_APPLICATION_DATA) {
            return s_fail(handler, S_ALERT_UNEXPECTED_MESSAGE, WSCRT_ERROR_TLS_IO_FAILURE, error,
                          "a record that is not application_data");
        }
        if (body_len > S_MAX_CIPHERTEXT) {
            return s_fail(handler, S_ALERT_RECORD_OVERFLOW, WSCRT_ERROR_TLS_IO_FAILURE, error, "record too long");
        }
        if (body_len < S_TAG_LEN + 1) {
            return s_fail(handler, S_ALERT_BAD_RECORD_MAC, WSCRT_ERROR_TLS_IO_FAILURE, error, "record too short");
        }
        if (s_available(handler) < S_HEADER_LEN + body_len) {
            return WSCRT_TLS_READ_WANT_MORE;
        }
        size_t room_needed = body_len - S_TAG_LEN - 1;
        bool direct = capacity >= room_needed;
        if (!direct && !may_hold) {
            return WSCRT_TLS_READ_FULL;
        }
        uint8_t *plaintext = out;
        if (!direct) {
            if (records->held == NULL) {
                records->held = wscrt_mem_acquire(handler->allocator, WSCRT_TLS_MAX_RECORD_PLAINTEXT + 256);
            }
            plaintext = records->held;
        }
        const uint8_t *record = s_contiguous(handler, S_HEADER_LEN + body_len);
        uint8_t last = 0;
        bool opened = records->read.seq != UINT64_MAX &&
                      s_open(records, header, record + S_HEADER_LEN, body_len, plaintext, &last);
        s_consume(handler, S_HEADER_LEN + body_len);
        if (!opened) {
            return s_fail(handler, S_ALERT_BAD_RECORD_MAC, WSCRT_ERROR_TLS_IO_FAILURE, error,
                          "a record failed authentication");
        }
        records->read.seq++;

        /* The content type is the last non-zero byte; zeros after it are padding. */
        size_t inner_len = body_len - S_TAG_LEN;
        uint8_t content_type = last;
        size_t content_len = inner_len - 1;
        while (content_type == 0 && content_len > 0) {
            content_type = plaintext[--content_len];
        }
        if (content_len > WSCRT_TLS_MAX_RECORD_PLAINTEXT) {
            return s_fail(handler, S_ALERT_RECORD_OVERFLOW, WSCRT_ERROR_TLS_IO_FAILURE, error, "plaintext too long");
        }
        if (content_type != S_TYPE_HANDSHAKE && records->message_header_len + records->message_left > 0) {
            return s_fail(handler, S_ALERT_UNEXPECTED_MESSAGE, WSCRT_ERROR_TLS_IO_FAILURE, error,
                          "a handshake message interrupted");
        }
        switch (content_type) {
            case S_TYPE_APPLICATION_DATA:
                if (content_len == 0) {
                    s_free_held(handler->allocator, records);
                    continue; /* allowed, and nothing to deliver */
                }
                if (direct) {
                    *amount = content_len;
                } else {
                    records->held_offset = 0;
                    records->held_len = content_len;
                    *amount = s_hand_out_held(handler->allocator, records, out, capacity);
                }
                return WSCRT_TLS_READ_DATA;
            case S_TYPE_HANDSHAKE:
                if (content_len == 0) {
                    return s_fail(handler, S_ALERT_UNEXPECTED_MESSAGE, WSCRT_ERROR_TLS_IO_FAILURE, error,
                                  "empty handshake record");
                }
                bool read_ok = s_read_handshake(handler, plaintext, content_len, error);
                s_free_held(handler->allocator, records);
                if (!read_ok) {
                    return WSCRT_TLS_READ_FAILED;
                }
                continue;
            case S_TYPE_ALERT: {
                uint8_t description = content_len == 2 ? plaintext[1] : 0;
                s_free_held(handler->allocator, records);
                if (content_len != 2) {
                    return s_fail(handler, S_ALERT_DECODE_ERROR, WSCRT_ERROR_TLS_IO_FAILURE, error,
                                  "malformed alert");
                }
                if (description == S_ALERT_CLOSE_NOTIFY) {
                    return WSCRT_TLS_READ_CLOSED;
                }
                WSCRT_LOGF_DEBUG(WSCRT_LS_IO_TLS, "id=%p: received alert %d (%s)", (void *)handler,
                                 (int)description, SSL_alert_desc_string_long(description));
                *error = WSCRT_ERROR_TLS_ALERT_RECEIVED;
                return WSCRT_TLS_READ_FAILED;
            }
            default:
                s_free_held(handler->allocator, records);
                return s_fail(handler, S_ALERT_UNEXPECTED_MESSAGE, WSCRT_ERROR_TLS_IO_FAILURE, error,
                              "unknown content type");
        }
    }
}
