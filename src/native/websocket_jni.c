/*
 * Natives of dev.wscrt.websocket.WebSocket (any thread): connect, send, read
 * window, close, release. The binding and its upcalls are in
 * websocket_jni_upcalls.c; the connect options reader in websocket_jni_options.c.
 */
#include <stdint.h>

#include "common/allocator.h"
#include "common/error.h"
#include "io/client_bootstrap.h"
#include "io/event_loop.h"
#include "io/event_loop_group.h"
#include "jni_common.h"
#include "jni_registration.h"
#include "websocket_jni.h"

struct wscrt_jni_callbacks_methods wscrt_jni_callbacks;


static bool s_is_argument_error(int error_code) {
    return error_code == WSCRT_ERROR_INVALID_ARGUMENT || error_code == WSCRT_ERROR_HTTP_INVALID_REQUEST;
}

/* Starts connecting; the options come from ConnectEncoding.encode() in Java. */
static void JNICALL s_connect(JNIEnv *env, jclass cls, jobject callbacks, jbyteArray encoded_options,
                              jint encoded_length) {
    (void)cls;
    struct wscrt_jni_options_reader reader;
    struct wscrt_jni_connect_request request = {0};
    if (!wscrt_jni_options_reader_init(&reader, env, encoded_options, encoded_length) ||
        !wscrt_jni_connect_request_read(env, &reader, &request)) {
        goto done;
    }
    struct wscrt_jni_binding *binding = wscrt_jni_binding_new(env, callbacks);
    binding->message_mode = request.message_mode;
    wscrt_jni_binding_set_callbacks(binding, &request.options);
    if (wscrt_websocket_client_connect(&request.options)) {
        int error_code = wscrt_last_error();
        wscrt_jni_binding_release(binding);
        if (s_is_argument_error(error_code)) {
            wscrt_jni_throw_illegal_argument(env, wscrt_error_str(error_code));
        } else {
            wscrt_jni_throw_crt_exception(env, error_code);
        }
    }
done:
    wscrt_jni_connect_request_clean_up(&request);
    wscrt_jni_options_reader_clean_up(&reader);
}

/* A setup failure found before connecting (the handshake transform's), reported like any other: on an
 * event-loop thread of the bootstrap, through the binding's setup upcall. */
struct s_setup_failure {
    struct wscrt_task task;
    struct wscrt_jni_binding *binding;
    struct wscrt_client_bootstrap *bootstrap; /* a reference: keeps the loops alive until the task ran */
    int error_code;
};

static void s_setup_failure_task(struct wscrt_task *task, void *arg, enum wscrt_task_status status) {
    (void)task;
    (void)status; /* cancelled when the loop stops first: reported all the same, exactly once */
    struct s_setup_failure *failure = arg;
    wscrt_jni_binding_fail_setup(failure->binding, failure->error_code);
    struct wscrt_client_bootstrap *bootstrap = failure->bootstrap;
    wscrt_mem_release(wscrt_jni_allocator(), failure);
    wscrt_client_bootstrap_release(bootstrap);
}

static void JNICALL s_fail_setup(JNIEnv *env, jclass cls, jobject callbacks, jlong bootstrap_handle, jint error_code) {
    (void)cls;
    struct wscrt_client_bootstrap *bootstrap = (struct wscrt_client_bootstrap *)(intptr_t)bootstrap_handle;
    struct s_setup_failure *failure = wscrt_mem_calloc(wscrt_jni_allocator(), 1, sizeof(struct s_setup_failure));
    failure->binding = wscrt_jni_binding_new(env, callbacks);
    failure->bootstrap = wscrt_client_bootstrap_acquire(bootstrap);
    failure->error_code = error_code;
    wscrt_task_init(&failure->task, s_setup_failure_task, failure);
    struct wscrt_event_loop *loop =
        wscrt_event_loop_group_get_next_loop(wscrt_client_bootstrap_get_event_loop_group(bootstrap));
    wscrt_event_loop_schedule_task_now(loop, &failure->task);
}

/* Queues a frame; 0, or the error code of a refused one. A send whose callback Java queued
 * (with_completion) holds a reference to the binding until it ends. */
static int s_send(struct wscrt_jni_binding *binding, jint opcode, struct wscrt_byte_cursor payload, jboolean fin,
                  jboolean with_completion) {
    struct wscrt_websocket *websocket = wscrt_jni_binding_websocket(binding);
    struct wscrt_websocket_send_frame_options options = {
        .opcode = (uint8_t)opcode,
        .fin = fin,
        .payload = payload,
        .on_complete = with_completion ? wscrt_jni_on_send_complete : NULL,
        .user_data = binding,
    };
    if (with_completion) {
        wscrt_jni_binding_acquire(binding);
    }
    if (wscrt_websocket_send_frame(websocket, &options) == WSCRT_OP_SUCCESS) {
        return 0;
    }
    int error_code = wscrt_last_error();
    if (with_completion) {
        wscrt_jni_binding_release(binding);
    }
    return error_code;
}

/* An invalid frame is the caller's mistake (IllegalArgumentException); a full send queue is a named error. */
static void s_throw_send_error(JNIEnv *env, int error_code) {
    if (error_code == WSCRT_ERROR_WEBSOCKET_INVALID_FRAME) {
        wscrt_jni_throw_illegal_argument(env, wscrt_error_str(error_code));
    } else {
        wscrt_jni_throw_crt_exception(env, error_code);
    }
}

static void JNICALL s_send_array(JNIEnv *env, jclass cls, jlong handle, jint opcode, jbyteArray payload,
                                 jint offset, jint length, jboolean fin, jboolean with_completion) {
    (void)cls;
    struct wscrt_jni_binding *binding = (struct wscrt_jni_binding *)(intptr_t)handle;
    int error_code;
    if (!payload || length == 0) {
        error_code = s_send(binding, opcode, (struct wscrt_byte_cursor){0}, fin, with_completion);
    } else {
        /* The copy into the frame (masked on the way) happens inside the critical section: no other copy. */
        uint8_t *bytes = (*env)->GetPrimitiveArrayCritical(env, payload, NULL);
        if (!bytes) {
            return; /* OutOfMemoryError pending */
        }
        error_code =
            s_send(binding, opcode, wscrt_byte_cursor_from_array(bytes + offset, (size_t)length), fin, with_completion);
        (*env)->ReleasePrimitiveArrayCritical(env, payload, bytes, JNI_ABORT);
    }
    if (error_code) {
        s_throw_send_error(env, error_code);
    }
}

static void JNICALL s_send_direct(JNIEnv *env, jclass cls, jlong handle, jint opcode, jobject payload, jint offset,
                                  jint length, jboolean fin, jboolean with_completion) {
    (void)cls;
    uint8_t *bytes = (*env)->GetDirectBufferAddress(env, payload);
    if (!bytes && length > 0) {
        wscrt_jni_throw_illegal_argument(env, "not a direct buffer");
        return;
    }
    struct wscrt_jni_binding *binding = (struct wscrt_jni_binding *)(intptr_t)handle;
    struct wscrt_byte_cursor cursor =
        length > 0 ? wscrt_byte_cursor_from_array(bytes + offset, (size_t)length) : (struct wscrt_byte_cursor){0};
    int error_code = s_send(binding, opcode, cursor, fin, with_completion);
    if (error_code) {
        s_throw_send_error(env, error_code);
    }
}

static void JNICALL s_increment_read_window(JNIEnv *env, jclass cls, jlong handle, jlong size) {
    (void)env;
    (void)cls;
    struct wscrt_jni_binding *binding = (struct wscrt_jni_binding *)(intptr_t)handle;
    wscrt_websocket_increment_read_window(wscrt_jni_binding_websocket(binding), (uint64_t)size);
}

static void JNICALL s_close(JNIEnv *env, jclass cls, jlong handle) {
    (void)env;
    (void)cls;
    struct wscrt_jni_binding *binding = (struct wscrt_jni_binding *)(intptr_t)handle;
    wscrt_websocket_close(wscrt_jni_binding_websocket(binding));
}

static void JNICALL s_abort(JNIEnv *env, jclass cls, jlong handle) {
    (void)env;
    (void)cls;
    struct wscrt_jni_binding *binding = (struct wscrt_jni_binding *)(intptr_t)handle;
    wscrt_websocket_abort(wscrt_jni_binding_websocket(binding));
}

static void JNICALL s_release(JNIEnv *env, jclass cls, jlong handle) {
    (void)env;
    (void)cls;
    struct wscrt_jni_binding *binding = (struct wscrt_jni_binding *)(intptr_t)handle;
    wscrt_websocket_release(wscrt_jni_binding_websocket(binding));
    wscrt_jni_binding_release(binding);
}

static jlong JNICALL s_queued_bytes(JNIEnv *env, jclass cls, jlong handle) {
    (void)env;
    (void)cls;
    struct wscrt_jni_binding *binding = (struct wscrt_jni_binding *)(intptr_t)handle;
    return (jlong)wscrt_websocket_get_queued_bytes(wscrt_jni_binding_websocket(binding));
}

static jboolean JNICALL s_notify_when_queued_at_most(JNIEnv *env, jclass cls, jlong handle, jlong bytes) {
    (void)env;
    (void)cls;
    struct wscrt_jni_binding *binding = (struct wscrt_jni_binding *)(intptr_t)handle;
    return wscrt_websocket_notify_when_queued_at_most(wscrt_jni_binding_websocket(binding), (uint64_t)bytes)
               ? JNI_TRUE
               : JNI_FALSE;
}

static jstring JNICALL s_subprotocol(JNIEnv *env, jclass cls, jlong handle) {
    (void)cls;
    struct wscrt_jni_binding *binding = (struct wscrt_jni_binding *)(intptr_t)handle;
    const char *subprotocol = wscrt_websocket_get_subprotocol(wscrt_jni_binding_websocket(binding));
    return subprotocol[0] ? wscrt_jni_string_from_latin1(env, wscrt_byte_cursor_from_c_str(subprotocol)) : NULL;
}

static jstring JNICALL s_tls_version(JNIEnv *env, jclass cls, jlong handle) {
    (void)cls;
    struct wscrt_jni_binding *binding = (struct wscrt_jni_binding *)(intptr_t)handle;
    const char *version = wscrt_websocket_get_tls_version(wscrt_jni_binding_websocket(binding));
    return version[0] ? (*env)->NewStringUTF(env, version) : NULL;
}

static jboolean JNICALL s_tls_session_resumed(JNIEnv *env, jclass cls, jlong handle) {
    (void)env;
    (void)cls;
    struct wscrt_jni_binding *binding = (struct wscrt_jni_binding *)(intptr_t)handle;
    return wscrt_websocket_get_tls_session_resumed(wscrt_jni_binding_websocket(binding)) ? JNI_TRUE : JNI_FALSE;
}

static jstring JNICALL s_alpn_protocol(JNIEnv *env, jclass cls, jlong handle) {
    (void)cls;
    struct wscrt_jni_binding *binding = (struct wscrt_jni_binding *)(intptr_t)handle;
    const char *protocol = wscrt_websocket_get_alpn_protocol(wscrt_jni_binding_websocket(binding));
    return protocol[0] ? wscrt_jni_string_from_latin1(env, wscrt_byte_cursor_from_c_str(protocol)) : NULL;
}

static jstring JNICALL s_extensions(JNIEnv *env, jclass cls, jlong handle) {
    (void)cls;
    struct wscrt_jni_binding *binding = (struct wscrt_jni_binding *)(intptr_t)handle;
    const char *extensions = wscrt_websocket_get_extensions(wscrt_jni_binding_websocket(binding));
    return extensions[0] ? wscrt_jni_string_from_latin1(env, wscrt_byte_cursor_from_c_str(extensions)) : NULL;
}

int wscrt_jni_register_websocket(JNIEnv *env) {
    static const JNINativeMethod methods[] = {
        {"nativeConnect", "(Ldev/wscrt/websocket/WebSocketCallbacks;[BI)V", (void *)s_connect},
        {"nativeFailSetup", "(Ldev/wscrt/websocket/WebSocketCallbacks;JI)V", (void *)s_fail_setup},
        {"nativeSendArray", "(JI[BIIZZ)V", (void *)s_send_array},
        {"nativeSendDirect", "(JILjava/nio/ByteBuffer;IIZZ)V", (void *)s_send_direct},
        {"nativeIncrementReadWindow", "(JJ)V", (void *)s_increment_read_window},
        {"nativeClose", "(J)V", (void *)s_close},
        {"nativeRelease", "(J)V", (void *)s_release},
        {"nativeQueuedBytes", "(J)J", (void *)s_queued_bytes},
        {"nativeNotifyWhenQueuedAtMost", "(JJ)Z", (void *)s_notify_when_queued_at_most},
        {"nativeAbort", "(J)V", (void *)s_abort},
        {"nativeSubprotocol", "(J)Ljava/lang/String;", (void *)s_subprotocol},
        {"nativeTlsVersion", "(J)Ljava/lang/String;", (void *)s_tls_version},
        {"nativeAlpnProtocol", "(J)Ljava/lang/String;", (void *)s_alpn_protocol},
        {"nativeTlsSessionResumed", "(J)Z", (void *)s_tls_session_resumed},
        {"nativeExtensions", "(J)Ljava/lang/String;", (void *)s_extensions},
    };
    jclass callbacks = (*env)->FindClass(env, "dev/wscrt/websocket/WebSocketCallbacks");
    if (!callbacks) {
        return -1;
    }
    struct wscrt_jni_callbacks_methods *m = &wscrt_jni_callbacks;
    m->on_setup = (*env)->GetMethodID(env, callbacks, "onSetup", "(JII[Ljava/lang/String;[BLjava/lang/String;)Z");
    m->on_shutdown = (*env)->GetMethodID(env, callbacks, "onShutdown", "(I)V");
    m->on_frame_events =
        (*env)->GetMethodID(env, callbacks, "onFrameEvents", "([JILjava/nio/ByteBuffer;Ljava/nio/ByteBuffer;)Z");
    m->send_completions =
        (*env)->GetFieldID(env, callbacks, "sendCompletions", "Ldev/wscrt/websocket/SendCompletions;");
    m->callbacks_class = (*env)->NewGlobalRef(env, callbacks);
    (*env)->DeleteLocalRef(env, callbacks);
    jclass completions = (*env)->FindClass(env, "dev/wscrt/websocket/SendCompletions");
    if (!completions) {
        return -1;
    }
    m->on_sends_complete = (*env)->GetMethodID(env, completions, "complete", "(II)V");
    m->on_send_queue_drained = (*env)->GetMethodID(env, completions, "queueDrained", "(J)J");
    (*env)->DeleteLocalRef(env, completions);
    if (!m->on_setup || !m->on_shutdown || !m->on_frame_events || !m->send_completions || !m->on_sends_complete ||
        !m->on_send_queue_drained || !m->callbacks_class) {
        return -1;
    }
    return wscrt_jni_register_natives(env, "dev/wscrt/websocket/WebSocket", methods,
                                      (int)(sizeof(methods) / sizeof(methods[0])));
}
