#ifndef WSCRT_HTTP_HTTP_REQUEST_H
#define WSCRT_HTTP_HTTP_REQUEST_H
/* An HTTP/1.1 request head (method, path, headers) that owns copies of its strings. */
#include <stdbool.h>
#include <stddef.h>

#include "common/byte_buf.h"

struct wscrt_allocator;
struct wscrt_http_request;

struct wscrt_http_header {
    struct wscrt_byte_cursor name;
    struct wscrt_byte_cursor value;
};

struct wscrt_http_request *wscrt_http_request_new(struct wscrt_allocator *allocator);
void wscrt_http_request_destroy(struct wscrt_http_request *request);
int wscrt_http_request_set_method(struct wscrt_http_request *request, struct wscrt_byte_cursor method);
int wscrt_http_request_set_path(struct wscrt_http_request *request, struct wscrt_byte_cursor path);
struct wscrt_byte_cursor wscrt_http_request_get_method(const struct wscrt_http_request *request);
struct wscrt_byte_cursor wscrt_http_request_get_path(const struct wscrt_http_request *request);
int wscrt_http_request_add_header(struct wscrt_http_request *request, struct wscrt_http_header header);
size_t wscrt_http_request_header_count(const struct wscrt_http_request *request);
/* Cursors stay valid until the request is modified or destroyed. */
int wscrt_http_request_get_header(const struct wscrt_http_request *request, size_t index,
                                  struct wscrt_http_header *out);
/* First header with this name (case-insensitive). */
bool wscrt_http_request_find_header(const struct wscrt_http_request *request, const char *name,
                                    struct wscrt_byte_cursor *value);
/* "METHOD path HTTP/1.1\r\n" + "Name: value\r\n"... + "\r\n", appended to out.
 * WSCRT_ERROR_HTTP_INVALID_REQUEST if a field contains CR, LF or NUL, a header
 * name is empty or has a non-token character, or method/path are empty. */
int wscrt_http_request_encode(const struct wscrt_http_request *request, struct wscrt_byte_buf *out);

#endif
