#include "io/event_loop.h"
#include "io/event_loop_impl.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/allocator.h"
#include "common/clock.h"
#include "common/error.h"
#include "common/logging.h"
#include "io/timer_heap.h"

/* Reads are parsed and delivered before the next read reuses the buffer, so
 * one buffer per loop serves every connection on it. 256 KiB lets a 1 MiB
 * message arrive in four reads without per-connection memory. */
#define S_READ_BUFFER_SIZE (256 * 1024)
/* TLS decrypts into the plaintext buffer, which follows the read buffer in the same memory: several records
 * per delivery, and (from a source) plaintext that reaches Java without a copy. */
#define S_PLAINTEXT_BUFFER_SIZE (64 * 1024)
#define S_LOOP_BUFFERS_SIZE (S_READ_BUFFER_SIZE + S_PLAINTEXT_BUFFER_SIZE)
/* Events fetched per epoll_wait; more simply wait for the next iteration. */
#define S_MAX_EVENTS 128

_Static_assert(sizeof(pthread_t) <= sizeof(unsigned long), "pthread_t must fit in an atomic unsigned long");
/* An idle connection embeds about a dozen tasks (event_loop.h): keep them at 48 bytes on 64-bit targets. */
_Static_assert(sizeof(void *) != 8 || sizeof(struct wscrt_task) <= 48, "a task must stay within 48 bytes");

void wscrt_task_init(struct wscrt_task *task, wscrt_task_fn *fn, void *arg) {
    task->fn = fn;
    task->arg = arg;
    task->timestamp = 0;
    task->node.next = NULL;
    task->node.prev = NULL;
    task->heap_index = WSCRT_TASK_NOT_IN_HEAP;
    task->scheduled = false;
}

/* Trace logs name a task by its function's address (addr2line, or a debugger, turns it into a name): a task
 * carries no name of its own, so that the dozen an idle connection embeds stay 48 bytes each. */
static inline void *s_task_fn_address(const struct wscrt_task *task) {
    return (void *)(uintptr_t)task->fn;
}

static unsigned long s_current_thread_id(void) {
    return (unsigned long)pthread_self();
}

static void s_set_owner_thread(struct wscrt_event_loop *loop, unsigned long thread_id) {
    atomic_store_explicit(&loop->owner_thread_id, thread_id, memory_order_release);
}

bool wscrt_event_loop_thread_is_callers_thread(struct wscrt_event_loop *loop) {
    unsigned long owner = atomic_load_explicit(&loop->owner_thread_id, memory_order_acquire);
    return owner != 0 && pthread_equal((pthread_t)owner, pthread_self());
}

static void s_run_task(struct wscrt_task *task, enum wscrt_task_status status) {
    /* Cleared first so that the task may reschedule itself from its own fn. */
    task->scheduled = false;
    task->fn(task, task->arg, status);
}

/* Writes the eventfd. Called with loop->lock held: a scheduler that has just
 * made its task visible could otherwise still be about to write the eventfd
 * while the loop runs the task, its owner tears everything down and the loop
 * is destroyed (destroy takes the lock before freeing, so it waits for us). */
static void s_signal_wakeup(struct wscrt_event_loop *loop) {
    uint64_t one = 1;
    ssize_t written;
    do {
        written = write(loop->wakeup_fd, &one, sizeof(one));
    } while (written < 0 && errno == EINTR);
    /* EAGAIN means the counter is saturated: the loop is certainly going to wake. */
    if (written < 0 && errno != EAGAIN) {
        WSCRT_LOGF_ERROR(WSCRT_LS_IO_EVENT_LOOP, "id=%p: Failed to write the wake-up eventfd, errno=%d", (void *)loop,
                         errno);
    }
}

static void s_drain_wakeup(struct wscrt_event_loop *loop) {
    uint64_t value;
    ssize_t got;
    do {
        got = read(loop->wakeup_fd, &value, sizeof(value));
    } while (got < 0 && errno == EINTR);
}

static void s_schedule_cross_thread(struct wscrt_event_loop *loop, struct wscrt_task *task, uint64_t timestamp) {
    pthread_mutex_lock(&loop->lock);
    task->timestamp = timestamp;
    task->heap_index = WSCRT_TASK_NOT_IN_HEAP;
    task->scheduled = true;
    /* One wake-up per batch: if the queue already held a task, an eventfd write
     * is already pending (or the loop has not yet swapped the queue out). */
    bool was_empty = wscrt_linked_list_empty(&loop->cross_thread_tasks);
    wscrt_linked_list_push_back(&loop->cross_thread_tasks, &task->node);
    if (was_empty) {
        s_signal_wakeup(loop);
    }
    pthread_mutex_unlock(&loop->lock);
}

static void s_schedule_local(struct wscrt_event_loop *loop, struct wscrt_task *task, uint64_t timestamp) {
    task->timestamp = timestamp;
    task->heap_index = WSCRT_TASK_NOT_IN_HEAP;
    task->scheduled = true;
    if (timestamp == 0) {
        wscrt_linked_list_push_back(&loop->ready_tasks, &task->node);
    } else {
        wscrt_timer_heap_push(&loop->timers, task);
    }
}

void wscrt_event_loop_schedule_task_now(struct wscrt_event_loop *loop, struct wscrt_task *task) {
    WSCRT_LOGF_TRACE(WSCRT_LS_IO_EVENT_LOOP, "id=%p: Scheduling task %p (fn %p) now", (void *)loop, (void *)task,
                     s_task_fn_address(task));
    if (wscrt_event_loop_thread_is_callers_thread(loop)) {
        s_schedule_local(loop, task, 0);
    } else {
        s_schedule_cross_thread(loop, task, 0);
    }
}

void wscrt_event_loop_schedule_task_future(struct wscrt_event_loop *loop, struct wscrt_task *task,
                                           uint64_t run_at_ns) {
    WSCRT_LOGF_TRACE(WSCRT_LS_IO_EVENT_LOOP, "id=%p: Scheduling task %p (fn %p) at %llu", (void *)loop, (void *)task,
                     s_task_fn_address(task), (unsigned long long)run_at_ns);
    /* timestamp 0 means "now" inside the loop; the monotonic clock never reads 0,
     * so a caller passing 0 meant "as soon as possible" anyway. */
    if (wscrt_event_loop_thread_is_callers_thread(loop)) {
        s_schedule_local(loop, task, run_at_ns);
    } else {
        s_schedule_cross_thread(loop, task, run_at_ns);
    }
}

void wscrt_event_loop_cancel_task(struct wscrt_event_loop *loop, struct wscrt_task *task) {
    /* The task may still sit in the cross-thread queue, which other threads
     * append to; every list removal here is done under the lock so one code
     * path serves all the lists a task can be in. Cancellation is rare. */
    pthread_mutex_lock(&loop->lock);
    if (!task->scheduled) {
        pthread_mutex_unlock(&loop->lock);
        return;
    }
    if (task->heap_index != WSCRT_TASK_NOT_IN_HEAP) {
        wscrt_timer_heap_remove(&loop->timers, task);
    } else {
        wscrt_linked_list_remove(&task->node);
    }
    task->scheduled = false;
    pthread_mutex_unlock(&loop->lock);

    WSCRT_LOGF_TRACE(WSCRT_LS_IO_EVENT_LOOP, "id=%p: Cancelling task %p (fn %p)", (void *)loop, (void *)task,
                     s_task_fn_address(task));
    s_run_task(task, WSCRT_TASK_STATUS_CANCELED);
}

/* Moves everything other threads scheduled into the loop-local structures. */
static void s_take_cross_thread_tasks(struct wscrt_event_loop *loop) {
    struct wscrt_linked_list incoming;
    wscrt_linked_list_init(&incoming);
    pthread_mutex_lock(&loop->lock);
    wscrt_linked_list_move_all_back(&incoming, &loop->cross_thread_tasks);
    pthread_mutex_unlock(&loop->lock);

    while (!wscrt_linked_list_empty(&incoming)) {
        struct wscrt_task *task = WSCRT_CONTAINER_OF(wscrt_linked_list_pop_front(&incoming), struct wscrt_task, node);
        if (task->timestamp == 0) {
            wscrt_linked_list_push_back(&loop->ready_tasks, &task->node);
        } else {
            wscrt_timer_heap_push(&loop->timers, task);
        }
    }
}

/* A task in the batch may cancel another one still in it: cancel unlinks it from the batch like from any
 * other list, so popping stays correct. */
static void s_run_batch(struct wscrt_linked_list *batch) {
    while (!wscrt_linked_list_empty(batch)) {
        struct wscrt_task *task = WSCRT_CONTAINER_OF(wscrt_linked_list_pop_front(batch), struct wscrt_task, node);
        s_run_task(task, WSCRT_TASK_STATUS_RUN_READY);
    }
}

static void s_run_due_tasks(struct wscrt_event_loop *loop) {
    s_take_cross_thread_tasks(loop);

    /* Take a snapshot: what these tasks schedule for "now" lands in ready_tasks.
     * Due timers join the batch after the ready tasks, in time order. */
    struct wscrt_linked_list batch;
    wscrt_linked_list_init(&batch);
    wscrt_linked_list_move_all_back(&batch, &loop->ready_tasks);
    if (!wscrt_timer_heap_empty(&loop->timers)) {
        uint64_t now = wscrt_clock_now_ns();
        struct wscrt_task *next;
        while ((next = wscrt_timer_heap_peek(&loop->timers)) != NULL && next->timestamp <= now) {
            wscrt_timer_heap_pop(&loop->timers);
            wscrt_linked_list_push_back(&batch, &next->node);
        }
    }
    s_run_batch(&batch);

    /* One more pass for what that batch scheduled, so that work handed on from task to task is done before
     * the loop sleeps (a frame sent from a callback: the connection's send task, then the socket's write
     * task, then the write). What the second pass schedules runs in the next iteration: a task that
     * reschedules itself runs at most twice per iteration and cannot starve I/O. */
    wscrt_linked_list_move_all_back(&batch, &loop->ready_tasks);
    s_run_batch(&batch);
}

static int s_compute_timeout_ms(struct wscrt_event_loop *loop) {
    if (!wscrt_linked_list_empty(&loop->ready_tasks)) {
        return 0;
    }
    struct wscrt_task *next = wscrt_timer_heap_peek(&loop->timers);
    if (next == NULL) {
        return -1; /* idle: sleep until an fd event or a cross-thread wake-up */
    }
    uint64_t now = wscrt_clock_now_ns();
    if (next->timestamp <= now) {
        return 0;
    }
    /* Round up: waking a little early would only cost a spin through an empty iteration. */
    uint64_t ms = (next->timestamp - now + WSCRT_NS_PER_MS - 1) / WSCRT_NS_PER_MS;
    return ms > INT_MAX ? INT_MAX : (int)ms;
}

/* On the loop thread before its first iteration (once, however often the loop is run): the buffers come
 * from the source when it lends them, else from the loop's allocator. */
static void s_acquire_buffers(struct wscrt_event_loop *loop) {
    if (loop->buffers) {
        return;
    }
    const struct wscrt_event_loop_read_buffer_source *source = &loop->read_buffer_source;
    void *token = NULL;
    uint8_t *bytes = source->acquire ? source->acquire(S_LOOP_BUFFERS_SIZE, &token, source->user_data) : NULL;
    if (bytes && token) {
        loop->read_buffer_token = token;
    } else {
        bytes = wscrt_mem_acquire(loop->allocator, S_LOOP_BUFFERS_SIZE);
    }
    loop->buffers = bytes;
    loop->read_buffer = wscrt_byte_buf_from_empty_array(bytes, S_READ_BUFFER_SIZE);
    loop->plaintext_buffer = wscrt_byte_buf_from_empty_array(bytes + S_READ_BUFFER_SIZE, S_PLAINTEXT_BUFFER_SIZE);
}

void wscrt_event_loop_set_read_buffer_source(struct wscrt_event_loop *loop,
                                             const struct wscrt_event_loop_read_buffer_source *source) {
    loop->read_buffer_source = *source;
}

void wscrt_event_loop_set_busy_poll(struct wscrt_event_loop *loop, uint64_t busy_poll_ns) {
    loop->busy_poll_ns = busy_poll_ns;
}

/*
 * After an iteration that had events, before sleeping: polls without blocking for up to busy_poll_ns, so
 * that an answer arriving meanwhile is handled without the wake-up latency of a sleeping thread (tens of
 * microseconds on virtual machines), and never past the next timer. Each empty poll yields the CPU to any
 * other runnable thread. Returns the events found, 0 when none came in time.
 */
static int s_busy_poll(struct wscrt_event_loop *loop, struct epoll_event *events) {
    uint64_t until = wscrt_clock_now_ns() + loop->busy_poll_ns;
    struct wscrt_task *next_timer = wscrt_timer_heap_peek(&loop->timers);
    if (next_timer != NULL && next_timer->timestamp < until) {
        until = next_timer->timestamp; /* a timer due sooner is not kept waiting */
    }
    while (!atomic_load_explicit(&loop->stop_requested, memory_order_relaxed)) {
        int count = epoll_wait(loop->epoll_fd, events, S_MAX_EVENTS, 0);
        if (count != 0 || wscrt_clock_now_ns() >= until) {
            return count < 0 ? 0 : count;
        }
        sched_yield();
    }
    return 0;
}

static void *s_loop_thread_main(void *arg) {
    struct wscrt_event_loop *loop = arg;
    pthread_setname_np(pthread_self(), loop->thread_name);
    s_set_owner_thread(loop, s_current_thread_id());
    s_acquire_buffers(loop);
    WSCRT_LOGF_DEBUG(WSCRT_LS_IO_EVENT_LOOP, "id=%p: Loop thread '%s' started", (void *)loop, loop->thread_name);

    struct epoll_event events[S_MAX_EVENTS];
    /* Events came since the loop last slept or busy-polled: the next wait busy-polls first (when enabled).
     * Iterations that only run ready tasks (a wait of 0) leave it as it is. */
    bool active = false;
    while (!atomic_load_explicit(&loop->stop_requested, memory_order_acquire)) {
        int timeout_ms = s_compute_timeout_ms(loop);
        int count = 0;
        if (timeout_ms != 0 && active && loop->busy_poll_ns > 0) {
            active = false;
            count = s_busy_poll(loop, events);
            if (count == 0) {
                timeout_ms = s_compute_timeout_ms(loop); /* the poll used part of the time to the next timer */
            }
        }
        if (count == 0) {
            count = epoll_wait(loop->epoll_fd, events, S_MAX_EVENTS, timeout_ms);
        }
        active = active || count > 0;
        if (count < 0) {
            if (errno != EINTR) {
                WSCRT_LOGF_ERROR(WSCRT_LS_IO_EVENT_LOOP, "id=%p: epoll_wait failed, errno=%d", (void *)loop, errno);
            }
            count = 0;
        }
        for (int i = 0; i < count; ++i) {
            if (events[i].data.ptr == NULL) {
                s_drain_wakeup(loop); /* the wake-up eventfd carries a NULL data.ptr */
            } else {
                wscrt_event_loop_dispatch_io_event(loop, &events[i]);
            }
        }
        /* Drained after the eventfd was read: a push that lands after this swap
         * finds the queue empty and writes the eventfd again, so none is lost. */
        s_run_due_tasks(loop);
        wscrt_event_loop_free_dead_subscriptions(loop);
    }

    WSCRT_LOGF_DEBUG(WSCRT_LS_IO_EVENT_LOOP, "id=%p: Loop thread '%s' exiting", (void *)loop, loop->thread_name);
    s_set_owner_thread(loop, 0);
    return NULL;
}

struct wscrt_event_loop *wscrt_event_loop_new(struct wscrt_allocator *allocator, const char *thread_name) {
    if (allocator == NULL) {
        wscrt_raise_error(WSCRT_ERROR_INVALID_ARGUMENT);
        return NULL;
    }
    struct wscrt_event_loop *loop = wscrt_mem_calloc(allocator, 1, sizeof(struct wscrt_event_loop));
    loop->allocator = allocator;
    snprintf(loop->thread_name, sizeof(loop->thread_name), "%s", thread_name ? thread_name : "wscrt-loop");
    loop->epoll_fd = -1;
    loop->wakeup_fd = -1;
    atomic_init(&loop->owner_thread_id, 0);
    atomic_init(&loop->stop_requested, false);
    atomic_init(&loop->load, 0);
    wscrt_linked_list_init(&loop->cross_thread_tasks);
    wscrt_linked_list_init(&loop->ready_tasks);
    wscrt_linked_list_init(&loop->dead_subscriptions);
    wscrt_timer_heap_init(&loop->timers, allocator);

    loop->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    if (loop->epoll_fd < 0) {
        goto sys_error;
    }
    loop->wakeup_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (loop->wakeup_fd < 0) {
        goto sys_error;
    }
    /* Level-triggered, data.ptr NULL: the loop reads the counter back to 0 on each wake-up. */
    struct epoll_event wakeup_event = {.events = EPOLLIN, .data.ptr = NULL};
    if (epoll_ctl(loop->epoll_fd, EPOLL_CTL_ADD, loop->wakeup_fd, &wakeup_event) != 0) {
        goto sys_error;
    }
    if (pthread_mutex_init(&loop->lock, NULL) != 0) {
        goto sys_error;
    }
    WSCRT_LOGF_DEBUG(WSCRT_LS_IO_EVENT_LOOP, "id=%p: Created event loop '%s'", (void *)loop, loop->thread_name);
    return loop;

sys_error:
    WSCRT_LOGF_ERROR(WSCRT_LS_IO_EVENT_LOOP, "id=%p: Failed to create the event loop, errno=%d", (void *)loop, errno);
    wscrt_raise_error(WSCRT_ERROR_SYS_CALL_FAILURE);
    if (loop->wakeup_fd >= 0) {
        close(loop->wakeup_fd);
    }
    if (loop->epoll_fd >= 0) {
        close(loop->epoll_fd);
    }
    wscrt_timer_heap_clean_up(&loop->timers);
    wscrt_mem_release(allocator, loop);
    return NULL;
}

int wscrt_event_loop_run(struct wscrt_event_loop *loop) {
    if (loop->thread_started) {
        return wscrt_raise_error(WSCRT_ERROR_INVALID_STATE);
    }
    atomic_store_explicit(&loop->stop_requested, false, memory_order_release);
    int rc = pthread_create(&loop->thread, NULL, s_loop_thread_main, loop);
    if (rc != 0) {
        WSCRT_LOGF_ERROR(WSCRT_LS_IO_EVENT_LOOP, "id=%p: Failed to start the loop thread, error=%d", (void *)loop, rc);
        return wscrt_raise_error(WSCRT_ERROR_THREAD_CREATE_FAILED);
    }
    loop->thread_started = true;
    return WSCRT_OP_SUCCESS;
}

int wscrt_event_loop_stop(struct wscrt_event_loop *loop) {
    WSCRT_LOGF_DEBUG(WSCRT_LS_IO_EVENT_LOOP, "id=%p: Stop requested", (void *)loop);
    atomic_store_explicit(&loop->stop_requested, true, memory_order_release);
    if (!wscrt_event_loop_thread_is_callers_thread(loop)) {
        /* Always signalled (unlike task scheduling): the queue may be empty and the loop asleep. */
        pthread_mutex_lock(&loop->lock);
        s_signal_wakeup(loop);
        pthread_mutex_unlock(&loop->lock);
    }
    return WSCRT_OP_SUCCESS;
}

int wscrt_event_loop_wait_for_stop_completion(struct wscrt_event_loop *loop) {
    if (!loop->thread_started) {
        return WSCRT_OP_SUCCESS;
    }
    if (pthread_equal(loop->thread, pthread_self())) {
        return wscrt_raise_error(WSCRT_ERROR_INVALID_STATE);
    }
    int rc = pthread_join(loop->thread, NULL);
    if (rc != 0) {
        WSCRT_LOGF_ERROR(WSCRT_LS_IO_EVENT_LOOP, "id=%p: Failed to join the loop thread, error=%d", (void *)loop, rc);
        return wscrt_raise_error(WSCRT_ERROR_SYS_CALL_FAILURE);
    }
    loop->thread_started = false;
    return WSCRT_OP_SUCCESS;
}

/* Runs every pending task with CANCELED until nothing is left: a cancelled
 * task may schedule further tasks (a cleanup step), and those are cancelled too. */
static void s_cancel_all_tasks(struct wscrt_event_loop *loop) {
    for (;;) {
        s_take_cross_thread_tasks(loop);
        if (wscrt_linked_list_empty(&loop->ready_tasks) && wscrt_timer_heap_empty(&loop->timers)) {
            return;
        }
        struct wscrt_linked_list batch;
        wscrt_linked_list_init(&batch);
        wscrt_linked_list_move_all_back(&batch, &loop->ready_tasks);
        struct wscrt_task *timer;
        while ((timer = wscrt_timer_heap_pop(&loop->timers)) != NULL) {
            wscrt_linked_list_push_back(&batch, &timer->node);
        }
        while (!wscrt_linked_list_empty(&batch)) {
            struct wscrt_task *task = WSCRT_CONTAINER_OF(wscrt_linked_list_pop_front(&batch), struct wscrt_task, node);
            s_run_task(task, WSCRT_TASK_STATUS_CANCELED);
        }
    }
}

void wscrt_event_loop_destroy(struct wscrt_event_loop *loop) {
    if (loop == NULL) {
        return;
    }
    if (loop->thread_started && pthread_equal(loop->thread, pthread_self())) {
        /* The thread cannot join itself, and freeing the loop under it would
         * crash later: refuse loudly and leak instead. */
        WSCRT_LOGF_ERROR(WSCRT_LS_IO_EVENT_LOOP, "id=%p: Event loop destroyed from its own thread; leaking it",
                         (void *)loop);
        return;
    }
    WSCRT_LOGF_DEBUG(WSCRT_LS_IO_EVENT_LOOP, "id=%p: Destroying event loop '%s'", (void *)loop, loop->thread_name);
    if (loop->thread_started) {
        wscrt_event_loop_stop(loop);
        wscrt_event_loop_wait_for_stop_completion(loop);
    }

    /* The destroying thread stands in for the loop thread while cancelled
     * tasks clean up, so code that checks it is on the loop thread still works
     * and whatever they schedule goes straight to the local queues. */
    s_set_owner_thread(loop, s_current_thread_id());
    s_cancel_all_tasks(loop);

    wscrt_event_loop_release_subscriptions(loop);
    s_set_owner_thread(loop, 0);

    /* A thread that scheduled a task holds the lock until it has written the
     * eventfd; taking it once here waits for such a straggler to be done. */
    pthread_mutex_lock(&loop->lock);
    pthread_mutex_unlock(&loop->lock);
    pthread_mutex_destroy(&loop->lock);

    close(loop->wakeup_fd);
    close(loop->epoll_fd);
    wscrt_timer_heap_clean_up(&loop->timers);
    if (loop->tls_local.free_fn != NULL) {
        loop->tls_local.free_fn(loop->tls_local.value);
    }
    if (loop->embedder_local.free_fn != NULL) {
        loop->embedder_local.free_fn(loop->embedder_local.value);
    }
    if (loop->read_buffer_token) {
        loop->read_buffer_source.release(loop->read_buffer_token, loop->read_buffer_source.user_data);
    } else {
        wscrt_mem_release(loop->allocator, loop->buffers);
    }
    wscrt_mem_release(loop->allocator, loop);
}

struct wscrt_event_loop_local *wscrt_event_loop_tls_local(struct wscrt_event_loop *loop) {
    return &loop->tls_local;
}

struct wscrt_event_loop_local *wscrt_event_loop_embedder_local(struct wscrt_event_loop *loop) {
    return &loop->embedder_local;
}

struct wscrt_byte_buf *wscrt_event_loop_read_buffer(struct wscrt_event_loop *loop) {
    return &loop->read_buffer;
}

struct wscrt_byte_buf *wscrt_event_loop_plaintext_buffer(struct wscrt_event_loop *loop) {
    return &loop->plaintext_buffer;
}

void wscrt_event_loop_add_load(struct wscrt_event_loop *loop, int delta) {
    if (delta >= 0) {
        atomic_fetch_add_explicit(&loop->load, (size_t)delta, memory_order_relaxed);
    } else {
        atomic_fetch_sub_explicit(&loop->load, (size_t)(-(long)delta), memory_order_relaxed);
    }
}

size_t wscrt_event_loop_load(struct wscrt_event_loop *loop) {
    return atomic_load_explicit(&loop->load, memory_order_relaxed);
}
