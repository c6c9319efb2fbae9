/*
 * Block cache (block_cache.h). Each block carries a 16-byte header with its
 * capacity, so that a released block can be kept and matched to a later
 * request; the header keeps the 16-byte alignment malloc gives.
 */
#include "common/block_cache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "common/error.h"

struct s_header {
    size_t capacity;
    struct s_header *next_cached; /* while kept; also keeps the payload 16-byte aligned */
};

/* Kept blocks looked at per request: the most recently freed come first and, in a stream of frames of one
 * size, the first one fits. */
#define S_FIT_SEARCH 8

struct wscrt_block_cache {
    struct wscrt_allocator allocator; /* first: mem_* callbacks get it back from the allocator pointer */
    struct wscrt_allocator *wrapped;
    size_t min_block_size;
    size_t max_cached_bytes;
    /* The owner's reference plus one per block in use. */
    atomic_size_t refs;
    pthread_mutex_t lock;
    struct s_header *cached; /* most recently freed first; guarded by lock, as are the counts */
    size_t cached_count;
    size_t cached_bytes;
};

static struct wscrt_block_cache *s_cache(struct wscrt_allocator *allocator) {
    return (struct wscrt_block_cache *)allocator->impl;
}

/* Hands every kept block back; with the lock held. */
static void s_drop_cached_locked(struct wscrt_block_cache *cache) {
    while (cache->cached) {
        struct s_header *block = cache->cached;
        cache->cached = block->next_cached;
        wscrt_mem_release(cache->wrapped, block);
    }
    cache->cached_count = 0;
    cache->cached_bytes = 0;
}

static void s_unref(struct wscrt_block_cache *cache) {
    if (atomic_fetch_sub(&cache->refs, 1) != 1) {
        return;
    }
    s_drop_cached_locked(cache); /* nobody else can reach it any more */
    pthread_mutex_destroy(&cache->lock);
    wscrt_mem_release(cache->wrapped, cache);
}

/* A kept block of at least `size` bytes, not more than twice as large (a small frame does not take a large
 * block), or NULL. */
static struct s_header *s_take_cached(struct wscrt_block_cache *cache, size_t size) {
    struct s_header *found = NULL;
    pthread_mutex_lock(&cache->lock);
    struct s_header **link = &cache->cached;
    for (int looked = 0; *link && looked < S_FIT_SEARCH; ++looked, link = &(*link)->next_cached) {
        struct s_header *block = *link;
        if (block->capacity >= size && block->capacity / 2 <= size) {
            found = block;
            *link = block->next_cached;
            cache->cached_count--;
            cache->cached_bytes -= block->capacity;
            break;
        }
    }
    pthread_mutex_unlock(&cache->lock);
    return found;
}

static void *s_acquire(struct wscrt_allocator *allocator, size_t size) {
    struct wscrt_block_cache *cache = s_cache(allocator);
    struct s_header *block = size >= cache->min_block_size ? s_take_cached(cache, size) : NULL;
    if (!block) {
        if (size > SIZE_MAX - sizeof(struct s_header)) {
            return NULL;
        }
        block = wscrt_mem_acquire(cache->wrapped, sizeof(struct s_header) + size);
        block->capacity = size;
    }
    atomic_fetch_add(&cache->refs, 1);
    return block + 1;
}

static void s_release(struct wscrt_allocator *allocator, void *ptr) {
    struct wscrt_block_cache *cache = s_cache(allocator);
    struct s_header *block = (struct s_header *)ptr - 1;
    bool kept = false;
    if (block->capacity >= cache->min_block_size) {
        pthread_mutex_lock(&cache->lock);
        if (cache->cached_count < WSCRT_BLOCK_CACHE_MAX_BLOCKS &&
            cache->cached_bytes + block->capacity <= cache->max_cached_bytes) {
            block->next_cached = cache->cached;
            cache->cached = block;
            cache->cached_count++;
            cache->cached_bytes += block->capacity;
            kept = true;
        }
        pthread_mutex_unlock(&cache->lock);
    }
    if (!kept) {
        wscrt_mem_release(cache->wrapped, block);
    }
    s_unref(cache);
}

static void *s_realloc(struct wscrt_allocator *allocator, void *ptr, size_t old_size, size_t new_size) {
    void *moved = s_acquire(allocator, new_size);
    if (moved && ptr) {
        memcpy(moved, ptr, old_size < new_size ? old_size : new_size);
    }
    if (ptr) {
        s_release(allocator, ptr);
    }
    return moved;
}

struct wscrt_block_cache *wscrt_block_cache_new(struct wscrt_allocator *wrapped, size_t min_block_size,
                                                size_t max_cached_bytes) {
    struct wscrt_block_cache *cache = wscrt_mem_calloc(wrapped, 1, sizeof(struct wscrt_block_cache));
    cache->allocator.mem_acquire = s_acquire;
    cache->allocator.mem_release = s_release;
    cache->allocator.mem_realloc = s_realloc;
    cache->allocator.impl = cache;
    cache->wrapped = wrapped;
    cache->min_block_size = min_block_size;
    cache->max_cached_bytes = max_cached_bytes;
    atomic_init(&cache->refs, 1);
    pthread_mutex_init(&cache->lock, NULL);
    return cache;
}

struct wscrt_allocator *wscrt_block_cache_allocator(struct wscrt_block_cache *cache) {
    return &cache->allocator;
}

size_t wscrt_block_cache_cached_bytes(struct wscrt_block_cache *cache) {
    pthread_mutex_lock(&cache->lock);
    size_t bytes = cache->cached_bytes;
    pthread_mutex_unlock(&cache->lock);
    return bytes;
}

void wscrt_block_cache_trim(struct wscrt_block_cache *cache) {
    pthread_mutex_lock(&cache->lock);
    s_drop_cached_locked(cache);
    pthread_mutex_unlock(&cache->lock);
}

void wscrt_block_cache_release(struct wscrt_block_cache *cache) {
    if (cache) {
        s_unref(cache);
    }
}
