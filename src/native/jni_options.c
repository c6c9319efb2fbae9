/* The reader of dev.wscrt.internal.NativeOptions encodings (see jni_options.h). */
#include "jni_options.h"

#include <stdio.h>
#include <string.h>

#include "jni_common.h"

bool wscrt_jni_options_reader_init(struct wscrt_jni_options_reader *reader, JNIEnv *env, jbyteArray encoded,
                                   jint length) {
    *reader = (struct wscrt_jni_options_reader){0};
    if (!encoded) {
        wscrt_jni_throw_illegal_argument(env, "options must not be null");
        return false;
    }
    jsize len = (*env)->GetArrayLength(env, encoded);
    if (length < 0 || length > len) {
        wscrt_jni_throw_illegal_argument(env, "options length out of the array's bounds");
        return false;
    }
    len = length;
    wscrt_byte_buf_init(&reader->copy, wscrt_jni_allocator(), (size_t)len + 1);
    (*env)->GetByteArrayRegion(env, encoded, 0, len, (jbyte *)reader->copy.buffer);
    reader->copy.len = (size_t)len;
    return !(*env)->ExceptionCheck(env);
}

void wscrt_jni_options_reader_clean_up(struct wscrt_jni_options_reader *reader) {
    wscrt_byte_buf_clean_up(&reader->copy);
}

static int s_malformed(JNIEnv *env, const char *name) {
    char message[160];
    snprintf(message, sizeof(message), "malformed native options near '%.100s'", name ? name : "");
    wscrt_jni_throw_illegal_argument(env, message);
    return -1;
}

static bool s_take(struct wscrt_jni_options_reader *reader, size_t size, const uint8_t **out) {
    if (reader->copy.len - reader->position < size) {
        return false;
    }
    *out = reader->copy.buffer + reader->position;
    reader->position += size;
    return true;
}

static int64_t s_little_endian(const uint8_t *bytes, size_t size) {
    uint64_t value = 0;
    for (size_t i = 0; i < size; ++i) {
        value |= (uint64_t)bytes[i] << (8 * i);
    }
    return size == 4 ? (int64_t)(int32_t)(uint32_t)value : (int64_t)value;
}

int wscrt_jni_options_next(struct wscrt_jni_options_reader *reader, JNIEnv *env, struct wscrt_jni_option *option) {
    if (reader->position == reader->copy.len) {
        return 0;
    }
    const uint8_t *start = reader->copy.buffer + reader->position;
    const uint8_t *end = memchr(start, 0, reader->copy.len - reader->position);
    if (!end) {
        return s_malformed(env, NULL);
    }
    *option = (struct wscrt_jni_option){.name = (const char *)start};
    reader->position += (size_t)(end - start) + 1;
    const uint8_t *value;
    if (!s_take(reader, 1, &value)) {
        return s_malformed(env, option->name);
    }
    option->type = (char)value[0];
    switch (option->type) {
        case 'Z':
            if (!s_take(reader, 1, &value)) {
                return s_malformed(env, option->name);
            }
            option->boolean = value[0] != 0;
            return 1;
        case 'I':
        case 'J': {
            size_t size = option->type == 'I' ? 4 : 8;
            if (!s_take(reader, size, &value)) {
                return s_malformed(env, option->name);
            }
            option->integer = s_little_endian(value, size);
            return 1;
        }
        case 'S': {
            if (!s_take(reader, 4, &value)) {
                return s_malformed(env, option->name);
            }
            size_t len = (size_t)(uint32_t)s_little_endian(value, 4);
            if (len == SIZE_MAX || !s_take(reader, len + 1, &value) || value[len] != 0) {
                return s_malformed(env, option->name);
            }
            if (memchr(value, 0, len)) {
                char message[160];
                snprintf(message, sizeof(message), "%.100s must not contain a NUL character", option->name);
                wscrt_jni_throw_illegal_argument(env, message);
                return -1;
            }
            option->string = (const char *)value;
            option->string_len = len;
            return 1;
        }
        default:
            return s_malformed(env, option->name);
    }
}

bool wscrt_jni_option_is(JNIEnv *env, const struct wscrt_jni_option *option, const char *name, char type) {
    if (strcmp(option->name, name) != 0) {
        return false;
    }
    if (option->type != type) {
        s_malformed(env, name);
        return false;
    }
    return true;
}

bool wscrt_jni_read_options(JNIEnv *env, struct wscrt_jni_options_reader *reader, wscrt_jni_apply_option_fn *apply,
                            void *target) {
    struct wscrt_jni_option option;
    int more;
    while ((more = wscrt_jni_options_next(reader, env, &option)) == 1) {
        bool known = apply(env, &option, target);
        if ((*env)->ExceptionCheck(env)) {
            return false;
        }
        if (!known) {
            char message[160];
            snprintf(message, sizeof(message), "unknown native option '%.100s'", option.name);
            wscrt_jni_throw_illegal_argument(env, message);
            return false;
        }
    }
    return more == 0;
}
