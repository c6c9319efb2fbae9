#ifndef WSCRT_WEBSOCKET_JNI_H
#define WSCRT_WEBSOCKET_JNI_H
/*
 * Private to the websocket_jni*.c files, the JNI side of dev.wscrt.websocket:
 *   websocket_jni.c          the natives of WebSocket (connect, send, window, close, release)
 *   websocket_jni_options.c  the reader of ConnectEncoding.encode() in Java
 *   websocket_jni_upcalls.c  the upcalls to WebSocketCallbacks (setup, batched frame events,
 *                            shutdown)
 *   websocket_jni_completions.c  send completions, handed to SendCompletions by one task per loop, and
 *                            the send queue's drain notices
 *
 * A binding joins one C websocket to its Java WebSocketCallbacks (held by a
 * global ref until the binding is freed; the WebSocket object itself is never
 * held, so a dropped one is collected, its Cleaner closes the connection, and
 * the shutdown callback still runs). It is ref-counted: one reference for the connection (until
 * its shutdown or failed setup was reported), one for the Java WebSocket
 * (until its Cleaner or nativeRelease), one per pending send that has a
 * completion callback, one while its completions wait for the loop's hand-over.
 *
 * Send completions cross without a reference per send: Java queues each
 * callback in a SendCompletions, in the order the natives queue the frames,
 * and the binding tells it how many sends ended and how (completions come in
 * send order). Consecutive completions with the same error code are counted
 * and handed over in one upcall, by the loop's task at the end of its current
 * work or before any other upcall of the connection, whichever comes first.
 */
#include <jni.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "http/http_request.h"
#include "http/websocket.h"
#include "io/event_loop.h"
#include "io/tls_handler.h"
#include "jni_options.h"

struct event_batch;

struct wscrt_jni_binding {
    atomic_int ref_count;
    /* Loop thread: sends that ended since the last hand-over, all with completed_error. */
    uint32_t completed_sends;
    int completed_error;
    bool message_mode; /* whole messages (EVENT_MESSAGE) instead of frame events */
    bool completions_queued; /* loop thread: in its loop's list of bindings with completions waiting */
    /* A global ref held until the shutdown callback has run (loop thread; NULL afterwards), so every
     * callback, the shutdown included, runs even after the user dropped the WebSocket (which is never
     * referenced from here). */
    jobject callbacks;
    /* Stored once, on the event-loop thread, by the setup upcall before the handle reaches Java; read by
     * the natives on Java threads through wscrt_jni_binding_websocket. Java orders the two (the handle
     * crosses into a WebSocket that the application hands to its threads with its own synchronisation),
     * but the JVM's ordering is invisible to ThreadSanitizer, which reported each first use of a binding
     * and of its C websocket on a Java thread as a race (docs/tsan-report.md). The release store and the
     * acquire load make the edge one that TSan sees too; on x86-64 both are plain moves. */
    _Atomic(struct wscrt_websocket *) websocket;
    /* The event batch of the connection's event-loop thread (all its callbacks run there), cached so
     * that adding an event costs no thread-local lookup. Loop thread only. */
    struct event_batch *batch;
    /* Global ref to the callbacks' SendCompletions, held until the binding is freed: completions may
     * come after the shutdown released the callbacks. */
    jobject send_completions;
    struct wscrt_jni_binding *next_queued; /* loop thread: the next in that list */
};

/* The C websocket of a binding whose handle a native received. Call it before reading anything else of
 * the binding: the acquire pairs with the setup upcall's release store, after which all that the
 * connecting thread and the event-loop thread did to the binding and the websocket happens before. */
static inline struct wscrt_websocket *wscrt_jni_binding_websocket(struct wscrt_jni_binding *binding) {
    return atomic_load_explicit(&binding->websocket, memory_order_acquire);
}

/* Method IDs of WebSocketCallbacks, cached by wscrt_jni_register_websocket. */
struct wscrt_jni_callbacks_methods {
    jclass callbacks_class; /* global ref */
    jmethodID on_setup;
    jmethodID on_shutdown;
    jmethodID on_frame_events;
    jfieldID send_completions; /* WebSocketCallbacks.sendCompletions */
    jmethodID on_sends_complete; /* SendCompletions.complete(int count, int errorCode) */
    jmethodID on_send_queue_drained; /* long SendCompletions.queueDrained(long queuedBytes) */
};
extern struct wscrt_jni_callbacks_methods wscrt_jni_callbacks;

struct wscrt_jni_binding *wscrt_jni_binding_new(JNIEnv *env, jobject callbacks);
void wscrt_jni_binding_acquire(struct wscrt_jni_binding *binding);
void wscrt_jni_binding_release(struct wscrt_jni_binding *binding);

/* Reports a setup failure to Java (event-loop thread) and drops the connection's reference, as a failed
 * connect does: the setup callback runs once with error_code, no shutdown callback follows. */
void wscrt_jni_binding_fail_setup(struct wscrt_jni_binding *binding, int error_code);
/* Points the C connect options at the binding's upcalls (websocket_jni_upcalls.c). */
void wscrt_jni_binding_set_callbacks(struct wscrt_jni_binding *binding,
                                     struct wscrt_websocket_client_connection_options *options);
/* The C completion of a send whose callback Java queued; user_data is the binding, with one reference
 * taken for the send (released here). */
void wscrt_jni_on_send_complete(struct wscrt_websocket *websocket, int error_code, void *user_data);
/* The send queue came down to the mark Java armed (loop thread, before the shutdown is reported): the
 * completions counted so far, then the waiters it reached, and the next mark armed. */
void wscrt_jni_on_send_queue_drained(struct wscrt_websocket *websocket, void *user_data);
/* Hands the completions the binding counted so far to Java (loop thread), before its other upcalls. */
void wscrt_jni_flush_send_completions(JNIEnv *env, struct wscrt_jni_binding *binding);

/* What the connect-options reader fills: the C options and the storage they point into. */
struct wscrt_jni_connect_request {
    struct wscrt_websocket_client_connection_options options;
    struct wscrt_socket_options socket;
    struct wscrt_tls_connection_options tls;
    struct wscrt_tls_connection_options proxy_tls;
    struct wscrt_websocket_proxy_options proxy;
    struct wscrt_http_request *request;
    struct wscrt_websocket_deflate_config deflate;
    bool has_deflate;
    bool has_tls;
    bool has_proxy;
    bool has_proxy_tls;
    bool message_mode;
};

/* Fills `request` from the encoding (strings point into `reader`); false with a pending exception. */
bool wscrt_jni_connect_request_read(JNIEnv *env, struct wscrt_jni_options_reader *reader,
                                    struct wscrt_jni_connect_request *request);
void wscrt_jni_connect_request_clean_up(struct wscrt_jni_connect_request *request);

#endif
