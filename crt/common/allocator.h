#ifndef WSCRT_COMMON_ALLOCATOR_H
#define WSCRT_COMMON_ALLOCATOR_H
/*
 * Every native allocation goes through a struct wscrt_allocator that is passed
 * in, never taken from a global. Out of memory is fatal (the process aborts
 * with a message), as in aws-c-common: no caller has to handle NULL.
 */
#include <stddef.h>

struct wscrt_allocator {
    void *(*mem_acquire)(struct wscrt_allocator *allocator, size_t size);
    void (*mem_release)(struct wscrt_allocator *allocator, void *ptr);
    void *(*mem_realloc)(struct wscrt_allocator *allocator, void *ptr, size_t old_size, size_t new_size);
    void *impl;
};

/* The plain malloc/free allocator. Never freed. */
struct wscrt_allocator *wscrt_default_allocator(void);

/* Never returns NULL for size > 0; aborts on exhaustion. */
void *wscrt_mem_acquire(struct wscrt_allocator *allocator, size_t size);
/* Zeroed memory; aborts on overflow of count * size or exhaustion. */
void *wscrt_mem_calloc(struct wscrt_allocator *allocator, size_t count, size_t size);
void *wscrt_mem_realloc(struct wscrt_allocator *allocator, void *ptr, size_t old_size, size_t new_size);
/* NULL is allowed and ignored. */
void wscrt_mem_release(struct wscrt_allocator *allocator, void *ptr);

/*
 * A tracking allocator wraps another one and counts live bytes and live
 * blocks with atomics (thread-safe). Tests assert both are back to their
 * starting values; Java reads them through Crt.nativeMemoryInUse().
 */
struct wscrt_allocator *wscrt_mem_tracer_new(struct wscrt_allocator *wrapped);
size_t wscrt_mem_tracer_bytes(struct wscrt_allocator *tracer);
size_t wscrt_mem_tracer_count(struct wscrt_allocator *tracer);
/*
 * A tracking allocator over malloc without a per-block header: it counts
 * malloc_usable_size() of each block (the request rounded up to malloc's
 * granule), so a block costs what malloc alone costs, 16 bytes less than
 * under wscrt_mem_tracer_new. The JNI library's allocator. Same accessors.
 */
struct wscrt_allocator *wscrt_mem_tracer_new_malloc(void);
/* Frees the tracer itself (not the blocks it still tracks). */
void wscrt_mem_tracer_destroy(struct wscrt_allocator *tracer);

#endif
