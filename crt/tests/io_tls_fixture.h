#ifndef WSCRT_TESTS_IO_TLS_FIXTURE_H
#define WSCRT_TESTS_IO_TLS_FIXTURE_H
/*
 * For io_tls_test.c: a real channel (socket handler -> TLS handler -> a reader that checks the echoed
 * pattern) made by a client bootstrap, against the blocking OpenSSL server of tls_test_certs.h on a
 * thread, with certificates made at test time. The test sets the context and options in the fixture,
 * then connects (s_connect_ok / s_connect_fails), echoes (s_echo) and closes (s_close_cleanly).
 */
#include <stdlib.h>

#include "common/byte_buf.h"
#include "common/clock.h"
#include "common/logging.h"
#include "io/channel.h"
#include "io/event_loop.h"
#include "io/tls_context.h"
#include "io/tls_handler.h"
#include "io_client_stack.h"
#include "io_loopback_helpers.h"
#include "io_shutdown_record.h"
#include "test_handler.h"
#include "test_harness.h"
#include "tls_test_certs.h"

/* Bound for the bulk transfers (sanitizer builds are several times slower). */
#define S_BULK_WAIT_MS 60000

/* ---- fixture ----------------------------------------------------------- */

struct s_reader;

struct s_fixture {
    struct wscrt_allocator *allocator;
    struct s_test_pki pki;
    struct s_client_stack client; /* one loop */

    /* Set by the test before connecting. */
    bool manual_tls; /* add the TLS handler in on_setup instead of through the bootstrap */
    struct wscrt_tls_ctx *ctx;
    struct wscrt_tls_connection_options tls_options;
    size_t reader_window;        /* the reader's initial window */
    bool reader_defers_increment; /* grow the window from a task, not inside the delivery */

    /* Written on the loop; read by the test after the waiters. */
    struct s_waiter result_waiter; /* the TLS outcome: negotiated or failed */
    int negotiation_calls;         /* successful handshakes seen by the test */
    int result_error;
    struct wscrt_channel *channel;
    struct wscrt_event_loop *loop;
    char version[32];
    char protocol[64];
    bool resumed; /* the handshake resumed a session */
    struct s_reader *reader;

    struct s_waiter received_waiter;
    uint64_t received;
    uint64_t corrupt_at; /* UINT64_MAX while the content matches */

    uint64_t sent;     /* pattern bytes queued on this connection: the next echo continues the pattern */
    long messages_sent;
    struct s_waiter written_waiter;
    uint64_t written_ok;
    int write_failures;

    struct s_shutdown_record shutdown;
};

/* ---- the reader: slot 2, checks the echoed pattern --------------------- */

struct s_reader {
    struct wscrt_channel_handler base;
    struct s_fixture *fixture;
    struct wscrt_channel_slot *slot;
    size_t owed; /* bytes consumed and not yet given back as window */
    struct wscrt_task increment_task;
    bool task_scheduled;
};

static inline void s_reader_increment_task(struct wscrt_task *task, void *arg, enum wscrt_task_status status) {
    (void)task;
    struct s_reader *reader = arg;
    reader->task_scheduled = false;
    if (status == WSCRT_TASK_STATUS_RUN_READY && reader->owed > 0) {
        size_t owed = reader->owed;
        reader->owed = 0;
        wscrt_channel_slot_increment_read_window(reader->slot, owed);
    }
}

static inline int s_reader_process_read_data(struct wscrt_channel_handler *base, struct wscrt_channel_slot *slot,
                                      struct wscrt_byte_cursor data) {
    struct s_reader *reader = base->impl;
    struct s_fixture *fixture = reader->fixture;
    size_t mismatch = s_pattern_check(data.ptr, data.len, fixture->received);
    if (mismatch != data.len && fixture->corrupt_at == UINT64_MAX) {
        fixture->corrupt_at = fixture->received + mismatch;
    }
    fixture->received += data.len;
    if (fixture->reader_defers_increment) {
        reader->owed += data.len;
        if (!reader->task_scheduled) {
            reader->task_scheduled = true;
            wscrt_channel_schedule_task_now(slot->channel, &reader->increment_task);
        }
    } else {
        wscrt_channel_slot_increment_read_window(slot, data.len);
    }
    s_waiter_add(&fixture->received_waiter, (long)data.len);
    return WSCRT_OP_SUCCESS;
}

static inline size_t s_reader_initial_window_size(struct wscrt_channel_handler *base) {
    struct s_reader *reader = base->impl;
    return reader->fixture->reader_window;
}

static inline void s_reader_destroy(struct wscrt_channel_handler *base) {
    struct s_reader *reader = base->impl;
    if (reader->task_scheduled) {
        wscrt_event_loop_cancel_task(wscrt_channel_get_event_loop(reader->slot->channel), &reader->increment_task);
    }
    reader->fixture->reader = NULL;
    wscrt_mem_release(base->allocator, reader);
}

static const struct wscrt_channel_handler_vtable s_reader_vtable =
    S_LAST_SLOT_VTABLE(s_reader_process_read_data, s_complete_shutdown, s_reader_initial_window_size, s_reader_destroy);

static inline void s_add_reader(struct s_fixture *fixture, struct wscrt_channel *channel) {
    struct s_reader *reader = wscrt_mem_calloc(fixture->allocator, 1, sizeof(struct s_reader));
    reader->base.vtable = &s_reader_vtable;
    reader->base.allocator = fixture->allocator;
    reader->base.impl = reader;
    reader->fixture = fixture;
    wscrt_task_init(&reader->increment_task, s_reader_increment_task, reader);
    reader->slot = wscrt_channel_slot_new(channel);
    wscrt_channel_slot_set_handler(reader->slot, &reader->base);
    fixture->reader = reader;
}

/* ---- bootstrap callbacks ------------------------------------------------ */

static inline void s_on_tls_ready(struct s_fixture *fixture, struct wscrt_channel_handler *handler) {
    fixture->negotiation_calls++;
    snprintf(fixture->version, sizeof(fixture->version), "%s", wscrt_tls_handler_version_name(handler));
    snprintf(fixture->protocol, sizeof(fixture->protocol), "%s", wscrt_tls_handler_protocol(handler));
    fixture->resumed = wscrt_tls_handler_session_resumed(handler);
    s_add_reader(fixture, fixture->channel);
}

static inline void s_on_negotiation_result(struct wscrt_channel_handler *handler, int error_code, void *user_data) {
    struct s_fixture *fixture = user_data;
    fixture->result_error = error_code;
    if (error_code == 0) {
        s_on_tls_ready(fixture, handler);
    }
    s_waiter_signal(&fixture->result_waiter);
}

/* The TLS handler: slot 1, right of the socket handler. */
static inline struct wscrt_channel_handler *s_tls_handler_of(struct wscrt_channel *channel) {
    return wscrt_channel_get_first_slot(channel)->adj_right->handler;
}

static inline void s_on_setup(struct wscrt_client_bootstrap *bootstrap, int error_code, struct wscrt_channel *channel,
                       void *user_data) {
    (void)bootstrap;
    struct s_fixture *fixture = user_data;
    fixture->channel = channel;
    if (error_code != 0) {
        fixture->result_error = error_code;
        s_waiter_signal(&fixture->result_waiter);
        return;
    }
    fixture->loop = wscrt_channel_get_event_loop(channel);
    if (!fixture->manual_tls) {
        /* The bootstrap's TLS handler has finished its handshake. */
        fixture->result_error = 0;
        s_on_tls_ready(fixture, s_tls_handler_of(channel));
        s_waiter_signal(&fixture->result_waiter);
        return;
    }
    /* A plain channel: add the TLS handler ourselves and start it. */
    struct wscrt_tls_connection_options options = fixture->tls_options;
    options.on_negotiation_result = s_on_negotiation_result;
    options.user_data = fixture;
    struct wscrt_channel_slot *slot = wscrt_channel_slot_new(channel);
    struct wscrt_channel_handler *handler = wscrt_tls_client_handler_new(fixture->allocator, &options, slot);
    if (handler == NULL || wscrt_tls_client_handler_start_negotiation(handler)) {
        fixture->result_error = wscrt_last_error();
        s_waiter_signal(&fixture->result_waiter);
        wscrt_channel_shutdown(channel, fixture->result_error);
    }
}

static inline void s_on_shutdown(struct wscrt_client_bootstrap *bootstrap, int error_code, struct wscrt_channel *channel,
                          void *user_data) {
    (void)bootstrap;
    struct s_fixture *fixture = user_data;
    wscrt_channel_destroy(channel);
    s_shutdown_record_add(&fixture->shutdown, error_code);
}

static inline int s_fixture_init(struct s_fixture *fixture, struct wscrt_allocator *allocator) {
    memset(fixture, 0, sizeof(*fixture));
    if (getenv("WSCRT_TEST_LOG") != NULL) {
        wscrt_logger_set_stderr(WSCRT_LL_DEBUG);
    }
    fixture->allocator = allocator;
    fixture->corrupt_at = UINT64_MAX;
    fixture->reader_window = 256 * 1024;
    s_waiter_init(&fixture->result_waiter);
    s_waiter_init(&fixture->received_waiter);
    s_waiter_init(&fixture->written_waiter);
    s_shutdown_record_init(&fixture->shutdown);
    ASSERT_TRUE(s_pki_init(&fixture->pki));
    ASSERT_INT_EQ(0, s_client_stack_init(&fixture->client, allocator, 1));
    fixture->tls_options.timeout_ms = S_WAIT_MS; /* server_name: NULL = the host connected to */
    return 0;
}

static inline int s_fixture_clean_up(struct s_fixture *fixture) {
    wscrt_tls_ctx_release(fixture->ctx);
    ASSERT_INT_EQ(0, s_client_stack_clean_up(&fixture->client));
    s_pki_clean_up(&fixture->pki);
    s_waiter_clean_up(&fixture->result_waiter);
    s_waiter_clean_up(&fixture->received_waiter);
    s_waiter_clean_up(&fixture->written_waiter);
    s_shutdown_record_clean_up(&fixture->shutdown);
    return 0;
}

/* A context trusting the test CA (plus whatever the caller sets). */
static inline struct wscrt_tls_ctx *s_ctx_trusting_test_ca(struct s_fixture *fixture, struct wscrt_tls_ctx_options *options) {
    options->ca_pem = fixture->pki.ca.cert_pem;
    return wscrt_tls_ctx_new_client(fixture->allocator, options);
}

static inline int s_connect(struct s_fixture *fixture, const char *host, uint16_t port) {
    fixture->tls_options.ctx = fixture->ctx;
    if (fixture->manual_tls) {
        if (fixture->tls_options.server_name == NULL) {
            fixture->tls_options.server_name = host;
        }
        fixture->tls_options.host = host;
        fixture->tls_options.port = port;
    }
    struct wscrt_socket_channel_options options = {
        .bootstrap = fixture->client.bootstrap,
        .host_name = host,
        .port = port,
        .on_setup = s_on_setup,
        .on_shutdown = s_on_shutdown,
        .user_data = fixture,
        .tls_options = fixture->manual_tls ? NULL : &fixture->tls_options,
    };
    ASSERT_SUCCESS(wscrt_client_bootstrap_new_socket_channel(&options));
    ASSERT_TRUE(s_waiter_wait(&fixture->result_waiter, 1, S_WAIT_MS + 5000));
    return 0;
}

/* Connects, expects the handshake to succeed. */
static inline int s_connect_ok(struct s_fixture *fixture, const char *host, uint16_t port) {
    ASSERT_INT_EQ(0, s_connect(fixture, host, port));
    if (fixture->result_error != 0) {
        fprintf(stderr, "  handshake failed: %s\n", wscrt_error_name(fixture->result_error));
    }
    ASSERT_INT_EQ(0, fixture->result_error);
    ASSERT_INT_EQ(1, fixture->negotiation_calls);
    return 0;
}

/*
 * Connects, expects the handshake to fail with `expected` and the channel to
 * go away: through the bootstrap, on_setup carries the error and no channel,
 * and on_shutdown never runs; by hand, the plain channel shuts down.
 */
static inline int s_connect_fails(struct s_fixture *fixture, const char *host, uint16_t port, int expected) {
    ASSERT_INT_EQ(0, s_connect(fixture, host, port));
    if (fixture->result_error != expected) {
        fprintf(stderr, "  expected %s, got %s\n", wscrt_error_name(expected), wscrt_error_name(fixture->result_error));
    }
    ASSERT_INT_EQ(expected, fixture->result_error);
    if (fixture->manual_tls) {
        ASSERT_TRUE(s_waiter_wait(&fixture->shutdown.waiter, 1, S_WAIT_MS));
        ASSERT_INT_EQ(1, fixture->shutdown.calls);
    } else {
        ASSERT_TRUE(fixture->channel == NULL);
        s_sleep_ms(50);
        ASSERT_INT_EQ(0, fixture->shutdown.calls);
    }
    ASSERT_INT_EQ(0, fixture->negotiation_calls);
    ASSERT_TRUE(fixture->reader == NULL);
    return 0;
}

/* After a connection has shut down: the fixture is ready for the next one (same context, same loop). */
static inline void s_fixture_next_connection(struct s_fixture *fixture) {
    s_waiter_reset(&fixture->result_waiter);
    s_waiter_reset(&fixture->received_waiter);
    s_waiter_reset(&fixture->written_waiter);
    s_shutdown_record_reset(&fixture->shutdown);
    fixture->negotiation_calls = 0;
    fixture->result_error = 0;
    fixture->channel = NULL;
    fixture->loop = NULL;
    fixture->version[0] = '\0';
    fixture->protocol[0] = '\0';
    fixture->resumed = false;
    fixture->received = 0;
    fixture->sent = 0;
    fixture->messages_sent = 0;
    fixture->corrupt_at = UINT64_MAX;
    fixture->written_ok = 0;
    fixture->write_failures = 0;
}

/* ---- sending ------------------------------------------------------------ */

struct s_send_job {
    struct s_fixture *fixture;
    uint64_t total;
    size_t message_size;
    int failed_sends;
};

static inline void s_on_written(struct wscrt_channel *channel, struct wscrt_io_message *message, int error_code,
                         void *user_data) {
    (void)channel;
    struct s_fixture *fixture = user_data;
    if (error_code == 0) {
        fixture->written_ok += message->data.len;
    } else {
        fixture->write_failures++;
    }
    s_waiter_signal(&fixture->written_waiter);
}

static inline long s_message_count(uint64_t total, size_t message_size) {
    return (long)((total + message_size - 1) / message_size);
}

static inline void s_send_on_loop(void *arg) {
    struct s_send_job *job = arg;
    struct s_fixture *fixture = job->fixture;
    struct wscrt_channel_slot *slot = fixture->reader->slot;
    uint64_t start = fixture->sent;
    fixture->sent += job->total;
    fixture->messages_sent += s_message_count(job->total, job->message_size);
    for (uint64_t offset = 0; offset < job->total; offset += job->message_size) {
        size_t size = job->total - offset < job->message_size ? (size_t)(job->total - offset) : job->message_size;
        struct wscrt_io_message *message = wscrt_io_message_new(fixture->allocator, size);
        s_pattern_fill(message->data.buffer, size, start + offset);
        message->data.len = size;
        message->on_completion = s_on_written;
        message->user_data = fixture;
        if (wscrt_channel_slot_send_write_message(slot, message)) {
            wscrt_io_message_destroy(message);
            job->failed_sends++;
        }
    }
}

static inline void s_send_empty_on_loop(void *arg) {
    struct s_fixture *fixture = arg;
    struct wscrt_io_message *message = wscrt_io_message_new(fixture->allocator, 0);
    message->on_completion = s_on_written;
    message->user_data = fixture;
    if (wscrt_channel_slot_send_write_message(fixture->reader->slot, message)) {
        wscrt_io_message_destroy(message);
        fixture->write_failures++;
    }
}

/* Sends `total` more pattern bytes in messages of `message_size`, waits for
 * the echo and for every write completion. */
static inline int s_echo(struct s_fixture *fixture, uint64_t total, size_t message_size) {
    struct s_send_job job = {.fixture = fixture, .total = total, .message_size = message_size};
    ASSERT_TRUE(s_run_on_loop(fixture->loop, s_send_on_loop, &job));
    ASSERT_INT_EQ(0, job.failed_sends);
    uint64_t expected = fixture->sent; /* written on the loop before s_run_on_loop returned */
    ASSERT_TRUE(s_waiter_wait(&fixture->received_waiter, (long)expected, S_BULK_WAIT_MS));
    ASSERT_TRUE(s_waiter_wait(&fixture->written_waiter, fixture->messages_sent, S_WAIT_MS));
    ASSERT_UINT_EQ(expected, fixture->received);
    ASSERT_UINT_EQ(UINT64_MAX, fixture->corrupt_at);
    ASSERT_UINT_EQ(expected, fixture->written_ok);
    ASSERT_INT_EQ(0, fixture->write_failures);
    return 0;
}

/* Clean local close: close_notify goes out, the channel reports 0. */
static inline int s_close_cleanly(struct s_fixture *fixture) {
    ASSERT_SUCCESS(wscrt_channel_shutdown(fixture->channel, 0));
    ASSERT_INT_EQ(0, s_shutdown_record_expect(&fixture->shutdown, 0));
    ASSERT_INT_EQ(1, fixture->shutdown.calls);
    return 0;
}

static inline struct s_server_options s_echo_server(const struct s_test_identity *identity) {
    struct s_server_options options = {.identity = identity, .mode = S_SERVER_ECHO};
    return options;
}

/*
 * The usual start of a test, after s_fixture_init and the fixture's flags: a context trusting the test
 * CA made from `ctx_options` (NULL: the defaults), and a TLS server with `server_options` (NULL: an echo
 * server with the server certificate).
 */
static inline int s_start_with_test_ca(struct s_fixture *fixture, struct wscrt_tls_ctx_options *ctx_options,
                                       struct s_server *server, const struct s_server_options *server_options) {
    struct wscrt_tls_ctx_options defaults;
    if (ctx_options == NULL) {
        wscrt_tls_ctx_options_init_default_client(&defaults);
        ctx_options = &defaults;
    }
    fixture->ctx = s_ctx_trusting_test_ca(fixture, ctx_options);
    ASSERT_TRUE(fixture->ctx != NULL);
    struct s_server_options echo = s_echo_server(&fixture->pki.server);
    ASSERT_TRUE(s_server_start(server, server_options ? server_options : &echo));
    return 0;
}

#endif
