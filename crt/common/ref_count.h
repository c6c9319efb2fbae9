#ifndef WSCRT_COMMON_REF_COUNT_H
#define WSCRT_COMMON_REF_COUNT_H
#include <stdatomic.h>
#include <stddef.h>

typedef void(wscrt_on_zero_fn)(void *object);

struct wscrt_ref_count {
    atomic_size_t count;
    void *object;
    wscrt_on_zero_fn *on_zero;
};

/* Starts at 1. */
void wscrt_ref_count_init(struct wscrt_ref_count *ref_count, void *object, wscrt_on_zero_fn *on_zero);
void *wscrt_ref_count_acquire(struct wscrt_ref_count *ref_count);
/* Calls on_zero(object) when the count reaches 0; returns the new count. */
size_t wscrt_ref_count_release(struct wscrt_ref_count *ref_count);

#endif
