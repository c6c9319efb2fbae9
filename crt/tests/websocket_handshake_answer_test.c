/*
 * The rules of RFC 6455 4.1 for what a 101 may select, end to end: a scripted
 * server answers the upgrade with exact headers; the setup fails with the
 * rule's named error (status and headers reported), or succeeds and exposes
 * the selected subprotocol. The rules one by one are in websocket_handshake_test.c.
 */
#include "websocket_fixture.h"

/* Accepts the upgrade and answers 101 with `extra` header lines ("Name: value\r\n"...). */
static int s_answer_101_with(struct fixture *f, const char *extra) {
    char key[64];
    ASSERT_SUCCESS(s_server_accept(&f->server, key, sizeof(key)));
    struct wscrt_byte_buf accept;
    wscrt_byte_buf_init(&accept, f->allocator, 64);
    wscrt_websocket_compute_accept(wscrt_byte_cursor_from_c_str(key), &accept);
    char response[512];
    int n = snprintf(response, sizeof(response),
                     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Accept: %.*s\r\n%s\r\n",
                     (int)accept.len, (const char *)accept.buffer, extra);
    wscrt_byte_buf_clean_up(&accept);
    ASSERT_SUCCESS(s_server_send(&f->server, response, (size_t)n));
    return 0;
}

/* Connects offering `subprotocols` (NULL = none), answers with `extra`, waits for the setup. */
static int s_setup_with(struct fixture *f, struct wscrt_allocator *allocator, const char *subprotocols,
                        const char *extra) {
    ASSERT_SUCCESS(s_fixture_init(f, allocator));
    f->subprotocols = subprotocols;
    ASSERT_SUCCESS(s_fixture_connect(f, false, 0));
    ASSERT_SUCCESS(s_answer_101_with(f, extra));
    ASSERT_TRUE(s_wait_for(&f->recorder, &f->recorder.setup_count, 1));
    return 0;
}

static int s_test_offered_subprotocol_selected_by_the_server_is_exposed(struct wscrt_allocator *allocator) {
    struct fixture f;
    ASSERT_SUCCESS(s_setup_with(&f, allocator, "chat, superchat", "Sec-WebSocket-Protocol: superchat\r\n"));
    ASSERT_INT_EQ(0, f.recorder.setup_error);
    ASSERT_TRUE(strcmp("superchat", wscrt_websocket_get_subprotocol(f.recorder.websocket)) == 0);
    return s_fixture_clean_up(&f);
}

static int s_test_no_subprotocol_selected_is_exposed_as_empty(struct wscrt_allocator *allocator) {
    struct fixture f;
    ASSERT_SUCCESS(s_setup_with(&f, allocator, "chat", ""));
    ASSERT_INT_EQ(0, f.recorder.setup_error);
    ASSERT_TRUE(strcmp("", wscrt_websocket_get_subprotocol(f.recorder.websocket)) == 0);
    return s_fixture_clean_up(&f);
}

static int s_expect_setup_failure(struct wscrt_allocator *allocator, const char *subprotocols, const char *extra,
                                  int expected_error) {
    struct fixture f;
    ASSERT_SUCCESS(s_setup_with(&f, allocator, subprotocols, extra));
    if (f.recorder.setup_error != expected_error) {
        WSCRT_FAIL_("setup ended with %s, expected %s", wscrt_error_name(f.recorder.setup_error),
                    wscrt_error_name(expected_error));
    }
    ASSERT_TRUE(f.recorder.websocket == NULL);
    ASSERT_INT_EQ(101, f.recorder.setup_status); /* the response that was refused is reported */
    return s_fixture_clean_up(&f);
}

static int s_test_subprotocol_not_offered_fails_the_setup(struct wscrt_allocator *allocator) {
    ASSERT_SUCCESS(s_expect_setup_failure(allocator, "chat, superchat", "Sec-WebSocket-Protocol: mqtt\r\n",
                                          WSCRT_ERROR_WEBSOCKET_UNEXPECTED_SUBPROTOCOL));
    ASSERT_SUCCESS(s_expect_setup_failure(allocator, NULL, "Sec-WebSocket-Protocol: chat\r\n",
                                          WSCRT_ERROR_WEBSOCKET_UNEXPECTED_SUBPROTOCOL));
    return 0;
}

static int s_test_more_than_one_subprotocol_fails_the_setup(struct wscrt_allocator *allocator) {
    ASSERT_SUCCESS(s_expect_setup_failure(allocator, "chat, superchat",
                                          "Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Protocol: superchat\r\n",
                                          WSCRT_ERROR_WEBSOCKET_MULTIPLE_SUBPROTOCOLS));
    return 0;
}

static int s_test_extension_not_offered_fails_the_setup(struct wscrt_allocator *allocator) {
    ASSERT_SUCCESS(s_expect_setup_failure(allocator, NULL,
                                          "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n",
                                          WSCRT_ERROR_WEBSOCKET_UNEXPECTED_EXTENSION));
    return 0;
}

WSCRT_TEST_MAIN(s_test_offered_subprotocol_selected_by_the_server_is_exposed,
                s_test_no_subprotocol_selected_is_exposed_as_empty,
                s_test_subprotocol_not_offered_fails_the_setup,
                s_test_more_than_one_subprotocol_fails_the_setup,
                s_test_extension_not_offered_fails_the_setup)
