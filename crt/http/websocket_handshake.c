#include "http/websocket_handshake.h"

#include <string.h>

#include "common/crypto.h"
#include "common/error.h"
#include "http/http_request.h"
#include "http/http_response_parser.h"

/* RFC 6455 4.1: the key is a 16-byte nonce, sent base64-encoded. */
#define S_KEY_RAW_LEN 16
#define S_KEY_ENCODED_LEN 24
#define S_GUID_LEN (sizeof(WSCRT_WEBSOCKET_GUID) - 1)
/* A key we check is 24 characters; room for much longer ones costs nothing. */
#define S_MAX_KEY_LEN 128

int wscrt_websocket_generate_key(struct wscrt_byte_buf *out) {
    uint8_t nonce[S_KEY_RAW_LEN];
    if (wscrt_random_bytes(nonce, sizeof(nonce))) {
        return WSCRT_OP_ERR;
    }
    return wscrt_base64_encode(wscrt_byte_cursor_from_array(nonce, sizeof(nonce)), out);
}

int wscrt_websocket_compute_accept(struct wscrt_byte_cursor key, struct wscrt_byte_buf *out) {
    if (key.len > S_MAX_KEY_LEN) {
        return wscrt_raise_error(WSCRT_ERROR_INVALID_ARGUMENT);
    }
    uint8_t input[S_MAX_KEY_LEN + S_GUID_LEN];
    if (key.len > 0) {
        memcpy(input, key.ptr, key.len);
    }
    memcpy(input + key.len, WSCRT_WEBSOCKET_GUID, S_GUID_LEN);
    uint8_t digest[WSCRT_SHA1_LEN];
    if (wscrt_sha1(wscrt_byte_cursor_from_array(input, key.len + S_GUID_LEN), digest)) {
        return WSCRT_OP_ERR;
    }
    return wscrt_base64_encode(wscrt_byte_cursor_from_array(digest, sizeof(digest)), out);
}

static int s_add_header(struct wscrt_http_request *request, const char *name, struct wscrt_byte_cursor value) {
    struct wscrt_http_header header = {
        .name = wscrt_byte_cursor_from_c_str(name),
        .value = value,
    };
    return wscrt_http_request_add_header(request, header);
}

struct wscrt_http_request *wscrt_websocket_handshake_request_new(struct wscrt_allocator *allocator,
                                                                 struct wscrt_byte_cursor host,
                                                                 struct wscrt_byte_cursor path) {
    uint8_t key_storage[S_KEY_ENCODED_LEN];
    struct wscrt_byte_buf key = wscrt_byte_buf_from_empty_array(key_storage, sizeof(key_storage));
    if (wscrt_websocket_generate_key(&key)) {
        return NULL;
    }
    struct wscrt_http_request *request = wscrt_http_request_new(allocator);
    if (wscrt_http_request_set_method(request, wscrt_byte_cursor_from_c_str("GET")) ||
        wscrt_http_request_set_path(request, path) || s_add_header(request, "Host", host) ||
        s_add_header(request, "Upgrade", wscrt_byte_cursor_from_c_str("websocket")) ||
        s_add_header(request, "Connection", wscrt_byte_cursor_from_c_str("Upgrade")) ||
        s_add_header(request, "Sec-WebSocket-Key", wscrt_byte_cursor_from_buf(&key)) ||
        s_add_header(request, "Sec-WebSocket-Version", wscrt_byte_cursor_from_c_str("13"))) {
        wscrt_http_request_destroy(request);
        return NULL;
    }
    return request;
}

/* Whether a comma-separated header value holds `token` (case-insensitive). */
static bool s_list_has_token(struct wscrt_byte_cursor list, const char *token) {
    while (list.len > 0) {
        const uint8_t *comma = memchr(list.ptr, ',', list.len);
        size_t element_len = comma ? (size_t)(comma - list.ptr) : list.len;
        struct wscrt_byte_cursor element =
            wscrt_byte_cursor_trim_ows(wscrt_byte_cursor_from_array(list.ptr, element_len));
        wscrt_byte_cursor_advance(&list, comma ? element_len + 1 : element_len);
        if (wscrt_byte_cursor_eq_c_str_ignore_case(element, token)) {
            return true;
        }
    }
    return false;
}

static bool s_is_valid_key(struct wscrt_byte_cursor key) {
    if (key.len != S_KEY_ENCODED_LEN) {
        return false;
    }
    uint8_t raw[S_KEY_ENCODED_LEN];
    struct wscrt_byte_buf decoded = wscrt_byte_buf_from_empty_array(raw, sizeof(raw));
    return wscrt_base64_decode(key, &decoded) == WSCRT_OP_SUCCESS && decoded.len == S_KEY_RAW_LEN;
}

int wscrt_websocket_validate_handshake_request(const struct wscrt_http_request *request) {
    struct wscrt_byte_cursor method = wscrt_http_request_get_method(request);
    struct wscrt_byte_cursor host;
    struct wscrt_byte_cursor upgrade;
    struct wscrt_byte_cursor key;
    struct wscrt_byte_cursor version;
    /* Methods are case-sensitive (RFC 9110 9.1). */
    bool valid = wscrt_byte_cursor_eq(method, wscrt_byte_cursor_from_c_str("GET")) &&
                 wscrt_http_request_find_header(request, "Host", &host) && wscrt_byte_cursor_trim_ows(host).len > 0 &&
                 wscrt_http_request_find_header(request, "Upgrade", &upgrade) &&
                 s_list_has_token(upgrade, "websocket") &&
                 wscrt_http_request_find_header(request, "Sec-WebSocket-Key", &key) &&
                 s_is_valid_key(wscrt_byte_cursor_trim_ows(key)) &&
                 wscrt_http_request_find_header(request, "Sec-WebSocket-Version", &version) &&
                 wscrt_byte_cursor_eq(wscrt_byte_cursor_trim_ows(version), wscrt_byte_cursor_from_c_str("13"));
    if (!valid) {
        return wscrt_raise_error(WSCRT_ERROR_HTTP_INVALID_REQUEST);
    }
    /* The token may sit in any of several Connection headers. */
    size_t count = wscrt_http_request_header_count(request);
    for (size_t i = 0; i < count; ++i) {
        struct wscrt_http_header header;
        wscrt_http_request_get_header(request, i, &header);
        if (wscrt_byte_cursor_eq_c_str_ignore_case(header.name, "Connection") &&
            s_list_has_token(header.value, "upgrade")) {
            return WSCRT_OP_SUCCESS;
        }
    }
    return wscrt_raise_error(WSCRT_ERROR_HTTP_INVALID_REQUEST);
}

/* Connection may be repeated; the token counts in any of them. */
static bool s_response_has_connection_upgrade(const struct wscrt_http_response_parser *response) {
    size_t count = wscrt_http_response_parser_header_count(response);
    for (size_t i = 0; i < count; ++i) {
        struct wscrt_http_header header;
        wscrt_http_response_parser_get_header(response, i, &header);
        if (wscrt_byte_cursor_eq_c_str_ignore_case(header.name, "Connection") &&
            s_list_has_token(header.value, "upgrade")) {
            return true;
        }
    }
    return false;
}

/* A repeated Sec-WebSocket-Accept is as bad as a wrong one (RFC 6455 4.1). */
static size_t s_response_header_occurrences(const struct wscrt_http_response_parser *response, const char *name) {
    size_t occurrences = 0;
    size_t count = wscrt_http_response_parser_header_count(response);
    for (size_t i = 0; i < count; ++i) {
        struct wscrt_http_header header;
        wscrt_http_response_parser_get_header(response, i, &header);
        occurrences += wscrt_byte_cursor_eq_c_str_ignore_case(header.name, name);
    }
    return occurrences;
}

/* RFC 6455 4.1 item 5: only an extension the client offered may be in use. */
static int s_check_extensions(const struct wscrt_http_response_parser *response,
                              const struct wscrt_websocket_handshake_offer *offer,
                              struct wscrt_websocket_handshake_answer *answer) {
    /* We offer one extension; eight headers can only be a server repeating itself. */
    struct wscrt_byte_cursor values[8];
    size_t value_count = 0;
    size_t count = wscrt_http_response_parser_header_count(response);
    for (size_t i = 0; i < count; ++i) {
        struct wscrt_http_header header;
        wscrt_http_response_parser_get_header(response, i, &header);
        if (!wscrt_byte_cursor_eq_c_str_ignore_case(header.name, "Sec-WebSocket-Extensions")) {
            continue;
        }
        if (!offer->deflate) {
            if (wscrt_byte_cursor_trim_ows(header.value).len > 0) {
                return wscrt_raise_error(WSCRT_ERROR_WEBSOCKET_UNEXPECTED_EXTENSION);
            }
            continue;
        }
        if (value_count == sizeof(values) / sizeof(values[0])) {
            return wscrt_raise_error(WSCRT_ERROR_WEBSOCKET_MULTIPLE_EXTENSIONS);
        }
        values[value_count++] = header.value;
    }
    if (!offer->deflate) {
        return WSCRT_OP_SUCCESS;
    }
    return wscrt_websocket_deflate_parse_answer(offer->deflate, values, value_count, &answer->deflate_accepted,
                                                &answer->deflate);
}

/* Whether `token` is exactly one of the comma-separated tokens of `list`. */
static bool s_list_has_exact_token(struct wscrt_byte_cursor list, struct wscrt_byte_cursor token) {
    struct wscrt_byte_cursor element;
    while (wscrt_byte_cursor_next_split(&list, ',', &element)) {
        if (wscrt_byte_cursor_eq(wscrt_byte_cursor_trim_ows(element), token)) {
            return true;
        }
    }
    return false;
}

/* RFC 6455 4.1 item 6: the server selects at most one of the offered subprotocols. */
static int s_check_subprotocol(const struct wscrt_http_response_parser *response,
                               const struct wscrt_websocket_handshake_offer *offer,
                               struct wscrt_websocket_handshake_answer *answer) {
    size_t occurrences = s_response_header_occurrences(response, "Sec-WebSocket-Protocol");
    if (occurrences == 0) {
        return WSCRT_OP_SUCCESS;
    }
    struct wscrt_byte_cursor offered = wscrt_byte_cursor_trim_ows(offer->subprotocols);
    if (offered.len == 0) {
        return wscrt_raise_error(WSCRT_ERROR_WEBSOCKET_UNEXPECTED_SUBPROTOCOL);
    }
    struct wscrt_byte_cursor selected;
    wscrt_http_response_parser_find_header(response, "Sec-WebSocket-Protocol", &selected);
    selected = wscrt_byte_cursor_trim_ows(selected);
    if (occurrences > 1 || (selected.len > 0 && memchr(selected.ptr, ',', selected.len) != NULL)) {
        return wscrt_raise_error(WSCRT_ERROR_WEBSOCKET_MULTIPLE_SUBPROTOCOLS);
    }
    if (selected.len == 0 || !s_list_has_exact_token(offered, selected)) {
        return wscrt_raise_error(WSCRT_ERROR_WEBSOCKET_UNEXPECTED_SUBPROTOCOL);
    }
    answer->subprotocol = selected;
    return WSCRT_OP_SUCCESS;
}

int wscrt_websocket_validate_handshake_response(const struct wscrt_http_response_parser *response,
                                                struct wscrt_byte_cursor sent_key) {
    return wscrt_websocket_validate_handshake_answer(response, sent_key, NULL, NULL);
}

int wscrt_websocket_validate_handshake_answer(const struct wscrt_http_response_parser *response,
                                              struct wscrt_byte_cursor sent_key,
                                              const struct wscrt_websocket_handshake_offer *offer,
                                              struct wscrt_websocket_handshake_answer *answer) {
    static const struct wscrt_websocket_handshake_offer s_nothing_offered = {.deflate = NULL};
    struct wscrt_websocket_handshake_answer unused;
    offer = offer ? offer : &s_nothing_offered;
    answer = answer ? answer : &unused;
    memset(answer, 0, sizeof(*answer));
    if (!response->headers_complete) {
        return wscrt_raise_error(WSCRT_ERROR_INVALID_STATE);
    }
    if (response->status != 101) {
        return wscrt_raise_error(WSCRT_ERROR_WEBSOCKET_UPGRADE_FAILURE);
    }
    /* RFC 6455 4.1: the Upgrade value must be "websocket", case-insensitively. */
    struct wscrt_byte_cursor upgrade;
    if (!wscrt_http_response_parser_find_header(response, "Upgrade", &upgrade) ||
        !wscrt_byte_cursor_eq_c_str_ignore_case(upgrade, "websocket") ||
        !s_response_has_connection_upgrade(response)) {
        return wscrt_raise_error(WSCRT_ERROR_WEBSOCKET_UPGRADE_INVALID_HEADERS);
    }
    struct wscrt_byte_cursor accept;
    if (s_response_header_occurrences(response, "Sec-WebSocket-Accept") != 1 ||
        !wscrt_http_response_parser_find_header(response, "Sec-WebSocket-Accept", &accept)) {
        return wscrt_raise_error(WSCRT_ERROR_WEBSOCKET_UPGRADE_BAD_ACCEPT);
    }
    uint8_t expected_storage[32];
    struct wscrt_byte_buf expected = wscrt_byte_buf_from_empty_array(expected_storage, sizeof(expected_storage));
    if (wscrt_websocket_compute_accept(sent_key, &expected)) {
        return WSCRT_OP_ERR;
    }
    /* base64 is case-sensitive: an exact match. */
    if (!wscrt_byte_cursor_eq(accept, wscrt_byte_cursor_from_buf(&expected))) {
        return wscrt_raise_error(WSCRT_ERROR_WEBSOCKET_UPGRADE_BAD_ACCEPT);
    }
    if (s_check_extensions(response, offer, answer) || s_check_subprotocol(response, offer, answer)) {
        memset(answer, 0, sizeof(*answer));
        return WSCRT_OP_ERR;
    }
    return WSCRT_OP_SUCCESS;
}

int wscrt_websocket_handshake_request_add_offer(struct wscrt_http_request *request,
                                                const struct wscrt_websocket_handshake_offer *offer) {
    if (offer->deflate && wscrt_websocket_deflate_options_validate(offer->deflate)) {
        return WSCRT_OP_ERR;
    }
    if (wscrt_byte_cursor_trim_ows(offer->subprotocols).len > 0 &&
        s_add_header(request, "Sec-WebSocket-Protocol", offer->subprotocols)) {
        return WSCRT_OP_ERR;
    }
    if (!offer->deflate) {
        return WSCRT_OP_SUCCESS;
    }
    /* The longest offer, with every parameter, is about 125 bytes. */
    uint8_t storage[192];
    struct wscrt_byte_buf value = wscrt_byte_buf_from_empty_array(storage, sizeof(storage));
    if (wscrt_websocket_deflate_write_offer(offer->deflate, &value)) {
        return WSCRT_OP_ERR;
    }
    return s_add_header(request, "Sec-WebSocket-Extensions", wscrt_byte_cursor_from_buf(&value));
}

void wscrt_websocket_handshake_offer_from_request(const struct wscrt_http_request *request,
                                                  struct wscrt_websocket_handshake_offer *offer) {
    memset(offer, 0, sizeof(*offer));
    wscrt_http_request_find_header(request, "Sec-WebSocket-Protocol", &offer->subprotocols);
}
