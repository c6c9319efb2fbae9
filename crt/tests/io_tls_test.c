/*
 * Tests for crt/io/tls_context.c, crt/io/tls_handler.c and the TLS option of
 * crt/io/client_bootstrap.c: a real channel against a blocking OpenSSL server on
 * a thread, with certificates made at test time (io_tls_fixture.h). Most tests
 * let the bootstrap add the TLS handler (tls_options); some add it themselves on
 * a plain channel (manual_tls) to drive the handler's own API. Each handshake
 * outcome (trust, names, versions, client certificates, peer faults) is a row of
 * s_handshakes. Loopback only; every wait is bounded.
 */
#include "io_tls_fixture.h"

/* ---- tests: data ----------------------------------------------------------- */

static int s_test_tls_echo_16mib_intact_and_close_notify_sent(struct wscrt_allocator *allocator) {
    struct s_fixture fixture;
    ASSERT_INT_EQ(0, s_fixture_init(&fixture, allocator));
    struct s_server server;
    ASSERT_INT_EQ(0, s_start_with_test_ca(&fixture, NULL, &server, NULL));

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
    struct s_server server;
    ASSERT_INT_EQ(0, s_start_with_test_ca(&fixture, NULL, &server, NULL));

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
    struct s_server server;
    ASSERT_INT_EQ(0, s_start_with_test_ca(&fixture, NULL, &server, NULL));

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
    struct s_server server;
    struct s_server_options server_options = s_echo_server(&fixture.pki.server);
    server_options.close_after = 300000;
    ASSERT_INT_EQ(0, s_start_with_test_ca(&fixture, NULL, &server, &server_options));

    ASSERT_INT_EQ(0, s_connect_ok(&fixture, "localhost", server.port));
    struct s_send_job job = {.fixture = &fixture, .total = 300000, .message_size = 30000};
    ASSERT_TRUE(s_run_on_loop(fixture.loop, s_send_on_loop, &job));
    ASSERT_INT_EQ(0, s_shutdown_record_expect(&fixture.shutdown, WSCRT_ERROR_IO_SOCKET_CLOSED));
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


/* ---- tests: one handshake each (trust, names, versions, client certificates, faults) ---- */

enum s_identity { S_SERVER_CERT, S_EXPIRED_CERT, S_WRONG_NAME_CERT, S_SELF_SIGNED_CERT };

struct s_handshake_case {
    const char *name;
    /* the client */
    const char *host;        /* connect to */
    const char *server_name; /* NULL: the host */
    bool manual_tls;         /* add the TLS handler by hand instead of through the bootstrap */
    bool system_trust;       /* the default trust store instead of the test CA */
    bool no_verify;          /* verify_peer = false */
    bool client_cert;        /* present the test client's certificate (PEM) */
    enum wscrt_tls_version min_version;
    enum wscrt_tls_version max_version;
    /* the server */
    enum s_identity identity;
    int server_max_version; /* 0: OpenSSL's highest */
    bool require_client_cert;
    bool close_at_once;
    /* the outcome */
    int error;                  /* 0: the handshake succeeds, then an echo and a clean close */
    bool error_after_handshake; /* TLS 1.3 client certificate refusal: the handshake may have succeeded first */
    const char *version;        /* negotiated on both sides, when not NULL */
    uint64_t echo_bytes;        /* after a successful handshake (0: 1000) */
    size_t echo_message_size;   /* (0: 1000) */
};

static const struct s_handshake_case s_handshakes[] = {
    {"unknown CA rejected with the default trust store", "localhost", "localhost", .system_trust = true,
     .error = WSCRT_ERROR_TLS_CERT_UNKNOWN_CA},
    {"expired certificate rejected", "localhost", "localhost", .identity = S_EXPIRED_CERT,
     .error = WSCRT_ERROR_TLS_CERT_EXPIRED},
    {"wrong host name rejected", "localhost", "localhost", .identity = S_WRONG_NAME_CERT,
     .error = WSCRT_ERROR_TLS_CERT_HOSTNAME_MISMATCH},
    {"self-signed certificate rejected", "localhost", "localhost", .system_trust = true,
     .identity = S_SELF_SIGNED_CERT, .error = WSCRT_ERROR_TLS_CERT_SELF_SIGNED},
    {"an IP address is checked against the IP SAN, not a DNS name", "127.0.0.1", "127.0.0.1", .manual_tls = true},
    {"verify_peer false accepts an unknown CA and any name", "localhost", "not.the.right.name", .system_trust = true,
     .no_verify = true, .identity = S_SELF_SIGNED_CERT},
    {"TLS 1.2 forced on the client negotiates TLS 1.2", "localhost", .min_version = WSCRT_TLS_VERSION_1_2,
     .max_version = WSCRT_TLS_VERSION_1_2, .version = "TLSv1.2", .echo_bytes = 100000, .echo_message_size = 10000},
    {"TLS 1.3 forced on the client negotiates TLS 1.3", "localhost", .min_version = WSCRT_TLS_VERSION_1_3,
     .version = "TLSv1.3", .echo_bytes = 100000, .echo_message_size = 10000},
    {"a TLS 1.3 minimum against a TLS 1.2 server fails with PROTOCOL_VERSION", "localhost",
     .min_version = WSCRT_TLS_VERSION_1_3, .server_max_version = TLS1_2_VERSION,
     .error = WSCRT_ERROR_TLS_PROTOCOL_VERSION},
    {"mTLS with a client certificate from PEM (TLS 1.2)", "localhost", .client_cert = true,
     .server_max_version = TLS1_2_VERSION, .require_client_cert = true, .version = "TLSv1.2", .echo_bytes = 50000,
     .echo_message_size = 5000},
    {"TLS 1.2 mTLS without a client certificate fails inside the handshake, named", "localhost",
     .server_max_version = TLS1_2_VERSION, .require_client_cert = true, .error = WSCRT_ERROR_TLS_CLIENT_CERT_REQUIRED},
    /* TLS 1.3: the client has finished its handshake when the server's certificate_required alert
     * arrives; it ends the channel with that name. */
    {"TLS 1.3 mTLS without a client certificate ends the channel, named", "localhost", .require_client_cert = true,
     .error = WSCRT_ERROR_TLS_CLIENT_CERT_REQUIRED, .error_after_handshake = true},
    {"the peer closing during the handshake is named", "localhost", .close_at_once = true,
     .error = WSCRT_ERROR_TLS_PEER_CLOSED_DURING_HANDSHAKE},
    {"the handler alone reports the peer closing during the handshake", "localhost", .manual_tls = true,
     .close_at_once = true, .error = WSCRT_ERROR_TLS_PEER_CLOSED_DURING_HANDSHAKE},
};

static const struct s_test_identity *s_identity_of(struct s_test_pki *pki, enum s_identity identity) {
    switch (identity) {
        case S_EXPIRED_CERT:
            return &pki->expired;
        case S_WRONG_NAME_CERT:
            return &pki->wrong_name;
        case S_SELF_SIGNED_CERT:
            return &pki->self_signed;
        case S_SERVER_CERT:
            break;
    }
    return &pki->server;
}

static int s_handshake_outcome(struct s_fixture *fixture, const struct s_handshake_case *c, uint16_t port) {
    if (c->error_after_handshake) {
        ASSERT_INT_EQ(0, s_connect(fixture, c->host, port));
        ASSERT_TRUE(fixture->result_error == 0 || fixture->result_error == c->error);
        ASSERT_INT_EQ(0, s_shutdown_record_expect(&fixture->shutdown, c->error));
    } else if (c->error) {
        ASSERT_INT_EQ(0, s_connect_fails(fixture, c->host, port, c->error));
    } else {
        ASSERT_INT_EQ(0, s_connect_ok(fixture, c->host, port));
        ASSERT_TRUE(c->version == NULL || strcmp(c->version, fixture->version) == 0);
        ASSERT_INT_EQ(0, s_echo(fixture, c->echo_bytes ? c->echo_bytes : 1000,
                                c->echo_message_size ? c->echo_message_size : 1000));
        ASSERT_INT_EQ(0, s_close_cleanly(fixture));
    }
    return 0;
}

static int s_check_handshake(struct wscrt_allocator *allocator, const struct s_handshake_case *c) {
    struct s_fixture fixture;
    ASSERT_INT_EQ(0, s_fixture_init(&fixture, allocator));
    fixture.manual_tls = c->manual_tls;
    fixture.tls_options.server_name = c->server_name;
    struct wscrt_tls_ctx_options ctx_options;
    wscrt_tls_ctx_options_init_default_client(&ctx_options);
    ctx_options.verify_peer = !c->no_verify;
    ctx_options.minimum_version = c->min_version;
    ctx_options.maximum_version = c->max_version;
    if (c->client_cert) {
        ctx_options.cert_pem = fixture.pki.client.cert_pem;
        ctx_options.key_pem = fixture.pki.client.key_pem;
    }
    fixture.ctx = c->system_trust ? wscrt_tls_ctx_new_client(allocator, &ctx_options)
                                  : s_ctx_trusting_test_ca(&fixture, &ctx_options);
    if (fixture.ctx == NULL && c->system_trust && wscrt_last_error() == WSCRT_ERROR_TLS_NO_TRUST_STORE) {
        fprintf(stderr, "  SKIPPED: this machine has no system CA bundle\n");
        ASSERT_INT_EQ(0, s_fixture_clean_up(&fixture));
        return 0;
    }
    ASSERT_TRUE(fixture.ctx != NULL);
    struct s_server server;
    struct s_server_options server_options = s_echo_server(s_identity_of(&fixture.pki, c->identity));
    server_options.max_version = c->server_max_version;
    server_options.client_ca = c->require_client_cert ? &fixture.pki.ca : NULL;
    server_options.mode = c->close_at_once ? S_SERVER_CLOSE_AT_ONCE : S_SERVER_ECHO;
    ASSERT_TRUE(s_server_start(&server, &server_options));

    int failed = s_handshake_outcome(&fixture, c, server.port);

    s_server_stop(&server);
    if (!failed && c->error) {
        ASSERT_INT_EQ(0, server.handshakes_ok);
        if (c->require_client_cert) {
            ASSERT_INT_EQ(1, server.handshakes_failed);
        }
    } else if (!failed) {
        ASSERT_TRUE(c->version == NULL || strcmp(c->version, server.version) == 0);
        ASSERT_TRUE(!c->client_cert || strcmp("wscrt test client", server.client_cn) == 0);
    }
    ASSERT_INT_EQ(0, s_fixture_clean_up(&fixture));
    return failed;
}

static int s_test_tls_each_handshake_ends_as_its_row_says(struct wscrt_allocator *allocator) {
    int failures = 0;
    for (size_t i = 0; i < sizeof(s_handshakes) / sizeof(s_handshakes[0]); ++i) {
        failures += WSCRT_CASE(s_handshakes[i].name, s_check_handshake(allocator, &s_handshakes[i]));
    }
    return failures;
}

/* ---- tests: ALPN, client certificates from files, handshake timeouts ---- */

static int s_test_tls_alpn_negotiated_and_overridable(struct wscrt_allocator *allocator) {
    struct s_fixture fixture;
    ASSERT_INT_EQ(0, s_fixture_init(&fixture, allocator));
    struct wscrt_tls_ctx_options ctx_options;
    wscrt_tls_ctx_options_init_default_client(&ctx_options);
    ctx_options.alpn_list = "h2;http/1.1";
    struct s_server server;
    struct s_server_options server_options = s_echo_server(&fixture.pki.server);
    server_options.alpn_select = "http/1.1";
    server_options.connections = 2;
    ASSERT_INT_EQ(0, s_start_with_test_ca(&fixture, &ctx_options, &server, &server_options));

    ASSERT_INT_EQ(0, s_connect_ok(&fixture, "localhost", server.port));
    ASSERT_TRUE(strcmp("http/1.1", fixture.protocol) == 0);
    ASSERT_INT_EQ(0, s_close_cleanly(&fixture));

    /* The connection's own list replaces the context's: nothing in common. */
    s_waiter_add(&fixture.result_waiter, -1);
    s_waiter_add(&fixture.shutdown.waiter, -1);
    fixture.negotiation_calls = 0;
    fixture.shutdown.calls = 0;
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
        ASSERT_INT_EQ(WSCRT_ERROR_TLS_HANDSHAKE_TIMEOUT, fixture.shutdown.error);
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

WSCRT_TEST_MAIN(s_test_tls_echo_16mib_intact_and_close_notify_sent,
                s_test_tls_small_read_window_holds_back_and_resumes,
                s_test_tls_small_and_empty_messages_complete,
                s_test_tls_peer_close_notify_ends_channel_after_data,
                s_test_tls_peer_close_notify_after_data_for_slow_reader,
                s_test_tls_each_handshake_ends_as_its_row_says,
                s_test_tls_alpn_negotiated_and_overridable,
                s_test_tls_mtls_with_client_certificate,
                s_test_tls_handshake_times_out,
                s_test_tls_handler_alone_times_out,
                s_test_tls_ctx_without_trust_store_names_the_failure,
                s_test_tls_ctx_rejects_bad_options,
                s_test_tls_alpn_list_wire_format)
