#ifndef WSCRT_IO_HOST_RESOLVER_H
#define WSCRT_IO_HOST_RESOLVER_H
/*
 * getaddrinfo on background threads, IPv4 and IPv6 results, a small cache
 * with a TTL (30 s). The callback runs on the event loop the requester names.
 * Ref-counted; releasing with lookups in flight is safe (they still complete).
 */
#include <stddef.h>
#include <stdint.h>

struct wscrt_allocator;
struct wscrt_event_loop;
struct wscrt_event_loop_group;
struct wscrt_host_resolver;

enum wscrt_address_family {
    WSCRT_ADDRESS_IPV4,
    WSCRT_ADDRESS_IPV6,
};

struct wscrt_host_address {
    enum wscrt_address_family family;
    char address[46]; /* numeric, NUL-terminated (INET6_ADDRSTRLEN) */
};

/* Runs on callback_loop. On failure error_code != 0 and count == 0.
 * `addresses` is valid only during the call. */
typedef void(wscrt_on_host_resolved_fn)(struct wscrt_host_resolver *resolver, const char *host_name, int error_code,
                                        const struct wscrt_host_address *addresses, size_t count, void *user_data);

/* group may be NULL; the resolver holds a reference on it. max_entries 0 disables the cache. */
struct wscrt_host_resolver *wscrt_host_resolver_new(struct wscrt_allocator *allocator,
                                                    struct wscrt_event_loop_group *group, size_t max_entries);
struct wscrt_host_resolver *wscrt_host_resolver_acquire(struct wscrt_host_resolver *resolver);
void wscrt_host_resolver_release(struct wscrt_host_resolver *resolver);

/*
 * Any thread. Numeric addresses (without brackets) and cached names are
 * answered without a lookup, but still through callback_loop, never from
 * inside this call. On WSCRT_OP_SUCCESS the callback runs exactly once, with
 * error_code 0 and at least one address, or with error_code
 * WSCRT_ERROR_IO_DNS_INVALID_NAME (the name is not a
 * syntactically valid host name; no query is made), _QUERY_FAILED, _NO_ADDRESS,
 * or WSCRT_ERROR_IO_EVENT_LOOP_SHUTDOWN (callback_loop was destroyed first; the
 * callback then runs on the destroying thread). WSCRT_OP_ERR (no callback)
 * only for INVALID_ARGUMENT or THREAD_CREATE_FAILED.
 * callback_loop must outlive the request; a loop of the resolver's group does.
 */
int wscrt_host_resolver_resolve(struct wscrt_host_resolver *resolver, const char *host_name,
                                struct wscrt_event_loop *callback_loop, wscrt_on_host_resolved_fn *callback,
                                void *user_data);

/* Any thread. How many getaddrinfo lookups this resolver has started (numeric
 * and cached answers are not counted); for tests and diagnostics. */
size_t wscrt_host_resolver_get_lookup_count(struct wscrt_host_resolver *resolver);

#endif
