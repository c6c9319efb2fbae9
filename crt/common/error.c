#include "common/error.h"

#include <errno.h>

static _Thread_local int s_last_error = WSCRT_ERROR_SUCCESS;

int wscrt_raise_error(int error_code) {
    s_last_error = error_code;
    return WSCRT_OP_ERR;
}

int wscrt_last_error(void) {
    return s_last_error;
}

void wscrt_reset_error(void) {
    s_last_error = WSCRT_ERROR_SUCCESS;
}

const char *wscrt_error_name(int error_code) {
    switch (error_code) {
#define WSCRT_ERROR_NAME_CASE(name, value, message)                                                                    \
    case value:                                                                                                        \
        return #name;
        WSCRT_ERROR_LIST(WSCRT_ERROR_NAME_CASE)
#undef WSCRT_ERROR_NAME_CASE
        default:
            return "WSCRT_ERROR_UNKNOWN";
    }
}

const char *wscrt_error_str(int error_code) {
    switch (error_code) {
#define WSCRT_ERROR_STR_CASE(name, value, message)                                                                     \
    case value:                                                                                                        \
        return message;
        WSCRT_ERROR_LIST(WSCRT_ERROR_STR_CASE)
#undef WSCRT_ERROR_STR_CASE
        default:
            return "Unknown error.";
    }
}

static int s_error_from_errno(int errno_value) {
    switch (errno_value) {
        case ECONNREFUSED:
            return WSCRT_ERROR_IO_SOCKET_CONNECTION_REFUSED;
        case ETIMEDOUT:
            return WSCRT_ERROR_IO_SOCKET_TIMEOUT;
        case ECONNRESET:
            return WSCRT_ERROR_IO_SOCKET_CONNECTION_RESET;
        case EPIPE:
            return WSCRT_ERROR_IO_BROKEN_PIPE;
        case ENETUNREACH:
        case ENETDOWN:
            return WSCRT_ERROR_IO_SOCKET_NETWORK_DOWN;
        case EHOSTUNREACH:
            return WSCRT_ERROR_IO_SOCKET_NO_ROUTE;
        case EAGAIN:
#if EWOULDBLOCK != EAGAIN
        case EWOULDBLOCK:
#endif
            return WSCRT_ERROR_IO_READ_WOULD_BLOCK;
        case EMFILE:
        case ENFILE:
            return WSCRT_ERROR_IO_TOO_MANY_FILES;
        case ENOMEM:
            return WSCRT_ERROR_OOM;
        case EINVAL:
            return WSCRT_ERROR_INVALID_ARGUMENT;
        case ENOTCONN:
            return WSCRT_ERROR_IO_SOCKET_NOT_CONNECTED;
        default:
            return WSCRT_ERROR_SYS_CALL_FAILURE;
    }
}

int wscrt_raise_errno(int errno_value) {
    return wscrt_raise_error(s_error_from_errno(errno_value));
}
