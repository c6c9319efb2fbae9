/*
 * Tests for crt/io/tls_records.c and tls_records_capture.c: once a TLS 1.3
 * handshake is over, the handler frees OpenSSL's SSL and protects records
 * itself. Against the blocking OpenSSL server of tls_test_certs.h (real TLS,
 * certificates made at test time), every test first waits for the hand-over,
 * then checks what our record layer does: data both ways with each cipher
 * suite, KeyUpdate asked by the peer and our own at the key's limit, a forged
 * record, the peer's close_notify, a reader with a small window. TLS 1.2
 * stays with OpenSSL. Loopback only; every wait is bounded.
 */
#include "io/tls_handler_impl.h"
#include "io_tls_fixture.h"

/* How long the hand-over may take: the delay without a ticket, and then some. */
#define S_HAND_OVER_WAIT_MS (WSCRT_TLS_HAND_OVER_DELAY_MS + 4000)

struct s_probe {
    struct wscrt_channel *channel;
    bool handed_over;
    uint64_t records_per_key; /* set when not 0 */
};

static void s_probe_on_loop(void *arg) {
    struct s_probe *probe = arg;
    struct wscrt_tls_handler *handler = s_tls_handler_of(probe->channel)->impl;
    probe->handed_over = handler->ssl == NULL && handler->records != NULL;
    if (probe->handed_over && probe->records_per_key != 0) {
        handler->records->records_per_key = probe->records_per_key;
    }
}

static bool s_handed_over(struct s_fixture *fixture) {
    struct s_probe probe = {.channel = fixture->channel};
    return s_run_on_loop(fixture->loop, s_probe_on_loop, &probe) && probe.handed_over;
}

static int s_wait_handed_over(struct s_fixture *fixture) {
    uint64_t deadline = wscrt_clock_now_ns() + (uint64_t)S_HAND_OVER_WAIT_MS * WSCRT_NS_PER_MS;
    while (!s_handed_over(fixture)) {
        ASSERT_TRUE(wscrt_clock_now_ns() < deadline);
        s_sleep_ms(10);
    }
    return 0;
}

/* Connects to `server`, echoes a little (the server's tickets come first), waits for the hand-over. */
static int s_connect_and_hand_over(struct s_fixture *fixture, const struct s_server *server) {
    ASSERT_INT_EQ(0, s_connect_ok(fixture, "localhost", server->port));
    ASSERT_INT_EQ(0, strcmp("TLSv1.3", fixture->version));
    ASSERT_INT_EQ(0, s_echo(fixture, 1000, 100));
    ASSERT_INT_EQ(0, s_wait_handed_over(fixture));
    return 0;
}

static int s_expect_echo_after_hand_over(struct wscrt_allocator *allocator, const char *suite) {
    struct s_fixture fixture;
    ASSERT_INT_EQ(0, s_fixture_init(&fixture, allocator));
    struct s_server server;
    struct s_server_options server_options = s_echo_server(&fixture.pki.server);
    server_options.ciphersuites = suite;
    ASSERT_INT_EQ(0, s_start_with_test_ca(&fixture, NULL, &server, &server_options));

    ASSERT_INT_EQ(0, s_connect_and_hand_over(&fixture, &server));
    ASSERT_INT_EQ(0, s_echo(&fixture, 4u * 1024 * 1024, 1024 * 1024));
    ASSERT_INT_EQ(0, s_echo(&fixture, 100 * 1000, 10)); /* one small record each */
    ASSERT_INT_EQ(0, s_close_cleanly(&fixture));

    s_server_stop(&server);
    ASSERT_UINT_EQ(1000 + 4u * 1024 * 1024 + 100 * 1000, server.echoed);
    ASSERT_TRUE(server.got_close_notify); /* ours, sealed by our record layer, read by OpenSSL */
    ASSERT_INT_EQ(0, s_fixture_clean_up(&fixture));
    return 0;
}

static int s_test_tls13_records_after_hand_over_aes_128_gcm(struct wscrt_allocator *allocator) {
    return s_expect_echo_after_hand_over(allocator, "TLS_AES_128_GCM_SHA256");
}

static int s_test_tls13_records_after_hand_over_aes_256_gcm(struct wscrt_allocator *allocator) {
    return s_expect_echo_after_hand_over(allocator, "TLS_AES_256_GCM_SHA384");
}

static int s_test_tls13_records_after_hand_over_chacha20_poly1305(struct wscrt_allocator *allocator) {
    return s_expect_echo_after_hand_over(allocator, "TLS_CHACHA20_POLY1305_SHA256");
}

/* A server that sends no ticket: the cache would wait for one, so the hand-over comes after the delay. */
static int s_test_tls13_hand_over_without_ticket_after_the_delay(struct wscrt_allocator *allocator) {
    struct s_fixture fixture;
    ASSERT_INT_EQ(0, s_fixture_init(&fixture, allocator));
    struct s_server server;
    struct s_server_options server_options = s_echo_server(&fixture.pki.server);
    server_options.no_tls13_tickets = true;
    ASSERT_INT_EQ(0, s_start_with_test_ca(&fixture, NULL, &server, &server_options));

    uint64_t start = wscrt_clock_now_ns();
    ASSERT_INT_EQ(0, s_connect_ok(&fixture, "localhost", server.port));
    ASSERT_INT_EQ(0, s_echo(&fixture, 1000, 100));
    ASSERT_INT_EQ(0, s_wait_handed_over(&fixture));
    ASSERT_TRUE(wscrt_clock_now_ns() - start >= (uint64_t)WSCRT_TLS_HAND_OVER_DELAY_MS * WSCRT_NS_PER_MS);
    ASSERT_INT_EQ(0, s_echo(&fixture, 300 * 1000, 30 * 1000));
    ASSERT_INT_EQ(0, s_close_cleanly(&fixture));

    s_server_stop(&server);
    ASSERT_TRUE(server.got_close_notify);
    ASSERT_INT_EQ(0, s_fixture_clean_up(&fixture));
    return 0;
}

/* TLS 1.2 records stay with OpenSSL, past the delay too. */
static int s_test_tls12_stays_with_openssl(struct wscrt_allocator *allocator) {
    struct s_fixture fixture;
    ASSERT_INT_EQ(0, s_fixture_init(&fixture, allocator));
    struct s_server server;
    struct s_server_options server_options = s_echo_server(&fixture.pki.server);
    server_options.max_version = TLS1_2_VERSION;
    ASSERT_INT_EQ(0, s_start_with_test_ca(&fixture, NULL, &server, &server_options));

    ASSERT_INT_EQ(0, s_connect_ok(&fixture, "localhost", server.port));
    ASSERT_INT_EQ(0, strcmp("TLSv1.2", fixture.version));
    ASSERT_INT_EQ(0, s_echo(&fixture, 1000, 100));
    s_sleep_ms(WSCRT_TLS_HAND_OVER_DELAY_MS + 200);
    ASSERT_FALSE(s_handed_over(&fixture));
    ASSERT_INT_EQ(0, s_echo(&fixture, 100 * 1000, 10 * 1000));
    ASSERT_INT_EQ(0, s_close_cleanly(&fixture));

    s_server_stop(&server);
    ASSERT_TRUE(server.got_close_notify);
    ASSERT_INT_EQ(0, s_fixture_clean_up(&fixture));
    return 0;
}

/* The server asks for a KeyUpdate every 256 KiB: we take its new key and answer with ours each time. */
static int s_test_tls13_peer_key_update_is_followed_and_answered(struct wscrt_allocator *allocator) {
    struct s_fixture fixture;
    ASSERT_INT_EQ(0, s_fixture_init(&fixture, allocator));
    struct s_server server;
    struct s_server_options server_options = s_echo_server(&fixture.pki.server);
    server_options.key_update_every = 256 * 1024;
    ASSERT_INT_EQ(0, s_start_with_test_ca(&fixture, NULL, &server, &server_options));

    ASSERT_INT_EQ(0, s_connect_and_hand_over(&fixture, &server));
    ASSERT_INT_EQ(0, s_echo(&fixture, 4u * 1024 * 1024, 64 * 1024));
    ASSERT_INT_EQ(0, s_close_cleanly(&fixture));

    s_server_stop(&server);
    ASSERT_TRUE(server.got_close_notify);
    /* 16 asked for; the last may come after our close_notify, which ends our writing. */
    ASSERT_TRUE(server.key_updates_received >= 15);
    ASSERT_TRUE(server.key_updates_received <= 16);
    ASSERT_INT_EQ(0, s_fixture_clean_up(&fixture));
    return 0;
}

/* A KeyUpdate that OpenSSL took, before the hand-over (no ticket makes it wait): the secrets it reported are
 * stale, so OpenSSL keeps the connection. */
static int s_test_tls13_key_update_before_hand_over_keeps_openssl(struct wscrt_allocator *allocator) {
    struct s_fixture fixture;
    ASSERT_INT_EQ(0, s_fixture_init(&fixture, allocator));
    struct s_server server;
    struct s_server_options server_options = s_echo_server(&fixture.pki.server);
    server_options.no_tls13_tickets = true;
    server_options.key_update_at_start = true;
    ASSERT_INT_EQ(0, s_start_with_test_ca(&fixture, NULL, &server, &server_options));

    ASSERT_INT_EQ(0, s_connect_ok(&fixture, "localhost", server.port));
    ASSERT_INT_EQ(0, s_echo(&fixture, 1000, 100));
    s_sleep_ms(WSCRT_TLS_HAND_OVER_DELAY_MS + 200);
    ASSERT_FALSE(s_handed_over(&fixture));
    ASSERT_INT_EQ(0, s_echo(&fixture, 300 * 1000, 30 * 1000));
    ASSERT_INT_EQ(0, s_close_cleanly(&fixture));

    s_server_stop(&server);
    ASSERT_TRUE(server.got_close_notify);
    ASSERT_INT_EQ(1, server.key_updates_received);
    ASSERT_INT_EQ(0, s_fixture_clean_up(&fixture));
    return 0;
}

/* Our key is replaced before it has protected records_per_key records (lowered here to 16). */
static int s_test_tls13_own_key_update_at_the_key_limit(struct wscrt_allocator *allocator) {
    struct s_fixture fixture;
    ASSERT_INT_EQ(0, s_fixture_init(&fixture, allocator));
    struct s_server server;
    ASSERT_INT_EQ(0, s_start_with_test_ca(&fixture, NULL, &server, NULL));

    ASSERT_INT_EQ(0, s_connect_and_hand_over(&fixture, &server));
    struct s_probe probe = {.channel = fixture.channel, .records_per_key = 16};
    ASSERT_TRUE(s_run_on_loop(fixture.loop, s_probe_on_loop, &probe));
    ASSERT_TRUE(probe.handed_over);
    /* 160 records of 16 KiB: a KeyUpdate after every 15 of them. */
    ASSERT_INT_EQ(0, s_echo(&fixture, 160u * 16384, 16384));
    ASSERT_INT_EQ(0, s_close_cleanly(&fixture));

    s_server_stop(&server);
    ASSERT_TRUE(server.got_close_notify);
    ASSERT_TRUE(server.key_updates_received >= 10);
    ASSERT_INT_EQ(0, s_fixture_clean_up(&fixture));
    return 0;
}

/* A record that fails authentication ends the connection with a named error, once, and the session the
 * connection brought to the cache is not offered again (RFC 8446 6.2), though its SSL is long gone. */
static int s_test_tls13_forged_record_fails_the_connection(struct wscrt_allocator *allocator) {
    struct s_fixture fixture;
    ASSERT_INT_EQ(0, s_fixture_init(&fixture, allocator));
    struct s_server server;
    struct s_server_options server_options = s_echo_server(&fixture.pki.server);
    server_options.forge_after = 2000;
    ASSERT_INT_EQ(0, s_start_with_test_ca(&fixture, NULL, &server, &server_options));

    ASSERT_INT_EQ(0, s_connect_and_hand_over(&fixture, &server));
    ASSERT_UINT_EQ(1, wscrt_tls_ctx_session_count(fixture.ctx)); /* the server's ticket */
    ASSERT_INT_EQ(0, s_echo(&fixture, 1000, 100)); /* the forged record follows this echo */
    ASSERT_INT_EQ(0, s_shutdown_record_expect(&fixture.shutdown, WSCRT_ERROR_TLS_IO_FAILURE));
    s_sleep_ms(50);
    ASSERT_INT_EQ(1, fixture.shutdown.calls);
    ASSERT_UINT_EQ(0, wscrt_tls_ctx_session_count(fixture.ctx));

    s_server_stop(&server);
    ASSERT_FALSE(server.got_close_notify);
    ASSERT_INT_EQ(0, s_fixture_clean_up(&fixture));
    return 0;
}

/* After the hand-over, the peer's data then close_notify, to a reader whose window is nearly always full:
 * records larger than the window are held and handed out as it grows; nothing is lost. */
static int s_test_tls13_close_notify_after_data_for_slow_reader(struct wscrt_allocator *allocator) {
    struct s_fixture fixture;
    ASSERT_INT_EQ(0, s_fixture_init(&fixture, allocator));
    fixture.reader_window = 1000;
    fixture.reader_defers_increment = true;
    struct s_server server;
    struct s_server_options server_options = s_echo_server(&fixture.pki.server);
    server_options.close_after = 1000 + 300000;
    ASSERT_INT_EQ(0, s_start_with_test_ca(&fixture, NULL, &server, &server_options));

    ASSERT_INT_EQ(0, s_connect_and_hand_over(&fixture, &server));
    struct s_send_job job = {.fixture = &fixture, .total = 300000, .message_size = 30000};
    ASSERT_TRUE(s_run_on_loop(fixture.loop, s_send_on_loop, &job));
    ASSERT_INT_EQ(0, s_shutdown_record_expect(&fixture.shutdown, WSCRT_ERROR_IO_SOCKET_CLOSED));
    ASSERT_UINT_EQ(1000 + 300000, fixture.received);
    ASSERT_UINT_EQ(UINT64_MAX, fixture.corrupt_at);

    s_server_stop(&server);
    ASSERT_INT_EQ(0, s_fixture_clean_up(&fixture));
    return 0;
}

WSCRT_TEST_MAIN(s_test_tls13_records_after_hand_over_aes_128_gcm,
                s_test_tls13_records_after_hand_over_aes_256_gcm,
                s_test_tls13_records_after_hand_over_chacha20_poly1305,
                s_test_tls13_hand_over_without_ticket_after_the_delay,
                s_test_tls12_stays_with_openssl,
                s_test_tls13_peer_key_update_is_followed_and_answered,
                s_test_tls13_key_update_before_hand_over_keeps_openssl,
                s_test_tls13_own_key_update_at_the_key_limit,
                s_test_tls13_forged_record_fails_the_connection,
                s_test_tls13_close_notify_after_data_for_slow_reader)
