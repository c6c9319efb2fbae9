/*
 * Channel: a doubly linked list of slots, each with one handler, bound to one
 * event loop. See channel.h for the data flow and the shutdown protocol.
 *
 * Lifetime: the channel's memory is kept by "holds" (an atomic count). The
 * creator's hold is released by wscrt_channel_destroy, which also destroys
 * every handler (on the loop thread). Every task the channel schedules on its
 * own behalf carries a hold, so the struct that embeds the task outlives it.
 * Because handlers are gone once wscrt_channel_destroy returns, the last
 * release may free the bare struct on any thread.
 */
#include "io/channel.h"

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "common/allocator.h"
#include "common/error.h"
#include "common/logging.h"
#include "io/event_loop.h"

/* Loop thread only. */
enum s_channel_state {
    S_CHANNEL_ACTIVE,
    S_CHANNEL_SHUTTING_DOWN_READ,
    S_CHANNEL_SHUTTING_DOWN_WRITE,
    S_CHANNEL_SHUT_DOWN,
};

/* The public slot plus the channel's private bookkeeping for it. */
struct s_slot {
    struct wscrt_channel_slot slot; /* first member: a public slot pointer is an s_slot pointer */
    bool read_shutdown_started;
    bool read_shutdown_done;
    bool write_shutdown_started;
    bool write_shutdown_done;
    bool in_use; /* for the channel's embedded slots: taken */
};

/* Slots carried inside the channel: a plain connection (socket, websocket) needs no other allocation for its
 * slots; a third (TLS, a proxy CONNECT) is allocated on its own. */
#define S_EMBEDDED_SLOTS 2

struct wscrt_channel {
    struct wscrt_allocator *allocator;
    struct wscrt_event_loop *loop;
    wscrt_channel_on_shutdown_completed_fn *on_shutdown_completed;
    void *user_data;
    struct wscrt_channel_slot *first;

    atomic_size_t holds;

    /* Set by the first wscrt_channel_shutdown on any thread; guards the
     * off-thread task so that it is scheduled at most once. */
    atomic_bool shutdown_requested;
    /* Written by the winner of shutdown_requested before it schedules the task
     * (the loop's queue mutex orders the write before the task's read). */
    int requested_error;
    /* Starts a shutdown requested off the loop, and later reports that the shutdown completed. The two
     * uses never overlap: the shutdown cannot complete before it has started, and the report is scheduled
     * from within the first use at the earliest (a task may schedule itself again from its own function). */
    struct wscrt_task task;

    /* Loop thread only. */
    enum s_channel_state state;
    int shutdown_error;
    bool destroyed;
    struct s_slot embedded_slots[S_EMBEDDED_SLOTS];
};

/* ---- io messages ------------------------------------------------------- */

struct wscrt_io_message *wscrt_io_message_new(struct wscrt_allocator *allocator, size_t capacity) {
    if (allocator == NULL || capacity > SIZE_MAX - sizeof(struct wscrt_io_message)) {
        wscrt_raise_error(WSCRT_ERROR_INVALID_ARGUMENT);
        return NULL;
    }
    /* One block: the struct, then the bytes. data.allocator stays NULL because
     * the bytes are freed with the struct, never on their own. */
    struct wscrt_io_message *message = wscrt_mem_acquire(allocator, sizeof(struct wscrt_io_message) + capacity);
    memset(message, 0, sizeof(*message));
    message->data.buffer = (uint8_t *)(message + 1);
    message->data.capacity = capacity;
    message->data.len = 0;
    message->data.allocator = NULL;
    message->allocator = allocator;
    return message;
}

void wscrt_io_message_destroy(struct wscrt_io_message *message) {
    if (message != NULL) {
        wscrt_mem_release(message->allocator, message);
    }
}

/* ---- holds ------------------------------------------------------------- */

void wscrt_channel_acquire_hold(struct wscrt_channel *channel) {
    atomic_fetch_add_explicit(&channel->holds, 1, memory_order_relaxed);
}

void wscrt_channel_release_hold(struct wscrt_channel *channel) {
    size_t previous = atomic_fetch_sub_explicit(&channel->holds, 1, memory_order_acq_rel);
    if (previous == 1) {
        /* Handlers were destroyed by wscrt_channel_destroy on the loop thread;
         * only the struct remains, which is safe to free from any thread. */
        WSCRT_LOGF_DEBUG(WSCRT_LS_IO_CHANNEL, "id=%p: freed", (void *)channel);
        wscrt_mem_release(channel->allocator, channel);
    }
}

/* ---- creation and destruction ----------------------------------------- */

struct wscrt_channel *wscrt_channel_new(struct wscrt_allocator *allocator, const struct wscrt_channel_options *options) {
    if (allocator == NULL || options == NULL || options->event_loop == NULL) {
        wscrt_raise_error(WSCRT_ERROR_INVALID_ARGUMENT);
        return NULL;
    }
    struct wscrt_channel *channel = wscrt_mem_calloc(allocator, 1, sizeof(struct wscrt_channel));
    channel->allocator = allocator;
    channel->loop = options->event_loop;
    channel->on_shutdown_completed = options->on_shutdown_completed;
    channel->user_data = options->user_data;
    atomic_init(&channel->holds, 1);
    atomic_init(&channel->shutdown_requested, false);
    channel->state = S_CHANNEL_ACTIVE;
    WSCRT_LOGF_DEBUG(WSCRT_LS_IO_CHANNEL, "id=%p: created on loop %p", (void *)channel, (void *)channel->loop);
    return channel;
}

static bool s_slot_is_embedded(const struct wscrt_channel *channel, const struct s_slot *impl) {
    for (size_t i = 0; i < S_EMBEDDED_SLOTS; ++i) {
        if (impl == &channel->embedded_slots[i]) {
            return true;
        }
    }
    return false;
}

static void s_destroy_slot(struct wscrt_channel *channel, struct wscrt_channel_slot *slot) {
    if (slot->handler != NULL) {
        slot->handler->vtable->destroy(slot->handler);
        slot->handler = NULL;
    }
    struct s_slot *impl = (struct s_slot *)slot;
    if (s_slot_is_embedded(channel, impl)) {
        memset(impl, 0, sizeof(*impl)); /* free for the next slot_new */
    } else {
        wscrt_mem_release(channel->allocator, impl);
    }
}

void wscrt_channel_destroy(struct wscrt_channel *channel) {
    if (channel == NULL) {
        return;
    }
    WSCRT_LOGF_DEBUG(WSCRT_LS_IO_CHANNEL, "id=%p: destroying", (void *)channel);
    channel->destroyed = true;
    /* Left to right: the socket handler goes first and may still complete
     * pending write messages into the handlers above it, which must exist. */
    struct wscrt_channel_slot *slot = channel->first;
    channel->first = NULL;
    while (slot != NULL) {
        struct wscrt_channel_slot *next = slot->adj_right;
        if (next != NULL) {
            next->adj_left = NULL;
        }
        s_destroy_slot(channel, slot);
        slot = next;
    }
    wscrt_channel_release_hold(channel);
}

/* ---- shutdown ---------------------------------------------------------- */

void wscrt_channel_set_on_shutdown_completed(struct wscrt_channel *channel,
                                             wscrt_channel_on_shutdown_completed_fn *on_shutdown_completed,
                                             void *user_data) {
    channel->on_shutdown_completed = on_shutdown_completed;
    channel->user_data = user_data;
}

static void s_slot_start_shutdown(struct wscrt_channel *channel, struct wscrt_channel_slot *slot,
                                  enum wscrt_channel_direction direction, bool free_scarce);

static void s_on_shutdown_completed_task(struct wscrt_task *task, void *arg, enum wscrt_task_status status) {
    (void)task;
    struct wscrt_channel *channel = arg;
    if (status == WSCRT_TASK_STATUS_RUN_READY && !channel->destroyed) {
        WSCRT_LOGF_DEBUG(WSCRT_LS_IO_CHANNEL, "id=%p: shutdown completed, error=%s", (void *)channel,
                         wscrt_error_name(channel->shutdown_error));
        if (channel->on_shutdown_completed != NULL) {
            /* The callee may call wscrt_channel_destroy here; the task's hold
             * keeps the struct alive until the release below. */
            channel->on_shutdown_completed(channel, channel->shutdown_error, channel->user_data);
        }
    }
    wscrt_channel_release_hold(channel);
}

static void s_schedule_shutdown_completed(struct wscrt_channel *channel) {
    channel->state = S_CHANNEL_SHUT_DOWN;
    wscrt_channel_acquire_hold(channel);
    wscrt_task_init(&channel->task, s_on_shutdown_completed_task, channel);
    wscrt_event_loop_schedule_task_now(channel->loop, &channel->task);
}

static struct wscrt_channel_slot *s_last_slot(struct wscrt_channel *channel) {
    struct wscrt_channel_slot *slot = channel->first;
    while (slot != NULL && slot->adj_right != NULL) {
        slot = slot->adj_right;
    }
    return slot;
}

static void s_start_write_phase(struct wscrt_channel *channel, bool free_scarce) {
    channel->state = S_CHANNEL_SHUTTING_DOWN_WRITE;
    struct wscrt_channel_slot *last = s_last_slot(channel);
    if (last == NULL) {
        s_schedule_shutdown_completed(channel);
        return;
    }
    s_slot_start_shutdown(channel, last, WSCRT_CHANNEL_DIR_WRITE, free_scarce);
}

static void s_slot_start_shutdown(struct wscrt_channel *channel, struct wscrt_channel_slot *slot,
                                  enum wscrt_channel_direction direction, bool free_scarce) {
    struct s_slot *impl = (struct s_slot *)slot;
    bool *started = direction == WSCRT_CHANNEL_DIR_READ ? &impl->read_shutdown_started : &impl->write_shutdown_started;
    if (*started) {
        return;
    }
    *started = true;
    if (slot->handler == NULL) {
        wscrt_channel_slot_on_handler_shutdown_complete(slot, direction, channel->shutdown_error, free_scarce);
        return;
    }
    if (slot->handler->vtable->shutdown(slot->handler, slot, direction, channel->shutdown_error, free_scarce)) {
        /* A handler that refuses to shut down would stall the channel forever;
         * complete on its behalf (a no-op if it already completed). */
        WSCRT_LOGF_WARN(WSCRT_LS_IO_CHANNEL, "id=%p: handler %p failed to shut down %s, error=%s", (void *)channel,
                        (void *)slot->handler, direction == WSCRT_CHANNEL_DIR_READ ? "read" : "write",
                        wscrt_error_name(wscrt_last_error()));
        wscrt_channel_slot_on_handler_shutdown_complete(slot, direction, channel->shutdown_error, free_scarce);
    }
}

static void s_shutdown_on_loop(struct wscrt_channel *channel, int error_code) {
    if (channel->destroyed || channel->state != S_CHANNEL_ACTIVE) {
        return;
    }
    WSCRT_LOGF_DEBUG(WSCRT_LS_IO_CHANNEL, "id=%p: shutting down, error=%s", (void *)channel,
                     wscrt_error_name(error_code));
    channel->shutdown_error = error_code;
    channel->state = S_CHANNEL_SHUTTING_DOWN_READ;
    if (channel->first == NULL) {
        s_start_write_phase(channel, false);
        return;
    }
    s_slot_start_shutdown(channel, channel->first, WSCRT_CHANNEL_DIR_READ, false);
}

static void s_on_shutdown_task(struct wscrt_task *task, void *arg, enum wscrt_task_status status) {
    (void)task;
    struct wscrt_channel *channel = arg;
    if (status == WSCRT_TASK_STATUS_RUN_READY) {
        s_shutdown_on_loop(channel, channel->requested_error);
    }
    wscrt_channel_release_hold(channel);
}

int wscrt_channel_shutdown(struct wscrt_channel *channel, int error_code) {
    if (channel == NULL) {
        return wscrt_raise_error(WSCRT_ERROR_INVALID_ARGUMENT);
    }
    bool expected = false;
    if (!atomic_compare_exchange_strong(&channel->shutdown_requested, &expected, true)) {
        return WSCRT_OP_SUCCESS; /* already requested: the first error wins */
    }
    if (wscrt_event_loop_thread_is_callers_thread(channel->loop)) {
        s_shutdown_on_loop(channel, error_code);
        return WSCRT_OP_SUCCESS;
    }
    channel->requested_error = error_code;
    wscrt_channel_acquire_hold(channel);
    wscrt_task_init(&channel->task, s_on_shutdown_task, channel);
    wscrt_event_loop_schedule_task_now(channel->loop, &channel->task);
    return WSCRT_OP_SUCCESS;
}

bool wscrt_channel_is_shutting_down(const struct wscrt_channel *channel) {
    return atomic_load(&((struct wscrt_channel *)channel)->shutdown_requested) || channel->state != S_CHANNEL_ACTIVE;
}

int wscrt_channel_slot_on_handler_shutdown_complete(struct wscrt_channel_slot *slot,
                                                    enum wscrt_channel_direction direction, int error_code,
                                                    bool free_scarce_resources_immediately) {
    if (slot == NULL) {
        return wscrt_raise_error(WSCRT_ERROR_INVALID_ARGUMENT);
    }
    struct wscrt_channel *channel = slot->channel;
    struct s_slot *impl = (struct s_slot *)slot;
    if (channel->destroyed) {
        return WSCRT_OP_SUCCESS;
    }
    /* A clean shutdown that a handler could not finish cleanly (a flush that
     * failed, say) reports the handler's error; otherwise the first one wins. */
    if (channel->shutdown_error == 0 && error_code != 0) {
        channel->shutdown_error = error_code;
    }
    if (direction == WSCRT_CHANNEL_DIR_READ) {
        if (impl->read_shutdown_done) {
            return WSCRT_OP_SUCCESS;
        }
        impl->read_shutdown_done = true;
        WSCRT_LOGF_TRACE(WSCRT_LS_IO_CHANNEL, "id=%p: slot %p read side shut down", (void *)channel, (void *)slot);
        if (slot->adj_right != NULL) {
            s_slot_start_shutdown(channel, slot->adj_right, WSCRT_CHANNEL_DIR_READ, free_scarce_resources_immediately);
        } else {
            s_start_write_phase(channel, free_scarce_resources_immediately);
        }
        return WSCRT_OP_SUCCESS;
    }
    if (impl->write_shutdown_done) {
        return WSCRT_OP_SUCCESS;
    }
    impl->write_shutdown_done = true;
    WSCRT_LOGF_TRACE(WSCRT_LS_IO_CHANNEL, "id=%p: slot %p write side shut down", (void *)channel, (void *)slot);
    if (slot->adj_left != NULL) {
        s_slot_start_shutdown(channel, slot->adj_left, WSCRT_CHANNEL_DIR_WRITE, free_scarce_resources_immediately);
    } else {
        s_schedule_shutdown_completed(channel);
    }
    return WSCRT_OP_SUCCESS;
}

/* ---- accessors and tasks ---------------------------------------------- */

struct wscrt_event_loop *wscrt_channel_get_event_loop(struct wscrt_channel *channel) {
    return channel->loop;
}

bool wscrt_channel_thread_is_callers_thread(struct wscrt_channel *channel) {
    return wscrt_event_loop_thread_is_callers_thread(channel->loop);
}

void wscrt_channel_schedule_task_now(struct wscrt_channel *channel, struct wscrt_task *task) {
    wscrt_event_loop_schedule_task_now(channel->loop, task);
}

void wscrt_channel_schedule_task_future(struct wscrt_channel *channel, struct wscrt_task *task, uint64_t run_at_ns) {
    wscrt_event_loop_schedule_task_future(channel->loop, task, run_at_ns);
}

struct wscrt_channel_slot *wscrt_channel_get_first_slot(struct wscrt_channel *channel) {
    return channel->first;
}

/* ---- slots ------------------------------------------------------------- */

struct wscrt_channel_slot *wscrt_channel_slot_new(struct wscrt_channel *channel) {
    if (channel == NULL) {
        wscrt_raise_error(WSCRT_ERROR_INVALID_ARGUMENT);
        return NULL;
    }
    if (channel->destroyed) {
        wscrt_raise_error(WSCRT_ERROR_INVALID_STATE);
        return NULL;
    }
    struct s_slot *impl = NULL;
    for (size_t i = 0; i < S_EMBEDDED_SLOTS && impl == NULL; ++i) {
        if (!channel->embedded_slots[i].in_use) {
            impl = &channel->embedded_slots[i];
            impl->in_use = true;
        }
    }
    if (impl == NULL) {
        impl = wscrt_mem_calloc(channel->allocator, 1, sizeof(struct s_slot));
    }
    struct wscrt_channel_slot *slot = &impl->slot;
    slot->channel = channel;
    struct wscrt_channel_slot *last = s_last_slot(channel);
    if (last == NULL) {
        channel->first = slot;
    } else {
        last->adj_right = slot;
        slot->adj_left = last;
    }
    return slot;
}

static size_t s_add_saturating(size_t a, size_t b) {
    return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

/* Tells the handler left of `slot` that `slot` may now receive `size` more bytes. */
static int s_notify_left_of_window(struct wscrt_channel_slot *slot, size_t size) {
    struct wscrt_channel_slot *left = slot->adj_left;
    if (size == 0 || left == NULL || left->handler == NULL) {
        return WSCRT_OP_SUCCESS;
    }
    struct s_slot *left_impl = (struct s_slot *)left;
    if (left_impl->read_shutdown_done) {
        return WSCRT_OP_SUCCESS; /* nobody reads any more */
    }
    /* A read shutdown still in progress hears of new room: a handler that holds data for its reader
     * after the peer's end of stream (TLS) finishes delivering it as the reader makes room. */
    return left->handler->vtable->increment_read_window(left->handler, left, size);
}

int wscrt_channel_slot_set_handler(struct wscrt_channel_slot *slot, struct wscrt_channel_handler *handler) {
    if (slot == NULL || handler == NULL || handler->vtable == NULL) {
        return wscrt_raise_error(WSCRT_ERROR_INVALID_ARGUMENT);
    }
    if (slot->handler == handler) {
        return WSCRT_OP_SUCCESS; /* some handler constructors install themselves */
    }
    if (slot->handler != NULL) {
        return wscrt_raise_error(WSCRT_ERROR_INVALID_STATE);
    }
    slot->handler = handler;
    handler->slot = slot;
    size_t initial = handler->vtable->initial_window_size(handler);
    slot->window_size = initial;
    /* The left neighbour may have stopped reading for lack of a receiver. */
    return s_notify_left_of_window(slot, initial);
}

int wscrt_channel_slot_remove(struct wscrt_channel_slot *slot) {
    if (slot == NULL) {
        return wscrt_raise_error(WSCRT_ERROR_INVALID_ARGUMENT);
    }
    struct wscrt_channel *channel = slot->channel;
    struct wscrt_channel_slot *left = slot->adj_left;
    struct wscrt_channel_slot *right = slot->adj_right;
    size_t removed_window = slot->window_size;
    if (left != NULL) {
        left->adj_right = right;
    } else {
        channel->first = right;
    }
    if (right != NULL) {
        right->adj_left = left;
    }
    s_destroy_slot(channel, slot);
    /* The left neighbour now feeds `right`; if right accepts more than the
     * removed slot did, that difference is new room for it. */
    if (left != NULL && right != NULL && right->window_size > removed_window) {
        return s_notify_left_of_window(right, right->window_size - removed_window);
    }
    return WSCRT_OP_SUCCESS;
}

int wscrt_channel_slot_send_read_data(struct wscrt_channel_slot *slot, struct wscrt_byte_cursor data) {
    struct wscrt_channel_slot *right = slot->adj_right;
    if (right == NULL || right->handler == NULL) {
        return wscrt_raise_error(WSCRT_ERROR_INVALID_STATE);
    }
    if (((struct s_slot *)right)->read_shutdown_started) {
        return wscrt_raise_error(WSCRT_ERROR_IO_CHANNEL_SHUT_DOWN);
    }
    if (data.len > right->window_size) {
        WSCRT_LOGF_ERROR(WSCRT_LS_IO_CHANNEL, "id=%p: %zu bytes sent to slot %p exceed its window of %zu",
                         (void *)slot->channel, data.len, (void *)right, right->window_size);
        return wscrt_raise_error(WSCRT_ERROR_INVALID_STATE);
    }
    if (right->window_size != SIZE_MAX) {
        /* SIZE_MAX means unlimited; keep it that way. */
        right->window_size -= data.len;
    }
    return right->handler->vtable->process_read_data(right->handler, right, data);
}

int wscrt_channel_slot_send_write_message(struct wscrt_channel_slot *slot, struct wscrt_io_message *message) {
    if (slot == NULL || message == NULL) {
        return wscrt_raise_error(WSCRT_ERROR_INVALID_ARGUMENT);
    }
    struct wscrt_channel_slot *left = slot->adj_left;
    if (left == NULL || left->handler == NULL) {
        return wscrt_raise_error(WSCRT_ERROR_INVALID_STATE);
    }
    if (((struct s_slot *)left)->write_shutdown_started) {
        return wscrt_raise_error(WSCRT_ERROR_IO_CHANNEL_SHUT_DOWN);
    }
    return left->handler->vtable->process_write_message(left->handler, left, message);
}

int wscrt_channel_slot_increment_read_window(struct wscrt_channel_slot *slot, size_t size) {
    if (slot == NULL) {
        return wscrt_raise_error(WSCRT_ERROR_INVALID_ARGUMENT);
    }
    if (size == 0) {
        return WSCRT_OP_SUCCESS;
    }
    slot->window_size = s_add_saturating(slot->window_size, size);
    return s_notify_left_of_window(slot, size);
}

size_t wscrt_channel_slot_downstream_read_window(struct wscrt_channel_slot *slot) {
    if (slot->adj_right == NULL) {
        return SIZE_MAX;
    }
    return slot->adj_right->handler != NULL ? slot->adj_right->window_size : 0;
}
