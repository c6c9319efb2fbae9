/* Natives of dev.wscrt.Crt. */
#include <string.h>

#include <openssl/crypto.h>

#include "common/allocator.h"
#include "common/error.h"
#include "common/logging.h"
#include "jni_common.h"
#include "jni_registration.h"

#define WSCRT_VERSION "0.1.0"

enum { SINK_STDERR = 0, SINK_FILE = 1, SINK_SYSTEM_LOGGER = 2 };

static jstring JNICALL s_version(JNIEnv *env, jclass cls) {
    (void)cls;
    return (*env)->NewStringUTF(env, WSCRT_VERSION);
}

/* The OpenSSL linked into this library (statically), as OpenSSL reports itself at run time. */
static jstring JNICALL s_openssl_version(JNIEnv *env, jclass cls) {
    (void)cls;
    return (*env)->NewStringUTF(env, OpenSSL_version(OPENSSL_VERSION));
}

static jlong JNICALL s_memory_in_use(JNIEnv *env, jclass cls) {
    (void)env;
    (void)cls;
    return (jlong)wscrt_mem_tracer_bytes(wscrt_jni_allocator());
}

static jlong JNICALL s_allocation_count(JNIEnv *env, jclass cls) {
    (void)env;
    (void)cls;
    return (jlong)wscrt_mem_tracer_count(wscrt_jni_allocator());
}

static jstring JNICALL s_error_name(JNIEnv *env, jclass cls, jint code) {
    (void)cls;
    return (*env)->NewStringUTF(env, wscrt_error_name(code));
}

static jstring JNICALL s_error_message(JNIEnv *env, jclass cls, jint code) {
    (void)cls;
    return (*env)->NewStringUTF(env, wscrt_error_str(code));
}

/* Runs on whatever thread logs; the logger serializes sink calls. */
static void s_log_to_java(enum wscrt_log_level level, enum wscrt_log_subject subject, const char *line,
                          void *user_data) {
    (void)subject;
    (void)user_data;
    JNIEnv *env = wscrt_jni_get_env();
    if (!env) {
        return;
    }
    jstring text = (*env)->NewStringUTF(env, line);
    if (text) {
        (*env)->CallStaticVoidMethod(env, wscrt_jni.crt_class, wscrt_jni.crt_log_from_native, (jint)level, text);
        (*env)->DeleteLocalRef(env, text);
    }
    wscrt_jni_check_and_clear_exception(env);
}

static void JNICALL s_set_logger(JNIEnv *env, jclass cls, jint sink, jstring path, jint level) {
    (void)cls;
    if (level < WSCRT_LL_NONE || level > WSCRT_LL_TRACE) {
        wscrt_jni_throw_illegal_argument(env, "invalid log level");
        return;
    }
    switch (sink) {
        case SINK_STDERR:
            wscrt_logger_set_stderr((enum wscrt_log_level)level);
            break;
        case SINK_FILE: {
            char *file = wscrt_jni_string_dup(env, path);
            if (!file) {
                wscrt_jni_throw_illegal_argument(env, "path is required");
                return;
            }
            int result = wscrt_logger_set_file(file, (enum wscrt_log_level)level);
            wscrt_mem_release(wscrt_jni_allocator(), file);
            if (result) {
                wscrt_jni_throw_crt_exception(env, wscrt_last_error());
            }
            break;
        }
        case SINK_SYSTEM_LOGGER:
            wscrt_logger_set_sink(s_log_to_java, NULL, (enum wscrt_log_level)level);
            break;
        default:
            wscrt_jni_throw_illegal_argument(env, "unknown log sink");
    }
}

int wscrt_jni_register_crt(JNIEnv *env) {
    static const JNINativeMethod crt_methods[] = {
        {"nativeVersion", "()Ljava/lang/String;", (void *)s_version},
        {"nativeOpensslVersion", "()Ljava/lang/String;", (void *)s_openssl_version},
        {"nativeMemoryInUse0", "()J", (void *)s_memory_in_use},
        {"nativeAllocationCount0", "()J", (void *)s_allocation_count},
        {"errorName", "(I)Ljava/lang/String;", (void *)s_error_name},
        {"errorMessage", "(I)Ljava/lang/String;", (void *)s_error_message},
        {"nativeSetLogger", "(ILjava/lang/String;I)V", (void *)s_set_logger},
    };
    return wscrt_jni_register_natives(env, "dev/wscrt/Crt", crt_methods,
                                      (int)(sizeof(crt_methods) / sizeof(crt_methods[0])));
}
