#include <errno.h>
#include <pthread.h>

#include "common/error.h"
#include "test_harness.h"

static int s_test_raise_sets_thread_local_code(struct wscrt_allocator *allocator) {
    (void)allocator;
    wscrt_reset_error();
    ASSERT_INT_EQ(WSCRT_ERROR_SUCCESS, wscrt_last_error());
    ASSERT_INT_EQ(WSCRT_OP_ERR, wscrt_raise_error(WSCRT_ERROR_SHORT_BUFFER));
    ASSERT_INT_EQ(WSCRT_ERROR_SHORT_BUFFER, wscrt_last_error());
    wscrt_reset_error();
    ASSERT_INT_EQ(WSCRT_ERROR_SUCCESS, wscrt_last_error());
    return 0;
}

static void *s_raise_on_other_thread(void *arg) {
    int *seen = arg;
    seen[0] = wscrt_last_error(); /* a new thread starts clean */
    wscrt_raise_error(WSCRT_ERROR_INVALID_UTF8);
    seen[1] = wscrt_last_error();
    return NULL;
}

static int s_test_error_is_per_thread(struct wscrt_allocator *allocator) {
    (void)allocator;
    wscrt_raise_error(WSCRT_ERROR_OOM);
    int seen[2] = {-1, -1};
    pthread_t thread;
    ASSERT_INT_EQ(0, pthread_create(&thread, NULL, s_raise_on_other_thread, seen));
    pthread_join(thread, NULL);
    ASSERT_INT_EQ(WSCRT_ERROR_SUCCESS, seen[0]);
    ASSERT_INT_EQ(WSCRT_ERROR_INVALID_UTF8, seen[1]);
    ASSERT_INT_EQ(WSCRT_ERROR_OOM, wscrt_last_error());
    wscrt_reset_error();
    return 0;
}

static int s_test_names_and_messages_come_from_the_table(struct wscrt_allocator *allocator) {
    (void)allocator;
    ASSERT_TRUE(strcmp("WSCRT_ERROR_SUCCESS", wscrt_error_name(WSCRT_ERROR_SUCCESS)) == 0);
    ASSERT_TRUE(strcmp("WSCRT_ERROR_INVALID_BASE64", wscrt_error_name(WSCRT_ERROR_INVALID_BASE64)) == 0);
    ASSERT_TRUE(strcmp("The text is not valid base64.", wscrt_error_str(WSCRT_ERROR_INVALID_BASE64)) == 0);
    ASSERT_TRUE(strcmp("WSCRT_ERROR_WEBSOCKET_UPGRADE_FAILURE",
                       wscrt_error_name(WSCRT_ERROR_WEBSOCKET_UPGRADE_FAILURE)) == 0);
    ASSERT_TRUE(strcmp("Control frames must be final.",
                       wscrt_error_str(WSCRT_ERROR_WEBSOCKET_CONTROL_FRAME_FRAGMENTED)) == 0);
    ASSERT_TRUE(strcmp("WSCRT_ERROR_TLS_CERT_EXPIRED", wscrt_error_name(0x0804)) == 0);
    return 0;
}

static int s_test_every_code_has_a_name_and_message(struct wscrt_allocator *allocator) {
    (void)allocator;
#define S_CHECK_ENTRY(name, value, message)                                                                            \
    ASSERT_TRUE(strcmp(#name, wscrt_error_name(value)) == 0);                                                          \
    ASSERT_TRUE(strcmp(message, wscrt_error_str(value)) == 0);
    WSCRT_ERROR_LIST(S_CHECK_ENTRY)
#undef S_CHECK_ENTRY
    return 0;
}

static int s_test_unknown_codes(struct wscrt_allocator *allocator) {
    (void)allocator;
    static const int unknown[] = {-1, 0x0010, 0x03FF, 0x0BFF, 0x1FFF, 123456};
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); ++i) {
        ASSERT_TRUE(strcmp("WSCRT_ERROR_UNKNOWN", wscrt_error_name(unknown[i])) == 0);
        ASSERT_TRUE(strcmp("Unknown error.", wscrt_error_str(unknown[i])) == 0);
    }
    return 0;
}

static int s_test_raise_errno_maps_socket_errors(struct wscrt_allocator *allocator) {
    (void)allocator;
    static const int map[][2] = {
        {ECONNREFUSED, WSCRT_ERROR_IO_SOCKET_CONNECTION_REFUSED},
        {ETIMEDOUT, WSCRT_ERROR_IO_SOCKET_TIMEOUT},
        {ECONNRESET, WSCRT_ERROR_IO_SOCKET_CONNECTION_RESET},
        {EPIPE, WSCRT_ERROR_IO_BROKEN_PIPE},
        {ENETUNREACH, WSCRT_ERROR_IO_SOCKET_NETWORK_DOWN},
        {ENETDOWN, WSCRT_ERROR_IO_SOCKET_NETWORK_DOWN},
        {EHOSTUNREACH, WSCRT_ERROR_IO_SOCKET_NO_ROUTE},
        {EAGAIN, WSCRT_ERROR_IO_READ_WOULD_BLOCK},
        {EWOULDBLOCK, WSCRT_ERROR_IO_READ_WOULD_BLOCK},
        {EMFILE, WSCRT_ERROR_IO_TOO_MANY_FILES},
        {ENFILE, WSCRT_ERROR_IO_TOO_MANY_FILES},
        {ENOMEM, WSCRT_ERROR_OOM},
        {EINVAL, WSCRT_ERROR_INVALID_ARGUMENT},
        {ENOTCONN, WSCRT_ERROR_IO_SOCKET_NOT_CONNECTED},
        {EACCES, WSCRT_ERROR_SYS_CALL_FAILURE},
        {0, WSCRT_ERROR_SYS_CALL_FAILURE},
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); ++i) {
        ASSERT_ERROR(map[i][1], wscrt_raise_errno(map[i][0]));
    }
    wscrt_reset_error();
    return 0;
}

WSCRT_TEST_MAIN(s_test_raise_sets_thread_local_code, s_test_error_is_per_thread,
                s_test_names_and_messages_come_from_the_table, s_test_every_code_has_a_name_and_message,
                s_test_unknown_codes, s_test_raise_errno_maps_socket_errors)
