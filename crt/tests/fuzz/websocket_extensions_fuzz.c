/*
 * libFuzzer target for the permessage-deflate answer reader
 * (wscrt_websocket_deflate_parse_answer, crt/http/websocket_extensions.h).
 *
 * Input: the four configuration bytes of fuzz_support.h, then the header
 * values, separated by '\n' (each piece is one Sec-WebSocket-Extensions
 * header of the 101). Byte 0 is the client's offer:
 *   bits 0-2  client_max_window_bits: 0, 8, 9, 10, 12, 13, 14, 15
 *   bits 3-5  server_max_window_bits: 0, 8, 9, 11, 12, 14, 15, 10
 *   bit 6     client_no_context_takeover
 *   bit 7     server_no_context_takeover
 * Bytes 1-3: bit 0 of byte 1 also offers windows outside 8-15 (must fail
 * with INVALID_ARGUMENT whatever the answer).
 *
 * Invariants:
 *   - a reference reader, written differently (split on ',' then ';' then the
 *     first '=', trim, check character classes), gives the same result: the
 *     same error, or the same accepted flag and negotiated parameters;
 *   - several headers read the same as one header holding them joined by ','
 *     (RFC 9110 5.3);
 *   - what is negotiated honours the offer: windows within 8-15, ours never
 *     larger than offered, the server's never larger than requested, the
 *     context-takeover flags requested are there;
 *   - the negotiated parameters written back as a canonical answer read back
 *     to the same parameters;
 *   - nothing allocated is left (the reader allocates nothing).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/byte_buf.h"
#include "common/error.h"
#include "fuzz_support.h"
#include "http/websocket_extensions.h"

#define S_MAX_VALUES 16

static const uint8_t s_client_bits[8] = {0, 8, 9, 10, 12, 13, 14, 15};
static const uint8_t s_server_bits[8] = {0, 8, 9, 11, 12, 14, 15, 10};

struct s_outcome {
    int error; /* 0 = success */
    bool accepted;
    struct wscrt_websocket_deflate_params params;
};

static struct s_outcome s_parse(const struct wscrt_websocket_deflate_options *offer,
                                const struct wscrt_byte_cursor *values, size_t count) {
    struct s_outcome outcome;
    memset(&outcome, 0, sizeof(outcome));
    wscrt_reset_error();
    if (wscrt_websocket_deflate_parse_answer(offer, values, count, &outcome.accepted, &outcome.params)) {
        outcome.error = wscrt_last_error();
        FUZZ_CHECK(outcome.error != 0, "parse_answer failed without raising an error");
        FUZZ_CHECK(!outcome.accepted, "parse_answer failed with accepted set");
        memset(&outcome.params, 0, sizeof(outcome.params));
    } else if (!outcome.accepted) {
        memset(&outcome.params, 0, sizeof(outcome.params));
    }
    return outcome;
}

static bool s_same(const struct s_outcome *a, const struct s_outcome *b) {
    return a->error == b->error && a->accepted == b->accepted &&
           a->params.client_max_window_bits == b->params.client_max_window_bits &&
           a->params.server_max_window_bits == b->params.server_max_window_bits &&
           a->params.client_no_context_takeover == b->params.client_no_context_takeover &&
           a->params.server_no_context_takeover == b->params.server_no_context_takeover;
}

static void s_describe(const char *what, const struct s_outcome *o) {
    fprintf(stderr, "  %s: %s accepted=%d client=%u server=%u cnct=%d snct=%d\n", what, wscrt_error_name(o->error),
            (int)o->accepted, o->params.client_max_window_bits, o->params.server_max_window_bits,
            (int)o->params.client_no_context_takeover, (int)o->params.server_no_context_takeover);
}

/* ---- the reference reader ---- */

static bool s_ref_tchar(uint8_t c) {
    static const char s_specials[] = "!#$%&'*+-.^_`|~";
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
        return true;
    }
    for (size_t i = 0; i < sizeof(s_specials) - 1; ++i) {
        if (c == (uint8_t)s_specials[i]) {
            return true;
        }
    }
    return false;
}

struct s_span {
    const uint8_t *p;
    size_t n;
};

static struct s_span s_ref_trim(struct s_span s) {
    while (s.n > 0 && (s.p[0] == ' ' || s.p[0] == '\t')) {
        s.p++;
        s.n--;
    }
    while (s.n > 0 && (s.p[s.n - 1] == ' ' || s.p[s.n - 1] == '\t')) {
        s.n--;
    }
    return s;
}

static bool s_ref_is_token(struct s_span s) {
    if (s.n == 0) {
        return false;
    }
    for (size_t i = 0; i < s.n; ++i) {
        if (!s_ref_tchar(s.p[i])) {
            return false;
        }
    }
    return true;
}

static bool s_ref_ieq(struct s_span s, const char *word) {
    size_t n = strlen(word);
    if (s.n != n) {
        return false;
    }
    for (size_t i = 0; i < n; ++i) {
        uint8_t a = s.p[i] >= 'A' && s.p[i] <= 'Z' ? (uint8_t)(s.p[i] + 32) : s.p[i];
        if (a != (uint8_t)word[i]) {
            return false;
        }
    }
    return true;
}

/* Unquotes "..." (quoted-pairs allowed) into out; the result must be a token. */
static bool s_ref_value(struct s_span raw, uint8_t *out, size_t *out_len) {
    *out_len = 0;
    if (raw.n >= 1 && raw.p[0] == '"') {
        if (raw.n < 2 || raw.p[raw.n - 1] != '"') {
            return false;
        }
        for (size_t i = 1; i + 1 < raw.n; ++i) {
            uint8_t c = raw.p[i];
            if (c == '\\') {
                if (i + 2 >= raw.n) {
                    return false; /* escapes the closing quote */
                }
                c = raw.p[++i];
            }
            out[(*out_len)++] = c;
        }
        return s_ref_is_token((struct s_span){out, *out_len});
    }
    memcpy(out, raw.p, raw.n);
    *out_len = raw.n;
    return s_ref_is_token(raw);
}

static int s_ref_bits(const uint8_t *v, size_t n) {
    if (n == 1 && v[0] >= '8' && v[0] <= '9') {
        return v[0] - '0';
    }
    if (n == 2 && v[0] == '1' && v[1] >= '0' && v[1] <= '5') {
        return 10 + (v[1] - '0');
    }
    return -1;
}

/* Splits s at the first `sep`: head and (after it) tail; false if none. */
static bool s_ref_split(struct s_span s, uint8_t sep, struct s_span *head, struct s_span *tail) {
    const uint8_t *at = s.n ? memchr(s.p, sep, s.n) : NULL;
    *head = (struct s_span){s.p, at ? (size_t)(at - s.p) : s.n};
    *tail = at ? (struct s_span){at + 1, s.n - head->n - 1} : (struct s_span){NULL, 0};
    return at != NULL;
}

/* Checks one element's syntax; fills name and up to 8 params (raw spans). */
struct s_ref_param {
    struct s_span name;
    bool has_value;
    uint8_t value[8192];
    size_t value_len;
};

static struct s_outcome s_reference(const struct wscrt_websocket_deflate_options *offer, struct s_span list) {
    struct s_outcome out;
    memset(&out, 0, sizeof(out));
    static struct s_ref_param params[8];
    unsigned seen = 0; /* 1 snct, 2 cnct, 4 smwb, 8 cmwb */
    int smwb = 0;
    int cmwb = 0;
    bool more = true;
    while (more) {
        struct s_span element;
        more = s_ref_split(list, ',', &element, &list);
        element = s_ref_trim(element);
        if (element.n == 0) {
            continue;
        }
        struct s_span name;
        struct s_span rest;
        bool has_params = s_ref_split(element, ';', &name, &rest);
        name = s_ref_trim(name);
        if (!s_ref_is_token(name)) {
            out.accepted = false;
            out.error = WSCRT_ERROR_WEBSOCKET_MALFORMED_EXTENSION_HEADER;
            return out;
        }
        size_t count = 0;
        while (has_params) {
            struct s_span param;
            has_params = s_ref_split(rest, ';', &param, &rest);
            struct s_span pname;
            struct s_span pvalue;
            bool has_value = s_ref_split(param, '=', &pname, &pvalue);
            pname = s_ref_trim(pname);
            struct s_ref_param scratch;
            struct s_ref_param *kept = count < 8 ? &params[count] : &scratch;
            count++;
            kept->name = pname;
            kept->has_value = has_value;
            if (!s_ref_is_token(pname) ||
                (has_value && !s_ref_value(s_ref_trim(pvalue), kept->value, &kept->value_len))) {
                out.accepted = false;
                out.error = WSCRT_ERROR_WEBSOCKET_MALFORMED_EXTENSION_HEADER;
                return out;
            }
        }
        if (!s_ref_ieq(name, "permessage-deflate")) {
            out.accepted = false;
            out.error = WSCRT_ERROR_WEBSOCKET_UNEXPECTED_EXTENSION;
            return out;
        }
        if (out.accepted) {
            out.accepted = false;
            out.error = WSCRT_ERROR_WEBSOCKET_MULTIPLE_EXTENSIONS;
            return out;
        }
        out.accepted = true;
        for (size_t i = 0; i < count && i < 8; ++i) {
            const struct s_ref_param *p = &params[i];
            static const char *const s_names[4] = {"server_no_context_takeover", "client_no_context_takeover",
                                                   "server_max_window_bits", "client_max_window_bits"};
            int which = -1;
            for (int k = 0; k < 4; ++k) {
                which = s_ref_ieq(p->name, s_names[k]) ? k : which;
            }
            int error = 0;
            if (which < 0) {
                error = WSCRT_ERROR_WEBSOCKET_UNKNOWN_EXTENSION_PARAMETER;
            } else if (seen & (1u << which)) {
                error = WSCRT_ERROR_WEBSOCKET_DUPLICATE_EXTENSION_PARAMETER;
            } else if (which < 2) {
                error = p->has_value ? WSCRT_ERROR_WEBSOCKET_BAD_EXTENSION_PARAMETER : 0;
            } else {
                int bits = p->has_value ? s_ref_bits(p->value, p->value_len) : -1;
                if (bits < 0) {
                    error = WSCRT_ERROR_WEBSOCKET_BAD_EXTENSION_PARAMETER;
                } else if (which == 2 && offer->server_max_window_bits && bits > offer->server_max_window_bits) {
                    error = WSCRT_ERROR_WEBSOCKET_EXTENSION_PARAMETER_NOT_ALLOWED;
                } else if (which == 3 && !offer->client_max_window_bits) {
                    error = WSCRT_ERROR_WEBSOCKET_EXTENSION_PARAMETER_NOT_ALLOWED;
                }
                *(which == 2 ? &smwb : &cmwb) = bits;
            }
            if (error) {
                out.accepted = false;
                out.error = error;
                return out;
            }
            seen |= 1u << which;
        }
    }
    if (!out.accepted) {
        return out;
    }
    if ((offer->server_no_context_takeover && !(seen & 1)) || (offer->server_max_window_bits && !(seen & 4))) {
        out.accepted = false;
        out.error = WSCRT_ERROR_WEBSOCKET_EXTENSION_PARAMETER_NOT_ALLOWED;
        return out;
    }
    int ours = offer->client_max_window_bits ? offer->client_max_window_bits : 15;
    out.params.client_max_window_bits = (uint8_t)((seen & 8) && cmwb < ours ? cmwb : ours);
    out.params.server_max_window_bits = (uint8_t)((seen & 4) ? smwb : 15);
    out.params.client_no_context_takeover = offer->client_no_context_takeover || (seen & 2);
    out.params.server_no_context_takeover = (seen & 1) != 0;
    return out;
}

/* ---- the run ---- */

static uint8_t s_joined[8192];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct fuzz_input input = fuzz_input_parse(data, size);
    if (input.stream_len > sizeof(s_joined) - S_MAX_VALUES) {
        return 0;
    }
    struct wscrt_websocket_deflate_options offer = {
        .client_max_window_bits = s_client_bits[input.options & 7],
        .server_max_window_bits = s_server_bits[(input.options >> 3) & 7],
        .client_no_context_takeover = (input.options & 0x40) != 0,
        .server_no_context_takeover = (input.options & 0x80) != 0,
    };
    if (input.split & 1) {
        /* Out-of-range windows: 1-7 and 16-255 must be refused before anything is read. */
        offer.client_max_window_bits = (uint8_t)(input.seed >> 8);
        offer.server_max_window_bits = (uint8_t)input.seed;
    }

    /* The header values: the stream cut at '\n'. */
    struct wscrt_byte_cursor values[S_MAX_VALUES];
    size_t count = 0;
    struct wscrt_byte_cursor rest = wscrt_byte_cursor_from_array(input.stream, input.stream_len);
    struct wscrt_byte_cursor value;
    while (input.stream_len > 0 && count < S_MAX_VALUES && wscrt_byte_cursor_next_split(&rest, '\n', &value)) {
        values[count++] = value;
    }
    if (rest.len > 0) {
        return 0; /* more headers than the harness keeps */
    }
    struct s_outcome outcome = s_parse(&offer, values, count);

    bool offer_valid = wscrt_websocket_deflate_options_validate(&offer) == WSCRT_OP_SUCCESS;
    if (!offer_valid) {
        FUZZ_CHECK(outcome.error == WSCRT_ERROR_INVALID_ARGUMENT, "invalid offer (%u, %u) gave %s",
                   offer.client_max_window_bits, offer.server_max_window_bits, wscrt_error_name(outcome.error));
        fuzz_check_no_live_memory();
        return 0;
    }

    /* One header holding them all, joined by ','. */
    size_t joined_len = 0;
    for (size_t i = 0; i < count; ++i) {
        if (i > 0) {
            s_joined[joined_len++] = ',';
        }
        if (values[i].len > 0) {
            memcpy(s_joined + joined_len, values[i].ptr, values[i].len);
        }
        joined_len += values[i].len;
    }
    struct wscrt_byte_cursor joined = wscrt_byte_cursor_from_array(s_joined, joined_len);
    struct s_outcome as_one = s_parse(&offer, &joined, count > 0 ? 1 : 0);
    if (!s_same(&outcome, &as_one)) {
        s_describe("headers", &outcome);
        s_describe("joined", &as_one);
        FUZZ_CHECK(false, "%zu headers read differently from one header joining them", count);
    }

    struct s_outcome reference = s_reference(&offer, (struct s_span){s_joined, joined_len});
    if (!s_same(&outcome, &reference)) {
        s_describe("reader", &outcome);
        s_describe("reference", &reference);
        FUZZ_CHECK(false, "the reader and the reference disagree on '%.*s'", (int)joined_len, (const char *)s_joined);
    }

    if (outcome.accepted) {
        const struct wscrt_websocket_deflate_params *p = &outcome.params;
        FUZZ_CHECK(p->client_max_window_bits >= 8 && p->client_max_window_bits <= 15 &&
                       p->server_max_window_bits >= 8 && p->server_max_window_bits <= 15,
                   "windows %u/%u out of range", p->client_max_window_bits, p->server_max_window_bits);
        FUZZ_CHECK(!offer.client_max_window_bits || p->client_max_window_bits <= offer.client_max_window_bits,
                   "our window %u is larger than the %u offered", p->client_max_window_bits,
                   offer.client_max_window_bits);
        FUZZ_CHECK(!offer.server_max_window_bits || p->server_max_window_bits <= offer.server_max_window_bits,
                   "the server's window %u is larger than the %u requested", p->server_max_window_bits,
                   offer.server_max_window_bits);
        FUZZ_CHECK(!offer.client_no_context_takeover || p->client_no_context_takeover,
                   "client_no_context_takeover offered but not applied");
        FUZZ_CHECK(!offer.server_no_context_takeover || p->server_no_context_takeover,
                   "server_no_context_takeover requested but not agreed");

        /* Written back canonically, the answer reads back the same. */
        char canonical[256];
        int len = snprintf(canonical, sizeof(canonical), "permessage-deflate; server_max_window_bits=%u%s%s%s",
                           p->server_max_window_bits, p->server_no_context_takeover ? "; server_no_context_takeover" : "",
                           p->client_no_context_takeover ? "; client_no_context_takeover" : "", "");
        if (offer.client_max_window_bits) {
            len += snprintf(canonical + len, sizeof(canonical) - (size_t)len, "; client_max_window_bits=%u",
                            p->client_max_window_bits);
        }
        struct wscrt_byte_cursor again = wscrt_byte_cursor_from_array(canonical, (size_t)len);
        struct s_outcome reread = s_parse(&offer, &again, 1);
        if (!s_same(&outcome, &reread)) {
            s_describe("first", &outcome);
            s_describe("reread", &reread);
            FUZZ_CHECK(false, "canonical answer '%s' reads back differently", canonical);
        }
    }
    fuzz_check_no_live_memory();
    return 0;
}
