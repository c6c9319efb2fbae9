/*
 * Tests for TLS session resumption (crt/io/tls_session_cache.c and its wiring
 * in crt/io/tls_context.c and crt/io/tls_handler.c): the client session cache
 * of a context, against the blocking OpenSSL server of tls_test_certs.h, whose
 * own view (SSL_session_reused) says whether the client really offered a
 * session it could accept. Servers that must not resume share one SSL_CTX
 * (one session cache, one set of ticket keys), so a wrongly offered session
 * would be accepted and seen. Loopback only; every wait is bounded.
 */
#include "io_tls_fixture.h"

/* What the client's handshake must have been, as it saw it. */
enum s_handshake { S_FULL_HANDSHAKE, S_RESUMED };

/* Connects to host:port, echoes a little (the TLS 1.3 tickets arrive before the echo), closes cleanly
 * and then checks that the handshake was the `expected` one. */
static int s_round_trip(struct s_fixture *fixture, const char *host, uint16_t port, enum s_handshake expected) {
    ASSERT_INT_EQ(0, s_connect_ok(fixture, host, port));
    ASSERT_INT_EQ(0, s_echo(fixture, 1000, 100));
    bool resumed = fixture->resumed;
    ASSERT_INT_EQ(0, s_close_cleanly(fixture));
    s_fixture_next_connection(fixture);
    ASSERT_INT_EQ(expected == S_RESUMED, resumed);
    return 0;
}

/* Two connections to one server, the second resuming the first's session, seen by both sides. */
static int s_expect_second_connection_resumes(struct wscrt_allocator *allocator, int max_version, bool no_tickets,
                                              bool manual_tls, const char *expected_version) {
    struct s_fixture fixture;
    ASSERT_INT_EQ(0, s_fixture_init(&fixture, allocator));
    fixture.manual_tls = manual_tls;
    struct s_server server;
    struct s_server_options server_options = s_echo_server(&fixture.pki.server);
    server_options.max_version = max_version;
    server_options.no_tickets = no_tickets;
    server_options.connections = 2;
    ASSERT_INT_EQ(0, s_start_with_test_ca(&fixture, NULL, &server, &server_options));

    ASSERT_INT_EQ(0, s_round_trip(&fixture, "localhost", server.port, S_FULL_HANDSHAKE));
    ASSERT_UINT_EQ(1, wscrt_tls_ctx_session_count(fixture.ctx));
    ASSERT_INT_EQ(0, s_connect_ok(&fixture, "localhost", server.port));
    ASSERT_TRUE(fixture.resumed);
    ASSERT_TRUE(strcmp(expected_version, fixture.version) == 0);
    ASSERT_INT_EQ(0, s_echo(&fixture, 64 * 1024, 1000));
    ASSERT_INT_EQ(0, s_close_cleanly(&fixture));

    s_server_stop(&server);
    ASSERT_INT_EQ(2, server.handshakes_ok);
    ASSERT_INT_EQ(1, server.handshakes_resumed);
    ASSERT_TRUE(strcmp(expected_version, server.version) == 0);
    ASSERT_INT_EQ(0, s_fixture_clean_up(&fixture));
    return 0;
}

static int s_test_tls13_second_connection_resumes_with_a_ticket(struct wscrt_allocator *allocator) {
    return s_expect_second_connection_resumes(allocator, 0, false, false, "TLSv1.3");
}

static int s_test_tls12_second_connection_resumes_with_a_ticket(struct wscrt_allocator *allocator) {
    return s_expect_second_connection_resumes(allocator, TLS1_2_VERSION, false, false, "TLSv1.2");
}

static int s_test_tls12_second_connection_resumes_with_a_session_id(struct wscrt_allocator *allocator) {
    return s_expect_second_connection_resumes(allocator, TLS1_2_VERSION, true, false, "TLSv1.2");
}

/* The handler added by hand (not by the bootstrap) resumes with the host and port of its options. */
static int s_test_tls_handler_alone_resumes_with_host_and_port(struct wscrt_allocator *allocator) {
    return s_expect_second_connection_resumes(allocator, 0, false, true, "TLSv1.3");
}

/* Turned off, the context keeps nothing and offers nothing: both handshakes are full. */
static int s_expect_no_resumption_when_off(struct wscrt_allocator *allocator, int max_version) {
    struct s_fixture fixture;
    ASSERT_INT_EQ(0, s_fixture_init(&fixture, allocator));
    struct wscrt_tls_ctx_options ctx_options;
    wscrt_tls_ctx_options_init_default_client(&ctx_options);
    ASSERT_TRUE(ctx_options.session_resumption); /* the default */
    ctx_options.session_resumption = false;
    struct s_server server;
    struct s_server_options server_options = s_echo_server(&fixture.pki.server);
    server_options.max_version = max_version;
    server_options.connections = 2;
    ASSERT_INT_EQ(0, s_start_with_test_ca(&fixture, &ctx_options, &server, &server_options));

    for (int i = 0; i < 2; ++i) {
        ASSERT_INT_EQ(0, s_round_trip(&fixture, "localhost", server.port, S_FULL_HANDSHAKE));
        ASSERT_UINT_EQ(0, wscrt_tls_ctx_session_count(fixture.ctx));
    }
    s_server_stop(&server);
    ASSERT_INT_EQ(2, server.handshakes_ok);
    ASSERT_INT_EQ(0, server.handshakes_resumed);
    ASSERT_INT_EQ(0, s_fixture_clean_up(&fixture));
    return 0;
}

static int s_test_tls_no_resumption_when_turned_off(struct wscrt_allocator *allocator) {
    return s_expect_no_resumption_when_off(allocator, 0) + s_expect_no_resumption_when_off(allocator, TLS1_2_VERSION);
}

/*
 * Two listening ports served by one SSL_CTX: a session made with port A is not
 * offered to port B (which would accept it), and port A still resumes.
 */
static int s_test_tls_session_never_crosses_to_another_port(struct wscrt_allocator *allocator) {
    struct s_fixture fixture;
    ASSERT_INT_EQ(0, s_fixture_init(&fixture, allocator));
    struct s_server server_a;
    struct s_server_options options_a = s_echo_server(&fixture.pki.server);
    options_a.connections = 2;
    ASSERT_INT_EQ(0, s_start_with_test_ca(&fixture, NULL, &server_a, &options_a));
    struct s_server server_b;
    struct s_server_options options_b = s_echo_server(&fixture.pki.server);
    options_b.share_ctx_with = &server_a;
    ASSERT_TRUE(s_server_start(&server_b, &options_b));

    ASSERT_INT_EQ(0, s_round_trip(&fixture, "localhost", server_a.port, S_FULL_HANDSHAKE));
    ASSERT_INT_EQ(0, s_round_trip(&fixture, "localhost", server_b.port, S_FULL_HANDSHAKE));
    ASSERT_UINT_EQ(2, wscrt_tls_ctx_session_count(fixture.ctx));
    ASSERT_INT_EQ(0, s_round_trip(&fixture, "localhost", server_a.port, S_RESUMED));

    s_server_stop(&server_a);
    s_server_stop(&server_b);
    ASSERT_INT_EQ(1, server_a.handshakes_resumed);
    ASSERT_INT_EQ(0, server_b.handshakes_resumed);
    ASSERT_INT_EQ(0, s_fixture_clean_up(&fixture));
    return 0;
}

/*
 * One port, two names (the certificate holds both): a session made for
 * "localhost" is not offered to "127.0.0.1" (checked against other names, sent
 * without SNI), nor the other way round, each name resuming its own.
 */
static int s_test_tls_session_never_crosses_to_another_server_name(struct wscrt_allocator *allocator) {
    struct s_fixture fixture;
    ASSERT_INT_EQ(0, s_fixture_init(&fixture, allocator));
    struct s_server server;
    struct s_server_options server_options = s_echo_server(&fixture.pki.server);
    server_options.connections = 4;
    ASSERT_INT_EQ(0, s_start_with_test_ca(&fixture, NULL, &server, &server_options));

    ASSERT_INT_EQ(0, s_round_trip(&fixture, "localhost", server.port, S_FULL_HANDSHAKE));
    ASSERT_INT_EQ(0, s_round_trip(&fixture, "127.0.0.1", server.port, S_FULL_HANDSHAKE));
    ASSERT_INT_EQ(0, s_round_trip(&fixture, "127.0.0.1", server.port, S_RESUMED));
    ASSERT_INT_EQ(0, s_round_trip(&fixture, "localhost", server.port, S_RESUMED));

    s_server_stop(&server);
    ASSERT_INT_EQ(4, server.handshakes_ok);
    ASSERT_INT_EQ(2, server.handshakes_resumed);
    ASSERT_INT_EQ(0, s_fixture_clean_up(&fixture));
    return 0;
}

/*
 * A cache of two peers: a third evicts the least recently used one, which
 * then makes a full handshake, while the others still resume.
 */
static int s_test_tls_session_cache_keeps_the_most_recent_peers(struct wscrt_allocator *allocator) {
    struct s_fixture fixture;
    ASSERT_INT_EQ(0, s_fixture_init(&fixture, allocator));
    struct wscrt_tls_ctx_options ctx_options;
    wscrt_tls_ctx_options_init_default_client(&ctx_options);
    ctx_options.session_cache_size = 2;
    struct s_server servers[3];
    struct s_server_options options = s_echo_server(&fixture.pki.server);
    options.connections = 2;
    ASSERT_INT_EQ(0, s_start_with_test_ca(&fixture, &ctx_options, &servers[0], &options));
    options.share_ctx_with = &servers[0];
    ASSERT_TRUE(s_server_start(&servers[1], &options));
    ASSERT_TRUE(s_server_start(&servers[2], &options));

    for (int i = 0; i < 3; ++i) {
        ASSERT_INT_EQ(0, s_round_trip(&fixture, "localhost", servers[i].port, S_FULL_HANDSHAKE));
        ASSERT_UINT_EQ(i < 2 ? i + 1 : 2, wscrt_tls_ctx_session_count(fixture.ctx));
    }
    /* Server 0's session went when server 2's arrived. */
    ASSERT_INT_EQ(0, s_round_trip(&fixture, "localhost", servers[2].port, S_RESUMED));
    ASSERT_INT_EQ(0, s_round_trip(&fixture, "localhost", servers[0].port, S_FULL_HANDSHAKE));
    /* Server 0's new session evicted server 1's (used least recently), not server 2's. */
    ASSERT_INT_EQ(0, s_round_trip(&fixture, "localhost", servers[1].port, S_FULL_HANDSHAKE));
    ASSERT_UINT_EQ(2, wscrt_tls_ctx_session_count(fixture.ctx));

    for (int i = 0; i < 3; ++i) {
        s_server_stop(&servers[i]);
    }
    ASSERT_INT_EQ(1, servers[2].handshakes_resumed);
    ASSERT_INT_EQ(0, servers[0].handshakes_resumed + servers[1].handshakes_resumed);
    ASSERT_INT_EQ(0, s_fixture_clean_up(&fixture));
    return 0;
}

/* A handshake that fails verification stores nothing, so nothing can skip that check later. */
static int s_test_tls_failed_handshake_stores_no_session(struct wscrt_allocator *allocator) {
    struct s_fixture fixture;
    ASSERT_INT_EQ(0, s_fixture_init(&fixture, allocator));
    struct s_server server;
    struct s_server_options server_options = s_echo_server(&fixture.pki.wrong_name);
    server_options.max_version = TLS1_2_VERSION; /* the session would be complete at the client's Finished */
    ASSERT_INT_EQ(0, s_start_with_test_ca(&fixture, NULL, &server, &server_options));

    ASSERT_INT_EQ(0, s_connect_fails(&fixture, "localhost", server.port, WSCRT_ERROR_TLS_CERT_HOSTNAME_MISMATCH));
    ASSERT_UINT_EQ(0, wscrt_tls_ctx_session_count(fixture.ctx));

    s_server_stop(&server);
    ASSERT_INT_EQ(0, s_fixture_clean_up(&fixture));
    return 0;
}

static int s_test_tls_session_cache_size_is_bounded(struct wscrt_allocator *allocator) {
    struct s_test_pki pki;
    ASSERT_TRUE(s_pki_init(&pki));
    struct wscrt_tls_ctx_options options;
    wscrt_tls_ctx_options_init_default_client(&options);
    options.ca_pem = pki.ca.cert_pem;
    options.session_cache_size = 65537;
    ASSERT_TRUE(wscrt_tls_ctx_new_client(allocator, &options) == NULL);
    ASSERT_INT_EQ(WSCRT_ERROR_INVALID_ARGUMENT, wscrt_last_error());
    options.session_cache_size = 65536;
    struct wscrt_tls_ctx *ctx = wscrt_tls_ctx_new_client(allocator, &options);
    ASSERT_TRUE(ctx != NULL);
    ASSERT_UINT_EQ(0, wscrt_tls_ctx_session_count(ctx));
    wscrt_tls_ctx_release(ctx);
    s_pki_clean_up(&pki);
    return 0;
}

WSCRT_TEST_MAIN(s_test_tls13_second_connection_resumes_with_a_ticket,
                s_test_tls12_second_connection_resumes_with_a_ticket,
                s_test_tls12_second_connection_resumes_with_a_session_id,
                s_test_tls_handler_alone_resumes_with_host_and_port,
                s_test_tls_no_resumption_when_turned_off,
                s_test_tls_session_never_crosses_to_another_port,
                s_test_tls_session_never_crosses_to_another_server_name,
                s_test_tls_session_cache_keeps_the_most_recent_peers,
                s_test_tls_failed_handshake_stores_no_session,
                s_test_tls_session_cache_size_is_bounded)
