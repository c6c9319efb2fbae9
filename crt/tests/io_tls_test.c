/*
 * Tests for crt/io/tls_context.c, crt/io/tls_handler.c and the TLS option of
 * crt/io/client_bootstrap.c: a real channel (socket handler -> TLS handler ->
 * a reader) against a blocking OpenSSL server on a thread, with certificates
 * made at test time (tls_test_certs.h). Most tests let the bootstrap add the
 * TLS handler (tls_options); some add it themselves on a plain channel
 * (manual_tls) to drive the handler's own API. Loopback only; every wait is
 * bounded.
 */
#include <stdlib.h>

#include "common/byte_buf.h"
#include "common/clock.h"
#include "common/logging.h"
#include "io/channel.h"
#include "io/client_bootstrap.h"
#include "io/event_loop.h"
#include "io/event_loop_group.h"
#include "io/host_resolver.h"
#include "io/tls_context.h"
#include "io/tls_handler.h"
#include "io_loopback_helpers.h"
#include "test_harness.h"
#include "tls_test_certs.h"

/* Bound for the bulk transfers (sanitizer builds are several times slower). */
#define S_BULK_WAIT_MS 60000

/* ---- fixture ----------------------------------------------------------- */

struct s_reader;

struct s_fixture {
    struct wscrt_allocator *allocator;
    struct s_test_pki pki;
    struct wscrt_event_loop_group *group;
    struct wscrt_host_resolver *resolver;
    struct wscrt_client_bootstrap *bootstrap;
    struct s_waiter group_shutdown;

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
    struct s_reader *reader;

    struct s_waiter received_waiter;
    uint64_t received;
    uint64_t corrupt_at; /* UINT64_MAX while the content matches */

    struct s_waiter written_waiter;
    uint64_t written_ok;
    int write_failures;

    struct s_waiter shutdown_waiter;
    int shutdown_calls;
    int shutdown_error;
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

static void s_reader_increment_task(struct wscrt_task *task, void *arg, enum wscrt_task_status status) {
    (void)task;
    struct s_reader *reader = arg;
    reader->task_scheduled = false;
    if (status == WSCRT_TASK_STATUS_RUN_READY && reader->owed > 0) {
        size_t owed = reader->owed;
        reader->owed = 0;
        wscrt_channel_slot_increment_read_window(reader->slot, owed);
    }
}

static int s_reader_process_read_data(struct wscrt_channel_handler *base, struct wscrt_channel_slot *slot,
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

static int s_reader_process_write_message(struct wscrt_channel_handler *base, struct wscrt_channel_slot *slot,
                                          struct wscrt_io_message *message) {
    (void)base;
    (void)slot;
    (void)message;
    return wscrt_raise_error(WSCRT_ERROR_UNSUPPORTED_OPERATION);
}

static int s_reader_increment_read_window(struct wscrt_channel_handler *base, struct wscrt_channel_slot *slot,
                                          size_t size) {
    (void)base;
    (void)slot;
    (void)size;
    return WSCRT_OP_SUCCESS;
}

static int s_reader_shutdown(struct wscrt_channel_handler *base, struct wscrt_channel_slot *slot,
                             enum wscrt_channel_direction direction, int error_code, bool free_scarce) {
    (void)base;
    return wscrt_channel_slot_on_handler_shutdown_complete(slot, direction, error_code, free_scarce);
}

static size_t s_reader_initial_window_size(struct wscrt_channel_handler *base) {
    struct s_reader *reader = base->impl;
    return reader->fixture->reader_window;
}

static void s_reader_destroy(struct wscrt_channel_handler *base) {
    struct s_reader *reader = base->impl;
    if (reader->task_scheduled) {
        wscrt_event_loop_cancel_task(wscrt_channel_get_event_loop(reader->slot->channel), &reader->increment_task);
    }
    reader->fixture->reader = NULL;
    wscrt_mem_release(base->allocator, reader);
}

static const struct wscrt_channel_handler_vtable s_reader_vtable = {
    .process_read_data = s_reader_process_read_data,
    .process_write_message = s_reader_process_write_message,
    .increment_read_window = s_reader_increment_read_window,
    .shutdown = s_reader_shutdown,
    .initial_window_size = s_reader_initial_window_size,
    .destroy = s_reader_destroy,
};

static void s_add_reader(struct s_fixture *fixture, struct wscrt_channel *channel) {
    struct s_reader *reader = wscrt_mem_calloc(fixture->allocator, 1, sizeof(struct s_reader));
    reader->base.vtable = &s_reader_vtable;
    reader->base.allocator = fixture->allocator;
    reader->base.impl = reader;
    reader->fixture = fixture;
    wscrt_task_init(&reader->increment_task, s_reader_increment_task, reader, "test_reader_increment");
    reader->slot = wscrt_channel_slot_new(channel);
    wscrt_channel_slot_set_handler(reader->slot, &reader->base);
    fixture->reader = reader;
}

/* ---- bootstrap callbacks ------------------------------------------------ */

static void s_on_tls_ready(struct s_fixture *fixture, struct wscrt_channel_handler *handler) {
    fixture->negotiation_calls++;
    snprintf(fixture->version, sizeof(fixture->version), "%s", wscrt_tls_handler_version_name(handler));
    snprintf(fixture->protocol, sizeof(fixture->protocol), "%s", wscrt_tls_handler_protocol(handler));
    s_add_reader(fixture, fixture->channel);
}

static void s_on_negotiation_result(struct wscrt_channel_handler *handler, int error_code, void *user_data) {
    struct s_fixture *fixture = user_data;
    fixture->result_error = error_code;
    if (error_code == 0) {
        s_on_tls_ready(fixture, handler);
    }
    s_waiter_signal(&fixture->result_waiter);
}

/* The TLS handler: slot 1, right of the socket handler. */
static struct wscrt_channel_handler *s_tls_handler_of(struct wscrt_channel *channel) {
    return wscrt_channel_get_first_slot(channel)->adj_right->handler;
}

static void s_on_setup(struct wscrt_client_bootstrap *bootstrap, int error_code, struct wscrt_channel *channel,
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

static void s_on_shutdown(struct wscrt_client_bootstrap *bootstrap, int error_code, struct wscrt_channel *channel,
                          void *user_data) {
    (void)bootstrap;
    struct s_fixture *fixture = user_data;
    fixture->shutdown_calls++;
    fixture->shutdown_error = error_code;
    wscrt_channel_destroy(channel);
    s_waiter_signal(&fixture->shutdown_waiter);
}

static void s_on_group_shutdown(void *user_data) {
    s_waiter_signal(user_data);
}

static int s_fixture_init(struct s_fixture *fixture, struct wscrt_allocator *allocator) {
    memset(fixture, 0, sizeof(*fixture));
    if (getenv("WSCRT_TEST_LOG") != NULL) {
        wscrt_logger_set_stderr(WSCRT_LL_DEBUG);
    }
    fixture->allocator = allocator;
    fixture->corrupt_at = UINT64_MAX;
    fixture->reader_window = 256 * 1024;
    s_waiter_init(&fixture->group_shutdown);
    s_waiter_init(&fixture->result_waiter);
    s_waiter_init(&fixture->received_waiter);
    s_waiter_init(&fixture->written_waiter);
    s_waiter_init(&fixture->shutdown_waiter);
    ASSERT_TRUE(s_pki_init(&fixture->pki));
    struct wscrt_shutdown_callback_options shutdown = {s_on_group_shutdown, &fixture->group_shutdown};
    fixture->group = wscrt_event_loop_group_new(allocator, 1, &shutdown);
    ASSERT_TRUE(fixture->group != NULL);
    fixture->resolver = wscrt_host_resolver_new(allocator, fixture->group, 16);
    ASSERT_TRUE(fixture->resolver != NULL);
    struct wscrt_client_bootstrap_options options = {
        .event_loop_group = fixture->group,
        .host_resolver = fixture->resolver,
    };
    fixture->bootstrap = wscrt_client_bootstrap_new(allocator, &options);
    ASSERT_TRUE(fixture->bootstrap != NULL);
    fixture->tls_options.timeout_ms = S_WAIT_MS; /* server_name: NULL = the host connected to */
    return 0;
}

static int s_fixture_clean_up(struct s_fixture *fixture) {
    wscrt_tls_ctx_release(fixture->ctx);
    wscrt_client_bootstrap_release(fixture->bootstrap);
    wscrt_host_resolver_release(fixture->resolver);
    wscrt_event_loop_group_release(fixture->group);
    ASSERT_TRUE(s_waiter_wait(&fixture->group_shutdown, 1, S_WAIT_MS));
    s_pki_clean_up(&fixture->pki);
    s_waiter_clean_up(&fixture->group_shutdown);
    s_waiter_clean_up(&fixture->result_waiter);
    s_waiter_clean_up(&fixture->received_waiter);
    s_waiter_clean_up(&fixture->written_waiter);
    s_waiter_clean_up(&fixture->shutdown_waiter);
    return 0;
}

/* A context trusting the test CA (plus whatever the caller sets). */
static struct wscrt_tls_ctx *s_ctx_trusting_test_ca(struct s_fixture *fixture, struct wscrt_tls_ctx_options *options) {
    options->ca_pem = fixture->pki.ca.cert_pem;
    return wscrt_tls_ctx_new_client(fixture->allocator, options);
}

static int s_connect(struct s_fixture *fixture, const char *host, uint16_t port) {
    fixture->tls_options.ctx = fixture->ctx;
    if (fixture->manual_tls && fixture->tls_options.server_name == NULL) {
        fixture->tls_options.server_name = host;
    }
    struct wscrt_socket_channel_options options = {
        .bootstrap = fixture->bootstrap,
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
static int s_connect_ok(struct s_fixture *fixture, const char *host, uint16_t port) {
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
static int s_connect_fails(struct s_fixture *fixture, const char *host, uint16_t port, int expected) {
    ASSERT_INT_EQ(0, s_connect(fixture, host, port));
    if (fixture->result_error != expected) {
        fprintf(stderr, "  expected %s, got %s\n", wscrt_error_name(expected), wscrt_error_name(fixture->result_error));
    }
    ASSERT_INT_EQ(expected, fixture->result_error);
    if (fixture->manual_tls) {
        ASSERT_TRUE(s_waiter_wait(&fixture->shutdown_waiter, 1, S_WAIT_MS));
        ASSERT_INT_EQ(1, fixture->shutdown_calls);
    } else {
        ASSERT_TRUE(fixture->channel == NULL);
        s_sleep_ms(50);
        ASSERT_INT_EQ(0, fixture->shutdown_calls);
    }
    ASSERT_INT_EQ(0, fixture->negotiation_calls);
    ASSERT_TRUE(fixture->reader == NULL);
    return 0;
}

/* ---- sending ------------------------------------------------------------ */

struct s_send_job {
    struct s_fixture *fixture;
    uint64_t total;
    size_t message_size;
    int failed_sends;
};

static void s_on_written(struct wscrt_channel *channel, struct wscrt_io_message *message, int error_code,
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

static void s_send_on_loop(void *arg) {
    struct s_send_job *job = arg;
    struct s_fixture *fixture = job->fixture;
    struct wscrt_channel_slot *slot = fixture->reader->slot;
    for (uint64_t offset = 0; offset < job->total; offset += job->message_size) {
        size_t size = job->total - offset < job->message_size ? (size_t)(job->total - offset) : job->message_size;
        struct wscrt_io_message *message = wscrt_io_message_new(fixture->allocator, size);
        s_pattern_fill(message->data.buffer, size, offset);
        message->data.len = size;
        message->on_completion = s_on_written;
        message->user_data = fixture;
        if (wscrt_channel_slot_send_write_message(slot, message)) {
            wscrt_io_message_destroy(message);
            job->failed_sends++;
        }
    }
}

static void s_send_empty_on_loop(void *arg) {
    struct s_fixture *fixture = arg;
    struct wscrt_io_message *message = wscrt_io_message_new(fixture->allocator, 0);
    message->on_completion = s_on_written;
    message->user_data = fixture;
    if (wscrt_channel_slot_send_write_message(fixture->reader->slot, message)) {
        wscrt_io_message_destroy(message);
        fixture->write_failures++;
    }
}

static long s_message_count(uint64_t total, size_t message_size) {
    return (long)((total + message_size - 1) / message_size);
}

/* Sends `total` pattern bytes in messages of `message_size`, waits for the
 * echo and for every write completion. */
static int s_echo(struct s_fixture *fixture, uint64_t total, size_t message_size) {
    struct s_send_job job = {.fixture = fixture, .total = total, .message_size = message_size};
    ASSERT_TRUE(s_run_on_loop(fixture->loop, s_send_on_loop, &job));
    ASSERT_INT_EQ(0, job.failed_sends);
    ASSERT_TRUE(s_waiter_wait(&fixture->received_waiter, (long)total, S_BULK_WAIT_MS));
    ASSERT_TRUE(s_waiter_wait(&fixture->written_waiter, s_message_count(total, message_size), S_WAIT_MS));
    ASSERT_UINT_EQ(total, fixture->received);
    ASSERT_UINT_EQ(UINT64_MAX, fixture->corrupt_at);
    ASSERT_UINT_EQ(total, fixture->written_ok);
    ASSERT_INT_EQ(0, fixture->write_failures);
    return 0;
}

/* Clean local close: close_notify goes out, the channel reports 0. */
static int s_close_cleanly(struct s_fixture *fixture) {
    ASSERT_SUCCESS(wscrt_channel_shutdown(fixture->channel, 0));
    ASSERT_TRUE(s_waiter_wait(&fixture->shutdown_waiter, 1, S_WAIT_MS));
    ASSERT_INT_EQ(0, fixture->shutdown_error);
    ASSERT_INT_EQ(1, fixture->shutdown_calls);
    return 0;
}

static struct s_server_options s_echo_server(const struct s_test_identity *identity) {
    struct s_server_options options = {.identity = identity, .mode = S_SERVER_ECHO};
    return options;
}

/* ---- tests: data ----------------------------------------------------------- */

static int s_test_tls_echo_16mib_intact_and_close_notify_sent(struct wscrt_allocator *allocator) {
    struct s_fixture fixture;
    ASSERT_INT_EQ(0, s_fixture_init(&fixture, allocator));
    struct wscrt_tls_ctx_options ctx_options;
    wscrt_tls_ctx_options_init_default_client(&ctx_options);
    fixture.ctx = s_ctx_trusting_test_ca(&fixture, &ctx_options);
    ASSERT_TRUE(fixture.ctx != NULL);
    struct s_server server;
    struct s_server_options server_options = s_echo_server(&fixture.pki.server);
    ASSERT_TRUE(s_server_start(&server, &server_options));

    ASSERT_INT_EQ(0, s_connect_ok(&fixture, "localhost", server.port));
    ASSERT_INT_EQ(0, s_echo(&fixture, 16u * 1024 * 1024, 1024 * 1024));
    ASSERT_INT_EQ(0, s_close_cleanly(&fixture));

    s_server_stop(&server);
    ASSERT_INT_EQ(1, server.handshakes_ok);
    ASSERT_UINT_EQ(16u * 1024 * 1024, server.echoed);
    ASSERT_TRUE(server.got_close_notify);
    ASSERT_INT_EQ(0, s_fixture_clean_up(&fixture));
    return 0;
}

/* A reader with a 1000-byte window that grows it only from a later task:
 * the handler must hold back decrypted records and resume on increments. */
static int s_test_tls_small_read_window_holds_back_and_resumes(struct wscrt_allocator *allocator) {
    struct s_fixture fixture;
    ASSERT_INT_EQ(0, s_fixture_init(&fixture, allocator));
    fixture.reader_window = 1000;
    fixture.reader_defers_increment = true;
    fixture.manual_tls = true;
    struct wscrt_tls_ctx_options ctx_options;
    wscrt_tls_ctx_options_init_default_client(&ctx_options);
    fixture.ctx = s_ctx_trusting_test_ca(&fixture, &ctx_options);
    ASSERT_TRUE(fixture.ctx != NULL);
    struct s_server server;
    struct s_server_options server_options = s_echo_server(&fixture.pki.server);
    ASSERT_TRUE(s_server_start(&server, &server_options));

    ASSERT_INT_EQ(0, s_connect_ok(&fixture, "localhost", server.port));
    ASSERT_INT_EQ(0, s_echo(&fixture, 2u * 1024 * 1024 + 77, 100 * 1000));
    ASSERT_INT_EQ(0, s_close_cleanly(&fixture));

    s_server_stop(&server);
    ASSERT_TRUE(server.got_close_notify);
    ASSERT_INT_EQ(0, s_fixture_clean_up(&fixture));
    return 0;
}

/* Many small messages, and an empty one: every completion arrives. */
static int s_test_tls_small_and_empty_messages_complete(struct wscrt_allocator *allocator) {
    struct s_fixture fixture;
    ASSERT_INT_EQ(0, s_fixture_init(&fixture, allocator));
    struct wscrt_tls_ctx_options ctx_options;
    wscrt_tls_ctx_options_init_default_client(&ctx_options);
    fixture.ctx = s_ctx_trusting_test_ca(&fixture, &ctx_options);
    ASSERT_TRUE(fixture.ctx != NULL);
    struct s_server server;
    struct s_server_options server_options = s_echo_server(&fixture.pki.server);
    ASSERT_TRUE(s_server_start(&server, &server_options));

    ASSERT_INT_EQ(0, s_connect_ok(&fixture, "localhost", server.port));
    ASSERT_INT_EQ(0, s_echo(&fixture, 64 * 1000, 64));
    /* An empty message completes too (after the 1000 above). */
    ASSERT_TRUE(s_run_on_loop(fixture.loop, s_send_empty_on_loop, &fixture));
    ASSERT_TRUE(s_waiter_wait(&fixture.written_waiter, 1001, S_WAIT_MS));
    ASSERT_INT_EQ(0, fixture.write_failures);
    ASSERT_INT_EQ(0, s_close_cleanly(&fixture));

    s_server_stop(&server);
    ASSERT_UINT_EQ(64 * 1000, server.echoed);
    ASSERT_INT_EQ(0, s_fixture_clean_up(&fixture));
    return 0;
}

/* The server echoes 300 000 bytes, then sends close_notify and closes: all
 * the data arrives first, then the channel ends as on a TCP end of stream. */
static int s_expect_close_after_data(struct wscrt_allocator *allocator, bool slow_reader) {
    struct s_fixture fixture;
    ASSERT_INT_EQ(0, s_fixture_init(&fixture, allocator));
    if (slow_reader) {
        fixture.reader_window = 1000;
        fixture.reader_defers_increment = true;
    }
    struct wscrt_tls_ctx_options ctx_options;
    wscrt_tls_ctx_options_init_default_client(&ctx_options);
    fixture.ctx = s_ctx_trusting_test_ca(&fixture, &ctx_options);
    ASSERT_TRUE(fixture.ctx != NULL);
    struct s_server server;
    struct s_server_options server_options = s_echo_server(&fixture.pki.server);
    server_options.close_after = 300000;
    ASSERT_TRUE(s_server_start(&server, &server_options));

    ASSERT_INT_EQ(0, s_connect_ok(&fixture, "localhost", server.port));
    struct s_send_job job = {.fixture = &fixture, .total = 300000, .message_size = 30000};
    ASSERT_TRUE(s_run_on_loop(fixture.loop, s_send_on_loop, &job));
    ASSERT_TRUE(s_waiter_wait(&fixture.shutdown_waiter, 1, S_WAIT_MS));
    ASSERT_INT_EQ(WSCRT_ERROR_IO_SOCKET_CLOSED, fixture.shutdown_error);
    ASSERT_UINT_EQ(300000, fixture.received);
    ASSERT_UINT_EQ(UINT64_MAX, fixture.corrupt_at);

    s_server_stop(&server);
    ASSERT_INT_EQ(0, s_fixture_clean_up(&fixture));
    return 0;
}

static int s_test_tls_peer_close_notify_ends_channel_after_data(struct wscrt_allocator *allocator) {
    return s_expect_close_after_data(allocator, false);
}

/* The same with a reader whose window is nearly always full when the end
 * of stream comes: nothing decrypted or received before it is lost. */
static int s_test_tls_peer_close_notify_after_data_for_slow_reader(struct wscrt_allocator *allocator) {
    return s_expect_close_after_data(allocator, true);
}

/* ---- tests: verification ------------------------------------------------ */

static int s_expect_verify_failure(struct wscrt_allocator *allocator, bool trust_test_ca,
                                   const struct s_test_identity *(*pick)(struct s_test_pki *), const char *host,
                                   int expected) {
    struct s_fixture fixture;
    ASSERT_INT_EQ(0, s_fixture_init(&fixture, allocator));
    struct wscrt_tls_ctx_options ctx_options;
    wscrt_tls_ctx_options_init_default_client(&ctx_options);
    fixture.ctx = trust_test_ca ? s_ctx_trusting_test_ca(&fixture, &ctx_options)
                                : wscrt_tls_ctx_new_client(allocator, &ctx_options);
    if (fixture.ctx == NULL && wscrt_last_error() == WSCRT_ERROR_TLS_NO_TRUST_STORE) {
        fprintf(stderr, "  SKIPPED: this machine has no system CA bundle\n");
        ASSERT_INT_EQ(0, s_fixture_clean_up(&fixture));
        return 0;
    }
    ASSERT_TRUE(fixture.ctx != NULL);
    fixture.tls_options.server_name = host;
    struct s_server server;
    struct s_server_options server_options = s_echo_server(pick(&fixture.pki));
    ASSERT_TRUE(s_server_start(&server, &server_options));

    ASSERT_INT_EQ(0, s_connect_fails(&fixture, host, server.port, expected));

    s_server_stop(&server);
    ASSERT_INT_EQ(0, server.handshakes_ok);
    ASSERT_INT_EQ(0, s_fixture_clean_up(&fixture));
    return 0;
}

static const struct s_test_identity *s_pick_server(struct s_test_pki *pki) {
    return &pki->server;
}
static const struct s_test_identity *s_pick_expired(struct s_test_pki *pki) {
    return &pki->expired;
}
static const struct s_test_identity *s_pick_wrong_name(struct s_test_pki *pki) {
    return &pki->wrong_name;
}
static const struct s_test_identity *s_pick_self_signed(struct s_test_pki *pki) {
    return &pki->self_signed;
}

/* No CA configured: the system store does not know the test CA. */
static int s_test_tls_unknown_ca_rejected_with_default_trust_store(struct wscrt_allocator *allocator) {
    return s_expect_verify_failure(allocator, false, s_pick_server, "localhost", WSCRT_ERROR_TLS_CERT_UNKNOWN_CA);
}

static int s_test_tls_expired_certificate_rejected(struct wscrt_allocator *allocator) {
    return s_expect_verify_failure(allocator, true, s_pick_expired, "localhost", WSCRT_ERROR_TLS_CERT_EXPIRED);
}

static int s_test_tls_wrong_hostname_rejected(struct wscrt_allocator *allocator) {
    return s_expect_verify_failure(allocator, true, s_pick_wrong_name, "localhost",
                                   WSCRT_ERROR_TLS_CERT_HOSTNAME_MISMATCH);
}

static int s_test_tls_self_signed_certificate_rejected(struct wscrt_allocator *allocator) {
    return s_expect_verify_failure(allocator, false, s_pick_self_signed, "localhost",
                                   WSCRT_ERROR_TLS_CERT_SELF_SIGNED);
}

/* Connecting to 127.0.0.1 checks the certificate's IP entry, not a DNS name. */
static int s_test_tls_ip_address_checked_against_ip_san(struct wscrt_allocator *allocator) {
    struct s_fixture fixture;
    ASSERT_INT_EQ(0, s_fixture_init(&fixture, allocator));
    struct wscrt_tls_ctx_options ctx_options;
    wscrt_tls_ctx_options_init_default_client(&ctx_options);
    fixture.ctx = s_ctx_trusting_test_ca(&fixture, &ctx_options);
    ASSERT_TRUE(fixture.ctx != NULL);
    fixture.manual_tls = true;
    fixture.tls_options.server_name = "127.0.0.1";
    struct s_server server;
    struct s_server_options server_options = s_echo_server(&fixture.pki.server);
    ASSERT_TRUE(s_server_start(&server, &server_options));

    ASSERT_INT_EQ(0, s_connect_ok(&fixture, "127.0.0.1", server.port));
    ASSERT_INT_EQ(0, s_echo(&fixture, 1000, 1000));
    ASSERT_INT_EQ(0, s_close_cleanly(&fixture));

    s_server_stop(&server);
    ASSERT_INT_EQ(0, s_fixture_clean_up(&fixture));
    return 0;
}

static int s_test_tls_verify_peer_false_accepts_unknown_ca(struct wscrt_allocator *allocator) {
    struct s_fixture fixture;
    ASSERT_INT_EQ(0, s_fixture_init(&fixture, allocator));
    struct wscrt_tls_ctx_options ctx_options;
    wscrt_tls_ctx_options_init_default_client(&ctx_options);
    ctx_options.verify_peer = false;
    fixture.ctx = wscrt_tls_ctx_new_client(allocator, &ctx_options);
    ASSERT_TRUE(fixture.ctx != NULL);
    fixture.tls_options.server_name = "not.the.right.name";
    struct s_server server;
    struct s_server_options server_options = s_echo_server(&fixture.pki.self_signed);
    ASSERT_TRUE(s_server_start(&server, &server_options));

    ASSERT_INT_EQ(0, s_connect_ok(&fixture, "localhost", server.port));
    ASSERT_INT_EQ(0, s_echo(&fixture, 1000, 1000));
    ASSERT_INT_EQ(0, s_close_cleanly(&fixture));

    s_server_stop(&server);
    ASSERT_INT_EQ(0, s_fixture_clean_up(&fixture));
    return 0;
}

/* ---- tests: versions and ALPN ----------------------------------------- */

static int s_expect_version(struct wscrt_allocator *allocator, enum wscrt_tls_version min,
                            enum wscrt_tls_version max, const char *expected) {
    struct s_fixture fixture;
    ASSERT_INT_EQ(0, s_fixture_init(&fixture, allocator));
    struct wscrt_tls_ctx_options ctx_options;
    wscrt_tls_ctx_options_init_default_client(&ctx_options);
    ctx_options.minimum_version = min;
    ctx_options.maximum_version = max;
    fixture.ctx = s_ctx_trusting_test_ca(&fixture, &ctx_options);
    ASSERT_TRUE(fixture.ctx != NULL);
    struct s_server server;
    struct s_server_options server_options = s_echo_server(&fixture.pki.server);
    ASSERT_TRUE(s_server_start(&server, &server_options));

    ASSERT_INT_EQ(0, s_connect_ok(&fixture, "localhost", server.port));
    ASSERT_TRUE(strcmp(expected, fixture.version) == 0);
    ASSERT_INT_EQ(0, s_echo(&fixture, 100000, 10000));
    ASSERT_INT_EQ(0, s_close_cleanly(&fixture));

    s_server_stop(&server);
    ASSERT_TRUE(strcmp(expected, server.version) == 0);
    ASSERT_INT_EQ(0, s_fixture_clean_up(&fixture));
    return 0;
}

static int s_test_tls12_forced_on_client_negotiates(struct wscrt_allocator *allocator) {
    return s_expect_version(allocator, WSCRT_TLS_VERSION_1_2, WSCRT_TLS_VERSION_1_2, "TLSv1.2");
}

static int s_test_tls13_forced_on_client_negotiates(struct wscrt_allocator *allocator) {
    return s_expect_version(allocator, WSCRT_TLS_VERSION_1_3, WSCRT_TLS_VERSION_DEFAULT, "TLSv1.3");
}

/* A client that insists on TLS 1.3 against a TLS 1.2 server. */
static int s_test_tls13_minimum_against_tls12_server_fails_protocol_version(struct wscrt_allocator *allocator) {
    struct s_fixture fixture;
    ASSERT_INT_EQ(0, s_fixture_init(&fixture, allocator));
    struct wscrt_tls_ctx_options ctx_options;
    wscrt_tls_ctx_options_init_default_client(&ctx_options);
    ctx_options.minimum_version = WSCRT_TLS_VERSION_1_3;
    fixture.ctx = s_ctx_trusting_test_ca(&fixture, &ctx_options);
    ASSERT_TRUE(fixture.ctx != NULL);
    struct s_server server;
    struct s_server_options server_options = s_echo_server(&fixture.pki.server);
    server_options.max_version = TLS1_2_VERSION;
    ASSERT_TRUE(s_server_start(&server, &server_options));

    ASSERT_INT_EQ(0, s_connect_fails(&fixture, "localhost", server.port, WSCRT_ERROR_TLS_PROTOCOL_VERSION));

    s_server_stop(&server);
    ASSERT_INT_EQ(0, s_fixture_clean_up(&fixture));
    return 0;
}

static int s_test_tls_alpn_negotiated_and_overridable(struct wscrt_allocator *allocator) {
    struct s_fixture fixture;
    ASSERT_INT_EQ(0, s_fixture_init(&fixture, allocator));
    struct wscrt_tls_ctx_options ctx_options;
    wscrt_tls_ctx_options_init_default_client(&ctx_options);
    ctx_options.alpn_list = "h2;http/1.1";
    fixture.ctx = s_ctx_trusting_test_ca(&fixture, &ctx_options);
    ASSERT_TRUE(fixture.ctx != NULL);
    struct s_server server;
    struct s_server_options server_options = s_echo_server(&fixture.pki.server);
    server_options.alpn_select = "http/1.1";
    server_options.connections = 2;
    ASSERT_TRUE(s_server_start(&server, &server_options));

    ASSERT_INT_EQ(0, s_connect_ok(&fixture, "localhost", server.port));
    ASSERT_TRUE(strcmp("http/1.1", fixture.protocol) == 0);
    ASSERT_INT_EQ(0, s_close_cleanly(&fixture));

    /* The connection's own list replaces the context's: nothing in common. */
    s_waiter_add(&fixture.result_waiter, -1);
    s_waiter_add(&fixture.shutdown_waiter, -1);
    fixture.negotiation_calls = 0;
    fixture.shutdown_calls = 0;
    fixture.channel = NULL;
    fixture.tls_options.alpn_list = "h2";
    ASSERT_INT_EQ(0, s_connect_ok(&fixture, "localhost", server.port));
    ASSERT_TRUE(strcmp("", fixture.protocol) == 0);
    ASSERT_INT_EQ(0, s_close_cleanly(&fixture));

    s_server_stop(&server);
    ASSERT_INT_EQ(2, server.handshakes_ok);
    ASSERT_TRUE(strcmp("", server.alpn) == 0); /* the second connection's */
    ASSERT_INT_EQ(0, s_fixture_clean_up(&fixture));
    return 0;
}

/* ---- tests: client certificates ----------------------------------------- */

/* CA, certificate and key from files this time. */
static int s_test_tls_mtls_with_client_certificate(struct wscrt_allocator *allocator) {
    struct s_fixture fixture;
    ASSERT_INT_EQ(0, s_fixture_init(&fixture, allocator));
    char *ca_file = s_write_temp_file(fixture.pki.ca.cert_pem);
    char *cert_file = s_write_temp_file(fixture.pki.client.cert_pem);
    char *key_file = s_write_temp_file(fixture.pki.client.key_pem);
    ASSERT_TRUE(ca_file != NULL && cert_file != NULL && key_file != NULL);
    struct wscrt_tls_ctx_options ctx_options;
    wscrt_tls_ctx_options_init_default_client(&ctx_options);
    ctx_options.ca_file = ca_file;
    ctx_options.cert_file = cert_file;
    ctx_options.key_file = key_file;
    fixture.ctx = wscrt_tls_ctx_new_client(allocator, &ctx_options);
    unlink(ca_file);
    unlink(cert_file);
    unlink(key_file);
    free(ca_file);
    free(cert_file);
    free(key_file);
    ASSERT_TRUE(fixture.ctx != NULL);
    struct s_server server;
    struct s_server_options server_options = s_echo_server(&fixture.pki.server);
    server_options.client_ca = &fixture.pki.ca;
    ASSERT_TRUE(s_server_start(&server, &server_options));

    ASSERT_INT_EQ(0, s_connect_ok(&fixture, "localhost", server.port));
    ASSERT_INT_EQ(0, s_echo(&fixture, 50000, 5000));
    ASSERT_INT_EQ(0, s_close_cleanly(&fixture));

    s_server_stop(&server);
    ASSERT_TRUE(strcmp("wscrt test client", server.client_cn) == 0);
    ASSERT_INT_EQ(0, s_fixture_clean_up(&fixture));
    return 0;
}

static int s_test_tls_mtls_with_client_certificate_pem(struct wscrt_allocator *allocator) {
    struct s_fixture fixture;
    ASSERT_INT_EQ(0, s_fixture_init(&fixture, allocator));
    struct wscrt_tls_ctx_options ctx_options;
    wscrt_tls_ctx_options_init_default_client(&ctx_options);
    ctx_options.cert_pem = fixture.pki.client.cert_pem;
    ctx_options.key_pem = fixture.pki.client.key_pem;
    fixture.ctx = s_ctx_trusting_test_ca(&fixture, &ctx_options);
    ASSERT_TRUE(fixture.ctx != NULL);
    struct s_server server;
    struct s_server_options server_options = s_echo_server(&fixture.pki.server);
    server_options.client_ca = &fixture.pki.ca;
    server_options.max_version = TLS1_2_VERSION;
    ASSERT_TRUE(s_server_start(&server, &server_options));

    ASSERT_INT_EQ(0, s_connect_ok(&fixture, "localhost", server.port));
    ASSERT_TRUE(strcmp("TLSv1.2", fixture.version) == 0);
    ASSERT_INT_EQ(0, s_echo(&fixture, 50000, 5000));
    ASSERT_INT_EQ(0, s_close_cleanly(&fixture));

    s_server_stop(&server);
    ASSERT_TRUE(strcmp("wscrt test client", server.client_cn) == 0);
    ASSERT_INT_EQ(0, s_fixture_clean_up(&fixture));
    return 0;
}

/* TLS 1.2: the server's refusal arrives inside the handshake. */
static int s_test_tls12_mtls_without_client_certificate_fails_named(struct wscrt_allocator *allocator) {
    struct s_fixture fixture;
    ASSERT_INT_EQ(0, s_fixture_init(&fixture, allocator));
    struct wscrt_tls_ctx_options ctx_options;
    wscrt_tls_ctx_options_init_default_client(&ctx_options);
    fixture.ctx = s_ctx_trusting_test_ca(&fixture, &ctx_options);
    ASSERT_TRUE(fixture.ctx != NULL);
    struct s_server server;
    struct s_server_options server_options = s_echo_server(&fixture.pki.server);
    server_options.client_ca = &fixture.pki.ca;
    server_options.max_version = TLS1_2_VERSION;
    ASSERT_TRUE(s_server_start(&server, &server_options));

    ASSERT_INT_EQ(0, s_connect_fails(&fixture, "localhost", server.port, WSCRT_ERROR_TLS_CLIENT_CERT_REQUIRED));

    s_server_stop(&server);
    ASSERT_INT_EQ(1, server.handshakes_failed);
    ASSERT_INT_EQ(0, s_fixture_clean_up(&fixture));
    return 0;
}

/* TLS 1.3: the client has finished its handshake when the server's
 * certificate_required alert arrives; it ends the channel with that name. */
static int s_test_tls13_mtls_without_client_certificate_fails_named(struct wscrt_allocator *allocator) {
    struct s_fixture fixture;
    ASSERT_INT_EQ(0, s_fixture_init(&fixture, allocator));
    struct wscrt_tls_ctx_options ctx_options;
    wscrt_tls_ctx_options_init_default_client(&ctx_options);
    fixture.ctx = s_ctx_trusting_test_ca(&fixture, &ctx_options);
    ASSERT_TRUE(fixture.ctx != NULL);
    struct s_server server;
    struct s_server_options server_options = s_echo_server(&fixture.pki.server);
    server_options.client_ca = &fixture.pki.ca;
    ASSERT_TRUE(s_server_start(&server, &server_options));

    ASSERT_INT_EQ(0, s_connect(&fixture, "localhost", server.port));
    ASSERT_TRUE(fixture.result_error == 0 || fixture.result_error == WSCRT_ERROR_TLS_CLIENT_CERT_REQUIRED);
    ASSERT_TRUE(s_waiter_wait(&fixture.shutdown_waiter, 1, S_WAIT_MS));
    ASSERT_INT_EQ(WSCRT_ERROR_TLS_CLIENT_CERT_REQUIRED, fixture.shutdown_error);

    s_server_stop(&server);
    ASSERT_INT_EQ(1, server.handshakes_failed);
    ASSERT_INT_EQ(0, s_fixture_clean_up(&fixture));
    return 0;
}

/* ---- tests: handshake faults --------------------------------------------- */

/* A listener that never accepts: TCP connects (the kernel's backlog), the
 * ClientHello is never answered. */
static int s_expect_handshake_timeout(struct wscrt_allocator *allocator, bool manual_tls) {
    struct s_fixture fixture;
    ASSERT_INT_EQ(0, s_fixture_init(&fixture, allocator));
    fixture.manual_tls = manual_tls;
    struct wscrt_tls_ctx_options ctx_options;
    wscrt_tls_ctx_options_init_default_client(&ctx_options);
    fixture.ctx = s_ctx_trusting_test_ca(&fixture, &ctx_options);
    ASSERT_TRUE(fixture.ctx != NULL);
    uint16_t port = 0;
    int listener = s_listener_open(AF_INET, 8, &port);
    ASSERT_TRUE(listener >= 0);
    fixture.tls_options.timeout_ms = 300;

    uint64_t start = wscrt_clock_now_ns();
    ASSERT_INT_EQ(0, s_connect_fails(&fixture, "127.0.0.1", port, WSCRT_ERROR_TLS_HANDSHAKE_TIMEOUT));
    uint64_t elapsed_ms = (wscrt_clock_now_ns() - start) / WSCRT_NS_PER_MS;
    ASSERT_TRUE(elapsed_ms >= 250 && elapsed_ms < 5000);
    if (manual_tls) {
        ASSERT_INT_EQ(WSCRT_ERROR_TLS_HANDSHAKE_TIMEOUT, fixture.shutdown_error);
    }

    close(listener);
    ASSERT_INT_EQ(0, s_fixture_clean_up(&fixture));
    return 0;
}

static int s_test_tls_handshake_times_out(struct wscrt_allocator *allocator) {
    return s_expect_handshake_timeout(allocator, false);
}

static int s_test_tls_handler_alone_times_out(struct wscrt_allocator *allocator) {
    return s_expect_handshake_timeout(allocator, true);
}

static int s_expect_peer_closing_during_handshake(struct wscrt_allocator *allocator, bool manual_tls) {
    struct s_fixture fixture;
    ASSERT_INT_EQ(0, s_fixture_init(&fixture, allocator));
    fixture.manual_tls = manual_tls;
    struct wscrt_tls_ctx_options ctx_options;
    wscrt_tls_ctx_options_init_default_client(&ctx_options);
    fixture.ctx = s_ctx_trusting_test_ca(&fixture, &ctx_options);
    ASSERT_TRUE(fixture.ctx != NULL);
    struct s_server server;
    struct s_server_options server_options = s_echo_server(&fixture.pki.server);
    server_options.mode = S_SERVER_CLOSE_AT_ONCE;
    ASSERT_TRUE(s_server_start(&server, &server_options));

    ASSERT_INT_EQ(0, s_connect_fails(&fixture, "localhost", server.port,
                                     WSCRT_ERROR_TLS_PEER_CLOSED_DURING_HANDSHAKE));

    s_server_stop(&server);
    ASSERT_INT_EQ(0, s_fixture_clean_up(&fixture));
    return 0;
}

static int s_test_tls_peer_closing_during_handshake_is_named(struct wscrt_allocator *allocator) {
    return s_expect_peer_closing_during_handshake(allocator, false);
}

static int s_test_tls_handler_alone_reports_peer_closing_during_handshake(struct wscrt_allocator *allocator) {
    return s_expect_peer_closing_during_handshake(allocator, true);
}

/* ---- tests: context ------------------------------------------------------ */

static int s_test_tls_ctx_without_trust_store_names_the_failure(struct wscrt_allocator *allocator) {
    /* OpenSSL's variables take the place of the probe list when set. No
     * other thread runs while this test does. */
    setenv("SSL_CERT_FILE", "/nonexistent/wscrt/ca.pem", 1);
    setenv("SSL_CERT_DIR", "/nonexistent/wscrt/certs", 1);
    struct wscrt_tls_ctx_options options;
    wscrt_tls_ctx_options_init_default_client(&options);
    wscrt_reset_error();
    struct wscrt_tls_ctx *ctx = wscrt_tls_ctx_new_client(allocator, &options);
    int error_code = wscrt_last_error();
    /* Without verification no trust store is needed. */
    options.verify_peer = false;
    struct wscrt_tls_ctx *unverified = wscrt_tls_ctx_new_client(allocator, &options);
    unsetenv("SSL_CERT_FILE");
    unsetenv("SSL_CERT_DIR");
    ASSERT_TRUE(ctx == NULL);
    ASSERT_INT_EQ(WSCRT_ERROR_TLS_NO_TRUST_STORE, error_code);
    ASSERT_TRUE(unverified != NULL);
    wscrt_tls_ctx_release(unverified);
    ASSERT_TRUE(strstr(wscrt_tls_system_trust_store_locations(), "/etc/pki/tls/certs/ca-bundle.crt") != NULL);
    return 0;
}

static int s_test_tls_ctx_rejects_bad_options(struct wscrt_allocator *allocator) {
    struct s_test_pki pki;
    ASSERT_TRUE(s_pki_init(&pki));
    struct wscrt_tls_ctx_options options;

    wscrt_tls_ctx_options_init_default_client(&options);
    options.ca_pem = pki.ca.cert_pem;
    options.alpn_list = "h2;;http/1.1";
    ASSERT_TRUE(wscrt_tls_ctx_new_client(allocator, &options) == NULL);
    ASSERT_INT_EQ(WSCRT_ERROR_INVALID_ARGUMENT, wscrt_last_error());

    wscrt_tls_ctx_options_init_default_client(&options);
    options.ca_pem = pki.ca.cert_pem;
    options.cert_pem = pki.client.cert_pem; /* no key */
    ASSERT_TRUE(wscrt_tls_ctx_new_client(allocator, &options) == NULL);
    ASSERT_INT_EQ(WSCRT_ERROR_INVALID_ARGUMENT, wscrt_last_error());

    wscrt_tls_ctx_options_init_default_client(&options);
    options.ca_pem = pki.ca.cert_pem;
    options.cert_pem = pki.client.cert_pem;
    options.key_pem = pki.server.key_pem; /* not this certificate's key */
    ASSERT_TRUE(wscrt_tls_ctx_new_client(allocator, &options) == NULL);
    ASSERT_INT_EQ(WSCRT_ERROR_TLS_CONTEXT_FAILURE, wscrt_last_error());

    wscrt_tls_ctx_options_init_default_client(&options);
    options.ca_pem = "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n";
    ASSERT_TRUE(wscrt_tls_ctx_new_client(allocator, &options) == NULL);
    ASSERT_INT_EQ(WSCRT_ERROR_TLS_CONTEXT_FAILURE, wscrt_last_error());

    wscrt_tls_ctx_options_init_default_client(&options);
    options.ca_file = "/nonexistent/wscrt/ca.pem";
    ASSERT_TRUE(wscrt_tls_ctx_new_client(allocator, &options) == NULL);
    ASSERT_INT_EQ(WSCRT_ERROR_TLS_CONTEXT_FAILURE, wscrt_last_error());

    wscrt_tls_ctx_options_init_default_client(&options);
    options.ca_pem = pki.ca.cert_pem;
    options.minimum_version = WSCRT_TLS_VERSION_1_3;
    options.maximum_version = WSCRT_TLS_VERSION_1_2;
    ASSERT_TRUE(wscrt_tls_ctx_new_client(allocator, &options) == NULL);
    ASSERT_INT_EQ(WSCRT_ERROR_INVALID_ARGUMENT, wscrt_last_error());

    /* A shared context outlives its creator's reference. */
    wscrt_tls_ctx_options_init_default_client(&options);
    options.ca_pem = pki.ca.cert_pem;
    struct wscrt_tls_ctx *ctx = wscrt_tls_ctx_new_client(allocator, &options);
    ASSERT_TRUE(ctx != NULL);
    ASSERT_TRUE(wscrt_tls_ctx_acquire(ctx) == ctx);
    wscrt_tls_ctx_release(ctx);
    wscrt_tls_ctx_release(ctx);

    s_pki_clean_up(&pki);
    return 0;
}

static int s_test_tls_alpn_list_wire_format(struct wscrt_allocator *allocator) {
    struct wscrt_byte_buf wire;
    ASSERT_SUCCESS(wscrt_byte_buf_init(&wire, allocator, 4));
    ASSERT_SUCCESS(wscrt_tls_alpn_list_to_wire("h2;http/1.1", &wire));
    ASSERT_BYTES_EQ("\x02h2\x08http/1.1", 12, wire.buffer, wire.len);
    wscrt_byte_buf_reset(&wire);
    ASSERT_ERROR(WSCRT_ERROR_INVALID_ARGUMENT, wscrt_tls_alpn_list_to_wire("h2;", &wire));
    wscrt_byte_buf_clean_up(&wire);
    return 0;
}

WSCRT_TEST_MAIN(s_test_tls_echo_16mib_intact_and_close_notify_sent, s_test_tls_small_read_window_holds_back_and_resumes,
                s_test_tls_small_and_empty_messages_complete, s_test_tls_peer_close_notify_ends_channel_after_data,
                s_test_tls_peer_close_notify_after_data_for_slow_reader,
                s_test_tls_unknown_ca_rejected_with_default_trust_store, s_test_tls_expired_certificate_rejected,
                s_test_tls_wrong_hostname_rejected, s_test_tls_self_signed_certificate_rejected,
                s_test_tls_ip_address_checked_against_ip_san, s_test_tls_verify_peer_false_accepts_unknown_ca,
                s_test_tls12_forced_on_client_negotiates, s_test_tls13_forced_on_client_negotiates,
                s_test_tls13_minimum_against_tls12_server_fails_protocol_version,
                s_test_tls_alpn_negotiated_and_overridable, s_test_tls_mtls_with_client_certificate,
                s_test_tls_mtls_with_client_certificate_pem, s_test_tls12_mtls_without_client_certificate_fails_named,
                s_test_tls13_mtls_without_client_certificate_fails_named, s_test_tls_handshake_times_out,
                s_test_tls_handler_alone_times_out, s_test_tls_peer_closing_during_handshake_is_named,
                s_test_tls_handler_alone_reports_peer_closing_during_handshake,
                s_test_tls_ctx_without_trust_store_names_the_failure, s_test_tls_ctx_rejects_bad_options,
                s_test_tls_alpn_list_wire_format)
