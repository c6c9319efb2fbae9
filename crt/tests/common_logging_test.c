#include "common/logging.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "test_harness.h"

#define S_MAX_LINES 8

struct s_recorder {
    int count;
    char lines[S_MAX_LINES][2048];
    enum wscrt_log_level levels[S_MAX_LINES];
    enum wscrt_log_subject subjects[S_MAX_LINES];
};

static void s_record(enum wscrt_log_level level, enum wscrt_log_subject subject, const char *line, void *user_data) {
    struct s_recorder *recorder = user_data;
    if (recorder->count < S_MAX_LINES) {
        snprintf(recorder->lines[recorder->count], sizeof(recorder->lines[0]), "%s", line);
        recorder->levels[recorder->count] = level;
        recorder->subjects[recorder->count] = subject;
    }
    ++recorder->count;
}

static int s_formatted_calls = 0;

static const char *s_count_format(void) {
    ++s_formatted_calls;
    return "x";
}

/* "[LEVEL] [YYYY-MM-DDTHH:MM:SSZ] [subject] [tid] message" */
static int s_check_line_format(const char *line, const char *level, const char *subject, const char *message) {
    char expected_prefix[64];
    snprintf(expected_prefix, sizeof(expected_prefix), "[%s] [", level);
    ASSERT_TRUE(strncmp(line, expected_prefix, strlen(expected_prefix)) == 0);
    const char *ts = line + strlen(expected_prefix);
    ASSERT_TRUE(strlen(ts) > 21);
    ASSERT_TRUE(ts[4] == '-' && ts[7] == '-' && ts[10] == 'T' && ts[13] == ':' && ts[16] == ':' && ts[19] == 'Z');
    ASSERT_TRUE(ts[20] == ']' && ts[21] == ' ');
    const char *rest = ts + 22;
    char expected_subject[64];
    snprintf(expected_subject, sizeof(expected_subject), "[%s] [", subject);
    ASSERT_TRUE(strncmp(rest, expected_subject, strlen(expected_subject)) == 0);
    rest += strlen(expected_subject);
    char *after_tid = NULL;
    long tid = strtol(rest, &after_tid, 10);
    ASSERT_TRUE(tid > 0);
    ASSERT_TRUE(strncmp(after_tid, "] ", 2) == 0);
    ASSERT_TRUE(strcmp(after_tid + 2, message) == 0);
    return 0;
}

static int s_test_disabled_by_default_and_level_filters(struct wscrt_allocator *allocator) {
    (void)allocator;
    ASSERT_INT_EQ(WSCRT_LL_NONE, atomic_load(&wscrt_g_log_level));
    s_formatted_calls = 0;
    WSCRT_LOGF_ERROR(WSCRT_LS_COMMON, "%s", s_count_format());
    ASSERT_INT_EQ(0, s_formatted_calls); /* arguments are not even evaluated */

    struct s_recorder recorder = {0};
    wscrt_logger_set_sink(s_record, &recorder, WSCRT_LL_INFO);
    WSCRT_LOGF_DEBUG(WSCRT_LS_COMMON, "%s", s_count_format());
    WSCRT_LOGF_TRACE(WSCRT_LS_COMMON, "hidden");
    ASSERT_INT_EQ(0, s_formatted_calls);
    ASSERT_INT_EQ(0, recorder.count);
    WSCRT_LOGF_INFO(WSCRT_LS_WEBSOCKET, "id=%p: Received CLOSE frame, status=%d", (void *)0x1, 1002);
    WSCRT_LOGF_ERROR(WSCRT_LS_IO_SOCKET, "boom");
    WSCRT_LOGF(WSCRT_LL_FATAL, WSCRT_LS_JNI, "fatal %s", "thing");
    ASSERT_INT_EQ(3, recorder.count);
    ASSERT_INT_EQ(WSCRT_LL_INFO, recorder.levels[0]);
    ASSERT_INT_EQ(WSCRT_LS_WEBSOCKET, recorder.subjects[0]);
    if (s_check_line_format(recorder.lines[0], "INFO", "websocket", "id=0x1: Received CLOSE frame, status=1002")) {
        return 1;
    }
    if (s_check_line_format(recorder.lines[1], "ERROR", "socket", "boom")) {
        return 1;
    }
    if (s_check_line_format(recorder.lines[2], "FATAL", "jni", "fatal thing")) {
        return 1;
    }

    wscrt_logger_clean_up();
    ASSERT_INT_EQ(WSCRT_LL_NONE, atomic_load(&wscrt_g_log_level));
    WSCRT_LOGF_ERROR(WSCRT_LS_COMMON, "after clean up");
    ASSERT_INT_EQ(3, recorder.count);
    return 0;
}

static int s_test_long_lines_are_not_truncated(struct wscrt_allocator *allocator) {
    (void)allocator;
    char message[1500];
    memset(message, 'm', sizeof(message) - 1);
    message[sizeof(message) - 1] = '\0';
    struct s_recorder recorder = {0};
    wscrt_logger_set_sink(s_record, &recorder, WSCRT_LL_TRACE);
    WSCRT_LOGF_TRACE(WSCRT_LS_HTTP, "%s", message);
    wscrt_logger_clean_up();
    ASSERT_INT_EQ(1, recorder.count);
    if (s_check_line_format(recorder.lines[0], "TRACE", "http", message)) {
        return 1;
    }
    return 0;
}

static struct s_recorder s_reentrant_recorder;

static void s_logging_sink(enum wscrt_log_level level, enum wscrt_log_subject subject, const char *line,
                           void *user_data) {
    s_record(level, subject, line, user_data);
    /* Must be dropped, not deadlock. */
    WSCRT_LOGF_ERROR(WSCRT_LS_COMMON, "from inside the sink");
}

static int s_test_sink_that_logs_does_not_deadlock(struct wscrt_allocator *allocator) {
    (void)allocator;
    memset(&s_reentrant_recorder, 0, sizeof(s_reentrant_recorder));
    wscrt_logger_set_sink(s_logging_sink, &s_reentrant_recorder, WSCRT_LL_ERROR);
    WSCRT_LOGF_ERROR(WSCRT_LS_COMMON, "outer");
    wscrt_logger_clean_up();
    ASSERT_INT_EQ(1, s_reentrant_recorder.count);
    return 0;
}

static int s_test_file_sink_appends(struct wscrt_allocator *allocator) {
    (void)allocator;
    char path[] = "/tmp/wscrt_log_test_XXXXXX";
    int fd = mkstemp(path);
    ASSERT_TRUE(fd >= 0);
    ASSERT_TRUE(write(fd, "existing\n", 9) == 9);
    close(fd);

    ASSERT_SUCCESS(wscrt_logger_set_file(path, WSCRT_LL_WARN));
    WSCRT_LOGF_WARN(WSCRT_LS_IO_TLS, "first %d", 1);
    WSCRT_LOGF_INFO(WSCRT_LS_IO_TLS, "filtered");
    /* switching sinks closes the file */
    wscrt_logger_set_stderr(WSCRT_LL_NONE);
    ASSERT_SUCCESS(wscrt_logger_set_file(path, WSCRT_LL_WARN));
    WSCRT_LOGF_ERROR(WSCRT_LS_IO_DNS, "second");
    wscrt_logger_clean_up();

    FILE *file = fopen(path, "r");
    ASSERT_TRUE(file != NULL);
    char lines[4][256];
    int count = 0;
    while (count < 4 && fgets(lines[count], sizeof(lines[0]), file) != NULL) {
        lines[count][strcspn(lines[count], "\n")] = '\0';
        ++count;
    }
    fclose(file);
    unlink(path);
    ASSERT_INT_EQ(3, count);
    ASSERT_TRUE(strcmp(lines[0], "existing") == 0);
    if (s_check_line_format(lines[1], "WARN", "tls", "first 1")) {
        return 1;
    }
    if (s_check_line_format(lines[2], "ERROR", "dns", "second")) {
        return 1;
    }
    return 0;
}

static int s_test_file_sink_open_failure(struct wscrt_allocator *allocator) {
    (void)allocator;
    ASSERT_ERROR(WSCRT_ERROR_FILE_OPEN_FAILURE,
                 wscrt_logger_set_file("/nonexistent-dir-wscrt/log.txt", WSCRT_LL_TRACE));
    ASSERT_INT_EQ(WSCRT_LL_NONE, atomic_load(&wscrt_g_log_level));
    return 0;
}

static int s_test_stderr_sink(struct wscrt_allocator *allocator) {
    (void)allocator;
    wscrt_logger_set_stderr(WSCRT_LL_INFO);
    ASSERT_INT_EQ(WSCRT_LL_INFO, atomic_load(&wscrt_g_log_level));
    WSCRT_LOGF_INFO(WSCRT_LS_COMMON, "this line goes to stderr");
    wscrt_logger_clean_up();
    return 0;
}

static int s_test_names(struct wscrt_allocator *allocator) {
    (void)allocator;
    ASSERT_TRUE(strcmp("WARN", wscrt_log_level_name(WSCRT_LL_WARN)) == 0);
    ASSERT_TRUE(strcmp("TRACE", wscrt_log_level_name(WSCRT_LL_TRACE)) == 0);
    ASSERT_TRUE(strcmp("UNKNOWN", wscrt_log_level_name((enum wscrt_log_level)42)) == 0);
    ASSERT_TRUE(strcmp("event-loop", wscrt_log_subject_name(WSCRT_LS_IO_EVENT_LOOP)) == 0);
    ASSERT_TRUE(strcmp("unknown", wscrt_log_subject_name(WSCRT_LS_COUNT)) == 0);
    return 0;
}

#define S_THREADS 4
#define S_LINES_PER_THREAD 500

static atomic_int s_concurrent_lines;

static void s_count_sink(enum wscrt_log_level level, enum wscrt_log_subject subject, const char *line,
                         void *user_data) {
    (void)level;
    (void)subject;
    (void)line;
    (void)user_data;
    atomic_fetch_add(&s_concurrent_lines, 1);
}

static void *s_log_many(void *arg) {
    (void)arg;
    for (int i = 0; i < S_LINES_PER_THREAD; ++i) {
        WSCRT_LOGF_DEBUG(WSCRT_LS_IO_CHANNEL, "line %d", i);
    }
    return NULL;
}

static int s_test_concurrent_writers(struct wscrt_allocator *allocator) {
    (void)allocator;
    atomic_store(&s_concurrent_lines, 0);
    wscrt_logger_set_sink(s_count_sink, NULL, WSCRT_LL_DEBUG);
    pthread_t threads[S_THREADS];
    for (int i = 0; i < S_THREADS; ++i) {
        ASSERT_INT_EQ(0, pthread_create(&threads[i], NULL, s_log_many, NULL));
    }
    for (int i = 0; i < S_THREADS; ++i) {
        pthread_join(threads[i], NULL);
    }
    wscrt_logger_clean_up();
    ASSERT_INT_EQ(S_THREADS * S_LINES_PER_THREAD, atomic_load(&s_concurrent_lines));
    return 0;
}

WSCRT_TEST_MAIN(s_test_disabled_by_default_and_level_filters, s_test_long_lines_are_not_truncated,
                s_test_sink_that_logs_does_not_deadlock, s_test_file_sink_appends, s_test_file_sink_open_failure,
                s_test_stderr_sink, s_test_names, s_test_concurrent_writers)
