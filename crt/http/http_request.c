#include "http/http_request.h"

#include <string.h>

#include "common/allocator.h"
#include "common/error.h"

/* One allocation per string, so a header added later never moves the bytes
 * behind cursors handed out for earlier ones. */
struct s_owned_header {
    struct wscrt_http_header header;
    uint8_t *storage; /* name bytes then value bytes */
};

struct wscrt_http_request {
    struct wscrt_allocator *allocator;
    uint8_t *method;
    size_t method_len;
    uint8_t *path;
    size_t path_len;
    struct s_owned_header *headers;
    size_t header_count;
    size_t header_capacity;
};

struct wscrt_http_request *wscrt_http_request_new(struct wscrt_allocator *allocator) {
    struct wscrt_http_request *request = wscrt_mem_calloc(allocator, 1, sizeof(*request));
    request->allocator = allocator;
    return request;
}

void wscrt_http_request_destroy(struct wscrt_http_request *request) {
    if (!request) {
        return;
    }
    for (size_t i = 0; i < request->header_count; ++i) {
        wscrt_mem_release(request->allocator, request->headers[i].storage);
    }
    wscrt_mem_release(request->allocator, request->headers);
    wscrt_mem_release(request->allocator, request->method);
    wscrt_mem_release(request->allocator, request->path);
    wscrt_mem_release(request->allocator, request);
}

/* Replaces *dst with a copy of src (NULL when empty). */
static void s_copy_string(struct wscrt_allocator *allocator, uint8_t **dst, size_t *dst_len,
                          struct wscrt_byte_cursor src) {
    uint8_t *copy = NULL;
    if (src.len > 0) {
        copy = wscrt_mem_acquire(allocator, src.len);
        memcpy(copy, src.ptr, src.len);
    }
    wscrt_mem_release(allocator, *dst);
    *dst = copy;
    *dst_len = src.len;
}

int wscrt_http_request_set_method(struct wscrt_http_request *request, struct wscrt_byte_cursor method) {
    s_copy_string(request->allocator, &request->method, &request->method_len, method);
    return WSCRT_OP_SUCCESS;
}

int wscrt_http_request_set_path(struct wscrt_http_request *request, struct wscrt_byte_cursor path) {
    s_copy_string(request->allocator, &request->path, &request->path_len, path);
    return WSCRT_OP_SUCCESS;
}

struct wscrt_byte_cursor wscrt_http_request_get_method(const struct wscrt_http_request *request) {
    return wscrt_byte_cursor_from_array(request->method, request->method_len);
}

struct wscrt_byte_cursor wscrt_http_request_get_path(const struct wscrt_http_request *request) {
    return wscrt_byte_cursor_from_array(request->path, request->path_len);
}

int wscrt_http_request_add_header(struct wscrt_http_request *request, struct wscrt_http_header header) {
    if (header.name.len > SIZE_MAX - header.value.len) {
        return wscrt_raise_error(WSCRT_ERROR_OVERFLOW_DETECTED);
    }
    if (request->header_count == request->header_capacity) {
        size_t new_capacity = request->header_capacity ? request->header_capacity * 2 : 8;
        request->headers =
            wscrt_mem_realloc(request->allocator, request->headers,
                              request->header_capacity * sizeof(*request->headers), new_capacity * sizeof(*request->headers));
        request->header_capacity = new_capacity;
    }
    size_t total = header.name.len + header.value.len;
    uint8_t *storage = total ? wscrt_mem_acquire(request->allocator, total) : NULL;
    if (header.name.len) {
        memcpy(storage, header.name.ptr, header.name.len);
    }
    if (header.value.len) {
        memcpy(storage + header.name.len, header.value.ptr, header.value.len);
    }
    struct s_owned_header *owned = &request->headers[request->header_count++];
    owned->storage = storage;
    owned->header.name = wscrt_byte_cursor_from_array(storage, header.name.len);
    owned->header.value = wscrt_byte_cursor_from_array(storage ? storage + header.name.len : NULL, header.value.len);
    return WSCRT_OP_SUCCESS;
}

size_t wscrt_http_request_header_count(const struct wscrt_http_request *request) {
    return request->header_count;
}

int wscrt_http_request_get_header(const struct wscrt_http_request *request, size_t index,
                                  struct wscrt_http_header *out) {
    if (index >= request->header_count) {
        return wscrt_raise_error(WSCRT_ERROR_INVALID_ARGUMENT);
    }
    *out = request->headers[index].header;
    return WSCRT_OP_SUCCESS;
}

bool wscrt_http_request_find_header(const struct wscrt_http_request *request, const char *name,
                                    struct wscrt_byte_cursor *value) {
    for (size_t i = 0; i < request->header_count; ++i) {
        if (wscrt_byte_cursor_eq_c_str_ignore_case(request->headers[i].header.name, name)) {
            if (value) {
                *value = request->headers[i].header.value;
            }
            return true;
        }
    }
    return false;
}

/* RFC 9110 5.6.2 tchar. */
static bool s_is_token_char(uint8_t c) {
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
        return true;
    }
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool s_is_token(struct wscrt_byte_cursor text) {
    if (text.len == 0) {
        return false;
    }
    for (size_t i = 0; i < text.len; ++i) {
        if (!s_is_token_char(text.ptr[i])) {
            return false;
        }
    }
    return true;
}

/* CR, LF or NUL would end the line or the string early: header injection. */
static bool s_has_line_breaking_char(struct wscrt_byte_cursor text) {
    for (size_t i = 0; i < text.len; ++i) {
        uint8_t c = text.ptr[i];
        if (c == '\r' || c == '\n' || c == '\0') {
            return true;
        }
    }
    return false;
}

/* The request-target ends at the first space, so a space inside it would shift
 * "HTTP/1.1" into another field. */
static bool s_is_valid_path(struct wscrt_byte_cursor path) {
    if (path.len == 0 || s_has_line_breaking_char(path)) {
        return false;
    }
    for (size_t i = 0; i < path.len; ++i) {
        if (path.ptr[i] == ' ') {
            return false;
        }
    }
    return true;
}

static int s_validate(const struct wscrt_http_request *request) {
    /* A method is a token (RFC 9110 9.1), which also excludes CR, LF, NUL and space. */
    if (!s_is_token(wscrt_http_request_get_method(request)) || !s_is_valid_path(wscrt_http_request_get_path(request))) {
        return wscrt_raise_error(WSCRT_ERROR_HTTP_INVALID_REQUEST);
    }
    for (size_t i = 0; i < request->header_count; ++i) {
        const struct wscrt_http_header *header = &request->headers[i].header;
        if (!s_is_token(header->name) || s_has_line_breaking_char(header->value)) {
            return wscrt_raise_error(WSCRT_ERROR_HTTP_INVALID_REQUEST);
        }
    }
    return WSCRT_OP_SUCCESS;
}

static size_t s_encoded_size(const struct wscrt_http_request *request) {
    size_t size = request->method_len + 1 + request->path_len + sizeof(" HTTP/1.1\r\n") - 1;
    for (size_t i = 0; i < request->header_count; ++i) {
        size += request->headers[i].header.name.len + 2 + request->headers[i].header.value.len + 2;
    }
    return size + 2;
}

/* Appends unless an earlier append failed; empty cursors are skipped (their
 * ptr may be NULL, which memcpy must never see). */
static void s_append(struct wscrt_byte_buf *out, struct wscrt_byte_cursor bytes, bool *ok) {
    if (*ok && bytes.len > 0 && wscrt_byte_buf_append_dynamic(out, bytes)) {
        *ok = false;
    }
}

int wscrt_http_request_encode(const struct wscrt_http_request *request, struct wscrt_byte_buf *out) {
    if (s_validate(request)) {
        return WSCRT_OP_ERR;
    }
    /* One growth up front instead of doubling along the way. */
    size_t needed = s_encoded_size(request);
    if (out->allocator && out->capacity - out->len < needed && wscrt_byte_buf_reserve(out, out->len + needed)) {
        return WSCRT_OP_ERR;
    }
    size_t start_len = out->len;
    bool ok = true;
    s_append(out, wscrt_http_request_get_method(request), &ok);
    s_append(out, wscrt_byte_cursor_from_c_str(" "), &ok);
    s_append(out, wscrt_http_request_get_path(request), &ok);
    s_append(out, wscrt_byte_cursor_from_c_str(" HTTP/1.1\r\n"), &ok);
    for (size_t i = 0; i < request->header_count; ++i) {
        s_append(out, request->headers[i].header.name, &ok);
        s_append(out, wscrt_byte_cursor_from_c_str(": "), &ok);
        s_append(out, request->headers[i].header.value, &ok);
        s_append(out, wscrt_byte_cursor_from_c_str("\r\n"), &ok);
    }
    s_append(out, wscrt_byte_cursor_from_c_str("\r\n"), &ok);
    if (!ok) {
        /* Never leave half a request in the buffer. */
        out->len = start_len;
        return WSCRT_OP_ERR;
    }
    return WSCRT_OP_SUCCESS;
}
