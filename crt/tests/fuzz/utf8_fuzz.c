/*
 * libFuzzer target for the incremental UTF-8 validator (crt/common/utf8.h).
 *
 * Input: the four configuration bytes of fuzz_support.h, then the text. Byte 0
 * is unused. Checked for every input:
 *   - the whole input (configuration included) and the text are judged the
 *     same by wscrt_utf8_is_valid and by the reference decoder below;
 *   - the text fed in one update, in pieces, and one byte at a time, is
 *     accepted or refused exactly as the reference says, and a refusal names
 *     the same offset (bytes_seen) in the update holding that byte;
 *   - a refused validator stays refused (sticky) without moving bytes_seen,
 *     and finalize resets it for reuse;
 *   - a stream cut inside a code point passes update and fails finalize.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/byte_buf.h"
#include "common/error.h"
#include "common/utf8.h"
#include "fuzz_support.h"

/* Byte-at-a-time feeding costs one call per byte: bounded to keep runs fast. */
#define S_BYTEWISE_MAX_LEN 4096

/* ---- reference: decode code points per RFC 3629 ---- */

/*
 * Could a code point whose first bits are `prefix`, with `remaining`
 * continuation bytes (6 bits each) still to come, end up valid for a sequence
 * of this length? Valid means: not overlong (>= min), <= U+10FFFF, and not a
 * UTF-16 surrogate (U+D800..U+DFFF). The validator under test fails at the
 * first byte after which the answer is no, so the reference does too.
 */
static bool s_can_complete(uint32_t prefix, unsigned remaining, uint32_t min) {
    uint32_t low = prefix << (6 * remaining);
    uint32_t high = low | ((1u << (6 * remaining)) - 1);
    bool all_surrogates = low >= 0xD800 && high <= 0xDFFF;
    return high >= min && low <= 0x10FFFF && !all_surrogates;
}

enum s_reference_verdict {
    S_REF_VALID,
    S_REF_TRUNCATED, /* every byte is fine but the last code point is cut off */
    S_REF_INVALID,
};

/* On S_REF_INVALID, *bad_offset is the first byte that cannot be part of valid UTF-8. */
static enum s_reference_verdict s_reference_validate(const uint8_t *bytes, size_t len, size_t *bad_offset) {
    size_t i = 0;
    while (i < len) {
        uint8_t lead = bytes[i];
        unsigned continuations;
        uint32_t codepoint;
        uint32_t min;
        if (lead < 0x80) {
            ++i;
            continue;
        } else if ((lead & 0xE0) == 0xC0) { /* 110xxxxx */
            continuations = 1;
            codepoint = lead & 0x1F;
            min = 0x80;
        } else if ((lead & 0xF0) == 0xE0) { /* 1110xxxx */
            continuations = 2;
            codepoint = lead & 0x0F;
            min = 0x800;
        } else if ((lead & 0xF8) == 0xF0) { /* 11110xxx */
            continuations = 3;
            codepoint = lead & 0x07;
            min = 0x10000;
        } else { /* a continuation byte where a code point must start, or F8..FF */
            *bad_offset = i;
            return S_REF_INVALID;
        }
        if (!s_can_complete(codepoint, continuations, min)) { /* C0, C1, F5..F7 */
            *bad_offset = i;
            return S_REF_INVALID;
        }
        for (unsigned k = 1; k <= continuations; ++k) {
            if (i + k >= len) {
                return S_REF_TRUNCATED;
            }
            uint8_t next = bytes[i + k];
            if ((next & 0xC0) != 0x80) {
                *bad_offset = i + k;
                return S_REF_INVALID;
            }
            codepoint = (codepoint << 6) | (next & 0x3F);
            if (!s_can_complete(codepoint, continuations - k, min)) {
                *bad_offset = i + k;
                return S_REF_INVALID;
            }
        }
        /* The whole code point, checked once more in the plain words of RFC 3629. */
        FUZZ_CHECK(codepoint >= min && codepoint <= 0x10FFFF && (codepoint < 0xD800 || codepoint > 0xDFFF),
                   "reference decoder accepted U+%X", (unsigned)codepoint);
        i += continuations + 1;
    }
    return S_REF_VALID;
}

/* ---- checks ---- */

struct s_expected {
    enum s_reference_verdict verdict;
    size_t bad_offset;
    size_t len;
};

static struct wscrt_byte_cursor s_cursor(const uint8_t *bytes, size_t len) {
    return wscrt_byte_cursor_from_array(bytes, len);
}

/* After a refusal: stays refused, bytes_seen stays, finalize fails then resets. */
static void s_check_refused_validator(struct wscrt_utf8_validator *validator, const struct s_expected *expected) {
    static const uint8_t ascii[] = "a";
    FUZZ_CHECK(wscrt_utf8_validator_update(validator, s_cursor(ascii, 1)) == WSCRT_OP_ERR,
               "a refused validator accepted more bytes");
    FUZZ_CHECK(wscrt_last_error() == WSCRT_ERROR_INVALID_UTF8, "error %s", wscrt_error_name(wscrt_last_error()));
    FUZZ_CHECK(validator->bytes_seen == expected->bad_offset, "bytes_seen moved to %llu after the refusal at %zu",
               (unsigned long long)validator->bytes_seen, expected->bad_offset);
    FUZZ_CHECK(wscrt_utf8_validator_finalize(validator) == WSCRT_OP_ERR, "finalize passed a refused stream");
    FUZZ_CHECK(validator->bytes_seen == 0, "finalize did not reset");
    FUZZ_CHECK(wscrt_utf8_validator_update(validator, s_cursor(ascii, 1)) == WSCRT_OP_SUCCESS,
               "a reset validator refused ASCII");
    FUZZ_CHECK(wscrt_utf8_validator_finalize(validator) == WSCRT_OP_SUCCESS, "a reset validator refused \"a\"");
}

/* The end of a stream that every update accepted. */
static void s_check_accepted_stream(struct wscrt_utf8_validator *validator, const struct s_expected *expected,
                                    const char *how) {
    FUZZ_CHECK(expected->verdict != S_REF_INVALID, "%s: accepted, but byte %zu is invalid", how,
               expected->bad_offset);
    FUZZ_CHECK(validator->bytes_seen == expected->len, "%s: bytes_seen %llu after %zu bytes", how,
               (unsigned long long)validator->bytes_seen, expected->len);
    int finalized = wscrt_utf8_validator_finalize(validator);
    if (expected->verdict == S_REF_VALID) {
        FUZZ_CHECK(finalized == WSCRT_OP_SUCCESS, "%s: finalize refused valid text", how);
    } else {
        FUZZ_CHECK(finalized == WSCRT_OP_ERR, "%s: finalize accepted a cut-off code point", how);
        FUZZ_CHECK(wscrt_last_error() == WSCRT_ERROR_INVALID_UTF8, "%s: error %s", how,
                   wscrt_error_name(wscrt_last_error()));
    }
    FUZZ_CHECK(validator->bytes_seen == 0, "%s: finalize did not reset", how);
}

enum s_feed {
    S_FEED_WHOLE,    /* one update */
    S_FEED_PIECES,   /* as the splitter says */
    S_FEED_BYTEWISE, /* one byte per update */
};

static const char *s_feed_name(enum s_feed feed) {
    return feed == S_FEED_WHOLE ? "whole" : feed == S_FEED_PIECES ? "pieces" : "bytewise";
}

/*
 * Feeds the text as `feed` says and checks every update against the
 * reference: the update that holds the bad byte is the first to fail, and it
 * reports that byte's offset.
 */
static void s_check_feed(const uint8_t *text, const struct s_expected *expected, enum s_feed feed,
                         struct fuzz_splitter *splitter) {
    const char *how = s_feed_name(feed);
    struct wscrt_utf8_validator validator;
    wscrt_utf8_validator_reset(&validator);
    size_t offset = 0;
    /* At least one update, even for empty text; empty pieces may come in between. */
    for (size_t calls = 0; offset < expected->len || calls == 0; ++calls) {
        size_t remaining = expected->len - offset;
        size_t piece = feed == S_FEED_WHOLE      ? remaining
                       : feed == S_FEED_BYTEWISE ? (remaining > 0 ? 1 : 0)
                                                 : fuzz_splitter_next(splitter, remaining);
        wscrt_reset_error();
        int result = wscrt_utf8_validator_update(&validator, s_cursor(fuzz_piece_ptr(text, offset, piece), piece));
        bool holds_bad_byte = expected->verdict == S_REF_INVALID && expected->bad_offset >= offset &&
                              expected->bad_offset < offset + piece;
        if (holds_bad_byte) {
            FUZZ_CHECK(result == WSCRT_OP_ERR, "%s: piece [%zu, %zu) holds invalid byte %zu but was accepted", how,
                       offset, offset + piece, expected->bad_offset);
            FUZZ_CHECK(wscrt_last_error() == WSCRT_ERROR_INVALID_UTF8, "%s: error %s", how,
                       wscrt_error_name(wscrt_last_error()));
            FUZZ_CHECK(validator.bytes_seen == expected->bad_offset, "%s: failure offset %llu, reference says %zu",
                       how, (unsigned long long)validator.bytes_seen, expected->bad_offset);
            s_check_refused_validator(&validator, expected);
            return;
        }
        FUZZ_CHECK(result == WSCRT_OP_SUCCESS,
                   "%s: piece [%zu, %zu) refused (bytes_seen %llu), reference says %s %zu", how, offset,
                   offset + piece, (unsigned long long)validator.bytes_seen,
                   expected->verdict == S_REF_INVALID ? "first bad byte at" : "valid up to", expected->bad_offset);
        offset += piece;
        FUZZ_CHECK(validator.bytes_seen == offset, "%s: bytes_seen %llu after %zu bytes", how,
                   (unsigned long long)validator.bytes_seen, offset);
    }
    s_check_accepted_stream(&validator, expected, how);
}

static struct s_expected s_expect(const uint8_t *bytes, size_t len) {
    struct s_expected expected = {.len = len, .bad_offset = len};
    expected.verdict = s_reference_validate(bytes, len, &expected.bad_offset);
    return expected;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct fuzz_input input = fuzz_input_parse(data, size);

    /* One-shot API on the raw input and on the text. */
    struct s_expected whole_input = s_expect(data, size);
    FUZZ_CHECK(wscrt_utf8_is_valid(s_cursor(data, size)) == (whole_input.verdict == S_REF_VALID),
               "wscrt_utf8_is_valid disagrees with the reference on the whole input (reference: %d at %zu)",
               (int)whole_input.verdict, whole_input.bad_offset);

    const uint8_t *text = input.stream;
    struct s_expected expected = s_expect(text, input.stream_len);
    FUZZ_CHECK(wscrt_utf8_is_valid(s_cursor(text, input.stream_len)) == (expected.verdict == S_REF_VALID),
               "wscrt_utf8_is_valid disagrees with the reference on the text");

    s_check_feed(text, &expected, S_FEED_WHOLE, NULL);
    struct fuzz_splitter splitter = fuzz_splitter_new(&input);
    s_check_feed(text, &expected, S_FEED_PIECES, &splitter);
    if (input.stream_len <= S_BYTEWISE_MAX_LEN) {
        s_check_feed(text, &expected, S_FEED_BYTEWISE, NULL);
    }

    fuzz_check_no_live_memory();
    return 0;
}
