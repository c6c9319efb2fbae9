#include "io/event_loop_group.h"

#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <unistd.h>

#include "common/allocator.h"
#include "common/clock.h"
#include "common/error.h"
#include "common/logging.h"
#include "common/ref_count.h"
#include "io/event_loop.h"

struct wscrt_event_loop_group {
    struct wscrt_allocator *allocator;
    struct wscrt_ref_count ref_count;
    struct wscrt_event_loop **loops;
    size_t loop_count;
    struct wscrt_shutdown_callback_options shutdown_options;
};

/* Stops every loop before destroying any, so the loops wind down in parallel. */
static void s_destroy_loops(struct wscrt_allocator *allocator, struct wscrt_event_loop **loops, size_t count) {
    for (size_t i = 0; i < count; ++i) {
        wscrt_event_loop_stop(loops[i]);
    }
    for (size_t i = 0; i < count; ++i) {
        wscrt_event_loop_destroy(loops[i]);
    }
    wscrt_mem_release(allocator, loops);
}

static void s_finish_shutdown(struct wscrt_event_loop_group *group) {
    struct wscrt_shutdown_callback_options shutdown_options = group->shutdown_options;
    WSCRT_LOGF_DEBUG(WSCRT_LS_IO_EVENT_LOOP, "id=%p: Shutting down event loop group", (void *)group);
    s_destroy_loops(group->allocator, group->loops, group->loop_count);
    wscrt_mem_release(group->allocator, group);
    /* Last: the callback may free the allocator the group came from. */
    if (shutdown_options.shutdown_callback_fn != NULL) {
        shutdown_options.shutdown_callback_fn(shutdown_options.shutdown_callback_user_data);
    }
}

static void *s_shutdown_thread_main(void *arg) {
    pthread_setname_np(pthread_self(), "wscrt-elg-stop");
    s_finish_shutdown(arg);
    return NULL;
}

static bool s_is_on_own_loop(struct wscrt_event_loop_group *group) {
    for (size_t i = 0; i < group->loop_count; ++i) {
        if (wscrt_event_loop_thread_is_callers_thread(group->loops[i])) {
            return true;
        }
    }
    return false;
}

/* The last reference may be dropped on one of the group's own loop threads,
 * which cannot join itself: the teardown always runs on a fresh detached thread. */
static void s_on_zero_refs(void *object) {
    struct wscrt_event_loop_group *group = object;
    pthread_attr_t attr;
    pthread_t thread;
    int rc = pthread_attr_init(&attr);
    if (rc == 0) {
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        rc = pthread_create(&thread, &attr, s_shutdown_thread_main, group);
        pthread_attr_destroy(&attr);
    }
    if (rc == 0) {
        return;
    }
    if (!s_is_on_own_loop(group)) {
        WSCRT_LOGF_WARN(WSCRT_LS_IO_EVENT_LOOP,
                        "id=%p: No thread for the asynchronous shutdown (error=%d), shutting down inline",
                        (void *)group, rc);
        s_finish_shutdown(group);
        return;
    }
    /* Nothing safe is left to do: joining would deadlock. Leak rather than hang. */
    WSCRT_LOGF_ERROR(WSCRT_LS_IO_EVENT_LOOP,
                     "id=%p: No thread for the asynchronous shutdown (error=%d) on a loop thread; the group leaks",
                     (void *)group, rc);
}

/*
 * The processors this thread may run on (its affinity mask, which taskset or a cpuset sets), not the
 * processors online: a process confined to fewer gains nothing from more loop threads than it can run at
 * once, only context switches. The JDK's availableProcessors() starts from the same mask (and then also
 * applies a container's CPU quota, which this does not). The mask is sized for the processors configured,
 * so machines with more than CPU_SETSIZE of them count too.
 */
static size_t s_available_processor_count(void) {
    long configured = sysconf(_SC_NPROCESSORS_CONF);
    size_t set_cpus = configured < CPU_SETSIZE ? CPU_SETSIZE : (size_t)configured;
    size_t count = 0;
    cpu_set_t *set = CPU_ALLOC(set_cpus);
    if (set != NULL) {
        size_t set_size = CPU_ALLOC_SIZE(set_cpus);
        if (sched_getaffinity(0, set_size, set) == 0) {
            count = (size_t)CPU_COUNT_S(set_size, set);
        }
        CPU_FREE(set);
    }
    if (count == 0) {
        long online = sysconf(_SC_NPROCESSORS_ONLN);
        count = online < 1 ? 1 : (size_t)online;
    }
    return count > UINT16_MAX ? UINT16_MAX : count;
}

struct wscrt_event_loop_group *wscrt_event_loop_group_new(struct wscrt_allocator *allocator, uint16_t thread_count,
                                                          const struct wscrt_shutdown_callback_options *shutdown_options) {
    struct wscrt_event_loop_group_options options = {.thread_count = thread_count, .shutdown = shutdown_options};
    return wscrt_event_loop_group_new_with_options(allocator, &options);
}

struct wscrt_event_loop_group *wscrt_event_loop_group_new_with_options(
    struct wscrt_allocator *allocator, const struct wscrt_event_loop_group_options *options) {
    if (allocator == NULL || options == NULL) {
        wscrt_raise_error(WSCRT_ERROR_INVALID_ARGUMENT);
        return NULL;
    }
    const struct wscrt_shutdown_callback_options *shutdown_options = options->shutdown;
    size_t count = options->thread_count;
    if (count == 0) {
        count = s_available_processor_count();
    }

    struct wscrt_event_loop_group *group = wscrt_mem_calloc(allocator, 1, sizeof(struct wscrt_event_loop_group));
    group->allocator = allocator;
    wscrt_ref_count_init(&group->ref_count, group, s_on_zero_refs);
    if (shutdown_options != NULL) {
        group->shutdown_options = *shutdown_options;
    }
    group->loops = wscrt_mem_calloc(allocator, count, sizeof(struct wscrt_event_loop *));

    for (size_t i = 0; i < count; ++i) {
        char name[16];
        /* At most 65535 loops: "wscrt-el-65535" fits the 16-byte pthread name. */
        snprintf(name, sizeof(name), "wscrt-el-%u", (unsigned)(uint16_t)i);
        struct wscrt_event_loop *loop = wscrt_event_loop_new(allocator, name);
        if (loop == NULL) {
            goto error;
        }
        group->loops[group->loop_count++] = loop;
        if (options->read_buffer_source != NULL) {
            wscrt_event_loop_set_read_buffer_source(loop, options->read_buffer_source);
        }
        wscrt_event_loop_set_busy_poll(loop, options->busy_poll_ns);
        if (wscrt_event_loop_run(loop) != WSCRT_OP_SUCCESS) {
            goto error;
        }
    }
    WSCRT_LOGF_DEBUG(WSCRT_LS_IO_EVENT_LOOP, "id=%p: Created event loop group with %zu loops", (void *)group, count);
    return group;

error:;
    int error_code = wscrt_last_error();
    WSCRT_LOGF_ERROR(WSCRT_LS_IO_EVENT_LOOP, "id=%p: Failed to create the event loop group: %s", (void *)group,
                     wscrt_error_name(error_code));
    s_destroy_loops(allocator, group->loops, group->loop_count);
    wscrt_mem_release(allocator, group);
    wscrt_raise_error(error_code);
    return NULL;
}

struct wscrt_event_loop_group *wscrt_event_loop_group_acquire(struct wscrt_event_loop_group *group) {
    if (group != NULL) {
        wscrt_ref_count_acquire(&group->ref_count);
    }
    return group;
}

void wscrt_event_loop_group_release(struct wscrt_event_loop_group *group) {
    if (group != NULL) {
        wscrt_ref_count_release(&group->ref_count);
    }
}

size_t wscrt_event_loop_group_get_loop_count(struct wscrt_event_loop_group *group) {
    return group->loop_count;
}

struct wscrt_event_loop *wscrt_event_loop_group_get_loop_at(struct wscrt_event_loop_group *group, size_t index) {
    if (index >= group->loop_count) {
        wscrt_raise_error(WSCRT_ERROR_INVALID_ARGUMENT);
        return NULL;
    }
    return group->loops[index];
}

/* xorshift32 per thread: picking a loop must not contend on shared state, and
 * the quality bar is only "spread connections about evenly". */
static uint32_t s_next_random(void) {
    static _Thread_local uint32_t state;
    uint32_t x = state;
    if (x == 0) {
        /* Seed from the clock and this thread's own address so threads differ. */
        uint64_t seed = wscrt_clock_now_ns() ^ (uint64_t)(uintptr_t)&state;
        x = (uint32_t)(seed ^ (seed >> 32));
        if (x == 0) {
            x = 0x9E3779B9u;
        }
    }
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    state = x;
    return x;
}

struct wscrt_event_loop *wscrt_event_loop_group_get_next_loop(struct wscrt_event_loop_group *group) {
    if (group->loop_count == 1) {
        return group->loops[0];
    }
    /* Power of two random choices: nearly as even as scanning every loop's
     * load, at the cost of two atomic loads. The two are always different loops
     * (from different bits of one number): a pair that happens to be the same
     * loop is a purely random pick, and runs of those let the loads drift. */
    uint32_t random = s_next_random();
    size_t first_index = random % group->loop_count;
    size_t second_index = (first_index + 1 + (random >> 16) % (group->loop_count - 1)) % group->loop_count;
    struct wscrt_event_loop *first = group->loops[first_index];
    struct wscrt_event_loop *second = group->loops[second_index];
    return wscrt_event_loop_load(second) < wscrt_event_loop_load(first) ? second : first;
}
