#ifndef WSCRT_COMMON_LINKED_LIST_H
#define WSCRT_COMMON_LINKED_LIST_H
/* Intrusive circular doubly linked list with one sentinel (all inline): the sentinel's next is the first node
 * and its prev the last; an empty list's sentinel points at itself. 16 bytes a list (an idle connection
 * embeds several). */
#include <stdbool.h>
#include <stddef.h>

struct wscrt_linked_list_node {
    struct wscrt_linked_list_node *next;
    struct wscrt_linked_list_node *prev;
};

struct wscrt_linked_list {
    struct wscrt_linked_list_node sentinel;
};

#define WSCRT_CONTAINER_OF(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

static inline void wscrt_linked_list_init(struct wscrt_linked_list *list) {
    list->sentinel.next = &list->sentinel;
    list->sentinel.prev = &list->sentinel;
}

static inline bool wscrt_linked_list_empty(const struct wscrt_linked_list *list) {
    return list->sentinel.next == &list->sentinel;
}

static inline void wscrt_linked_list_insert_before(struct wscrt_linked_list_node *before,
                                                   struct wscrt_linked_list_node *node) {
    node->next = before;
    node->prev = before->prev;
    before->prev->next = node;
    before->prev = node;
}

static inline void wscrt_linked_list_push_back(struct wscrt_linked_list *list, struct wscrt_linked_list_node *node) {
    wscrt_linked_list_insert_before(&list->sentinel, node);
}

static inline void wscrt_linked_list_push_front(struct wscrt_linked_list *list, struct wscrt_linked_list_node *node) {
    wscrt_linked_list_insert_before(list->sentinel.next, node);
}

static inline void wscrt_linked_list_remove(struct wscrt_linked_list_node *node) {
    node->prev->next = node->next;
    node->next->prev = node->prev;
    node->next = NULL;
    node->prev = NULL;
}

/* The first node, or wscrt_linked_list_end when empty. */
static inline struct wscrt_linked_list_node *wscrt_linked_list_front(const struct wscrt_linked_list *list) {
    return list->sentinel.next;
}

/* The last node, or wscrt_linked_list_end when empty. */
static inline struct wscrt_linked_list_node *wscrt_linked_list_back(const struct wscrt_linked_list *list) {
    return list->sentinel.prev;
}

static inline struct wscrt_linked_list_node *wscrt_linked_list_pop_front(struct wscrt_linked_list *list) {
    struct wscrt_linked_list_node *node = list->sentinel.next;
    wscrt_linked_list_remove(node);
    return node;
}

static inline const struct wscrt_linked_list_node *wscrt_linked_list_end(const struct wscrt_linked_list *list) {
    return &list->sentinel;
}

/* Moves every node of `from` to the back of `to`; `from` becomes empty. */
static inline void wscrt_linked_list_move_all_back(struct wscrt_linked_list *to, struct wscrt_linked_list *from) {
    if (wscrt_linked_list_empty(from)) {
        return;
    }
    struct wscrt_linked_list_node *first = from->sentinel.next;
    struct wscrt_linked_list_node *last = from->sentinel.prev;
    first->prev = to->sentinel.prev;
    to->sentinel.prev->next = first;
    last->next = &to->sentinel;
    to->sentinel.prev = last;
    wscrt_linked_list_init(from);
}

#endif
