#include "io/timer_heap.h"

#include <assert.h>

#include "common/allocator.h"
#include "io/event_loop.h"

/* Room for this many timers before the first grow: most loops carry a few
 * connect/handshake/close timeouts per connection. */
#define S_INITIAL_CAPACITY 16

static bool s_entry_less(const struct wscrt_timer_heap_entry *a, const struct wscrt_timer_heap_entry *b) {
    if (a->timestamp != b->timestamp) {
        return a->timestamp < b->timestamp;
    }
    return a->sequence < b->sequence;
}

static void s_place_entry(struct wscrt_timer_heap *heap, size_t index, struct wscrt_timer_heap_entry entry) {
    heap->entries[index] = entry;
    entry.task->heap_index = (uint32_t)index;
}

static void s_sift_up(struct wscrt_timer_heap *heap, size_t index) {
    struct wscrt_timer_heap_entry entry = heap->entries[index];
    while (index > 0) {
        size_t parent = (index - 1) / 2;
        if (!s_entry_less(&entry, &heap->entries[parent])) {
            break;
        }
        s_place_entry(heap, index, heap->entries[parent]);
        index = parent;
    }
    s_place_entry(heap, index, entry);
}

static void s_sift_down(struct wscrt_timer_heap *heap, size_t index) {
    struct wscrt_timer_heap_entry entry = heap->entries[index];
    for (;;) {
        size_t child = 2 * index + 1;
        if (child >= heap->size) {
            break;
        }
        if (child + 1 < heap->size && s_entry_less(&heap->entries[child + 1], &heap->entries[child])) {
            ++child;
        }
        if (!s_entry_less(&heap->entries[child], &entry)) {
            break;
        }
        s_place_entry(heap, index, heap->entries[child]);
        index = child;
    }
    s_place_entry(heap, index, entry);
}

void wscrt_timer_heap_init(struct wscrt_timer_heap *heap, struct wscrt_allocator *allocator) {
    heap->allocator = allocator;
    heap->entries = NULL;
    heap->size = 0;
    heap->capacity = 0;
    heap->next_sequence = 0;
}

void wscrt_timer_heap_clean_up(struct wscrt_timer_heap *heap) {
    wscrt_mem_release(heap->allocator, heap->entries);
    heap->entries = NULL;
    heap->size = 0;
    heap->capacity = 0;
}

void wscrt_timer_heap_push(struct wscrt_timer_heap *heap, struct wscrt_task *task) {
    if (heap->size == heap->capacity) {
        size_t new_capacity = heap->capacity == 0 ? S_INITIAL_CAPACITY : heap->capacity * 2;
        heap->entries = wscrt_mem_realloc(heap->allocator, heap->entries,
                                          heap->capacity * sizeof(struct wscrt_timer_heap_entry),
                                          new_capacity * sizeof(struct wscrt_timer_heap_entry));
        heap->capacity = new_capacity;
    }
    struct wscrt_timer_heap_entry entry = {
        .timestamp = task->timestamp,
        .sequence = heap->next_sequence++,
        .task = task,
    };
    size_t index = heap->size++;
    s_place_entry(heap, index, entry);
    s_sift_up(heap, index);
}

struct wscrt_task *wscrt_timer_heap_peek(const struct wscrt_timer_heap *heap) {
    return heap->size == 0 ? NULL : heap->entries[0].task;
}

void wscrt_timer_heap_remove(struct wscrt_timer_heap *heap, struct wscrt_task *task) {
    size_t index = task->heap_index;
    assert(index < heap->size && heap->entries[index].task == task);
    task->heap_index = WSCRT_TASK_NOT_IN_HEAP;
    size_t last = --heap->size;
    if (index == last) {
        return;
    }
    /* Fill the hole with the last entry, which may belong above or below it. */
    s_place_entry(heap, index, heap->entries[last]);
    if (index > 0 && s_entry_less(&heap->entries[index], &heap->entries[(index - 1) / 2])) {
        s_sift_up(heap, index);
    } else {
        s_sift_down(heap, index);
    }
}

struct wscrt_task *wscrt_timer_heap_pop(struct wscrt_timer_heap *heap) {
    if (heap->size == 0) {
        return NULL;
    }
    struct wscrt_task *task = heap->entries[0].task;
    wscrt_timer_heap_remove(heap, task);
    return task;
}
