/*
 * What an idle TLS connection holds on the client: wscrt's own allocations
 * (the test's tracking allocator: socket, channel, TLS handler) and OpenSSL's,
 * counted by allocation hooks installed before OpenSSL's first allocation and
 * attributed to the client when made on the client's event-loop thread (the
 * in-process OpenSSL server's thread is not counted). Prints the figures per
 * connection, after a full handshake and after a resumed one, and bounds them:
 * OpenSSL must keep no record buffer (16 KiB each way) for an idle connection
 * (TLS 1.3 kept its read buffer after the read that found the socket empty,
 * until tls_handler_read.c released it: 34 KB -> 18 KB per connection).
 */
#include <stdalign.h>
#include <stddef.h>

#include "io_tls_fixture.h"

/* ---- OpenSSL allocations made on the client's loop thread ---------------- */

struct s_block_header {
    alignas(max_align_t) size_t size;
    bool counted;
};

static _Thread_local bool s_counting_thread;
static atomic_long s_openssl_client_bytes;

static void *s_counting_malloc(size_t size, const char *file, int line) {
    (void)file;
    (void)line;
    struct s_block_header *header = malloc(sizeof(struct s_block_header) + size);
    if (header == NULL) {
        return NULL;
    }
    header->size = size;
    header->counted = s_counting_thread;
    if (header->counted) {
        atomic_fetch_add(&s_openssl_client_bytes, (long)size);
    }
    return header + 1;
}

static void s_counting_free(void *pointer, const char *file, int line) {
    (void)file;
    (void)line;
    if (pointer == NULL) {
        return;
    }
    struct s_block_header *header = (struct s_block_header *)pointer - 1;
    if (header->counted) {
        atomic_fetch_sub(&s_openssl_client_bytes, (long)header->size);
    }
    free(header);
}

static void *s_counting_realloc(void *pointer, size_t size, const char *file, int line) {
    if (pointer == NULL) {
        return s_counting_malloc(size, file, line);
    }
    void *fresh = s_counting_malloc(size, file, line);
    if (fresh == NULL) {
        return NULL;
    }
    struct s_block_header *old = (struct s_block_header *)pointer - 1;
    memcpy(fresh, pointer, old->size < size ? old->size : size);
    s_counting_free(pointer, file, line);
    return fresh;
}

/* Before main, so before OpenSSL allocates anything (it refuses new hooks afterwards). */
__attribute__((constructor)) static void s_install_hooks(void) {
    if (CRYPTO_set_mem_functions(s_counting_malloc, s_counting_realloc, s_counting_free) != 1) {
        fprintf(stderr, "OpenSSL refused the allocation hooks\n");
        abort();
    }
}

static void s_count_this_thread(void *arg) {
    (void)arg;
    s_counting_thread = true;
}

/* ---- the measurement ------------------------------------------------------ */

struct s_held {
    long openssl;
    long wscrt;
};

static struct s_held s_now(struct wscrt_allocator *allocator) {
    struct s_held held = {atomic_load(&s_openssl_client_bytes), (long)wscrt_mem_tracer_bytes(allocator)};
    return held;
}

/* One connection, idle after an echo: what it holds beyond `base`. */
static int s_measure_idle(struct s_fixture *fixture, uint16_t port, const char *what, bool expect_resumed,
                          struct s_held *idle) {
    struct s_held base = s_now(fixture->allocator);
    ASSERT_INT_EQ(0, s_connect_ok(fixture, "localhost", port));
    ASSERT_INT_EQ(0, s_echo(fixture, 64 * 1024, 4096));
    ASSERT_TRUE(fixture->resumed == expect_resumed);
    s_sleep_ms(100);
    struct s_held held = s_now(fixture->allocator);
    idle->openssl = held.openssl - base.openssl;
    idle->wscrt = held.wscrt - base.wscrt;
    fprintf(stderr, "  idle wss connection, %s (%s): OpenSSL %ld bytes, wscrt %ld bytes, total %.1f KiB\n", what,
            fixture->version, idle->openssl, idle->wscrt, (double)(idle->openssl + idle->wscrt) / 1024.0);
    ASSERT_INT_EQ(0, s_close_cleanly(fixture));
    s_fixture_next_connection(fixture);
    return 0;
}

static int s_expect_idle_connection_small(struct wscrt_allocator *allocator, int max_version) {
    struct s_fixture fixture;
    ASSERT_INT_EQ(0, s_fixture_init(&fixture, allocator));
    struct s_server server;
    struct s_server_options server_options = s_echo_server(&fixture.pki.server);
    server_options.max_version = max_version;
    server_options.connections = 3;
    ASSERT_INT_EQ(0, s_start_with_test_ca(&fixture, NULL, &server, &server_options));

    /* A first connection warms OpenSSL's process-wide caches up; from then on the loop thread counts. Its
     * echo comes after the TLS 1.3 tickets, so its session is in the cache when it closes. */
    ASSERT_INT_EQ(0, s_connect_ok(&fixture, "localhost", server.port));
    ASSERT_INT_EQ(0, s_echo(&fixture, 1000, 100));
    ASSERT_TRUE(s_run_on_loop(fixture.loop, s_count_this_thread, NULL));
    ASSERT_INT_EQ(0, s_close_cleanly(&fixture));
    s_fixture_next_connection(&fixture);

    /* The cache holds the first connection's session: this one resumes it. */
    struct s_held resumed;
    ASSERT_INT_EQ(0, s_measure_idle(&fixture, server.port, "resumed", true, &resumed));

    /* A context that does not resume: a full handshake, the server's certificate parsed again. */
    struct wscrt_tls_ctx_options options;
    wscrt_tls_ctx_options_init_default_client(&options);
    options.session_resumption = false;
    struct wscrt_tls_ctx *resuming = fixture.ctx;
    fixture.ctx = s_ctx_trusting_test_ca(&fixture, &options);
    ASSERT_TRUE(fixture.ctx != NULL);
    struct s_held full;
    ASSERT_INT_EQ(0, s_measure_idle(&fixture, server.port, "full handshake", false, &full));
    wscrt_tls_ctx_release(resuming);

    s_server_stop(&server);
    if (max_version == TLS1_2_VERSION) {
        /* OpenSSL keeps TLS 1.2 connections. No record buffer (16 KiB plus overhead, each way) stays
         * allocated: about 18 KB with none (the SSL itself is 7.6 KB, the two AES-GCM contexts 2 KB, the
         * session and the peer's certificate most of the rest), 34 KB with the read buffer. A resumed
         * connection holds no more than a full one (it shares the cached session's certificate). */
        ASSERT_TRUE(full.openssl < 24 * 1024);
        ASSERT_TRUE(resumed.openssl <= full.openssl);
        ASSERT_TRUE(full.wscrt < 8 * 1024);
    } else {
        /* TLS 1.3 connections are handed over to our record layer (tls_records.h): no SSL, no cipher
         * context (the loop's serve every connection), only the records' state (keys, IVs, sequence
         * numbers). What OpenSSL counts besides is the session of a ticket that came after the one the
         * cache held (1.4 KB: the resumed connection's), which replaces it in the cache. */
        ASSERT_TRUE(full.openssl + full.wscrt < 3 * 1024);
        ASSERT_TRUE(resumed.openssl + resumed.wscrt < 5 * 1024);
    }
    ASSERT_INT_EQ(0, s_fixture_clean_up(&fixture));
    return 0;
}

static int s_test_tls13_idle_connection_holds_no_record_buffers(struct wscrt_allocator *allocator) {
    return s_expect_idle_connection_small(allocator, 0);
}

static int s_test_tls12_idle_connection_holds_no_record_buffers(struct wscrt_allocator *allocator) {
    return s_expect_idle_connection_small(allocator, TLS1_2_VERSION);
}

WSCRT_TEST_MAIN(s_test_tls13_idle_connection_holds_no_record_buffers,
                s_test_tls12_idle_connection_holds_no_record_buffers)
