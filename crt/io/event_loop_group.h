#ifndef WSCRT_IO_EVENT_LOOP_GROUP_H
#define WSCRT_IO_EVENT_LOOP_GROUP_H
/*
 * N event loops (default: number of cores). Ref-counted: when the last
 * reference is released the group shuts down asynchronously on a helper
 * thread (so a release from one of its own loop threads cannot deadlock),
 * then calls shutdown_callback_fn.
 */
#include <stddef.h>
#include <stdint.h>

struct wscrt_allocator;
struct wscrt_event_loop;
struct wscrt_event_loop_group;
struct wscrt_event_loop_read_buffer_source;

struct wscrt_shutdown_callback_options {
    void (*shutdown_callback_fn)(void *user_data);
    void *shutdown_callback_user_data;
};

/* thread_count 0 = one loop per processor the calling thread may run on (its CPU affinity), at most 65535.
 * shutdown_options may be NULL. */
struct wscrt_event_loop_group *wscrt_event_loop_group_new(struct wscrt_allocator *allocator, uint16_t thread_count,
                                                          const struct wscrt_shutdown_callback_options *shutdown_options);

struct wscrt_event_loop_group_options {
    uint16_t thread_count;                                  /* 0 = as wscrt_event_loop_group_new */
    const struct wscrt_shutdown_callback_options *shutdown; /* may be NULL */
    /* May be NULL; every loop takes its read buffer from it (see event_loop.h). */
    const struct wscrt_event_loop_read_buffer_source *read_buffer_source;
    uint64_t busy_poll_ns; /* see wscrt_event_loop_set_busy_poll; 0 = none */
};

struct wscrt_event_loop_group *wscrt_event_loop_group_new_with_options(
    struct wscrt_allocator *allocator, const struct wscrt_event_loop_group_options *options);
struct wscrt_event_loop_group *wscrt_event_loop_group_acquire(struct wscrt_event_loop_group *group);
void wscrt_event_loop_group_release(struct wscrt_event_loop_group *group);

size_t wscrt_event_loop_group_get_loop_count(struct wscrt_event_loop_group *group);
struct wscrt_event_loop *wscrt_event_loop_group_get_loop_at(struct wscrt_event_loop_group *group, size_t index);
/* The least loaded of two loops picked at random (any thread). */
struct wscrt_event_loop *wscrt_event_loop_group_get_next_loop(struct wscrt_event_loop_group *group);

#endif
