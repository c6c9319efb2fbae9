#ifndef WSCRT_TESTS_IO_SHUTDOWN_RECORD_H
#define WSCRT_TESTS_IO_SHUTDOWN_RECORD_H
/*
 * What the io tests' channel-shutdown callbacks saw: how many times one ran and the error it last
 * reported. The callback runs on the channel's loop; the test reads `calls` and `error` after waiting
 * on `waiter` (the waiter's lock orders the two), or when no shutdown can be under way.
 */
#include <string.h>

#include "io/channel.h"
#include "io_loopback_helpers.h"
#include "test_harness.h"
#include "test_waiter.h"

struct s_shutdown_record {
    struct s_waiter waiter; /* signalled once per shutdown callback */
    int calls;
    int error;
};

static inline void s_shutdown_record_init(struct s_shutdown_record *record) {
    memset(record, 0, sizeof(*record));
    s_waiter_init(&record->waiter);
}

static inline void s_shutdown_record_clean_up(struct s_shutdown_record *record) {
    s_waiter_clean_up(&record->waiter);
}

/* Loop thread: counts one shutdown with `error_code`. */
static inline void s_shutdown_record_add(struct s_shutdown_record *record, int error_code) {
    record->calls++;
    record->error = error_code;
    s_waiter_signal(&record->waiter);
}

/* A channel's on_shutdown_completed whose user_data is the record itself. */
static inline void s_shutdown_record_on_channel_shutdown(struct wscrt_channel *channel, int error_code,
                                                         void *user_data) {
    (void)channel;
    s_shutdown_record_add(user_data, error_code);
}

/* Test thread: the first shutdown arrives within S_WAIT_MS and reports `expected_error`. */
static inline int s_shutdown_record_expect(struct s_shutdown_record *record, int expected_error) {
    ASSERT_TRUE(s_waiter_wait(&record->waiter, 1, S_WAIT_MS));
    ASSERT_INT_EQ(expected_error, record->error);
    return 0;
}

/* Test thread, once the recorded shutdown is over: ready for the next channel. */
static inline void s_shutdown_record_reset(struct s_shutdown_record *record) {
    s_waiter_reset(&record->waiter);
    record->calls = 0;
    record->error = 0;
}

#endif
