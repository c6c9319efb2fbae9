#include <malloc.h>
#include <pthread.h>
#include <stdint.h>

#include "common/allocator.h"
#include "common/clock.h"
#include "common/ref_count.h"
#include "test_harness.h"

static int s_test_tracer_counts_bytes_and_blocks(struct wscrt_allocator *allocator) {
    struct wscrt_allocator *tracer = wscrt_mem_tracer_new(allocator);
    ASSERT_UINT_EQ(0, wscrt_mem_tracer_bytes(tracer));
    ASSERT_UINT_EQ(0, wscrt_mem_tracer_count(tracer));

    void *a = wscrt_mem_acquire(tracer, 100);
    void *b = wscrt_mem_calloc(tracer, 3, 10);
    ASSERT_UINT_EQ(130, wscrt_mem_tracer_bytes(tracer));
    ASSERT_UINT_EQ(2, wscrt_mem_tracer_count(tracer));
    /* The inner allocator sees each block plus its header. */
    ASSERT_UINT_EQ(2, wscrt_mem_tracer_count(allocator) - 1);

    wscrt_mem_release(tracer, a);
    ASSERT_UINT_EQ(30, wscrt_mem_tracer_bytes(tracer));
    ASSERT_UINT_EQ(1, wscrt_mem_tracer_count(tracer));
    wscrt_mem_release(tracer, b);
    ASSERT_UINT_EQ(0, wscrt_mem_tracer_bytes(tracer));
    ASSERT_UINT_EQ(0, wscrt_mem_tracer_count(tracer));

    wscrt_mem_tracer_destroy(tracer);
    return 0;
}

static int s_test_blocks_are_16_byte_aligned(struct wscrt_allocator *allocator) {
    void *blocks[8];
    for (size_t i = 0; i < 8; ++i) {
        blocks[i] = wscrt_mem_acquire(allocator, i * 7 + 1);
        ASSERT_UINT_EQ(0, (uintptr_t)blocks[i] % 16);
    }
    for (size_t i = 0; i < 8; ++i) {
        wscrt_mem_release(allocator, blocks[i]);
    }
    return 0;
}

static int s_test_calloc_zeroes(struct wscrt_allocator *allocator) {
    uint8_t *mem = wscrt_mem_calloc(allocator, 64, 4);
    for (size_t i = 0; i < 256; ++i) {
        ASSERT_UINT_EQ(0, mem[i]);
    }
    wscrt_mem_release(allocator, mem);
    return 0;
}

static int s_test_realloc_keeps_counts_and_contents(struct wscrt_allocator *allocator) {
    uint8_t *mem = wscrt_mem_realloc(allocator, NULL, 0, 16); /* NULL ptr acts as acquire */
    ASSERT_UINT_EQ(16, wscrt_mem_tracer_bytes(allocator));
    ASSERT_UINT_EQ(1, wscrt_mem_tracer_count(allocator));
    for (size_t i = 0; i < 16; ++i) {
        mem[i] = (uint8_t)i;
    }
    mem = wscrt_mem_realloc(allocator, mem, 16, 4096);
    ASSERT_UINT_EQ(4096, wscrt_mem_tracer_bytes(allocator));
    ASSERT_UINT_EQ(1, wscrt_mem_tracer_count(allocator));
    for (size_t i = 0; i < 16; ++i) {
        ASSERT_UINT_EQ(i, mem[i]);
    }
    mem = wscrt_mem_realloc(allocator, mem, 4096, 8);
    ASSERT_UINT_EQ(8, wscrt_mem_tracer_bytes(allocator));
    ASSERT_UINT_EQ(1, wscrt_mem_tracer_count(allocator));
    ASSERT_UINT_EQ(7, mem[7]);
    ASSERT_TRUE(wscrt_mem_realloc(allocator, mem, 8, 0) == NULL); /* size 0 releases */
    ASSERT_UINT_EQ(0, wscrt_mem_tracer_bytes(allocator));
    ASSERT_UINT_EQ(0, wscrt_mem_tracer_count(allocator));
    return 0;
}

static int s_test_release_null_is_noop(struct wscrt_allocator *allocator) {
    wscrt_mem_release(allocator, NULL);
    wscrt_mem_release(wscrt_default_allocator(), NULL);
    ASSERT_UINT_EQ(0, wscrt_mem_tracer_count(allocator));
    return 0;
}

static int s_test_default_allocator_works(struct wscrt_allocator *allocator) {
    (void)allocator;
    struct wscrt_allocator *plain = wscrt_default_allocator();
    ASSERT_TRUE(plain == wscrt_default_allocator());
    void *zero = wscrt_mem_acquire(plain, 0);
    ASSERT_TRUE(zero != NULL);
    wscrt_mem_release(plain, zero);
    char *text = wscrt_mem_acquire(plain, 6);
    memcpy(text, "hello", 6);
    text = wscrt_mem_realloc(plain, text, 6, 1 << 20);
    ASSERT_BYTES_EQ("hello", 6, text, 6);
    wscrt_mem_release(plain, text);
    return 0;
}

static int s_test_malloc_tracer_counts_what_malloc_gives(struct wscrt_allocator *allocator) {
    (void)allocator;
    struct wscrt_allocator *tracer = wscrt_mem_tracer_new_malloc();
    uint8_t *a = wscrt_mem_acquire(tracer, 100);
    uint8_t *b = wscrt_mem_calloc(tracer, 3, 10);
    /* No header: the pointers are malloc's own, and the count is their usable size. */
    size_t a_size = malloc_usable_size(a);
    size_t b_size = malloc_usable_size(b);
    ASSERT_TRUE(a_size >= 100 && a_size < 100 + 16);
    ASSERT_TRUE(b_size >= 30 && b_size < 30 + 16);
    ASSERT_UINT_EQ(a_size + b_size, wscrt_mem_tracer_bytes(tracer));
    ASSERT_UINT_EQ(2, wscrt_mem_tracer_count(tracer));
    ASSERT_UINT_EQ(0, (uintptr_t)a % 16);

    memset(a, 7, 100);
    a = wscrt_mem_realloc(tracer, a, 100, 5000);
    ASSERT_UINT_EQ(7, a[99]);
    ASSERT_UINT_EQ(malloc_usable_size(a) + b_size, wscrt_mem_tracer_bytes(tracer));
    ASSERT_UINT_EQ(2, wscrt_mem_tracer_count(tracer));

    wscrt_mem_release(tracer, a);
    ASSERT_UINT_EQ(b_size, wscrt_mem_tracer_bytes(tracer));
    ASSERT_UINT_EQ(1, wscrt_mem_tracer_count(tracer));
    wscrt_mem_release(tracer, b);
    void *empty = wscrt_mem_acquire(tracer, 0);
    ASSERT_UINT_EQ(1, wscrt_mem_tracer_count(tracer));
    wscrt_mem_release(tracer, empty);
    ASSERT_UINT_EQ(0, wscrt_mem_tracer_bytes(tracer));
    ASSERT_UINT_EQ(0, wscrt_mem_tracer_count(tracer));
    wscrt_mem_tracer_destroy(tracer);
    return 0;
}

#define S_THREADS 4
#define S_ROUNDS 10000

static void *s_churn(void *arg) {
    struct wscrt_allocator *tracer = arg;
    void *held[8] = {0};
    for (size_t i = 0; i < S_ROUNDS; ++i) {
        size_t slot = i % 8;
        wscrt_mem_release(tracer, held[slot]);
        held[slot] = wscrt_mem_acquire(tracer, (i % 13) + 1);
        if (i % 5 == 0) {
            held[slot] = wscrt_mem_realloc(tracer, held[slot], (i % 13) + 1, (i % 29) + 1);
        }
    }
    for (size_t slot = 0; slot < 8; ++slot) {
        wscrt_mem_release(tracer, held[slot]);
    }
    return NULL;
}

/* S_THREADS threads churn through `tracer` at once; every count is back at zero afterwards. */
static int s_churn_from_threads(struct wscrt_allocator *tracer) {
    pthread_t threads[S_THREADS];
    for (size_t i = 0; i < S_THREADS; ++i) {
        ASSERT_INT_EQ(0, pthread_create(&threads[i], NULL, s_churn, tracer));
    }
    for (size_t i = 0; i < S_THREADS; ++i) {
        pthread_join(threads[i], NULL);
    }
    ASSERT_UINT_EQ(0, wscrt_mem_tracer_bytes(tracer));
    ASSERT_UINT_EQ(0, wscrt_mem_tracer_count(tracer));
    return 0;
}

static int s_test_tracer_is_thread_safe(struct wscrt_allocator *allocator) {
    ASSERT_INT_EQ(0, s_churn_from_threads(allocator));
    struct wscrt_allocator *malloc_tracer = wscrt_mem_tracer_new_malloc();
    int result = s_churn_from_threads(malloc_tracer);
    wscrt_mem_tracer_destroy(malloc_tracer);
    return result;
}

struct s_counted {
    struct wscrt_ref_count ref;
    struct wscrt_allocator *allocator;
    int *destroyed;
};

static void s_counted_destroy(void *object) {
    struct s_counted *counted = object;
    ++*counted->destroyed;
    wscrt_mem_release(counted->allocator, counted);
}

static int s_test_ref_count_calls_on_zero_once(struct wscrt_allocator *allocator) {
    int destroyed = 0;
    struct s_counted *counted = wscrt_mem_calloc(allocator, 1, sizeof(*counted));
    counted->allocator = allocator;
    counted->destroyed = &destroyed;
    wscrt_ref_count_init(&counted->ref, counted, s_counted_destroy);
    ASSERT_TRUE(wscrt_ref_count_acquire(&counted->ref) == counted);
    ASSERT_UINT_EQ(1, wscrt_ref_count_release(&counted->ref));
    ASSERT_INT_EQ(0, destroyed);
    ASSERT_UINT_EQ(0, wscrt_ref_count_release(&counted->ref));
    ASSERT_INT_EQ(1, destroyed);
    return 0;
}

static int s_test_clock_is_monotonic(struct wscrt_allocator *allocator) {
    (void)allocator;
    uint64_t first = wscrt_clock_now_ns();
    uint64_t previous = first;
    for (int i = 0; i < 1000; ++i) {
        uint64_t now = wscrt_clock_now_ns();
        ASSERT_TRUE(now >= previous);
        previous = now;
    }
    ASSERT_TRUE(first > 0);
    return 0;
}

WSCRT_TEST_MAIN(s_test_tracer_counts_bytes_and_blocks, s_test_blocks_are_16_byte_aligned, s_test_calloc_zeroes,
                s_test_realloc_keeps_counts_and_contents, s_test_release_null_is_noop, s_test_default_allocator_works,
                s_test_malloc_tracer_counts_what_malloc_gives, s_test_tracer_is_thread_safe,
                s_test_ref_count_calls_on_zero_once, s_test_clock_is_monotonic)
