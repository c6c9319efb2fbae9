#ifndef WSCRT_TESTS_TEST_HANDLER_H
#define WSCRT_TESTS_TEST_HANDLER_H
/*
 * Vtable entries that the tests' last-slot channel handlers (a reader or a sink at the application end
 * of a channel) share: nothing sits to their right, so no write message and no window increment can
 * come from there, and their shutdown has nothing to wait for.
 */
#include "common/error.h"
#include "io/channel.h"

static inline int s_refuse_write_message(struct wscrt_channel_handler *base, struct wscrt_channel_slot *slot,
                                         struct wscrt_io_message *message) {
    (void)base;
    (void)slot;
    (void)message;
    return wscrt_raise_error(WSCRT_ERROR_UNSUPPORTED_OPERATION);
}

static inline int s_ignore_read_window(struct wscrt_channel_handler *base, struct wscrt_channel_slot *slot,
                                       size_t size) {
    (void)base;
    (void)slot;
    (void)size;
    return WSCRT_OP_SUCCESS;
}

static inline int s_complete_shutdown(struct wscrt_channel_handler *base, struct wscrt_channel_slot *slot,
                                      enum wscrt_channel_direction direction, int error_code, bool free_scarce) {
    (void)base;
    return wscrt_channel_slot_on_handler_shutdown_complete(slot, direction, error_code, free_scarce);
}

/*
 * The vtable of such a handler: its own read, shutdown, initial window and destroy; writes and window
 * increments from the right refused/ignored as above.
 */
#define S_LAST_SLOT_VTABLE(read_data, shutdown_fn, window_size, destroy_fn)                                         \
    {                                                                                                                  \
        .process_read_data = (read_data), .process_write_message = s_refuse_write_message,                           \
        .increment_read_window = s_ignore_read_window, .shutdown = (shutdown_fn),                                    \
        .initial_window_size = (window_size), .destroy = (destroy_fn),                                               \
    }

#endif
