#ifndef WSCRT_TESTS_IO_LOOPBACK_HELPERS_H
#define WSCRT_TESTS_IO_LOOPBACK_HELPERS_H
/*
 * Helpers shared by the socket, channel and bootstrap tests: bounded waits,
 * running a function on a loop thread, loopback listeners, and the byte
 * pattern used to check transferred content. Everything is static (each test
 * is its own executable).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "io/event_loop.h"
#include "test_loop_call.h"

/* Every wait in these tests is bounded by this unless it says otherwise. */
#define S_WAIT_MS 10000

/* ---- loopback sockets -------------------------------------------------- */

/* A listening socket on 127.0.0.1 (or ::1) port 0; -1 if the family is unavailable. */
static inline int s_listener_open(int family, int backlog, uint16_t *port) {
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -1;
    }
    struct sockaddr_storage storage;
    memset(&storage, 0, sizeof(storage));
    socklen_t len;
    if (family == AF_INET) {
        struct sockaddr_in *in4 = (struct sockaddr_in *)&storage;
        in4->sin_family = AF_INET;
        in4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        len = sizeof(*in4);
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&storage;
        in6->sin6_family = AF_INET6;
        in6->sin6_addr = in6addr_loopback;
        len = sizeof(*in6);
    }
    if (bind(fd, (struct sockaddr *)&storage, len) != 0 || listen(fd, backlog) != 0 ||
        getsockname(fd, (struct sockaddr *)&storage, &len) != 0) {
        close(fd);
        return -1;
    }
    *port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&storage)->sin_port
                                    : ((struct sockaddr_in6 *)&storage)->sin6_port);
    return fd;
}

/* A loopback port that nothing listens on: bound (so no one else gets it
 * while the test runs) but never listened on, so connects are refused. */
static inline int s_closed_port_open(uint16_t *port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in in4;
    memset(&in4, 0, sizeof(in4));
    in4.sin_family = AF_INET;
    in4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(in4);
    if (fd < 0 || bind(fd, (struct sockaddr *)&in4, len) != 0 || getsockname(fd, (struct sockaddr *)&in4, &len) != 0) {
        if (fd >= 0) {
            close(fd);
        }
        return -1;
    }
    *port = ntohs(in4.sin_port);
    return fd;
}

/* accept() bounded by timeout_ms; -1 on timeout. */
static inline int s_accept_within(int listener, int timeout_ms) {
    struct pollfd pfd = {.fd = listener, .events = POLLIN};
    if (poll(&pfd, 1, timeout_ms) != 1) {
        return -1;
    }
    return accept4(listener, NULL, NULL, SOCK_CLOEXEC);
}

/* Reads until `len` bytes or EOF/error/deadline; returns bytes read. */
static inline size_t s_read_fully(int fd, uint8_t *out, size_t len, int timeout_ms) {
    size_t got = 0;
    struct timespec deadline = s_deadline_after_ms(timeout_ms);
    while (got < len) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long left_ms = (deadline.tv_sec - now.tv_sec) * 1000 + (deadline.tv_nsec - now.tv_nsec) / 1000000;
        if (left_ms <= 0) {
            break;
        }
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (poll(&pfd, 1, (int)left_ms) != 1) {
            break;
        }
        ssize_t n = recv(fd, out + got, len - got, MSG_DONTWAIT);
        if (n == 0) {
            break;
        }
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) {
                continue;
            }
            break;
        }
        got += (size_t)n;
    }
    return got;
}

/* True if the peer closed (EOF) within timeout_ms; discards data before it. */
static inline bool s_wait_for_eof(int fd, int timeout_ms) {
    uint8_t scratch[4096];
    struct timespec deadline = s_deadline_after_ms(timeout_ms);
    for (;;) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long left_ms = (deadline.tv_sec - now.tv_sec) * 1000 + (deadline.tv_nsec - now.tv_nsec) / 1000000;
        if (left_ms <= 0) {
            return false;
        }
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (poll(&pfd, 1, (int)left_ms) != 1) {
            return false;
        }
        ssize_t n = recv(fd, scratch, sizeof(scratch), MSG_DONTWAIT);
        if (n == 0) {
            return true;
        }
        if (n < 0 && errno != EAGAIN && errno != EINTR) {
            return errno == ECONNRESET;
        }
    }
}

/* The content of every transfer: position-dependent with a prime period, so
 * lost, duplicated or reordered chunks show up. */
static inline uint8_t s_pattern_byte(uint64_t offset) {
    return (uint8_t)((offset % 251) ^ (offset >> 16));
}

static inline void s_pattern_fill(uint8_t *out, size_t len, uint64_t offset) {
    for (size_t i = 0; i < len; ++i) {
        out[i] = s_pattern_byte(offset + i);
    }
}

/* Index of the first mismatch, or len if all match. */
static inline size_t s_pattern_check(const uint8_t *data, size_t len, uint64_t offset) {
    for (size_t i = 0; i < len; ++i) {
        if (data[i] != s_pattern_byte(offset + i)) {
            return i;
        }
    }
    return len;
}

#endif
