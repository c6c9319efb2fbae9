#include "common/clock.h"

#include <time.h>

uint64_t wscrt_clock_now_ns(void) {
    struct timespec ts;
    /* CLOCK_MONOTONIC cannot fail with a valid pointer on Linux. */
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * WSCRT_NS_PER_SEC + (uint64_t)ts.tv_nsec;
}
