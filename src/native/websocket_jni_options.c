/*
 * The reader of ConnectEncoding.encode() in Java: turns the entries
 * into struct wscrt_websocket_client_connection_options (see jni_options.h).
 * Names with a "socket.", "tls.", "proxy.", "proxy.tls." or "deflate." prefix
 * fill the nested options; "header" (repeated, in request order) is "Name:value".
 */
#include <string.h>

#include "common/allocator.h"
#include "common/error.h"
#include "jni_common.h"
#include "websocket_jni.h"

/* The entry with `prefix` taken off its name, or false when the name does not start with it. */
static bool s_nested(const struct wscrt_jni_option *o, const char *prefix, struct wscrt_jni_option *nested) {
    size_t len = strlen(prefix);
    if (strncmp(o->name, prefix, len) != 0) {
        return false;
    }
    *nested = *o;
    nested->name = o->name + len;
    return true;
}

static bool s_apply_tls(JNIEnv *env, const struct wscrt_jni_option *o, struct wscrt_tls_connection_options *tls) {
    if (wscrt_jni_option_is(env, o, "ctx", 'J')) {
        tls->ctx = (struct wscrt_tls_ctx *)(intptr_t)o->integer; /* kept reachable by the caller */
    } else if (wscrt_jni_option_is(env, o, "server_name", 'S')) {
        tls->server_name = o->string;
    } else if (wscrt_jni_option_is(env, o, "alpn", 'S')) {
        tls->alpn_list = o->string;
    } else if (wscrt_jni_option_is(env, o, "timeout_ms", 'I')) {
        tls->timeout_ms = (uint32_t)o->integer;
    } else {
        return false;
    }
    return true;
}

static bool s_apply_socket(JNIEnv *env, const struct wscrt_jni_option *o, struct wscrt_socket_options *socket) {
    if (wscrt_jni_option_is(env, o, "connect_timeout_ms", 'I')) {
        socket->connect_timeout_ms = (uint32_t)o->integer;
    } else if (wscrt_jni_option_is(env, o, "keep_alive", 'Z')) {
        socket->keep_alive = o->boolean;
    } else if (wscrt_jni_option_is(env, o, "keep_alive_interval_s", 'I')) {
        socket->keep_alive_interval_sec = (uint16_t)o->integer;
    } else if (wscrt_jni_option_is(env, o, "keep_alive_timeout_s", 'I')) {
        socket->keep_alive_timeout_sec = (uint16_t)o->integer;
    } else if (wscrt_jni_option_is(env, o, "domain", 'I')) {
        socket->domain = o->integer == 1   ? WSCRT_SOCKET_DOMAIN_IPV4
                         : o->integer == 2 ? WSCRT_SOCKET_DOMAIN_IPV6
                                           : WSCRT_SOCKET_DOMAIN_UNSPEC;
    } else if (wscrt_jni_option_is(env, o, "no_delay", 'Z')) {
        socket->no_delay = o->boolean;
    } else {
        return false;
    }
    return true;
}

static bool s_apply_proxy(JNIEnv *env, const struct wscrt_jni_option *o, struct wscrt_jni_connect_request *r) {
    struct wscrt_jni_option nested;
    if (s_nested(o, "tls.", &nested)) {
        r->has_proxy_tls = true;
        return s_apply_tls(env, &nested, &r->proxy_tls);
    }
    if (wscrt_jni_option_is(env, o, "host", 'S')) {
        r->proxy.host = o->string;
    } else if (wscrt_jni_option_is(env, o, "port", 'I')) {
        r->proxy.port = (uint32_t)o->integer;
    } else if (wscrt_jni_option_is(env, o, "basic_auth", 'Z')) {
        r->proxy.basic_auth = o->boolean;
    } else if (wscrt_jni_option_is(env, o, "username", 'S')) {
        r->proxy.username = o->string;
    } else if (wscrt_jni_option_is(env, o, "password", 'S')) {
        r->proxy.password = o->string;
    } else {
        return false;
    }
    return true;
}

/* "deflate.*": permessage-deflate to offer (message mode only). */
static bool s_apply_deflate(JNIEnv *env, const struct wscrt_jni_option *o, struct wscrt_websocket_deflate_config *d) {
    if (wscrt_jni_option_is(env, o, "client_max_window_bits", 'I')) {
        d->offer.client_max_window_bits = (uint8_t)o->integer;
    } else if (wscrt_jni_option_is(env, o, "server_max_window_bits", 'I')) {
        d->offer.server_max_window_bits = (uint8_t)o->integer;
    } else if (wscrt_jni_option_is(env, o, "client_no_context_takeover", 'Z')) {
        d->offer.client_no_context_takeover = o->boolean;
    } else if (wscrt_jni_option_is(env, o, "server_no_context_takeover", 'Z')) {
        d->offer.server_no_context_takeover = o->boolean;
    } else if (wscrt_jni_option_is(env, o, "level", 'I')) {
        d->compression_level = (int)o->integer;
    } else if (wscrt_jni_option_is(env, o, "mem_level", 'I')) {
        d->mem_level = (int)o->integer;
    } else if (wscrt_jni_option_is(env, o, "threshold", 'J')) {
        d->compression_threshold = (size_t)o->integer;
    } else {
        return false;
    }
    return true;
}

static bool s_add_header(JNIEnv *env, const struct wscrt_jni_option *o, struct wscrt_http_request *request) {
    const char *colon = memchr(o->string, ':', o->string_len);
    if (!colon) {
        wscrt_jni_throw_illegal_argument(env, "malformed native option 'header'");
        return true;
    }
    struct wscrt_http_header header = {
        .name = wscrt_byte_cursor_from_array(o->string, (size_t)(colon - o->string)),
        .value = wscrt_byte_cursor_from_array(colon + 1, o->string_len - (size_t)(colon - o->string) - 1),
    };
    wscrt_http_request_add_header(request, header);
    return true;
}

static bool s_apply(JNIEnv *env, const struct wscrt_jni_option *o, void *target) {
    struct wscrt_jni_connect_request *r = target;
    struct wscrt_websocket_client_connection_options *options = &r->options;
    struct wscrt_jni_option nested;
    if (s_nested(o, "socket.", &nested)) {
        return s_apply_socket(env, &nested, &r->socket);
    }
    if (s_nested(o, "tls.", &nested)) {
        r->has_tls = true;
        return s_apply_tls(env, &nested, &r->tls);
    }
    if (s_nested(o, "proxy.", &nested)) {
        r->has_proxy = true;
        return s_apply_proxy(env, &nested, r);
    }
    if (s_nested(o, "deflate.", &nested)) {
        r->has_deflate = true;
        return s_apply_deflate(env, &nested, &r->deflate);
    }
    if (wscrt_jni_option_is(env, o, "host", 'S')) {
        options->host = o->string;
    } else if (wscrt_jni_option_is(env, o, "port", 'I')) {
        options->port = (uint32_t)o->integer;
    } else if (wscrt_jni_option_is(env, o, "bootstrap", 'J')) {
        options->bootstrap = (struct wscrt_client_bootstrap *)(intptr_t)o->integer; /* kept reachable by the caller */
    } else if (wscrt_jni_option_is(env, o, "method", 'S')) {
        wscrt_http_request_set_method(r->request, wscrt_byte_cursor_from_array(o->string, o->string_len));
    } else if (wscrt_jni_option_is(env, o, "path", 'S')) {
        wscrt_http_request_set_path(r->request, wscrt_byte_cursor_from_array(o->string, o->string_len));
    } else if (wscrt_jni_option_is(env, o, "header", 'S')) {
        return s_add_header(env, o, r->request);
    } else if (wscrt_jni_option_is(env, o, "manual_window", 'Z')) {
        options->manual_window_management = o->boolean;
    } else if (wscrt_jni_option_is(env, o, "initial_window", 'J')) {
        options->initial_window_size = (uint64_t)o->integer;
    } else if (wscrt_jni_option_is(env, o, "handshake_timeout_ms", 'I')) {
        options->handshake_timeout_ms = (uint32_t)o->integer;
    } else if (wscrt_jni_option_is(env, o, "close_timeout_ms", 'I')) {
        options->close_timeout_ms = (uint32_t)o->integer;
    } else if (wscrt_jni_option_is(env, o, "messages", 'Z')) {
        r->message_mode = o->boolean;
    } else if (wscrt_jni_option_is(env, o, "max_message_size", 'J')) {
        options->max_message_size = (uint64_t)o->integer;
    } else if (wscrt_jni_option_is(env, o, "partial_messages", 'Z')) {
        options->partial_messages = o->boolean;
    } else if (wscrt_jni_option_is(env, o, "binary_frame_pieces", 'Z')) {
        options->binary_frame_pieces = o->boolean;
    } else if (wscrt_jni_option_is(env, o, "send_queue_limit", 'J')) {
        options->send_queue_limit = (uint64_t)o->integer;
    } else if (wscrt_jni_option_is(env, o, "ping_interval_ms", 'I')) {
        options->ping_interval_ms = (uint32_t)o->integer;
    } else if (wscrt_jni_option_is(env, o, "pong_timeout_ms", 'I')) {
        options->pong_timeout_ms = (uint32_t)o->integer;
    } else {
        return false;
    }
    return true;
}

bool wscrt_jni_connect_request_read(JNIEnv *env, struct wscrt_jni_options_reader *reader,
                                    struct wscrt_jni_connect_request *r) {
    *r = (struct wscrt_jni_connect_request){0};
    wscrt_socket_options_init_default(&r->socket);
    r->request = wscrt_http_request_new(wscrt_jni_allocator());
    if (!wscrt_jni_read_options(env, reader, s_apply, r)) {
        return false;
    }
    r->options.allocator = wscrt_jni_allocator();
    r->options.socket_options = &r->socket;
    r->options.handshake_request = r->request;
    r->options.tls_options = r->has_tls ? &r->tls : NULL;
    r->options.proxy_options = r->has_proxy ? &r->proxy : NULL;
    r->options.deflate = r->has_deflate ? &r->deflate : NULL;
    r->proxy.tls_options = r->has_proxy_tls ? &r->proxy_tls : NULL;
    return true;
}

void wscrt_jni_connect_request_clean_up(struct wscrt_jni_connect_request *r) {
    wscrt_http_request_destroy(r->request);
    r->request = NULL;
}
