/*
 * Natives of dev.wscrt.websocket.WebSocket and the upcalls to
 * WebSocketCallbacks.
 *
 * A binding joins one C websocket to its Java WebSocketCallbacks (held by a
 * global ref; the WebSocket object itself is never held, so a dropped one can
 * be collected). It is ref-counted: one reference for the connection (until
 * its shutdown or failed setup was reported), one for the Java WebSocket
 * (until its Cleaner or nativeRelease), one per pending send that has a
 * completion callback.
 *
 * Incoming frame events are batched per event-loop thread: the C callbacks
 * append compact records, and one upcall per network read (on_incoming_batch_end)
 * hands them all to Java together with a direct ByteBuffer over the payload
 * bytes, which stay valid until that upcall returns.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "common/allocator.h"
#include "common/error.h"
#include "common/logging.h"
#include "http/http_request.h"
#include "http/websocket.h"
#include "io/client_bootstrap.h"
#include "io/tls_handler.h"
#include "jni_common.h"

enum { EVENT_BEGIN = 1, EVENT_PAYLOAD = 2, EVENT_COMPLETE = 3 };
enum { EVENT_LONGS = 4 };
/* In a payload event's first long: the bytes are in the batch's control buffer, not the data span. */
#define EVENT_FLAG_CONTROL_BUFFER (1LL << 24)
/* A batch is flushed early when it holds this many events (bounded memory per loop thread). */
#define MAX_BATCH_EVENTS 16384
/* Control-frame payloads (<= 125 bytes each) are copied here: the decoder reuses its buffer for the
 * next control frame, before the batch reaches Java. */
#define CONTROL_BUFFER_SIZE (16 * 1024)
/* Data payloads of one batch come from one buffer; a pointer farther than this from the first one
 * starts a new batch (the Java side addresses the span with int offsets). */
#define MAX_DATA_SPAN ((uintptr_t)1 << 30)

struct ws_binding {
    atomic_int ref_count;
    /* A global ref until setup succeeded, then a weak global ref: from then on the Java WebSocket
     * keeps the callbacks alive, and a WebSocket whose callbacks reference it can still be collected. */
    jobject callbacks;
    bool callbacks_weak;
    struct wscrt_websocket *websocket;
    /* The event batch of the connection's event-loop thread (all its callbacks run there), cached so
     * that adding an event costs no thread-local lookup. Loop thread only. */
    struct event_batch *batch;
};

struct event_batch {
    struct ws_binding *owner;
    size_t count;
    uintptr_t data_low;  /* lowest data payload address in the batch, 0 = none yet */
    uintptr_t data_high; /* end of the highest data payload */
    size_t control_len;
    jlongArray java_events; /* global ref, MAX_BATCH_EVENTS * EVENT_LONGS long, reused by every flush */
    uint8_t control[CONTROL_BUFFER_SIZE];
    int64_t events[MAX_BATCH_EVENTS * EVENT_LONGS];
};

/* One batch per event-loop thread (with a reusable Java long[] for the events), freed by
 * wscrt_jni_websocket_thread_exit when the thread detaches from the JVM. */
static _Thread_local struct event_batch *tl_batch;

static struct event_batch *s_thread_batch(void) {
    if (!tl_batch) {
        /* Not from the tracking allocator: it belongs to the thread, not to a connection. */
        tl_batch = wscrt_mem_calloc(wscrt_default_allocator(), 1, sizeof(struct event_batch));
        wscrt_jni_get_env(); /* attaches the thread, so that its exit reaches the cleanup below */
    }
    return tl_batch;
}

void wscrt_jni_websocket_thread_exit(JNIEnv *env) {
    if (!tl_batch) {
        return;
    }
    if (tl_batch->java_events) {
        (*env)->DeleteGlobalRef(env, tl_batch->java_events);
    }
    wscrt_mem_release(wscrt_default_allocator(), tl_batch);
    tl_batch = NULL;
}

static void s_binding_acquire(struct ws_binding *binding) {
    atomic_fetch_add(&binding->ref_count, 1);
}

static void s_binding_release(struct ws_binding *binding) {
    if (atomic_fetch_sub(&binding->ref_count, 1) != 1) {
        return;
    }
    JNIEnv *env = wscrt_jni_get_env();
    if (env) {
        if (binding->callbacks_weak) {
            (*env)->DeleteWeakGlobalRef(env, binding->callbacks);
        } else {
            (*env)->DeleteGlobalRef(env, binding->callbacks);
        }
    }
    wscrt_mem_release(wscrt_jni_allocator(), binding);
}

/* A local ref to the callbacks, or NULL once the WebSocket (and with it its callbacks) was collected. */
static jobject s_callbacks(JNIEnv *env, struct ws_binding *binding) {
    return (*env)->NewLocalRef(env, binding->callbacks);
}

/* ---- upcalls (event-loop thread) ---------------------------------------------------------------------------- */

static bool s_flush_batch(JNIEnv *env, struct event_batch *batch) {
    struct ws_binding *binding = batch->owner;
    size_t count = batch->count;
    uintptr_t low = batch->data_low;
    uintptr_t high = batch->data_high;
    size_t control_len = batch->control_len;
    batch->count = 0;
    batch->owner = NULL;
    batch->data_low = 0;
    batch->data_high = 0;
    batch->control_len = 0;
    if (count == 0 || !binding) {
        return true;
    }
    jobject data = NULL;
    jobject control = NULL;
    if (high > low) {
        for (size_t i = 0; i < count; ++i) {
            int64_t *event = &batch->events[i * EVENT_LONGS];
            if ((event[0] & 0xFF) == EVENT_PAYLOAD && !(event[0] & EVENT_FLAG_CONTROL_BUFFER)) {
                event[2] = (int64_t)((uintptr_t)event[2] - low);
            }
        }
        data = (*env)->NewDirectByteBuffer(env, (void *)low, (jlong)(high - low));
    }
    if (control_len > 0) {
        control = (*env)->NewDirectByteBuffer(env, batch->control, (jlong)control_len);
    }
    if (!batch->java_events) {
        jlongArray local = (*env)->NewLongArray(env, MAX_BATCH_EVENTS * EVENT_LONGS);
        batch->java_events = local ? (*env)->NewGlobalRef(env, local) : NULL;
        if (local) {
            (*env)->DeleteLocalRef(env, local);
        }
    }
    jlongArray events = batch->java_events;
    if (!events || (high > low && !data) || (control_len > 0 && !control)) {
        wscrt_jni_check_and_clear_exception(env);
        return false;
    }
    (*env)->SetLongArrayRegion(env, events, 0, (jsize)(count * EVENT_LONGS), (const jlong *)batch->events);
    jobject callbacks = s_callbacks(env, binding);
    jboolean ok = JNI_TRUE;
    bool threw = false;
    if (callbacks) {
        ok = (*env)->CallBooleanMethod(env, callbacks, wscrt_jni.callbacks_on_frame_events, events, (jint)count, data,
                                       control);
        threw = wscrt_jni_check_and_clear_exception(env);
        (*env)->DeleteLocalRef(env, callbacks);
    }
    if (data) {
        (*env)->DeleteLocalRef(env, data);
    }
    if (control) {
        (*env)->DeleteLocalRef(env, control);
    }
    return ok && !threw;
}

/* Whether a payload cannot join the current batch. */
static bool s_payload_needs_new_batch(const struct event_batch *batch, bool is_control, uintptr_t start,
                                      size_t len) {
    if (is_control) {
        return batch->control_len + len > CONTROL_BUFFER_SIZE;
    }
    if (batch->data_high == 0) {
        return false;
    }
    uintptr_t low = start < batch->data_low ? start : batch->data_low;
    uintptr_t high = start + len > batch->data_high ? start + len : batch->data_high;
    return high - low > MAX_DATA_SPAN;
}

static bool s_add_event(struct ws_binding *binding, int kind, const struct wscrt_websocket_incoming_frame *frame,
                        int64_t a, int64_t b) {
    if (kind == EVENT_PAYLOAD && b == 0) {
        return true;
    }
    if (!binding->batch) {
        binding->batch = s_thread_batch();
    }
    struct event_batch *batch = binding->batch;
    bool ok = true;
    bool is_control = frame->opcode >= 0x8;
    bool full = batch->count == MAX_BATCH_EVENTS ||
                (kind == EVENT_PAYLOAD && s_payload_needs_new_batch(batch, is_control, (uintptr_t)a, (size_t)b));
    if (batch->owner != binding || full) {
        JNIEnv *env = wscrt_jni_get_env();
        if (env && batch->count > 0) {
            struct ws_binding *previous = batch->owner;
            bool flushed = s_flush_batch(env, batch);
            ok = previous == binding ? flushed : true; /* another connection's batch: its own business */
        }
        batch->owner = binding;
    }
    int64_t header = kind | ((int64_t)frame->opcode << 8) | ((int64_t)(frame->fin ? 1 : 0) << 16);
    if (kind == EVENT_PAYLOAD) {
        if (is_control) {
            memcpy(batch->control + batch->control_len, (const void *)(uintptr_t)a, (size_t)b);
            a = (int64_t)batch->control_len;
            batch->control_len += (size_t)b;
            header |= EVENT_FLAG_CONTROL_BUFFER;
        } else {
            uintptr_t start = (uintptr_t)a;
            uintptr_t end = start + (uintptr_t)b;
            if (batch->data_high == 0 || start < batch->data_low) {
                batch->data_low = start;
            }
            if (end > batch->data_high) {
                batch->data_high = end;
            }
        }
    }
    int64_t *event = &batch->events[batch->count * EVENT_LONGS];
    event[0] = header;
    event[1] = (int64_t)frame->payload_length;
    event[2] = a;
    event[3] = b;
    batch->count++;
    return ok;
}

static bool s_on_frame_begin(struct wscrt_websocket *websocket, const struct wscrt_websocket_incoming_frame *frame,
                             void *user_data) {
    (void)websocket;
    return s_add_event(user_data, EVENT_BEGIN, frame, 0, 0);
}

static bool s_on_frame_payload(struct wscrt_websocket *websocket, const struct wscrt_websocket_incoming_frame *frame,
                               struct wscrt_byte_cursor data, void *user_data) {
    (void)websocket;
    return s_add_event(user_data, EVENT_PAYLOAD, frame, (int64_t)(uintptr_t)data.ptr, (int64_t)data.len);
}

static bool s_on_frame_complete(struct wscrt_websocket *websocket,
                                const struct wscrt_websocket_incoming_frame *frame, int error_code,
                                void *user_data) {
    (void)websocket;
    return s_add_event(user_data, EVENT_COMPLETE, frame, 0, error_code);
}

static bool s_on_batch_end(struct wscrt_websocket *websocket, void *user_data) {
    (void)websocket;
    struct event_batch *batch = s_thread_batch();
    if (batch->owner != user_data || batch->count == 0) {
        return true;
    }
    JNIEnv *env = wscrt_jni_get_env();
    return env ? s_flush_batch(env, batch) : false;
}

static jobjectArray s_headers_to_java(JNIEnv *env, const struct wscrt_websocket_setup_data *setup) {
    size_t count = setup->num_handshake_response_headers;
    jobjectArray fields = (*env)->NewObjectArray(env, (jsize)(count * 2), wscrt_jni.string_class, NULL);
    for (size_t i = 0; fields && i < count; ++i) {
        jstring name = wscrt_jni_string_from_latin1(env, setup->handshake_response_headers[i].name);
        jstring value = wscrt_jni_string_from_latin1(env, setup->handshake_response_headers[i].value);
        (*env)->SetObjectArrayElement(env, fields, (jsize)(2 * i), name);
        (*env)->SetObjectArrayElement(env, fields, (jsize)(2 * i + 1), value);
        (*env)->DeleteLocalRef(env, name);
        (*env)->DeleteLocalRef(env, value);
    }
    return fields;
}

static void s_on_connection_setup(const struct wscrt_websocket_setup_data *setup, void *user_data) {
    struct ws_binding *binding = user_data;
    JNIEnv *env = wscrt_jni_get_env();
    if (!env) {
        return;
    }
    jint status = setup->handshake_response_status ? *setup->handshake_response_status : -1;
    jobjectArray headers = setup->handshake_response_status ? s_headers_to_java(env, setup) : NULL;
    jbyteArray body = NULL;
    if (setup->handshake_response_body) {
        jsize len = (jsize)setup->handshake_response_body->len;
        body = (*env)->NewByteArray(env, len);
        if (body) {
            (*env)->SetByteArrayRegion(env, body, 0, len, (const jbyte *)setup->handshake_response_body->ptr);
        }
    }
    jlong handle = 0;
    if (setup->error_code == 0) {
        binding->websocket = setup->websocket;
        s_binding_acquire(binding); /* the Java WebSocket's reference */
        handle = (jlong)(intptr_t)binding;
    }
    jboolean ok = (*env)->CallBooleanMethod(env, binding->callbacks, wscrt_jni.callbacks_on_setup, handle,
                                            (jint)setup->error_code, status, headers, body);
    bool threw = wscrt_jni_check_and_clear_exception(env);
    if (headers) {
        (*env)->DeleteLocalRef(env, headers);
    }
    if (body) {
        (*env)->DeleteLocalRef(env, body);
    }
    if (setup->error_code != 0) {
        s_binding_release(binding); /* no shutdown follows a failed setup */
        return;
    }
    jobject weak = (*env)->NewWeakGlobalRef(env, binding->callbacks);
    (*env)->DeleteGlobalRef(env, binding->callbacks);
    binding->callbacks = weak;
    binding->callbacks_weak = true;
    if (!ok || threw) {
        wscrt_websocket_shutdown_with_error(setup->websocket, WSCRT_ERROR_CALLBACK_EXCEPTION);
    }
}

static void s_on_connection_shutdown(struct wscrt_websocket *websocket, int error_code, void *user_data) {
    (void)websocket;
    struct ws_binding *binding = user_data;
    JNIEnv *env = wscrt_jni_get_env();
    if (env) {
        struct event_batch *batch = s_thread_batch();
        if (batch->owner == binding) {
            s_flush_batch(env, batch);
        }
        jobject callbacks = s_callbacks(env, binding);
        if (callbacks) {
            (*env)->CallVoidMethod(env, callbacks, wscrt_jni.callbacks_on_shutdown, (jint)error_code);
            wscrt_jni_check_and_clear_exception(env);
            (*env)->DeleteLocalRef(env, callbacks);
        }
    }
    s_binding_release(binding);
}

struct send_completion {
    struct ws_binding *binding;
    jobject callback; /* global ref */
};

static void s_on_send_complete(struct wscrt_websocket *websocket, int error_code, void *user_data) {
    struct send_completion *completion = user_data;
    struct ws_binding *binding = completion->binding;
    JNIEnv *env = wscrt_jni_get_env();
    if (env) {
        jobject callbacks = s_callbacks(env, binding);
        if (callbacks) {
            jboolean ok = (*env)->CallBooleanMethod(env, callbacks, wscrt_jni.callbacks_on_send_complete,
                                                    completion->callback, (jint)error_code);
            bool threw = wscrt_jni_check_and_clear_exception(env);
            if (!ok || threw) {
                wscrt_websocket_shutdown_with_error(websocket, WSCRT_ERROR_CALLBACK_EXCEPTION);
            }
            (*env)->DeleteLocalRef(env, callbacks);
        }
        (*env)->DeleteGlobalRef(env, completion->callback);
    }
    wscrt_mem_release(wscrt_jni_allocator(), completion);
    s_binding_release(binding);
}

/* ---- natives (any thread) ----------------------------------------------------------------------------------- */

static bool s_is_argument_error(int error_code) {
    return error_code == WSCRT_ERROR_INVALID_ARGUMENT || error_code == WSCRT_ERROR_HTTP_INVALID_REQUEST;
}

static void JNICALL s_connect(JNIEnv *env, jclass cls, jobject callbacks, jstring host, jint port, jlong bootstrap,
                              jint connect_timeout_ms, jboolean keep_alive, jint keep_alive_interval,
                              jint keep_alive_timeout, jint domain, jboolean no_delay, jstring method, jstring path,
                              jobjectArray headers, jboolean manage_read_window, jlong initial_read_window,
                              jint handshake_timeout_ms, jlong tls_ctx, jstring tls_server_name, jstring tls_alpn,
                              jint tls_timeout_ms, jstring proxy_host, jint proxy_port, jboolean proxy_basic_auth,
                              jstring proxy_username, jstring proxy_password, jlong proxy_tls_ctx,
                              jstring proxy_tls_server_name, jstring proxy_tls_alpn, jint proxy_tls_timeout_ms) {
    (void)cls;
    struct wscrt_allocator *allocator = wscrt_jni_allocator();
    struct wscrt_http_request *request = wscrt_http_request_new(allocator);
    char *host_c = wscrt_jni_string_dup(env, host);
    char *method_c = wscrt_jni_string_dup(env, method);
    char *path_c = wscrt_jni_string_dup(env, path);
    char *tls_strings[7] = {
        wscrt_jni_string_dup(env, tls_server_name),       wscrt_jni_string_dup(env, tls_alpn),
        wscrt_jni_string_dup(env, proxy_host),            wscrt_jni_string_dup(env, proxy_username),
        wscrt_jni_string_dup(env, proxy_password),        wscrt_jni_string_dup(env, proxy_tls_server_name),
        wscrt_jni_string_dup(env, proxy_tls_alpn),
    };
    struct ws_binding *binding = NULL;
    if (!host_c || !method_c || !path_c) {
        wscrt_jni_throw_illegal_argument(env, "host, method and path are required");
        goto done;
    }
    wscrt_http_request_set_method(request, wscrt_byte_cursor_from_c_str(method_c));
    wscrt_http_request_set_path(request, wscrt_byte_cursor_from_c_str(path_c));
    jsize header_fields = headers ? (*env)->GetArrayLength(env, headers) : 0;
    for (jsize i = 0; i + 1 < header_fields; i += 2) {
        jstring name = (*env)->GetObjectArrayElement(env, headers, i);
        jstring value = (*env)->GetObjectArrayElement(env, headers, i + 1);
        char *name_c = wscrt_jni_string_dup(env, name);
        char *value_c = wscrt_jni_string_dup(env, value);
        if (name_c && value_c) {
            struct wscrt_http_header header = {
                .name = wscrt_byte_cursor_from_c_str(name_c),
                .value = wscrt_byte_cursor_from_c_str(value_c),
            };
            wscrt_http_request_add_header(request, header);
        }
        wscrt_mem_release(allocator, name_c);
        wscrt_mem_release(allocator, value_c);
        (*env)->DeleteLocalRef(env, name);
        (*env)->DeleteLocalRef(env, value);
    }

    struct wscrt_socket_options socket_options;
    wscrt_socket_options_init_default(&socket_options);
    socket_options.connect_timeout_ms = (uint32_t)connect_timeout_ms;
    socket_options.keep_alive = keep_alive;
    socket_options.keep_alive_interval_sec = (uint16_t)keep_alive_interval;
    socket_options.keep_alive_timeout_sec = (uint16_t)keep_alive_timeout;
    socket_options.domain = domain == 1 ? WSCRT_SOCKET_DOMAIN_IPV4
                            : domain == 2 ? WSCRT_SOCKET_DOMAIN_IPV6
                                          : WSCRT_SOCKET_DOMAIN_UNSPEC;
    socket_options.no_delay = no_delay;

    struct wscrt_tls_connection_options tls = {
        .ctx = (struct wscrt_tls_ctx *)(intptr_t)tls_ctx,
        .server_name = tls_strings[0],
        .alpn_list = tls_strings[1],
        .timeout_ms = (uint32_t)tls_timeout_ms,
    };
    struct wscrt_tls_connection_options proxy_tls = {
        .ctx = (struct wscrt_tls_ctx *)(intptr_t)proxy_tls_ctx,
        .server_name = tls_strings[5],
        .alpn_list = tls_strings[6],
        .timeout_ms = (uint32_t)proxy_tls_timeout_ms,
    };
    struct wscrt_websocket_proxy_options proxy = {
        .host = tls_strings[2],
        .port = (uint32_t)proxy_port,
        .basic_auth = proxy_basic_auth,
        .username = tls_strings[3],
        .password = tls_strings[4],
        .tls_options = proxy_tls_ctx ? &proxy_tls : NULL,
    };

    binding = wscrt_mem_calloc(allocator, 1, sizeof(struct ws_binding));
    atomic_init(&binding->ref_count, 1);
    binding->callbacks = (*env)->NewGlobalRef(env, callbacks);

    struct wscrt_websocket_client_connection_options options = {
        .allocator = allocator,
        .bootstrap = (struct wscrt_client_bootstrap *)(intptr_t)bootstrap,
        .socket_options = &socket_options,
        .host = host_c,
        .port = (uint32_t)port,
        .tls_options = tls_ctx ? &tls : NULL,
        .proxy_options = tls_strings[2] ? &proxy : NULL,
        .handshake_request = request,
        .manual_window_management = manage_read_window,
        .initial_window_size = (uint64_t)initial_read_window,
        .handshake_timeout_ms = (uint32_t)handshake_timeout_ms,
        .on_connection_setup = s_on_connection_setup,
        .on_connection_shutdown = s_on_connection_shutdown,
        .on_incoming_frame_begin = s_on_frame_begin,
        .on_incoming_frame_payload = s_on_frame_payload,
        .on_incoming_frame_complete = s_on_frame_complete,
        .on_incoming_batch_end = s_on_batch_end,
        .user_data = binding,
    };
    if (wscrt_websocket_client_connect(&options)) {
        int error_code = wscrt_last_error();
        (*env)->DeleteGlobalRef(env, binding->callbacks);
        wscrt_mem_release(allocator, binding);
        if (s_is_argument_error(error_code)) {
            wscrt_jni_throw_illegal_argument(env, wscrt_error_str(error_code));
        } else {
            wscrt_jni_throw_crt_exception(env, error_code);
        }
    }
done:
    wscrt_http_request_destroy(request);
    wscrt_mem_release(allocator, host_c);
    wscrt_mem_release(allocator, method_c);
    wscrt_mem_release(allocator, path_c);
    for (size_t i = 0; i < sizeof(tls_strings) / sizeof(tls_strings[0]); ++i) {
        wscrt_mem_release(allocator, tls_strings[i]);
    }
}

static struct send_completion *s_send_completion_new(JNIEnv *env, struct ws_binding *binding, jobject on_complete) {
    if (!on_complete) {
        return NULL;
    }
    struct send_completion *completion = wscrt_mem_acquire(wscrt_jni_allocator(), sizeof(struct send_completion));
    completion->binding = binding;
    completion->callback = (*env)->NewGlobalRef(env, on_complete);
    s_binding_acquire(binding);
    return completion;
}

static void s_send_completion_discard(JNIEnv *env, struct send_completion *completion) {
    if (completion) {
        (*env)->DeleteGlobalRef(env, completion->callback);
        struct ws_binding *binding = completion->binding;
        wscrt_mem_release(wscrt_jni_allocator(), completion);
        s_binding_release(binding);
    }
}

static int s_send(struct ws_binding *binding, jint opcode, struct wscrt_byte_cursor payload, jboolean fin,
                  struct send_completion *completion) {
    struct wscrt_websocket_send_frame_options options = {
        .opcode = (uint8_t)opcode,
        .fin = fin,
        .payload = payload,
        .on_complete = completion ? s_on_send_complete : NULL,
        .user_data = completion,
    };
    return wscrt_websocket_send_frame(binding->websocket, &options);
}

static void s_send_failed(JNIEnv *env, struct send_completion *completion, int error_code) {
    s_send_completion_discard(env, completion);
    wscrt_jni_throw_illegal_argument(env, wscrt_error_str(error_code));
}

static void JNICALL s_send_array(JNIEnv *env, jclass cls, jlong handle, jint opcode, jbyteArray payload,
                                 jint offset, jint length, jboolean fin, jobject on_complete) {
    (void)cls;
    struct ws_binding *binding = (struct ws_binding *)(intptr_t)handle;
    struct send_completion *completion = s_send_completion_new(env, binding, on_complete);
    int result;
    if (!payload || length == 0) {
        result = s_send(binding, opcode, (struct wscrt_byte_cursor){0}, fin, completion);
    } else {
        /* The copy into the frame (masked on the way) happens inside the critical section: no other copy. */
        uint8_t *bytes = (*env)->GetPrimitiveArrayCritical(env, payload, NULL);
        if (!bytes) {
            s_send_completion_discard(env, completion);
            return; /* OutOfMemoryError pending */
        }
        result = s_send(binding, opcode, wscrt_byte_cursor_from_array(bytes + offset, (size_t)length), fin,
                        completion);
        (*env)->ReleasePrimitiveArrayCritical(env, payload, bytes, JNI_ABORT);
    }
    if (result) {
        s_send_failed(env, completion, wscrt_last_error());
    }
}

static void JNICALL s_send_direct(JNIEnv *env, jclass cls, jlong handle, jint opcode, jobject payload, jint offset,
                                  jint length, jboolean fin, jobject on_complete) {
    (void)cls;
    uint8_t *bytes = (*env)->GetDirectBufferAddress(env, payload);
    if (!bytes && length > 0) {
        wscrt_jni_throw_illegal_argument(env, "not a direct buffer");
        return;
    }
    struct ws_binding *binding = (struct ws_binding *)(intptr_t)handle;
    struct send_completion *completion = s_send_completion_new(env, binding, on_complete);
    struct wscrt_byte_cursor cursor =
        length > 0 ? wscrt_byte_cursor_from_array(bytes + offset, (size_t)length) : (struct wscrt_byte_cursor){0};
    if (s_send(binding, opcode, cursor, fin, completion)) {
        s_send_failed(env, completion, wscrt_last_error());
    }
}

static void JNICALL s_increment_read_window(JNIEnv *env, jclass cls, jlong handle, jlong size) {
    (void)env;
    (void)cls;
    struct ws_binding *binding = (struct ws_binding *)(intptr_t)handle;
    wscrt_websocket_increment_read_window(binding->websocket, (uint64_t)size);
}

static void JNICALL s_close(JNIEnv *env, jclass cls, jlong handle) {
    (void)env;
    (void)cls;
    struct ws_binding *binding = (struct ws_binding *)(intptr_t)handle;
    wscrt_websocket_close(binding->websocket);
}

static void JNICALL s_release(JNIEnv *env, jclass cls, jlong handle) {
    (void)env;
    (void)cls;
    struct ws_binding *binding = (struct ws_binding *)(intptr_t)handle;
    wscrt_websocket_release(binding->websocket);
    s_binding_release(binding);
}

static jstring JNICALL s_tls_version(JNIEnv *env, jclass cls, jlong handle) {
    (void)cls;
    struct ws_binding *binding = (struct ws_binding *)(intptr_t)handle;
    const char *version = wscrt_websocket_get_tls_version(binding->websocket);
    return version[0] ? (*env)->NewStringUTF(env, version) : NULL;
}

static jstring JNICALL s_alpn_protocol(JNIEnv *env, jclass cls, jlong handle) {
    (void)cls;
    struct ws_binding *binding = (struct ws_binding *)(intptr_t)handle;
    const char *protocol = wscrt_websocket_get_alpn_protocol(binding->websocket);
    return protocol[0] ? wscrt_jni_string_from_latin1(env, wscrt_byte_cursor_from_c_str(protocol)) : NULL;
}

int wscrt_jni_register_websocket(JNIEnv *env) {
    static const JNINativeMethod methods[] = {
        {"nativeConnect",
         "(Ldev/wscrt/websocket/WebSocketCallbacks;Ljava/lang/String;IJIZIIIZLjava/lang/String;Ljava/lang/String;"
         "[Ljava/lang/String;ZJIJLjava/lang/String;Ljava/lang/String;ILjava/lang/String;IZLjava/lang/String;"
         "Ljava/lang/String;JLjava/lang/String;Ljava/lang/String;I)V",
         (void *)s_connect},
        {"nativeSendArray", "(JI[BIIZLjava/util/function/Consumer;)V", (void *)s_send_array},
        {"nativeSendDirect", "(JILjava/nio/ByteBuffer;IIZLjava/util/function/Consumer;)V", (void *)s_send_direct},
        {"nativeIncrementReadWindow", "(JJ)V", (void *)s_increment_read_window},
        {"nativeClose", "(J)V", (void *)s_close},
        {"nativeRelease", "(J)V", (void *)s_release},
        {"nativeTlsVersion", "(J)Ljava/lang/String;", (void *)s_tls_version},
        {"nativeAlpnProtocol", "(J)Ljava/lang/String;", (void *)s_alpn_protocol},
    };
    jclass cls = (*env)->FindClass(env, "dev/wscrt/websocket/WebSocket");
    if (!cls) {
        return -1;
    }
    int result = (*env)->RegisterNatives(env, cls, methods, sizeof(methods) / sizeof(methods[0])) == 0 ? 0 : -1;
    (*env)->DeleteLocalRef(env, cls);
    return result;
}
