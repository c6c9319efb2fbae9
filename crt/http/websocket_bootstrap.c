/*
 * Connection setup, on the event-loop thread once the socket is connected:
 * the layers are installed in stages, [TLS to the first hop] -> [proxy
 * CONNECT] -> [TLS to the target] -> the upgrade request, under one handshake
 * deadline; the 101 answer is validated by websocket_handshake.c (accept key,
 * headers, and what was offered: subprotocols, extensions). Setup is reported
 * exactly once; everything only the setup needs is freed once it is open.
 */
#include <stdio.h>
#include <string.h>

#include "common/allocator.h"
#include "common/clock.h"
#include "common/error.h"
#include "common/logging.h"
#include "http/proxy_connect_handler.h"
#include "http/websocket_handshake.h"
#include "http/websocket_impl.h"
#include "io/client_bootstrap.h"
#include "io/tls_context.h"

static char *s_strdup(struct wscrt_allocator *allocator, const char *text) {
    if (!text) {
        return NULL;
    }
    size_t len = strlen(text);
    char *copy = wscrt_mem_acquire(allocator, len + 1);
    memcpy(copy, text, len + 1);
    return copy;
}

static void s_tls_options_copy_init(struct wscrt_allocator *allocator, struct wscrt_tls_options_copy *copy,
                                    const struct wscrt_tls_connection_options *options, const char *default_name,
                                    uint32_t port) {
    if (!options) {
        return;
    }
    copy->set = true;
    copy->options = *options;
    copy->options.ctx = wscrt_tls_ctx_acquire(options->ctx);
    copy->server_name = s_strdup(allocator, options->server_name ? options->server_name : default_name);
    copy->alpn_list = s_strdup(allocator, options->alpn_list);
    copy->options.server_name = copy->server_name;
    copy->options.alpn_list = copy->alpn_list;
    copy->host = s_strdup(allocator, default_name);
    copy->options.host = copy->host;
    copy->options.port = (uint16_t)port;
}

static void s_tls_options_copy_clean_up(struct wscrt_allocator *allocator, struct wscrt_tls_options_copy *copy) {
    if (copy->set) {
        wscrt_tls_ctx_release(copy->options.ctx);
        wscrt_mem_release(allocator, copy->server_name);
        wscrt_mem_release(allocator, copy->alpn_list);
        wscrt_mem_release(allocator, copy->host);
        copy->set = false;
    }
}

void wscrt_websocket_cancel_handshake_timeout(struct wscrt_websocket *ws) {
    if (ws->setup && ws->event_loop) {
        wscrt_event_loop_cancel_task(ws->event_loop, &ws->setup->handshake_timeout_task);
    }
}

void wscrt_websocket_release_setup_resources(struct wscrt_websocket *ws) {
    struct wscrt_websocket_setup_state *setup = ws->setup;
    if (!setup) {
        return;
    }
    ws->setup = NULL;
    if (setup->response_parser_initialized) {
        wscrt_http_response_parser_clean_up(&setup->response);
    }
    wscrt_byte_buf_clean_up(&setup->encoded_request);
    wscrt_byte_buf_clean_up(&setup->key);
    wscrt_byte_buf_clean_up(&setup->offered_subprotocols);
    s_tls_options_copy_clean_up(ws->allocator, &setup->target_tls);
    s_tls_options_copy_clean_up(ws->allocator, &setup->proxy_tls);
    wscrt_mem_release(ws->allocator, setup->target_host);
    wscrt_mem_release(ws->allocator, setup->proxy_username);
    wscrt_mem_release(ws->allocator, setup->proxy_password);
    wscrt_mem_release(ws->allocator, setup);
}

/* ---- reporting the setup ---- */

/* Reports setup once; `response` is the HTTP answer received (upgrade or proxy CONNECT), or NULL. */
static void s_report_setup_with_response(struct wscrt_websocket *ws, int error_code,
                                         const struct wscrt_http_response_parser *response) {
    if (ws->setup_reported) {
        return;
    }
    ws->setup_reported = true;
    ws->setup_succeeded = error_code == 0;

    struct wscrt_http_header headers_storage[64];
    struct wscrt_http_header *headers = headers_storage;
    struct wscrt_websocket_setup_data data = {
        .error_code = error_code,
        .remote_address = ws->setup ? ws->setup->remote_address : NULL,
    };
    int status = 0;
    struct wscrt_byte_cursor body;
    if (response && response->headers_complete) {
        status = response->status;
        data.handshake_response_status = &status;
        size_t count = wscrt_http_response_parser_header_count(response);
        if (count > 64) {
            headers = wscrt_mem_calloc(ws->allocator, count, sizeof(struct wscrt_http_header));
        }
        for (size_t i = 0; i < count; ++i) {
            wscrt_http_response_parser_get_header(response, i, &headers[i]);
        }
        data.handshake_response_headers = headers;
        data.num_handshake_response_headers = count;
        body = wscrt_http_response_parser_body(response);
        if (error_code != 0 && body.len > 0) {
            data.handshake_response_body = &body;
        }
    }
    if (error_code == 0) {
        data.websocket = ws;
        wscrt_websocket_acquire_ref(ws); /* the user's reference */
    }
    WSCRT_LOGF_DEBUG(WSCRT_LS_WEBSOCKET, "id=%p: Setup %s (%s), status=%d", (void *)ws,
                     error_code == 0 ? "succeeded" : "failed", wscrt_error_name(error_code), status);
    ws->options.on_connection_setup(&data, ws->options.user_data);
    if (headers != headers_storage) {
        wscrt_mem_release(ws->allocator, headers);
    }
}

void wscrt_websocket_report_setup(struct wscrt_websocket *ws, int error_code) {
    struct wscrt_websocket_setup_state *setup = ws->setup;
    s_report_setup_with_response(ws, error_code,
                                 setup && setup->response_parser_initialized ? &setup->response : NULL);
}
/* ---- the upgrade response ---- */

void wscrt_websocket_fail_setup(struct wscrt_websocket *ws, int error_code) {
    wscrt_websocket_cancel_handshake_timeout(ws);
    wscrt_websocket_report_setup(ws, error_code);
    wscrt_websocket_shutdown_channel(ws, error_code);
}

static void s_on_handshake_timeout(struct wscrt_task *task, void *arg, enum wscrt_task_status status) {
    (void)task;
    struct wscrt_websocket *ws = arg;
    if (status == WSCRT_TASK_STATUS_RUN_READY && ws->state == WSCRT_WS_STATE_HANDSHAKE) {
        wscrt_websocket_fail_setup(ws, WSCRT_ERROR_WEBSOCKET_HANDSHAKE_TIMEOUT);
    }
}

void wscrt_websocket_process_handshake(struct wscrt_websocket *ws, struct wscrt_byte_cursor data) {
    size_t before = data.len;
    if (wscrt_http_response_parser_process(&ws->setup->response, &data)) {
        ws->window_to_return += before - data.len;
        wscrt_websocket_fail_setup(ws, wscrt_last_error());
        return;
    }
    ws->window_to_return += before - data.len;
    if (!ws->setup->response.complete) {
        wscrt_websocket_flush_batch(ws);
        return;
    }
    if (ws->setup->response.status != 101) {
        wscrt_websocket_fail_setup(ws, WSCRT_ERROR_WEBSOCKET_UPGRADE_FAILURE);
        return;
    }
    /* The 101 may select only what the request offered (websocket_handshake.h lists the rules). */
    struct wscrt_websocket_handshake_offer offer = {
        .subprotocols = wscrt_byte_cursor_from_buf(&ws->setup->offered_subprotocols),
        .deflate = ws->deflate ? &ws->deflate->config.offer : NULL,
    };
    struct wscrt_websocket_handshake_answer answer;
    if (wscrt_websocket_validate_handshake_answer(&ws->setup->response, wscrt_byte_cursor_from_buf(&ws->setup->key), &offer,
                                                  &answer)) {
        wscrt_websocket_fail_setup(ws, wscrt_last_error());
        return;
    }
    if (wscrt_websocket_deflate_start(ws, &answer)) {
        wscrt_websocket_fail_setup(ws, wscrt_last_error());
        return;
    }
    if (answer.subprotocol.len > 0) {
        ws->subprotocol = wscrt_mem_calloc(ws->allocator, 1, answer.subprotocol.len + 1);
        memcpy(ws->subprotocol, answer.subprotocol.ptr, answer.subprotocol.len);
    }
    wscrt_websocket_cancel_handshake_timeout(ws);
    ws->state = WSCRT_WS_STATE_OPEN;
    wscrt_websocket_report_setup(ws, 0);
    /* The response was handed to the user; an open connection keeps no handshake memory. */
    wscrt_websocket_release_setup_resources(ws);
    wscrt_websocket_keepalive_start(ws);
    if (ws->state == WSCRT_WS_STATE_OPEN) {
        /* Frames the server sent right behind its 101. */
        wscrt_websocket_process_frames(ws, data);
    }
}
/* Installs the websocket handler at the right end and sends the upgrade request. */
static void s_start_upgrade(struct wscrt_websocket *ws) {
    ws->slot = wscrt_channel_slot_new(ws->channel);
    ws->handler.vtable = &wscrt_websocket_handler_vtable;
    ws->handler.allocator = ws->allocator;
    ws->handler.impl = ws;
    struct wscrt_http_response_parser_options parser_options = {
        .max_header_bytes = ws->setup->max_response_header_bytes,
    };
    wscrt_http_response_parser_init(&ws->setup->response, ws->allocator, &parser_options);
    ws->setup->response_parser_initialized = true;

    if (wscrt_channel_slot_set_handler(ws->slot, &ws->handler)) {
        wscrt_websocket_fail_setup(ws, wscrt_last_error());
        return;
    }
    struct wscrt_byte_buf *encoded = &ws->setup->encoded_request;
    struct wscrt_io_message *request = wscrt_io_message_new(ws->allocator, encoded->len);
    memcpy(request->data.buffer, encoded->buffer, encoded->len);
    request->data.len = encoded->len;
    wscrt_byte_buf_clean_up(encoded);
    if (wscrt_channel_slot_send_write_message(ws->slot, request)) {
        wscrt_io_message_destroy(request);
        wscrt_websocket_fail_setup(ws, wscrt_last_error());
    }
}

static void s_advance_setup(struct wscrt_websocket *ws);

static void s_on_tls_negotiated(struct wscrt_channel_handler *handler, int error_code, void *user_data) {
    struct wscrt_websocket *ws = user_data;
    WSCRT_LOGF_DEBUG(WSCRT_LS_WEBSOCKET, "id=%p: TLS %s (%s), version=%s, alpn='%s'", (void *)ws,
                     error_code ? "failed" : "negotiated", wscrt_error_name(error_code),
                     wscrt_tls_handler_version_name(handler), wscrt_tls_handler_protocol(handler));
    if (error_code) {
        wscrt_websocket_fail_setup(ws, error_code);
        return;
    }
    bool to_target = !ws->setup->use_proxy || ws->setup->next_stage == WSCRT_WS_STAGE_UPGRADE;
    if (to_target) {
        ws->tls_version = wscrt_tls_handler_version_name(handler);
        const char *alpn = wscrt_tls_handler_protocol(handler);
        if (alpn && alpn[0] && !ws->alpn_protocol) {
            ws->alpn_protocol = s_strdup(ws->allocator, alpn);
        }
        ws->tls_session_resumed = wscrt_tls_handler_session_resumed(handler);
    }
    s_advance_setup(ws);
}

static void s_on_proxy_connected(struct wscrt_channel_handler *handler, int error_code,
                                 const struct wscrt_http_response_parser *response, void *user_data) {
    (void)handler;
    struct wscrt_websocket *ws = user_data;
    if (error_code) {
        wscrt_websocket_cancel_handshake_timeout(ws);
        s_report_setup_with_response(ws, error_code, response);
        wscrt_websocket_shutdown_channel(ws, error_code);
        return;
    }
    s_advance_setup(ws);
}

static void s_start_tls(struct wscrt_websocket *ws, struct wscrt_tls_options_copy *tls) {
    struct wscrt_tls_connection_options options = tls->options;
    options.on_negotiation_result = s_on_tls_negotiated;
    options.user_data = ws;
    struct wscrt_channel_slot *slot = wscrt_channel_slot_new(ws->channel);
    struct wscrt_channel_handler *handler = wscrt_tls_client_handler_new(ws->allocator, &options, slot);
    if (!handler || wscrt_tls_client_handler_start_negotiation(handler)) {
        wscrt_websocket_fail_setup(ws, wscrt_last_error());
    }
}

static void s_start_proxy_connect(struct wscrt_websocket *ws) {
    struct wscrt_proxy_connect_options options = {
        .target_host = ws->setup->target_host,
        .target_port = ws->setup->target_port,
        .auth = ws->setup->proxy_basic_auth ? WSCRT_HTTP_PROXY_AUTH_BASIC : WSCRT_HTTP_PROXY_AUTH_NONE,
        .username = ws->setup->proxy_username,
        .password = ws->setup->proxy_password,
        .on_result = s_on_proxy_connected,
        .user_data = ws,
    };
    struct wscrt_channel_slot *slot = wscrt_channel_slot_new(ws->channel);
    if (!wscrt_proxy_connect_handler_new(ws->allocator, &options, slot)) {
        wscrt_websocket_fail_setup(ws, wscrt_last_error());
    }
}

/* Sets up the next layer: [TLS to the first hop] -> [proxy CONNECT] -> [TLS to the target] -> upgrade. */
static void s_advance_setup(struct wscrt_websocket *ws) {
    for (;;) {
        switch (ws->setup->next_stage++) {
            case WSCRT_WS_STAGE_FIRST_HOP_TLS: {
                struct wscrt_tls_options_copy *tls = ws->setup->use_proxy ? &ws->setup->proxy_tls : &ws->setup->target_tls;
                if (tls->set) {
                    s_start_tls(ws, tls);
                    return;
                }
                break;
            }
            case WSCRT_WS_STAGE_PROXY_CONNECT:
                if (ws->setup->use_proxy) {
                    s_start_proxy_connect(ws);
                    return;
                }
                break;
            case WSCRT_WS_STAGE_TARGET_TLS:
                if (ws->setup->use_proxy && ws->setup->target_tls.set) {
                    s_start_tls(ws, &ws->setup->target_tls);
                    return;
                }
                break;
            default:
                s_start_upgrade(ws);
                return;
        }
    }
}

static void s_on_channel_setup(struct wscrt_client_bootstrap *bootstrap, int error_code,
                               struct wscrt_channel *channel, void *user_data) {
    (void)bootstrap;
    struct wscrt_websocket *ws = user_data;
    if (error_code != 0) {
        wscrt_websocket_report_setup(ws, error_code);
        wscrt_websocket_release_ref(ws);
        return;
    }
    ws->channel = channel;
    ws->event_loop = wscrt_channel_get_event_loop(channel);
    ws->state = WSCRT_WS_STATE_HANDSHAKE;
    /* One deadline for everything between the TCP connection and the 101 (proxy, TLS, upgrade). */
    wscrt_channel_schedule_task_future(
        channel, &ws->setup->handshake_timeout_task,
        wscrt_clock_now_ns() + (uint64_t)ws->setup->handshake_timeout_ms * WSCRT_NS_PER_MS);
    s_advance_setup(ws);
}

int wscrt_websocket_client_connect(const struct wscrt_websocket_client_connection_options *options) {
    if (!options || !options->allocator || !options->bootstrap || !options->host || !options->host[0] ||
        !options->handshake_request || !options->on_connection_setup || options->port == 0 ||
        options->port > 65535 || (options->tls_options && !options->tls_options->ctx) ||
        (options->pong_timeout_ms && !options->ping_interval_ms)) {
        return wscrt_raise_error(WSCRT_ERROR_INVALID_ARGUMENT);
    }
    const struct wscrt_websocket_proxy_options *proxy = options->proxy_options;
    if (proxy && (!proxy->host || !proxy->host[0] || proxy->port == 0 || proxy->port > 65535 ||
                  (proxy->tls_options && !proxy->tls_options->ctx))) {
        return wscrt_raise_error(WSCRT_ERROR_INVALID_ARGUMENT);
    }
    if (wscrt_websocket_validate_handshake_request(options->handshake_request) ||
        wscrt_websocket_deflate_check_options(options)) {
        return WSCRT_OP_ERR;
    }
    struct wscrt_allocator *allocator = options->allocator;
    struct wscrt_websocket *ws = wscrt_mem_calloc(allocator, 1, sizeof(struct wscrt_websocket));
    ws->allocator = allocator;
    ws->setup = wscrt_mem_calloc(allocator, 1, sizeof(struct wscrt_websocket_setup_state));
    atomic_init(&ws->send_blocks, NULL);
    atomic_init(&ws->drain_mark, 0);
    ws->options = (struct wscrt_websocket_settings){
        .on_connection_setup = options->on_connection_setup,
        .on_connection_shutdown = options->on_connection_shutdown,
        .on_incoming_frame_begin = options->on_incoming_frame_begin,
        .on_incoming_frame_payload = options->on_incoming_frame_payload,
        .on_incoming_frame_complete = options->on_incoming_frame_complete,
        .on_incoming_frame_whole = options->on_incoming_frame_whole,
        .on_incoming_batch_end = options->on_incoming_batch_end,
        .on_incoming_message = options->on_incoming_message,
        .on_send_queue_drained = options->on_send_queue_drained,
        .user_data = options->user_data,
        .send_queue_limit = options->send_queue_limit,
        .max_message_size = options->max_message_size ? options->max_message_size
                                                      : WSCRT_WEBSOCKET_DEFAULT_MAX_MESSAGE_SIZE,
        .close_timeout_ms = options->close_timeout_ms ? options->close_timeout_ms
                                                      : WSCRT_WEBSOCKET_DEFAULT_CLOSE_TIMEOUT_MS,
        .ping_interval_ms = options->ping_interval_ms,
        .pong_timeout_ms = options->pong_timeout_ms,
        .manual_window_management = options->manual_window_management,
        .partial_messages = options->partial_messages,
        .binary_frame_pieces = options->binary_frame_pieces,
    };
    ws->setup->handshake_timeout_ms =
        options->handshake_timeout_ms ? options->handshake_timeout_ms : WSCRT_WEBSOCKET_DEFAULT_HANDSHAKE_TIMEOUT_MS;
    ws->setup->max_response_header_bytes = options->max_response_header_bytes;
    ws->setup->target_host = s_strdup(allocator, options->host);
    ws->setup->target_port = options->port;
    s_tls_options_copy_init(allocator, &ws->setup->target_tls, options->tls_options, options->host, options->port);
    if (proxy) {
        ws->setup->use_proxy = true;
        ws->setup->proxy_basic_auth = proxy->basic_auth;
        ws->setup->proxy_username = s_strdup(allocator, proxy->username);
        ws->setup->proxy_password = s_strdup(allocator, proxy->password);
        s_tls_options_copy_init(allocator, &ws->setup->proxy_tls, proxy->tls_options, proxy->host, proxy->port);
    }
    ws->user_window = options->manual_window_management ? options->initial_window_size : 0;
    wscrt_ref_count_init(&ws->ref_count, ws, wscrt_websocket_destroy);
    wscrt_task_init(&ws->setup->handshake_timeout_task, s_on_handshake_timeout, ws);
    wscrt_websocket_requests_init(ws);
    wscrt_websocket_connection_init(ws);
    wscrt_websocket_deflate_init(ws, options);
    wscrt_websocket_keepalive_init(ws);
    ws->bootstrap = wscrt_client_bootstrap_acquire(options->bootstrap);

    /* Encode the request now (a bad one fails here, synchronously) and keep the key to check the answer. */
    wscrt_byte_buf_init(&ws->setup->encoded_request, allocator, 256);
    struct wscrt_byte_cursor key;
    wscrt_http_request_find_header(options->handshake_request, "Sec-WebSocket-Key", &key);
    wscrt_byte_buf_init(&ws->setup->key, allocator, key.len);
    wscrt_byte_buf_append(&ws->setup->key, key);
    struct wscrt_websocket_handshake_offer offer;
    wscrt_websocket_handshake_offer_from_request(options->handshake_request, &offer);
    wscrt_byte_buf_init(&ws->setup->offered_subprotocols, allocator, offer.subprotocols.len);
    wscrt_byte_buf_append(&ws->setup->offered_subprotocols, offer.subprotocols);
    if (wscrt_http_request_encode(options->handshake_request, &ws->setup->encoded_request) ||
        wscrt_websocket_deflate_add_offer(ws, &ws->setup->encoded_request)) {
        int error_code = wscrt_last_error();
        wscrt_websocket_release_ref(ws);
        return wscrt_raise_error(error_code);
    }

    struct wscrt_socket_channel_options channel_options = {
        .bootstrap = options->bootstrap,
        .host_name = proxy ? proxy->host : options->host,
        .port = proxy ? proxy->port : options->port,
        .socket_options = options->socket_options,
        .on_setup = s_on_channel_setup,
        .on_shutdown = wscrt_websocket_on_channel_shutdown,
        .user_data = ws,
        .remote = ws->setup->remote_address,
        .remote_size = sizeof(ws->setup->remote_address),
    };
    if (wscrt_client_bootstrap_new_socket_channel(&channel_options)) {
        int error_code = wscrt_last_error();
        wscrt_websocket_release_ref(ws);
        return wscrt_raise_error(error_code);
    }
    return WSCRT_OP_SUCCESS;
}