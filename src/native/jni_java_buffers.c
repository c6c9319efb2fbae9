/* Direct ByteBuffers that Java owns: staging buffers and event-loop read buffers (see jni_java_buffers.h). */
#include "jni_java_buffers.h"

#include "io/event_loop.h"
#include "jni_common.h"

/* Set on each event-loop thread by the read-buffer source's acquire, before the loop runs anything. */
static _Thread_local struct wscrt_jni_read_buffer tl_read_buffer;

jobject wscrt_jni_new_java_direct_buffer(JNIEnv *env, size_t capacity, uint8_t **bytes) {
    if (capacity > INT32_MAX) {
        return NULL;
    }
    jobject local =
        (*env)->CallStaticObjectMethod(env, wscrt_jni.byte_buffer_class, wscrt_jni.allocate_direct, (jint)capacity);
    if (wscrt_jni_check_and_clear_exception(env) || !local) {
        return NULL; /* OutOfMemoryError */
    }
    *bytes = (*env)->GetDirectBufferAddress(env, local);
    jobject global = *bytes ? (*env)->NewGlobalRef(env, local) : NULL;
    (*env)->DeleteLocalRef(env, local);
    return global;
}

/* On the loop's thread before it runs: attaches the thread to the JVM (its first upcall would anyway). */
static uint8_t *s_acquire_read_buffer(size_t size, void **token, void *user_data) {
    (void)user_data;
    JNIEnv *env = wscrt_jni_get_env();
    uint8_t *bytes = NULL;
    jobject buffer = env ? wscrt_jni_new_java_direct_buffer(env, size, &bytes) : NULL;
    if (!buffer) {
        return NULL; /* the loop keeps its own buffer; payloads are then copied */
    }
    tl_read_buffer = (struct wscrt_jni_read_buffer){
        .buffer = buffer,
        .start = (uintptr_t)bytes,
        .end = (uintptr_t)bytes + size,
    };
    *token = buffer;
    return bytes;
}

/* After the loop's thread ended; Java frees the memory once no view of it is left. */
static void s_release_read_buffer(void *token, void *user_data) {
    (void)user_data;
    JNIEnv *env = wscrt_jni_get_env();
    if (env) {
        (*env)->DeleteGlobalRef(env, (jobject)token);
    }
}

static const struct wscrt_event_loop_read_buffer_source s_read_buffer_source = {
    .acquire = s_acquire_read_buffer,
    .release = s_release_read_buffer,
};

const struct wscrt_event_loop_read_buffer_source *wscrt_jni_read_buffer_source(void) {
    return &s_read_buffer_source;
}

const struct wscrt_jni_read_buffer *wscrt_jni_thread_read_buffer(void) {
    return &tl_read_buffer;
}
