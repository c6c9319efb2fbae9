/* Opening handshake, client side (RFC 6455 section 4). */
#include "common/allocator.h"
#include "common/byte_buf.h"
#include "common/crypto.h"
#include "common/error.h"
#include "http/http_request.h"
#include "http/http_response_parser.h"
#include "http/websocket_handshake.h"
#include "test_harness.h"

#define EXPECT(call) ASSERT_INT_EQ(0, (call))

/* RFC 6455 section 1.3 sample nonce and its answer. */
#define S_RFC_KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define S_RFC_ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

static struct wscrt_byte_cursor s_c(const char *text) {
    return wscrt_byte_cursor_from_c_str(text);
}

static int s_test_accept_matches_rfc_example(struct wscrt_allocator *allocator) {
    struct wscrt_byte_buf out;
    ASSERT_SUCCESS(wscrt_byte_buf_init(&out, allocator, 4));
    wscrt_byte_buf_append_dynamic(&out, s_c(">"));
    ASSERT_SUCCESS(wscrt_websocket_compute_accept(s_c(S_RFC_KEY), &out));
    ASSERT_BYTES_EQ(">" S_RFC_ACCEPT, 29, out.buffer, out.len);
    wscrt_byte_buf_clean_up(&out);
    return 0;
}

static int s_test_generated_keys_are_base64_of_16_random_bytes(struct wscrt_allocator *allocator) {
    struct wscrt_byte_buf first;
    struct wscrt_byte_buf second;
    struct wscrt_byte_buf decoded;
    wscrt_byte_buf_init(&first, allocator, 0);
    wscrt_byte_buf_init(&second, allocator, 0);
    wscrt_byte_buf_init(&decoded, allocator, 0);
    ASSERT_SUCCESS(wscrt_websocket_generate_key(&first));
    ASSERT_SUCCESS(wscrt_websocket_generate_key(&second));
    ASSERT_UINT_EQ(24, first.len);
    ASSERT_UINT_EQ(24, second.len);
    ASSERT_SUCCESS(wscrt_base64_decode(wscrt_byte_cursor_from_buf(&first), &decoded));
    ASSERT_UINT_EQ(16, decoded.len);
    /* 128 random bits: equal keys mean the generator is broken. */
    ASSERT_FALSE(wscrt_byte_cursor_eq(wscrt_byte_cursor_from_buf(&first), wscrt_byte_cursor_from_buf(&second)));
    wscrt_byte_buf_clean_up(&first);
    wscrt_byte_buf_clean_up(&second);
    wscrt_byte_buf_clean_up(&decoded);
    return 0;
}

/* ---- the request ---- */

static int s_test_handshake_request_has_the_five_headers(struct wscrt_allocator *allocator) {
    struct wscrt_http_request *request =
        wscrt_websocket_handshake_request_new(allocator, s_c("example.com:9000"), s_c("/chat?x=1"));
    ASSERT_TRUE(request != NULL);
    struct wscrt_byte_cursor key;
    ASSERT_TRUE(wscrt_http_request_find_header(request, "Sec-WebSocket-Key", &key));
    ASSERT_UINT_EQ(24, key.len);

    struct wscrt_byte_buf expected;
    wscrt_byte_buf_init(&expected, allocator, 256);
    wscrt_byte_buf_append_dynamic(&expected, s_c("GET /chat?x=1 HTTP/1.1\r\n"
                                                 "Host: example.com:9000\r\n"
                                                 "Upgrade: websocket\r\n"
                                                 "Connection: Upgrade\r\n"
                                                 "Sec-WebSocket-Key: "));
    wscrt_byte_buf_append_dynamic(&expected, key);
    wscrt_byte_buf_append_dynamic(&expected, s_c("\r\nSec-WebSocket-Version: 13\r\n\r\n"));
    struct wscrt_byte_buf encoded;
    wscrt_byte_buf_init(&encoded, allocator, 0);
    int result = wscrt_http_request_encode(request, &encoded);
    int same = wscrt_byte_cursor_eq(wscrt_byte_cursor_from_buf(&expected), wscrt_byte_cursor_from_buf(&encoded));
    int valid = wscrt_websocket_validate_handshake_request(request);
    wscrt_byte_buf_clean_up(&expected);
    wscrt_byte_buf_clean_up(&encoded);
    wscrt_http_request_destroy(request);
    ASSERT_INT_EQ(WSCRT_OP_SUCCESS, result);
    ASSERT_TRUE(same);
    ASSERT_INT_EQ(WSCRT_OP_SUCCESS, valid);
    return 0;
}

static int s_test_each_handshake_request_gets_a_new_key(struct wscrt_allocator *allocator) {
    struct wscrt_http_request *a = wscrt_websocket_handshake_request_new(allocator, s_c("h"), s_c("/"));
    struct wscrt_http_request *b = wscrt_websocket_handshake_request_new(allocator, s_c("h"), s_c("/"));
    struct wscrt_byte_cursor key_a;
    struct wscrt_byte_cursor key_b;
    wscrt_http_request_find_header(a, "Sec-WebSocket-Key", &key_a);
    wscrt_http_request_find_header(b, "Sec-WebSocket-Key", &key_b);
    bool same = wscrt_byte_cursor_eq(key_a, key_b);
    wscrt_http_request_destroy(a);
    wscrt_http_request_destroy(b);
    ASSERT_FALSE(same);
    return 0;
}

struct s_request_spec {
    const char *method;
    const char *headers[8][2];
};

static struct wscrt_http_request *s_build_request(struct wscrt_allocator *allocator,
                                                  const struct s_request_spec *spec) {
    struct wscrt_http_request *request = wscrt_http_request_new(allocator);
    wscrt_http_request_set_method(request, s_c(spec->method));
    wscrt_http_request_set_path(request, s_c("/"));
    for (size_t i = 0; i < 8 && spec->headers[i][0]; ++i) {
        struct wscrt_http_header header = {.name = s_c(spec->headers[i][0]), .value = s_c(spec->headers[i][1])};
        wscrt_http_request_add_header(request, header);
    }
    return request;
}

static int s_check_request(struct wscrt_allocator *allocator, const struct s_request_spec *spec, bool valid) {
    struct wscrt_http_request *request = s_build_request(allocator, spec);
    wscrt_reset_error();
    int result = wscrt_websocket_validate_handshake_request(request);
    int error = wscrt_last_error();
    wscrt_http_request_destroy(request);
    if (valid) {
        ASSERT_INT_EQ(WSCRT_OP_SUCCESS, result);
    } else {
        ASSERT_INT_EQ(WSCRT_OP_ERR, result);
        ASSERT_INT_EQ(WSCRT_ERROR_HTTP_INVALID_REQUEST, error);
    }
    return 0;
}

#define S_GOOD_HEADERS                                                                                                 \
    {"Host", "h"}, {"Upgrade", "websocket"}, {"Connection", "Upgrade"}, {"Sec-WebSocket-Key", S_RFC_KEY},               \
    {                                                                                                                  \
        "Sec-WebSocket-Version", "13"                                                                                  \
    }

static int s_test_request_validation_accepts_equivalent_spellings(struct wscrt_allocator *allocator) {
    const struct s_request_spec specs[] = {
        {"GET", {S_GOOD_HEADERS}},
        {"GET",
         {{"host", "h"},
          {"UPGRADE", "WebSocket"},
          {"connection", "keep-alive, Upgrade"},
          {"sec-websocket-key", S_RFC_KEY},
          {"sec-websocket-version", " 13 "}}},
        /* The token may come in a second Connection header. */
        {"GET",
         {{"Host", "h"},
          {"Upgrade", "websocket"},
          {"Connection", "keep-alive"},
          {"Connection", "upgrade"},
          {"Sec-WebSocket-Key", S_RFC_KEY},
          {"Sec-WebSocket-Version", "13"}}},
    };
    for (size_t i = 0; i < WSCRT_COUNT_OF(specs); ++i) {
        EXPECT(s_check_request(allocator, &specs[i], true));
    }
    return 0;
}

static int s_test_request_validation_rejects_missing_or_wrong_fields(struct wscrt_allocator *allocator) {
    const struct s_request_spec specs[] = {
        {"POST", {S_GOOD_HEADERS}},
        {"get", {S_GOOD_HEADERS}},
        {"GET", {{"Upgrade", "websocket"}, {"Connection", "Upgrade"}, {"Sec-WebSocket-Key", S_RFC_KEY}, {"Sec-WebSocket-Version", "13"}}},
        {"GET", {{"Host", ""}, {"Upgrade", "websocket"}, {"Connection", "Upgrade"}, {"Sec-WebSocket-Key", S_RFC_KEY}, {"Sec-WebSocket-Version", "13"}}},
        {"GET", {{"Host", "h"}, {"Connection", "Upgrade"}, {"Sec-WebSocket-Key", S_RFC_KEY}, {"Sec-WebSocket-Version", "13"}}},
        {"GET", {{"Host", "h"}, {"Upgrade", "h2c"}, {"Connection", "Upgrade"}, {"Sec-WebSocket-Key", S_RFC_KEY}, {"Sec-WebSocket-Version", "13"}}},
        {"GET", {{"Host", "h"}, {"Upgrade", "websocket"}, {"Sec-WebSocket-Key", S_RFC_KEY}, {"Sec-WebSocket-Version", "13"}}},
        {"GET", {{"Host", "h"}, {"Upgrade", "websocket"}, {"Connection", "keep-alive"}, {"Sec-WebSocket-Key", S_RFC_KEY}, {"Sec-WebSocket-Version", "13"}}},
        {"GET", {{"Host", "h"}, {"Upgrade", "websocket"}, {"Connection", "upgraded"}, {"Sec-WebSocket-Key", S_RFC_KEY}, {"Sec-WebSocket-Version", "13"}}},
        {"GET", {{"Host", "h"}, {"Upgrade", "websocket"}, {"Connection", "Upgrade"}, {"Sec-WebSocket-Version", "13"}}},
        /* 15 bytes, 17 bytes, not base64 */
        {"GET", {{"Host", "h"}, {"Upgrade", "websocket"}, {"Connection", "Upgrade"}, {"Sec-WebSocket-Key", "AAAAAAAAAAAAAAAAAAAA"}, {"Sec-WebSocket-Version", "13"}}},
        {"GET", {{"Host", "h"}, {"Upgrade", "websocket"}, {"Connection", "Upgrade"}, {"Sec-WebSocket-Key", "AAAAAAAAAAAAAAAAAAAAAAA="}, {"Sec-WebSocket-Version", "13"}}},
        {"GET", {{"Host", "h"}, {"Upgrade", "websocket"}, {"Connection", "Upgrade"}, {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ!!"}, {"Sec-WebSocket-Version", "13"}}},
        {"GET", {{"Host", "h"}, {"Upgrade", "websocket"}, {"Connection", "Upgrade"}, {"Sec-WebSocket-Key", S_RFC_KEY}}},
        {"GET", {{"Host", "h"}, {"Upgrade", "websocket"}, {"Connection", "Upgrade"}, {"Sec-WebSocket-Key", S_RFC_KEY}, {"Sec-WebSocket-Version", "8"}}},
    };
    for (size_t i = 0; i < WSCRT_COUNT_OF(specs); ++i) {
        if (s_check_request(allocator, &specs[i], false)) {
            WSCRT_FAIL_("request %zu was accepted", i);
        }
    }
    return 0;
}

/* ---- the response ---- */

/* Parses a response head and validates it against the RFC key and `offer`
 * (NULL = through the nothing-offered entry point). The selected subprotocol
 * is copied to `subprotocol` (if not NULL) before the parser goes away. */
static int s_validate_offer(struct wscrt_allocator *allocator, const char *response,
                            const struct wscrt_websocket_handshake_offer *offer,
                            struct wscrt_websocket_handshake_answer *answer, struct wscrt_byte_buf *subprotocol,
                            int *error) {
    struct wscrt_http_response_parser parser;
    wscrt_http_response_parser_init(&parser, allocator, NULL);
    struct wscrt_byte_cursor data = s_c(response);
    int result = wscrt_http_response_parser_process(&parser, &data);
    if (result == WSCRT_OP_SUCCESS) {
        wscrt_reset_error();
        result = offer ? wscrt_websocket_validate_handshake_answer(&parser, s_c(S_RFC_KEY), offer, answer)
                       : wscrt_websocket_validate_handshake_response(&parser, s_c(S_RFC_KEY));
    }
    *error = result == WSCRT_OP_SUCCESS ? 0 : wscrt_last_error();
    if (result == WSCRT_OP_SUCCESS && answer && subprotocol) {
        wscrt_byte_buf_append_dynamic(subprotocol, answer->subprotocol);
    }
    wscrt_http_response_parser_clean_up(&parser);
    return result;
}

static int s_validate_response(struct wscrt_allocator *allocator, const char *response, int *error) {
    return s_validate_offer(allocator, response, NULL, NULL, NULL, error);
}

static int s_expect_response_accepted(struct wscrt_allocator *allocator, const char *response) {
    int error;
    if (s_validate_response(allocator, response, &error)) {
        WSCRT_FAIL_("refused with %s:\n%s", wscrt_error_name(error), response);
    }
    return 0;
}

static int s_expect_response_refused(struct wscrt_allocator *allocator, const char *response, int expected_error) {
    int error;
    if (s_validate_response(allocator, response, &error) == WSCRT_OP_SUCCESS || error != expected_error) {
        WSCRT_FAIL_("got %s, expected %s:\n%s", wscrt_error_name(error), wscrt_error_name(expected_error), response);
    }
    return 0;
}

/* Each response refused with `expected_error`; the first that is not fails the test. */
static int s_expect_each_response_refused(struct wscrt_allocator *allocator, const char *const *responses, size_t count,
                                          int expected_error) {
    for (size_t i = 0; i < count; ++i) {
        EXPECT(s_expect_response_refused(allocator, responses[i], expected_error));
    }
    return 0;
}

static int s_test_rfc_example_response_is_accepted(struct wscrt_allocator *allocator) {
    EXPECT(s_expect_response_accepted(allocator, "HTTP/1.1 101 Switching Protocols\r\n"
                                                 "Upgrade: websocket\r\n"
                                                 "Connection: Upgrade\r\n"
                                                 "Sec-WebSocket-Accept: " S_RFC_ACCEPT "\r\n"
                                                 "\r\n"));
    return 0;
}

static int s_test_response_header_matching_ignores_case_and_reads_lists(struct wscrt_allocator *allocator) {
    EXPECT(s_expect_response_accepted(allocator, "HTTP/1.1 101 Switching Protocols\r\n"
                                                 "upgrade: WebSocket\r\n"
                                                 "connection: keep-alive, UPGRADE\r\n"
                                                 "sec-websocket-accept:  " S_RFC_ACCEPT " \r\n"
                                                 "\r\n"));
    EXPECT(s_expect_response_accepted(allocator, "HTTP/1.1 101 Switching Protocols\r\n"
                                                 "Upgrade: websocket\r\n"
                                                 "Connection: keep-alive\r\n"
                                                 "Connection: ,Upgrade,\r\n"
                                                 "Sec-WebSocket-Accept: " S_RFC_ACCEPT "\r\n"
                                                 "\r\n"));
    return 0;
}

static int s_test_status_other_than_101_fails_with_upgrade_failure(struct wscrt_allocator *allocator) {
    const char *responses[] = {
        "HTTP/1.1 200 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " S_RFC_ACCEPT
        "\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 426 Upgrade Required\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 302 Found\r\nLocation: /elsewhere\r\nContent-Length: 0\r\n\r\n",
    };
    return s_expect_each_response_refused(allocator, responses, WSCRT_COUNT_OF(responses),
                                          WSCRT_ERROR_WEBSOCKET_UPGRADE_FAILURE);
}

static int s_test_missing_or_wrong_upgrade_headers_fail(struct wscrt_allocator *allocator) {
    const char *responses[] = {
        "HTTP/1.1 101 X\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " S_RFC_ACCEPT "\r\n\r\n",
        "HTTP/1.1 101 X\r\nUpgrade: h2c\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " S_RFC_ACCEPT "\r\n\r\n",
        "HTTP/1.1 101 X\r\nUpgrade: websocket, h2c\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " S_RFC_ACCEPT
        "\r\n\r\n",
        "HTTP/1.1 101 X\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: " S_RFC_ACCEPT "\r\n\r\n",
        "HTTP/1.1 101 X\r\nUpgrade: websocket\r\nConnection: keep-alive\r\nSec-WebSocket-Accept: " S_RFC_ACCEPT
        "\r\n\r\n",
        "HTTP/1.1 101 X\r\nUpgrade: websocket\r\nConnection: upgrade-please\r\nSec-WebSocket-Accept: " S_RFC_ACCEPT
        "\r\n\r\n",
        "HTTP/1.1 101 X\r\nUpgrade: websocket\r\nConnection: keep-alive upgrade\r\nSec-WebSocket-Accept: " S_RFC_ACCEPT
        "\r\n\r\n",
    };
    return s_expect_each_response_refused(allocator, responses, WSCRT_COUNT_OF(responses),
                                          WSCRT_ERROR_WEBSOCKET_UPGRADE_INVALID_HEADERS);
}

static int s_test_missing_or_wrong_accept_fails_with_bad_accept(struct wscrt_allocator *allocator) {
    const char *responses[] = {
        "HTTP/1.1 101 X\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
        "HTTP/1.1 101 X\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept:\r\n\r\n",
        /* the key itself, not its hash */
        "HTTP/1.1 101 X\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " S_RFC_KEY "\r\n\r\n",
        /* base64 is case-sensitive */
        "HTTP/1.1 101 X\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Accept: S3PPLMBITXAQ9KYGZZHZRBK+XOO=\r\n\r\n",
        /* one character short */
        "HTTP/1.1 101 X\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo\r\n\r\n",
        /* twice, even if both are right */
        "HTTP/1.1 101 X\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " S_RFC_ACCEPT
        "\r\nSec-WebSocket-Accept: " S_RFC_ACCEPT "\r\n\r\n",
    };
    return s_expect_each_response_refused(allocator, responses, WSCRT_COUNT_OF(responses),
                                          WSCRT_ERROR_WEBSOCKET_UPGRADE_BAD_ACCEPT);
}

static int s_test_accept_is_checked_against_the_key_that_was_sent(struct wscrt_allocator *allocator) {
    struct wscrt_http_request *request = wscrt_websocket_handshake_request_new(allocator, s_c("h"), s_c("/"));
    struct wscrt_byte_cursor key;
    wscrt_http_request_find_header(request, "Sec-WebSocket-Key", &key);
    struct wscrt_byte_buf response;
    wscrt_byte_buf_init(&response, allocator, 256);
    wscrt_byte_buf_append_dynamic(&response, s_c("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                                                 "Connection: Upgrade\r\nSec-WebSocket-Accept: "));
    wscrt_websocket_compute_accept(key, &response);
    wscrt_byte_buf_append_dynamic(&response, s_c("\r\n\r\n"));

    struct wscrt_http_response_parser parser;
    wscrt_http_response_parser_init(&parser, allocator, NULL);
    struct wscrt_byte_cursor data = wscrt_byte_cursor_from_buf(&response);
    int parsed = wscrt_http_response_parser_process(&parser, &data);
    int with_sent_key = wscrt_websocket_validate_handshake_response(&parser, key);
    wscrt_reset_error();
    int with_other_key = wscrt_websocket_validate_handshake_response(&parser, s_c(S_RFC_KEY));
    int other_error = wscrt_last_error();
    wscrt_http_response_parser_clean_up(&parser);
    wscrt_byte_buf_clean_up(&response);
    wscrt_http_request_destroy(request);
    ASSERT_INT_EQ(WSCRT_OP_SUCCESS, parsed);
    ASSERT_INT_EQ(WSCRT_OP_SUCCESS, with_sent_key);
    ASSERT_INT_EQ(WSCRT_OP_ERR, with_other_key);
    ASSERT_INT_EQ(WSCRT_ERROR_WEBSOCKET_UPGRADE_BAD_ACCEPT, other_error);
    return 0;
}

static int s_test_response_validation_needs_complete_headers(struct wscrt_allocator *allocator) {
    struct wscrt_http_response_parser parser;
    wscrt_http_response_parser_init(&parser, allocator, NULL);
    struct wscrt_byte_cursor data = s_c("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n");
    ASSERT_SUCCESS(wscrt_http_response_parser_process(&parser, &data));
    ASSERT_ERROR(WSCRT_ERROR_INVALID_STATE, wscrt_websocket_validate_handshake_response(&parser, s_c(S_RFC_KEY)));
    wscrt_http_response_parser_clean_up(&parser);
    return 0;
}

/* ---- what was offered: extensions and subprotocols (RFC 6455 4.1 items 5 and 6) ---- */

#define S_101 "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" \
              "Sec-WebSocket-Accept: " S_RFC_ACCEPT "\r\n"

static int s_expect_offer_refused(struct wscrt_allocator *allocator, const char *response,
                                  const struct wscrt_websocket_handshake_offer *offer, int expected_error) {
    struct wscrt_websocket_handshake_answer answer;
    memset(&answer, 0xA5, sizeof(answer));
    int error;
    if (s_validate_offer(allocator, response, offer, &answer, NULL, &error) == WSCRT_OP_SUCCESS ||
        error != expected_error) {
        WSCRT_FAIL_("got %s, expected %s:\n%s", wscrt_error_name(error), wscrt_error_name(expected_error), response);
    }
    /* A failed validation leaves nothing that looks negotiated. */
    ASSERT_UINT_EQ(0, answer.subprotocol.len);
    ASSERT_FALSE(answer.deflate_accepted);
    return 0;
}

/* Each response refused against `offer` with `expected_error`; the first that is not fails the test. */
static int s_expect_each_offer_refused(struct wscrt_allocator *allocator, const char *const *responses, size_t count,
                                       const struct wscrt_websocket_handshake_offer *offer, int expected_error) {
    for (size_t i = 0; i < count; ++i) {
        EXPECT(s_expect_offer_refused(allocator, responses[i], offer, expected_error));
    }
    return 0;
}

static int s_test_extension_never_offered_fails_with_unexpected_extension(struct wscrt_allocator *allocator) {
    const char *responses[] = {
        S_101 "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n",
        S_101 "Sec-WebSocket-Extensions: x-webkit-deflate-frame\r\n\r\n",
        S_101 "Sec-WebSocket-Extensions:\r\nSec-WebSocket-Extensions: ,\r\n\r\n",
    };
    const struct wscrt_websocket_handshake_offer nothing = {.deflate = NULL};
    for (size_t i = 0; i < WSCRT_COUNT_OF(responses); ++i) {
        EXPECT(s_expect_response_refused(allocator, responses[i], WSCRT_ERROR_WEBSOCKET_UNEXPECTED_EXTENSION));
        EXPECT(s_expect_offer_refused(allocator, responses[i], &nothing, WSCRT_ERROR_WEBSOCKET_UNEXPECTED_EXTENSION));
    }
    /* An empty header names no extension. */
    EXPECT(s_expect_response_accepted(allocator, S_101 "Sec-WebSocket-Extensions:  \r\n\r\n"));
    return 0;
}

static int s_test_subprotocol_never_offered_fails_with_unexpected_subprotocol(struct wscrt_allocator *allocator) {
    EXPECT(s_expect_response_refused(allocator, S_101 "Sec-WebSocket-Protocol: chat\r\n\r\n",
                                     WSCRT_ERROR_WEBSOCKET_UNEXPECTED_SUBPROTOCOL));
    EXPECT(s_expect_response_refused(allocator, S_101 "Sec-WebSocket-Protocol:\r\n\r\n",
                                     WSCRT_ERROR_WEBSOCKET_UNEXPECTED_SUBPROTOCOL));
    return 0;
}

static int s_test_offered_subprotocol_is_selected_and_exposed(struct wscrt_allocator *allocator) {
    const struct wscrt_websocket_handshake_offer offer = {.subprotocols = s_c("chat, superchat,mqtt")};
    const char *responses[] = {
        S_101 "Sec-WebSocket-Protocol: chat\r\n\r\n",
        S_101 "sec-websocket-protocol:  superchat \r\n\r\n",
        S_101 "Sec-WebSocket-Protocol: mqtt\r\n\r\n",
    };
    const char *selected[] = {"chat", "superchat", "mqtt"};
    for (size_t i = 0; i < 3; ++i) {
        struct wscrt_websocket_handshake_answer answer;
        struct wscrt_byte_buf subprotocol;
        wscrt_byte_buf_init(&subprotocol, allocator, 16);
        int error;
        int result = s_validate_offer(allocator, responses[i], &offer, &answer, &subprotocol, &error);
        bool same = wscrt_byte_cursor_eq(wscrt_byte_cursor_from_buf(&subprotocol), s_c(selected[i]));
        wscrt_byte_buf_clean_up(&subprotocol);
        if (result != WSCRT_OP_SUCCESS) {
            WSCRT_FAIL_("refused with %s:\n%s", wscrt_error_name(error), responses[i]);
        }
        ASSERT_TRUE(same);
        ASSERT_FALSE(answer.deflate_accepted);
    }
    /* The server may choose none. */
    struct wscrt_websocket_handshake_answer answer;
    int error;
    ASSERT_SUCCESS(s_validate_offer(allocator, S_101 "\r\n", &offer, &answer, NULL, &error));
    ASSERT_UINT_EQ(0, answer.subprotocol.len);
    return 0;
}

static int s_test_subprotocol_not_in_the_offered_list_fails(struct wscrt_allocator *allocator) {
    const struct wscrt_websocket_handshake_offer offer = {.subprotocols = s_c("chat, superchat")};
    const char *responses[] = {
        S_101 "Sec-WebSocket-Protocol: mqtt\r\n\r\n",
        /* tokens are compared exactly */
        S_101 "Sec-WebSocket-Protocol: Chat\r\n\r\n",
        S_101 "Sec-WebSocket-Protocol: cha\r\n\r\n",
        S_101 "Sec-WebSocket-Protocol: chat superchat\r\n\r\n",
        S_101 "Sec-WebSocket-Protocol:\r\n\r\n",
    };
    return s_expect_each_offer_refused(allocator, responses, WSCRT_COUNT_OF(responses), &offer,
                                       WSCRT_ERROR_WEBSOCKET_UNEXPECTED_SUBPROTOCOL);
}

static int s_test_more_than_one_subprotocol_fails_with_multiple_subprotocols(struct wscrt_allocator *allocator) {
    const struct wscrt_websocket_handshake_offer offer = {.subprotocols = s_c("chat, superchat")};
    const char *responses[] = {
        S_101 "Sec-WebSocket-Protocol: chat, superchat\r\n\r\n",
        S_101 "Sec-WebSocket-Protocol: chat,\r\n\r\n",
        S_101 "Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Protocol: superchat\r\n\r\n",
        S_101 "Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Protocol: chat\r\n\r\n",
    };
    return s_expect_each_offer_refused(allocator, responses, WSCRT_COUNT_OF(responses), &offer,
                                       WSCRT_ERROR_WEBSOCKET_MULTIPLE_SUBPROTOCOLS);
}

static int s_test_deflate_answer_is_negotiated_with_the_handshake(struct wscrt_allocator *allocator) {
    const struct wscrt_websocket_deflate_options deflate = {.client_max_window_bits = 15};
    const struct wscrt_websocket_handshake_offer offer = {.deflate = &deflate};
    struct wscrt_websocket_handshake_answer answer;
    int error;
    ASSERT_SUCCESS(s_validate_offer(allocator,
                                    S_101 "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=10\r\n"
                                          "Sec-WebSocket-Extensions: ,\r\n\r\n",
                                    &offer, &answer, NULL, &error));
    ASSERT_TRUE(answer.deflate_accepted);
    ASSERT_UINT_EQ(10, answer.deflate.client_max_window_bits);
    ASSERT_UINT_EQ(15, answer.deflate.server_max_window_bits);
    /* Declining (no header) is no error. */
    ASSERT_SUCCESS(s_validate_offer(allocator, S_101 "\r\n", &offer, &answer, NULL, &error));
    ASSERT_FALSE(answer.deflate_accepted);
    /* Each header is part of one list: the answer's errors apply across them. */
    EXPECT(s_expect_offer_refused(allocator,
                                  S_101 "Sec-WebSocket-Extensions: permessage-deflate\r\n"
                                        "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n",
                                  &offer, WSCRT_ERROR_WEBSOCKET_MULTIPLE_EXTENSIONS));
    EXPECT(s_expect_offer_refused(allocator,
                                  S_101 "Sec-WebSocket-Extensions: permessage-deflate\r\n"
                                        "Sec-WebSocket-Extensions: x-other\r\n\r\n",
                                  &offer, WSCRT_ERROR_WEBSOCKET_UNEXPECTED_EXTENSION));
    EXPECT(s_expect_offer_refused(allocator,
                                  S_101 "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=16\r\n\r\n",
                                  &offer, WSCRT_ERROR_WEBSOCKET_BAD_EXTENSION_PARAMETER));
    /* A ninth header cannot be a sane answer to one offer. */
    EXPECT(s_expect_offer_refused(allocator,
                                  S_101 "Sec-WebSocket-Extensions: ,\r\nSec-WebSocket-Extensions: ,\r\n"
                                        "Sec-WebSocket-Extensions: ,\r\nSec-WebSocket-Extensions: ,\r\n"
                                        "Sec-WebSocket-Extensions: ,\r\nSec-WebSocket-Extensions: ,\r\n"
                                        "Sec-WebSocket-Extensions: ,\r\nSec-WebSocket-Extensions: ,\r\n"
                                        "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n",
                                  &offer, WSCRT_ERROR_WEBSOCKET_MULTIPLE_EXTENSIONS));
    return 0;
}

static int s_test_accept_is_checked_before_what_was_offered(struct wscrt_allocator *allocator) {
    EXPECT(s_expect_response_refused(allocator,
                                     "HTTP/1.1 101 X\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                     "Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Extensions: x\r\n\r\n",
                                     WSCRT_ERROR_WEBSOCKET_UPGRADE_BAD_ACCEPT));
    return 0;
}

static int s_test_offer_adds_protocol_and_extensions_headers(struct wscrt_allocator *allocator) {
    struct wscrt_http_request *request = wscrt_websocket_handshake_request_new(allocator, s_c("h"), s_c("/"));
    const struct wscrt_websocket_deflate_options deflate = {
        .client_max_window_bits = 12,
        .server_max_window_bits = 10,
        .client_no_context_takeover = true,
        .server_no_context_takeover = true,
    };
    const struct wscrt_websocket_handshake_offer offer = {.subprotocols = s_c("chat, superchat"), .deflate = &deflate};
    int added = wscrt_websocket_handshake_request_add_offer(request, &offer);
    struct wscrt_byte_cursor protocol = {0};
    struct wscrt_byte_cursor extensions = {0};
    wscrt_http_request_find_header(request, "Sec-WebSocket-Protocol", &protocol);
    wscrt_http_request_find_header(request, "Sec-WebSocket-Extensions", &extensions);
    bool protocol_ok = wscrt_byte_cursor_eq(protocol, s_c("chat, superchat"));
    bool extensions_ok = wscrt_byte_cursor_eq(
        extensions, s_c("permessage-deflate; client_max_window_bits=12; server_max_window_bits=10; "
                        "client_no_context_takeover; server_no_context_takeover"));
    struct wscrt_websocket_handshake_offer read_back;
    wscrt_websocket_handshake_offer_from_request(request, &read_back);
    bool read_back_ok = wscrt_byte_cursor_eq(read_back.subprotocols, s_c("chat, superchat")) && !read_back.deflate;
    int valid = wscrt_websocket_validate_handshake_request(request);
    wscrt_http_request_destroy(request);
    ASSERT_INT_EQ(WSCRT_OP_SUCCESS, added);
    ASSERT_TRUE(protocol_ok);
    ASSERT_TRUE(extensions_ok);
    ASSERT_TRUE(read_back_ok);
    ASSERT_INT_EQ(WSCRT_OP_SUCCESS, valid);
    return 0;
}

static int s_test_empty_offer_adds_no_headers_and_bad_options_add_nothing(struct wscrt_allocator *allocator) {
    struct wscrt_http_request *request = wscrt_websocket_handshake_request_new(allocator, s_c("h"), s_c("/"));
    const struct wscrt_websocket_handshake_offer empty = {.subprotocols = s_c(" ")};
    const struct wscrt_websocket_deflate_options bad = {.server_max_window_bits = 16};
    const struct wscrt_websocket_handshake_offer bad_offer = {.subprotocols = s_c("chat"), .deflate = &bad};
    int empty_result = wscrt_websocket_handshake_request_add_offer(request, &empty);
    size_t after_empty = wscrt_http_request_header_count(request);
    wscrt_reset_error();
    int bad_result = wscrt_websocket_handshake_request_add_offer(request, &bad_offer);
    int bad_error = wscrt_last_error();
    size_t after_bad = wscrt_http_request_header_count(request);
    wscrt_http_request_destroy(request);
    ASSERT_INT_EQ(WSCRT_OP_SUCCESS, empty_result);
    ASSERT_UINT_EQ(5, after_empty);
    ASSERT_INT_EQ(WSCRT_OP_ERR, bad_result);
    ASSERT_INT_EQ(WSCRT_ERROR_INVALID_ARGUMENT, bad_error);
    ASSERT_UINT_EQ(5, after_bad);
    return 0;
}

WSCRT_TEST_MAIN(s_test_accept_matches_rfc_example,
                s_test_generated_keys_are_base64_of_16_random_bytes,
                s_test_handshake_request_has_the_five_headers,
                s_test_each_handshake_request_gets_a_new_key,
                s_test_request_validation_accepts_equivalent_spellings,
                s_test_request_validation_rejects_missing_or_wrong_fields,
                s_test_rfc_example_response_is_accepted,
                s_test_response_header_matching_ignores_case_and_reads_lists,
                s_test_status_other_than_101_fails_with_upgrade_failure,
                s_test_missing_or_wrong_upgrade_headers_fail,
                s_test_missing_or_wrong_accept_fails_with_bad_accept,
                s_test_accept_is_checked_against_the_key_that_was_sent,
                s_test_response_validation_needs_complete_headers,
                s_test_extension_never_offered_fails_with_unexpected_extension,
                s_test_subprotocol_never_offered_fails_with_unexpected_subprotocol,
                s_test_offered_subprotocol_is_selected_and_exposed,
                s_test_subprotocol_not_in_the_offered_list_fails,
                s_test_more_than_one_subprotocol_fails_with_multiple_subprotocols,
                s_test_deflate_answer_is_negotiated_with_the_handshake,
                s_test_accept_is_checked_before_what_was_offered,
                s_test_offer_adds_protocol_and_extensions_headers,
                s_test_empty_offer_adds_no_headers_and_bad_options_add_nothing)
