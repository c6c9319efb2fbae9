#ifndef WSCRT_TESTS_IO_EVENT_LOOP_FIXTURE_H
#define WSCRT_TESTS_IO_EVENT_LOOP_FIXTURE_H
/*
 * Shared by the event loop tests (io_event_loop_tasks_test.c and
 * io_event_loop_io_events_test.c): the bound on every wait, a loop that runs,
 * and the CPU time its thread uses over a stretch of wall time.
 * Everything is static (each test is its own executable).
 */
#include <stdint.h>
#include <sys/resource.h>
#include <stdbool.h>

#include "common/allocator.h"
#include "common/clock.h"
#include "common/error.h"
#include "io/event_loop.h"
/* A sleep, and running a function on the loop thread. */
#include "test_loop_call.h"
/* A counter that test threads can wait on with a deadline. */
#include "test_waiter.h"

/* Every wait in these tests is bounded by this. */
#define S_WAIT_MS 5000

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
