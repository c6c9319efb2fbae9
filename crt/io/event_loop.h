#ifndef WSCRT_IO_EVENT_LOOP_H
#define WSCRT_IO_EVENT_LOOP_H
/*
 * One epoll event loop with its own thread.
 *
 * Threading: wscrt_event_loop_schedule_task_now/_future are safe from any
 * thread (mutex-guarded queue + eventfd wake-up, drained in batches). Every
 * other function, unless it says otherwise, must be called on the loop's own
 * thread. Tasks, timers and I/O callbacks all run on the loop thread.
 *
 * An iteration: wait for I/O, run the I/O callbacks, then the tasks due
 * (scheduled "now" or timers), then once more the tasks that those scheduled
 * for "now"; what that second pass schedules waits for the next iteration.
 *
 * I/O subscriptions are edge-triggered (EPOLLET): the callback is told that a
 * descriptor became readable/writable; the subscriber reads or writes until
 * EAGAIN (or a short read: new bytes raise a new edge), or remembers that it
 * stopped early and resumes by itself (this is how a read window of 0 stops
 * reading: nobody reads, the kernel buffer fills, TCP pushes back on the peer).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/byte_buf.h"
#include "common/linked_list.h"

struct wscrt_allocator;
struct wscrt_event_loop;
struct wscrt_task;

enum wscrt_task_status {
    WSCRT_TASK_STATUS_RUN_READY,
    /* The loop is being destroyed or the task was cancelled: release resources only. */
    WSCRT_TASK_STATUS_CANCELED,
};

typedef void(wscrt_task_fn)(struct wscrt_task *task, void *arg, enum wscrt_task_status status);

/* Embedded in its owner; must stay valid until it has run or been cancelled. */
struct wscrt_task {
    wscrt_task_fn *fn;
    void *arg;
    uint64_t timestamp; /* private: when to run (ns, wscrt_clock_now_ns), 0 = now */
    struct wscrt_linked_list_node node; /* private */
    /* private: position in the timer heap, WSCRT_TASK_NOT_IN_HEAP when not there. 32 bits (a heap of 2^32
     * timers would hold 200 GB of tasks): with `scheduled` beside it a task is 48 bytes, not 56, and an
     * idle connection embeds about a dozen. No name either: trace logs give the function's address. */
    uint32_t heap_index;
    bool scheduled; /* private */
};
#define WSCRT_TASK_NOT_IN_HEAP UINT32_MAX

void wscrt_task_init(struct wscrt_task *task, wscrt_task_fn *fn, void *arg);

struct wscrt_event_loop *wscrt_event_loop_new(struct wscrt_allocator *allocator, const char *thread_name);
/* Starts the loop thread. */
int wscrt_event_loop_run(struct wscrt_event_loop *loop);
/* Asks the thread to exit (any thread); does not wait. */
int wscrt_event_loop_stop(struct wscrt_event_loop *loop);
/* Joins the thread (not from the loop's own thread). */
int wscrt_event_loop_wait_for_stop_completion(struct wscrt_event_loop *loop);
/* Stops and joins if running, then runs every pending task and timer with
 * WSCRT_TASK_STATUS_CANCELED (on the calling thread) and frees the loop.
 * Never from the loop's own thread. */
void wscrt_event_loop_destroy(struct wscrt_event_loop *loop);

/* Any thread. Tasks scheduled "now" from one thread run in the order scheduled. */
void wscrt_event_loop_schedule_task_now(struct wscrt_event_loop *loop, struct wscrt_task *task);
/* Any thread. run_at_ns is on the wscrt_clock_now_ns() clock. Timers run in
 * time order; equal times run in scheduling order. */
void wscrt_event_loop_schedule_task_future(struct wscrt_event_loop *loop, struct wscrt_task *task, uint64_t run_at_ns);
/* Loop thread only. Runs the task's fn with CANCELED if it was scheduled. */
void wscrt_event_loop_cancel_task(struct wscrt_event_loop *loop, struct wscrt_task *task);
/* Any thread. */
bool wscrt_event_loop_thread_is_callers_thread(struct wscrt_event_loop *loop);

enum wscrt_io_event_type {
    WSCRT_IO_EVENT_READABLE = 1,
    WSCRT_IO_EVENT_WRITABLE = 2,
    WSCRT_IO_EVENT_REMOTE_HANG_UP = 4,
    WSCRT_IO_EVENT_ERROR = 8,
};

typedef void(wscrt_io_event_fn)(struct wscrt_event_loop *loop, int fd, int events, void *user_data);

/* Loop thread only. `events` is a mask of READABLE | WRITABLE (edge-triggered). */
int wscrt_event_loop_subscribe_to_io_events(struct wscrt_event_loop *loop, int fd, int events, wscrt_io_event_fn *fn,
                                            void *user_data);
/* Loop thread only. No callback for fd runs after this returns. */
int wscrt_event_loop_unsubscribe_from_io_events(struct wscrt_event_loop *loop, int fd);
/* As unsubscribe, for a descriptor that the caller closes right after and never duplicated: close(2)
 * takes it out of epoll, so the epoll_ctl call is saved. */
int wscrt_event_loop_unsubscribe_before_close(struct wscrt_event_loop *loop, int fd);

/*
 * The loop's read buffer (256 KiB). Read buffers belong to the event loop, not
 * to the connection: a handler reads into it, parses and delivers everything,
 * and the next read on this loop reuses it. Loop thread only.
 */
struct wscrt_byte_buf *wscrt_event_loop_read_buffer(struct wscrt_event_loop *loop);
/* The loop's plaintext buffer (64 KiB), which the TLS handler decrypts into and delivers from, in the same
 * way: the next delivery on this loop reuses it. Loop thread only. */
struct wscrt_byte_buf *wscrt_event_loop_plaintext_buffer(struct wscrt_event_loop *loop);

/* State a channel handler keeps per loop rather than per connection (the TLS record layer's cipher
 * contexts), made on first use; the loop frees it with `free_fn` when it is destroyed. Loop thread only. */
struct wscrt_event_loop_local {
    void *value;
    void (*free_fn)(void *value);
};
struct wscrt_event_loop_local *wscrt_event_loop_tls_local(struct wscrt_event_loop *loop);
/* The same for the layer that embeds the runtime (the JNI binding's per-loop state). Both are freed after
 * destroy has cancelled the loop's tasks, so a task they hold may be among those cancelled. */
struct wscrt_event_loop_local *wscrt_event_loop_embedder_local(struct wscrt_event_loop *loop);

/*
 * Where a loop's read and plaintext buffers (one block: the read buffer, then
 * the plaintext buffer) come from when its owner lends the bytes beyond
 * the loop: the JNI binding makes it a direct ByteBuffer that Java owns, so a
 * payload view kept past its callback can never point at freed memory, and
 * frame payloads reach Java without a copy. Without a source (or when acquire
 * returns NULL) the loop allocates its own.
 */
struct wscrt_event_loop_read_buffer_source {
    /* On the loop's thread, before it runs anything: `size` bytes (both
     * buffers) valid until release, or NULL. `*token` is handed back to release. */
    uint8_t *(*acquire)(size_t size, void **token, void *user_data);
    /* On the thread that destroys the loop, after the loop's thread ended. */
    void (*release)(void *token, void *user_data);
    void *user_data;
};

/* Before wscrt_event_loop_run; the source is copied. */
void wscrt_event_loop_set_read_buffer_source(struct wscrt_event_loop *loop,
                                             const struct wscrt_event_loop_read_buffer_source *source);

/*
 * Before wscrt_event_loop_run: after an iteration that handled events, the loop polls without sleeping for
 * up to `busy_poll_ns` before it blocks (lower latency for request/response traffic, paid in CPU: up to that
 * long per burst of activity, yielding to other runnable threads). 0, the default, blocks at once.
 */
void wscrt_event_loop_set_busy_poll(struct wscrt_event_loop *loop, uint64_t busy_poll_ns);

/* Load accounting used by the group to hand out loops (any thread). */
void wscrt_event_loop_add_load(struct wscrt_event_loop *loop, int delta);
size_t wscrt_event_loop_load(struct wscrt_event_loop *loop);

#endif
