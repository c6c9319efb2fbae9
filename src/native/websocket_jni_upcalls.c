/*
 * The upcalls of a websocket binding to its WebSocketCallbacks, all on the
 * connection's event-loop thread (each after the send completions counted so
 * far, websocket_jni_completions.c): setup, shutdown, and the incoming frame
 * events, batched per event-loop thread: the C callbacks append
 * compact records, and one upcall per network read (on_incoming_batch_end)
 * hands them all to Java.
 *
 * Where payload bytes travel:
 *   - bytes still in the event loop's read or plaintext buffer (ws and wss:
 *     nearly all of them) cross as they are: both are one direct ByteBuffer
 *     Java owns (jni_java_buffers.h), and the batch hands it over with offsets;
 *   - other frame-API pieces and control payloads (bytes held back by the read
 *     window, control frames cut across reads, TLS through a TLS proxy) are
 *     copied into the thread's staging buffer, also owned by Java;
 *   - other whole data messages (message mode: reassembled or inflated) cross
 *     as a direct ByteBuffer over the native bytes, valid only during the
 *     upcall; the message API copies them into what it hands its listener.
 * So the frame API hands out slices of Java-owned buffers only: a payload view
 * kept past its callback reads later bytes, never memory that was freed.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "common/allocator.h"
#include "common/error.h"
#include "jni_common.h"
#include "jni_java_buffers.h"
#include "jni_registration.h"
#include "websocket_jni.h"

/* EVENT_MESSAGE (message mode) carries a whole message, a control frame, or a piece of a data message (fin
 * clear but on its last piece), like a payload event; its second long is the message's length when known. */
enum { EVENT_BEGIN = 1, EVENT_PAYLOAD = 2, EVENT_COMPLETE = 3, EVENT_MESSAGE = 4 };
enum { EVENT_LONGS = 4 };
/* In a payload event's first long: the bytes are in the staging buffer, not the data span. */
#define EVENT_FLAG_STAGED (1LL << 24)
/* Folded events, so that a frame that arrives whole costs one event, not three: a BEGIN event that also
 * carries the frame's first payload piece (offset and length in its last two longs; staged, or in the read
 * buffer), and a BEGIN or PAYLOAD event after which the frame completed without error. */
#define EVENT_FLAG_WITH_PAYLOAD (1LL << 25)
#define EVENT_FLAG_COMPLETE (1LL << 26)
/* A batch is flushed early when it holds this many events: 32 KiB here and in the Java long[] they are copied
 * to, per loop thread. A 256 KiB read of 64-byte frames makes about 4,000; batches of 16,384 events were no
 * faster (receive 64 B, same run) and kept 1 MiB per loop thread. */
#define MAX_BATCH_EVENTS 1024
/* The staging buffer's usual size: one event-loop read (256 KiB) fits. A payload piece larger than it
 * grows it for a while; it goes back to this size after a batch that needed more than 4 times it. */
#define STAGING_SIZE (256 * 1024)
/* Data payloads of one batch come from one buffer; a pointer farther than this from the first one
 * starts a new batch (the Java side addresses the span with int offsets). */
#define MAX_DATA_SPAN ((uintptr_t)1 << 30)

struct event_batch {
    /* The thread's JNIEnv, valid while the thread is attached, which the batch does not outlive: looked up
     * once, not per payload (GetEnv per 64 B frame cost a measurable part of the receive rate). */
    JNIEnv *env;
    struct wscrt_jni_binding *owner;
    size_t count;
    uintptr_t data_low;  /* lowest data payload address in the batch, 0 = none yet */
    uintptr_t data_high; /* end of the highest data payload */
    /* The data payloads are in the thread's read buffer (their offsets are already relative to it), not in
     * native memory the flush wraps. A batch has one data span, so a payload of the other kind flushes it. */
    bool data_in_read_buffer;
    /* The thread's Java-owned read block (set when the loop thread started, before any batch). */
    const struct wscrt_jni_read_buffer *read_buffer;
    jobject staging; /* global ref to a direct ByteBuffer allocated by Java; NULL until needed */
    uint8_t *staging_bytes;
    size_t staging_capacity;
    size_t staging_len; /* bytes of this batch in the staging buffer */
    jlongArray java_events; /* global ref, MAX_BATCH_EVENTS * EVENT_LONGS long, reused by every flush */
    int64_t events[MAX_BATCH_EVENTS * EVENT_LONGS];
};

/* One batch per event-loop thread (with a reusable Java long[] for the events), freed by
 * wscrt_jni_websocket_thread_exit when the thread detaches from the JVM. */
static _Thread_local struct event_batch *tl_batch;

static struct event_batch *s_thread_batch(void) {
    if (!tl_batch) {
        /* Not from the tracking allocator: it belongs to the thread, not to a connection. */
        tl_batch = wscrt_mem_calloc(wscrt_default_allocator(), 1, sizeof(struct event_batch));
        tl_batch->read_buffer = wscrt_jni_thread_read_buffer();
    }
    if (!tl_batch->env) {
        /* Attaches the thread, so that its exit reaches the cleanup below. */
        tl_batch->env = wscrt_jni_get_env();
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
    if (tl_batch->staging) {
        (*env)->DeleteGlobalRef(env, tl_batch->staging); /* Java frees it once no slice of it is reachable */
    }
    wscrt_mem_release(wscrt_default_allocator(), tl_batch);
    tl_batch = NULL;
}

void wscrt_jni_binding_acquire(struct wscrt_jni_binding *binding) {
    atomic_fetch_add(&binding->ref_count, 1);
}

void wscrt_jni_binding_release(struct wscrt_jni_binding *binding) {
    if (atomic_fetch_sub(&binding->ref_count, 1) != 1) {
        return;
    }
    JNIEnv *env = wscrt_jni_get_env();
    if (env && binding->callbacks) {
        (*env)->DeleteGlobalRef(env, binding->callbacks);
    }
    if (env && binding->send_completions) {
        (*env)->DeleteGlobalRef(env, binding->send_completions);
    }
    wscrt_mem_release(wscrt_jni_allocator(), binding);
}

/* A local ref to the callbacks; NULL after the shutdown (or if the JVM is out of local references). */
static jobject s_callbacks(JNIEnv *env, struct wscrt_jni_binding *binding) {
    return (*env)->NewLocalRef(env, binding->callbacks);
}

/* ---- upcalls (event-loop thread) ---------------------------------------------------------------------------- */

static bool s_flush_batch(JNIEnv *env, struct event_batch *batch) {
    struct wscrt_jni_binding *binding = batch->owner;
    size_t count = batch->count;
    uintptr_t low = batch->data_low;
    uintptr_t high = batch->data_high;
    bool in_read_buffer = batch->data_in_read_buffer;
    size_t staged_len = batch->staging_len;
    batch->data_in_read_buffer = false;
    batch->count = 0;
    batch->owner = NULL;
    batch->data_low = 0;
    batch->data_high = 0;
    batch->staging_len = 0;
    if (count == 0 || !binding) {
        return true;
    }
    wscrt_jni_flush_send_completions(env, binding); /* sends that ended before these frames arrived come first */
    jobject data = NULL;
    jobject staged = staged_len > 0 ? batch->staging : NULL;
    if (in_read_buffer) {
        data = batch->read_buffer->buffer;
    } else if (high > low) {
        for (size_t i = 0; i < count; ++i) {
            int64_t *event = &batch->events[i * EVENT_LONGS];
            int kind = (int)(event[0] & 0xFF);
            bool in_data_span = (kind == EVENT_PAYLOAD || kind == EVENT_MESSAGE) && event[3] > 0 &&
                                !(event[0] & EVENT_FLAG_STAGED);
            if (in_data_span) {
                event[2] = (int64_t)((uintptr_t)event[2] - low);
            }
        }
        data = (*env)->NewDirectByteBuffer(env, (void *)low, (jlong)(high - low));
    }
    if (!batch->java_events) {
        jlongArray local = (*env)->NewLongArray(env, MAX_BATCH_EVENTS * EVENT_LONGS);
        batch->java_events = local ? (*env)->NewGlobalRef(env, local) : NULL;
        if (local) {
            (*env)->DeleteLocalRef(env, local);
        }
    }
    jlongArray events = batch->java_events;
    if (!events || (high > low && !data)) {
        wscrt_jni_check_and_clear_exception(env);
        return false;
    }
    (*env)->SetLongArrayRegion(env, events, 0, (jsize)(count * EVENT_LONGS), (const jlong *)batch->events);
    jobject callbacks = s_callbacks(env, binding);
    jboolean ok = JNI_TRUE;
    bool threw = false;
    if (callbacks) {
        ok = (*env)->CallBooleanMethod(env, callbacks, wscrt_jni_callbacks.on_frame_events, events, (jint)count, data,
                                       staged);
        threw = wscrt_jni_check_and_clear_exception(env);
        (*env)->DeleteLocalRef(env, callbacks);
    }
    if (data && !in_read_buffer) {
        (*env)->DeleteLocalRef(env, data);
    }
    if (batch->staging && batch->staging_capacity > 4 * STAGING_SIZE) {
        (*env)->DeleteGlobalRef(env, batch->staging); /* the next payload allocates the usual size */
        batch->staging = NULL;
        batch->staging_bytes = NULL;
        batch->staging_capacity = 0;
    }
    return ok && !threw;
}

/* Whether a payload cannot join the current batch. */
static bool s_payload_needs_new_batch(const struct event_batch *batch, bool staged, bool in_read_buffer,
                                      uintptr_t start, size_t len) {
    if (staged) {
        return batch->staging_len + len > batch->staging_capacity;
    }
    if (batch->data_high == 0) {
        return false;
    }
    if (batch->data_in_read_buffer || in_read_buffer) {
        return batch->data_in_read_buffer != in_read_buffer;
    }
    uintptr_t low = start < batch->data_low ? start : batch->data_low;
    uintptr_t high = start + len > batch->data_high ? start + len : batch->data_high;
    return high - low > MAX_DATA_SPAN;
}

/*
 * Makes room for `len` more bytes in the staging buffer. Only an empty batch can lack room (a fuller one was
 * flushed first): the buffer is then replaced by one that fits; slices of the old one keep it alive.
 */
static bool s_reserve_staging(JNIEnv *env, struct event_batch *batch, size_t len) {
    if (batch->staging_len + len <= batch->staging_capacity) {
        return true;
    }
    size_t capacity = len > STAGING_SIZE ? len : STAGING_SIZE;
    uint8_t *bytes = NULL;
    /* NULL when Java is out of memory (the connection fails with the callback error); a frame-API piece is at
     * most one read, far below the int limit of a ByteBuffer. */
    jobject global = wscrt_jni_new_java_direct_buffer(env, capacity, &bytes);
    if (!global) {
        return false;
    }
    if (batch->staging) {
        (*env)->DeleteGlobalRef(env, batch->staging);
    }
    batch->staging = global;
    batch->staging_bytes = bytes;
    batch->staging_capacity = capacity;
    return true;
}

/* Whether `len` bytes at `start` lie in the thread's read buffer (they then cross to Java without a copy). */
static inline bool s_in_read_buffer(const struct wscrt_jni_read_buffer *read_buffer, uintptr_t start, size_t len) {
    return start >= read_buffer->start && start < read_buffer->end && len <= read_buffer->end - start;
}

/* An event's first long, without its flags. */
static inline int64_t s_event_header(int kind, uint8_t opcode, bool fin) {
    return kind | ((int64_t)opcode << 8) | ((int64_t)(fin ? 1 : 0) << 16);
}

/* Appends an event to a batch known to have room for it. */
static inline void s_append_event(struct event_batch *batch, int64_t header, uint64_t payload_length, int64_t a,
                                  int64_t b) {
    int64_t *event = &batch->events[batch->count * EVENT_LONGS];
    event[0] = header;
    event[1] = (int64_t)payload_length;
    event[2] = a;
    event[3] = b;
    batch->count++;
}

/* The batch's last event if it is this connection's BEGIN or PAYLOAD event that no completion was folded
 * into yet, else NULL. Such an event belongs to the frame being decoded: a connection's frames do not
 * interleave, and a frame's completion always follows its payload. */
static int64_t *s_open_frame_event(struct event_batch *batch, const struct wscrt_jni_binding *binding) {
    if (batch->owner != binding || batch->count == 0) {
        return NULL;
    }
    int64_t *last = &batch->events[(batch->count - 1) * EVENT_LONGS];
    int kind = (int)(last[0] & 0xFF);
    bool open = (kind == EVENT_BEGIN || kind == EVENT_PAYLOAD) && !(last[0] & EVENT_FLAG_COMPLETE);
    return open ? last : NULL;
}

/*
 * Adds an event (a, b: the payload's address and length, or for COMPLETE the error code). A whole frame is one
 * BEGIN event that carries its payload (if any) and is complete; otherwise a PAYLOAD or COMPLETE event is
 * folded into the frame's open event where it can be.
 */
static bool s_add_event(struct wscrt_jni_binding *binding, int kind, bool whole,
                        const struct wscrt_websocket_incoming_frame *frame,
                        int64_t a, int64_t b) {
    if (kind == EVENT_PAYLOAD && b == 0) {
        return true;
    }
    if (kind == EVENT_COMPLETE && b == 0 && binding->batch) {
        int64_t *open = s_open_frame_event(binding->batch, binding);
        if (open) {
            open[0] |= EVENT_FLAG_COMPLETE;
            return true;
        }
    }
    /* Payload bytes to place: a payload piece, or a message's (none when it is empty). */
    bool carries = (kind == EVENT_PAYLOAD || kind == EVENT_MESSAGE || whole) && b > 0;
    if (!binding->batch) {
        binding->batch = s_thread_batch();
    }
    struct event_batch *batch = binding->batch;
    const struct wscrt_jni_read_buffer *read_buffer = batch->read_buffer;
    bool in_read_buffer = carries && s_in_read_buffer(read_buffer, (uintptr_t)a, (size_t)b);
    /* Copied, unless in the read buffer: what the frame API hands out, and control payloads (the decoder reuses
     * their buffer). */
    bool staged = carries && !in_read_buffer && (kind == EVENT_PAYLOAD || whole || frame->opcode >= 0x8);
    bool ok = true;
    bool full = batch->count == MAX_BATCH_EVENTS ||
                (carries && s_payload_needs_new_batch(batch, staged, in_read_buffer, (uintptr_t)a, (size_t)b));
    JNIEnv *env = batch->env;
    if (batch->owner != binding || full) {
        if (env && batch->count > 0) {
            struct wscrt_jni_binding *previous = batch->owner;
            bool flushed = s_flush_batch(env, batch);
            ok = previous == binding ? flushed : true; /* another connection's batch: its own business */
        }
        batch->owner = binding;
    }
    int64_t header = s_event_header(kind, frame->opcode, frame->fin);
    if (whole) {
        header |= EVENT_FLAG_COMPLETE | (carries ? EVENT_FLAG_WITH_PAYLOAD : 0);
    }
    if (!carries && (kind == EVENT_MESSAGE || whole)) {
        a = 0; /* an empty message or frame: no bytes to point at */
    }
    if (staged || in_read_buffer) {
        if (staged) {
            if (!env || !s_reserve_staging(env, batch, (size_t)b)) {
                return false;
            }
            memcpy(batch->staging_bytes + batch->staging_len, (const void *)(uintptr_t)a, (size_t)b);
            a = (int64_t)batch->staging_len;
            batch->staging_len += (size_t)b;
            header |= EVENT_FLAG_STAGED;
        } else {
            a = (int64_t)((uintptr_t)a - read_buffer->start);
            batch->data_in_read_buffer = true;
            batch->data_low = read_buffer->start;
            batch->data_high = read_buffer->end;
        }
        int64_t *open = kind == EVENT_PAYLOAD ? s_open_frame_event(batch, binding) : NULL;
        if (open && (open[0] & 0xFF) == EVENT_BEGIN && !(open[0] & EVENT_FLAG_WITH_PAYLOAD)) {
            open[0] |= EVENT_FLAG_WITH_PAYLOAD | (header & EVENT_FLAG_STAGED);
            open[2] = a;
            open[3] = b;
            return ok;
        }
    } else if (carries) {
        uintptr_t start = (uintptr_t)a;
        uintptr_t end = start + (uintptr_t)b;
        if (batch->data_high == 0 || start < batch->data_low) {
            batch->data_low = start;
        }
        if (end > batch->data_high) {
            batch->data_high = end;
        }
    }
    s_append_event(batch, header, frame->payload_length, a, b);
    return ok;
}

static bool s_on_frame_begin(struct wscrt_websocket *websocket, const struct wscrt_websocket_incoming_frame *frame,
                             void *user_data) {
    (void)websocket;
    return s_add_event(user_data, EVENT_BEGIN, false, frame, 0, 0);
}

static bool s_on_frame_payload(struct wscrt_websocket *websocket, const struct wscrt_websocket_incoming_frame *frame,
                               struct wscrt_byte_cursor data, void *user_data) {
    (void)websocket;
    return s_add_event(user_data, EVENT_PAYLOAD, false, frame, (int64_t)(uintptr_t)data.ptr, (int64_t)data.len);
}

static bool s_on_frame_complete(struct wscrt_websocket *websocket,
                                const struct wscrt_websocket_incoming_frame *frame, int error_code,
                                void *user_data) {
    (void)websocket;
    return s_add_event(user_data, EVENT_COMPLETE, false, frame, 0, error_code);
}

/*
 * The common case of s_add_event for a whole frame or message, decided in a few tests: a payload in the read
 * buffer, joining this connection's batch whose data already is the read buffer, with room for one more event.
 * It writes the event s_add_event would (`header` as it makes it: nothing to flush, fold or copy); anything
 * else goes the general way. Streams of small messages are nearly all this case (receive 64 B: the general
 * function's branches and spills were a sixth of the event loop's time).
 */
static inline bool s_add_read_buffer_event(struct wscrt_jni_binding *binding, int64_t header,
                                           uint64_t payload_length, struct wscrt_byte_cursor payload) {
    struct event_batch *batch = binding->batch;
    if (!batch || batch->owner != binding || !batch->data_in_read_buffer || batch->count == MAX_BATCH_EVENTS ||
        payload.len == 0) {
        return false;
    }
    uintptr_t start = (uintptr_t)payload.ptr;
    if (!s_in_read_buffer(batch->read_buffer, start, payload.len)) {
        return false;
    }
    s_append_event(batch, header, payload_length, (int64_t)(start - batch->read_buffer->start),
                   (int64_t)payload.len);
    return true;
}

static bool s_on_frame_whole(struct wscrt_websocket *websocket, const struct wscrt_websocket_incoming_frame *frame,
                             struct wscrt_byte_cursor payload, void *user_data) {
    (void)websocket;
    int64_t header = s_event_header(EVENT_BEGIN, frame->opcode, frame->fin) | EVENT_FLAG_COMPLETE |
                     EVENT_FLAG_WITH_PAYLOAD;
    if (s_add_read_buffer_event(user_data, header, frame->payload_length, payload)) {
        return true;
    }
    return s_add_event(user_data, EVENT_BEGIN, true, frame, (int64_t)(uintptr_t)payload.ptr, (int64_t)payload.len);
}

static bool s_on_message(struct wscrt_websocket *websocket, const struct wscrt_websocket_incoming_message *message,
                         void *user_data) {
    (void)websocket;
    int64_t header = s_event_header(EVENT_MESSAGE, message->opcode, !message->more);
    if (s_add_read_buffer_event(user_data, header, message->message_length, message->payload)) {
        return true;
    }
    struct wscrt_websocket_incoming_frame frame = {
        .payload_length = message->message_length,
        .opcode = message->opcode,
        .fin = !message->more,
    };
    return s_add_event(user_data, EVENT_MESSAGE, false, &frame, (int64_t)(uintptr_t)message->payload.ptr,
                       (int64_t)message->payload.len);
}

static bool s_on_batch_end(struct wscrt_websocket *websocket, void *user_data) {
    (void)websocket;
    struct event_batch *batch = s_thread_batch();
    if (batch->owner != user_data || batch->count == 0) {
        return true;
    }
    return batch->env ? s_flush_batch(batch->env, batch) : false;
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
    struct wscrt_jni_binding *binding = user_data;
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
    /* Numeric addresses only: ASCII, so NewStringUTF takes it as is. NULL (out of memory) reads as unknown. */
    jstring remote = (*env)->NewStringUTF(env, setup->remote_address ? setup->remote_address : "");
    wscrt_jni_check_and_clear_exception(env);
    jlong handle = 0;
    if (setup->error_code == 0) {
        atomic_store_explicit(&binding->websocket, setup->websocket, memory_order_release);
        wscrt_jni_binding_acquire(binding); /* the Java WebSocket's reference */
        handle = (jlong)(intptr_t)binding;
    }
    jboolean ok = (*env)->CallBooleanMethod(env, binding->callbacks, wscrt_jni_callbacks.on_setup, handle,
                                            (jint)setup->error_code, status, headers, body, remote);
    bool threw = wscrt_jni_check_and_clear_exception(env);
    if (headers) {
        (*env)->DeleteLocalRef(env, headers);
    }
    if (body) {
        (*env)->DeleteLocalRef(env, body);
    }
    if (remote) {
        (*env)->DeleteLocalRef(env, remote);
    }
    if (setup->error_code != 0) {
        wscrt_jni_binding_release(binding); /* no shutdown follows a failed setup */
        return;
    }
    if (!ok || threw) {
        wscrt_websocket_shutdown_with_error(setup->websocket, WSCRT_ERROR_CALLBACK_EXCEPTION);
    }
}

void wscrt_jni_binding_fail_setup(struct wscrt_jni_binding *binding, int error_code) {
    struct wscrt_websocket_setup_data setup = {.error_code = error_code};
    s_on_connection_setup(&setup, binding);
}

static void s_on_connection_shutdown(struct wscrt_websocket *websocket, int error_code, void *user_data) {
    (void)websocket;
    struct wscrt_jni_binding *binding = user_data;
    JNIEnv *env = wscrt_jni_get_env();
    if (env) {
        wscrt_jni_flush_send_completions(env, binding);
        struct event_batch *batch = s_thread_batch();
        if (batch->owner == binding) {
            s_flush_batch(env, batch);
        }
        jobject callbacks = s_callbacks(env, binding);
        if (callbacks) {
            (*env)->CallVoidMethod(env, callbacks, wscrt_jni_callbacks.on_shutdown, (jint)error_code);
            wscrt_jni_check_and_clear_exception(env);
            (*env)->DeleteLocalRef(env, callbacks);
        }
        /* No callback runs after the shutdown: let go of them now, so that callbacks referring to a WebSocket
         * the program still holds do not keep themselves (and it) reachable from this global ref. */
        (*env)->DeleteGlobalRef(env, binding->callbacks);
        binding->callbacks = NULL;
    }
    wscrt_jni_binding_release(binding);
}

struct wscrt_jni_binding *wscrt_jni_binding_new(JNIEnv *env, jobject callbacks) {
    struct wscrt_jni_binding *binding = wscrt_mem_calloc(wscrt_jni_allocator(), 1, sizeof(struct wscrt_jni_binding));
    atomic_init(&binding->ref_count, 1);
    atomic_init(&binding->websocket, NULL);
    binding->callbacks = (*env)->NewGlobalRef(env, callbacks);
    jobject completions = (*env)->GetObjectField(env, callbacks, wscrt_jni_callbacks.send_completions);
    binding->send_completions = completions ? (*env)->NewGlobalRef(env, completions) : NULL;
    if (completions) {
        (*env)->DeleteLocalRef(env, completions);
    }
    return binding;
}

void wscrt_jni_binding_set_callbacks(struct wscrt_jni_binding *binding,
                                     struct wscrt_websocket_client_connection_options *options) {
    options->on_connection_setup = s_on_connection_setup;
    options->on_connection_shutdown = s_on_connection_shutdown;
    options->on_incoming_frame_begin = s_on_frame_begin;
    options->on_incoming_frame_payload = s_on_frame_payload;
    options->on_incoming_frame_complete = s_on_frame_complete;
    options->on_incoming_frame_whole = s_on_frame_whole;
    options->on_incoming_batch_end = s_on_batch_end;
    options->on_send_queue_drained = wscrt_jni_on_send_queue_drained;
    if (binding->message_mode) {
        options->on_incoming_message = s_on_message;
    }
    options->user_data = binding;
}
