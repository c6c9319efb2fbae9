/* Tests for crt/io/event_loop.c, busy polling (wscrt_event_loop_set_busy_poll):
 * after events the loop polls for a bounded time before it sleeps, handles
 * what arrives meanwhile, keeps its timers on time, and stops at once when
 * destroyed. Tasks, timers and plain fd subscriptions are in
 * io_event_loop_tasks_test.c and io_event_loop_io_events_test.c. */
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include "common/clock.h"
#include "io/event_loop.h"
#include "io_event_loop_fixture.h"
#include "test_harness.h"

static struct wscrt_event_loop *s_new_busy_polling_loop(struct wscrt_allocator *allocator, uint64_t busy_poll_ms) {
    struct wscrt_event_loop *loop = wscrt_event_loop_new(allocator, "wscrt-test-poll");
    if (loop == NULL) {
        return NULL;
    }
    wscrt_event_loop_set_busy_poll(loop, busy_poll_ms * WSCRT_NS_PER_MS);
    if (wscrt_event_loop_run(loop) != WSCRT_OP_SUCCESS) {
        wscrt_event_loop_destroy(loop);
        return NULL;
    }
    return loop;
}

static void s_nothing(void *arg) {
    (void)arg;
}

static int s_test_polls_for_a_bounded_time_after_events_then_sleeps(struct wscrt_allocator *allocator) {
    struct wscrt_event_loop *loop = s_new_busy_polling_loop(allocator, 200);
    ASSERT_TRUE(loop != NULL);
    bool ok = false;
    /* The task that reads the CPU clock first is an event: the loop then polls for 200 ms, and sleeps for the
     * rest of the 600 ms until the second reading. */
    uint64_t cpu_ns = s_loop_cpu_ns_over(loop, 600, &ok);
    ASSERT_TRUE(ok);
    wscrt_event_loop_destroy(loop);
    fprintf(stderr, "  busy-polling loop thread CPU over 600 ms after one event: %llu us\n",
            (unsigned long long)(cpu_ns / 1000));
    /* Without polling a loop uses a few microseconds here; polling all along would be ~600 ms. Each empty
     * poll yields, so a loaded machine gives the poll less than its 200 ms, but not nothing: a 50 ms poll
     * got 0.74 ms of CPU in a TSan build beside two busy builds, so the poll is long enough to clear 2 ms
     * with room to spare under such load. */
    ASSERT_TRUE(cpu_ns > 2 * WSCRT_NS_PER_MS);
    ASSERT_TRUE(cpu_ns < 400 * WSCRT_NS_PER_MS);
    return 0;
}

struct s_pipe_test {
    struct wscrt_event_loop *loop;
    int fds[2];
    struct s_waiter readable;
};

static void s_on_readable(struct wscrt_event_loop *loop, int fd, int events, void *user_data) {
    (void)loop;
    (void)events;
    char drain[16];
    while (read(fd, drain, sizeof(drain)) > 0) {
    }
    s_waiter_signal(&((struct s_pipe_test *)user_data)->readable);
}

static void s_subscribe_read_end(void *arg) {
    struct s_pipe_test *test = arg;
    wscrt_event_loop_subscribe_to_io_events(test->loop, test->fds[0], WSCRT_IO_EVENT_READABLE, s_on_readable, test);
}

static void s_unsubscribe_read_end(void *arg) {
    struct s_pipe_test *test = arg;
    wscrt_event_loop_unsubscribe_from_io_events(test->loop, test->fds[0]);
}

static int s_test_events_found_while_polling_are_handled(struct wscrt_allocator *allocator) {
    struct s_pipe_test test = {0};
    s_waiter_init(&test.readable);
    test.loop = s_new_busy_polling_loop(allocator, 1000);
    ASSERT_TRUE(test.loop != NULL);
    ASSERT_INT_EQ(0, pipe2(test.fds, O_NONBLOCK | O_CLOEXEC));
    /* Subscribing runs as a task (an event): the loop is polling when the bytes arrive, several times. */
    ASSERT_TRUE(s_run_on_loop(test.loop, s_subscribe_read_end, &test));
    for (long i = 1; i <= 3; i++) {
        ASSERT_INT_EQ(1, write(test.fds[1], "x", 1));
        /* Edge-triggered: an event the poll found but did not hand on would never come again. */
        ASSERT_TRUE(s_waiter_wait(&test.readable, i, S_WAIT_MS));
    }
    ASSERT_TRUE(s_run_on_loop(test.loop, s_unsubscribe_read_end, &test));
    wscrt_event_loop_destroy(test.loop);
    close(test.fds[0]);
    close(test.fds[1]);
    s_waiter_clean_up(&test.readable);
    return 0;
}

struct s_timer_test {
    struct wscrt_event_loop *loop;
    struct wscrt_task timer;
    uint64_t due_ns;
    uint64_t ran_ns;
    struct s_waiter ran;
};

static void s_timer_fn(struct wscrt_task *task, void *arg, enum wscrt_task_status status) {
    (void)task;
    struct s_timer_test *test = arg;
    if (status == WSCRT_TASK_STATUS_RUN_READY) {
        test->ran_ns = wscrt_clock_now_ns();
        s_waiter_signal(&test->ran);
    }
}

static void s_schedule_timer_in_20_ms(void *arg) {
    struct s_timer_test *test = arg;
    test->due_ns = wscrt_clock_now_ns() + 20 * WSCRT_NS_PER_MS;
    wscrt_event_loop_schedule_task_future(test->loop, &test->timer, test->due_ns);
}

static int s_test_a_timer_due_while_polling_runs_on_time(struct wscrt_allocator *allocator) {
    struct s_timer_test test = {0};
    s_waiter_init(&test.ran);
    wscrt_task_init(&test.timer, s_timer_fn, &test);
    test.loop = s_new_busy_polling_loop(allocator, 3000);
    ASSERT_TRUE(test.loop != NULL);
    ASSERT_TRUE(s_run_on_loop(test.loop, s_schedule_timer_in_20_ms, &test)); /* polling starts here */
    ASSERT_TRUE(s_waiter_wait(&test.ran, 1, S_WAIT_MS));
    wscrt_event_loop_destroy(test.loop);
    s_waiter_clean_up(&test.ran);
    uint64_t late_ns = test.ran_ns - test.due_ns;
    fprintf(stderr, "  timer due during a 3 s poll ran %llu us late\n", (unsigned long long)(late_ns / 1000));
    ASSERT_TRUE(test.ran_ns >= test.due_ns);
    ASSERT_TRUE(late_ns < 1000 * WSCRT_NS_PER_MS); /* polling to its end would make it ~3 s late */
    return 0;
}

static int s_test_destroy_stops_a_polling_loop_at_once(struct wscrt_allocator *allocator) {
    struct wscrt_event_loop *loop = s_new_busy_polling_loop(allocator, 30000);
    ASSERT_TRUE(loop != NULL);
    ASSERT_TRUE(s_run_on_loop(loop, s_nothing, NULL)); /* now polling, for up to 30 s */
    uint64_t start = wscrt_clock_now_ns();
    wscrt_event_loop_destroy(loop);
    uint64_t took_ns = wscrt_clock_now_ns() - start;
    ASSERT_TRUE(took_ns < 2000 * WSCRT_NS_PER_MS);
    return 0;
}

WSCRT_TEST_MAIN(s_test_polls_for_a_bounded_time_after_events_then_sleeps,
                s_test_events_found_while_polling_are_handled, s_test_a_timer_due_while_polling_runs_on_time,
                s_test_destroy_stops_a_polling_loop_at_once)
