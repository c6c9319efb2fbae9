#include "io/host_resolver.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "common/allocator.h"
#include "common/clock.h"
#include "common/error.h"
#include "common/linked_list.h"
#include "common/logging.h"
#include "common/ref_count.h"
#include "io/event_loop.h"
#include "io/event_loop_group.h"

/* getaddrinfo reports no TTL; 30 s keeps a burst of connects to one host on
 * one lookup while still following DNS changes within a minute. */
#define S_CACHE_TTL_NS (30 * WSCRT_NS_PER_SEC)
/* RFC 1035: 63 octets per label, 253 characters for a name in text form. */
#define S_MAX_LABEL_LEN 63
#define S_MAX_NAME_LEN 253

struct s_cache_entry {
    struct wscrt_linked_list_node node; /* in resolver->cache, most recently used first */
    uint64_t expires_at_ns;
    struct wscrt_host_address *addresses;
    size_t count;
    char host_name[]; /* NUL-terminated */
};

struct wscrt_host_resolver {
    struct wscrt_allocator *allocator;
    struct wscrt_ref_count ref_count;
    /* Held so that loops of this group, named as callback loops, outlive every pending lookup. */
    struct wscrt_event_loop_group *group;
    size_t max_entries;
    atomic_size_t lookup_count;

    pthread_mutex_t lock; /* guards cache, cache_size and lookups */
    struct wscrt_linked_list cache;
    size_t cache_size;
    struct wscrt_linked_list lookups; /* struct s_lookup in flight */
};

/* One getaddrinfo in flight. Requests for a name that is already being looked
 * up wait on it instead of starting another thread: a burst of connects to
 * one host before its first answer costs one lookup. Holds a resolver reference. */
struct s_lookup {
    struct wscrt_linked_list_node node; /* in resolver->lookups */
    struct wscrt_host_resolver *resolver;
    struct wscrt_linked_list waiters; /* struct s_resolution, by waiter_node */
    char host_name[];                 /* NUL-terminated */
};

/* A growable array of distinct addresses. */
struct s_address_list {
    struct wscrt_host_address *addresses;
    size_t count;
    size_t capacity;
};

/* One resolve call, from the request to the callback. Holds a resolver reference. */
struct s_resolution {
    struct wscrt_allocator *allocator;
    struct wscrt_host_resolver *resolver;
    struct wscrt_event_loop *callback_loop;
    wscrt_on_host_resolved_fn *callback;
    void *user_data;
    struct wscrt_task delivery_task;
    struct wscrt_linked_list_node waiter_node; /* in s_lookup.waiters */
    int error_code;
    struct wscrt_host_address *addresses;
    size_t count;
    char host_name[]; /* NUL-terminated */
};

/* ---- cache (callers hold resolver->lock) ---- */

static void s_cache_entry_destroy(struct wscrt_allocator *allocator, struct s_cache_entry *entry) {
    wscrt_mem_release(allocator, entry->addresses);
    wscrt_mem_release(allocator, entry);
}

static struct wscrt_host_address *s_copy_addresses(struct wscrt_allocator *allocator,
                                                   const struct wscrt_host_address *addresses, size_t count) {
    if (count == 0) {
        return NULL;
    }
    struct wscrt_host_address *copy = wscrt_mem_calloc(allocator, count, sizeof(struct wscrt_host_address));
    memcpy(copy, addresses, count * sizeof(struct wscrt_host_address));
    return copy;
}

/* Copies a live entry's addresses into `resolution`; drops an expired one. */
static bool s_cache_lookup(struct wscrt_host_resolver *resolver, struct s_resolution *resolution) {
    uint64_t now = wscrt_clock_now_ns();
    struct wscrt_linked_list_node *node = wscrt_linked_list_front(&resolver->cache);
    while (node != wscrt_linked_list_end(&resolver->cache)) {
        struct s_cache_entry *entry = WSCRT_CONTAINER_OF(node, struct s_cache_entry, node);
        node = node->next;
        if (strcasecmp(entry->host_name, resolution->host_name) != 0) {
            continue;
        }
        if (entry->expires_at_ns <= now) {
            wscrt_linked_list_remove(&entry->node);
            resolver->cache_size--;
            s_cache_entry_destroy(resolver->allocator, entry);
            return false;
        }
        wscrt_linked_list_remove(&entry->node);
        wscrt_linked_list_push_front(&resolver->cache, &entry->node);
        resolution->addresses = s_copy_addresses(resolution->allocator, entry->addresses, entry->count);
        resolution->count = entry->count;
        return true;
    }
    return false;
}

static void s_cache_store(struct wscrt_host_resolver *resolver, const char *host_name,
                          const struct wscrt_host_address *addresses, size_t count) {
    if (resolver->max_entries == 0 || count == 0) {
        return;
    }
    /* A concurrent lookup of the same name may have stored it first: replace. */
    struct wscrt_linked_list_node *node = wscrt_linked_list_front(&resolver->cache);
    while (node != wscrt_linked_list_end(&resolver->cache)) {
        struct s_cache_entry *entry = WSCRT_CONTAINER_OF(node, struct s_cache_entry, node);
        node = node->next;
        if (strcasecmp(entry->host_name, host_name) == 0) {
            wscrt_linked_list_remove(&entry->node);
            resolver->cache_size--;
            s_cache_entry_destroy(resolver->allocator, entry);
        }
    }
    while (resolver->cache_size >= resolver->max_entries) {
        /* Evict the least recently used entry (the back of the list). */
        struct s_cache_entry *oldest =
            WSCRT_CONTAINER_OF(wscrt_linked_list_back(&resolver->cache), struct s_cache_entry, node);
        wscrt_linked_list_remove(&oldest->node);
        resolver->cache_size--;
        s_cache_entry_destroy(resolver->allocator, oldest);
    }
    size_t name_len = strlen(host_name);
    struct s_cache_entry *entry = wscrt_mem_calloc(resolver->allocator, 1, sizeof(struct s_cache_entry) + name_len + 1);
    memcpy(entry->host_name, host_name, name_len + 1);
    entry->expires_at_ns = wscrt_clock_now_ns() + S_CACHE_TTL_NS;
    entry->addresses = s_copy_addresses(resolver->allocator, addresses, count);
    entry->count = count;
    wscrt_linked_list_push_front(&resolver->cache, &entry->node);
    resolver->cache_size++;
}

/* ---- resolver lifetime ---- */

static void s_resolver_destroy(void *object) {
    struct wscrt_host_resolver *resolver = object;
    WSCRT_LOGF_DEBUG(WSCRT_LS_IO_DNS, "id=%p: Destroying host resolver", (void *)resolver);
    while (!wscrt_linked_list_empty(&resolver->cache)) {
        struct wscrt_linked_list_node *node = wscrt_linked_list_pop_front(&resolver->cache);
        s_cache_entry_destroy(resolver->allocator, WSCRT_CONTAINER_OF(node, struct s_cache_entry, node));
    }
    pthread_mutex_destroy(&resolver->lock);
    struct wscrt_event_loop_group *group = resolver->group;
    wscrt_mem_release(resolver->allocator, resolver);
    wscrt_event_loop_group_release(group);
}

struct wscrt_host_resolver *wscrt_host_resolver_new(struct wscrt_allocator *allocator,
                                                    struct wscrt_event_loop_group *group, size_t max_entries) {
    if (allocator == NULL) {
        wscrt_raise_error(WSCRT_ERROR_INVALID_ARGUMENT);
        return NULL;
    }
    struct wscrt_host_resolver *resolver = wscrt_mem_calloc(allocator, 1, sizeof(struct wscrt_host_resolver));
    resolver->allocator = allocator;
    if (pthread_mutex_init(&resolver->lock, NULL) != 0) {
        wscrt_mem_release(allocator, resolver);
        wscrt_raise_error(WSCRT_ERROR_SYS_CALL_FAILURE);
        return NULL;
    }
    wscrt_ref_count_init(&resolver->ref_count, resolver, s_resolver_destroy);
    resolver->group = wscrt_event_loop_group_acquire(group);
    resolver->max_entries = max_entries;
    atomic_init(&resolver->lookup_count, 0);
    wscrt_linked_list_init(&resolver->cache);
    wscrt_linked_list_init(&resolver->lookups);
    WSCRT_LOGF_DEBUG(WSCRT_LS_IO_DNS, "id=%p: Created host resolver, max_entries=%zu", (void *)resolver,
                     max_entries);
    return resolver;
}

struct wscrt_host_resolver *wscrt_host_resolver_acquire(struct wscrt_host_resolver *resolver) {
    if (resolver != NULL) {
        wscrt_ref_count_acquire(&resolver->ref_count);
    }
    return resolver;
}

void wscrt_host_resolver_release(struct wscrt_host_resolver *resolver) {
    if (resolver != NULL) {
        wscrt_ref_count_release(&resolver->ref_count);
    }
}

size_t wscrt_host_resolver_get_lookup_count(struct wscrt_host_resolver *resolver) {
    return atomic_load_explicit(&resolver->lookup_count, memory_order_relaxed);
}

/* ---- delivery ---- */

static void s_resolution_destroy(struct s_resolution *resolution) {
    struct wscrt_host_resolver *resolver = resolution->resolver;
    wscrt_mem_release(resolution->allocator, resolution->addresses);
    wscrt_mem_release(resolution->allocator, resolution);
    wscrt_host_resolver_release(resolver);
}

static void s_delivery_task_fn(struct wscrt_task *task, void *arg, enum wscrt_task_status status) {
    (void)task;
    struct s_resolution *resolution = arg;
    if (status == WSCRT_TASK_STATUS_CANCELED) {
        /* The callback loop is being destroyed: still answer exactly once so the
         * requester can release what it tied to the request. */
        resolution->error_code = WSCRT_ERROR_IO_EVENT_LOOP_SHUTDOWN;
    }
    if (resolution->error_code != 0) {
        resolution->count = 0;
    }
    WSCRT_LOGF_DEBUG(WSCRT_LS_IO_DNS, "id=%p: Resolved '%s': %s, %zu addresses", (void *)resolution->resolver,
                     resolution->host_name, wscrt_error_name(resolution->error_code), resolution->count);
    resolution->callback(resolution->resolver, resolution->host_name, resolution->error_code,
                         resolution->count > 0 ? resolution->addresses : NULL, resolution->count,
                         resolution->user_data);
    s_resolution_destroy(resolution);
}

static void s_deliver(struct s_resolution *resolution) {
    wscrt_task_init(&resolution->delivery_task, s_delivery_task_fn, resolution);
    wscrt_event_loop_schedule_task_now(resolution->callback_loop, &resolution->delivery_task);
}

/* ---- lookups ---- */

static int s_map_gai_error(int gai_error) {
    switch (gai_error) {
#ifdef EAI_NODATA
        case EAI_NODATA:
#endif
#ifdef EAI_ADDRFAMILY
        case EAI_ADDRFAMILY:
#endif
            return WSCRT_ERROR_IO_DNS_NO_ADDRESS;
        case EAI_MEMORY:
            return WSCRT_ERROR_OOM;
        case EAI_NONAME:
        case EAI_FAIL:
        case EAI_AGAIN:
        default:
            return WSCRT_ERROR_IO_DNS_QUERY_FAILED;
    }
}

static void s_address_list_add(struct wscrt_allocator *allocator, struct s_address_list *list,
                               enum wscrt_address_family family, const char *text) {
    for (size_t i = 0; i < list->count; ++i) {
        if (list->addresses[i].family == family && strcmp(list->addresses[i].address, text) == 0) {
            return; /* getaddrinfo repeats an address per matching /etc/hosts line or protocol */
        }
    }
    if (list->count == list->capacity) {
        size_t new_capacity = list->capacity == 0 ? 4 : list->capacity * 2;
        list->addresses = wscrt_mem_realloc(allocator, list->addresses,
                                            list->capacity * sizeof(struct wscrt_host_address),
                                            new_capacity * sizeof(struct wscrt_host_address));
        list->capacity = new_capacity;
    }
    struct wscrt_host_address *address = &list->addresses[list->count++];
    memset(address, 0, sizeof(*address));
    address->family = family;
    strncpy(address->address, text, sizeof(address->address) - 1);
}

static void s_collect_addresses(struct wscrt_allocator *allocator, struct s_address_list *list,
                                const struct addrinfo *results) {
    for (const struct addrinfo *info = results; info != NULL; info = info->ai_next) {
        char text[INET6_ADDRSTRLEN];
        if (info->ai_family == AF_INET) {
            const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)info->ai_addr;
            if (inet_ntop(AF_INET, &sin->sin_addr, text, sizeof(text)) != NULL) {
                s_address_list_add(allocator, list, WSCRT_ADDRESS_IPV4, text);
            }
        } else if (info->ai_family == AF_INET6) {
            const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)(const void *)info->ai_addr;
            if (inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof(text)) != NULL) {
                s_address_list_add(allocator, list, WSCRT_ADDRESS_IPV6, text);
            }
        }
    }
}

static void s_lookup_destroy(struct s_lookup *lookup) {
    struct wscrt_host_resolver *resolver = lookup->resolver;
    wscrt_mem_release(resolver->allocator, lookup);
    wscrt_host_resolver_release(resolver);
}

/* Answers every request waiting on `lookup` (taken off the resolver's list by the caller). */
static void s_answer_waiters(struct wscrt_linked_list *waiters, int error_code, const struct s_address_list *list) {
    while (!wscrt_linked_list_empty(waiters)) {
        struct s_resolution *resolution =
            WSCRT_CONTAINER_OF(wscrt_linked_list_pop_front(waiters), struct s_resolution, waiter_node);
        resolution->error_code = error_code;
        if (error_code == 0) {
            resolution->addresses = s_copy_addresses(resolution->allocator, list->addresses, list->count);
            resolution->count = list->count;
        }
        s_deliver(resolution);
    }
}

static void *s_lookup_thread_main(void *arg) {
    struct s_lookup *lookup = arg;
    struct wscrt_host_resolver *resolver = lookup->resolver;
    pthread_setname_np(pthread_self(), "wscrt-dns");

    /* No AI_ADDRCONFIG: it would hide ::1 and 127.0.0.1 on hosts whose only
     * interface of that family is loopback, and a client must be able to reach
     * a local server. Both families are kept in getaddrinfo's (RFC 6724) order. */
    struct addrinfo hints;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    struct addrinfo *results = NULL;
    struct s_address_list list = {0};
    int error_code = 0;
    int rc = getaddrinfo(lookup->host_name, NULL, &hints, &results);
    if (rc != 0) {
        error_code = s_map_gai_error(rc);
        WSCRT_LOGF_DEBUG(WSCRT_LS_IO_DNS, "id=%p: getaddrinfo('%s') failed: %s", (void *)resolver, lookup->host_name,
                         gai_strerror(rc));
    } else {
        s_collect_addresses(resolver->allocator, &list, results);
        freeaddrinfo(results);
        if (list.count == 0) {
            error_code = WSCRT_ERROR_IO_DNS_NO_ADDRESS;
        }
    }

    struct wscrt_linked_list waiters;
    wscrt_linked_list_init(&waiters);
    pthread_mutex_lock(&resolver->lock);
    if (error_code == 0) {
        s_cache_store(resolver, lookup->host_name, list.addresses, list.count);
    }
    wscrt_linked_list_remove(&lookup->node);
    wscrt_linked_list_move_all_back(&waiters, &lookup->waiters);
    pthread_mutex_unlock(&resolver->lock);

    s_answer_waiters(&waiters, error_code, &list);
    wscrt_mem_release(resolver->allocator, list.addresses);
    s_lookup_destroy(lookup);
    return NULL;
}

/* Answers from the cache, or queues `resolution` on the lookup in flight for
 * its name, or starts one. Cache and lookups are checked under one lock hold,
 * so a lookup that completes in between cannot cause a second one. */
static int s_answer_from_cache_or_lookup(struct wscrt_host_resolver *resolver, struct s_resolution *resolution) {
    pthread_mutex_lock(&resolver->lock);
    if (s_cache_lookup(resolver, resolution)) {
        pthread_mutex_unlock(&resolver->lock);
        WSCRT_LOGF_TRACE(WSCRT_LS_IO_DNS, "id=%p: '%s' answered from the cache", (void *)resolver,
                         resolution->host_name);
        s_deliver(resolution);
        return WSCRT_OP_SUCCESS;
    }
    struct wscrt_linked_list_node *node = wscrt_linked_list_front(&resolver->lookups);
    while (node != wscrt_linked_list_end(&resolver->lookups)) {
        struct s_lookup *lookup = WSCRT_CONTAINER_OF(node, struct s_lookup, node);
        if (strcasecmp(lookup->host_name, resolution->host_name) == 0) {
            wscrt_linked_list_push_back(&lookup->waiters, &resolution->waiter_node);
            pthread_mutex_unlock(&resolver->lock);
            WSCRT_LOGF_TRACE(WSCRT_LS_IO_DNS, "id=%p: '%s' joins the lookup in flight", (void *)resolver,
                             resolution->host_name);
            return WSCRT_OP_SUCCESS;
        }
        node = node->next;
    }
    size_t name_len = strlen(resolution->host_name);
    struct s_lookup *lookup = wscrt_mem_calloc(resolver->allocator, 1, sizeof(struct s_lookup) + name_len + 1);
    memcpy(lookup->host_name, resolution->host_name, name_len + 1);
    lookup->resolver = wscrt_host_resolver_acquire(resolver);
    wscrt_linked_list_init(&lookup->waiters);
    wscrt_linked_list_push_back(&lookup->waiters, &resolution->waiter_node);
    wscrt_linked_list_push_back(&resolver->lookups, &lookup->node);
    pthread_mutex_unlock(&resolver->lock);

    /* getaddrinfo blocks (possibly for seconds): one short-lived detached
     * thread per distinct name keeps every event loop free of it. */
    atomic_fetch_add_explicit(&resolver->lookup_count, 1, memory_order_relaxed);
    pthread_attr_t attr;
    pthread_t thread;
    int rc = pthread_attr_init(&attr);
    if (rc == 0) {
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        rc = pthread_create(&thread, &attr, s_lookup_thread_main, lookup);
        pthread_attr_destroy(&attr);
    }
    if (rc == 0) {
        WSCRT_LOGF_DEBUG(WSCRT_LS_IO_DNS, "id=%p: Looking up '%s'", (void *)resolver, resolution->host_name);
        return WSCRT_OP_SUCCESS;
    }

    WSCRT_LOGF_ERROR(WSCRT_LS_IO_DNS, "id=%p: Failed to start a lookup thread for '%s', error=%d", (void *)resolver,
                     resolution->host_name, rc);
    struct wscrt_linked_list waiters;
    wscrt_linked_list_init(&waiters);
    pthread_mutex_lock(&resolver->lock);
    wscrt_linked_list_remove(&lookup->node);
    wscrt_linked_list_move_all_back(&waiters, &lookup->waiters);
    pthread_mutex_unlock(&resolver->lock);
    /* This caller learns of the failure from the return value; requests that
     * joined in the meantime were promised a callback. */
    wscrt_linked_list_remove(&resolution->waiter_node);
    s_answer_waiters(&waiters, WSCRT_ERROR_THREAD_CREATE_FAILED, NULL);
    s_lookup_destroy(lookup);
    return wscrt_raise_error(WSCRT_ERROR_THREAD_CREATE_FAILED);
}

/* Letters, digits, '-' and '_' in dot-separated labels of 1 to 63 characters
 * (one trailing dot allowed), no label starting or ending with '-'. Anything
 * else is refused before getaddrinfo, so a malformed name never turns into a
 * DNS query. */
static bool s_is_valid_host_name(const char *name) {
    size_t len = strlen(name);
    if (len > 0 && name[len - 1] == '.') {
        --len;
    }
    if (len == 0 || len > S_MAX_NAME_LEN) {
        return false;
    }
    size_t label_len = 0;
    for (size_t i = 0; i <= len; ++i) {
        char c = i < len ? name[i] : '.';
        if (c == '.') {
            if (label_len == 0 || name[i - 1] == '-') {
                return false;
            }
            label_len = 0;
            continue;
        }
        bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && c != '_' && !(c == '-' && label_len > 0)) {
            return false;
        }
        if (++label_len > S_MAX_LABEL_LEN) {
            return false;
        }
    }
    return true;
}

/* A numeric IPv4 or IPv6 address answers itself, in canonical text form. */
static bool s_resolve_numeric(struct s_resolution *resolution) {
    unsigned char binary[sizeof(struct in6_addr)];
    int family;
    enum wscrt_address_family wscrt_family;
    if (inet_pton(AF_INET, resolution->host_name, binary) == 1) {
        family = AF_INET;
        wscrt_family = WSCRT_ADDRESS_IPV4;
    } else if (inet_pton(AF_INET6, resolution->host_name, binary) == 1) {
        family = AF_INET6;
        wscrt_family = WSCRT_ADDRESS_IPV6;
    } else {
        return false;
    }
    char text[INET6_ADDRSTRLEN];
    if (inet_ntop(family, binary, text, sizeof(text)) == NULL) {
        return false;
    }
    struct s_address_list list = {0};
    s_address_list_add(resolution->allocator, &list, wscrt_family, text);
    resolution->addresses = list.addresses;
    resolution->count = list.count;
    return true;
}

int wscrt_host_resolver_resolve(struct wscrt_host_resolver *resolver, const char *host_name,
                                struct wscrt_event_loop *callback_loop, wscrt_on_host_resolved_fn *callback,
                                void *user_data) {
    if (resolver == NULL || host_name == NULL || callback_loop == NULL || callback == NULL) {
        return wscrt_raise_error(WSCRT_ERROR_INVALID_ARGUMENT);
    }
    size_t name_len = strlen(host_name);
    struct s_resolution *resolution =
        wscrt_mem_calloc(resolver->allocator, 1, sizeof(struct s_resolution) + name_len + 1);
    resolution->allocator = resolver->allocator;
    resolution->resolver = wscrt_host_resolver_acquire(resolver);
    resolution->callback_loop = callback_loop;
    resolution->callback = callback;
    resolution->user_data = user_data;
    memcpy(resolution->host_name, host_name, name_len + 1);

    if (s_resolve_numeric(resolution)) {
        s_deliver(resolution);
        return WSCRT_OP_SUCCESS;
    }
    if (!s_is_valid_host_name(host_name)) {
        WSCRT_LOGF_DEBUG(WSCRT_LS_IO_DNS, "id=%p: '%s' is not a valid host name", (void *)resolver, host_name);
        resolution->error_code = WSCRT_ERROR_IO_DNS_INVALID_NAME;
        s_deliver(resolution);
        return WSCRT_OP_SUCCESS;
    }
    if (s_answer_from_cache_or_lookup(resolver, resolution) != WSCRT_OP_SUCCESS) {
        int error_code = wscrt_last_error();
        s_resolution_destroy(resolution);
        return wscrt_raise_error(error_code);
    }
    return WSCRT_OP_SUCCESS;
}
