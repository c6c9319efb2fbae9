#ifndef WSCRT_COMMON_LOGGING_H
#define WSCRT_COMMON_LOGGING_H
/*
 * Process-wide logger (the one piece of global state the architecture names
 * besides the tracking allocator). A disabled level costs one relaxed atomic
 * load and one branch: WSCRT_LOGF checks the level before formatting.
 *
 * Line format: "[LEVEL] [YYYY-MM-DDTHH:MM:SSZ] [subject] [thread-id] message".
 */
#include <stdarg.h>
#include <stdatomic.h>

enum wscrt_log_level {
    WSCRT_LL_NONE = 0,
    WSCRT_LL_FATAL = 1,
    WSCRT_LL_ERROR = 2,
    WSCRT_LL_WARN = 3,
    WSCRT_LL_INFO = 4,
    WSCRT_LL_DEBUG = 5,
    WSCRT_LL_TRACE = 6,
};

enum wscrt_log_subject {
    WSCRT_LS_COMMON,
    WSCRT_LS_IO_EVENT_LOOP,
    WSCRT_LS_IO_SOCKET,
    WSCRT_LS_IO_CHANNEL,
    WSCRT_LS_IO_DNS,
    WSCRT_LS_IO_BOOTSTRAP,
    WSCRT_LS_IO_TLS,
    WSCRT_LS_HTTP,
    WSCRT_LS_WEBSOCKET,
    WSCRT_LS_JNI,
    WSCRT_LS_COUNT,
};

/* A sink receives one formatted line (no trailing newline). */
typedef void(wscrt_log_sink_fn)(enum wscrt_log_level level, enum wscrt_log_subject subject, const char *line,
                                void *user_data);

extern atomic_int wscrt_g_log_level;

static inline int wscrt_log_level_enabled(enum wscrt_log_level level) {
    return (int)level <= atomic_load_explicit(&wscrt_g_log_level, memory_order_relaxed);
}

/* Formats and writes to the current sink. Prefer WSCRT_LOGF. */
void wscrt_log_write(enum wscrt_log_level level, enum wscrt_log_subject subject, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

#define WSCRT_LOGF(level, subject, ...)                                                                                \
    do {                                                                                                               \
        if (wscrt_log_level_enabled(level)) {                                                                          \
            wscrt_log_write((level), (subject), __VA_ARGS__);                                                          \
        }                                                                                                              \
    } while (0)

#define WSCRT_LOGF_ERROR(subject, ...) WSCRT_LOGF(WSCRT_LL_ERROR, subject, __VA_ARGS__)
#define WSCRT_LOGF_WARN(subject, ...) WSCRT_LOGF(WSCRT_LL_WARN, subject, __VA_ARGS__)
#define WSCRT_LOGF_INFO(subject, ...) WSCRT_LOGF(WSCRT_LL_INFO, subject, __VA_ARGS__)
#define WSCRT_LOGF_DEBUG(subject, ...) WSCRT_LOGF(WSCRT_LL_DEBUG, subject, __VA_ARGS__)
#define WSCRT_LOGF_TRACE(subject, ...) WSCRT_LOGF(WSCRT_LL_TRACE, subject, __VA_ARGS__)

/* Sinks. Each replaces the previous one (closing a previous file sink). */
void wscrt_logger_set_stderr(enum wscrt_log_level level);
int wscrt_logger_set_file(const char *path, enum wscrt_log_level level);
void wscrt_logger_set_sink(wscrt_log_sink_fn *sink, void *user_data, enum wscrt_log_level level);
/* Level NONE and no sink. */
void wscrt_logger_clean_up(void);

const char *wscrt_log_level_name(enum wscrt_log_level level);
const char *wscrt_log_subject_name(enum wscrt_log_subject subject);

#endif
