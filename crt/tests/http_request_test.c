/* HTTP request head: owned copies, lookups, and an encoder that refuses injection. */
#include "common/allocator.h"
#include "common/byte_buf.h"
#include "common/error.h"
#include "http/http_request.h"
#include "test_harness.h"

static struct wscrt_byte_cursor s_c(const char *text) {
    return wscrt_byte_cursor_from_c_str(text);
}

static int s_add(struct wscrt_http_request *request, const char *name, const char *value) {
    struct wscrt_http_header header = {.name = s_c(name), .value = s_c(value)};
    return wscrt_http_request_add_header(request, header);
}

/* Header with explicit lengths, for names and values holding NUL. */
static int s_add_bytes(struct wscrt_http_request *request, const char *name, size_t name_len, const char *value,
                       size_t value_len) {
    struct wscrt_http_header header = {
        .name = wscrt_byte_cursor_from_array(name, name_len),
        .value = wscrt_byte_cursor_from_array(value, value_len),
    };
    return wscrt_http_request_add_header(request, header);
}

static struct wscrt_http_request *s_new_get(struct wscrt_allocator *allocator) {
    struct wscrt_http_request *request = wscrt_http_request_new(allocator);
    wscrt_http_request_set_method(request, s_c("GET"));
    wscrt_http_request_set_path(request, s_c("/chat?room=1"));
    return request;
}

static int s_expect_encoding(struct wscrt_allocator *allocator, const struct wscrt_http_request *request,
                             const char *expected) {
    struct wscrt_byte_buf out;
    wscrt_byte_buf_init(&out, allocator, 16);
    int result = wscrt_http_request_encode(request, &out);
    int differs = result != WSCRT_OP_SUCCESS || out.len != strlen(expected) || memcmp(out.buffer, expected, out.len);
    if (differs) {
        fprintf(stderr, "  encoded: %.*s\n", (int)out.len, (const char *)out.buffer);
    }
    wscrt_byte_buf_clean_up(&out);
    ASSERT_FALSE(differs);
    return 0;
}

static int s_expect_invalid(struct wscrt_allocator *allocator, const struct wscrt_http_request *request) {
    struct wscrt_byte_buf out;
    wscrt_byte_buf_init(&out, allocator, 16);
    wscrt_byte_buf_append_dynamic(&out, s_c("keep"));
    wscrt_reset_error();
    int result = wscrt_http_request_encode(request, &out);
    int error = wscrt_last_error();
    /* Nothing half-written. */
    int untouched = out.len == 4 && memcmp(out.buffer, "keep", 4) == 0;
    wscrt_byte_buf_clean_up(&out);
    ASSERT_INT_EQ(WSCRT_OP_ERR, result);
    ASSERT_INT_EQ(WSCRT_ERROR_HTTP_INVALID_REQUEST, error);
    ASSERT_TRUE(untouched);
    return 0;
}

#define EXPECT(call) ASSERT_INT_EQ(0, (call))

static int s_test_encode_writes_request_line_headers_and_blank_line(struct wscrt_allocator *allocator) {
    struct wscrt_http_request *request = s_new_get(allocator);
    ASSERT_SUCCESS(s_add(request, "Host", "example.com:8080"));
    ASSERT_SUCCESS(s_add(request, "Upgrade", "websocket"));
    ASSERT_SUCCESS(s_add(request, "X-Empty", ""));
    EXPECT(s_expect_encoding(allocator, request,
                             "GET /chat?room=1 HTTP/1.1\r\n"
                             "Host: example.com:8080\r\n"
                             "Upgrade: websocket\r\n"
                             "X-Empty: \r\n"
                             "\r\n"));
    wscrt_http_request_destroy(request);
    return 0;
}

static int s_test_encode_appends_after_existing_bytes(struct wscrt_allocator *allocator) {
    struct wscrt_http_request *request = s_new_get(allocator);
    struct wscrt_byte_buf out;
    wscrt_byte_buf_init(&out, allocator, 4);
    wscrt_byte_buf_append_dynamic(&out, s_c("PRE:"));
    ASSERT_SUCCESS(wscrt_http_request_encode(request, &out));
    const char *expected = "PRE:GET /chat?room=1 HTTP/1.1\r\n\r\n";
    ASSERT_BYTES_EQ(expected, strlen(expected), out.buffer, out.len);
    wscrt_byte_buf_clean_up(&out);
    wscrt_http_request_destroy(request);
    return 0;
}

static int s_test_encode_into_a_fixed_buffer_that_is_too_small_fails_cleanly(struct wscrt_allocator *allocator) {
    struct wscrt_http_request *request = s_new_get(allocator);
    ASSERT_SUCCESS(s_add(request, "Host", "example.com"));
    uint8_t storage[20];
    struct wscrt_byte_buf out = wscrt_byte_buf_from_empty_array(storage, sizeof(storage));
    ASSERT_ERROR(WSCRT_ERROR_SHORT_BUFFER, wscrt_http_request_encode(request, &out));
    ASSERT_UINT_EQ(0, out.len);
    wscrt_http_request_destroy(request);
    return 0;
}

static int s_test_request_owns_copies_of_its_strings(struct wscrt_allocator *allocator) {
    char method[] = "GET";
    char path[] = "/a";
    char name[] = "Host";
    char value[] = "one";
    struct wscrt_http_request *request = wscrt_http_request_new(allocator);
    ASSERT_SUCCESS(wscrt_http_request_set_method(request, s_c(method)));
    ASSERT_SUCCESS(wscrt_http_request_set_path(request, s_c(path)));
    ASSERT_SUCCESS(s_add(request, name, value));
    /* The caller's buffers change; the request does not. */
    memcpy(method, "PUT", 3);
    memcpy(path, "/b", 2);
    memcpy(name, "Nope", 4);
    memcpy(value, "two", 3);
    EXPECT(s_expect_encoding(allocator, request, "GET /a HTTP/1.1\r\nHost: one\r\n\r\n"));
    wscrt_http_request_destroy(request);
    return 0;
}

static int s_test_setting_method_and_path_again_replaces_them(struct wscrt_allocator *allocator) {
    struct wscrt_http_request *request = s_new_get(allocator);
    ASSERT_SUCCESS(wscrt_http_request_set_method(request, s_c("OPTIONS")));
    ASSERT_SUCCESS(wscrt_http_request_set_path(request, s_c("*")));
    struct wscrt_byte_cursor method = wscrt_http_request_get_method(request);
    struct wscrt_byte_cursor path = wscrt_http_request_get_path(request);
    ASSERT_BYTES_EQ("OPTIONS", 7, method.ptr, method.len);
    ASSERT_BYTES_EQ("*", 1, path.ptr, path.len);
    EXPECT(s_expect_encoding(allocator, request, "OPTIONS * HTTP/1.1\r\n\r\n"));
    wscrt_http_request_destroy(request);
    return 0;
}

static int s_test_headers_keep_their_order_and_find_ignores_case(struct wscrt_allocator *allocator) {
    struct wscrt_http_request *request = s_new_get(allocator);
    ASSERT_SUCCESS(s_add(request, "Host", "h"));
    ASSERT_SUCCESS(s_add(request, "Connection", "keep-alive"));
    ASSERT_SUCCESS(s_add(request, "connection", "Upgrade"));
    /* Many headers: earlier cursors stay valid while the list grows. */
    struct wscrt_http_header first;
    ASSERT_SUCCESS(wscrt_http_request_get_header(request, 0, &first));
    for (int i = 0; i < 40; ++i) {
        ASSERT_SUCCESS(s_add(request, "X-Filler", "f"));
    }
    ASSERT_BYTES_EQ("Host", 4, first.name.ptr, first.name.len);
    ASSERT_UINT_EQ(43, wscrt_http_request_header_count(request));
    struct wscrt_http_header header;
    ASSERT_SUCCESS(wscrt_http_request_get_header(request, 2, &header));
    ASSERT_BYTES_EQ("connection", 10, header.name.ptr, header.name.len);
    ASSERT_BYTES_EQ("Upgrade", 7, header.value.ptr, header.value.len);
    ASSERT_ERROR(WSCRT_ERROR_INVALID_ARGUMENT, wscrt_http_request_get_header(request, 43, &header));
    struct wscrt_byte_cursor value;
    ASSERT_TRUE(wscrt_http_request_find_header(request, "CONNECTION", &value));
    ASSERT_BYTES_EQ("keep-alive", 10, value.ptr, value.len); /* the first one */
    ASSERT_FALSE(wscrt_http_request_find_header(request, "Upgrade", &value));
    wscrt_http_request_destroy(request);
    return 0;
}

static int s_test_encode_rejects_cr_lf_and_nul_in_every_field(struct wscrt_allocator *allocator) {
    const char *bad[] = {"a\rb", "a\nb", "\r\n"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); ++i) {
        struct wscrt_http_request *request = s_new_get(allocator);
        ASSERT_SUCCESS(wscrt_http_request_set_method(request, s_c(bad[i])));
        EXPECT(s_expect_invalid(allocator, request));
        ASSERT_SUCCESS(wscrt_http_request_set_method(request, s_c("GET")));
        ASSERT_SUCCESS(wscrt_http_request_set_path(request, s_c(bad[i])));
        EXPECT(s_expect_invalid(allocator, request));
        wscrt_http_request_destroy(request);

        request = s_new_get(allocator);
        ASSERT_SUCCESS(s_add(request, bad[i], "v"));
        EXPECT(s_expect_invalid(allocator, request));
        wscrt_http_request_destroy(request);

        /* Header injection through a value: "v\r\nEvil: 1". */
        request = s_new_get(allocator);
        ASSERT_SUCCESS(s_add(request, "X-Value", bad[i]));
        EXPECT(s_expect_invalid(allocator, request));
        wscrt_http_request_destroy(request);
    }
    struct wscrt_http_request *request = s_new_get(allocator);
    ASSERT_SUCCESS(wscrt_http_request_set_path(request, wscrt_byte_cursor_from_array("/a\0b", 4)));
    EXPECT(s_expect_invalid(allocator, request));
    wscrt_http_request_destroy(request);
    request = s_new_get(allocator);
    ASSERT_SUCCESS(s_add_bytes(request, "X-Nul", 5, "a\0b", 3));
    EXPECT(s_expect_invalid(allocator, request));
    wscrt_http_request_destroy(request);
    request = s_new_get(allocator);
    ASSERT_SUCCESS(s_add_bytes(request, "X\0Nul", 5, "a", 1));
    EXPECT(s_expect_invalid(allocator, request));
    wscrt_http_request_destroy(request);
    return 0;
}

static int s_test_encode_rejects_non_token_header_names(struct wscrt_allocator *allocator) {
    const char *names[] = {"", "Bad Name", "Colon:", "Tab\tName", "(paren)", "Quote\"", "Slash/", "caf\xc3\xa9",
                           "Brace{", "At@", "Del\x7f"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); ++i) {
        struct wscrt_http_request *request = s_new_get(allocator);
        ASSERT_SUCCESS(s_add(request, names[i], "v"));
        EXPECT(s_expect_invalid(allocator, request));
        wscrt_http_request_destroy(request);
    }
    /* Every tchar is fine. */
    struct wscrt_http_request *request = s_new_get(allocator);
    ASSERT_SUCCESS(s_add(request, "!#$%&'*+-.^_`|~09azAZ", "v"));
    EXPECT(s_expect_encoding(allocator, request, "GET /chat?room=1 HTTP/1.1\r\n!#$%&'*+-.^_`|~09azAZ: v\r\n\r\n"));
    wscrt_http_request_destroy(request);
    return 0;
}

static int s_test_encode_rejects_empty_or_malformed_method_and_path(struct wscrt_allocator *allocator) {
    struct wscrt_http_request *request = wscrt_http_request_new(allocator);
    EXPECT(s_expect_invalid(allocator, request)); /* neither set */
    ASSERT_SUCCESS(wscrt_http_request_set_method(request, s_c("GET")));
    EXPECT(s_expect_invalid(allocator, request)); /* no path */
    ASSERT_SUCCESS(wscrt_http_request_set_path(request, s_c("")));
    EXPECT(s_expect_invalid(allocator, request));
    /* A space would end the request-target early. */
    ASSERT_SUCCESS(wscrt_http_request_set_path(request, s_c("/a b")));
    EXPECT(s_expect_invalid(allocator, request));
    ASSERT_SUCCESS(wscrt_http_request_set_path(request, s_c("/")));
    ASSERT_SUCCESS(wscrt_http_request_set_method(request, s_c("")));
    EXPECT(s_expect_invalid(allocator, request));
    ASSERT_SUCCESS(wscrt_http_request_set_method(request, s_c("G T")));
    EXPECT(s_expect_invalid(allocator, request));
    wscrt_http_request_destroy(request);
    return 0;
}

static int s_test_header_values_may_hold_tabs_and_non_ascii(struct wscrt_allocator *allocator) {
    struct wscrt_http_request *request = s_new_get(allocator);
    ASSERT_SUCCESS(s_add(request, "X-Text", "a\tb caf\xc3\xa9"));
    EXPECT(s_expect_encoding(allocator, request, "GET /chat?room=1 HTTP/1.1\r\nX-Text: a\tb caf\xc3\xa9\r\n\r\n"));
    wscrt_http_request_destroy(request);
    return 0;
}

static int s_test_destroy_accepts_null(struct wscrt_allocator *allocator) {
    (void)allocator;
    wscrt_http_request_destroy(NULL);
    return 0;
}

WSCRT_TEST_MAIN(s_test_encode_writes_request_line_headers_and_blank_line,
                s_test_encode_appends_after_existing_bytes,
                s_test_encode_into_a_fixed_buffer_that_is_too_small_fails_cleanly,
                s_test_request_owns_copies_of_its_strings,
                s_test_setting_method_and_path_again_replaces_them,
                s_test_headers_keep_their_order_and_find_ignores_case,
                s_test_encode_rejects_cr_lf_and_nul_in_every_field,
                s_test_encode_rejects_non_token_header_names,
                s_test_encode_rejects_empty_or_malformed_method_and_path,
                s_test_header_values_may_hold_tabs_and_non_ascii,
                s_test_destroy_accepts_null)
