#ifndef WSCRT_COMMON_CLOCK_H
#define WSCRT_COMMON_CLOCK_H
#include <stdint.h>

#define WSCRT_NS_PER_MS 1000000ULL
#define WSCRT_NS_PER_SEC 1000000000ULL

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t wscrt_clock_now_ns(void);

#endif
