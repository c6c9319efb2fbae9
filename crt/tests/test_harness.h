#ifndef WSCRT_TESTS_TEST_HARNESS_H
#define WSCRT_TESTS_TEST_HARNESS_H
/*
 * Minimal C test harness. A test file defines test functions
 *
 *     static int s_test_timers_fire_in_order(struct wscrt_allocator *allocator) { ...; return 0; }
 *
 * and ends with
 *
 *     WSCRT_TEST_MAIN(s_test_timers_fire_in_order, s_test_other)
 *
 * Each test gets a fresh tracking allocator; after the test the harness fails
 * it if any byte or block is still allocated. ASSERT_* return 1 on failure
 * after printing file, line and the values.
 *
 * Table-driven tests: a test function runs each row of its table with
 *
 *     failures += WSCRT_CASE(row->name, s_check_row(allocator, row));
 *
 * and returns `failures`. Every row is named in the log and counts as one test
 * in the file's summary (the function itself is not counted again).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/allocator.h"
#include "common/error.h"

typedef int(wscrt_test_fn)(struct wscrt_allocator *allocator);

/* The number of elements of an array (not a pointer). */
#define WSCRT_COUNT_OF(array) (sizeof(array) / sizeof((array)[0]))

#define WSCRT_FAIL_(...)                                                                                               \
    do {                                                                                                               \
        fprintf(stderr, "  FAILED at %s:%d: ", __FILE__, __LINE__);                                                    \
        fprintf(stderr, __VA_ARGS__);                                                                                  \
        fprintf(stderr, "\n");                                                                                         \
        return 1;                                                                                                      \
    } while (0)

#define ASSERT_TRUE(cond)                                                                                              \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            WSCRT_FAIL_("expected true: %s", #cond);                                                                   \
        }                                                                                                              \
    } while (0)
#define ASSERT_FALSE(cond) ASSERT_TRUE(!(cond))
#define ASSERT_INT_EQ(expected, actual)                                                                                \
    do {                                                                                                               \
        long long e_ = (long long)(expected), a_ = (long long)(actual);                                                \
        if (e_ != a_) {                                                                                                \
            WSCRT_FAIL_("%s == %s: expected %lld, got %lld", #expected, #actual, e_, a_);                              \
        }                                                                                                              \
    } while (0)
#define ASSERT_UINT_EQ(expected, actual)                                                                               \
    do {                                                                                                               \
        unsigned long long e_ = (unsigned long long)(expected), a_ = (unsigned long long)(actual);                     \
        if (e_ != a_) {                                                                                                \
            WSCRT_FAIL_("%s == %s: expected %llu, got %llu", #expected, #actual, e_, a_);                              \
        }                                                                                                              \
    } while (0)
#define ASSERT_SUCCESS(call)                                                                                           \
    do {                                                                                                               \
        if ((call) != WSCRT_OP_SUCCESS) {                                                                              \
            int err_ = wscrt_last_error();                                                                             \
            WSCRT_FAIL_("%s failed with %s", #call, wscrt_error_name(err_));                                           \
        }                                                                                                              \
    } while (0)
#define ASSERT_ERROR(expected_error, call)                                                                             \
    do {                                                                                                               \
        wscrt_reset_error();                                                                                           \
        if ((call) != WSCRT_OP_ERR) {                                                                                  \
            WSCRT_FAIL_("%s succeeded, expected %s", #call, wscrt_error_name(expected_error));                         \
        }                                                                                                              \
        if (wscrt_last_error() != (expected_error)) {                                                                  \
            WSCRT_FAIL_("%s raised %s, expected %s", #call, wscrt_error_name(wscrt_last_error()),                      \
                        wscrt_error_name(expected_error));                                                             \
        }                                                                                                              \
    } while (0)
#define ASSERT_BYTES_EQ(expected, expected_len, actual, actual_len)                                                    \
    do {                                                                                                               \
        size_t el_ = (size_t)(expected_len), al_ = (size_t)(actual_len);                                               \
        if (el_ != al_ || (el_ > 0 && memcmp((expected), (actual), el_) != 0)) {                                       \
            WSCRT_FAIL_("bytes differ: %s (%zu bytes) vs %s (%zu bytes)", #expected, el_, #actual, al_);               \
        }                                                                                                              \
    } while (0)

static size_t wscrt_cases_run_;
static size_t wscrt_cases_failed_;

/* One row of a table-driven test: logs it and counts it; returns 1 when it failed. */
static inline int wscrt_case_(const char *name, int result) {
    wscrt_cases_run_++;
    wscrt_cases_failed_ += result != 0;
    fprintf(stderr, "  [ %s ] %s\n", result == 0 ? " OK " : "FAIL", name);
    return result != 0;
}
#define WSCRT_CASE(name, call) wscrt_case_((name), (call))

static inline int wscrt_run_tests_(const char *file, wscrt_test_fn **tests, const char **names, size_t count) {
    int failed = 0;
    size_t functions_with_cases = 0;
    for (size_t i = 0; i < count; ++i) {
        size_t cases_before = wscrt_cases_run_;
        size_t case_failures_before = wscrt_cases_failed_;
        struct wscrt_allocator *tracer = wscrt_mem_tracer_new(wscrt_default_allocator());
        fprintf(stderr, "[ RUN  ] %s\n", names[i]);
        int result = tests[i](tracer);
        size_t bytes = wscrt_mem_tracer_bytes(tracer);
        size_t blocks = wscrt_mem_tracer_count(tracer);
        if (result == 0 && (bytes != 0 || blocks != 0)) {
            fprintf(stderr, "  FAILED: leaked %zu bytes in %zu blocks\n", bytes, blocks);
            result = 1;
        }
        wscrt_mem_tracer_destroy(tracer);
        fprintf(stderr, "[ %s ] %s\n", result == 0 ? " OK " : "FAIL", names[i]);
        if (wscrt_cases_run_ > cases_before) {
            /* A table: its rows are the tests; a failure outside the rows (a leak) counts once more. */
            functions_with_cases++;
            failed += result != 0 && wscrt_cases_failed_ == case_failures_before;
        } else {
            failed += result != 0;
        }
    }
    size_t total = count - functions_with_cases + wscrt_cases_run_;
    failed += (int)wscrt_cases_failed_;
    fprintf(stderr, "%s: %zu passed, %d failed\n", file, total - (size_t)failed, failed);
    return failed == 0 ? 0 : 1;
}

#define WSCRT_TEST_STRINGIFY_ALL_(...) #__VA_ARGS__

#define WSCRT_TEST_MAIN(...)                                                                                           \
    int main(void) {                                                                                                   \
        wscrt_test_fn *tests_[] = {__VA_ARGS__};                                                                       \
        static char names_buf_[] = WSCRT_TEST_STRINGIFY_ALL_(__VA_ARGS__);                                             \
        const char *names_[sizeof(tests_) / sizeof(tests_[0])];                                                        \
        size_t n_ = 0;                                                                                                 \
        char *p_ = names_buf_;                                                                                         \
        while (n_ < sizeof(tests_) / sizeof(tests_[0])) {                                                              \
            while (*p_ == ' ' || *p_ == ',') {                                                                         \
                ++p_;                                                                                                  \
            }                                                                                                          \
            names_[n_++] = p_;                                                                                         \
            while (*p_ && *p_ != ',') {                                                                                \
                ++p_;                                                                                                  \
            }                                                                                                          \
            if (*p_) {                                                                                                 \
                *p_++ = '\0';                                                                                          \
            }                                                                                                          \
        }                                                                                                              \
        return wscrt_run_tests_(__FILE__, tests_, names_, n_);                                                         \
    }

#endif
