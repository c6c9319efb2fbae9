/* Tests for crt/io/event_loop.c, tasks and timers: task ordering across
 * threads, timers, cancellation, non-recursive scheduling, destroy, per-loop state, thread
 * identity, and idle CPU. Fd subscriptions and the turn IO gets between tasks
 * are in io_event_loop_io_events_test.c. */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>
#include <time.h>

#include "common/clock.h"
#include "io/event_loop.h"
#include "io_event_loop_fixture.h"
#include "test_harness.h"

/* ---- tasks from several threads ---- */

#define S_PRODUCERS 4
#define S_TASKS_PER_PRODUCER 2000

struct s_ordered_task {
    struct wscrt_task task;
    struct s_ordering_test *test;
    int producer;
    int sequence;
};

struct s_ordering_test {
    struct wscrt_event_loop *loop;
    struct s_ordered_task tasks[S_PRODUCERS][S_TASKS_PER_PRODUCER];
    /* Loop thread only. */
    int runs[S_PRODUCERS][S_TASKS_PER_PRODUCER];
    int next_expected[S_PRODUCERS];
    int out_of_order;
    int wrong_thread;
    struct s_waiter all_done;
};

struct s_producer_arg {
    struct s_ordering_test *test;
    int producer;
};

static void s_ordered_task_fn(struct wscrt_task *task, void *arg, enum wscrt_task_status status) {
    (void)task;
    struct s_ordered_task *ordered = arg;
    struct s_ordering_test *test = ordered->test;
    if (status != WSCRT_TASK_STATUS_RUN_READY) {
        return;
    }
    if (!wscrt_event_loop_thread_is_callers_thread(test->loop)) {
        test->wrong_thread++;
    }
    test->runs[ordered->producer][ordered->sequence]++;
    if (test->next_expected[ordered->producer] != ordered->sequence) {
        test->out_of_order++;
    }
    test->next_expected[ordered->producer] = ordered->sequence + 1;
    s_waiter_signal(&test->all_done);
}

static void *s_producer_main(void *arg) {
    struct s_producer_arg *producer = arg;
    for (int i = 0; i < S_TASKS_PER_PRODUCER; ++i) {
        wscrt_event_loop_schedule_task_now(producer->test->loop, &producer->test->tasks[producer->producer][i].task);
        if (i % 256 == 0) {
            sched_yield(); /* let the loop drain part-way, so batches interleave with pushes */
        }
    }
    return NULL;
}

static int s_test_tasks_from_four_threads_run_once_in_order(struct wscrt_allocator *allocator) {
    struct s_ordering_test *test = wscrt_mem_calloc(allocator, 1, sizeof(struct s_ordering_test));
    s_waiter_init(&test->all_done);
    test->loop = s_new_running_loop(allocator);
    ASSERT_TRUE(test->loop != NULL);
    for (int p = 0; p < S_PRODUCERS; ++p) {
        for (int i = 0; i < S_TASKS_PER_PRODUCER; ++i) {
            struct s_ordered_task *ordered = &test->tasks[p][i];
            ordered->test = test;
            ordered->producer = p;
            ordered->sequence = i;
            wscrt_task_init(&ordered->task, s_ordered_task_fn, ordered);
        }
    }

    pthread_t threads[S_PRODUCERS];
    struct s_producer_arg args[S_PRODUCERS];
    for (int p = 0; p < S_PRODUCERS; ++p) {
        args[p] = (struct s_producer_arg){.test = test, .producer = p};
        ASSERT_INT_EQ(0, pthread_create(&threads[p], NULL, s_producer_main, &args[p]));
    }
    for (int p = 0; p < S_PRODUCERS; ++p) {
        pthread_join(threads[p], NULL);
    }
    ASSERT_TRUE(s_waiter_wait(&test->all_done, S_PRODUCERS * S_TASKS_PER_PRODUCER, S_WAIT_MS));
    /* Give a duplicate run a chance to show up before the loop is torn down. */
    s_sleep_ms(20);
    wscrt_event_loop_destroy(test->loop);

    ASSERT_INT_EQ(S_PRODUCERS * S_TASKS_PER_PRODUCER, s_waiter_count(&test->all_done));
    for (int p = 0; p < S_PRODUCERS; ++p) {
        for (int i = 0; i < S_TASKS_PER_PRODUCER; ++i) {
            ASSERT_INT_EQ(1, test->runs[p][i]);
        }
    }
    ASSERT_INT_EQ(0, test->out_of_order);
    ASSERT_INT_EQ(0, test->wrong_thread);
    s_waiter_clean_up(&test->all_done);
    wscrt_mem_release(allocator, test);
    return 0;
}

/* ---- timers ---- */

#define S_TIMERS 6

struct s_timer_test {
    struct wscrt_event_loop *loop;
    struct wscrt_task timers[S_TIMERS];
    uint64_t due[S_TIMERS];
    /* Loop thread only. */
    int order[S_TIMERS];
    int ran;
    int cancelled_runs[S_TIMERS];
    int early;
    struct s_waiter done;
};

static void s_timer_fn(struct wscrt_task *task, void *arg, enum wscrt_task_status status) {
    struct s_timer_test *test = arg;
    int index = (int)(task - test->timers);
    if (status == WSCRT_TASK_STATUS_CANCELED) {
        test->cancelled_runs[index]++;
        return;
    }
    if (wscrt_clock_now_ns() < test->due[index]) {
        test->early++;
    }
    if (test->ran < S_TIMERS) {
        test->order[test->ran] = index;
    }
    test->ran++;
    s_waiter_signal(&test->done);
}

static void s_schedule_timers_on_loop(void *arg) {
    struct s_timer_test *test = arg;
    uint64_t now = wscrt_clock_now_ns();
    /* Scheduled out of order; 1 and 3 share a due time, so 1 must run first. */
    const uint64_t offsets_ms[S_TIMERS] = {90, 30, 60, 30, 10, 45};
    for (int i = 0; i < S_TIMERS; ++i) {
        test->due[i] = now + offsets_ms[i] * WSCRT_NS_PER_MS;
        wscrt_task_init(&test->timers[i], s_timer_fn, test);
        wscrt_event_loop_schedule_task_future(test->loop, &test->timers[i], test->due[i]);
    }
    /* Timer 5 is cancelled before it is due: it runs once, with CANCELED, right now. */
    wscrt_event_loop_cancel_task(test->loop, &test->timers[5]);
}

static int s_test_timers_fire_in_order_and_cancelled_timer_does_not_run(struct wscrt_allocator *allocator) {
    struct s_timer_test test = {0};
    s_waiter_init(&test.done);
    test.loop = s_new_running_loop(allocator);
    ASSERT_TRUE(test.loop != NULL);

    ASSERT_TRUE(s_run_on_loop(test.loop, s_schedule_timers_on_loop, &test));
    ASSERT_INT_EQ(1, test.cancelled_runs[5]);
    ASSERT_TRUE(s_waiter_wait(&test.done, S_TIMERS - 1, S_WAIT_MS));
    s_sleep_ms(120); /* past every due time: a cancelled timer that still fires would show up */
    wscrt_event_loop_destroy(test.loop);

    ASSERT_INT_EQ(S_TIMERS - 1, test.ran);
    const int expected[S_TIMERS - 1] = {4, 1, 3, 2, 0};
    for (int i = 0; i < S_TIMERS - 1; ++i) {
        ASSERT_INT_EQ(expected[i], test.order[i]);
    }
    ASSERT_INT_EQ(0, test.early);
    for (int i = 0; i < S_TIMERS - 1; ++i) {
        ASSERT_INT_EQ(0, test.cancelled_runs[i]);
    }
    ASSERT_INT_EQ(1, test.cancelled_runs[5]);
    s_waiter_clean_up(&test.done);
    return 0;
}

/* ---- cancellation of a "now" task, non-recursive scheduling ---- */

struct s_now_test {
    struct wscrt_event_loop *loop;
    struct wscrt_task first;
    struct wscrt_task second;
    struct wscrt_task victim;
    int second_runs;
    bool second_ran_inside_first;
    int victim_ready_runs;
    int victim_cancel_runs;
    struct s_waiter done;
};

static void s_second_fn(struct wscrt_task *task, void *arg, enum wscrt_task_status status) {
    (void)task;
    struct s_now_test *test = arg;
    if (status == WSCRT_TASK_STATUS_RUN_READY) {
        test->second_runs++;
        s_waiter_signal(&test->done);
    }
}

static void s_victim_fn(struct wscrt_task *task, void *arg, enum wscrt_task_status status) {
    (void)task;
    struct s_now_test *test = arg;
    if (status == WSCRT_TASK_STATUS_RUN_READY) {
        test->victim_ready_runs++;
    } else {
        test->victim_cancel_runs++;
    }
}

static void s_first_fn(struct wscrt_task *task, void *arg, enum wscrt_task_status status) {
    (void)task;
    struct s_now_test *test = arg;
    if (status != WSCRT_TASK_STATUS_RUN_READY) {
        return;
    }
    wscrt_event_loop_schedule_task_now(test->loop, &test->second);
    test->second_ran_inside_first = test->second_runs != 0;
    wscrt_event_loop_schedule_task_now(test->loop, &test->victim);
    wscrt_event_loop_cancel_task(test->loop, &test->victim);
    /* A second cancel of a task that is no longer scheduled does nothing. */
    wscrt_event_loop_cancel_task(test->loop, &test->victim);
}

static int s_test_task_scheduled_from_loop_runs_after_its_scheduler_and_can_be_cancelled(
    struct wscrt_allocator *allocator) {
    struct s_now_test test = {0};
    s_waiter_init(&test.done);
    test.loop = s_new_running_loop(allocator);
    ASSERT_TRUE(test.loop != NULL);
    wscrt_task_init(&test.first, s_first_fn, &test);
    wscrt_task_init(&test.second, s_second_fn, &test);
    wscrt_task_init(&test.victim, s_victim_fn, &test);

    wscrt_event_loop_schedule_task_now(test.loop, &test.first);
    ASSERT_TRUE(s_waiter_wait(&test.done, 1, S_WAIT_MS));
    s_sleep_ms(20);
    wscrt_event_loop_destroy(test.loop);

    ASSERT_FALSE(test.second_ran_inside_first);
    ASSERT_INT_EQ(1, test.second_runs);
    ASSERT_INT_EQ(0, test.victim_ready_runs);
    ASSERT_INT_EQ(1, test.victim_cancel_runs);
    s_waiter_clean_up(&test.done);
    return 0;
}

/* ---- destroy ---- */

struct s_destroy_test {
    struct wscrt_task tasks[4];
    int ready_runs[4];
    int cancel_runs[4];
    bool on_thread_during_cancel[4];
    struct wscrt_event_loop *loop;
};

static void s_destroy_task_fn(struct wscrt_task *task, void *arg, enum wscrt_task_status status) {
    struct s_destroy_test *test = arg;
    int index = (int)(task - test->tasks);
    if (status == WSCRT_TASK_STATUS_RUN_READY) {
        test->ready_runs[index]++;
    } else {
        test->cancel_runs[index]++;
        test->on_thread_during_cancel[index] = wscrt_event_loop_thread_is_callers_thread(test->loop);
    }
}

static void s_schedule_far_timer(void *arg) {
    struct s_destroy_test *test = arg;
    wscrt_event_loop_schedule_task_future(test->loop, &test->tasks[0], wscrt_clock_now_ns() + 60 * WSCRT_NS_PER_SEC);
}

static int s_test_destroy_cancels_pending_tasks(struct wscrt_allocator *allocator) {
    struct s_destroy_test test = {0};
    for (int i = 0; i < 4; ++i) {
        wscrt_task_init(&test.tasks[i], s_destroy_task_fn, &test);
    }
    test.loop = s_new_running_loop(allocator);
    ASSERT_TRUE(test.loop != NULL);
    /* A far timer scheduled on the loop itself... */
    ASSERT_TRUE(s_run_on_loop(test.loop, s_schedule_far_timer, &test));
    /* ...and tasks queued from this thread after the loop thread stopped. */
    ASSERT_SUCCESS(wscrt_event_loop_stop(test.loop));
    ASSERT_SUCCESS(wscrt_event_loop_wait_for_stop_completion(test.loop));
    wscrt_event_loop_schedule_task_now(test.loop, &test.tasks[1]);
    wscrt_event_loop_schedule_task_now(test.loop, &test.tasks[2]);
    wscrt_event_loop_schedule_task_future(test.loop, &test.tasks[3], wscrt_clock_now_ns() + WSCRT_NS_PER_MS);
    wscrt_event_loop_destroy(test.loop);

    for (int i = 0; i < 4; ++i) {
        ASSERT_INT_EQ(0, test.ready_runs[i]);
        ASSERT_INT_EQ(1, test.cancel_runs[i]);
        /* Cleanup code may assert it is on the loop thread: destroy stands in for it. */
        ASSERT_TRUE(test.on_thread_during_cancel[i]);
    }
    return 0;
}

static int s_test_destroy_never_run_loop_cancels_tasks(struct wscrt_allocator *allocator) {
    struct s_destroy_test test = {0};
    test.loop = wscrt_event_loop_new(allocator, "wscrt-never-run");
    ASSERT_TRUE(test.loop != NULL);
    for (int i = 0; i < 2; ++i) {
        wscrt_task_init(&test.tasks[i], s_destroy_task_fn, &test);
    }
    wscrt_event_loop_schedule_task_now(test.loop, &test.tasks[0]);
    wscrt_event_loop_schedule_task_future(test.loop, &test.tasks[1], wscrt_clock_now_ns());
    wscrt_event_loop_destroy(test.loop);
    ASSERT_INT_EQ(1, test.cancel_runs[0]);
    ASSERT_INT_EQ(1, test.cancel_runs[1]);
    ASSERT_INT_EQ(0, test.ready_runs[0] + test.ready_runs[1]);
    return 0;
}

/* ---- per-loop state ---- */

/* Per-loop state holding a task, as the JNI binding's is: destroy cancels the task, then frees the state. */
struct s_loop_state {
    struct wscrt_task task;
    struct wscrt_allocator *allocator;
    int *events; /* appended to: 1 = task cancelled, 2 = state freed */
    size_t *event_count;
};

static void s_loop_state_task_fn(struct wscrt_task *task, void *arg, enum wscrt_task_status status) {
    (void)task;
    struct s_loop_state *state = arg;
    if (status == WSCRT_TASK_STATUS_CANCELED) {
        state->events[(*state->event_count)++] = 1;
    }
}

static void s_loop_state_free(void *value) {
    struct s_loop_state *state = value;
    state->events[(*state->event_count)++] = 2;
    wscrt_mem_release(state->allocator, state);
}

struct s_loop_state_setup {
    struct wscrt_event_loop *loop;
    struct wscrt_allocator *allocator;
    int *events;
    size_t *event_count;
};

static void s_make_loop_state(void *arg) {
    struct s_loop_state_setup *setup = arg;
    struct wscrt_event_loop_local *local = wscrt_event_loop_embedder_local(setup->loop);
    struct s_loop_state *state = wscrt_mem_calloc(setup->allocator, 1, sizeof(*state));
    state->allocator = setup->allocator;
    state->events = setup->events;
    state->event_count = setup->event_count;
    wscrt_task_init(&state->task, s_loop_state_task_fn, state);
    local->value = state;
    local->free_fn = s_loop_state_free;
    wscrt_event_loop_schedule_task_future(setup->loop, &state->task, wscrt_clock_now_ns() + 60 * WSCRT_NS_PER_SEC);
}

static int s_test_loop_state_is_freed_after_the_tasks_it_holds_are_cancelled(struct wscrt_allocator *allocator) {
    int events[4] = {0};
    size_t event_count = 0;
    struct s_loop_state_setup setup = {.allocator = allocator, .events = events, .event_count = &event_count};
    setup.loop = s_new_running_loop(allocator);
    ASSERT_TRUE(setup.loop != NULL);
    ASSERT_TRUE(wscrt_event_loop_embedder_local(setup.loop) != wscrt_event_loop_tls_local(setup.loop));
    ASSERT_TRUE(s_run_on_loop(setup.loop, s_make_loop_state, &setup));
    wscrt_event_loop_destroy(setup.loop);
    ASSERT_UINT_EQ(2, event_count);
    ASSERT_INT_EQ(1, events[0]); /* the task, cancelled while its state lives */
    ASSERT_INT_EQ(2, events[1]); /* then the state */
    return 0;
}

/* ---- thread identity ---- */

static void s_record_is_callers_thread(void *arg) {
    void **args = arg;
    *(bool *)args[1] = wscrt_event_loop_thread_is_callers_thread(args[0]);
}

static int s_test_is_callers_thread_true_inside_task_false_outside(struct wscrt_allocator *allocator) {
    struct wscrt_event_loop *loop = s_new_running_loop(allocator);
    ASSERT_TRUE(loop != NULL);
    bool inside = false;
    void *args[2] = {loop, &inside};
    ASSERT_TRUE(s_run_on_loop(loop, s_record_is_callers_thread, args));
    ASSERT_TRUE(inside);
    ASSERT_FALSE(wscrt_event_loop_thread_is_callers_thread(loop));
    wscrt_event_loop_destroy(loop);
    return 0;
}

/* ---- idle CPU ---- */

static void s_idle_timer_fn(struct wscrt_task *task, void *arg, enum wscrt_task_status status) {
    (void)task;
    (void)status;
    (*(int *)arg)++;
}

static void s_schedule_idle_timer(void *arg) {
    void **args = arg;
    wscrt_event_loop_schedule_task_future(args[0], args[1], wscrt_clock_now_ns() + 60 * WSCRT_NS_PER_SEC);
}

static int s_test_idle_loop_uses_no_cpu(struct wscrt_allocator *allocator) {
    struct wscrt_event_loop *loop = s_new_running_loop(allocator);
    ASSERT_TRUE(loop != NULL);
    bool ok = false;

    /* No timer at all: epoll_wait blocks without a timeout. */
    uint64_t no_timer_ns = s_loop_cpu_ns_over(loop, 300, &ok);
    ASSERT_TRUE(ok);

    /* A far-away timer must not make the loop poll either. */
    struct wscrt_task far_timer;
    int far_timer_runs = 0;
    wscrt_task_init(&far_timer, s_idle_timer_fn, &far_timer_runs);
    void *args[2] = {loop, &far_timer};
    ASSERT_TRUE(s_run_on_loop(loop, s_schedule_idle_timer, args));
    uint64_t far_timer_ns = s_loop_cpu_ns_over(loop, 300, &ok);
    ASSERT_TRUE(ok);
    wscrt_event_loop_destroy(loop);

    fprintf(stderr, "  idle loop thread CPU over 300 ms: %llu us without timers, %llu us with a far timer\n",
            (unsigned long long)(no_timer_ns / 1000), (unsigned long long)(far_timer_ns / 1000));
    /* A spinning loop burns ~300 ms in each window; an idle one a few microseconds. */
    ASSERT_TRUE(no_timer_ns < 30 * WSCRT_NS_PER_MS);
    ASSERT_TRUE(far_timer_ns < 30 * WSCRT_NS_PER_MS);
    ASSERT_INT_EQ(1, far_timer_runs); /* cancelled by destroy */
    return 0;
}

WSCRT_TEST_MAIN(s_test_tasks_from_four_threads_run_once_in_order,
                s_test_timers_fire_in_order_and_cancelled_timer_does_not_run,
                s_test_task_scheduled_from_loop_runs_after_its_scheduler_and_can_be_cancelled,
                s_test_destroy_cancels_pending_tasks, s_test_destroy_never_run_loop_cancels_tasks,
                s_test_loop_state_is_freed_after_the_tasks_it_holds_are_cancelled,
                s_test_is_callers_thread_true_inside_task_false_outside, s_test_idle_loop_uses_no_cpu)
