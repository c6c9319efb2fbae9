/* Tests for crt/io/event_loop.c, IO events: fd subscriptions (edge-triggered
 * readable events on the loop thread, unsubscribe, an unsubscribe that
 * suppresses an event later in the same batch, hang-up, a second subscribe),
 * the turn IO gets between tasks that are handed on, and the read buffer and
 * load count the loop keeps for its connections. Tasks and timers are in
 * io_event_loop_tasks_test.c. */
#include <fcntl.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "io/event_loop.h"
#include "io_event_loop_fixture.h"
#include "test_harness.h"

/* ---- fd subscriptions ---- */

struct s_io_test {
    struct wscrt_event_loop *loop;
    int fds[2];
    /* Atomic: the test thread reads them while the loop may already handle the next edge. */
    atomic_int callbacks[2];
    atomic_int last_events[2];
    atomic_bool on_thread;
    struct s_waiter events;
};

static void s_io_fn(struct wscrt_event_loop *loop, int fd, int events, void *user_data) {
    struct s_io_test *test = user_data;
    int index = fd == test->fds[0] ? 0 : 1;
    test->callbacks[index]++;
    test->last_events[index] = events;
    test->on_thread = wscrt_event_loop_thread_is_callers_thread(loop);
    uint64_t value;
    while (read(fd, &value, sizeof(value)) > 0) { /* edge-triggered: drain to EAGAIN */
    }
    s_waiter_signal(&test->events);
}

static void s_subscribe_first(void *arg) {
    struct s_io_test *test = arg;
    wscrt_reset_error();
    if (wscrt_event_loop_subscribe_to_io_events(test->loop, test->fds[0], WSCRT_IO_EVENT_READABLE, s_io_fn, test) !=
        WSCRT_OP_SUCCESS) {
        test->callbacks[0] = -100;
    }
}

static void s_unsubscribe_first(void *arg) {
    struct s_io_test *test = arg;
    if (wscrt_event_loop_unsubscribe_from_io_events(test->loop, test->fds[0]) != WSCRT_OP_SUCCESS) {
        test->callbacks[0] = -100;
    }
}

static int s_test_subscribe_eventfd_gets_readable(struct wscrt_allocator *allocator) {
    struct s_io_test test = {.fds = {-1, -1}};
    s_waiter_init(&test.events);
    test.loop = s_new_running_loop(allocator);
    ASSERT_TRUE(test.loop != NULL);
    test.fds[0] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    ASSERT_TRUE(test.fds[0] >= 0);

    ASSERT_TRUE(s_run_on_loop(test.loop, s_subscribe_first, &test));
    ASSERT_INT_EQ(0, test.callbacks[0]);
    uint64_t one = 1;
    ASSERT_INT_EQ(sizeof(one), write(test.fds[0], &one, sizeof(one)));
    ASSERT_TRUE(s_waiter_wait(&test.events, 1, S_WAIT_MS));
    ASSERT_INT_EQ(1, test.callbacks[0]);
    ASSERT_TRUE(test.last_events[0] & WSCRT_IO_EVENT_READABLE);
    ASSERT_TRUE(test.on_thread);

    /* Edge-triggered: another write is another edge. */
    ASSERT_INT_EQ(sizeof(one), write(test.fds[0], &one, sizeof(one)));
    ASSERT_TRUE(s_waiter_wait(&test.events, 2, S_WAIT_MS));

    ASSERT_TRUE(s_run_on_loop(test.loop, s_unsubscribe_first, &test));
    ASSERT_INT_EQ(sizeof(one), write(test.fds[0], &one, sizeof(one)));
    s_sleep_ms(50);
    ASSERT_INT_EQ(2, test.callbacks[0]);

    wscrt_event_loop_destroy(test.loop);
    close(test.fds[0]);
    s_waiter_clean_up(&test.events);
    return 0;
}

static void s_unsubscribe_both_fn(struct wscrt_event_loop *loop, int fd, int events, void *user_data) {
    (void)events;
    struct s_io_test *test = user_data;
    test->callbacks[fd == test->fds[0] ? 0 : 1]++;
    wscrt_event_loop_unsubscribe_from_io_events(loop, test->fds[0]);
    wscrt_event_loop_unsubscribe_from_io_events(loop, test->fds[1]);
    s_waiter_signal(&test->events);
}

static void s_subscribe_both_and_make_readable(void *arg) {
    struct s_io_test *test = arg;
    for (int i = 0; i < 2; ++i) {
        if (wscrt_event_loop_subscribe_to_io_events(test->loop, test->fds[i], WSCRT_IO_EVENT_READABLE,
                                                    s_unsubscribe_both_fn, test) != WSCRT_OP_SUCCESS) {
            test->callbacks[i] = -100;
        }
        /* Both become readable before the loop's next epoll_wait: one batch. */
        uint64_t one = 1;
        if (write(test->fds[i], &one, sizeof(one)) != sizeof(one)) {
            test->callbacks[i] = -100;
        }
    }
}

static int s_test_unsubscribe_suppresses_event_later_in_same_batch(struct wscrt_allocator *allocator) {
    struct s_io_test test = {.fds = {-1, -1}};
    s_waiter_init(&test.events);
    test.loop = s_new_running_loop(allocator);
    ASSERT_TRUE(test.loop != NULL);
    test.fds[0] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    test.fds[1] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    ASSERT_TRUE(test.fds[0] >= 0 && test.fds[1] >= 0);

    ASSERT_TRUE(s_run_on_loop(test.loop, s_subscribe_both_and_make_readable, &test));
    ASSERT_TRUE(s_waiter_wait(&test.events, 1, S_WAIT_MS));
    s_sleep_ms(50);
    /* Whichever callback ran first unsubscribed both: exactly one callback in total. */
    ASSERT_INT_EQ(1, test.callbacks[0] + test.callbacks[1]);
    ASSERT_TRUE(test.callbacks[0] >= 0 && test.callbacks[1] >= 0);

    wscrt_event_loop_destroy(test.loop);
    close(test.fds[0]);
    close(test.fds[1]);
    s_waiter_clean_up(&test.events);
    return 0;
}

static void s_subscribe_pipe_twice(void *arg) {
    struct s_io_test *test = arg;
    test->callbacks[0] = wscrt_event_loop_subscribe_to_io_events(test->loop, test->fds[0], WSCRT_IO_EVENT_READABLE,
                                                                 s_io_fn, test);
    wscrt_reset_error();
    test->callbacks[1] = wscrt_event_loop_subscribe_to_io_events(test->loop, test->fds[0], WSCRT_IO_EVENT_READABLE,
                                                                 s_io_fn, test);
    test->last_events[1] = wscrt_last_error();
}

static void s_unsubscribe_pipe(void *arg) {
    struct s_io_test *test = arg;
    test->last_events[0] = wscrt_event_loop_unsubscribe_from_io_events(test->loop, test->fds[0]);
}

static int s_test_pipe_hang_up_and_double_subscribe(struct wscrt_allocator *allocator) {
    struct s_io_test test = {.fds = {-1, -1}};
    s_waiter_init(&test.events);
    test.loop = s_new_running_loop(allocator);
    ASSERT_TRUE(test.loop != NULL);
    int pipe_fds[2];
    ASSERT_INT_EQ(0, pipe2(pipe_fds, O_NONBLOCK | O_CLOEXEC));
    test.fds[0] = pipe_fds[0];

    ASSERT_TRUE(s_run_on_loop(test.loop, s_subscribe_pipe_twice, &test));
    ASSERT_INT_EQ(WSCRT_OP_SUCCESS, test.callbacks[0]);
    ASSERT_INT_EQ(WSCRT_OP_ERR, test.callbacks[1]);
    ASSERT_INT_EQ(WSCRT_ERROR_INVALID_STATE, test.last_events[1]);
    test.callbacks[0] = 0;
    test.callbacks[1] = 0;

    ASSERT_INT_EQ(1, write(pipe_fds[1], "x", 1));
    ASSERT_TRUE(s_waiter_wait(&test.events, 1, S_WAIT_MS));
    ASSERT_TRUE(test.last_events[0] & WSCRT_IO_EVENT_READABLE);
    close(pipe_fds[1]); /* the writer goes away: the reader sees a hang-up */
    ASSERT_TRUE(s_waiter_wait(&test.events, 2, S_WAIT_MS));
    ASSERT_TRUE(test.last_events[0] & WSCRT_IO_EVENT_REMOTE_HANG_UP);

    ASSERT_TRUE(s_run_on_loop(test.loop, s_unsubscribe_pipe, &test));
    ASSERT_INT_EQ(WSCRT_OP_SUCCESS, test.last_events[0]);
    wscrt_event_loop_destroy(test.loop);
    close(pipe_fds[0]);
    s_waiter_clean_up(&test.events);
    return 0;
}

/* ---- IO's turn among tasks handed on from task to task ---- */

enum { S_CHAIN_FIRST = 1, S_CHAIN_SECOND, S_CHAIN_THIRD, S_CHAIN_IO };

struct s_chain_test {
    struct wscrt_event_loop *loop;
    int fd;
    struct wscrt_task first;
    struct wscrt_task second;
    struct wscrt_task third;
    struct wscrt_task spinner;
    int order[8];
    int order_len;
    atomic_bool spin;
    atomic_int spins;
    int spins_before_io;
    struct s_waiter done;
};

static void s_chain_record(struct s_chain_test *test, int what) {
    if (test->order_len < (int)(sizeof(test->order) / sizeof(test->order[0]))) {
        test->order[test->order_len++] = what;
    }
}

static void s_chain_io_fn(struct wscrt_event_loop *loop, int fd, int events, void *user_data) {
    (void)loop;
    (void)events;
    struct s_chain_test *test = user_data;
    uint64_t value;
    if (read(fd, &value, sizeof(value)) != sizeof(value)) {
        s_chain_record(test, -1);
    }
    test->spins_before_io = atomic_load(&test->spins);
    s_chain_record(test, S_CHAIN_IO);
    s_waiter_signal(&test->done);
}

static void s_chain_task_fn(struct wscrt_task *task, void *arg, enum wscrt_task_status status) {
    struct s_chain_test *test = arg;
    if (status != WSCRT_TASK_STATUS_RUN_READY) {
        return;
    }
    if (task == &test->first) {
        s_chain_record(test, S_CHAIN_FIRST);
        /* The descriptor is readable from now on, but only the next epoll_wait reports it. */
        uint64_t one = 1;
        if (write(test->fd, &one, sizeof(one)) != sizeof(one)) {
            s_chain_record(test, -1);
        }
        wscrt_event_loop_schedule_task_now(test->loop, &test->second);
    } else if (task == &test->second) {
        s_chain_record(test, S_CHAIN_SECOND);
        wscrt_event_loop_schedule_task_now(test->loop, &test->third);
    } else if (task == &test->third) {
        s_chain_record(test, S_CHAIN_THIRD);
        s_waiter_signal(&test->done);
    } else if (atomic_load(&test->spin)) {
        atomic_fetch_add(&test->spins, 1);
        wscrt_event_loop_schedule_task_now(test->loop, &test->spinner);
    }
}

static void s_chain_subscribe(void *arg) {
    struct s_chain_test *test = arg;
    if (wscrt_event_loop_subscribe_to_io_events(test->loop, test->fd, WSCRT_IO_EVENT_READABLE, s_chain_io_fn,
                                                test) != WSCRT_OP_SUCCESS) {
        s_chain_record(test, -1);
    }
}

static void s_chain_unsubscribe(void *arg) {
    struct s_chain_test *test = arg;
    wscrt_event_loop_unsubscribe_from_io_events(test->loop, test->fd);
}

/* A task scheduled by a due task runs before the loop waits for I/O again; one scheduled by that one runs
 * after the I/O of the next wait. So a task rescheduling itself leaves I/O its turn. */
static int s_test_tasks_handed_on_run_before_the_next_wait_but_cannot_starve_io(struct wscrt_allocator *allocator) {
    struct s_chain_test test = {.fd = -1};
    s_waiter_init(&test.done);
    test.loop = s_new_running_loop(allocator);
    ASSERT_TRUE(test.loop != NULL);
    test.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    ASSERT_TRUE(test.fd >= 0);
    wscrt_task_init(&test.first, s_chain_task_fn, &test);
    wscrt_task_init(&test.second, s_chain_task_fn, &test);
    wscrt_task_init(&test.third, s_chain_task_fn, &test);
    wscrt_task_init(&test.spinner, s_chain_task_fn, &test);
    ASSERT_TRUE(s_run_on_loop(test.loop, s_chain_subscribe, &test));

    wscrt_event_loop_schedule_task_now(test.loop, &test.first);
    ASSERT_TRUE(s_waiter_wait(&test.done, 2, S_WAIT_MS));
    ASSERT_INT_EQ(4, test.order_len);
    ASSERT_INT_EQ(S_CHAIN_FIRST, test.order[0]);
    ASSERT_INT_EQ(S_CHAIN_SECOND, test.order[1]);
    ASSERT_INT_EQ(S_CHAIN_IO, test.order[2]);
    ASSERT_INT_EQ(S_CHAIN_THIRD, test.order[3]);

    /* A task that always reschedules itself: an I/O event still gets through. */
    atomic_store(&test.spin, true);
    wscrt_event_loop_schedule_task_now(test.loop, &test.spinner);
    for (int waited = 0; waited < S_WAIT_MS && atomic_load(&test.spins) < 100; ++waited) {
        s_sleep_ms(1);
    }
    ASSERT_TRUE(atomic_load(&test.spins) >= 100);
    uint64_t one = 1;
    ASSERT_INT_EQ(sizeof(one), write(test.fd, &one, sizeof(one)));
    ASSERT_TRUE(s_waiter_wait(&test.done, 3, S_WAIT_MS));
    ASSERT_TRUE(test.spins_before_io >= 100);
    atomic_store(&test.spin, false);

    ASSERT_TRUE(s_run_on_loop(test.loop, s_chain_unsubscribe, &test));
    wscrt_event_loop_destroy(test.loop);
    close(test.fd);
    s_waiter_clean_up(&test.done);
    return 0;
}

/* ---- the read buffer and load ---- */

static void s_check_read_buffer(void *arg) {
    void **args = arg;
    struct wscrt_byte_buf *buf = wscrt_event_loop_read_buffer(args[0]);
    *(size_t *)args[1] = buf->capacity;
}

static int s_test_read_buffer_and_load(struct wscrt_allocator *allocator) {
    struct wscrt_event_loop *loop = s_new_running_loop(allocator);
    ASSERT_TRUE(loop != NULL);
    size_t capacity = 0;
    void *args[2] = {loop, &capacity};
    ASSERT_TRUE(s_run_on_loop(loop, s_check_read_buffer, args));
    ASSERT_UINT_EQ(256 * 1024, capacity);

    ASSERT_UINT_EQ(0, wscrt_event_loop_load(loop));
    wscrt_event_loop_add_load(loop, 3);
    wscrt_event_loop_add_load(loop, -1);
    ASSERT_UINT_EQ(2, wscrt_event_loop_load(loop));
    wscrt_event_loop_destroy(loop);
    return 0;
}

WSCRT_TEST_MAIN(s_test_subscribe_eventfd_gets_readable, s_test_unsubscribe_suppresses_event_later_in_same_batch,
                s_test_pipe_hang_up_and_double_subscribe,
                s_test_tasks_handed_on_run_before_the_next_wait_but_cannot_starve_io, s_test_read_buffer_and_load)
