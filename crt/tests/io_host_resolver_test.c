/* Tests for crt/io/host_resolver.c. They resolve only "localhost" (answered
 * from /etc/hosts), numeric addresses (no lookup at all) and names the
 * resolver rejects before getaddrinfo: no DNS query leaves the machine. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "io/event_loop.h"
#include "io/event_loop_group.h"
#include "io/host_resolver.h"
#include "test_harness.h"

/* Every wait in these tests is bounded by this. */
#define S_WAIT_MS 5000
#define S_MAX_RECORDED 8

#include "test_waiter.h"

/* A group of one loop and a resolver on it, torn down with a bounded wait. */
struct s_fixture {
    struct wscrt_event_loop_group *group;
    struct wscrt_event_loop *loop;
    struct wscrt_host_resolver *resolver;
    struct s_waiter group_shutdown;
};

static void s_on_group_shutdown(void *user_data) {
    s_waiter_signal(user_data);
}

static bool s_fixture_init(struct s_fixture *fixture, struct wscrt_allocator *allocator, size_t max_entries) {
    s_waiter_init(&fixture->group_shutdown);
    struct wscrt_shutdown_callback_options options = {s_on_group_shutdown, &fixture->group_shutdown};
    fixture->group = wscrt_event_loop_group_new(allocator, 1, &options);
    if (fixture->group == NULL) {
        return false;
    }
    fixture->loop = wscrt_event_loop_group_get_loop_at(fixture->group, 0);
    fixture->resolver = wscrt_host_resolver_new(allocator, fixture->group, max_entries);
    return fixture->resolver != NULL;
}

/* The resolver holds the group: the group shuts down only once the resolver is gone. */
static bool s_fixture_clean_up(struct s_fixture *fixture) {
    wscrt_host_resolver_release(fixture->resolver);
    wscrt_event_loop_group_release(fixture->group);
    bool done = s_waiter_wait(&fixture->group_shutdown, 1, S_WAIT_MS);
    s_waiter_clean_up(&fixture->group_shutdown);
    return done;
}

struct s_result {
    struct wscrt_event_loop *loop;
    int calls;
    int error_code;
    bool on_loop_thread;
    char host_name[512];
    struct wscrt_host_address addresses[S_MAX_RECORDED];
    size_t count;
    struct s_waiter done;
};

static void s_result_init(struct s_result *result, struct wscrt_event_loop *loop) {
    memset(result, 0, sizeof(*result));
    result->loop = loop;
    result->error_code = -1;
    s_waiter_init(&result->done);
}

static void s_on_resolved(struct wscrt_host_resolver *resolver, const char *host_name, int error_code,
                          const struct wscrt_host_address *addresses, size_t count, void *user_data) {
    (void)resolver;
    struct s_result *result = user_data;
    result->calls++;
    result->error_code = error_code;
    result->on_loop_thread = wscrt_event_loop_thread_is_callers_thread(result->loop);
    snprintf(result->host_name, sizeof(result->host_name), "%s", host_name);
    result->count = count;
    for (size_t i = 0; i < count && i < S_MAX_RECORDED; ++i) {
        result->addresses[i] = addresses[i];
    }
    s_waiter_signal(&result->done);
}

static bool s_has_address(const struct s_result *result, enum wscrt_address_family family, const char *text) {
    for (size_t i = 0; i < result->count && i < S_MAX_RECORDED; ++i) {
        if (result->addresses[i].family == family && strcmp(result->addresses[i].address, text) == 0) {
            return true;
        }
    }
    return false;
}

static int s_test_resolves_localhost(struct wscrt_allocator *allocator) {
    struct s_fixture fixture;
    ASSERT_TRUE(s_fixture_init(&fixture, allocator, 16));
    struct s_result result;
    s_result_init(&result, fixture.loop);

    ASSERT_SUCCESS(wscrt_host_resolver_resolve(fixture.resolver, "localhost", fixture.loop, s_on_resolved, &result));
    ASSERT_TRUE(s_waiter_wait(&result.done, 1, S_WAIT_MS));
    ASSERT_INT_EQ(0, result.error_code);
    ASSERT_TRUE(result.count >= 1);
    ASSERT_TRUE(result.on_loop_thread);
    ASSERT_INT_EQ(0, strcmp("localhost", result.host_name));
    /* Every answer is a loopback address, and none is repeated. */
    for (size_t i = 0; i < result.count; ++i) {
        const struct wscrt_host_address *address = &result.addresses[i];
        ASSERT_TRUE((address->family == WSCRT_ADDRESS_IPV4 && strncmp(address->address, "127.", 4) == 0) ||
                    (address->family == WSCRT_ADDRESS_IPV6 && strcmp(address->address, "::1") == 0));
        for (size_t j = 0; j < i; ++j) {
            ASSERT_FALSE(result.addresses[j].family == address->family &&
                         strcmp(result.addresses[j].address, address->address) == 0);
        }
    }
    ASSERT_UINT_EQ(1, wscrt_host_resolver_get_lookup_count(fixture.resolver));
    ASSERT_INT_EQ(1, result.calls);

    ASSERT_TRUE(s_fixture_clean_up(&fixture));
    s_waiter_clean_up(&result.done);
    return 0;
}

static int s_resolve_and_wait(struct s_fixture *fixture, const char *name, struct s_result *result) {
    s_result_init(result, fixture->loop);
    ASSERT_SUCCESS(wscrt_host_resolver_resolve(fixture->resolver, name, fixture->loop, s_on_resolved, result));
    ASSERT_TRUE(s_waiter_wait(&result->done, 1, S_WAIT_MS));
    ASSERT_INT_EQ(1, result->calls);
    ASSERT_TRUE(result->on_loop_thread);
    s_waiter_clean_up(&result->done);
    return 0;
}

/* Resolves `name` (as s_resolve_and_wait) and expects an answer without error. */
static int s_resolve_ok(struct s_fixture *fixture, const char *name, struct s_result *result) {
    ASSERT_INT_EQ(0, s_resolve_and_wait(fixture, name, result));
    ASSERT_INT_EQ(0, result->error_code);
    return 0;
}

/* `name` resolves, without error, to exactly one address: `address` of `family`. */
static int s_expect_single_address(struct s_fixture *fixture, const char *name, int family, const char *address) {
    struct s_result result;
    ASSERT_INT_EQ(0, s_resolve_ok(fixture, name, &result));
    ASSERT_UINT_EQ(1, result.count);
    ASSERT_INT_EQ(family, result.addresses[0].family);
    ASSERT_INT_EQ(0, strcmp(address, result.addresses[0].address));
    return 0;
}

static int s_test_numeric_addresses_resolve_without_lookup(struct wscrt_allocator *allocator) {
    struct s_fixture fixture;
    ASSERT_TRUE(s_fixture_init(&fixture, allocator, 16));
    struct s_result result;

    ASSERT_INT_EQ(0, s_expect_single_address(&fixture, "::1", WSCRT_ADDRESS_IPV6, "::1"));
    ASSERT_INT_EQ(0, s_expect_single_address(&fixture, "127.0.0.1", WSCRT_ADDRESS_IPV4, "127.0.0.1"));

    /* Answered in canonical form. */
    ASSERT_INT_EQ(0, s_resolve_ok(&fixture, "0:0:0:0:0:0:0:1", &result));
    ASSERT_TRUE(s_has_address(&result, WSCRT_ADDRESS_IPV6, "::1"));

    ASSERT_UINT_EQ(0, wscrt_host_resolver_get_lookup_count(fixture.resolver));
    ASSERT_TRUE(s_fixture_clean_up(&fixture));
    return 0;
}

static int s_test_invalid_names_fail_with_invalid_name(struct wscrt_allocator *allocator) {
    struct s_fixture fixture;
    ASSERT_TRUE(s_fixture_init(&fixture, allocator, 16));
    char long_label[301];
    memset(long_label, 'a', 300);
    long_label[300] = '\0';
    /* Each of these is also refused by glibc's getaddrinfo without a query
     * (checked with strace in a network namespace), so even a broken syntax
     * check could not make this test send DNS traffic. */
    const char *names[] = {"bad..name", long_label, "-bad", "bad name", "bad!name", "", "a..", "[::1]"};

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); ++i) {
        struct s_result result;
        if (s_resolve_and_wait(&fixture, names[i], &result) != 0) {
            WSCRT_FAIL_("resolving '%s' did not answer", names[i]);
        }
        if (result.error_code != WSCRT_ERROR_IO_DNS_INVALID_NAME || result.count != 0) {
            WSCRT_FAIL_("'%s': expected WSCRT_ERROR_IO_DNS_INVALID_NAME, got %s with %zu addresses", names[i],
                        wscrt_error_name(result.error_code), result.count);
        }
    }
    /* None of them reached getaddrinfo. */
    ASSERT_UINT_EQ(0, wscrt_host_resolver_get_lookup_count(fixture.resolver));
    ASSERT_TRUE(s_fixture_clean_up(&fixture));
    return 0;
}

static int s_test_cache_answers_second_lookup(struct wscrt_allocator *allocator) {
    struct s_fixture fixture;
    ASSERT_TRUE(s_fixture_init(&fixture, allocator, 16));
    struct s_result first;
    struct s_result second;

    ASSERT_INT_EQ(0, s_resolve_ok(&fixture, "localhost", &first));
    ASSERT_INT_EQ(0, s_resolve_ok(&fixture, "LOCALHOST", &second)); /* names are case-insensitive */
    ASSERT_UINT_EQ(1, wscrt_host_resolver_get_lookup_count(fixture.resolver));
    ASSERT_UINT_EQ(first.count, second.count);
    for (size_t i = 0; i < first.count && i < S_MAX_RECORDED; ++i) {
        ASSERT_INT_EQ(first.addresses[i].family, second.addresses[i].family);
        ASSERT_INT_EQ(0, strcmp(first.addresses[i].address, second.addresses[i].address));
    }
    ASSERT_TRUE(s_fixture_clean_up(&fixture));
    return 0;
}

static int s_test_cache_disabled_looks_up_every_time(struct wscrt_allocator *allocator) {
    struct s_fixture fixture;
    ASSERT_TRUE(s_fixture_init(&fixture, allocator, 0));
    struct s_result result;
    ASSERT_INT_EQ(0, s_resolve_ok(&fixture, "localhost", &result));
    ASSERT_INT_EQ(0, s_resolve_ok(&fixture, "localhost", &result));
    ASSERT_UINT_EQ(2, wscrt_host_resolver_get_lookup_count(fixture.resolver));
    ASSERT_TRUE(s_fixture_clean_up(&fixture));
    return 0;
}

#define S_BURST 20

/* Requests for a name already being looked up wait for that lookup. */
static int s_test_burst_of_requests_shares_one_lookup(struct wscrt_allocator *allocator) {
    struct s_fixture fixture;
    ASSERT_TRUE(s_fixture_init(&fixture, allocator, 16));
    struct s_result *results = wscrt_mem_calloc(allocator, S_BURST, sizeof(struct s_result));
    for (int i = 0; i < S_BURST; ++i) {
        s_result_init(&results[i], fixture.loop);
        ASSERT_SUCCESS(
            wscrt_host_resolver_resolve(fixture.resolver, "localhost", fixture.loop, s_on_resolved, &results[i]));
    }
    for (int i = 0; i < S_BURST; ++i) {
        ASSERT_TRUE(s_waiter_wait(&results[i].done, 1, S_WAIT_MS));
        ASSERT_INT_EQ(1, results[i].calls);
        ASSERT_INT_EQ(0, results[i].error_code);
        ASSERT_UINT_EQ(results[0].count, results[i].count);
        ASSERT_TRUE(results[i].on_loop_thread);
        s_waiter_clean_up(&results[i].done);
    }
    ASSERT_UINT_EQ(1, wscrt_host_resolver_get_lookup_count(fixture.resolver));
    wscrt_mem_release(allocator, results);
    ASSERT_TRUE(s_fixture_clean_up(&fixture));
    return 0;
}

/* The pending lookups hold the resolver: releasing it (and the group) right
 * away still delivers every callback, and everything is freed afterwards. */
static int s_test_release_with_lookups_in_flight(struct wscrt_allocator *allocator) {
    struct s_fixture fixture;
    ASSERT_TRUE(s_fixture_init(&fixture, allocator, 16));
    struct s_result lookup;
    struct s_result numeric;
    s_result_init(&lookup, fixture.loop);
    s_result_init(&numeric, fixture.loop);
    ASSERT_SUCCESS(wscrt_host_resolver_resolve(fixture.resolver, "localhost", fixture.loop, s_on_resolved, &lookup));
    ASSERT_SUCCESS(wscrt_host_resolver_resolve(fixture.resolver, "::1", fixture.loop, s_on_resolved, &numeric));

    ASSERT_TRUE(s_fixture_clean_up(&fixture));
    ASSERT_INT_EQ(1, lookup.calls);
    ASSERT_INT_EQ(0, lookup.error_code);
    ASSERT_INT_EQ(1, numeric.calls);
    ASSERT_INT_EQ(0, numeric.error_code);
    s_waiter_clean_up(&lookup.done);
    s_waiter_clean_up(&numeric.done);
    return 0;
}

/* A callback loop destroyed before the answer still answers, with an error. */
static int s_test_destroyed_callback_loop_answers_with_shutdown(struct wscrt_allocator *allocator) {
    struct wscrt_event_loop *loop = wscrt_event_loop_new(allocator, "wscrt-never-run");
    ASSERT_TRUE(loop != NULL);
    struct wscrt_host_resolver *resolver = wscrt_host_resolver_new(allocator, NULL, 4);
    ASSERT_TRUE(resolver != NULL);
    struct s_result result;
    s_result_init(&result, loop);
    ASSERT_SUCCESS(wscrt_host_resolver_resolve(resolver, "127.0.0.1", loop, s_on_resolved, &result));
    ASSERT_INT_EQ(0, result.calls); /* never from inside the resolve call */
    wscrt_event_loop_destroy(loop); /* the loop never ran: the answer is still queued */
    ASSERT_INT_EQ(1, result.calls);
    ASSERT_INT_EQ(WSCRT_ERROR_IO_EVENT_LOOP_SHUTDOWN, result.error_code);
    ASSERT_UINT_EQ(0, result.count);
    wscrt_host_resolver_release(resolver);
    s_waiter_clean_up(&result.done);
    return 0;
}

static int s_test_invalid_arguments(struct wscrt_allocator *allocator) {
    struct s_fixture fixture;
    ASSERT_TRUE(s_fixture_init(&fixture, allocator, 16));
    struct s_result result;
    s_result_init(&result, fixture.loop);
    ASSERT_ERROR(WSCRT_ERROR_INVALID_ARGUMENT,
                 wscrt_host_resolver_resolve(fixture.resolver, NULL, fixture.loop, s_on_resolved, &result));
    ASSERT_ERROR(WSCRT_ERROR_INVALID_ARGUMENT,
                 wscrt_host_resolver_resolve(fixture.resolver, "localhost", NULL, s_on_resolved, &result));
    ASSERT_ERROR(WSCRT_ERROR_INVALID_ARGUMENT,
                 wscrt_host_resolver_resolve(fixture.resolver, "localhost", fixture.loop, NULL, &result));
    ASSERT_TRUE(s_fixture_clean_up(&fixture));
    ASSERT_INT_EQ(0, result.calls);
    s_waiter_clean_up(&result.done);
    return 0;
}

WSCRT_TEST_MAIN(s_test_resolves_localhost, s_test_numeric_addresses_resolve_without_lookup,
                s_test_invalid_names_fail_with_invalid_name, s_test_cache_answers_second_lookup,
                s_test_cache_disabled_looks_up_every_time, s_test_burst_of_requests_shares_one_lookup,
                s_test_release_with_lookups_in_flight, s_test_destroyed_callback_loop_answers_with_shutdown,
                s_test_invalid_arguments)
