/* Tests for crt/io/event_loop_group.c: start/stop, shutdown from one of the
 * group's own loop threads, reference counting, loop selection, and read
 * buffers from a source. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "io/event_loop.h"
#include "io/event_loop_group.h"
#include "test_harness.h"

/* Every wait in these tests is bounded by this. */
#define S_WAIT_MS 5000

#include "test_waiter.h"

static void s_on_group_shutdown(void *user_data) {
    s_waiter_signal(user_data);
}

/* A group of `threads` loops (0: one a core) whose shutdown callback signals `shutdown`, initialised here. */
static struct wscrt_event_loop_group *s_group_new(struct wscrt_allocator *allocator, uint16_t threads,
                                                  struct s_waiter *shutdown) {
    s_waiter_init(shutdown);
    struct wscrt_shutdown_callback_options options = {s_on_group_shutdown, shutdown};
    return wscrt_event_loop_group_new(allocator, threads, &options);
}

/* Releases the test's reference and waits (bounded) for the shutdown callback; 0, or a failed assertion. */
static int s_group_release_and_wait(struct wscrt_event_loop_group *group, struct s_waiter *shutdown) {
    wscrt_event_loop_group_release(group);
    ASSERT_TRUE(s_waiter_wait(shutdown, 1, S_WAIT_MS));
    s_waiter_clean_up(shutdown);
    return 0;
}

/* ---- start and stop ---- */

struct s_probe {
    struct wscrt_task task;
    struct wscrt_event_loop *loop;
    bool on_thread;
    bool on_other_loops_thread;
    struct wscrt_event_loop *other;
    struct s_waiter *ran;
};

static void s_probe_fn(struct wscrt_task *task, void *arg, enum wscrt_task_status status) {
    (void)task;
    struct s_probe *probe = arg;
    if (status == WSCRT_TASK_STATUS_RUN_READY) {
        probe->on_thread = wscrt_event_loop_thread_is_callers_thread(probe->loop);
        probe->on_other_loops_thread = wscrt_event_loop_thread_is_callers_thread(probe->other);
    }
    s_waiter_signal(probe->ran);
}

static int s_test_group_starts_loops_and_shuts_down(struct wscrt_allocator *allocator) {
    struct s_waiter shutdown;
    struct wscrt_event_loop_group *group = s_group_new(allocator, 3, &shutdown);
    struct s_waiter ran;
    s_waiter_init(&ran);
    ASSERT_TRUE(group != NULL);
    ASSERT_UINT_EQ(3, wscrt_event_loop_group_get_loop_count(group));
    ASSERT_TRUE(wscrt_event_loop_group_get_loop_at(group, 3) == NULL);

    /* Each loop runs its own thread: a task on loop i is on loop i's thread only. */
    struct s_probe probes[3];
    for (size_t i = 0; i < 3; ++i) {
        probes[i] = (struct s_probe){
            .loop = wscrt_event_loop_group_get_loop_at(group, i),
            .other = wscrt_event_loop_group_get_loop_at(group, (i + 1) % 3),
            .ran = &ran,
        };
        ASSERT_TRUE(probes[i].loop != NULL);
        wscrt_task_init(&probes[i].task, s_probe_fn, &probes[i]);
        wscrt_event_loop_schedule_task_now(probes[i].loop, &probes[i].task);
    }
    ASSERT_TRUE(s_waiter_wait(&ran, 3, S_WAIT_MS));
    for (size_t i = 0; i < 3; ++i) {
        ASSERT_TRUE(probes[i].on_thread);
        ASSERT_FALSE(probes[i].on_other_loops_thread);
    }

    ASSERT_INT_EQ(0, s_group_release_and_wait(group, &shutdown));
    s_waiter_clean_up(&ran);
    return 0;
}

static int s_default_group_loop_count(struct wscrt_allocator *allocator, size_t *loop_count) {
    struct s_waiter shutdown;
    struct wscrt_event_loop_group *group = s_group_new(allocator, 0, &shutdown);
    ASSERT_TRUE(group != NULL);
    *loop_count = wscrt_event_loop_group_get_loop_count(group);
    ASSERT_INT_EQ(0, s_group_release_and_wait(group, &shutdown));
    return 0;
}

/* Thread count 0 means one loop per processor this thread may run on: its affinity, not the processors online. */
static int s_test_group_default_thread_count_is_allowed_processor_count(struct wscrt_allocator *allocator) {
    cpu_set_t allowed;
    ASSERT_INT_EQ(0, sched_getaffinity(0, sizeof(allowed), &allowed));
    size_t loops = 0;
    ASSERT_INT_EQ(0, s_default_group_loop_count(allocator, &loops));
    ASSERT_UINT_EQ((size_t)CPU_COUNT(&allowed), loops);

    /* Pinned to one processor (the loops inherit the mask of the thread that starts them): one loop. */
    int first = 0;
    while (!CPU_ISSET(first, &allowed)) {
        ++first;
    }
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(first, &one);
    ASSERT_INT_EQ(0, sched_setaffinity(0, sizeof(one), &one));
    int rc = s_default_group_loop_count(allocator, &loops);
    ASSERT_INT_EQ(0, sched_setaffinity(0, sizeof(allowed), &allowed));
    ASSERT_INT_EQ(0, rc);
    ASSERT_UINT_EQ(1, loops);
    return 0;
}

/* ---- release from one of the group's own loops ---- */

struct s_release_on_loop {
    struct wscrt_task task;
    struct wscrt_event_loop_group *group;
    bool released;
};

static void s_release_group_fn(struct wscrt_task *task, void *arg, enum wscrt_task_status status) {
    (void)task;
    struct s_release_on_loop *release = arg;
    if (status == WSCRT_TASK_STATUS_RUN_READY) {
        wscrt_event_loop_group_release(release->group);
        release->released = true;
    }
}

static int s_test_release_from_own_loop_thread_completes(struct wscrt_allocator *allocator) {
    struct s_waiter shutdown;
    struct wscrt_event_loop_group *group = s_group_new(allocator, 2, &shutdown);
    ASSERT_TRUE(group != NULL);

    struct s_release_on_loop release = {.group = group};
    wscrt_task_init(&release.task, s_release_group_fn, &release);
    wscrt_event_loop_schedule_task_now(wscrt_event_loop_group_get_loop_at(group, 1), &release.task);
    /* A release that joined its own thread would hang here until the deadline. */
    ASSERT_TRUE(s_waiter_wait(&shutdown, 1, S_WAIT_MS));
    ASSERT_TRUE(release.released);
    s_waiter_clean_up(&shutdown);
    return 0;
}

static int s_test_acquire_keeps_group_alive(struct wscrt_allocator *allocator) {
    struct s_waiter shutdown;
    struct wscrt_event_loop_group *group = s_group_new(allocator, 1, &shutdown);
    ASSERT_TRUE(group != NULL);
    ASSERT_TRUE(wscrt_event_loop_group_acquire(group) == group);
    wscrt_event_loop_group_release(group);
    ASSERT_FALSE(s_waiter_wait(&shutdown, 1, 100));
    ASSERT_UINT_EQ(1, wscrt_event_loop_group_get_loop_count(group)); /* still usable */
    ASSERT_INT_EQ(0, s_group_release_and_wait(group, &shutdown));
    return 0;
}

/* ---- loop selection ---- */

#define S_LOOPS 4
#define S_PICKS 4000

static int s_loop_index(struct wscrt_event_loop_group *group, struct wscrt_event_loop *loop) {
    for (size_t i = 0; i < wscrt_event_loop_group_get_loop_count(group); ++i) {
        if (wscrt_event_loop_group_get_loop_at(group, i) == loop) {
            return (int)i;
        }
    }
    return -1;
}

static int s_test_get_next_loop_spreads(struct wscrt_allocator *allocator) {
    struct s_waiter shutdown;
    struct wscrt_event_loop_group *group = s_group_new(allocator, S_LOOPS, &shutdown);
    ASSERT_TRUE(group != NULL);

    /* Equal loads: the choice is random, so every loop gets a fair share. */
    int picks[S_LOOPS] = {0};
    for (int i = 0; i < S_PICKS; ++i) {
        int index = s_loop_index(group, wscrt_event_loop_group_get_next_loop(group));
        ASSERT_TRUE(index >= 0);
        picks[index]++;
    }
    for (int i = 0; i < S_LOOPS; ++i) {
        ASSERT_TRUE(picks[i] > S_PICKS / S_LOOPS / 2);
    }

    /* Connections add load: the less loaded of two picks keeps the loads
     * within a few of each other (pure random choice would drift by tens). */
    for (int i = 0; i < S_PICKS; ++i) {
        wscrt_event_loop_add_load(wscrt_event_loop_group_get_next_loop(group), 1);
    }
    size_t min_load = SIZE_MAX, max_load = 0, total = 0;
    for (size_t i = 0; i < S_LOOPS; ++i) {
        size_t load = wscrt_event_loop_load(wscrt_event_loop_group_get_loop_at(group, i));
        min_load = load < min_load ? load : min_load;
        max_load = load > max_load ? load : max_load;
        total += load;
    }
    ASSERT_UINT_EQ(S_PICKS, total);
    ASSERT_TRUE(max_load - min_load <= 8);

    /* A heavily loaded loop is avoided whenever it is compared with another. */
    struct wscrt_event_loop *busy = wscrt_event_loop_group_get_loop_at(group, 0);
    wscrt_event_loop_add_load(busy, 1000000);
    int busy_picks = 0;
    for (int i = 0; i < S_PICKS; ++i) {
        busy_picks += wscrt_event_loop_group_get_next_loop(group) == busy;
    }
    /* Never: the two picks are different loops, so the busy one always meets a less loaded one. */
    ASSERT_INT_EQ(0, busy_picks);

    ASSERT_INT_EQ(0, s_group_release_and_wait(group, &shutdown));
    return 0;
}

/* ---- read buffers from a source ---- */

#define S_SOURCE_LOOPS 3
#define S_READ_SIZE (256 * 1024)
#define S_SOURCE_SIZE (S_READ_SIZE + 64 * 1024) /* the read buffer, then the plaintext buffer */

/* Lends two arenas; the third acquire finds none and returns NULL. */
struct s_read_source {
    pthread_mutex_t lock;
    uint8_t *arenas[2];
    pthread_t acquired_on[2];
    size_t acquired;
    size_t sizes_asked_wrong;
    int released[2];
};

static uint8_t *s_source_acquire(size_t size, void **token, void *user_data) {
    struct s_read_source *source = user_data;
    pthread_mutex_lock(&source->lock);
    uint8_t *bytes = NULL;
    if (size != S_SOURCE_SIZE) {
        source->sizes_asked_wrong++;
    } else if (source->acquired < 2) {
        size_t i = source->acquired++;
        source->acquired_on[i] = pthread_self();
        bytes = source->arenas[i];
        *token = &source->released[i];
    }
    pthread_mutex_unlock(&source->lock);
    return bytes;
}

static void s_source_release(void *token, void *user_data) {
    struct s_read_source *source = user_data;
    pthread_mutex_lock(&source->lock);
    ++*(int *)token;
    pthread_mutex_unlock(&source->lock);
}

struct s_buffer_probe {
    struct wscrt_task task;
    struct wscrt_event_loop *loop;
    uint8_t *bytes;
    size_t capacity;
    bool plaintext_follows; /* the plaintext buffer is the rest of the same block */
    pthread_t thread;
    struct s_waiter *ran;
};

static void s_buffer_probe_fn(struct wscrt_task *task, void *arg, enum wscrt_task_status status) {
    (void)task;
    struct s_buffer_probe *probe = arg;
    if (status == WSCRT_TASK_STATUS_RUN_READY) {
        struct wscrt_byte_buf *buffer = wscrt_event_loop_read_buffer(probe->loop);
        struct wscrt_byte_buf *plaintext = wscrt_event_loop_plaintext_buffer(probe->loop);
        probe->bytes = buffer->buffer;
        probe->capacity = buffer->capacity;
        probe->plaintext_follows = plaintext->buffer == buffer->buffer + buffer->capacity &&
                                   plaintext->capacity == S_SOURCE_SIZE - S_READ_SIZE;
        probe->thread = pthread_self();
    }
    s_waiter_signal(probe->ran);
}

static int s_test_loops_read_into_the_sources_buffers_acquired_on_their_threads(struct wscrt_allocator *allocator) {
    struct s_read_source source = {.lock = PTHREAD_MUTEX_INITIALIZER};
    for (size_t i = 0; i < 2; ++i) {
        source.arenas[i] = wscrt_mem_acquire(allocator, S_SOURCE_SIZE);
    }
    struct wscrt_event_loop_read_buffer_source hooks = {s_source_acquire, s_source_release, &source};
    struct s_waiter shutdown;
    struct s_waiter ran;
    s_waiter_init(&shutdown);
    s_waiter_init(&ran);
    struct wscrt_shutdown_callback_options on_shutdown = {s_on_group_shutdown, &shutdown};
    struct wscrt_event_loop_group_options options = {
        .thread_count = S_SOURCE_LOOPS, .shutdown = &on_shutdown, .read_buffer_source = &hooks};
    struct wscrt_event_loop_group *group = wscrt_event_loop_group_new_with_options(allocator, &options);
    ASSERT_TRUE(group != NULL);

    struct s_buffer_probe probes[S_SOURCE_LOOPS];
    for (size_t i = 0; i < S_SOURCE_LOOPS; ++i) {
        probes[i] = (struct s_buffer_probe){.loop = wscrt_event_loop_group_get_loop_at(group, i), .ran = &ran};
        wscrt_task_init(&probes[i].task, s_buffer_probe_fn, &probes[i]);
        wscrt_event_loop_schedule_task_now(probes[i].loop, &probes[i].task);
    }
    ASSERT_TRUE(s_waiter_wait(&ran, S_SOURCE_LOOPS, S_WAIT_MS));
    ASSERT_UINT_EQ(S_SOURCE_LOOPS, source.acquired + 1); /* every loop asked, before running anything */
    ASSERT_UINT_EQ(0, source.sizes_asked_wrong);
    size_t lent = 0;
    for (size_t i = 0; i < S_SOURCE_LOOPS; ++i) {
        ASSERT_UINT_EQ(S_READ_SIZE, probes[i].capacity);
        ASSERT_TRUE(probes[i].plaintext_follows);
        for (size_t a = 0; a < 2; ++a) {
            if (probes[i].bytes == source.arenas[a]) {
                ++lent;
                /* Acquired on the thread that reads into it. */
                ASSERT_TRUE(pthread_equal(source.acquired_on[a], probes[i].thread));
            }
        }
    }
    ASSERT_UINT_EQ(2, lent); /* the loop that got NULL reads into its own buffer */

    wscrt_event_loop_group_release(group);
    ASSERT_TRUE(s_waiter_wait(&shutdown, 1, S_WAIT_MS));
    ASSERT_INT_EQ(1, source.released[0]);
    ASSERT_INT_EQ(1, source.released[1]);
    for (size_t i = 0; i < 2; ++i) {
        wscrt_mem_release(allocator, source.arenas[i]);
    }
    pthread_mutex_destroy(&source.lock);
    s_waiter_clean_up(&ran);
    s_waiter_clean_up(&shutdown);
    return 0;
}

WSCRT_TEST_MAIN(s_test_group_starts_loops_and_shuts_down, s_test_group_default_thread_count_is_allowed_processor_count,
                s_test_release_from_own_loop_thread_completes, s_test_acquire_keeps_group_alive,
                s_test_get_next_loop_spreads,
                s_test_loops_read_into_the_sources_buffers_acquired_on_their_threads)
