#ifndef WSCRT_TESTS_IO_EVENT_LOOP_FIXTURE_H
#define WSCRT_TESTS_IO_EVENT_LOOP_FIXTURE_H
/*
 * Shared by the event loop tests (io_event_loop_tasks_test.c and
 * io_event_loop_io_events_test.c): the bound on every wait, a sleep, running
 * a function on the loop thread and waiting for it, a loop that runs, and the
 * CPU time its thread uses over a stretch of wall time.
 * Everything is static (each test is its own executable).
 */
#include <errno.h>
#include <stdint.h>
#include <sys/resource.h>
#include <stdbool.h>
#include <time.h>

#include "common/allocator.h"
#include "common/clock.h"
#include "common/error.h"
#include "io/event_loop.h"
/* A counter that test threads can wait on with a deadline. */
#include "test_waiter.h"

/* Every wait in these tests is bounded by this. */
#define S_WAIT_MS 5000

static inline void s_sleep_ms(int ms) {
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Runs fn(arg) on the loop thread and waits for it to return. */
struct s_on_loop_call {
    struct wscrt_task task;
    void (*fn)(void *arg);
    void *arg;
    struct s_waiter done;
};

static inline void s_on_loop_call_task(struct wscrt_task *task, void *arg, enum wscrt_task_status status) {
    (void)task;
    struct s_on_loop_call *call = arg;
    if (status == WSCRT_TASK_STATUS_RUN_READY) {
        call->fn(call->arg);
    }
    s_waiter_signal(&call->done);
}

static inline bool s_run_on_loop(struct wscrt_event_loop *loop, void (*fn)(void *arg), void *arg) {
    struct s_on_loop_call call = {.fn = fn, .arg = arg};
    s_waiter_init(&call.done);
    wscrt_task_init(&call.task, s_on_loop_call_task, &call, "test_call");
    wscrt_event_loop_schedule_task_now(loop, &call.task);
    bool done = s_waiter_wait(&call.done, 1, S_WAIT_MS);
    s_waiter_clean_up(&call.done);
    return done;
}

static inline struct wscrt_event_loop *s_new_running_loop(struct wscrt_allocator *allocator) {
    struct wscrt_event_loop *loop = wscrt_event_loop_new(allocator, "wscrt-test-loop");
    if (loop != NULL && wscrt_event_loop_run(loop) != WSCRT_OP_SUCCESS) {
        wscrt_event_loop_destroy(loop);
        return NULL;
    }
    return loop;
}

/* The CPU time the calling thread has used so far, into *(uint64_t *)arg. */
static inline void s_record_thread_cpu_ns(void *arg) {
    struct rusage usage;
    getrusage(RUSAGE_THREAD, &usage);
    *(uint64_t *)arg = ((uint64_t)usage.ru_utime.tv_sec + (uint64_t)usage.ru_stime.tv_sec) * WSCRT_NS_PER_SEC +
                       ((uint64_t)usage.ru_utime.tv_usec + (uint64_t)usage.ru_stime.tv_usec) * 1000ULL;
}

/* CPU time the loop thread spends over `ms` of wall time. */
static inline uint64_t s_loop_cpu_ns_over(struct wscrt_event_loop *loop, int ms, bool *ok) {
    uint64_t before = 0, after = 0;
    *ok = s_run_on_loop(loop, s_record_thread_cpu_ns, &before);
    s_sleep_ms(ms);
    *ok = *ok && s_run_on_loop(loop, s_record_thread_cpu_ns, &after);
    return after - before;
}

#endif
