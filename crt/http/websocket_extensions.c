#include "http/websocket_extensions.h"

#include <stdio.h>
#include <string.h>

#include "common/error.h"

/*
 * RFC 6455 9.1, with the optional whitespace HTTP allows around separators:
 *
 *   extension-list = 1#extension
 *   extension      = extension-token *( ";" extension-param )
 *   extension-param = token [ "=" (token | quoted-string) ]
 *
 * A quoted value must be a token once unquoted. Empty list elements (",,")
 * are skipped, as RFC 9110 5.6.1 asks of recipients.
 */

#define S_EXTENSION_NAME "permessage-deflate"

/* The four parameters of RFC 7692 7.1, as bits of a "seen" set. */
enum s_param {
    S_PARAM_SERVER_NO_CONTEXT_TAKEOVER = 1 << 0,
    S_PARAM_CLIENT_NO_CONTEXT_TAKEOVER = 1 << 1,
    S_PARAM_SERVER_MAX_WINDOW_BITS = 1 << 2,
    S_PARAM_CLIENT_MAX_WINDOW_BITS = 1 << 3,
};

static bool s_valid_window_bits_option(uint8_t bits) {
    return bits == 0 ||
           (bits >= WSCRT_WEBSOCKET_DEFLATE_MIN_WINDOW_BITS && bits <= WSCRT_WEBSOCKET_DEFLATE_MAX_WINDOW_BITS);
}

int wscrt_websocket_deflate_options_validate(const struct wscrt_websocket_deflate_options *options) {
    if (!options || !s_valid_window_bits_option(options->client_max_window_bits) ||
        !s_valid_window_bits_option(options->server_max_window_bits)) {
        return wscrt_raise_error(WSCRT_ERROR_INVALID_ARGUMENT);
    }
    return WSCRT_OP_SUCCESS;
}

static int s_append(struct wscrt_byte_buf *out, const char *text) {
    return wscrt_byte_buf_append_dynamic(out, wscrt_byte_cursor_from_c_str(text));
}

static int s_append_window_bits(struct wscrt_byte_buf *out, const char *name, uint8_t bits) {
    char text[48];
    snprintf(text, sizeof(text), "; %s=%u", name, (unsigned)bits);
    return s_append(out, text);
}

int wscrt_websocket_deflate_write_offer(const struct wscrt_websocket_deflate_options *options,
                                        struct wscrt_byte_buf *out) {
    if (wscrt_websocket_deflate_options_validate(options)) {
        return WSCRT_OP_ERR;
    }
    int result = s_append(out, S_EXTENSION_NAME);
    if (options->client_max_window_bits == WSCRT_WEBSOCKET_DEFLATE_MAX_WINDOW_BITS) {
        result |= s_append(out, "; client_max_window_bits");
    } else if (options->client_max_window_bits != 0) {
        result |= s_append_window_bits(out, "client_max_window_bits", options->client_max_window_bits);
    }
    if (options->server_max_window_bits != 0) {
        result |= s_append_window_bits(out, "server_max_window_bits", options->server_max_window_bits);
    }
    if (options->client_no_context_takeover) {
        result |= s_append(out, "; client_no_context_takeover");
    }
    if (options->server_no_context_takeover) {
        result |= s_append(out, "; server_no_context_takeover");
    }
    return result ? WSCRT_OP_ERR : WSCRT_OP_SUCCESS;
}

/* ---- the answer ---- */

static bool s_is_tchar(uint8_t c) {
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
        return true;
    }
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static void s_skip_ows(struct wscrt_byte_cursor *in) {
    while (in->len > 0 && (in->ptr[0] == ' ' || in->ptr[0] == '\t')) {
        wscrt_byte_cursor_advance(in, 1);
    }
}

static bool s_peek(const struct wscrt_byte_cursor *in, uint8_t c) {
    return in->len > 0 && in->ptr[0] == c;
}

/* The longest run of token characters (possibly empty). */
static struct wscrt_byte_cursor s_read_token(struct wscrt_byte_cursor *in) {
    size_t len = 0;
    while (len < in->len && s_is_tchar(in->ptr[len])) {
        ++len;
    }
    struct wscrt_byte_cursor token = wscrt_byte_cursor_from_array(in->ptr, len);
    wscrt_byte_cursor_advance(in, len);
    return token;
}

/*
 * A quoted-string whose content must be a token: since a token has no '"' or
 * '\\', a quoted-pair can only escape a token character ("\1" is "1"). The
 * unescaped token is written to `storage` (cut at `capacity`, which is longer
 * than any valid value). Returns false on bad syntax.
 */
static bool s_read_quoted_token(struct wscrt_byte_cursor *in, uint8_t *storage, size_t capacity,
                                struct wscrt_byte_cursor *value) {
    wscrt_byte_cursor_advance(in, 1); /* the opening quote */
    size_t len = 0;
    while (in->len > 0 && in->ptr[0] != '"') {
        if (in->ptr[0] == '\\') {
            wscrt_byte_cursor_advance(in, 1);
            if (in->len == 0) {
                return false;
            }
        }
        if (!s_is_tchar(in->ptr[0])) {
            return false;
        }
        /* A value longer than the storage is bad anyway: keep its start, check the rest's syntax. */
        if (len < capacity) {
            storage[len++] = in->ptr[0];
        }
        wscrt_byte_cursor_advance(in, 1);
    }
    if (in->len == 0 || len == 0) {
        return false;
    }
    wscrt_byte_cursor_advance(in, 1); /* the closing quote */
    *value = wscrt_byte_cursor_from_array(storage, len);
    return true;
}

/* RFC 7692 7.1.2: 1*DIGIT without leading zeros, 8 to 15. */
static bool s_parse_window_bits(struct wscrt_byte_cursor value, uint8_t *bits) {
    if (value.len == 0 || value.len > 2 || value.ptr[0] == '0') {
        return false;
    }
    unsigned number = 0;
    for (size_t i = 0; i < value.len; ++i) {
        if (value.ptr[i] < '0' || value.ptr[i] > '9') {
            return false;
        }
        number = number * 10 + (unsigned)(value.ptr[i] - '0');
    }
    if (number < WSCRT_WEBSOCKET_DEFLATE_MIN_WINDOW_BITS || number > WSCRT_WEBSOCKET_DEFLATE_MAX_WINDOW_BITS) {
        return false;
    }
    *bits = (uint8_t)number;
    return true;
}

/* What the answer's one permessage-deflate element said. */
struct s_answer {
    unsigned seen; /* enum s_param bits */
    uint8_t server_max_window_bits;
    uint8_t client_max_window_bits;
};

static int s_apply_param(const struct wscrt_websocket_deflate_options *offer, struct s_answer *answer,
                         struct wscrt_byte_cursor name, const struct wscrt_byte_cursor *value) {
    enum s_param param;
    if (wscrt_byte_cursor_eq_c_str_ignore_case(name, "server_no_context_takeover")) {
        param = S_PARAM_SERVER_NO_CONTEXT_TAKEOVER;
    } else if (wscrt_byte_cursor_eq_c_str_ignore_case(name, "client_no_context_takeover")) {
        param = S_PARAM_CLIENT_NO_CONTEXT_TAKEOVER;
    } else if (wscrt_byte_cursor_eq_c_str_ignore_case(name, "server_max_window_bits")) {
        param = S_PARAM_SERVER_MAX_WINDOW_BITS;
    } else if (wscrt_byte_cursor_eq_c_str_ignore_case(name, "client_max_window_bits")) {
        param = S_PARAM_CLIENT_MAX_WINDOW_BITS;
    } else {
        return wscrt_raise_error(WSCRT_ERROR_WEBSOCKET_UNKNOWN_EXTENSION_PARAMETER);
    }
    if (answer->seen & param) {
        return wscrt_raise_error(WSCRT_ERROR_WEBSOCKET_DUPLICATE_EXTENSION_PARAMETER);
    }
    answer->seen |= param;
    if (param == S_PARAM_SERVER_NO_CONTEXT_TAKEOVER || param == S_PARAM_CLIENT_NO_CONTEXT_TAKEOVER) {
        return value ? wscrt_raise_error(WSCRT_ERROR_WEBSOCKET_BAD_EXTENSION_PARAMETER) : WSCRT_OP_SUCCESS;
    }
    uint8_t bits;
    if (!value || !s_parse_window_bits(*value, &bits)) {
        return wscrt_raise_error(WSCRT_ERROR_WEBSOCKET_BAD_EXTENSION_PARAMETER);
    }
    if (param == S_PARAM_SERVER_MAX_WINDOW_BITS) {
        /* RFC 7692 7.1.2.1: the same or a smaller value than requested. */
        if (offer->server_max_window_bits != 0 && bits > offer->server_max_window_bits) {
            return wscrt_raise_error(WSCRT_ERROR_WEBSOCKET_EXTENSION_PARAMETER_NOT_ALLOWED);
        }
        answer->server_max_window_bits = bits;
    } else {
        /* RFC 7692 7.1.2.2: only if the client said it supports the parameter. */
        if (offer->client_max_window_bits == 0) {
            return wscrt_raise_error(WSCRT_ERROR_WEBSOCKET_EXTENSION_PARAMETER_NOT_ALLOWED);
        }
        answer->client_max_window_bits = bits;
    }
    return WSCRT_OP_SUCCESS;
}

/* One list element, read for syntax before any of it is judged (syntax, then semantics). */
struct s_element_param {
    struct wscrt_byte_cursor name;
    bool has_value;
    struct wscrt_byte_cursor value; /* points into unquoted[] for a quoted value */
    uint8_t unquoted[16];           /* longer than any value RFC 7692 allows */
};

/* permessage-deflate has four parameters: among any five, one is unknown or
 * repeated, so the semantic check fails within the first five kept here. */
#define S_MAX_KEPT_PARAMS 8

struct s_element {
    struct wscrt_byte_cursor name;
    struct s_element_param params[S_MAX_KEPT_PARAMS];
    size_t param_count; /* all seen; the first S_MAX_KEPT_PARAMS are kept */
};

/* Reads "; name[=value]" pieces up to the end of the element (a ',' or the end, left unread). */
static int s_read_element_params(struct wscrt_byte_cursor *in, struct s_element *element) {
    for (;;) {
        s_skip_ows(in);
        if (in->len == 0 || s_peek(in, ',')) {
            return WSCRT_OP_SUCCESS;
        }
        if (!s_peek(in, ';')) {
            return wscrt_raise_error(WSCRT_ERROR_WEBSOCKET_MALFORMED_EXTENSION_HEADER);
        }
        wscrt_byte_cursor_advance(in, 1);
        s_skip_ows(in);
        struct s_element_param scratch;
        struct s_element_param *param =
            element->param_count < S_MAX_KEPT_PARAMS ? &element->params[element->param_count] : &scratch;
        element->param_count++;
        memset(param, 0, sizeof(*param));
        param->name = s_read_token(in);
        if (param->name.len == 0) {
            return wscrt_raise_error(WSCRT_ERROR_WEBSOCKET_MALFORMED_EXTENSION_HEADER);
        }
        s_skip_ows(in);
        if (!s_peek(in, '=')) {
            continue;
        }
        param->has_value = true;
        wscrt_byte_cursor_advance(in, 1);
        s_skip_ows(in);
        if (s_peek(in, '"')) {
            if (!s_read_quoted_token(in, param->unquoted, sizeof(param->unquoted), &param->value)) {
                return wscrt_raise_error(WSCRT_ERROR_WEBSOCKET_MALFORMED_EXTENSION_HEADER);
            }
        } else {
            param->value = s_read_token(in);
            if (param->value.len == 0) {
                return wscrt_raise_error(WSCRT_ERROR_WEBSOCKET_MALFORMED_EXTENSION_HEADER);
            }
        }
    }
}

/* Reads one header value's extension elements, each checked for syntax first. */
static int s_read_list(const struct wscrt_websocket_deflate_options *offer, struct wscrt_byte_cursor in,
                       bool *accepted, struct s_answer *answer) {
    for (;;) {
        s_skip_ows(&in);
        if (in.len == 0) {
            return WSCRT_OP_SUCCESS;
        }
        if (s_peek(&in, ',')) {
            wscrt_byte_cursor_advance(&in, 1);
            continue;
        }
        struct s_element element;
        element.param_count = 0;
        element.name = s_read_token(&in);
        if (element.name.len == 0 || s_read_element_params(&in, &element)) {
            return wscrt_raise_error(WSCRT_ERROR_WEBSOCKET_MALFORMED_EXTENSION_HEADER);
        }
        if (!wscrt_byte_cursor_eq_c_str_ignore_case(element.name, S_EXTENSION_NAME)) {
            return wscrt_raise_error(WSCRT_ERROR_WEBSOCKET_UNEXPECTED_EXTENSION);
        }
        if (*accepted) {
            return wscrt_raise_error(WSCRT_ERROR_WEBSOCKET_MULTIPLE_EXTENSIONS);
        }
        *accepted = true;
        size_t kept = element.param_count < S_MAX_KEPT_PARAMS ? element.param_count : S_MAX_KEPT_PARAMS;
        for (size_t i = 0; i < kept; ++i) {
            const struct s_element_param *param = &element.params[i];
            if (s_apply_param(offer, answer, param->name, param->has_value ? &param->value : NULL)) {
                return WSCRT_OP_ERR;
            }
        }
    }
}

int wscrt_websocket_deflate_parse_answer(const struct wscrt_websocket_deflate_options *offer,
                                         const struct wscrt_byte_cursor *values, size_t value_count,
                                         bool *accepted, struct wscrt_websocket_deflate_params *negotiated) {
    *accepted = false;
    if (wscrt_websocket_deflate_options_validate(offer)) {
        return WSCRT_OP_ERR;
    }
    struct s_answer answer = {0};
    for (size_t i = 0; i < value_count; ++i) {
        if (s_read_list(offer, values[i], accepted, &answer)) {
            *accepted = false;
            return WSCRT_OP_ERR;
        }
    }
    if (!*accepted) {
        return WSCRT_OP_SUCCESS;
    }
    /* RFC 7692 7.1.1.1 and 7.1.2.1: a server that cannot honour these must decline, not accept without them. */
    if ((offer->server_no_context_takeover && !(answer.seen & S_PARAM_SERVER_NO_CONTEXT_TAKEOVER)) ||
        (offer->server_max_window_bits != 0 && !(answer.seen & S_PARAM_SERVER_MAX_WINDOW_BITS))) {
        *accepted = false;
        return wscrt_raise_error(WSCRT_ERROR_WEBSOCKET_EXTENSION_PARAMETER_NOT_ALLOWED);
    }
    uint8_t client_bits = offer->client_max_window_bits ? offer->client_max_window_bits
                                                         : WSCRT_WEBSOCKET_DEFLATE_MAX_WINDOW_BITS;
    if (answer.client_max_window_bits != 0 && answer.client_max_window_bits < client_bits) {
        client_bits = answer.client_max_window_bits;
    }
    memset(negotiated, 0, sizeof(*negotiated));
    negotiated->client_max_window_bits = client_bits;
    negotiated->server_max_window_bits =
        answer.server_max_window_bits ? answer.server_max_window_bits : WSCRT_WEBSOCKET_DEFLATE_MAX_WINDOW_BITS;
    negotiated->client_no_context_takeover =
        offer->client_no_context_takeover || (answer.seen & S_PARAM_CLIENT_NO_CONTEXT_TAKEOVER) != 0;
    negotiated->server_no_context_takeover = (answer.seen & S_PARAM_SERVER_NO_CONTEXT_TAKEOVER) != 0;
    return WSCRT_OP_SUCCESS;
}
