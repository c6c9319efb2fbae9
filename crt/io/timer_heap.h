#ifndef WSCRT_IO_TIMER_HEAP_H
#define WSCRT_IO_TIMER_HEAP_H
/*
 * Private to the event loop: a binary min-heap of scheduled tasks keyed by
 * (task->timestamp, insertion sequence), so that timers due at the same
 * instant run in the order they were scheduled. Each task records its slot in
 * task->heap_index (WSCRT_TASK_NOT_IN_HEAP when not in a heap), which makes removal of an
 * arbitrary task (cancellation) O(log n). Single-threaded: the loop thread owns it.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct wscrt_allocator;
struct wscrt_task;

struct wscrt_timer_heap_entry {
    uint64_t timestamp;
    uint64_t sequence;
    struct wscrt_task *task;
};

struct wscrt_timer_heap {
    struct wscrt_allocator *allocator;
    struct wscrt_timer_heap_entry *entries;
    size_t size;
    size_t capacity;
    uint64_t next_sequence;
};

void wscrt_timer_heap_init(struct wscrt_timer_heap *heap, struct wscrt_allocator *allocator);
void wscrt_timer_heap_clean_up(struct wscrt_timer_heap *heap);
/* Keyed by task->timestamp at the time of the push. Sets task->heap_index. */
void wscrt_timer_heap_push(struct wscrt_timer_heap *heap, struct wscrt_task *task);
/* The earliest task, or NULL when empty. */
struct wscrt_task *wscrt_timer_heap_peek(const struct wscrt_timer_heap *heap);
/* Removes and returns the earliest task (NULL when empty); its heap_index becomes WSCRT_TASK_NOT_IN_HEAP. */
struct wscrt_task *wscrt_timer_heap_pop(struct wscrt_timer_heap *heap);
/* Removes `task`, which must be in this heap; its heap_index becomes WSCRT_TASK_NOT_IN_HEAP. */
void wscrt_timer_heap_remove(struct wscrt_timer_heap *heap, struct wscrt_task *task);

static inline bool wscrt_timer_heap_empty(const struct wscrt_timer_heap *heap) {
    return heap->size == 0;
}

#endif
