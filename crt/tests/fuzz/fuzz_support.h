#ifndef WSCRT_TESTS_FUZZ_FUZZ_SUPPORT_H
#define WSCRT_TESTS_FUZZ_FUZZ_SUPPORT_H
/*
 * Shared by the libFuzzer targets in this folder (header-only, all static).
 *
 * Every target reads its input the same way: the first FUZZ_CONFIG_BYTES bytes
 * configure the run, the rest is the byte stream under test.
 *
 *   byte 0     target options (each target documents its bits)
 *   byte 1     how the stream is cut: bits 0-2 pick the largest piece
 *              (1, 2, 3, 5, 8, 17, 64, 4096 bytes), bit 3 allows empty pieces
 *   bytes 2-3  seed of the generator that draws the piece lengths
 *
 * An input shorter than that is all configuration (missing bytes read as 0)
 * and an empty stream. Seed files in corpus/ start with these four bytes.
 *
 * A broken invariant prints what broke and traps (abort with a backtrace from
 * ASan's deadly-signal handler), which libFuzzer records as a crash.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/allocator.h"

#define FUZZ_CONFIG_BYTES 4

#define FUZZ_CHECK(cond, ...)                                                                                          \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            fprintf(stderr, "\nFUZZ INVARIANT VIOLATED at %s:%d: %s\n  ", __FILE__, __LINE__, #cond);                 \
            fprintf(stderr, __VA_ARGS__);                                                                              \
            fprintf(stderr, "\n");                                                                                     \
            fflush(stderr);                                                                                            \
            __builtin_trap();                                                                                          \
        }                                                                                                              \
    } while (0)

struct fuzz_input {
    uint8_t options;    /* byte 0 */
    uint8_t split;      /* byte 1 */
    uint16_t seed;      /* bytes 2-3 */
    const uint8_t *stream;
    size_t stream_len;
};

static inline struct fuzz_input fuzz_input_parse(const uint8_t *data, size_t size) {
    uint8_t config[FUZZ_CONFIG_BYTES] = {0};
    for (size_t i = 0; i < FUZZ_CONFIG_BYTES && i < size; ++i) {
        config[i] = data[i];
    }
    struct fuzz_input input = {
        .options = config[0],
        .split = config[1],
        .seed = (uint16_t)((config[2] << 8) | config[3]),
        .stream = size > FUZZ_CONFIG_BYTES ? data + FUZZ_CONFIG_BYTES : data + size,
        .stream_len = size > FUZZ_CONFIG_BYTES ? size - FUZZ_CONFIG_BYTES : 0,
    };
    return input;
}

/* A small deterministic generator (splitmix64): the same input always gives
 * the same pieces, so a crash reproduces from its file alone. */
struct fuzz_rng {
    uint64_t state;
};

static inline struct fuzz_rng fuzz_rng_new(uint64_t seed) {
    struct fuzz_rng rng = {.state = seed * 0x9E3779B97F4A7C15ULL + 0x632BE59BD9B4E019ULL};
    return rng;
}

static inline uint64_t fuzz_rng_next(struct fuzz_rng *rng) {
    uint64_t z = (rng->state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* Uniform enough in [0, bound] for fuzzing purposes. */
static inline uint64_t fuzz_rng_upto(struct fuzz_rng *rng, uint64_t bound) {
    return bound == UINT64_MAX ? fuzz_rng_next(rng) : fuzz_rng_next(rng) % (bound + 1);
}

/* Cuts a stream into pieces as byte 1 and the seed say. */
struct fuzz_splitter {
    struct fuzz_rng rng;
    size_t max_piece;
    bool allow_empty;
};

static inline struct fuzz_splitter fuzz_splitter_new(const struct fuzz_input *input) {
    static const size_t s_max_piece[8] = {1, 2, 3, 5, 8, 17, 64, 4096};
    struct fuzz_splitter splitter = {
        .rng = fuzz_rng_new(input->seed),
        .max_piece = s_max_piece[input->split & 0x7],
        .allow_empty = (input->split & 0x8) != 0,
    };
    return splitter;
}

/* The length of the next piece, given what is left (0 only if allowed, or nothing is left). */
static inline size_t fuzz_splitter_next(struct fuzz_splitter *splitter, size_t remaining) {
    size_t min = splitter->allow_empty ? 0 : 1;
    size_t len = min + (size_t)fuzz_rng_upto(&splitter->rng, splitter->max_piece - min);
    return len < remaining ? len : remaining;
}

/* The piece [offset, offset + len) of a stream; an empty piece has a NULL
 * pointer, the harshest form of "no bytes" a caller can pass. */
static inline const uint8_t *fuzz_piece_ptr(const uint8_t *stream, size_t offset, size_t len) {
    return len > 0 ? stream + offset : NULL;
}

/*
 * One tracking allocator for the whole process: every target passes it to the
 * code under test and checks at the end of each input that nothing is live.
 */
static inline struct wscrt_allocator *fuzz_allocator(void) {
    static struct wscrt_allocator *s_tracer;
    if (!s_tracer) {
        s_tracer = wscrt_mem_tracer_new(wscrt_default_allocator());
    }
    return s_tracer;
}

static inline void fuzz_check_no_live_memory(void) {
    struct wscrt_allocator *tracer = fuzz_allocator();
    FUZZ_CHECK(wscrt_mem_tracer_bytes(tracer) == 0 && wscrt_mem_tracer_count(tracer) == 0,
               "%zu bytes in %zu blocks still allocated after the input", wscrt_mem_tracer_bytes(tracer),
               wscrt_mem_tracer_count(tracer));
}

/* Growable byte log, for recording what the code under test delivered. */
struct fuzz_bytes {
    uint8_t *bytes;
    size_t len;
    size_t capacity;
};

static inline void fuzz_bytes_append(struct fuzz_bytes *log, const uint8_t *bytes, size_t len) {
    if (len == 0) {
        return;
    }
    if (log->len + len > log->capacity) {
        size_t capacity = log->capacity ? log->capacity : 64;
        while (capacity < log->len + len) {
            capacity *= 2;
        }
        uint8_t *grown = realloc(log->bytes, capacity);
        FUZZ_CHECK(grown != NULL, "out of memory in the fuzz harness");
        log->bytes = grown;
        log->capacity = capacity;
    }
    for (size_t i = 0; i < len; ++i) {
        log->bytes[log->len + i] = bytes[i];
    }
    log->len += len;
}

static inline void fuzz_bytes_free(struct fuzz_bytes *log) {
    free(log->bytes);
    log->bytes = NULL;
    log->len = 0;
    log->capacity = 0;
}

#endif
