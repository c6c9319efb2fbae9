#ifndef WSCRT_TESTS_IO_CLIENT_STACK_H
#define WSCRT_TESTS_IO_CLIENT_STACK_H
/*
 * The client side the bootstrap and TLS channel tests start from: an event-loop group, a host resolver
 * and a client bootstrap over them. The bootstrap holds the group and the resolver, so the group's
 * shutdown callback, which s_client_stack_clean_up waits for, proves all three are gone.
 */
#include <string.h>

#include "io/client_bootstrap.h"
#include "io/event_loop_group.h"
#include "io/host_resolver.h"
#include "io_loopback_helpers.h"
#include "test_harness.h"

struct s_client_stack {
    struct wscrt_event_loop_group *group;
    struct wscrt_host_resolver *resolver;
    struct wscrt_client_bootstrap *bootstrap; /* a test may release it early and set it to NULL */
    struct s_waiter group_shutdown;
};

static inline void s_client_stack_on_group_shutdown(void *user_data) {
    s_waiter_signal(user_data);
}

/* Makes the group (`loops` threads), the resolver and the bootstrap; 0, or a failed assertion. */
static inline int s_client_stack_init(struct s_client_stack *client, struct wscrt_allocator *allocator,
                                      uint16_t loops) {
    memset(client, 0, sizeof(*client));
    s_waiter_init(&client->group_shutdown);
    struct wscrt_shutdown_callback_options shutdown = {s_client_stack_on_group_shutdown, &client->group_shutdown};
    client->group = wscrt_event_loop_group_new(allocator, loops, &shutdown);
    ASSERT_TRUE(client->group != NULL);
    client->resolver = wscrt_host_resolver_new(allocator, client->group, 16);
    ASSERT_TRUE(client->resolver != NULL);
    struct wscrt_client_bootstrap_options options = {
        .event_loop_group = client->group,
        .host_resolver = client->resolver,
    };
    client->bootstrap = wscrt_client_bootstrap_new(allocator, &options);
    ASSERT_TRUE(client->bootstrap != NULL);
    return 0;
}

/* Releases the three and waits (bounded) for the group's shutdown callback. */
static inline int s_client_stack_clean_up(struct s_client_stack *client) {
    wscrt_client_bootstrap_release(client->bootstrap);
    wscrt_host_resolver_release(client->resolver);
    wscrt_event_loop_group_release(client->group);
    ASSERT_TRUE(s_waiter_wait(&client->group_shutdown, 1, S_WAIT_MS));
    s_waiter_clean_up(&client->group_shutdown);
    return 0;
}

#endif
