/*
 * The BIO between OpenSSL and the channel (see tls_handler_impl.h): reads
 * take ciphertext from the stash, then from the bytes the socket handler lent
 * for this call; writes append records to the ciphertext message being
 * filled, sending it left when full.
 */
#include <pthread.h>
#include <string.h>

#include <openssl/bio.h>

#include "common/logging.h"
#include "io/tls_handler_impl.h"

static int s_bio_read_ex(BIO *bio, char *out, size_t len, size_t *read_bytes) {
    struct wscrt_tls_handler *handler = BIO_get_data(bio);
    BIO_clear_retry_flags(bio);
    size_t done = 0;
    size_t stashed = handler->stash.len - handler->stash_offset;
    if (stashed > 0) {
        done = len < stashed ? len : stashed;
        memcpy(out, handler->stash.buffer + handler->stash_offset, done);
        handler->stash_offset += done;
        if (handler->stash_offset == handler->stash.len) {
            wscrt_byte_buf_clean_up(&handler->stash);
            handler->stash_offset = 0;
        }
    }
    if (done < len && handler->input.len > 0) {
        size_t take = len - done < handler->input.len ? len - done : handler->input.len;
        memcpy(out + done, handler->input.ptr, take);
        handler->input.ptr += take;
        handler->input.len -= take;
        done += take;
    }
    wscrt_tls_capture_on_ciphertext(handler, (const uint8_t *)out, done);
    *read_bytes = done;
    if (done == 0) {
        BIO_set_retry_read(bio);
        return 0;
    }
    return 1;
}

static int s_bio_write_ex(BIO *bio, const char *data, size_t len, size_t *written) {
    struct wscrt_tls_handler *handler = BIO_get_data(bio);
    BIO_clear_retry_flags(bio);
    size_t done = 0;
    while (done < len) {
        if (handler->out != NULL && handler->out->data.len == handler->out->data.capacity) {
            wscrt_tls_send_output(handler);
        }
        if (handler->out == NULL) {
            size_t need = len - done;
            size_t capacity = handler->out_hint > need ? handler->out_hint : need;
            if (handler->out_hint == 0 && capacity < WSCRT_TLS_MIN_OUTPUT_MESSAGE) {
                capacity = WSCRT_TLS_MIN_OUTPUT_MESSAGE;
            }
            handler->out = wscrt_tls_ciphertext_message_new(handler, capacity);
        }
        struct wscrt_byte_buf *buf = &handler->out->data;
        size_t take = buf->capacity - buf->len;
        if (take > len - done) {
            take = len - done;
        }
        memcpy(buf->buffer + buf->len, data + done, take);
        buf->len += take;
        done += take;
    }
    *written = len;
    return 1;
}

static long s_bio_ctrl(BIO *bio, int cmd, long num, void *ptr) {
    (void)bio;
    (void)num;
    (void)ptr;
    /* Records leave with the next wscrt_tls_send_output; there is nothing to flush
     * and no other control applies to a channel. */
    return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static int s_bio_create(BIO *bio) {
    BIO_set_init(bio, 1);
    return 1;
}

static int s_bio_destroy(BIO *bio) {
    (void)bio;
    return 1; /* the handler owns itself */
}

/* One method for the process, made on first use and never freed (like
 * OpenSSL's own built-in methods). */
static pthread_once_t s_bio_method_once = PTHREAD_ONCE_INIT;
static BIO_METHOD *s_bio_method;

static void s_bio_method_init(void) {
    int index = BIO_get_new_index();
    BIO_METHOD *method = BIO_meth_new((index > 0 ? index : 0) | BIO_TYPE_SOURCE_SINK, "wscrt channel");
    if (method == NULL) {
        return;
    }
    if (BIO_meth_set_read_ex(method, s_bio_read_ex) != 1 || BIO_meth_set_write_ex(method, s_bio_write_ex) != 1 ||
        BIO_meth_set_ctrl(method, s_bio_ctrl) != 1 || BIO_meth_set_create(method, s_bio_create) != 1 ||
        BIO_meth_set_destroy(method, s_bio_destroy) != 1) {
        BIO_meth_free(method);
        return;
    }
    s_bio_method = method;
}

BIO *wscrt_tls_bio_new(struct wscrt_tls_handler *handler) {
    pthread_once(&s_bio_method_once, s_bio_method_init);
    if (s_bio_method == NULL) {
        WSCRT_LOGF_ERROR(WSCRT_LS_IO_TLS, "the channel BIO method could not be created");
        return NULL;
    }
    BIO *bio = BIO_new(s_bio_method);
    if (bio != NULL) {
        BIO_set_data(bio, handler);
    }
    return bio;
}
