#ifndef WSCRT_COMMON_LINKED_LIST_H
#define WSCRT_COMMON_LINKED_LIST_H
/* Intrusive doubly linked list with head and tail sentinels (all inline). */
#include <stdbool.h>
#include <stddef.h>

struct wscrt_linked_list_node {
    struct wscrt_linked_list_node *next;
    struct wscrt_linked_list_node *prev;
};

struct wscrt_linked_list {
    struct wscrt_linked_list_node head;
    struct wscrt_linked_list_node tail;
};

#define WSCRT_CONTAINER_OF(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

static inline void wscrt_linked_list_init(struct wscrt_linked_list *list) {
    list->head.prev = NULL;
    list->head.next = &list->tail;
    list->tail.prev = &list->head;
    list->tail.next = NULL;
}

static inline bool wscrt_linked_list_empty(const struct wscrt_linked_list *list) {
    return list->head.next == &list->tail;
}

static inline void wscrt_linked_list_insert_before(struct wscrt_linked_list_node *before,
                                                   struct wscrt_linked_list_node *node) {
    node->next = before;
    node->prev = before->prev;
    before->prev->next = node;
    before->prev = node;
}

static inline void wscrt_linked_list_push_back(struct wscrt_linked_list *list, struct wscrt_linked_list_node *node) {
    wscrt_linked_list_insert_before(&list->tail, node);
}

static inline void wscrt_linked_list_push_front(struct wscrt_linked_list *list, struct wscrt_linked_list_node *node) {
    wscrt_linked_list_insert_before(list->head.next, node);
}

static inline void wscrt_linked_list_remove(struct wscrt_linked_list_node *node) {
    node->prev->next = node->next;
    node->next->prev = node->prev;
    node->next = NULL;
    node->prev = NULL;
}

static inline struct wscrt_linked_list_node *wscrt_linked_list_front(const struct wscrt_linked_list *list) {
    return list->head.next;
}

static inline struct wscrt_linked_list_node *wscrt_linked_list_pop_front(struct wscrt_linked_list *list) {
    struct wscrt_linked_list_node *node = list->head.next;
    wscrt_linked_list_remove(node);
    return node;
}

static inline const struct wscrt_linked_list_node *wscrt_linked_list_end(const struct wscrt_linked_list *list) {
    return &list->tail;
}

/* Moves every node of `from` to the back of `to`; `from` becomes empty. */
static inline void wscrt_linked_list_move_all_back(struct wscrt_linked_list *to, struct wscrt_linked_list *from) {
    if (wscrt_linked_list_empty(from)) {
        return;
    }
    struct wscrt_linked_list_node *first = from->head.next;
    struct wscrt_linked_list_node *last = from->tail.prev;
    first->prev = to->tail.prev;
    to->tail.prev->next = first;
    last->next = &to->tail;
    to->tail.prev = last;
    wscrt_linked_list_init(from);
}

#endif
