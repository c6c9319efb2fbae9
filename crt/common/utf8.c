#include "common/utf8.h"

#include <string.h>

#include "common/error.h"

/*
 * A DFA over byte classes, built from the well-formed byte sequences table of
 * RFC 3629 section 4. Each state says what the next byte must be; the
 * restricted second bytes after E0, ED, F0 and F4 are what rule out
 * overlongs, surrogates and code points above U+10FFFF.
 */
enum s_utf8_class {
    C_ASCII, /* 00..7F */
    C_80_8F, /* continuation, low */
    C_90_9F, /* continuation, middle */
    C_A0_BF, /* continuation, high */
    C_BAD,   /* C0, C1, F5..FF: never valid */
    C_C2_DF, /* 2-byte lead */
    C_E0,    /* 3-byte lead, second byte A0..BF (no overlongs) */
    C_E1_EF, /* E1..EC, EE, EF: 3-byte lead, any continuation */
    C_ED,    /* 3-byte lead, second byte 80..9F (no surrogates) */
    C_F0,    /* 4-byte lead, second byte 90..BF (no overlongs) */
    C_F1_F3, /* 4-byte lead, any continuation */
    C_F4,    /* 4-byte lead, second byte 80..8F (<= U+10FFFF) */
    C_COUNT,
};

enum s_utf8_state {
    S_ACCEPT, /* between code points */
    S_NEED_1, /* one continuation byte left */
    S_NEED_2,
    S_NEED_3,
    S_AFTER_E0,
    S_AFTER_ED,
    S_AFTER_F0,
    S_AFTER_F4,
    S_REJECT, /* sticky until reset */
};

#define A C_ASCII
#define L C_80_8F
#define M C_90_9F
#define H C_A0_BF
#define X C_BAD
#define T C_C2_DF
/* clang-format off */
static const uint8_t s_byte_class[256] = {
    A,A,A,A,A,A,A,A,A,A,A,A,A,A,A,A, A,A,A,A,A,A,A,A,A,A,A,A,A,A,A,A, /* 00..1F */
    A,A,A,A,A,A,A,A,A,A,A,A,A,A,A,A, A,A,A,A,A,A,A,A,A,A,A,A,A,A,A,A, /* 20..3F */
    A,A,A,A,A,A,A,A,A,A,A,A,A,A,A,A, A,A,A,A,A,A,A,A,A,A,A,A,A,A,A,A, /* 40..5F */
    A,A,A,A,A,A,A,A,A,A,A,A,A,A,A,A, A,A,A,A,A,A,A,A,A,A,A,A,A,A,A,A, /* 60..7F */
    L,L,L,L,L,L,L,L,L,L,L,L,L,L,L,L, M,M,M,M,M,M,M,M,M,M,M,M,M,M,M,M, /* 80..9F */
    H,H,H,H,H,H,H,H,H,H,H,H,H,H,H,H, H,H,H,H,H,H,H,H,H,H,H,H,H,H,H,H, /* A0..BF */
    X,X,T,T,T,T,T,T,T,T,T,T,T,T,T,T, T,T,T,T,T,T,T,T,T,T,T,T,T,T,T,T, /* C0..DF */
    C_E0,C_E1_EF,C_E1_EF,C_E1_EF,C_E1_EF,C_E1_EF,C_E1_EF,C_E1_EF,       /* E0..E7 */
    C_E1_EF,C_E1_EF,C_E1_EF,C_E1_EF,C_E1_EF,C_ED,C_E1_EF,C_E1_EF,       /* E8..EF */
    C_F0,C_F1_F3,C_F1_F3,C_F1_F3,C_F4,X,X,X, X,X,X,X,X,X,X,X,           /* F0..FF */
};
/* clang-format on */
#undef A
#undef L
#undef M
#undef H
#undef X
#undef T

#define R S_REJECT
/* clang-format off */
static const uint8_t s_transition[S_REJECT + 1][C_COUNT] = {
    /*              ASCII     80-8F     90-9F     A0-BF     BAD  C2-DF     E0          E1-EF     ED          F0          F1-F3     F4 */
    [S_ACCEPT]   = {S_ACCEPT, R,        R,        R,        R,   S_NEED_1, S_AFTER_E0, S_NEED_2, S_AFTER_ED, S_AFTER_F0, S_NEED_3, S_AFTER_F4},
    [S_NEED_1]   = {R,        S_ACCEPT, S_ACCEPT, S_ACCEPT, R,   R,        R,          R,        R,          R,          R,        R},
    [S_NEED_2]   = {R,        S_NEED_1, S_NEED_1, S_NEED_1, R,   R,        R,          R,        R,          R,          R,        R},
    [S_NEED_3]   = {R,        S_NEED_2, S_NEED_2, S_NEED_2, R,   R,        R,          R,        R,          R,          R,        R},
    [S_AFTER_E0] = {R,        R,        R,        S_NEED_1, R,   R,        R,          R,        R,          R,          R,        R},
    [S_AFTER_ED] = {R,        S_NEED_1, S_NEED_1, R,        R,   R,        R,          R,        R,          R,          R,        R},
    [S_AFTER_F0] = {R,        R,        S_NEED_2, S_NEED_2, R,   R,        R,          R,        R,          R,          R,        R},
    [S_AFTER_F4] = {R,        S_NEED_2, R,        R,        R,   R,        R,          R,        R,          R,          R,        R},
    [S_REJECT]   = {R,        R,        R,        R,        R,   R,        R,          R,        R,          R,          R,        R},
};
/* clang-format on */
#undef R

#define WSCRT_UTF8_HIGH_BITS 0x8080808080808080ULL

void wscrt_utf8_validator_reset(struct wscrt_utf8_validator *validator) {
    validator->state = S_ACCEPT;
    validator->codepoint = 0;
    validator->bytes_seen = 0;
}

int wscrt_utf8_validator_update(struct wscrt_utf8_validator *validator, struct wscrt_byte_cursor bytes) {
    if (validator->state == S_REJECT) {
        return wscrt_raise_error(WSCRT_ERROR_INVALID_UTF8);
    }
    if (bytes.len == 0) {
        return WSCRT_OP_SUCCESS;
    }
    const uint8_t *p = bytes.ptr;
    const uint8_t *end = p + bytes.len;
    uint32_t state = validator->state;
    while (p < end) {
        /* Between code points, skip ASCII 8 bytes at a time (most text is ASCII). */
        if (state == S_ACCEPT) {
            while ((size_t)(end - p) >= 8) {
                uint64_t word;
                memcpy(&word, p, sizeof(word));
                if (word & WSCRT_UTF8_HIGH_BITS) {
                    break;
                }
                p += 8;
            }
            if (p == end) {
                break;
            }
        }
        state = s_transition[state][s_byte_class[*p]];
        if (state == S_REJECT) {
            validator->state = S_REJECT;
            validator->bytes_seen += (uint64_t)(p - bytes.ptr);
            return wscrt_raise_error(WSCRT_ERROR_INVALID_UTF8);
        }
        ++p;
    }
    validator->state = state;
    validator->bytes_seen += bytes.len;
    return WSCRT_OP_SUCCESS;
}

int wscrt_utf8_validator_finalize(struct wscrt_utf8_validator *validator) {
    bool complete = validator->state == S_ACCEPT;
    wscrt_utf8_validator_reset(validator);
    if (!complete) {
        return wscrt_raise_error(WSCRT_ERROR_INVALID_UTF8);
    }
    return WSCRT_OP_SUCCESS;
}

bool wscrt_utf8_is_valid(struct wscrt_byte_cursor bytes) {
    struct wscrt_utf8_validator validator;
    wscrt_utf8_validator_reset(&validator);
    if (wscrt_utf8_validator_update(&validator, bytes)) {
        return false;
    }
    return wscrt_utf8_validator_finalize(&validator) == WSCRT_OP_SUCCESS;
}
