#ifndef WSCRT_TESTS_TEST_LOOP_CALL_H
#define WSCRT_TESTS_TEST_LOOP_CALL_H
/*
 * Shared by the tests that drive an event loop from the test thread: a sleep,
 * and running a function on the loop thread and waiting for it. Everything is
 * static (each test is its own executable).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "io/event_loop.h"
#include "test_waiter.h"

/* How long a call on the loop thread may take before the test gives up on it. */
#define S_LOOP_CALL_WAIT_MS 10000

static inline void s_sleep_ms(int ms) {
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

typedef void(s_loop_fn)(void *arg);

struct s_loop_call {
    struct wscrt_task task;
    s_loop_fn *fn;
    void *arg;
    struct s_waiter done;
};

static inline void s_loop_call_task(struct wscrt_task *task, void *arg, enum wscrt_task_status status) {
    (void)task;
    struct s_loop_call *call = arg;
    if (status == WSCRT_TASK_STATUS_RUN_READY) {
        call->fn(call->arg);
    }
    s_waiter_signal(&call->done);
}

/* Runs fn(arg) on the loop thread and waits for it to return. False if the
 * loop did not run it within the bound: the test then fails and leaks the
 * call rather than free a task the loop may still run. */
static inline bool s_run_on_loop(struct wscrt_event_loop *loop, s_loop_fn *fn, void *arg) {
    struct s_loop_call *call = calloc(1, sizeof(struct s_loop_call));
    if (call == NULL) {
        return false;
    }
    call->fn = fn;
    call->arg = arg;
    s_waiter_init(&call->done);
    wscrt_task_init(&call->task, s_loop_call_task, call);
    wscrt_event_loop_schedule_task_now(loop, &call->task);
    if (!s_waiter_wait(&call->done, 1, S_LOOP_CALL_WAIT_MS)) {
        return false;
    }
    s_waiter_clean_up(&call->done);
    free(call);
    return true;
}

#endif
