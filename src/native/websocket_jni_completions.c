/*
 * Send completions of the JNI binding (see websocket_jni.h): each binding counts the sends that ended since
 * its last hand-over, and one task per event loop hands every binding's count to Java at the end of the
 * loop's current work. The task and the list of bindings with completions waiting are the loop's (its
 * embedder-local state), not each connection's: a binding carries one list pointer instead of a task.
 * The send queue's drain notices (one per mark a sender waits for) go to Java at once.
 */
#include <stdatomic.h>
#include <stdint.h>

#include "common/allocator.h"
#include "common/error.h"
#include "jni_common.h"
#include "websocket_jni.h"

struct loop_completions {
    struct wscrt_task task;
    bool task_scheduled;
    /* Bindings with completions waiting (completions_queued set), each holding a reference. */
    struct wscrt_jni_binding *queued;
};

void wscrt_jni_flush_send_completions(JNIEnv *env, struct wscrt_jni_binding *binding) {
    uint32_t count = binding->completed_sends;
    if (count == 0) {
        return;
    }
    binding->completed_sends = 0;
    if (!env || !binding->send_completions) {
        return; /* no JVM to run them in (a detached thread at exit) */
    }
    (*env)->CallVoidMethod(env, binding->send_completions, wscrt_jni_callbacks.on_sends_complete, (jint)count,
                           (jint)binding->completed_error);
    if (wscrt_jni_check_and_clear_exception(env)) {
        /* The JVM could not deliver them (out of memory): fail the connection, as a throwing callback does. */
        struct wscrt_websocket *websocket = atomic_load_explicit(&binding->websocket, memory_order_relaxed);
        if (websocket) {
            wscrt_websocket_shutdown_with_error(websocket, WSCRT_ERROR_CALLBACK_EXCEPTION);
        }
    }
}

void wscrt_jni_on_send_queue_drained(struct wscrt_websocket *websocket, void *user_data) {
    struct wscrt_jni_binding *binding = user_data;
    JNIEnv *env = wscrt_jni_get_env();
    if (!env || !binding->send_completions) {
        return;
    }
    /* Completions first, as before every upcall; then Java completes the waiters the queue has reached and
     * answers the highest mark still waited for (-1: none), armed here; one the queue is at already is
     * reported again at once. Bounded: a mark the queue is at completes its waiter. */
    wscrt_jni_flush_send_completions(env, binding);
    for (;;) {
        jlong next = (*env)->CallLongMethod(env, binding->send_completions, wscrt_jni_callbacks.on_send_queue_drained,
                                            (jlong)wscrt_websocket_get_queued_bytes(websocket));
        if (wscrt_jni_check_and_clear_exception(env)) {
            wscrt_websocket_shutdown_with_error(websocket, WSCRT_ERROR_CALLBACK_EXCEPTION);
            return;
        }
        if (next < 0 || !wscrt_websocket_notify_when_queued_at_most(websocket, (uint64_t)next)) {
            return;
        }
    }
}

/* Runs at the end of the loop's current work, or cancelled when the loop is destroyed (then on the destroying
 * thread, before the state is freed): the completions are delivered all the same. Takes the whole list
 * first, so that a send completed by a completion callback waits for the next run, as it would have. */
static void s_loop_completions_task(struct wscrt_task *task, void *arg, enum wscrt_task_status status) {
    (void)task;
    (void)status;
    struct loop_completions *completions = arg;
    struct wscrt_jni_binding *binding = completions->queued;
    completions->queued = NULL;
    completions->task_scheduled = false;
    JNIEnv *env = wscrt_jni_get_env();
    while (binding) {
        struct wscrt_jni_binding *next = binding->next_queued;
        binding->next_queued = NULL;
        binding->completions_queued = false;
        wscrt_jni_flush_send_completions(env, binding);
        wscrt_jni_binding_release(binding);
        binding = next;
    }
}

static void s_loop_completions_free(void *value) {
    wscrt_mem_release(wscrt_default_allocator(), value);
}

/* The loop's completions state, made on first use. Not from the tracking allocator: it belongs to the loop,
 * not to a connection. */
static struct loop_completions *s_loop_completions(struct wscrt_event_loop *loop) {
    struct wscrt_event_loop_local *local = wscrt_event_loop_embedder_local(loop);
    if (!local->value) {
        struct loop_completions *completions =
            wscrt_mem_calloc(wscrt_default_allocator(), 1, sizeof(struct loop_completions));
        wscrt_task_init(&completions->task, s_loop_completions_task, completions);
        local->value = completions;
        local->free_fn = s_loop_completions_free;
    }
    return local->value;
}

void wscrt_jni_on_send_complete(struct wscrt_websocket *websocket, int error_code, void *user_data) {
    struct wscrt_jni_binding *binding = user_data;
    /* A run ends at another error code, or before its count would pass what a jint holds. */
    if (binding->completed_sends > 0 &&
        (binding->completed_error != error_code || binding->completed_sends == INT32_MAX)) {
        wscrt_jni_flush_send_completions(wscrt_jni_get_env(), binding);
    }
    binding->completed_error = error_code;
    binding->completed_sends++;
    if (!binding->completions_queued) {
        struct wscrt_event_loop *loop = wscrt_websocket_get_event_loop(websocket);
        struct loop_completions *completions = s_loop_completions(loop);
        binding->completions_queued = true;
        wscrt_jni_binding_acquire(binding); /* released by the task */
        binding->next_queued = completions->queued;
        completions->queued = binding;
        if (!completions->task_scheduled) {
            completions->task_scheduled = true;
            wscrt_event_loop_schedule_task_now(loop, &completions->task);
        }
    }
    wscrt_jni_binding_release(binding); /* the send's reference */
}
