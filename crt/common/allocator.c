#include "common/allocator.h"

#include <malloc.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Out of memory is fatal by design (see allocator.h): no caller handles NULL. */
static void s_abort_oom(size_t size) {
    fprintf(stderr, "wscrt: out of memory allocating %zu bytes, aborting\n", size);
    fflush(stderr);
    abort();
}

static void *s_default_acquire(struct wscrt_allocator *allocator, size_t size) {
    (void)allocator;
    /* malloc(0) may return NULL; a 1-byte block keeps "never NULL" simple. */
    return malloc(size == 0 ? 1 : size);
}

static void s_default_release(struct wscrt_allocator *allocator, void *ptr) {
    (void)allocator;
    free(ptr);
}

static void *s_default_realloc(struct wscrt_allocator *allocator, void *ptr, size_t old_size, size_t new_size) {
    (void)allocator;
    (void)old_size;
    return realloc(ptr, new_size == 0 ? 1 : new_size);
}

static struct wscrt_allocator s_default_allocator = {
    .mem_acquire = s_default_acquire,
    .mem_release = s_default_release,
    .mem_realloc = s_default_realloc,
    .impl = NULL,
};

struct wscrt_allocator *wscrt_default_allocator(void) {
    return &s_default_allocator;
}

void *wscrt_mem_acquire(struct wscrt_allocator *allocator, size_t size) {
    void *mem = allocator->mem_acquire(allocator, size);
    if (mem == NULL) {
        s_abort_oom(size);
    }
    return mem;
}

void *wscrt_mem_calloc(struct wscrt_allocator *allocator, size_t count, size_t size) {
    if (size != 0 && count > SIZE_MAX / size) {
        fprintf(stderr, "wscrt: calloc overflow (%zu * %zu), aborting\n", count, size);
        fflush(stderr);
        abort();
    }
    size_t total = count * size;
    void *mem = wscrt_mem_acquire(allocator, total);
    memset(mem, 0, total);
    return mem;
}

void *wscrt_mem_realloc(struct wscrt_allocator *allocator, void *ptr, size_t old_size, size_t new_size) {
    if (ptr == NULL) {
        return wscrt_mem_acquire(allocator, new_size);
    }
    if (new_size == 0) {
        wscrt_mem_release(allocator, ptr);
        return NULL;
    }
    void *mem = allocator->mem_realloc(allocator, ptr, old_size, new_size);
    if (mem == NULL) {
        s_abort_oom(new_size);
    }
    return mem;
}

void wscrt_mem_release(struct wscrt_allocator *allocator, void *ptr) {
    if (ptr != NULL) {
        allocator->mem_release(allocator, ptr);
    }
}

/*
 * Tracking allocator. Each block is preceded by a 16-byte header holding the
 * user size, so release and realloc know what to subtract without trusting
 * the caller's old_size, and user pointers keep malloc's 16-byte alignment.
 */
#define WSCRT_TRACER_HEADER 16

struct wscrt_mem_tracer {
    struct wscrt_allocator base; /* first, so the allocator pointer is the tracer */
    struct wscrt_allocator *wrapped;
    atomic_size_t bytes;
    atomic_size_t count;
};

static size_t s_header_size_get(const void *header) {
    size_t size;
    memcpy(&size, header, sizeof(size));
    return size;
}

static void *s_tracer_acquire(struct wscrt_allocator *allocator, size_t size) {
    struct wscrt_mem_tracer *tracer = allocator->impl;
    if (size > SIZE_MAX - WSCRT_TRACER_HEADER) {
        return NULL;
    }
    uint8_t *block = wscrt_mem_acquire(tracer->wrapped, size + WSCRT_TRACER_HEADER);
    memcpy(block, &size, sizeof(size));
    atomic_fetch_add_explicit(&tracer->bytes, size, memory_order_relaxed);
    atomic_fetch_add_explicit(&tracer->count, 1, memory_order_relaxed);
    return block + WSCRT_TRACER_HEADER;
}

static void s_tracer_release(struct wscrt_allocator *allocator, void *ptr) {
    struct wscrt_mem_tracer *tracer = allocator->impl;
    uint8_t *block = (uint8_t *)ptr - WSCRT_TRACER_HEADER;
    size_t size = s_header_size_get(block);
    atomic_fetch_sub_explicit(&tracer->bytes, size, memory_order_relaxed);
    atomic_fetch_sub_explicit(&tracer->count, 1, memory_order_relaxed);
    wscrt_mem_release(tracer->wrapped, block);
}

static void *s_tracer_realloc(struct wscrt_allocator *allocator, void *ptr, size_t old_size, size_t new_size) {
    (void)old_size;
    struct wscrt_mem_tracer *tracer = allocator->impl;
    if (new_size > SIZE_MAX - WSCRT_TRACER_HEADER) {
        return NULL;
    }
    uint8_t *block = (uint8_t *)ptr - WSCRT_TRACER_HEADER;
    size_t recorded = s_header_size_get(block);
    block = wscrt_mem_realloc(
        tracer->wrapped, block, recorded + WSCRT_TRACER_HEADER, new_size + WSCRT_TRACER_HEADER);
    memcpy(block, &new_size, sizeof(new_size));
    /* Block count is unchanged; only the byte total moves. */
    atomic_fetch_add_explicit(&tracer->bytes, new_size, memory_order_relaxed);
    atomic_fetch_sub_explicit(&tracer->bytes, recorded, memory_order_relaxed);
    return block + WSCRT_TRACER_HEADER;
}

/*
 * The tracer over malloc itself needs no header: malloc_usable_size() tells
 * what a block holds (its request rounded up to malloc's granule), so each
 * block costs what malloc alone costs and the count is of usable bytes.
 */
static void *s_malloc_tracer_acquire(struct wscrt_allocator *allocator, size_t size) {
    struct wscrt_mem_tracer *tracer = allocator->impl;
    void *block = malloc(size == 0 ? 1 : size);
    if (block != NULL) {
        atomic_fetch_add_explicit(&tracer->bytes, malloc_usable_size(block), memory_order_relaxed);
        atomic_fetch_add_explicit(&tracer->count, 1, memory_order_relaxed);
    }
    return block;
}

static void s_malloc_tracer_release(struct wscrt_allocator *allocator, void *ptr) {
    struct wscrt_mem_tracer *tracer = allocator->impl;
    atomic_fetch_sub_explicit(&tracer->bytes, malloc_usable_size(ptr), memory_order_relaxed);
    atomic_fetch_sub_explicit(&tracer->count, 1, memory_order_relaxed);
    free(ptr);
}

static void *s_malloc_tracer_realloc(struct wscrt_allocator *allocator, void *ptr, size_t old_size, size_t new_size) {
    (void)old_size;
    struct wscrt_mem_tracer *tracer = allocator->impl;
    size_t before = malloc_usable_size(ptr);
    void *block = realloc(ptr, new_size);
    if (block != NULL) { /* on failure ptr is untouched and still counted */
        /* Block count is unchanged; only the byte total moves. */
        atomic_fetch_add_explicit(&tracer->bytes, malloc_usable_size(block), memory_order_relaxed);
        atomic_fetch_sub_explicit(&tracer->bytes, before, memory_order_relaxed);
    }
    return block;
}

struct wscrt_allocator *wscrt_mem_tracer_new_malloc(void) {
    struct wscrt_mem_tracer *tracer = wscrt_mem_acquire(wscrt_default_allocator(), sizeof(*tracer));
    tracer->base.mem_acquire = s_malloc_tracer_acquire;
    tracer->base.mem_release = s_malloc_tracer_release;
    tracer->base.mem_realloc = s_malloc_tracer_realloc;
    tracer->base.impl = tracer;
    tracer->wrapped = wscrt_default_allocator();
    atomic_init(&tracer->bytes, 0);
    atomic_init(&tracer->count, 0);
    return &tracer->base;
}

struct wscrt_allocator *wscrt_mem_tracer_new(struct wscrt_allocator *wrapped) {
    struct wscrt_mem_tracer *tracer = wscrt_mem_acquire(wrapped, sizeof(*tracer));
    tracer->base.mem_acquire = s_tracer_acquire;
    tracer->base.mem_release = s_tracer_release;
    tracer->base.mem_realloc = s_tracer_realloc;
    tracer->base.impl = tracer;
    tracer->wrapped = wrapped;
    atomic_init(&tracer->bytes, 0);
    atomic_init(&tracer->count, 0);
    return &tracer->base;
}

size_t wscrt_mem_tracer_bytes(struct wscrt_allocator *tracer) {
    struct wscrt_mem_tracer *impl = tracer->impl;
    return atomic_load_explicit(&impl->bytes, memory_order_relaxed);
}

size_t wscrt_mem_tracer_count(struct wscrt_allocator *tracer) {
    struct wscrt_mem_tracer *impl = tracer->impl;
    return atomic_load_explicit(&impl->count, memory_order_relaxed);
}

void wscrt_mem_tracer_destroy(struct wscrt_allocator *tracer) {
    if (tracer == NULL) {
        return;
    }
    struct wscrt_mem_tracer *impl = tracer->impl;
    wscrt_mem_release(impl->wrapped, impl);
}
