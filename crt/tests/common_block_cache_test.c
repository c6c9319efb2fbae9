/*
 * The block cache (common/block_cache.h): what it keeps, for how long, and
 * that every byte goes back to the allocator it wraps (the harness checks the
 * tracking allocator after each test).
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "common/block_cache.h"
#include "test_harness.h"

#define MIN_BLOCK 4096
#define MAX_CACHED (64 * 1024)

static int s_test_a_block_freed_while_others_are_in_use_is_reused(struct wscrt_allocator *allocator) {
    struct wscrt_block_cache *cache = wscrt_block_cache_new(allocator, MIN_BLOCK, MAX_CACHED);
    struct wscrt_allocator *blocks = wscrt_block_cache_allocator(cache);
    void *streaming = wscrt_mem_acquire(blocks, 8000);
    void *first = wscrt_mem_acquire(blocks, 8000);
    size_t wrapped_before = wscrt_mem_tracer_bytes(allocator);
    wscrt_mem_release(blocks, first);
    ASSERT_UINT_EQ(8000, wscrt_block_cache_cached_bytes(cache));
    ASSERT_UINT_EQ(wrapped_before, wscrt_mem_tracer_bytes(allocator)); /* kept, not freed */
    void *second = wscrt_mem_acquire(blocks, 7000); /* fits: at least 7000, at most twice it */
    ASSERT_TRUE(second == first);
    ASSERT_UINT_EQ(0, wscrt_block_cache_cached_bytes(cache));
    wscrt_mem_release(blocks, second);
    void *small = wscrt_mem_acquire(blocks, 3000); /* 8000 is more than twice 3000: a new block */
    ASSERT_TRUE(small != second);
    wscrt_mem_release(blocks, small);
    ASSERT_UINT_EQ(8000, wscrt_block_cache_cached_bytes(cache)); /* blocks under MIN_BLOCK are never kept */
    wscrt_mem_release(blocks, streaming);
    wscrt_block_cache_release(cache);
    return 0;
}

static int s_test_trim_gives_every_kept_block_back(struct wscrt_allocator *allocator) {
    struct wscrt_block_cache *cache = wscrt_block_cache_new(allocator, MIN_BLOCK, MAX_CACHED);
    struct wscrt_allocator *blocks = wscrt_block_cache_allocator(cache);
    size_t idle_bytes = wscrt_mem_tracer_bytes(allocator);
    void *a = wscrt_mem_acquire(blocks, 10000);
    void *b = wscrt_mem_acquire(blocks, 10000);
    wscrt_mem_release(blocks, a);
    wscrt_mem_release(blocks, b);
    ASSERT_UINT_EQ(20000, wscrt_block_cache_cached_bytes(cache)); /* kept while nothing is in use, too */
    wscrt_block_cache_trim(cache);
    ASSERT_UINT_EQ(0, wscrt_block_cache_cached_bytes(cache));
    ASSERT_UINT_EQ(idle_bytes, wscrt_mem_tracer_bytes(allocator));
    wscrt_block_cache_release(cache);
    return 0;
}

/* Frees all but the last of `count` blocks of `size` bytes; returns the bytes the cache kept. */
static size_t s_cached_after_freeing_all_but_one(struct wscrt_block_cache *cache, size_t count, size_t size) {
    struct wscrt_allocator *blocks = wscrt_block_cache_allocator(cache);
    void *in_use[80];
    for (size_t i = 0; i < count; ++i) {
        in_use[i] = wscrt_mem_acquire(blocks, size);
    }
    for (size_t i = 0; i + 1 < count; ++i) {
        wscrt_mem_release(blocks, in_use[i]);
    }
    size_t cached = wscrt_block_cache_cached_bytes(cache);
    wscrt_mem_release(blocks, in_use[count - 1]);
    return cached;
}

static int s_test_what_is_kept_stays_within_its_bounds(struct wscrt_allocator *allocator) {
    struct wscrt_block_cache *by_count = wscrt_block_cache_new(allocator, MIN_BLOCK, 1024 * 1024);
    ASSERT_UINT_EQ(WSCRT_BLOCK_CACHE_MAX_BLOCKS * 5000, s_cached_after_freeing_all_but_one(by_count, 80, 5000));
    wscrt_block_cache_release(by_count);
    struct wscrt_block_cache *by_bytes = wscrt_block_cache_new(allocator, MIN_BLOCK, MAX_CACHED);
    ASSERT_UINT_EQ(3 * 20000, s_cached_after_freeing_all_but_one(by_bytes, 10, 20000)); /* a 4th passes 64 KiB */
    wscrt_block_cache_release(by_bytes);
    return 0;
}

static int s_test_blocks_may_outlive_the_owner(struct wscrt_allocator *allocator) {
    struct wscrt_block_cache *cache = wscrt_block_cache_new(allocator, MIN_BLOCK, MAX_CACHED);
    struct wscrt_allocator *blocks = wscrt_block_cache_allocator(cache);
    uint8_t *a = wscrt_mem_acquire(blocks, 6000);
    void *b = wscrt_mem_acquire(blocks, 6000);
    wscrt_block_cache_release(cache); /* the owner goes first, as a websocket may before its last frame */
    a[5999] = 1;                      /* still valid */
    wscrt_mem_release(blocks, a);
    wscrt_mem_release(blocks, b); /* the last block takes the cache, and what it kept: the harness sees no leak */
    return 0;
}

struct s_stream {
    struct wscrt_allocator *blocks;
    void *queue[64];
    size_t head;
    size_t tail;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    bool done;
};

/* The loop thread's part: frees frames in order as they are "written". */
static void *s_free_frames(void *arg) {
    struct s_stream *stream = arg;
    pthread_mutex_lock(&stream->lock);
    while (!stream->done || stream->head != stream->tail) {
        if (stream->head == stream->tail) {
            pthread_cond_wait(&stream->changed, &stream->lock);
            continue;
        }
        void *block = stream->queue[stream->head++ % 64];
        pthread_cond_broadcast(&stream->changed);
        pthread_mutex_unlock(&stream->lock);
        wscrt_mem_release(stream->blocks, block);
        pthread_mutex_lock(&stream->lock);
    }
    pthread_mutex_unlock(&stream->lock);
    return NULL;
}

/* One thread allocates, another frees (as a sender and an event loop do); under TSan in scripts/tsan.sh. */
static int s_test_blocks_freed_on_another_thread_come_back_intact(struct wscrt_allocator *allocator) {
    struct wscrt_block_cache *cache = wscrt_block_cache_new(allocator, MIN_BLOCK, MAX_CACHED);
    struct s_stream stream = {.blocks = wscrt_block_cache_allocator(cache)};
    pthread_mutex_init(&stream.lock, NULL);
    pthread_cond_init(&stream.changed, NULL);
    pthread_t freer;
    ASSERT_INT_EQ(0, pthread_create(&freer, NULL, s_free_frames, &stream));
    for (size_t i = 0; i < 20000; ++i) {
        size_t size = 4096 + (i % 7) * 1000;
        uint8_t *block = wscrt_mem_acquire(stream.blocks, size);
        memset(block, (int)(i & 0xFF), size);
        pthread_mutex_lock(&stream.lock);
        while (stream.tail - stream.head == 64) {
            pthread_cond_wait(&stream.changed, &stream.lock);
        }
        stream.queue[stream.tail++ % 64] = block;
        pthread_cond_broadcast(&stream.changed);
        pthread_mutex_unlock(&stream.lock);
    }
    pthread_mutex_lock(&stream.lock);
    stream.done = true;
    pthread_cond_broadcast(&stream.changed);
    pthread_mutex_unlock(&stream.lock);
    ASSERT_INT_EQ(0, pthread_join(freer, NULL));
    ASSERT_TRUE(wscrt_block_cache_cached_bytes(cache) <= MAX_CACHED);
    pthread_mutex_destroy(&stream.lock);
    pthread_cond_destroy(&stream.changed);
    wscrt_block_cache_release(cache);
    return 0;
}

WSCRT_TEST_MAIN(s_test_a_block_freed_while_others_are_in_use_is_reused, s_test_trim_gives_every_kept_block_back,
                s_test_what_is_kept_stays_within_its_bounds, s_test_blocks_may_outlive_the_owner,
                s_test_blocks_freed_on_another_thread_come_back_intact)
