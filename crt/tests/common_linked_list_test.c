#include "common/linked_list.h"

#include <string.h>

#include "test_harness.h"

struct s_item {
    int value;
    struct wscrt_linked_list_node node;
};

/* The values from front to back, as digits ("" when empty); checks the backward links on the way. */
static void s_values(const struct wscrt_linked_list *list, char *out, size_t size) {
    size_t len = 0;
    const struct wscrt_linked_list_node *prev = wscrt_linked_list_end(list);
    for (const struct wscrt_linked_list_node *node = wscrt_linked_list_front(list); node != wscrt_linked_list_end(list);
         node = node->next) {
        if (node->prev != prev || len + 1 >= size) {
            break;
        }
        out[len++] = (char)('0' + WSCRT_CONTAINER_OF(node, const struct s_item, node)->value);
        prev = node;
    }
    out[len] = '\0';
}

#define ASSERT_VALUES(expected, list)                                                                                  \
    do {                                                                                                               \
        char values_[16];                                                                                              \
        s_values((list), values_, sizeof(values_));                                                                    \
        ASSERT_BYTES_EQ((expected), strlen(expected), values_, strlen(values_));                                      \
    } while (0)

static int s_test_an_empty_list_has_no_front_or_back(struct wscrt_allocator *allocator) {
    (void)allocator;
    struct wscrt_linked_list list;
    wscrt_linked_list_init(&list);
    ASSERT_TRUE(wscrt_linked_list_empty(&list));
    ASSERT_TRUE(wscrt_linked_list_front(&list) == wscrt_linked_list_end(&list));
    ASSERT_TRUE(wscrt_linked_list_back(&list) == wscrt_linked_list_end(&list));
    ASSERT_VALUES("", &list);
    ASSERT_UINT_EQ(sizeof(struct wscrt_linked_list_node), sizeof(struct wscrt_linked_list)); /* one sentinel */
    return 0;
}

static int s_test_nodes_keep_their_order_through_pushes_and_removals(struct wscrt_allocator *allocator) {
    (void)allocator;
    struct s_item items[5] = {{.value = 0}, {.value = 1}, {.value = 2}, {.value = 3}, {.value = 4}};
    struct wscrt_linked_list list;
    wscrt_linked_list_init(&list);
    wscrt_linked_list_push_back(&list, &items[1].node);
    wscrt_linked_list_push_back(&list, &items[2].node);
    wscrt_linked_list_push_front(&list, &items[0].node);
    wscrt_linked_list_push_back(&list, &items[3].node);
    ASSERT_VALUES("0123", &list);
    ASSERT_TRUE(wscrt_linked_list_front(&list) == &items[0].node);
    ASSERT_TRUE(wscrt_linked_list_back(&list) == &items[3].node);

    wscrt_linked_list_remove(&items[2].node);
    ASSERT_TRUE(items[2].node.next == NULL && items[2].node.prev == NULL);
    ASSERT_VALUES("013", &list);
    wscrt_linked_list_remove(&items[3].node); /* the last one */
    ASSERT_TRUE(wscrt_linked_list_back(&list) == &items[1].node);
    wscrt_linked_list_insert_before(&items[1].node, &items[4].node);
    ASSERT_VALUES("041", &list);

    ASSERT_TRUE(wscrt_linked_list_pop_front(&list) == &items[0].node);
    ASSERT_TRUE(wscrt_linked_list_pop_front(&list) == &items[4].node);
    ASSERT_TRUE(wscrt_linked_list_pop_front(&list) == &items[1].node);
    ASSERT_TRUE(wscrt_linked_list_empty(&list));
    ASSERT_VALUES("", &list);
    return 0;
}

static int s_test_move_all_back_appends_and_empties_the_source(struct wscrt_allocator *allocator) {
    (void)allocator;
    struct s_item items[4] = {{.value = 0}, {.value = 1}, {.value = 2}, {.value = 3}};
    struct wscrt_linked_list to;
    struct wscrt_linked_list from;
    wscrt_linked_list_init(&to);
    wscrt_linked_list_init(&from);
    wscrt_linked_list_move_all_back(&to, &from); /* both empty: nothing happens */
    ASSERT_TRUE(wscrt_linked_list_empty(&to) && wscrt_linked_list_empty(&from));

    wscrt_linked_list_push_back(&from, &items[2].node);
    wscrt_linked_list_push_back(&from, &items[3].node);
    wscrt_linked_list_move_all_back(&to, &from); /* into an empty list */
    ASSERT_VALUES("23", &to);
    ASSERT_TRUE(wscrt_linked_list_empty(&from));

    wscrt_linked_list_push_back(&from, &items[0].node);
    wscrt_linked_list_push_back(&from, &items[1].node);
    wscrt_linked_list_move_all_back(&to, &from);
    ASSERT_VALUES("2301", &to);
    ASSERT_TRUE(wscrt_linked_list_back(&to) == &items[1].node);
    ASSERT_VALUES("", &from);
    return 0;
}

WSCRT_TEST_MAIN(s_test_an_empty_list_has_no_front_or_back, s_test_nodes_keep_their_order_through_pushes_and_removals,
                s_test_move_all_back_appends_and_empties_the_source)
