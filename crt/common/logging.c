#include "common/logging.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common/allocator.h"
#include "common/error.h"

atomic_int wscrt_g_log_level = WSCRT_LL_NONE;

enum s_sink_kind {
    S_SINK_NONE,
    S_SINK_STDERR,
    S_SINK_FILE,
    S_SINK_CALLBACK,
};

/* All sink fields are guarded by s_lock. */
static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
static enum s_sink_kind s_sink_kind = S_SINK_NONE;
static FILE *s_sink_file = NULL;
static wscrt_log_sink_fn *s_sink_fn = NULL;
static void *s_sink_user_data = NULL;

/* Set while this thread is inside a sink, so a sink that logs cannot deadlock. */
static _Thread_local int s_in_sink = 0;

/* Most lines fit; longer ones are formatted a second time into a heap buffer. */
#define WSCRT_LOG_LINE_STACK 1024

static const char *s_level_names[] = {"NONE", "FATAL", "ERROR", "WARN", "INFO", "DEBUG", "TRACE"};

static const char *s_subject_names[WSCRT_LS_COUNT] = {
    [WSCRT_LS_COMMON] = "common",
    [WSCRT_LS_IO_EVENT_LOOP] = "event-loop",
    [WSCRT_LS_IO_SOCKET] = "socket",
    [WSCRT_LS_IO_CHANNEL] = "channel",
    [WSCRT_LS_IO_DNS] = "dns",
    [WSCRT_LS_IO_BOOTSTRAP] = "bootstrap",
    [WSCRT_LS_IO_TLS] = "tls",
    [WSCRT_LS_HTTP] = "http",
    [WSCRT_LS_WEBSOCKET] = "websocket",
    [WSCRT_LS_JNI] = "jni",
};

const char *wscrt_log_level_name(enum wscrt_log_level level) {
    if ((int)level < 0 || (size_t)level >= sizeof(s_level_names) / sizeof(s_level_names[0])) {
        return "UNKNOWN";
    }
    return s_level_names[level];
}

const char *wscrt_log_subject_name(enum wscrt_log_subject subject) {
    if ((int)subject < 0 || subject >= WSCRT_LS_COUNT) {
        return "unknown";
    }
    return s_subject_names[subject];
}

/* Called with s_lock held. Closes a previous file sink. */
static void s_sink_clear_locked(void) {
    if (s_sink_kind == S_SINK_FILE && s_sink_file != NULL) {
        fclose(s_sink_file);
    }
    s_sink_kind = S_SINK_NONE;
    s_sink_file = NULL;
    s_sink_fn = NULL;
    s_sink_user_data = NULL;
}

static void s_level_set(enum wscrt_log_level level) {
    atomic_store_explicit(&wscrt_g_log_level, (int)level, memory_order_relaxed);
}

void wscrt_logger_set_stderr(enum wscrt_log_level level) {
    pthread_mutex_lock(&s_lock);
    s_sink_clear_locked();
    s_sink_kind = S_SINK_STDERR;
    pthread_mutex_unlock(&s_lock);
    s_level_set(level);
}

int wscrt_logger_set_file(const char *path, enum wscrt_log_level level) {
    if (path == NULL) {
        return wscrt_raise_error(WSCRT_ERROR_INVALID_ARGUMENT);
    }
    /* Opened before taking the lock; on failure the previous sink stays. */
    FILE *file = fopen(path, "a");
    if (file == NULL) {
        return wscrt_raise_error(WSCRT_ERROR_FILE_OPEN_FAILURE);
    }
    pthread_mutex_lock(&s_lock);
    s_sink_clear_locked();
    s_sink_kind = S_SINK_FILE;
    s_sink_file = file;
    pthread_mutex_unlock(&s_lock);
    s_level_set(level);
    return WSCRT_OP_SUCCESS;
}

void wscrt_logger_set_sink(wscrt_log_sink_fn *sink, void *user_data, enum wscrt_log_level level) {
    pthread_mutex_lock(&s_lock);
    s_sink_clear_locked();
    if (sink != NULL) {
        s_sink_kind = S_SINK_CALLBACK;
        s_sink_fn = sink;
        s_sink_user_data = user_data;
    }
    pthread_mutex_unlock(&s_lock);
    s_level_set(sink != NULL ? level : WSCRT_LL_NONE);
}

void wscrt_logger_clean_up(void) {
    /* Level first, so new calls stop before the sink goes away. */
    s_level_set(WSCRT_LL_NONE);
    pthread_mutex_lock(&s_lock);
    s_sink_clear_locked();
    pthread_mutex_unlock(&s_lock);
}

static long s_thread_id(void) {
#ifdef SYS_gettid
    return (long)syscall(SYS_gettid);
#else
    return (long)(uintptr_t)pthread_self();
#endif
}

static void s_emit_locked(const char *line) {
    switch (s_sink_kind) {
        case S_SINK_STDERR:
            fprintf(stderr, "%s\n", line);
            break;
        case S_SINK_FILE:
            fprintf(s_sink_file, "%s\n", line);
            /* Flushed per line so the log survives a crash. */
            fflush(s_sink_file);
            break;
        case S_SINK_CALLBACK: /* called by wscrt_log_write outside the lock */
        case S_SINK_NONE:
            break;
    }
}

void wscrt_log_write(enum wscrt_log_level level, enum wscrt_log_subject subject, const char *format, ...) {
    if (s_in_sink) {
        return;
    }

    char timestamp[32];
    struct tm tm_utc;
    time_t now = time(NULL);
    if (gmtime_r(&now, &tm_utc) == NULL || strftime(timestamp, sizeof(timestamp), "%Y-%m-%dT%H:%M:%SZ", &tm_utc) == 0) {
        timestamp[0] = '\0';
    }

    char stack_line[WSCRT_LOG_LINE_STACK];
    int prefix_len = snprintf(stack_line, sizeof(stack_line), "[%s] [%s] [%s] [%ld] ", wscrt_log_level_name(level),
                              timestamp, wscrt_log_subject_name(subject), s_thread_id());
    if (prefix_len < 0 || (size_t)prefix_len >= sizeof(stack_line)) {
        return;
    }

    va_list args;
    va_start(args, format);
    int message_len = vsnprintf(stack_line + prefix_len, sizeof(stack_line) - (size_t)prefix_len, format, args);
    va_end(args);
    if (message_len < 0) {
        return;
    }

    char *line = stack_line;
    char *heap_line = NULL;
    size_t total = (size_t)prefix_len + (size_t)message_len + 1;
    if (total > sizeof(stack_line)) {
        struct wscrt_allocator *allocator = wscrt_default_allocator();
        heap_line = wscrt_mem_acquire(allocator, total);
        memcpy(heap_line, stack_line, (size_t)prefix_len);
        va_start(args, format);
        vsnprintf(heap_line + prefix_len, total - (size_t)prefix_len, format, args);
        va_end(args);
        line = heap_line;
    }

    pthread_mutex_lock(&s_lock);
    s_in_sink = 1;
    if (s_sink_kind == S_SINK_CALLBACK) {
        /* A callback sink (Java's System.Logger) runs outside the lock: no call into Java holds a native
         * lock. A line being written while the sink is replaced may still reach the old callback. */
        wscrt_log_sink_fn *sink = s_sink_fn;
        void *sink_user_data = s_sink_user_data;
        pthread_mutex_unlock(&s_lock);
        sink(level, subject, line, sink_user_data);
    } else {
        s_emit_locked(line);
        pthread_mutex_unlock(&s_lock);
    }
    s_in_sink = 0;

    if (heap_line != NULL) {
        wscrt_mem_release(wscrt_default_allocator(), heap_line);
    }
}
