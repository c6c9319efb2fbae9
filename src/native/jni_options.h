#ifndef WSCRT_JNI_OPTIONS_H
#define WSCRT_JNI_OPTIONS_H
/*
 * The one seam through which option sets cross JNI: Java encodes them with
 * dev.wscrt.internal.NativeOptions into a byte array of named, typed entries;
 * each option set has one reader here (websocket_jni_options.c for connect
 * options, io_jni.c for TLS context options) that walks the entries and fills
 * the C options struct. Adding an option: one put in Java, one name in the
 * reader, and the C core that uses it.
 *
 * Entry: name (ASCII, 0-terminated), type byte, value:
 *   'Z' 1 byte, 'I' int32 LE, 'J' int64 LE, 'S' uint32 LE length + UTF-8 + 0.
 */
#include <jni.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/byte_buf.h"

struct wscrt_jni_option {
    const char *name;
    char type;
    bool boolean;
    int64_t integer;    /* 'I' and 'J' */
    const char *string; /* 'S': 0-terminated, no 0 inside, points into the reader's copy */
    size_t string_len;
};

struct wscrt_jni_options_reader {
    struct wscrt_byte_buf copy; /* the Java bytes, owned by the reader */
    size_t position;
};

/* Copies the first `length` bytes of the array (the encoder's array has room to spare); false (and a pending
 * IllegalArgumentException) if it is null, shorter than `length`, or cannot be copied. */
bool wscrt_jni_options_reader_init(struct wscrt_jni_options_reader *reader, JNIEnv *env, jbyteArray encoded,
                                   jint length);
void wscrt_jni_options_reader_clean_up(struct wscrt_jni_options_reader *reader);

/*
 * The next entry: 1 with `option` filled, 0 at the end, -1 for a malformed
 * encoding (a pending IllegalArgumentException names the entry). Strings
 * stay valid until clean_up.
 */
int wscrt_jni_options_next(struct wscrt_jni_options_reader *reader, JNIEnv *env, struct wscrt_jni_option *option);

/* Whether the entry is `name` with `type`; a matching name with another type throws and returns false. */
bool wscrt_jni_option_is(JNIEnv *env, const struct wscrt_jni_option *option, const char *name, char type);

/* Applies one entry to the options being filled; false when the name is not one it knows. */
typedef bool(wscrt_jni_apply_option_fn)(JNIEnv *env, const struct wscrt_jni_option *option, void *target);

/* Reads every entry through `apply`; false with a pending IllegalArgumentException (malformed encoding,
 * wrong type, or a name `apply` does not know). */
bool wscrt_jni_read_options(JNIEnv *env, struct wscrt_jni_options_reader *reader, wscrt_jni_apply_option_fn *apply,
                            void *target);

#endif
