#include "common/ref_count.h"

void wscrt_ref_count_init(struct wscrt_ref_count *ref_count, void *object, wscrt_on_zero_fn *on_zero) {
    atomic_init(&ref_count->count, 1);
    ref_count->object = object;
    ref_count->on_zero = on_zero;
}

void *wscrt_ref_count_acquire(struct wscrt_ref_count *ref_count) {
    /* Relaxed suffices: the caller already holds a reference. */
    atomic_fetch_add_explicit(&ref_count->count, 1, memory_order_relaxed);
    return ref_count->object;
}

size_t wscrt_ref_count_release(struct wscrt_ref_count *ref_count) {
    /* acq_rel: every prior write by any owner happens-before on_zero. */
    size_t old = atomic_fetch_sub_explicit(&ref_count->count, 1, memory_order_acq_rel);
    if (old == 1 && ref_count->on_zero != NULL) {
        ref_count->on_zero(ref_count->object);
    }
    return old - 1;
}
