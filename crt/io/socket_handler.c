/*
 * Socket handler: slot 0 of every channel.
 *
 * Reads are edge-triggered: on READABLE (or a resume task) it reads into the
 * loop's shared read buffer, never more than the right neighbour's window,
 * and hands each chunk up synchronously, until a short read (the kernel's buffer
 * is empty; not after a hang-up), EAGAIN, a window of 0 (then it stops and
 * remembers; an increment schedules a resume task) or the fairness cap (then it
 * schedules a resume task so other connections on the loop get a turn).
 *
 * Writes are queued and flushed from a task, so that many messages sent in a
 * row cost one writev. Completed messages wait in a list and their callbacks
 * run from one task: a completion never runs inside the caller's send.
 */
#include "io/socket_handler.h"

#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <sys/uio.h>

#include "common/allocator.h"
#include "common/byte_buf.h"
#include "common/error.h"
#include "common/linked_list.h"
#include "common/logging.h"
#include "io/channel.h"
#include "io/event_loop.h"
#include "io/socket.h"

/* Bytes read per I/O event before yielding to the rest of the loop. */
#define S_MAX_READ_PER_EVENT (1024 * 1024)
/* iovecs per writev: enough to batch many small frames, small enough for the stack. */
#define S_MAX_IOVECS 64
#if defined(IOV_MAX) && IOV_MAX < S_MAX_IOVECS
#    undef S_MAX_IOVECS
#    define S_MAX_IOVECS IOV_MAX
#endif

struct s_socket_handler {
    struct wscrt_channel_handler base;
    struct wscrt_allocator *allocator;
    struct wscrt_socket *socket;
    struct wscrt_channel_slot *slot;

    /* The tasks and queues first, the flags together at the end: no padding between them (an idle connection
     * holds one of these). */
    struct wscrt_task read_task;
    struct wscrt_linked_list write_queue; /* messages with bytes still to write */
    struct wscrt_task write_task;
    /* Completions, run by completion_task in FIFO order: successes first
     * (they were written before anything failed), then failures. */
    struct wscrt_linked_list completed;
    struct wscrt_linked_list failed;
    struct wscrt_task completion_task;
    int failed_error;

    /* Reading. */
    bool read_stopped; /* stopped early (window 0 or no receiver): must resume by itself */
    bool read_task_scheduled;
    bool read_shut_down;
    bool peer_hung_up; /* a hang-up or error event was seen: read on to the EOF or error, never stop short */
    /* Writing. */
    bool waiting_for_writable; /* the kernel buffer was full */
    bool write_task_scheduled;
    bool write_shut_down;
    bool completion_task_scheduled;
};

static struct wscrt_channel *s_channel(struct s_socket_handler *handler) {
    return handler->slot->channel;
}

static struct wscrt_event_loop *s_loop(struct s_socket_handler *handler) {
    return wscrt_channel_get_event_loop(s_channel(handler));
}

/* ---- completions ------------------------------------------------------- */

static void s_run_completions(struct s_socket_handler *handler, struct wscrt_channel *channel) {
    /* Take the lists first: a callback may queue and complete more messages,
     * which then go to the next task. */
    struct wscrt_linked_list completed;
    struct wscrt_linked_list failed;
    wscrt_linked_list_init(&completed);
    wscrt_linked_list_init(&failed);
    wscrt_linked_list_move_all_back(&completed, &handler->completed);
    wscrt_linked_list_move_all_back(&failed, &handler->failed);
    int failed_error = handler->failed_error;

    while (!wscrt_linked_list_empty(&completed)) {
        struct wscrt_io_message *message =
            WSCRT_CONTAINER_OF(wscrt_linked_list_pop_front(&completed), struct wscrt_io_message, queueing_handle);
        if (message->on_completion != NULL) {
            message->on_completion(channel, message, 0, message->user_data);
        }
        wscrt_io_message_destroy(message);
    }
    while (!wscrt_linked_list_empty(&failed)) {
        struct wscrt_io_message *message =
            WSCRT_CONTAINER_OF(wscrt_linked_list_pop_front(&failed), struct wscrt_io_message, queueing_handle);
        if (message->on_completion != NULL) {
            message->on_completion(channel, message, failed_error, message->user_data);
        }
        wscrt_io_message_destroy(message);
    }
}

static void s_on_completion_task(struct wscrt_task *task, void *arg, enum wscrt_task_status status) {
    (void)task;
    struct s_socket_handler *handler = arg;
    handler->completion_task_scheduled = false;
    if (status != WSCRT_TASK_STATUS_RUN_READY) {
        return; /* destroy runs whatever is left */
    }
    s_run_completions(handler, s_channel(handler));
}

static void s_schedule_completions(struct s_socket_handler *handler) {
    if (!handler->completion_task_scheduled) {
        handler->completion_task_scheduled = true;
        wscrt_channel_schedule_task_now(s_channel(handler), &handler->completion_task);
    }
}

/* Moves every queued message to the failed list. */
static void s_fail_queued(struct s_socket_handler *handler, int error_code) {
    if (wscrt_linked_list_empty(&handler->write_queue)) {
        return;
    }
    if (wscrt_linked_list_empty(&handler->failed)) {
        handler->failed_error = error_code;
    }
    wscrt_linked_list_move_all_back(&handler->failed, &handler->write_queue);
}

/* ---- writing ----------------------------------------------------------- */

/*
 * Writes queued messages until the queue is empty or the kernel buffer is
 * full (then waits for WRITABLE). Returns WSCRT_OP_ERR with the socket's
 * error if a write failed.
 */
static int s_flush(struct s_socket_handler *handler) {
    struct iovec iov[S_MAX_IOVECS];
    bool completed_any = false;
    int result = WSCRT_OP_SUCCESS;

    handler->waiting_for_writable = false;
    while (!wscrt_linked_list_empty(&handler->write_queue)) {
        int count = 0;
        for (struct wscrt_linked_list_node *node = wscrt_linked_list_front(&handler->write_queue);
             node != wscrt_linked_list_end(&handler->write_queue) && count < S_MAX_IOVECS; node = node->next) {
            struct wscrt_io_message *message = WSCRT_CONTAINER_OF(node, struct wscrt_io_message, queueing_handle);
            size_t remaining = message->data.len - message->copy_mark;
            if (remaining == 0) {
                continue;
            }
            iov[count].iov_base = message->data.buffer + message->copy_mark;
            iov[count].iov_len = remaining;
            ++count;
        }

        size_t written = 0;
        if (count > 0 && wscrt_socket_writev(handler->socket, iov, count, &written)) {
            result = WSCRT_OP_ERR;
            break;
        }
        size_t written_now = written;

        /* Account the written bytes to messages in order; fully written (and
         * empty) messages complete. */
        while (!wscrt_linked_list_empty(&handler->write_queue)) {
            struct wscrt_io_message *message = WSCRT_CONTAINER_OF(wscrt_linked_list_front(&handler->write_queue),
                                                                  struct wscrt_io_message, queueing_handle);
            size_t remaining = message->data.len - message->copy_mark;
            size_t take = remaining < written ? remaining : written;
            message->copy_mark += take;
            written -= take;
            if (message->copy_mark < message->data.len) {
                break;
            }
            wscrt_linked_list_pop_front(&handler->write_queue);
            wscrt_linked_list_push_back(&handler->completed, &message->queueing_handle);
            completed_any = true;
        }

        if (count > 0 && written_now == 0) {
            /* EAGAIN: the kernel buffer is full. A short write just goes
             * round again, and that second try is what hits EAGAIN, which
             * guarantees the next WRITABLE edge. */
            handler->waiting_for_writable = true;
            break;
        }
    }
    if (completed_any) {
        s_schedule_completions(handler);
    }
    return result;
}

static void s_on_write_error(struct s_socket_handler *handler) {
    int error_code = wscrt_last_error();
    WSCRT_LOGF_DEBUG(WSCRT_LS_IO_SOCKET, "id=%p: write failed, error=%s; shutting the channel down", (void *)handler,
                     wscrt_error_name(error_code));
    wscrt_channel_shutdown(s_channel(handler), error_code);
}

static void s_on_write_task(struct wscrt_task *task, void *arg, enum wscrt_task_status status) {
    (void)task;
    struct s_socket_handler *handler = arg;
    handler->write_task_scheduled = false;
    if (status != WSCRT_TASK_STATUS_RUN_READY || handler->write_shut_down || handler->waiting_for_writable) {
        return;
    }
    if (s_flush(handler)) {
        s_on_write_error(handler);
    }
}

static int s_process_write_message(struct wscrt_channel_handler *base, struct wscrt_channel_slot *slot,
                                   struct wscrt_io_message *message) {
    (void)slot;
    struct s_socket_handler *handler = base->impl;
    if (handler->write_shut_down || !wscrt_socket_is_open(handler->socket)) {
        return wscrt_raise_error(WSCRT_ERROR_IO_CHANNEL_SHUT_DOWN);
    }
    wscrt_linked_list_push_back(&handler->write_queue, &message->queueing_handle);
    /* Flush from a task: messages sent in a row share one writev. While the
     * kernel buffer is full, the WRITABLE event does the flushing. */
    if (!handler->write_task_scheduled && !handler->waiting_for_writable) {
        handler->write_task_scheduled = true;
        wscrt_channel_schedule_task_now(s_channel(handler), &handler->write_task);
    }
    return WSCRT_OP_SUCCESS;
}

/* ---- reading ----------------------------------------------------------- */

static void s_schedule_read_resume(struct s_socket_handler *handler) {
    if (!handler->read_task_scheduled) {
        handler->read_task_scheduled = true;
        wscrt_channel_schedule_task_now(s_channel(handler), &handler->read_task);
    }
}

static void s_do_read(struct s_socket_handler *handler) {
    struct wscrt_channel_slot *slot = handler->slot;
    struct wscrt_byte_buf *buffer = wscrt_event_loop_read_buffer(s_loop(handler));
    size_t total = 0;

    handler->read_stopped = false;
    while (!handler->read_shut_down && wscrt_socket_is_open(handler->socket)) {
        /* No receiver yet counts as a window of 0: set_handler on the right
         * slot announces its window and resumes us. */
        size_t window = slot->adj_right != NULL ? wscrt_channel_slot_downstream_read_window(slot) : 0;
        if (window == 0) {
            handler->read_stopped = true;
            WSCRT_LOGF_TRACE(WSCRT_LS_IO_SOCKET, "id=%p: read window is 0, reading paused", (void *)handler);
            return;
        }
        if (total >= S_MAX_READ_PER_EVENT) {
            s_schedule_read_resume(handler);
            return;
        }
        size_t max = window;
        if (max > buffer->capacity) {
            max = buffer->capacity;
        }
        wscrt_byte_buf_reset(buffer);
        size_t amount = 0;
        if (wscrt_socket_read(handler->socket, buffer, max, &amount)) {
            int error_code = wscrt_last_error();
            if (error_code == WSCRT_ERROR_IO_READ_WOULD_BLOCK) {
                return; /* the next READABLE edge brings us back */
            }
            WSCRT_LOGF_DEBUG(WSCRT_LS_IO_SOCKET, "id=%p: read ended, error=%s; shutting the channel down",
                             (void *)handler, wscrt_error_name(error_code));
            wscrt_channel_shutdown(s_channel(handler), error_code);
            return;
        }
        if (amount == 0) {
            /* Nothing fits (a zero-capacity buffer): try again from a task
             * rather than spin here. */
            s_schedule_read_resume(handler);
            return;
        }
        total += amount;
        /* A read shorter than asked for emptied the kernel's buffer: bytes that arrive later raise a new
         * READABLE edge, so the read that would only say EAGAIN is skipped (a syscall per event). A FIN or
         * an error does not come back as an edge once seen, so after one the loop reads on to it. */
        bool drained = amount < max && !handler->peer_hung_up;
        struct wscrt_byte_cursor data = wscrt_byte_cursor_from_array(buffer->buffer, amount);
        if (wscrt_channel_slot_send_read_data(slot, data)) {
            int error_code = wscrt_last_error();
            if (error_code == WSCRT_ERROR_IO_CHANNEL_SHUT_DOWN) {
                return; /* the channel is going down anyway */
            }
            WSCRT_LOGF_DEBUG(WSCRT_LS_IO_SOCKET, "id=%p: delivering %zu bytes failed, error=%s", (void *)handler,
                             amount, wscrt_error_name(error_code));
            wscrt_channel_shutdown(s_channel(handler), error_code);
            return;
        }
        if (drained) {
            return;
        }
    }
}

static void s_on_read_task(struct wscrt_task *task, void *arg, enum wscrt_task_status status) {
    (void)task;
    struct s_socket_handler *handler = arg;
    handler->read_task_scheduled = false;
    if (status == WSCRT_TASK_STATUS_RUN_READY) {
        s_do_read(handler);
    }
}

static int s_increment_read_window(struct wscrt_channel_handler *base, struct wscrt_channel_slot *slot, size_t size) {
    (void)slot;
    (void)size;
    struct s_socket_handler *handler = base->impl;
    /* Never read re-entrantly: the caller may be in the middle of processing
     * the previous chunk. If we are not stopped, the next READABLE edge (or
     * the pending resume task) will read with the new window anyway. */
    if (handler->read_stopped && !handler->read_shut_down) {
        s_schedule_read_resume(handler);
    }
    return WSCRT_OP_SUCCESS;
}

/* ---- socket events ----------------------------------------------------- */

static void s_on_socket_event(struct wscrt_socket *socket, int events, void *user_data) {
    (void)socket;
    struct s_socket_handler *handler = user_data;
    if ((events & WSCRT_IO_EVENT_WRITABLE) && handler->waiting_for_writable && !handler->write_shut_down) {
        if (s_flush(handler)) {
            s_on_write_error(handler);
        }
    }
    /* Errors and hang-ups surface as a read result (EOF or the socket's
     * error), which also drains whatever arrived before them. */
    if (events & (WSCRT_IO_EVENT_REMOTE_HANG_UP | WSCRT_IO_EVENT_ERROR)) {
        handler->peer_hung_up = true;
    }
    if (events & (WSCRT_IO_EVENT_READABLE | WSCRT_IO_EVENT_REMOTE_HANG_UP | WSCRT_IO_EVENT_ERROR)) {
        if (!handler->read_shut_down && !handler->read_task_scheduled) {
            s_do_read(handler);
        } else if (handler->read_shut_down && (events & WSCRT_IO_EVENT_ERROR) && !handler->write_shut_down &&
                   !wscrt_linked_list_empty(&handler->write_queue)) {
            /* Not reading any more, but queued writes would wait forever on a
             * dead socket: let the write path find the error. */
            if (s_flush(handler)) {
                s_on_write_error(handler);
            }
        }
    }
}

/* ---- shutdown ---------------------------------------------------------- */

static int s_shutdown(struct wscrt_channel_handler *base, struct wscrt_channel_slot *slot,
                      enum wscrt_channel_direction direction, int error_code, bool free_scarce_resources_immediately) {
    struct s_socket_handler *handler = base->impl;
    struct wscrt_event_loop *loop = s_loop(handler);

    if (direction == WSCRT_CHANNEL_DIR_READ) {
        WSCRT_LOGF_DEBUG(WSCRT_LS_IO_SOCKET, "id=%p: shutting down read direction, error=%s", (void *)handler,
                         wscrt_error_name(error_code));
        handler->read_shut_down = true;
        handler->read_stopped = false;
        if (handler->read_task_scheduled) {
            wscrt_event_loop_cancel_task(loop, &handler->read_task);
        }
        return wscrt_channel_slot_on_handler_shutdown_complete(slot, direction, error_code,
                                                               free_scarce_resources_immediately);
    }

    WSCRT_LOGF_DEBUG(WSCRT_LS_IO_SOCKET, "id=%p: shutting down write direction, error=%s", (void *)handler,
                     wscrt_error_name(error_code));
    if (handler->write_task_scheduled) {
        wscrt_event_loop_cancel_task(loop, &handler->write_task);
    }
    int flush_error = 0;
    if (error_code == 0 && !free_scarce_resources_immediately && wscrt_socket_is_open(handler->socket)) {
        /* A clean close sends what was queued, as far as the kernel takes it
         * now; this never waits for the peer. */
        if (s_flush(handler)) {
            flush_error = wscrt_last_error();
        }
    }
    int fail_with = error_code != 0 ? error_code : (flush_error != 0 ? flush_error : WSCRT_ERROR_IO_CHANNEL_SHUT_DOWN);
    s_fail_queued(handler, fail_with);
    if (!wscrt_linked_list_empty(&handler->completed) || !wscrt_linked_list_empty(&handler->failed)) {
        s_schedule_completions(handler);
    }
    handler->write_shut_down = true;
    handler->read_shut_down = true;
    wscrt_socket_close(handler->socket);
    return wscrt_channel_slot_on_handler_shutdown_complete(slot, direction, error_code != 0 ? error_code : flush_error,
                                                           free_scarce_resources_immediately);
}

static size_t s_initial_window_size(struct wscrt_channel_handler *base) {
    (void)base;
    return SIZE_MAX; /* nothing sends reads into slot 0 */
}

static int s_process_read_data(struct wscrt_channel_handler *base, struct wscrt_channel_slot *slot,
                               struct wscrt_byte_cursor data) {
    (void)base;
    (void)slot;
    (void)data;
    return wscrt_raise_error(WSCRT_ERROR_UNSUPPORTED_OPERATION); /* slot 0 has nobody to its left */
}

static void s_destroy(struct wscrt_channel_handler *base) {
    struct s_socket_handler *handler = base->impl;
    WSCRT_LOGF_DEBUG(WSCRT_LS_IO_SOCKET, "id=%p: destroying", (void *)handler);
    struct wscrt_event_loop *loop = wscrt_socket_get_event_loop(handler->socket);
    /* Close first: no socket event may arrive while we tear down. */
    wscrt_socket_close(handler->socket);
    handler->read_shut_down = true;
    handler->write_shut_down = true;
    if (handler->read_task_scheduled) {
        wscrt_event_loop_cancel_task(loop, &handler->read_task);
    }
    if (handler->write_task_scheduled) {
        wscrt_event_loop_cancel_task(loop, &handler->write_task);
    }
    if (handler->completion_task_scheduled) {
        wscrt_event_loop_cancel_task(loop, &handler->completion_task);
    }
    /* Every message still owned here gets its callback exactly once. */
    s_fail_queued(handler, WSCRT_ERROR_IO_CHANNEL_SHUT_DOWN);
    s_run_completions(handler, s_channel(handler));
    wscrt_socket_destroy(handler->socket);
    wscrt_mem_release(handler->allocator, handler);
}

static const struct wscrt_channel_handler_vtable s_vtable = {
    .process_read_data = s_process_read_data,
    .process_write_message = s_process_write_message,
    .increment_read_window = s_increment_read_window,
    .shutdown = s_shutdown,
    .initial_window_size = s_initial_window_size,
    .destroy = s_destroy,
};

struct wscrt_channel_handler *wscrt_socket_handler_new(struct wscrt_allocator *allocator, struct wscrt_socket *socket,
                                                       struct wscrt_channel_slot *slot) {
    if (allocator == NULL || socket == NULL || slot == NULL) {
        wscrt_raise_error(WSCRT_ERROR_INVALID_ARGUMENT);
        return NULL;
    }
    if (!wscrt_socket_is_open(socket) || slot->handler != NULL) {
        wscrt_raise_error(WSCRT_ERROR_INVALID_STATE);
        return NULL;
    }
    struct s_socket_handler *handler = wscrt_mem_calloc(allocator, 1, sizeof(struct s_socket_handler));
    handler->allocator = allocator;
    handler->socket = socket;
    handler->slot = slot;
    handler->base.vtable = &s_vtable;
    handler->base.allocator = allocator;
    handler->base.impl = handler;
    wscrt_linked_list_init(&handler->write_queue);
    wscrt_linked_list_init(&handler->completed);
    wscrt_linked_list_init(&handler->failed);
    wscrt_task_init(&handler->read_task, s_on_read_task, handler);
    wscrt_task_init(&handler->write_task, s_on_write_task, handler);
    wscrt_task_init(&handler->completion_task, s_on_completion_task, handler);

    /* Installs itself, so that callers need not; calling
     * wscrt_channel_slot_set_handler again with this handler is harmless. */
    if (wscrt_channel_slot_set_handler(slot, &handler->base)) {
        wscrt_mem_release(allocator, handler);
        return NULL;
    }
    if (wscrt_socket_subscribe_to_events(socket, s_on_socket_event, handler)) {
        int error_code = wscrt_last_error();
        WSCRT_LOGF_ERROR(WSCRT_LS_IO_SOCKET, "id=%p: subscribing to socket events failed, error=%s", (void *)handler,
                         wscrt_error_name(error_code));
        /* On failure the caller keeps the socket and the slot stays empty. */
        slot->handler = NULL;
        wscrt_mem_release(allocator, handler);
        wscrt_raise_error(error_code);
        return NULL;
    }
    WSCRT_LOGF_DEBUG(WSCRT_LS_IO_SOCKET, "id=%p: socket handler for socket %p in slot %p", (void *)handler,
                     (void *)socket, (void *)slot);
    return &handler->base;
}
