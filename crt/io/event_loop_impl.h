#ifndef WSCRT_IO_EVENT_LOOP_IMPL_H
#define WSCRT_IO_EVENT_LOOP_IMPL_H
/*
 * Private to event_loop.c (tasks, timers, the loop thread) and event_loop_io.c
 * (descriptor subscriptions and their events): the loop's state, and what the
 * loop thread calls in the IO half.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>

#include "common/byte_buf.h"
#include "common/linked_list.h"
#include "io/event_loop.h"
#include "io/timer_heap.h"

/* pthread names are limited to 16 bytes including the NUL. */
#define WSCRT_EVENT_LOOP_THREAD_NAME_MAX 16

/* One per subscribed descriptor. epoll's data.ptr points here rather than at
 * the fd so that an event still queued in the current batch for a descriptor
 * that was unsubscribed (and whose number may already be reused) is
 * recognised as stale: the record stays allocated, marked dead, until the end
 * of the iteration. */
struct wscrt_io_subscription {
    int fd;
    bool dead;
    wscrt_io_event_fn *fn;
    void *user_data;
    struct wscrt_linked_list_node dead_node;
};

struct wscrt_event_loop {
    struct wscrt_allocator *allocator;
    char thread_name[WSCRT_EVENT_LOOP_THREAD_NAME_MAX];
    int epoll_fd;
    int wakeup_fd; /* eventfd: written by other threads when the cross-thread queue becomes non-empty */

    /* Set while a thread started by wscrt_event_loop_run exists and has not been joined.
     * Touched only by the threads that run/join the loop, never by the loop itself. */
    bool thread_started;
    pthread_t thread;
    /* pthread_t of the thread acting as the loop's owner (the loop thread, or the
     * destroying thread while it cancels tasks); 0 when none. */
    atomic_ulong owner_thread_id;
    atomic_bool stop_requested;
    atomic_size_t load;

    /* Guards cross_thread_tasks and the scheduling fields of tasks while they sit in it. */
    pthread_mutex_t lock;
    struct wscrt_linked_list cross_thread_tasks;

    /* Loop thread only. */
    struct wscrt_linked_list ready_tasks; /* "now" tasks for the next iteration */
    struct wscrt_timer_heap timers;
    /* S_LOOP_BUFFERS_SIZE bytes, the read buffer then the plaintext buffer; NULL until the thread first runs. */
    uint8_t *buffers;
    struct wscrt_byte_buf read_buffer;
    struct wscrt_byte_buf plaintext_buffer;
    struct wscrt_event_loop_local tls_local;
    struct wscrt_event_loop_local embedder_local;
    struct wscrt_event_loop_read_buffer_source read_buffer_source; /* set before the thread starts */
    void *read_buffer_token; /* non-NULL while `buffers` comes from the source */
    uint64_t busy_poll_ns;   /* set before the thread starts; 0 = block at once */
    struct wscrt_io_subscription **subscriptions; /* indexed by fd */
    size_t subscriptions_capacity;
    struct wscrt_linked_list dead_subscriptions;
};

/* Loop thread: hands one epoll event of a subscribed descriptor to its callback (none if unsubscribed
 * earlier in the same batch). */
void wscrt_event_loop_dispatch_io_event(struct wscrt_event_loop *loop, const struct epoll_event *event);

/* Loop thread, at the end of an iteration: frees the records of descriptors unsubscribed during it. */
void wscrt_event_loop_free_dead_subscriptions(struct wscrt_event_loop *loop);

/* At destroy, once the loop thread has ended: frees every subscription record, warning about descriptors
 * still subscribed, and the table. */
void wscrt_event_loop_release_subscriptions(struct wscrt_event_loop *loop);

#endif
