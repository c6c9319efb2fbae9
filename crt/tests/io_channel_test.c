/* Tests for crt/io/channel.c: io messages, slot window accounting, shutdown
 * order and error, and holds, with recording handlers on a real event loop.
 * Channels over a socket are in io_socket_handler_test.c. */
#include "common/byte_buf.h"
#include "io/channel.h"
#include "io/event_loop.h"
#include "io_loopback_helpers.h"
#include "io_shutdown_record.h"
#include "test_harness.h"

/* ======================================================================
 * A recording test handler, usable in any slot.
 * ====================================================================== */

#define S_LOG_MAX 32

struct s_tester;

struct s_test_handler {
    struct wscrt_channel_handler base;
    struct s_tester *tester;
    int index;
    size_t initial_window;
    bool complete_write_later; /* finish WRITE shutdown from a task */
    struct wscrt_task later_task;
    struct wscrt_channel_slot *later_slot;
    int later_error;

    size_t increments_seen;  /* sum of increment_read_window sizes from the right */
    size_t bytes_received;   /* process_read_data */
    int write_messages_seen; /* process_write_message (destroys them) */
    int shutdown_errors[2];  /* per direction */
};

struct s_tester {
    struct wscrt_allocator *allocator;
    struct wscrt_event_loop *loop;
    struct wscrt_channel *channel;
    struct wscrt_channel_slot *slots[3];
    struct s_test_handler *handlers[3];

    char log[S_LOG_MAX][4];
    int log_count;
    int destroyed_count;

    struct s_shutdown_record shutdown;

    /* results of loop-side steps */
    int rc[8];
    int err[8];
};

static void s_log(struct s_tester *tester, char kind, int index) {
    if (tester->log_count < S_LOG_MAX) {
        tester->log[tester->log_count][0] = kind;
        tester->log[tester->log_count][1] = (char)('0' + index);
        tester->log[tester->log_count][2] = '\0';
        tester->log_count++;
    }
}

static int s_th_process_read_data(struct wscrt_channel_handler *base, struct wscrt_channel_slot *slot,
                                  struct wscrt_byte_cursor data) {
    (void)slot;
    struct s_test_handler *handler = base->impl;
    handler->bytes_received += data.len;
    return WSCRT_OP_SUCCESS;
}

static int s_th_process_write_message(struct wscrt_channel_handler *base, struct wscrt_channel_slot *slot,
                                      struct wscrt_io_message *message) {
    (void)slot;
    struct s_test_handler *handler = base->impl;
    handler->write_messages_seen++;
    wscrt_io_message_destroy(message);
    return WSCRT_OP_SUCCESS;
}

static int s_th_increment_read_window(struct wscrt_channel_handler *base, struct wscrt_channel_slot *slot,
                                      size_t size) {
    (void)slot;
    struct s_test_handler *handler = base->impl;
    handler->increments_seen += size;
    return WSCRT_OP_SUCCESS;
}

static void s_th_later_task(struct wscrt_task *task, void *arg, enum wscrt_task_status status) {
    (void)task;
    (void)status;
    struct s_test_handler *handler = arg;
    s_log(handler->tester, 'w', handler->index); /* the late completion itself */
    wscrt_channel_slot_on_handler_shutdown_complete(handler->later_slot, WSCRT_CHANNEL_DIR_WRITE, handler->later_error,
                                                    false);
}

static int s_th_shutdown(struct wscrt_channel_handler *base, struct wscrt_channel_slot *slot,
                         enum wscrt_channel_direction direction, int error_code, bool free_scarce) {
    struct s_test_handler *handler = base->impl;
    handler->shutdown_errors[direction] = error_code;
    s_log(handler->tester, direction == WSCRT_CHANNEL_DIR_READ ? 'R' : 'W', handler->index);
    if (direction == WSCRT_CHANNEL_DIR_WRITE && handler->complete_write_later) {
        handler->later_slot = slot;
        handler->later_error = error_code;
        wscrt_task_init(&handler->later_task, s_th_later_task, handler);
        wscrt_channel_schedule_task_now(slot->channel, &handler->later_task);
        return WSCRT_OP_SUCCESS;
    }
    return wscrt_channel_slot_on_handler_shutdown_complete(slot, direction, error_code, free_scarce);
}

static size_t s_th_initial_window_size(struct wscrt_channel_handler *base) {
    struct s_test_handler *handler = base->impl;
    return handler->initial_window;
}

static void s_th_destroy(struct wscrt_channel_handler *base) {
    struct s_test_handler *handler = base->impl;
    handler->tester->destroyed_count++;
    wscrt_mem_release(base->allocator, handler);
}

static const struct wscrt_channel_handler_vtable s_test_handler_vtable = {
    .process_read_data = s_th_process_read_data,
    .process_write_message = s_th_process_write_message,
    .increment_read_window = s_th_increment_read_window,
    .shutdown = s_th_shutdown,
    .initial_window_size = s_th_initial_window_size,
    .destroy = s_th_destroy,
};

static struct s_test_handler *s_test_handler_new(struct s_tester *tester, int index, size_t initial_window) {
    struct s_test_handler *handler = wscrt_mem_calloc(tester->allocator, 1, sizeof(struct s_test_handler));
    handler->base.vtable = &s_test_handler_vtable;
    handler->base.allocator = tester->allocator;
    handler->base.impl = handler;
    handler->tester = tester;
    handler->index = index;
    handler->initial_window = initial_window;
    return handler;
}

static int s_tester_init(struct s_tester *tester, struct wscrt_allocator *allocator) {
    memset(tester, 0, sizeof(*tester));
    tester->allocator = allocator;
    s_shutdown_record_init(&tester->shutdown);
    tester->loop = wscrt_event_loop_new(allocator, "channel-test");
    ASSERT_TRUE(tester->loop != NULL);
    ASSERT_SUCCESS(wscrt_event_loop_run(tester->loop));
    return 0;
}

static void s_tester_clean_up(struct s_tester *tester) {
    wscrt_event_loop_destroy(tester->loop);
    s_shutdown_record_clean_up(&tester->shutdown);
}

/* Loop: a channel with three test handlers; windows SIZE_MAX, 8, 100. */
static void s_loop_build_three_slots(void *arg) {
    struct s_tester *tester = arg;
    struct wscrt_channel_options options = {
        .event_loop = tester->loop,
        .on_shutdown_completed = s_shutdown_record_on_channel_shutdown,
        .user_data = &tester->shutdown,
    };
    tester->channel = wscrt_channel_new(tester->allocator, &options);
    const size_t windows[3] = {SIZE_MAX, 8, 100};
    for (int i = 0; i < 3; ++i) {
        tester->slots[i] = wscrt_channel_slot_new(tester->channel);
        tester->handlers[i] = s_test_handler_new(tester, i, windows[i]);
        tester->rc[i] = wscrt_channel_slot_set_handler(tester->slots[i], &tester->handlers[i]->base);
    }
}

static void s_loop_nothing(void *arg) {
    (void)arg;
}

static void s_loop_destroy_channel(void *arg) {
    struct s_tester *tester = arg;
    wscrt_channel_destroy(tester->channel);
    tester->channel = NULL;
}

/* ---- io messages ------------------------------------------------------- */

static int s_test_io_message_is_one_allocation(struct wscrt_allocator *allocator) {
    struct wscrt_io_message *message = wscrt_io_message_new(allocator, 100);
    ASSERT_TRUE(message != NULL);
    ASSERT_UINT_EQ(1, wscrt_mem_tracer_count(allocator));
    ASSERT_TRUE(message->data.allocator == NULL);
    ASSERT_UINT_EQ(100, message->data.capacity);
    ASSERT_UINT_EQ(0, message->data.len);
    ASSERT_UINT_EQ(0, message->copy_mark);
    ASSERT_TRUE(message->allocator == allocator);
    ASSERT_SUCCESS(wscrt_byte_buf_append(&message->data, wscrt_byte_cursor_from_c_str("0123456789")));
    ASSERT_UINT_EQ(10, message->data.len);
    wscrt_io_message_destroy(message);
    ASSERT_UINT_EQ(0, wscrt_mem_tracer_count(allocator));
    return 0;
}

/* ---- windows and data flow -------------------------------------------- */

static void s_loop_window_steps(void *arg) {
    struct s_tester *tester = arg;
    static const uint8_t bytes[16] = {0};
    struct wscrt_channel_slot **slots = tester->slots;

    wscrt_reset_error();
    tester->rc[0] = wscrt_channel_slot_send_read_data(slots[0], wscrt_byte_cursor_from_array(bytes, 10));
    tester->err[0] = wscrt_last_error();
    tester->rc[1] = wscrt_channel_slot_send_read_data(slots[0], wscrt_byte_cursor_from_array(bytes, 8));
    tester->err[1] = (int)wscrt_channel_slot_downstream_read_window(slots[0]);
    tester->rc[2] = wscrt_channel_slot_increment_read_window(slots[1], 5);

    struct wscrt_io_message *message = wscrt_io_message_new(tester->allocator, 4);
    tester->rc[3] = wscrt_channel_slot_send_write_message(slots[2], message);
    message = wscrt_io_message_new(tester->allocator, 4);
    wscrt_reset_error();
    tester->rc[4] = wscrt_channel_slot_send_write_message(slots[0], message);
    tester->err[4] = wscrt_last_error();
    if (tester->rc[4] != WSCRT_OP_SUCCESS) {
        wscrt_io_message_destroy(message); /* not taken on failure */
    }
}

static void s_loop_remove_middle_slot(void *arg) {
    struct s_tester *tester = arg;
    static const uint8_t bytes[3] = {1, 2, 3};
    tester->rc[5] = wscrt_channel_slot_remove(tester->slots[1]);
    tester->handlers[1] = NULL;
    tester->rc[6] = wscrt_channel_slot_send_read_data(tester->slots[0], wscrt_byte_cursor_from_array(bytes, 3));
}

static int s_test_channel_windows_and_message_flow(struct wscrt_allocator *allocator) {
    struct s_tester tester;
    ASSERT_INT_EQ(0, s_tester_init(&tester, allocator));
    ASSERT_TRUE(s_run_on_loop(tester.loop, s_loop_build_three_slots, &tester));
    for (int i = 0; i < 3; ++i) {
        ASSERT_SUCCESS(tester.rc[i]);
    }
    ASSERT_TRUE(wscrt_channel_get_first_slot(tester.channel) == tester.slots[0]);
    /* Installing a handler announces its initial window to the left. */
    ASSERT_UINT_EQ(8, tester.handlers[0]->increments_seen);
    ASSERT_UINT_EQ(100, tester.handlers[1]->increments_seen);
    ASSERT_UINT_EQ(SIZE_MAX, wscrt_channel_slot_downstream_read_window(tester.slots[2]));

    ASSERT_TRUE(s_run_on_loop(tester.loop, s_loop_window_steps, &tester));
    /* 10 > window 8: refused, nothing delivered, window unchanged. */
    ASSERT_INT_EQ(WSCRT_OP_ERR, tester.rc[0]);
    ASSERT_INT_EQ(WSCRT_ERROR_INVALID_STATE, tester.err[0]);
    /* 8 fits exactly and closes the window. */
    ASSERT_SUCCESS(tester.rc[1]);
    ASSERT_INT_EQ(0, tester.err[1]);
    ASSERT_UINT_EQ(8, tester.handlers[1]->bytes_received);
    /* The increment grows slot 1 and reaches the handler on its left. */
    ASSERT_SUCCESS(tester.rc[2]);
    ASSERT_UINT_EQ(5, tester.slots[1]->window_size);
    ASSERT_UINT_EQ(13, tester.handlers[0]->increments_seen);
    /* Writes go left; slot 0 has nobody to its left. */
    ASSERT_SUCCESS(tester.rc[3]);
    ASSERT_INT_EQ(1, tester.handlers[1]->write_messages_seen);
    ASSERT_INT_EQ(WSCRT_OP_ERR, tester.rc[4]);
    ASSERT_INT_EQ(WSCRT_ERROR_INVALID_STATE, tester.err[4]);

    /* Removing the middle slot joins 0 and 2; slot 2's larger window (100
     * vs 5) is announced to slot 0 as new room. */
    ASSERT_TRUE(s_run_on_loop(tester.loop, s_loop_remove_middle_slot, &tester));
    ASSERT_SUCCESS(tester.rc[5]);
    ASSERT_INT_EQ(1, tester.destroyed_count);
    ASSERT_SUCCESS(tester.rc[6]);
    ASSERT_UINT_EQ(3, tester.handlers[2]->bytes_received);
    ASSERT_UINT_EQ(13 + 95, tester.handlers[0]->increments_seen);
    ASSERT_TRUE(tester.slots[0]->adj_right == tester.slots[2]);

    /* Destroy without shutdown: every handler goes, no callback. */
    ASSERT_TRUE(s_run_on_loop(tester.loop, s_loop_destroy_channel, &tester));
    ASSERT_INT_EQ(3, tester.destroyed_count);
    ASSERT_INT_EQ(0, tester.shutdown.calls);
    s_tester_clean_up(&tester);
    return 0;
}

/* ---- shutdown ---------------------------------------------------------- */

static void s_loop_after_shutdown(void *arg) {
    struct s_tester *tester = arg;
    static const uint8_t byte = 7;
    wscrt_reset_error();
    tester->rc[0] = wscrt_channel_slot_send_read_data(tester->slots[0], wscrt_byte_cursor_from_array(&byte, 1));
    tester->err[0] = wscrt_last_error();
    struct wscrt_io_message *message = wscrt_io_message_new(tester->allocator, 1);
    wscrt_reset_error();
    tester->rc[1] = wscrt_channel_slot_send_write_message(tester->slots[2], message);
    tester->err[1] = wscrt_last_error();
    if (tester->rc[1] != WSCRT_OP_SUCCESS) {
        wscrt_io_message_destroy(message);
    }
    tester->rc[2] = wscrt_channel_is_shutting_down(tester->channel);
}

static int s_test_channel_shutdown_runs_read_left_to_right_then_write_right_to_left(
    struct wscrt_allocator *allocator) {
    struct s_tester tester;
    ASSERT_INT_EQ(0, s_tester_init(&tester, allocator));
    ASSERT_TRUE(s_run_on_loop(tester.loop, s_loop_build_three_slots, &tester));
    /* Slot 1 finishes its write side later, from a task: slot 0 must wait. */
    tester.handlers[1]->complete_write_later = true;

    /* From this (foreign) thread: scheduled on the loop; the first error wins. */
    ASSERT_SUCCESS(wscrt_channel_shutdown(tester.channel, WSCRT_ERROR_IO_BROKEN_PIPE));
    ASSERT_SUCCESS(wscrt_channel_shutdown(tester.channel, WSCRT_ERROR_UNKNOWN));
    ASSERT_TRUE(s_waiter_wait(&tester.shutdown.waiter, 1, S_WAIT_MS));
    s_sleep_ms(20);
    ASSERT_INT_EQ(1, tester.shutdown.calls);
    ASSERT_INT_EQ(WSCRT_ERROR_IO_BROKEN_PIPE, tester.shutdown.error);

    static const char *expected[] = {"R0", "R1", "R2", "W2", "W1", "w1", "W0"};
    ASSERT_INT_EQ(7, tester.log_count);
    for (int i = 0; i < 7; ++i) {
        if (strcmp(expected[i], tester.log[i]) != 0) {
            WSCRT_FAIL_("step %d: expected %s, got %s", i, expected[i], tester.log[i]);
        }
    }
    for (int i = 0; i < 3; ++i) {
        ASSERT_INT_EQ(WSCRT_ERROR_IO_BROKEN_PIPE, tester.handlers[i]->shutdown_errors[WSCRT_CHANNEL_DIR_READ]);
        ASSERT_INT_EQ(WSCRT_ERROR_IO_BROKEN_PIPE, tester.handlers[i]->shutdown_errors[WSCRT_CHANNEL_DIR_WRITE]);
    }

    /* Once shut down, nothing flows. */
    ASSERT_TRUE(s_run_on_loop(tester.loop, s_loop_after_shutdown, &tester));
    ASSERT_INT_EQ(WSCRT_OP_ERR, tester.rc[0]);
    ASSERT_INT_EQ(WSCRT_ERROR_IO_CHANNEL_SHUT_DOWN, tester.err[0]);
    ASSERT_INT_EQ(WSCRT_OP_ERR, tester.rc[1]);
    ASSERT_INT_EQ(WSCRT_ERROR_IO_CHANNEL_SHUT_DOWN, tester.err[1]);
    ASSERT_INT_EQ(1, tester.rc[2]);

    ASSERT_TRUE(s_run_on_loop(tester.loop, s_loop_destroy_channel, &tester));
    ASSERT_INT_EQ(3, tester.destroyed_count);
    s_tester_clean_up(&tester);
    return 0;
}

static void s_loop_shutdown_twice(void *arg) {
    struct s_tester *tester = arg;
    tester->rc[0] = wscrt_channel_shutdown(tester->channel, 0);
    tester->rc[1] = wscrt_channel_shutdown(tester->channel, WSCRT_ERROR_UNKNOWN);
}

static int s_test_channel_shutdown_on_loop_thread_is_idempotent(struct wscrt_allocator *allocator) {
    struct s_tester tester;
    ASSERT_INT_EQ(0, s_tester_init(&tester, allocator));
    ASSERT_TRUE(s_run_on_loop(tester.loop, s_loop_build_three_slots, &tester));
    ASSERT_TRUE(s_run_on_loop(tester.loop, s_loop_shutdown_twice, &tester));
    ASSERT_SUCCESS(tester.rc[0]);
    ASSERT_SUCCESS(tester.rc[1]);
    ASSERT_TRUE(s_waiter_wait(&tester.shutdown.waiter, 1, S_WAIT_MS));
    s_sleep_ms(20);
    ASSERT_INT_EQ(1, tester.shutdown.calls);
    ASSERT_INT_EQ(0, tester.shutdown.error);
    ASSERT_INT_EQ(6, tester.log_count);
    ASSERT_TRUE(s_run_on_loop(tester.loop, s_loop_destroy_channel, &tester));
    s_tester_clean_up(&tester);
    return 0;
}

/* A loop task that parks until the test releases it, then destroys the channel. */
struct s_parked_destroy {
    struct s_tester *tester;
    struct s_waiter running;
    struct s_waiter release;
};

static void s_loop_parked_destroy(void *arg) {
    struct s_parked_destroy *parked = arg;
    s_waiter_signal(&parked->running);
    s_waiter_wait(&parked->release, 1, S_WAIT_MS);
    wscrt_channel_destroy(parked->tester->channel);
}

struct s_parked_call {
    struct s_parked_destroy *parked;
    bool ok;
};

static void *s_parked_thread(void *arg) {
    struct s_parked_call *call = arg;
    call->ok = s_run_on_loop(call->parked->tester->loop, s_loop_parked_destroy, call->parked);
    return NULL;
}

/*
 * An off-thread shutdown whose task runs only after the channel was destroyed:
 * the task's hold keeps the memory valid, it does nothing, and the last
 * release frees the channel. The external hold is released from this thread.
 */
static int s_test_channel_holds_outlive_destroy(struct wscrt_allocator *allocator) {
    struct s_tester tester;
    ASSERT_INT_EQ(0, s_tester_init(&tester, allocator));
    ASSERT_TRUE(s_run_on_loop(tester.loop, s_loop_build_three_slots, &tester));
    struct wscrt_channel *channel = tester.channel;
    wscrt_channel_acquire_hold(channel);

    struct s_parked_destroy parked = {.tester = &tester};
    s_waiter_init(&parked.running);
    s_waiter_init(&parked.release);
    struct s_parked_call call = {.parked = &parked};
    pthread_t thread;
    ASSERT_INT_EQ(0, pthread_create(&thread, NULL, s_parked_thread, &call));
    ASSERT_TRUE(s_waiter_wait(&parked.running, 1, S_WAIT_MS));
    ASSERT_SUCCESS(wscrt_channel_shutdown(channel, WSCRT_ERROR_UNKNOWN)); /* queued behind the parked task */
    s_waiter_signal(&parked.release);
    pthread_join(thread, NULL);
    ASSERT_TRUE(call.ok);
    ASSERT_INT_EQ(3, tester.destroyed_count);

    /* A no-op queued after the shutdown task: once it ran, so did that task,
     * which must not have started a shutdown on the destroyed channel. */
    ASSERT_TRUE(s_run_on_loop(tester.loop, s_loop_nothing, NULL));
    ASSERT_INT_EQ(0, tester.log_count);
    ASSERT_INT_EQ(0, tester.shutdown.calls);
    wscrt_channel_release_hold(channel); /* frees the struct, off the loop thread */

    s_waiter_clean_up(&parked.running);
    s_waiter_clean_up(&parked.release);
    s_tester_clean_up(&tester);
    return 0;
}

WSCRT_TEST_MAIN(s_test_io_message_is_one_allocation, s_test_channel_windows_and_message_flow,
                s_test_channel_shutdown_runs_read_left_to_right_then_write_right_to_left,
                s_test_channel_shutdown_on_loop_thread_is_idempotent, s_test_channel_holds_outlive_destroy)
