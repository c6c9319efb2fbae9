#ifndef WSCRT_IO_CHANNEL_H
#define WSCRT_IO_CHANNEL_H
/*
 * A connection is a channel: an ordered list of slots, each holding one
 * handler. Slot 0 (leftmost) is the socket handler; reads flow right (up),
 * writes flow left (down).
 *
 *   socket <-> [TLS] <-> [proxy CONNECT] <-> websocket
 *
 * Everything here runs on the channel's event loop thread, except
 * wscrt_channel_shutdown, wscrt_channel_acquire_hold/release_hold, which are
 * safe from any thread.
 *
 * Reads: the bytes a handler receives are borrowed (usually the event loop's
 * read buffer) and valid only during process_read_data. A slot's read window
 * is how many bytes the slot below may still send it; it shrinks by what is
 * sent and grows when the handler calls wscrt_channel_slot_increment_read_window,
 * which propagates down to the socket. At 0 the socket stops reading.
 *
 * Writes: wscrt_io_message objects travel down and are owned by whoever holds
 * them; the last consumer (the socket handler) calls on_completion once the
 * bytes are in the kernel (or failed) and destroys the message.
 *
 * Shutdown: read direction from slot 0 rightwards, then write direction from
 * the rightmost slot back to slot 0, each handler calling
 * wscrt_channel_slot_on_handler_shutdown_complete when its part is done. The
 * first error code passed to wscrt_channel_shutdown wins.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/byte_buf.h"
#include "common/linked_list.h"

struct wscrt_allocator;
struct wscrt_channel;
struct wscrt_channel_handler;
struct wscrt_channel_slot;
struct wscrt_event_loop;
struct wscrt_io_message;
struct wscrt_task;

enum wscrt_channel_direction {
    WSCRT_CHANNEL_DIR_READ,
    WSCRT_CHANNEL_DIR_WRITE,
};

typedef void(wscrt_io_message_on_completion_fn)(struct wscrt_channel *channel, struct wscrt_io_message *message,
                                                int error_code, void *user_data);

struct wscrt_io_message {
    struct wscrt_byte_buf data; /* the bytes to write: data.buffer[0..data.len) */
    size_t copy_mark;           /* bytes already written */
    wscrt_io_message_on_completion_fn *on_completion;
    void *user_data;
    struct wscrt_linked_list_node queueing_handle; /* free for the current owner to use */
    struct wscrt_allocator *allocator;
};

/* One allocation holding the message and `capacity` bytes of data. Any thread. */
struct wscrt_io_message *wscrt_io_message_new(struct wscrt_allocator *allocator, size_t capacity);
void wscrt_io_message_destroy(struct wscrt_io_message *message);

struct wscrt_channel_handler_vtable {
    /* Bytes from the slot to the left; never more than this slot's read window. */
    int (*process_read_data)(struct wscrt_channel_handler *handler, struct wscrt_channel_slot *slot,
                             struct wscrt_byte_cursor data);
    /* A message from the slot to the right; this handler now owns it. */
    int (*process_write_message)(struct wscrt_channel_handler *handler, struct wscrt_channel_slot *slot,
                                 struct wscrt_io_message *message);
    /* The slot to the right grew its read window by `size`. Must not deliver
     * data re-entrantly: schedule a task to resume reading. */
    int (*increment_read_window)(struct wscrt_channel_handler *handler, struct wscrt_channel_slot *slot, size_t size);
    /* Must end, now or later, in wscrt_channel_slot_on_handler_shutdown_complete(slot, direction, ...). */
    int (*shutdown)(struct wscrt_channel_handler *handler, struct wscrt_channel_slot *slot,
                    enum wscrt_channel_direction direction, int error_code, bool free_scarce_resources_immediately);
    size_t (*initial_window_size)(struct wscrt_channel_handler *handler);
    /* Frees the handler (called from wscrt_channel_destroy). */
    void (*destroy)(struct wscrt_channel_handler *handler);
};

struct wscrt_channel_handler {
    const struct wscrt_channel_handler_vtable *vtable;
    struct wscrt_allocator *allocator;
    struct wscrt_channel_slot *slot;
    void *impl;
};

struct wscrt_channel_slot {
    struct wscrt_channel *channel;
    struct wscrt_channel_slot *adj_left;
    struct wscrt_channel_slot *adj_right;
    struct wscrt_channel_handler *handler;
    size_t window_size; /* how many bytes this slot may still receive */
};

typedef void(wscrt_channel_on_shutdown_completed_fn)(struct wscrt_channel *channel, int error_code, void *user_data);

struct wscrt_channel_options {
    struct wscrt_event_loop *event_loop;
    /* Runs on the loop once both directions of every slot have shut down. */
    wscrt_channel_on_shutdown_completed_fn *on_shutdown_completed;
    void *user_data;
};

/* Loop thread. The channel starts with one hold, released by wscrt_channel_destroy. */
struct wscrt_channel *wscrt_channel_new(struct wscrt_allocator *allocator, const struct wscrt_channel_options *options);
/* Loop thread, after shutdown completed (or if it never started): destroys every
 * handler and frees the channel once no holds remain. */
void wscrt_channel_destroy(struct wscrt_channel *channel);
/* Any thread: keeps the channel's memory alive while another thread uses it. */
void wscrt_channel_acquire_hold(struct wscrt_channel *channel);
void wscrt_channel_release_hold(struct wscrt_channel *channel);

/* Any thread; idempotent (the first error code wins). 0 = clean shutdown. */
int wscrt_channel_shutdown(struct wscrt_channel *channel, int error_code);
bool wscrt_channel_is_shutting_down(const struct wscrt_channel *channel);
struct wscrt_event_loop *wscrt_channel_get_event_loop(struct wscrt_channel *channel);
bool wscrt_channel_thread_is_callers_thread(struct wscrt_channel *channel);
/* Any thread. */
void wscrt_channel_schedule_task_now(struct wscrt_channel *channel, struct wscrt_task *task);
void wscrt_channel_schedule_task_future(struct wscrt_channel *channel, struct wscrt_task *task, uint64_t run_at_ns);
struct wscrt_channel_slot *wscrt_channel_get_first_slot(struct wscrt_channel *channel);
/* Loop thread, before shutdown completes: who is told when it does (replaces the options' callback). */
void wscrt_channel_set_on_shutdown_completed(struct wscrt_channel *channel,
                                             wscrt_channel_on_shutdown_completed_fn *on_shutdown_completed,
                                             void *user_data);

/* New empty slot appended at the right end. */
struct wscrt_channel_slot *wscrt_channel_slot_new(struct wscrt_channel *channel);
/* Installs the handler; the slot's window becomes handler->initial_window_size(). */
int wscrt_channel_slot_set_handler(struct wscrt_channel_slot *slot, struct wscrt_channel_handler *handler);
/* Removes the slot and destroys its handler (for handlers that finished their
 * job, like a proxy CONNECT handler). Only while no data is in flight through it. */
int wscrt_channel_slot_remove(struct wscrt_channel_slot *slot);

/* Sends bytes to the right neighbour; fails with INVALID_STATE if len exceeds
 * its window, IO_CHANNEL_SHUT_DOWN once the read side shut down. */
int wscrt_channel_slot_send_read_data(struct wscrt_channel_slot *slot, struct wscrt_byte_cursor data);
/* Sends a message to the left neighbour. */
int wscrt_channel_slot_send_write_message(struct wscrt_channel_slot *slot, struct wscrt_io_message *message);
/* Grows this slot's window and tells the left neighbour. */
int wscrt_channel_slot_increment_read_window(struct wscrt_channel_slot *slot, size_t size);
/* Window of the right neighbour (SIZE_MAX if there is none: nothing to limit). */
size_t wscrt_channel_slot_downstream_read_window(struct wscrt_channel_slot *slot);
int wscrt_channel_slot_on_handler_shutdown_complete(struct wscrt_channel_slot *slot,
                                                    enum wscrt_channel_direction direction, int error_code,
                                                    bool free_scarce_resources_immediately);

#endif
