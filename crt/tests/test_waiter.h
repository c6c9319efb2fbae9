#ifndef WSCRT_TESTS_TEST_WAITER_H
#define WSCRT_TESTS_TEST_WAITER_H
/* A counter that test threads can wait on with a deadline (CLOCK_MONOTONIC), shared by the C tests. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <time.h>

struct s_waiter {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    long count;
};

static inline void s_waiter_init(struct s_waiter *waiter) {
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_mutex_init(&waiter->lock, NULL);
    pthread_cond_init(&waiter->cond, &attr);
    pthread_condattr_destroy(&attr);
    waiter->count = 0;
}

static inline void s_waiter_clean_up(struct s_waiter *waiter) {
    pthread_cond_destroy(&waiter->cond);
    pthread_mutex_destroy(&waiter->lock);
}

static inline void s_waiter_add(struct s_waiter *waiter, long amount) {
    pthread_mutex_lock(&waiter->lock);
    waiter->count += amount;
    pthread_cond_broadcast(&waiter->cond);
    pthread_mutex_unlock(&waiter->lock);
}

static inline void s_waiter_signal(struct s_waiter *waiter) {
    s_waiter_add(waiter, 1);
}

static inline struct timespec s_deadline_after_ms(int timeout_ms) {
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    return deadline;
}

/* True when count reached `target` within `timeout_ms`. */
static inline bool s_waiter_wait(struct s_waiter *waiter, long target, int timeout_ms) {
    struct timespec deadline = s_deadline_after_ms(timeout_ms);
    pthread_mutex_lock(&waiter->lock);
    int rc = 0;
    while (waiter->count < target && rc != ETIMEDOUT) {
        rc = pthread_cond_timedwait(&waiter->cond, &waiter->lock, &deadline);
    }
    bool reached = waiter->count >= target;
    pthread_mutex_unlock(&waiter->lock);
    return reached;
}

/* Back to a count of 0, for a fixture that is used again. */
static inline void s_waiter_reset(struct s_waiter *waiter) {
    pthread_mutex_lock(&waiter->lock);
    waiter->count = 0;
    pthread_mutex_unlock(&waiter->lock);
}

static inline long s_waiter_count(struct s_waiter *waiter) {
    pthread_mutex_lock(&waiter->lock);
    long count = waiter->count;
    pthread_mutex_unlock(&waiter->lock);
    return count;
}

#endif
