/*
 * The event loop's descriptor subscriptions: epoll registration (edge-triggered), the table of records by
 * descriptor, and the hand-off of each event to its callback on the loop thread. Tasks, timers and the
 * loop thread itself are in event_loop.c.
 */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>

#include "common/allocator.h"
#include "common/error.h"
#include "common/logging.h"
#include "io/event_loop.h"
#include "io/event_loop_impl.h"

static int s_to_io_events(uint32_t epoll_events) {
    int events = 0;
    if (epoll_events & EPOLLIN) {
        events |= WSCRT_IO_EVENT_READABLE;
    }
    if (epoll_events & EPOLLOUT) {
        events |= WSCRT_IO_EVENT_WRITABLE;
    }
    if (epoll_events & (EPOLLRDHUP | EPOLLHUP)) {
        events |= WSCRT_IO_EVENT_REMOTE_HANG_UP;
    }
    if (epoll_events & EPOLLERR) {
        events |= WSCRT_IO_EVENT_ERROR;
    }
    return events;
}

void wscrt_event_loop_free_dead_subscriptions(struct wscrt_event_loop *loop) {
    while (!wscrt_linked_list_empty(&loop->dead_subscriptions)) {
        struct wscrt_linked_list_node *node = wscrt_linked_list_pop_front(&loop->dead_subscriptions);
        wscrt_mem_release(loop->allocator, WSCRT_CONTAINER_OF(node, struct wscrt_io_subscription, dead_node));
    }
}

void wscrt_event_loop_dispatch_io_event(struct wscrt_event_loop *loop, const struct epoll_event *event) {
    struct wscrt_io_subscription *subscription = event->data.ptr;
    if (subscription->dead) {
        return; /* unsubscribed earlier in this batch */
    }
    subscription->fn(loop, subscription->fd, s_to_io_events(event->events), subscription->user_data);
}

void wscrt_event_loop_release_subscriptions(struct wscrt_event_loop *loop) {
    size_t leftover = 0;
    for (size_t fd = 0; fd < loop->subscriptions_capacity; ++fd) {
        if (loop->subscriptions[fd] != NULL) {
            ++leftover;
            wscrt_mem_release(loop->allocator, loop->subscriptions[fd]);
        }
    }
    if (leftover > 0) {
        WSCRT_LOGF_WARN(WSCRT_LS_IO_EVENT_LOOP, "id=%p: %zu descriptors were still subscribed at destroy",
                        (void *)loop, leftover);
    }
    wscrt_event_loop_free_dead_subscriptions(loop);
    wscrt_mem_release(loop->allocator, loop->subscriptions);
    loop->subscriptions = NULL;
    loop->subscriptions_capacity = 0;
}

static void s_ensure_subscription_slot(struct wscrt_event_loop *loop, size_t fd) {
    if (fd < loop->subscriptions_capacity) {
        return;
    }
    size_t new_capacity = loop->subscriptions_capacity == 0 ? 64 : loop->subscriptions_capacity;
    while (new_capacity <= fd) {
        new_capacity *= 2;
    }
    loop->subscriptions =
        wscrt_mem_realloc(loop->allocator, loop->subscriptions, loop->subscriptions_capacity * sizeof(void *),
                          new_capacity * sizeof(void *));
    memset(loop->subscriptions + loop->subscriptions_capacity, 0,
           (new_capacity - loop->subscriptions_capacity) * sizeof(void *));
    loop->subscriptions_capacity = new_capacity;
}

int wscrt_event_loop_subscribe_to_io_events(struct wscrt_event_loop *loop, int fd, int events, wscrt_io_event_fn *fn,
                                            void *user_data) {
    if (fd < 0 || fn == NULL || (events & (WSCRT_IO_EVENT_READABLE | WSCRT_IO_EVENT_WRITABLE)) == 0) {
        return wscrt_raise_error(WSCRT_ERROR_INVALID_ARGUMENT);
    }
    s_ensure_subscription_slot(loop, (size_t)fd);
    if (loop->subscriptions[fd] != NULL) {
        return wscrt_raise_error(WSCRT_ERROR_INVALID_STATE);
    }

    struct wscrt_io_subscription *subscription = wscrt_mem_calloc(loop->allocator, 1, sizeof(struct wscrt_io_subscription));
    subscription->fd = fd;
    subscription->fn = fn;
    subscription->user_data = user_data;

    /* Hang-ups and errors are always reported (epoll adds EPOLLHUP/EPOLLERR by itself). */
    struct epoll_event event = {.events = EPOLLET | EPOLLRDHUP, .data.ptr = subscription};
    if (events & WSCRT_IO_EVENT_READABLE) {
        event.events |= EPOLLIN;
    }
    if (events & WSCRT_IO_EVENT_WRITABLE) {
        event.events |= EPOLLOUT;
    }
    if (epoll_ctl(loop->epoll_fd, EPOLL_CTL_ADD, fd, &event) != 0) {
        int err = errno;
        WSCRT_LOGF_ERROR(WSCRT_LS_IO_EVENT_LOOP, "id=%p: epoll_ctl ADD failed for fd=%d, errno=%d", (void *)loop, fd,
                         err);
        wscrt_mem_release(loop->allocator, subscription);
        return wscrt_raise_errno(err);
    }
    loop->subscriptions[fd] = subscription;
    WSCRT_LOGF_TRACE(WSCRT_LS_IO_EVENT_LOOP, "id=%p: Subscribed fd=%d events=%d", (void *)loop, fd, events);
    return WSCRT_OP_SUCCESS;
}

static int s_unsubscribe(struct wscrt_event_loop *loop, int fd, bool closing) {
    if (fd < 0 || (size_t)fd >= loop->subscriptions_capacity || loop->subscriptions[fd] == NULL) {
        return wscrt_raise_error(WSCRT_ERROR_INVALID_ARGUMENT);
    }
    struct wscrt_io_subscription *subscription = loop->subscriptions[fd];
    loop->subscriptions[fd] = NULL;
    if (!closing && epoll_ctl(loop->epoll_fd, EPOLL_CTL_DEL, fd, NULL) != 0) {
        /* Most likely the fd was closed first (which removed it from epoll already). */
        WSCRT_LOGF_WARN(WSCRT_LS_IO_EVENT_LOOP, "id=%p: epoll_ctl DEL failed for fd=%d, errno=%d", (void *)loop, fd,
                        errno);
    }
    subscription->dead = true;
    wscrt_linked_list_push_back(&loop->dead_subscriptions, &subscription->dead_node);
    WSCRT_LOGF_TRACE(WSCRT_LS_IO_EVENT_LOOP, "id=%p: Unsubscribed fd=%d", (void *)loop, fd);
    return WSCRT_OP_SUCCESS;
}

int wscrt_event_loop_unsubscribe_from_io_events(struct wscrt_event_loop *loop, int fd) {
    return s_unsubscribe(loop, fd, false);
}

int wscrt_event_loop_unsubscribe_before_close(struct wscrt_event_loop *loop, int fd) {
    return s_unsubscribe(loop, fd, true);
}
