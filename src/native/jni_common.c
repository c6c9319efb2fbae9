/* Thread attachment, exceptions, string helpers and the common class cache (see jni_common.h). */
#include "jni_common.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/allocator.h"
#include "common/error.h"
#include "common/logging.h"

struct wscrt_jni_cache wscrt_jni;

/* Process-wide state the architecture names, set once by JNI_OnLoad: the JavaVM, the tracking
 * allocator, and the key whose destructor detaches native threads (running the detach hook first). */
static JavaVM *s_vm;
static struct wscrt_allocator *s_allocator;
static pthread_key_t s_detach_key;
static wscrt_jni_thread_detach_fn *s_on_thread_detach;

struct wscrt_allocator *wscrt_jni_allocator(void) {
    return s_allocator;
}

static void s_detach_thread(void *value) {
    (void)value;
    JNIEnv *env = NULL;
    if (s_vm && (*s_vm)->GetEnv(s_vm, (void **)&env, JNI_VERSION_1_8) == JNI_OK) {
        if (s_on_thread_detach) {
            s_on_thread_detach(env);
        }
        (*s_vm)->DetachCurrentThread(s_vm);
    }
}

JNIEnv *wscrt_jni_get_env(void) {
    JNIEnv *env = NULL;
    if (!s_vm) {
        return NULL;
    }
    jint result = (*s_vm)->GetEnv(s_vm, (void **)&env, JNI_VERSION_1_8);
    if (result == JNI_OK) {
        return env;
    }
    if (result != JNI_EDETACHED) {
        return NULL;
    }
    char name[32] = "wscrt-native";
    pthread_getname_np(pthread_self(), name, sizeof(name));
    JavaVMAttachArgs args = {.version = JNI_VERSION_1_8, .name = name, .group = NULL};
    if ((*s_vm)->AttachCurrentThreadAsDaemon(s_vm, (void **)&env, &args) != JNI_OK) {
        return NULL;
    }
    pthread_setspecific(s_detach_key, (void *)1);
    return env;
}

void wscrt_jni_throw_crt_exception(JNIEnv *env, int error_code) {
    if ((*env)->ExceptionCheck(env)) {
        return;
    }
    jobject exception = (*env)->NewObject(env, wscrt_jni.crt_exception_class, wscrt_jni.crt_exception_ctor,
                                          (jint)error_code);
    if (exception) {
        (*env)->Throw(env, exception);
        (*env)->DeleteLocalRef(env, exception);
    }
}

void wscrt_jni_throw_illegal_argument(JNIEnv *env, const char *message) {
    if (!(*env)->ExceptionCheck(env)) {
        (*env)->ThrowNew(env, wscrt_jni.illegal_argument_class, message);
    }
}

bool wscrt_jni_check_and_clear_exception(JNIEnv *env) {
    if ((*env)->ExceptionCheck(env)) {
        (*env)->ExceptionClear(env);
        return true;
    }
    return false;
}

jstring wscrt_jni_string_from_latin1(JNIEnv *env, struct wscrt_byte_cursor bytes) {
    jchar stack_chars[256] = {0};
    jchar *chars = bytes.len <= 256 ? stack_chars : wscrt_mem_calloc(s_allocator, bytes.len, sizeof(jchar));
    for (size_t i = 0; i < bytes.len; ++i) {
        chars[i] = bytes.ptr[i];
    }
    jstring result = (*env)->NewString(env, chars, (jsize)bytes.len);
    if (chars != stack_chars) {
        wscrt_mem_release(s_allocator, chars);
    }
    return result;
}

char *wscrt_jni_string_dup(JNIEnv *env, jstring s) {
    if (!s) {
        return NULL;
    }
    const char *utf = (*env)->GetStringUTFChars(env, s, NULL);
    if (!utf) {
        return NULL;
    }
    size_t len = strlen(utf);
    char *copy = wscrt_mem_acquire(s_allocator, len + 1);
    memcpy(copy, utf, len + 1);
    (*env)->ReleaseStringUTFChars(env, s, utf);
    return copy;
}

jclass wscrt_jni_find_class(JNIEnv *env, const char *name) {
    jclass local = (*env)->FindClass(env, name);
    if (!local) {
        return NULL;
    }
    jclass global = (*env)->NewGlobalRef(env, local);
    (*env)->DeleteLocalRef(env, local);
    return global;
}

int wscrt_jni_register_natives(JNIEnv *env, const char *class_name, const JNINativeMethod *methods, int count) {
    jclass cls = (*env)->FindClass(env, class_name);
    if (!cls) {
        return -1;
    }
    int result = (*env)->RegisterNatives(env, cls, methods, count) == 0 ? 0 : -1;
    (*env)->DeleteLocalRef(env, cls);
    return result;
}

static int s_cache_classes(JNIEnv *env) {
    struct wscrt_jni_cache *c = &wscrt_jni;
    c->crt_class = wscrt_jni_find_class(env, "dev/wscrt/Crt");
    c->crt_exception_class = wscrt_jni_find_class(env, "dev/wscrt/CrtRuntimeException");
    c->illegal_argument_class = wscrt_jni_find_class(env, "java/lang/IllegalArgumentException");
    c->completable_future_class = wscrt_jni_find_class(env, "java/util/concurrent/CompletableFuture");
    c->string_class = wscrt_jni_find_class(env, "java/lang/String");
    c->byte_buffer_class = wscrt_jni_find_class(env, "java/nio/ByteBuffer");
    if (!c->crt_class || !c->crt_exception_class || !c->illegal_argument_class || !c->completable_future_class ||
        !c->string_class || !c->byte_buffer_class) {
        return -1;
    }
    c->crt_log_from_native = (*env)->GetStaticMethodID(env, c->crt_class, "logFromNative", "(ILjava/lang/String;)V");
    c->crt_exception_ctor = (*env)->GetMethodID(env, c->crt_exception_class, "<init>", "(I)V");
    c->completable_future_complete =
        (*env)->GetMethodID(env, c->completable_future_class, "complete", "(Ljava/lang/Object;)Z");
    c->allocate_direct =
        (*env)->GetStaticMethodID(env, c->byte_buffer_class, "allocateDirect", "(I)Ljava/nio/ByteBuffer;");
    return c->crt_log_from_native && c->crt_exception_ctor && c->completable_future_complete && c->allocate_direct
               ? 0
               : -1;
}

int wscrt_jni_common_init(JavaVM *vm, JNIEnv *env, wscrt_jni_thread_detach_fn *on_thread_detach) {
    s_vm = vm;
    s_on_thread_detach = on_thread_detach;
    if (pthread_key_create(&s_detach_key, s_detach_thread) != 0) {
        return -1;
    }
    s_allocator = wscrt_mem_tracer_new_malloc();
    return s_cache_classes(env);
}
