/*
 * The client WebSocket connection: one channel handler that first performs
 * the HTTP/1.1 upgrade, then runs the frame protocol (decoder, send queue,
 * automatic PONG, close handshake, read-window accounting).
 *
 * Threads: fields under "loop thread" are touched only on the channel's
 * event-loop thread; fields under `synced` only with `lock` held. Other threads
 * reach the loop through one cross-thread task (s_cross_thread_work).
 *
 * Read window (manual mode). With S the slot's window (bytes the socket may
 * still read), P the bytes read but not yet processed (`pending`), U the
 * user's window (data payload bytes it still accepts) and C a small constant
 * slack, the handler keeps S + P = U + C:
 *   - bytes read:                 S -= r, P += r
 *   - data payload delivered:     P -= p, U -= p
 *   - any other byte consumed:    P -= n, S += n   (headers, control frames)
 *   - incrementReadWindow(k):     U += k, S += k
 * so delivery stops at exactly U, and the socket stops reading once at most C
 * extra bytes are buffered: TCP then pushes back on the server.
 */
#include "http/websocket.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "common/allocator.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "common/error.h"
#include "common/linked_list.h"
#include "common/logging.h"
#include "common/ref_count.h"
#include "http/http_response_parser.h"
#include "http/proxy_connect_handler.h"
#include "http/websocket_decoder.h"
#include "http/websocket_encoder.h"
#include "http/websocket_handshake.h"
#include "io/channel.h"
#include "io/client_bootstrap.h"
#include "io/event_loop.h"
#include "io/tls_context.h"
#include "io/tls_handler.h"

/* Bytes the socket may read beyond the user's window: enough to read a whole
 * handshake response in one go, small enough that a stalled reader buffers
 * almost nothing. */
#define WSCRT_WEBSOCKET_WINDOW_SLACK (16 * 1024)
/* Without manual window management the window never runs out in practice. */
#define WSCRT_WEBSOCKET_UNLIMITED_WINDOW (SIZE_MAX / 4)
/* A server that has not answered the upgrade within 10 s is not going to. */
#define WSCRT_WEBSOCKET_DEFAULT_HANDSHAKE_TIMEOUT_MS 10000
/* RFC 6455 7.1.1 lets the client wait for the server to close; 5 s bounds it. */
#define WSCRT_WEBSOCKET_DEFAULT_CLOSE_TIMEOUT_MS 5000

enum wscrt_websocket_state {
    WSCRT_WS_STATE_CONNECTING, /* resolving, connecting */
    WSCRT_WS_STATE_HANDSHAKE,  /* request sent, reading the response */
    WSCRT_WS_STATE_OPEN,
    WSCRT_WS_STATE_SHUTTING_DOWN,
    WSCRT_WS_STATE_SHUT_DOWN,
};

/* What is set up on the channel, in order, before the upgrade request goes out. */
enum wscrt_websocket_stage {
    WSCRT_WS_STAGE_FIRST_HOP_TLS, /* TLS to the proxy, or to the target when there is no proxy */
    WSCRT_WS_STAGE_PROXY_CONNECT,
    WSCRT_WS_STAGE_TARGET_TLS, /* TLS to the target inside the proxy tunnel */
    WSCRT_WS_STAGE_UPGRADE,
};

/* A connection's own copy of TLS options (the strings and a context reference). */
struct wscrt_tls_options_copy {
    bool set;
    struct wscrt_tls_connection_options options;
    char *server_name;
    char *alpn_list;
};

struct wscrt_outgoing_frame {
    struct wscrt_linked_list_node node;
    struct wscrt_websocket *websocket;
    struct wscrt_io_message *message; /* NULL once handed to the channel */
    wscrt_websocket_on_send_complete_fn *on_complete;
    void *user_data;
    int error_code; /* for frames failed before they were sent */
    uint8_t opcode;
};

struct wscrt_websocket {
    struct wscrt_allocator *allocator;
    /* One reference for the connection (until its channel is destroyed or
     * setup failed), one for the user (until wscrt_websocket_release), one per
     * scheduled cross-thread task. */
    struct wscrt_ref_count ref_count;
    struct wscrt_client_bootstrap *bootstrap;
    struct wscrt_websocket_client_connection_options options; /* callbacks, user_data, limits */
    /* What only the setup needs; freed once the connection is open (an idle connection keeps none). */
    struct wscrt_byte_buf encoded_request; /* the upgrade request, encoded at connect time */
    struct wscrt_byte_buf key;             /* Sec-WebSocket-Key, to check the answer against */
    struct wscrt_tls_options_copy target_tls;
    struct wscrt_tls_options_copy proxy_tls;
    bool use_proxy;
    char *target_host;
    uint32_t target_port;
    char *proxy_username;
    char *proxy_password;
    bool proxy_basic_auth;
    enum wscrt_websocket_stage next_stage;
    /* What TLS to the target negotiated; set before setup is reported, constant afterwards. */
    char tls_version[16];
    char alpn_protocol[256];

    /* Loop thread. */
    struct wscrt_event_loop *event_loop; /* set before setup is reported, then constant */
    struct wscrt_channel *channel;
    struct wscrt_channel_slot *slot;
    struct wscrt_channel_handler handler;
    enum wscrt_websocket_state state;
    struct wscrt_http_response_parser response;
    bool response_parser_initialized;
    bool setup_reported;
    bool setup_succeeded;
    struct wscrt_websocket_decoder decoder;
    struct wscrt_websocket_incoming_frame current_frame;
    bool frame_in_progress;
    uint64_t user_window;          /* U, manual mode only */
    struct wscrt_byte_buf pending; /* P: read but not yet processed */
    size_t window_to_return;       /* increments owed to the slot, sent once per batch */
    bool close_sent;
    bool close_written; /* our CLOSE is in the kernel */
    /* close() was called: data frames that begin from now on are read and dropped (no callbacks, no
     * read window), so that the peer's CLOSE can arrive. */
    bool discarding;
    bool current_frame_silent; /* the frame being decoded is dropped, not delivered */
    bool close_received;
    bool close_timeout_armed;
    int fail_after_close; /* error to shut down with once our failing CLOSE (1002/1007) is written */
    bool failing;         /* a violation was seen: nothing more is decoded, sends flow until that CLOSE */
    bool callback_failed;
    struct wscrt_task handshake_timeout_task;
    struct wscrt_task close_timeout_task;
    struct wscrt_task process_pending_task;

    struct wscrt_task cross_thread_task;
    pthread_mutex_t lock;
    struct {
        struct wscrt_linked_list frames; /* to send, or to fail (error_code set) */
        uint64_t window_increment;
        bool close_requested;
        int shutdown_error; /* nonzero: shut down at once with it */
        bool close_frame_queued;
        bool channel_gone; /* shutdown completed: nothing more can be sent */
        bool task_scheduled;
    } synced;
};

static void s_websocket_acquire(struct wscrt_websocket *ws) {
    wscrt_ref_count_acquire(&ws->ref_count);
}

static void s_websocket_release(struct wscrt_websocket *ws) {
    wscrt_ref_count_release(&ws->ref_count);
}

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
                                    const struct wscrt_tls_connection_options *options, const char *default_name) {
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
}

static void s_tls_options_copy_clean_up(struct wscrt_allocator *allocator, struct wscrt_tls_options_copy *copy) {
    if (copy->set) {
        wscrt_tls_ctx_release(copy->options.ctx);
        wscrt_mem_release(allocator, copy->server_name);
        wscrt_mem_release(allocator, copy->alpn_list);
        copy->set = false;
    }
}

/* Frees what only the setup needs (idempotent). */
static void s_release_setup_resources(struct wscrt_websocket *ws) {
    if (ws->response_parser_initialized) {
        wscrt_http_response_parser_clean_up(&ws->response);
        ws->response_parser_initialized = false;
    }
    wscrt_byte_buf_clean_up(&ws->encoded_request);
    wscrt_byte_buf_clean_up(&ws->key);
    s_tls_options_copy_clean_up(ws->allocator, &ws->target_tls);
    s_tls_options_copy_clean_up(ws->allocator, &ws->proxy_tls);
    wscrt_mem_release(ws->allocator, ws->target_host);
    wscrt_mem_release(ws->allocator, ws->proxy_username);
    wscrt_mem_release(ws->allocator, ws->proxy_password);
    ws->target_host = NULL;
    ws->proxy_username = NULL;
    ws->proxy_password = NULL;
}

static void s_websocket_destroy(void *object) {
    struct wscrt_websocket *ws = object;
    WSCRT_LOGF_DEBUG(WSCRT_LS_WEBSOCKET, "id=%p: Destroying websocket", (void *)ws);
    s_release_setup_resources(ws);
    wscrt_byte_buf_clean_up(&ws->pending);
    pthread_mutex_destroy(&ws->lock);
    wscrt_client_bootstrap_release(ws->bootstrap);
    wscrt_mem_release(ws->allocator, ws);
}

/* ---------------------------------------------------------------------------------------------------------------- */
/* Setup and shutdown reporting                                                                                     */
/* ---------------------------------------------------------------------------------------------------------------- */

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
    struct wscrt_websocket_setup_data data = {.error_code = error_code};
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
        s_websocket_acquire(ws); /* the user's reference */
    }
    WSCRT_LOGF_DEBUG(WSCRT_LS_WEBSOCKET, "id=%p: Setup %s (%s), status=%d", (void *)ws,
                     error_code == 0 ? "succeeded" : "failed", wscrt_error_name(error_code), status);
    ws->options.on_connection_setup(&data, ws->options.user_data);
    if (headers != headers_storage) {
        wscrt_mem_release(ws->allocator, headers);
    }
}

static void s_report_setup(struct wscrt_websocket *ws, int error_code) {
    s_report_setup_with_response(ws, error_code, ws->response_parser_initialized ? &ws->response : NULL);
}

static void s_shutdown_channel(struct wscrt_websocket *ws, int error_code) {
    if (ws->state == WSCRT_WS_STATE_OPEN || ws->state == WSCRT_WS_STATE_HANDSHAKE) {
        ws->state = WSCRT_WS_STATE_SHUTTING_DOWN;
    }
    if (ws->channel) {
        wscrt_channel_shutdown(ws->channel, error_code);
    }
}

/* ---------------------------------------------------------------------------------------------------------------- */
/* Sending                                                                                                          */
/* ---------------------------------------------------------------------------------------------------------------- */

static void s_complete_frame(struct wscrt_outgoing_frame *frame, int error_code) {
    struct wscrt_websocket *ws = frame->websocket;
    if (frame->message) {
        wscrt_io_message_destroy(frame->message);
    }
    if (frame->on_complete) {
        frame->on_complete(ws, error_code, frame->user_data);
    }
    wscrt_mem_release(ws->allocator, frame);
}

static void s_on_close_timeout(struct wscrt_task *task, void *arg, enum wscrt_task_status status) {
    (void)task;
    struct wscrt_websocket *ws = arg;
    if (status != WSCRT_TASK_STATUS_RUN_READY) {
        return;
    }
    WSCRT_LOGF_DEBUG(WSCRT_LS_WEBSOCKET, "id=%p: The CLOSE handshake did not finish in time", (void *)ws);
    s_shutdown_channel(ws, ws->fail_after_close ? ws->fail_after_close : WSCRT_ERROR_WEBSOCKET_CLOSE_TIMEOUT);
}

/* Bounds the close handshake (our CLOSE written, the peer's CLOSE received). Armed once. */
static void s_arm_close_timeout(struct wscrt_websocket *ws) {
    if (ws->close_timeout_armed || !ws->channel) {
        return;
    }
    ws->close_timeout_armed = true;
    wscrt_channel_schedule_task_future(ws->channel, &ws->close_timeout_task,
                                       wscrt_clock_now_ns() + (uint64_t)ws->options.close_timeout_ms * WSCRT_NS_PER_MS);
}

static void s_on_message_written(struct wscrt_channel *channel, struct wscrt_io_message *message, int error_code,
                                 void *user_data) {
    (void)channel;
    struct wscrt_outgoing_frame *frame = user_data;
    struct wscrt_websocket *ws = frame->websocket;
    (void)message; /* destroyed by the socket handler */
    if (frame->opcode == WSCRT_WEBSOCKET_OPCODE_CLOSE && ws->fail_after_close) {
        s_shutdown_channel(ws, ws->fail_after_close);
    } else if (frame->opcode == WSCRT_WEBSOCKET_OPCODE_CLOSE && error_code == 0 &&
               ws->state == WSCRT_WS_STATE_OPEN) {
        ws->close_written = true;
        if (ws->close_received) {
            s_shutdown_channel(ws, 0);
        } else {
            s_arm_close_timeout(ws); /* now wait for the peer's CLOSE */
        }
    }
    if (frame->on_complete) {
        frame->on_complete(ws, error_code, frame->user_data);
    }
    wscrt_mem_release(ws->allocator, frame);
}

/* Loop thread: hands a frame to the channel, or fails it. */
static void s_send_frame_now(struct wscrt_websocket *ws, struct wscrt_outgoing_frame *frame) {
    if (frame->error_code != 0) {
        s_complete_frame(frame, frame->error_code);
        return;
    }
    if (ws->state != WSCRT_WS_STATE_OPEN) {
        s_complete_frame(frame, WSCRT_ERROR_WEBSOCKET_CONNECTION_CLOSED);
        return;
    }
    if (ws->close_sent) {
        s_complete_frame(frame, WSCRT_ERROR_WEBSOCKET_CLOSE_FRAME_SENT);
        return;
    }
    if (frame->opcode == WSCRT_WEBSOCKET_OPCODE_CLOSE) {
        ws->close_sent = true;
    }
    struct wscrt_io_message *message = frame->message;
    frame->message = NULL;
    message->on_completion = s_on_message_written;
    message->user_data = frame;
    if (wscrt_channel_slot_send_write_message(ws->slot, message)) {
        frame->message = message;
        s_complete_frame(frame, wscrt_last_error());
    }
}

/* Masking keys come from libcrypto's CSPRNG (RFC 6455 10.3 wants them unpredictable), fetched 256
 * bytes at a time per thread so that a small frame does not pay a RAND_bytes call. */
static int s_next_masking_key(uint8_t key[4]) {
    static _Thread_local uint8_t pool[256];
    static _Thread_local size_t pool_used = sizeof(pool);
    if (pool_used == sizeof(pool)) {
        if (wscrt_random_bytes(pool, sizeof(pool))) {
            return WSCRT_OP_ERR;
        }
        pool_used = 0;
    }
    memcpy(key, pool + pool_used, 4);
    pool_used += 4;
    return WSCRT_OP_SUCCESS;
}

/* Any thread: builds the frame's bytes (header, then the payload masked as it is copied). */
static struct wscrt_outgoing_frame *s_outgoing_frame_new(struct wscrt_websocket *ws, uint8_t opcode, bool fin,
                                                         struct wscrt_byte_cursor payload,
                                                         wscrt_websocket_on_send_complete_fn *on_complete,
                                                         void *user_data) {
    uint8_t masking_key[4];
    if (s_next_masking_key(masking_key)) {
        return NULL;
    }
    size_t header_size = wscrt_websocket_frame_header_size(payload.len, true);
    struct wscrt_outgoing_frame *frame = wscrt_mem_calloc(ws->allocator, 1, sizeof(struct wscrt_outgoing_frame));
    frame->websocket = ws;
    frame->opcode = opcode;
    frame->on_complete = on_complete;
    frame->user_data = user_data;
    frame->message = wscrt_io_message_new(ws->allocator, header_size + payload.len);
    uint8_t *out = frame->message->data.buffer;
    size_t written = wscrt_websocket_encode_header(out, opcode, fin, 0, payload.len, masking_key);
    if (payload.len > 0) {
        wscrt_websocket_mask_copy(out + written, payload.ptr, payload.len, masking_key, 0);
    }
    frame->message->data.len = written + payload.len;
    return frame;
}

/* Loop thread: sends a CLOSE the connection decided on itself (close()). */
static void s_send_control_frame(struct wscrt_websocket *ws, uint8_t opcode, struct wscrt_byte_cursor payload) {
    struct wscrt_outgoing_frame *frame = s_outgoing_frame_new(ws, opcode, true, payload, NULL, NULL);
    if (frame) {
        s_send_frame_now(ws, frame);
    }
}

static void s_schedule_cross_thread_work_locked(struct wscrt_websocket *ws);

/* Hands the events decoded so far to the user (a binding may hold them in a batch). False if a callback
 * failed. */
static bool s_deliver_decoded_events(struct wscrt_websocket *ws) {
    return !ws->options.on_incoming_batch_end || ws->options.on_incoming_batch_end(ws, ws->options.user_data);
}

/*
 * Loop thread: a PONG, a CLOSE echo, or a failing CLOSE. The events decoded so far are delivered first,
 * so that frames the user sends from those callbacks go out before the reply and frames sent from later
 * callbacks after it: replies keep their place in the stream (an echoed message precedes the CLOSE echo;
 * a PONG for a PING between fragments precedes the message's echo). Returns false if a callback failed.
 */
static bool s_queue_reply(struct wscrt_websocket *ws, uint8_t opcode, struct wscrt_byte_cursor payload) {
    if (!s_deliver_decoded_events(ws)) {
        return false;
    }
    struct wscrt_outgoing_frame *frame = s_outgoing_frame_new(ws, opcode, true, payload, NULL, NULL);
    if (!frame) {
        return true;
    }
    pthread_mutex_lock(&ws->lock);
    if (opcode == WSCRT_WEBSOCKET_OPCODE_CLOSE) {
        ws->synced.close_frame_queued = true;
    }
    wscrt_linked_list_push_back(&ws->synced.frames, &frame->node);
    s_schedule_cross_thread_work_locked(ws);
    pthread_mutex_unlock(&ws->lock);
    return true;
}

static void s_send_close(struct wscrt_websocket *ws, uint16_t status) {
    if (ws->close_sent || ws->state != WSCRT_WS_STATE_OPEN) {
        return;
    }
    uint8_t payload[2] = {(uint8_t)(status >> 8), (uint8_t)(status & 0xFF)};
    s_send_control_frame(ws, WSCRT_WEBSOCKET_OPCODE_CLOSE, wscrt_byte_cursor_from_array(payload, 2));
}

/* ---------------------------------------------------------------------------------------------------------------- */
/* Receiving                                                                                                        */
/* ---------------------------------------------------------------------------------------------------------------- */

static int s_callback_failed(struct wscrt_websocket *ws) {
    ws->callback_failed = true;
    return wscrt_raise_error(WSCRT_ERROR_CALLBACK_EXCEPTION);
}

static int s_on_decoded_frame_begin(const struct wscrt_websocket_frame *frame, void *user_data) {
    struct wscrt_websocket *ws = user_data;
    if (ws->close_received) {
        /* RFC 6455 5.5.1: nothing follows a CLOSE. Stop decoding; s_decode drops the rest. */
        return wscrt_raise_error(WSCRT_ERROR_WEBSOCKET_CONNECTION_CLOSED);
    }
    ws->current_frame = (struct wscrt_websocket_incoming_frame){
        .payload_length = frame->payload_length,
        .opcode = frame->opcode,
        .fin = frame->fin,
    };
    ws->current_frame_silent = ws->discarding && wscrt_websocket_opcode_is_data(frame->opcode);
    if (ws->current_frame_silent) {
        return WSCRT_OP_SUCCESS;
    }
    ws->frame_in_progress = true;
    if (ws->options.on_incoming_frame_begin &&
        !ws->options.on_incoming_frame_begin(ws, &ws->current_frame, ws->options.user_data)) {
        return s_callback_failed(ws);
    }
    return WSCRT_OP_SUCCESS;
}

static int s_on_decoded_payload(const struct wscrt_websocket_frame *frame, struct wscrt_byte_cursor data,
                                void *user_data) {
    (void)frame; /* the decoder already took data-frame payload out of the window */
    struct wscrt_websocket *ws = user_data;
    if (!ws->current_frame_silent && ws->options.on_incoming_frame_payload &&
        !ws->options.on_incoming_frame_payload(ws, &ws->current_frame, data, ws->options.user_data)) {
        return s_callback_failed(ws);
    }
    return WSCRT_OP_SUCCESS;
}

static int s_on_decoded_frame_complete(const struct wscrt_websocket_frame *frame, void *user_data) {
    struct wscrt_websocket *ws = user_data;
    if (ws->current_frame_silent) {
        return WSCRT_OP_SUCCESS;
    }
    ws->frame_in_progress = false;
    if (ws->options.on_incoming_frame_complete &&
        !ws->options.on_incoming_frame_complete(ws, &ws->current_frame, 0, ws->options.user_data)) {
        return s_callback_failed(ws);
    }
    struct wscrt_byte_cursor control_payload =
        wscrt_byte_cursor_from_array(ws->decoder.control_payload, ws->decoder.control_payload_len);
    switch (frame->opcode) {
        case WSCRT_WEBSOCKET_OPCODE_PING:
            if (!ws->close_sent && !s_queue_reply(ws, WSCRT_WEBSOCKET_OPCODE_PONG, control_payload)) {
                return s_callback_failed(ws);
            }
            break;
        case WSCRT_WEBSOCKET_OPCODE_CLOSE:
            ws->close_received = true;
            WSCRT_LOGF_DEBUG(WSCRT_LS_WEBSOCKET, "id=%p: Received CLOSE frame, payload=%zu bytes", (void *)ws,
                             control_payload.len);
            if (ws->close_sent) {
                s_shutdown_channel(ws, 0);
            } else {
                /* Echo the status code (not the reason), then close once it is written. */
                struct wscrt_byte_cursor echo = control_payload;
                echo.len = echo.len >= 2 ? 2 : 0;
                if (!s_queue_reply(ws, WSCRT_WEBSOCKET_OPCODE_CLOSE, echo)) {
                    return s_callback_failed(ws);
                }
            }
            break;
        default:
            break;
    }
    return WSCRT_OP_SUCCESS;
}

/* Delivers the "complete" that every "begin" is owed when the frame cannot finish. */
static void s_fail_frame_in_progress(struct wscrt_websocket *ws, int error_code) {
    if (!ws->frame_in_progress) {
        return;
    }
    ws->frame_in_progress = false;
    if (ws->options.on_incoming_frame_complete) {
        ws->options.on_incoming_frame_complete(ws, &ws->current_frame, error_code, ws->options.user_data);
    }
}

static void s_on_protocol_failure(struct wscrt_websocket *ws, int error_code) {
    WSCRT_LOGF_DEBUG(WSCRT_LS_WEBSOCKET, "id=%p: Failing connection: %s", (void *)ws, wscrt_error_name(error_code));
    s_fail_frame_in_progress(ws, error_code);
    if (!ws->callback_failed && error_code != WSCRT_ERROR_CALLBACK_EXCEPTION && !ws->close_sent &&
        !ws->failing && ws->state == WSCRT_WS_STATE_OPEN) {
        /*
         * Tell the server why (1002, or 1007 for bad UTF-8). The frames decoded before the violation are
         * delivered first, and the CLOSE queued behind what their callbacks send (an echo of the message
         * before the bad frame still goes out). Shut down once that CLOSE is written: a shutdown with an
         * error does not flush queued writes. The close timeout bounds the wait.
         */
        ws->failing = true;
        ws->fail_after_close = error_code;
        uint16_t status = ws->decoder.close_status_on_error ? ws->decoder.close_status_on_error
                                                            : WSCRT_WEBSOCKET_CLOSE_PROTOCOL_ERROR;
        uint8_t payload[2] = {(uint8_t)(status >> 8), (uint8_t)(status & 0xFF)};
        if (!s_queue_reply(ws, WSCRT_WEBSOCKET_OPCODE_CLOSE, wscrt_byte_cursor_from_array(payload, 2))) {
            ws->callback_failed = true;
            s_shutdown_channel(ws, WSCRT_ERROR_CALLBACK_EXCEPTION);
            return;
        }
        s_arm_close_timeout(ws);
        return;
    }
    s_shutdown_channel(ws, error_code);
}

/* Whether incoming bytes are still decoded and delivered. */
static bool s_receiving(const struct wscrt_websocket *ws) {
    return ws->state == WSCRT_WS_STATE_OPEN && !ws->failing;
}

/* Runs the decoder over `data` within the user's window. Returns false on failure (already handled). */
static bool s_decode(struct wscrt_websocket *ws, struct wscrt_byte_cursor *data) {
    size_t before = data->len;
    uint64_t window_before = ws->user_window;
    /* After close() the window no longer applies: what arrives is dropped, not held. */
    uint64_t *budget = ws->options.manual_window_management && !ws->discarding ? &ws->user_window : NULL;
    wscrt_reset_error();
    int result = wscrt_websocket_decoder_process(&ws->decoder, data, budget);
    size_t consumed = before - data->len;
    size_t payload = budget ? (size_t)(window_before - ws->user_window) : 0;
    ws->window_to_return += consumed - payload;
    if (result != WSCRT_OP_SUCCESS && ws->close_received && !ws->frame_in_progress) {
        ws->window_to_return += data->len;
        data->len = 0; /* bytes after the peer's CLOSE are ignored */
        return true;
    }
    if (result != WSCRT_OP_SUCCESS) {
        int error_code = wscrt_last_error();
        s_on_protocol_failure(ws, error_code ? error_code : WSCRT_ERROR_WEBSOCKET_PROTOCOL_ERROR);
        return false;
    }
    return true;
}

static void s_flush_batch(struct wscrt_websocket *ws) {
    if (ws->options.on_incoming_batch_end && !ws->callback_failed &&
        !ws->options.on_incoming_batch_end(ws, ws->options.user_data)) {
        ws->callback_failed = true;
        s_on_protocol_failure(ws, WSCRT_ERROR_CALLBACK_EXCEPTION);
    }
    if (ws->window_to_return > 0 && (s_receiving(ws) || ws->state == WSCRT_WS_STATE_HANDSHAKE)) {
        size_t amount = ws->window_to_return;
        ws->window_to_return = 0;
        wscrt_channel_slot_increment_read_window(ws->slot, amount);
    }
}

/* Decodes pending bytes then `data`; whatever the window does not allow yet is kept in `pending`. */
static void s_process_frames(struct wscrt_websocket *ws, struct wscrt_byte_cursor data) {
    if (ws->pending.len > 0) {
        wscrt_byte_buf_append_dynamic(&ws->pending, data);
        struct wscrt_byte_cursor pending = wscrt_byte_cursor_from_buf(&ws->pending);
        if (s_decode(ws, &pending) && pending.len > 0) {
            memmove(ws->pending.buffer, pending.ptr, pending.len);
        }
        ws->pending.len = s_receiving(ws) ? pending.len : 0;
    } else if (s_decode(ws, &data) && data.len > 0 && s_receiving(ws)) {
        wscrt_byte_buf_append_dynamic(&ws->pending, data);
    }
    s_flush_batch(ws);
}

static void s_on_process_pending(struct wscrt_task *task, void *arg, enum wscrt_task_status status) {
    (void)task;
    struct wscrt_websocket *ws = arg;
    if (status == WSCRT_TASK_STATUS_RUN_READY && s_receiving(ws)) {
        s_process_frames(ws, (struct wscrt_byte_cursor){0});
    }
}

/* ---------------------------------------------------------------------------------------------------------------- */
/* Handshake                                                                                                        */
/* ---------------------------------------------------------------------------------------------------------------- */

static void s_fail_setup(struct wscrt_websocket *ws, int error_code) {
    wscrt_event_loop_cancel_task(wscrt_channel_get_event_loop(ws->channel), &ws->handshake_timeout_task);
    s_report_setup(ws, error_code);
    s_shutdown_channel(ws, error_code);
}

static void s_on_handshake_timeout(struct wscrt_task *task, void *arg, enum wscrt_task_status status) {
    (void)task;
    struct wscrt_websocket *ws = arg;
    if (status == WSCRT_TASK_STATUS_RUN_READY && ws->state == WSCRT_WS_STATE_HANDSHAKE) {
        s_fail_setup(ws, WSCRT_ERROR_WEBSOCKET_HANDSHAKE_TIMEOUT);
    }
}

static void s_process_handshake(struct wscrt_websocket *ws, struct wscrt_byte_cursor data) {
    size_t before = data.len;
    if (wscrt_http_response_parser_process(&ws->response, &data)) {
        ws->window_to_return += before - data.len;
        s_fail_setup(ws, wscrt_last_error());
        return;
    }
    ws->window_to_return += before - data.len;
    if (!ws->response.complete) {
        s_flush_batch(ws);
        return;
    }
    if (ws->response.status != 101) {
        s_fail_setup(ws, WSCRT_ERROR_WEBSOCKET_UPGRADE_FAILURE);
        return;
    }
    if (wscrt_websocket_validate_handshake_response(&ws->response, wscrt_byte_cursor_from_buf(&ws->key))) {
        s_fail_setup(ws, wscrt_last_error());
        return;
    }
    wscrt_event_loop_cancel_task(wscrt_channel_get_event_loop(ws->channel), &ws->handshake_timeout_task);
    ws->state = WSCRT_WS_STATE_OPEN;
    s_report_setup(ws, 0);
    /* The response was handed to the user; an open connection keeps no handshake memory. */
    s_release_setup_resources(ws);
    if (ws->state == WSCRT_WS_STATE_OPEN) {
        /* Frames the server sent right behind its 101. */
        s_process_frames(ws, data);
    }
}

/* ---------------------------------------------------------------------------------------------------------------- */
/* Channel handler                                                                                                  */
/* ---------------------------------------------------------------------------------------------------------------- */

static int s_handler_process_read_data(struct wscrt_channel_handler *handler, struct wscrt_channel_slot *slot,
                                       struct wscrt_byte_cursor data) {
    (void)slot;
    struct wscrt_websocket *ws = handler->impl;
    switch (ws->state) {
        case WSCRT_WS_STATE_HANDSHAKE:
            s_process_handshake(ws, data);
            break;
        case WSCRT_WS_STATE_OPEN:
            if (!ws->failing) {
                s_process_frames(ws, data);
            }
            break;
        default:
            break; /* shutting down: drop */
    }
    return WSCRT_OP_SUCCESS;
}

static int s_handler_process_write_message(struct wscrt_channel_handler *handler, struct wscrt_channel_slot *slot,
                                           struct wscrt_io_message *message) {
    (void)handler;
    (void)slot;
    (void)message;
    return wscrt_raise_error(WSCRT_ERROR_UNSUPPORTED_OPERATION); /* the websocket is the last handler */
}

static int s_handler_increment_read_window(struct wscrt_channel_handler *handler, struct wscrt_channel_slot *slot,
                                           size_t size) {
    (void)handler;
    (void)slot;
    (void)size;
    return WSCRT_OP_SUCCESS;
}

static int s_handler_shutdown(struct wscrt_channel_handler *handler, struct wscrt_channel_slot *slot,
                              enum wscrt_channel_direction direction, int error_code, bool free_scarce) {
    struct wscrt_websocket *ws = handler->impl;
    struct wscrt_event_loop *loop = wscrt_channel_get_event_loop(ws->channel);
    if (direction == WSCRT_CHANNEL_DIR_READ) {
        if (ws->state == WSCRT_WS_STATE_HANDSHAKE || !ws->setup_reported) {
            int setup_error = error_code;
            if (ws->response_parser_initialized && error_code == WSCRT_ERROR_IO_SOCKET_CLOSED &&
                ws->response.headers_complete && !ws->response.complete &&
                wscrt_http_response_parser_on_eof(&ws->response) == WSCRT_OP_SUCCESS) {
                setup_error = WSCRT_ERROR_WEBSOCKET_UPGRADE_FAILURE; /* a rejection whose body ended at close */
            } else if (error_code == WSCRT_ERROR_IO_SOCKET_CLOSED || error_code == 0) {
                setup_error = WSCRT_ERROR_HTTP_CONNECTION_CLOSED;
            }
            wscrt_event_loop_cancel_task(loop, &ws->handshake_timeout_task);
            s_report_setup(ws, setup_error);
        }
        if (ws->frame_in_progress) {
            s_fail_frame_in_progress(ws, error_code ? error_code : WSCRT_ERROR_WEBSOCKET_CONNECTION_LOST);
            if (ws->options.on_incoming_batch_end) {
                ws->options.on_incoming_batch_end(ws, ws->options.user_data);
            }
        }
        if (ws->state != WSCRT_WS_STATE_SHUT_DOWN) {
            ws->state = WSCRT_WS_STATE_SHUTTING_DOWN;
        }
    } else {
        wscrt_event_loop_cancel_task(loop, &ws->close_timeout_task);
        wscrt_event_loop_cancel_task(loop, &ws->process_pending_task);
        wscrt_event_loop_cancel_task(loop, &ws->handshake_timeout_task);
        ws->state = WSCRT_WS_STATE_SHUT_DOWN;
    }
    return wscrt_channel_slot_on_handler_shutdown_complete(slot, direction, error_code, free_scarce);
}

static size_t s_handler_initial_window_size(struct wscrt_channel_handler *handler) {
    struct wscrt_websocket *ws = handler->impl;
    if (!ws->options.manual_window_management) {
        return WSCRT_WEBSOCKET_UNLIMITED_WINDOW;
    }
    uint64_t window = ws->user_window + WSCRT_WEBSOCKET_WINDOW_SLACK;
    return window > WSCRT_WEBSOCKET_UNLIMITED_WINDOW ? WSCRT_WEBSOCKET_UNLIMITED_WINDOW : (size_t)window;
}

static void s_handler_destroy(struct wscrt_channel_handler *handler) {
    (void)handler; /* the handler is embedded in the websocket, which is ref-counted */
}

static const struct wscrt_channel_handler_vtable s_websocket_handler_vtable = {
    .process_read_data = s_handler_process_read_data,
    .process_write_message = s_handler_process_write_message,
    .increment_read_window = s_handler_increment_read_window,
    .shutdown = s_handler_shutdown,
    .initial_window_size = s_handler_initial_window_size,
    .destroy = s_handler_destroy,
};

/* ---------------------------------------------------------------------------------------------------------------- */
/* Cross-thread work                                                                                                */
/* ---------------------------------------------------------------------------------------------------------------- */

/* Any thread, with the lock held: makes sure the cross-thread task will run. */
static void s_schedule_cross_thread_work_locked(struct wscrt_websocket *ws) {
    if (ws->synced.task_scheduled) {
        return;
    }
    ws->synced.task_scheduled = true;
    s_websocket_acquire(ws); /* released by the task */
    wscrt_event_loop_schedule_task_now(ws->event_loop, &ws->cross_thread_task);
}

static void s_cross_thread_work(struct wscrt_task *task, void *arg, enum wscrt_task_status status) {
    (void)task;
    struct wscrt_websocket *ws = arg;
    struct wscrt_linked_list frames;
    wscrt_linked_list_init(&frames);

    pthread_mutex_lock(&ws->lock);
    wscrt_linked_list_move_all_back(&frames, &ws->synced.frames);
    uint64_t window_increment = ws->synced.window_increment;
    ws->synced.window_increment = 0;
    bool close_requested = ws->synced.close_requested;
    ws->synced.close_requested = false;
    int shutdown_error = ws->synced.shutdown_error;
    ws->synced.shutdown_error = 0;
    ws->synced.task_scheduled = false;
    pthread_mutex_unlock(&ws->lock);

    bool runnable = status == WSCRT_TASK_STATUS_RUN_READY;
    while (!wscrt_linked_list_empty(&frames)) {
        struct wscrt_outgoing_frame *frame =
            WSCRT_CONTAINER_OF(wscrt_linked_list_pop_front(&frames), struct wscrt_outgoing_frame, node);
        if (runnable) {
            s_send_frame_now(ws, frame);
        } else {
            s_complete_frame(frame, WSCRT_ERROR_WEBSOCKET_CONNECTION_CLOSED);
        }
    }
    if (runnable && ws->state == WSCRT_WS_STATE_OPEN) {
        if (shutdown_error != 0) {
            s_on_protocol_failure(ws, shutdown_error);
        } else if (close_requested) {
            /* The close handshake (RFC 6455 7.1.1): frames queued before close() go out first, then CLOSE
             * 1000; incoming data is dropped meanwhile; the connection shuts down cleanly once the peer's
             * CLOSE arrives, or with WSCRT_ERROR_WEBSOCKET_CLOSE_TIMEOUT when it does not in time. Waiting
             * for the peer, rather than closing the socket under it, spares it a reset. */
            ws->discarding = true;
            s_send_close(ws, WSCRT_WEBSOCKET_CLOSE_NORMAL);
            s_arm_close_timeout(ws);
            if (ws->pending.len > 0) {
                s_process_frames(ws, (struct wscrt_byte_cursor){0}); /* held back by the window: drop it */
            }
        } else if (window_increment > 0 && ws->options.manual_window_management) {
            ws->user_window += window_increment;
            size_t slot_increment = window_increment > WSCRT_WEBSOCKET_UNLIMITED_WINDOW
                                        ? WSCRT_WEBSOCKET_UNLIMITED_WINDOW
                                        : (size_t)window_increment;
            if (ws->pending.len > 0 && s_receiving(ws)) {
                s_process_frames(ws, (struct wscrt_byte_cursor){0});
            }
            if (s_receiving(ws)) {
                wscrt_channel_slot_increment_read_window(ws->slot, slot_increment);
            }
        }
    }
    s_websocket_release(ws);
}

/* ---------------------------------------------------------------------------------------------------------------- */
/* Connecting                                                                                                       */
/* ---------------------------------------------------------------------------------------------------------------- */

static void s_on_channel_shutdown(struct wscrt_client_bootstrap *bootstrap, int error_code,
                                  struct wscrt_channel *channel, void *user_data) {
    (void)bootstrap;
    struct wscrt_websocket *ws = user_data;
    ws->state = WSCRT_WS_STATE_SHUT_DOWN;
    if (!ws->setup_reported) {
        /* The channel died before any layer reported (e.g. during TLS or CONNECT). */
        s_report_setup(ws, error_code ? error_code : WSCRT_ERROR_HTTP_CONNECTION_CLOSED);
    }
    if (ws->setup_succeeded) {
        int reported = error_code;
        if (ws->close_received && ws->close_sent) {
            reported = 0; /* the close handshake completed, whatever the socket said after it */
        }
        WSCRT_LOGF_DEBUG(WSCRT_LS_WEBSOCKET, "id=%p: Shutdown complete (%s)", (void *)ws, wscrt_error_name(reported));
        if (ws->options.on_connection_shutdown) {
            ws->options.on_connection_shutdown(ws, reported, ws->options.user_data);
        }
    }
    pthread_mutex_lock(&ws->lock);
    ws->synced.channel_gone = true;
    pthread_mutex_unlock(&ws->lock);
    wscrt_channel_destroy(channel);
    ws->channel = NULL;
    ws->slot = NULL;
    s_websocket_release(ws);
}

/* Installs the websocket handler at the right end and sends the upgrade request. */
static void s_start_upgrade(struct wscrt_websocket *ws) {
    ws->slot = wscrt_channel_slot_new(ws->channel);
    ws->handler.vtable = &s_websocket_handler_vtable;
    ws->handler.allocator = ws->allocator;
    ws->handler.impl = ws;
    struct wscrt_http_response_parser_options parser_options = {
        .max_header_bytes = ws->options.max_response_header_bytes,
    };
    wscrt_http_response_parser_init(&ws->response, ws->allocator, &parser_options);
    ws->response_parser_initialized = true;

    if (wscrt_channel_slot_set_handler(ws->slot, &ws->handler)) {
        s_fail_setup(ws, wscrt_last_error());
        return;
    }
    struct wscrt_byte_buf *encoded = &ws->encoded_request;
    struct wscrt_io_message *request = wscrt_io_message_new(ws->allocator, encoded->len);
    memcpy(request->data.buffer, encoded->buffer, encoded->len);
    request->data.len = encoded->len;
    wscrt_byte_buf_clean_up(encoded);
    if (wscrt_channel_slot_send_write_message(ws->slot, request)) {
        wscrt_io_message_destroy(request);
        s_fail_setup(ws, wscrt_last_error());
    }
}

static void s_advance_setup(struct wscrt_websocket *ws);

static void s_on_tls_negotiated(struct wscrt_channel_handler *handler, int error_code, void *user_data) {
    struct wscrt_websocket *ws = user_data;
    WSCRT_LOGF_DEBUG(WSCRT_LS_WEBSOCKET, "id=%p: TLS %s (%s), version=%s, alpn='%s'", (void *)ws,
                     error_code ? "failed" : "negotiated", wscrt_error_name(error_code),
                     wscrt_tls_handler_version_name(handler), wscrt_tls_handler_protocol(handler));
    if (error_code) {
        s_fail_setup(ws, error_code);
        return;
    }
    bool to_target = !ws->use_proxy || ws->next_stage == WSCRT_WS_STAGE_UPGRADE;
    if (to_target) {
        snprintf(ws->tls_version, sizeof(ws->tls_version), "%s", wscrt_tls_handler_version_name(handler));
        snprintf(ws->alpn_protocol, sizeof(ws->alpn_protocol), "%s", wscrt_tls_handler_protocol(handler));
    }
    s_advance_setup(ws);
}

static void s_on_proxy_connected(struct wscrt_channel_handler *handler, int error_code,
                                 const struct wscrt_http_response_parser *response, void *user_data) {
    (void)handler;
    struct wscrt_websocket *ws = user_data;
    if (error_code) {
        wscrt_event_loop_cancel_task(ws->event_loop, &ws->handshake_timeout_task);
        s_report_setup_with_response(ws, error_code, response);
        s_shutdown_channel(ws, error_code);
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
        s_fail_setup(ws, wscrt_last_error());
    }
}

static void s_start_proxy_connect(struct wscrt_websocket *ws) {
    struct wscrt_proxy_connect_options options = {
        .target_host = ws->target_host,
        .target_port = ws->target_port,
        .auth = ws->proxy_basic_auth ? WSCRT_HTTP_PROXY_AUTH_BASIC : WSCRT_HTTP_PROXY_AUTH_NONE,
        .username = ws->proxy_username,
        .password = ws->proxy_password,
        .on_result = s_on_proxy_connected,
        .user_data = ws,
    };
    struct wscrt_channel_slot *slot = wscrt_channel_slot_new(ws->channel);
    if (!wscrt_proxy_connect_handler_new(ws->allocator, &options, slot)) {
        s_fail_setup(ws, wscrt_last_error());
    }
}

/* Sets up the next layer: [TLS to the first hop] -> [proxy CONNECT] -> [TLS to the target] -> upgrade. */
static void s_advance_setup(struct wscrt_websocket *ws) {
    for (;;) {
        switch (ws->next_stage++) {
            case WSCRT_WS_STAGE_FIRST_HOP_TLS: {
                struct wscrt_tls_options_copy *tls = ws->use_proxy ? &ws->proxy_tls : &ws->target_tls;
                if (tls->set) {
                    s_start_tls(ws, tls);
                    return;
                }
                break;
            }
            case WSCRT_WS_STAGE_PROXY_CONNECT:
                if (ws->use_proxy) {
                    s_start_proxy_connect(ws);
                    return;
                }
                break;
            case WSCRT_WS_STAGE_TARGET_TLS:
                if (ws->use_proxy && ws->target_tls.set) {
                    s_start_tls(ws, &ws->target_tls);
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
        s_report_setup(ws, error_code);
        s_websocket_release(ws);
        return;
    }
    ws->channel = channel;
    ws->event_loop = wscrt_channel_get_event_loop(channel);
    ws->state = WSCRT_WS_STATE_HANDSHAKE;
    /* One deadline for everything between the TCP connection and the 101 (proxy, TLS, upgrade). */
    wscrt_channel_schedule_task_future(
        channel, &ws->handshake_timeout_task,
        wscrt_clock_now_ns() + (uint64_t)ws->options.handshake_timeout_ms * WSCRT_NS_PER_MS);
    s_advance_setup(ws);
}

int wscrt_websocket_client_connect(const struct wscrt_websocket_client_connection_options *options) {
    if (!options || !options->allocator || !options->bootstrap || !options->host || !options->host[0] ||
        !options->handshake_request || !options->on_connection_setup || options->port == 0 ||
        options->port > 65535 || (options->tls_options && !options->tls_options->ctx)) {
        return wscrt_raise_error(WSCRT_ERROR_INVALID_ARGUMENT);
    }
    const struct wscrt_websocket_proxy_options *proxy = options->proxy_options;
    if (proxy && (!proxy->host || !proxy->host[0] || proxy->port == 0 || proxy->port > 65535 ||
                  (proxy->tls_options && !proxy->tls_options->ctx))) {
        return wscrt_raise_error(WSCRT_ERROR_INVALID_ARGUMENT);
    }
    if (wscrt_websocket_validate_handshake_request(options->handshake_request)) {
        return WSCRT_OP_ERR;
    }
    struct wscrt_allocator *allocator = options->allocator;
    struct wscrt_websocket *ws = wscrt_mem_calloc(allocator, 1, sizeof(struct wscrt_websocket));
    ws->allocator = allocator;
    ws->options = *options;
    ws->options.host = NULL; /* copied below */
    ws->options.handshake_request = NULL;
    ws->options.tls_options = NULL;
    ws->options.proxy_options = NULL;
    ws->target_host = s_strdup(allocator, options->host);
    ws->target_port = options->port;
    s_tls_options_copy_init(allocator, &ws->target_tls, options->tls_options, options->host);
    if (proxy) {
        ws->use_proxy = true;
        ws->proxy_basic_auth = proxy->basic_auth;
        ws->proxy_username = s_strdup(allocator, proxy->username);
        ws->proxy_password = s_strdup(allocator, proxy->password);
        s_tls_options_copy_init(allocator, &ws->proxy_tls, proxy->tls_options, proxy->host);
    }
    if (!ws->options.handshake_timeout_ms) {
        ws->options.handshake_timeout_ms = WSCRT_WEBSOCKET_DEFAULT_HANDSHAKE_TIMEOUT_MS;
    }
    if (!ws->options.close_timeout_ms) {
        ws->options.close_timeout_ms = WSCRT_WEBSOCKET_DEFAULT_CLOSE_TIMEOUT_MS;
    }
    ws->user_window = options->manual_window_management ? options->initial_window_size : 0;
    wscrt_ref_count_init(&ws->ref_count, ws, s_websocket_destroy);
    pthread_mutex_init(&ws->lock, NULL);
    wscrt_linked_list_init(&ws->synced.frames);
    wscrt_byte_buf_init(&ws->pending, allocator, 0);
    wscrt_task_init(&ws->cross_thread_task, s_cross_thread_work, ws, "websocket_cross_thread_work");
    wscrt_task_init(&ws->handshake_timeout_task, s_on_handshake_timeout, ws, "websocket_handshake_timeout");
    wscrt_task_init(&ws->close_timeout_task, s_on_close_timeout, ws, "websocket_close_timeout");
    wscrt_task_init(&ws->process_pending_task, s_on_process_pending, ws, "websocket_process_pending");
    struct wscrt_websocket_decoder_options decoder_options = {
        .on_frame_begin = s_on_decoded_frame_begin,
        .on_payload = s_on_decoded_payload,
        .on_frame_complete = s_on_decoded_frame_complete,
        .user_data = ws,
    };
    wscrt_websocket_decoder_init(&ws->decoder, &decoder_options);
    ws->bootstrap = wscrt_client_bootstrap_acquire(options->bootstrap);

    /* Encode the request now (a bad one fails here, synchronously) and keep the key to check the answer. */
    wscrt_byte_buf_init(&ws->encoded_request, allocator, 256);
    struct wscrt_byte_cursor key;
    wscrt_http_request_find_header(options->handshake_request, "Sec-WebSocket-Key", &key);
    wscrt_byte_buf_init(&ws->key, allocator, key.len);
    wscrt_byte_buf_append(&ws->key, key);
    if (wscrt_http_request_encode(options->handshake_request, &ws->encoded_request)) {
        int error_code = wscrt_last_error();
        s_websocket_release(ws);
        return wscrt_raise_error(error_code);
    }

    struct wscrt_socket_channel_options channel_options = {
        .bootstrap = options->bootstrap,
        .host_name = proxy ? proxy->host : options->host,
        .port = proxy ? proxy->port : options->port,
        .socket_options = options->socket_options,
        .on_setup = s_on_channel_setup,
        .on_shutdown = s_on_channel_shutdown,
        .user_data = ws,
    };
    if (wscrt_client_bootstrap_new_socket_channel(&channel_options)) {
        int error_code = wscrt_last_error();
        s_websocket_release(ws);
        return wscrt_raise_error(error_code);
    }
    return WSCRT_OP_SUCCESS;
}

/* ---------------------------------------------------------------------------------------------------------------- */
/* Public API (any thread)                                                                                          */
/* ---------------------------------------------------------------------------------------------------------------- */

int wscrt_websocket_send_frame(struct wscrt_websocket *websocket,
                               const struct wscrt_websocket_send_frame_options *options) {
    uint8_t opcode = options->opcode;
    if (!wscrt_websocket_opcode_is_known(opcode) ||
        (!wscrt_websocket_opcode_is_data(opcode) &&
         (!options->fin || options->payload.len > WSCRT_WEBSOCKET_MAX_CONTROL_PAYLOAD))) {
        return wscrt_raise_error(WSCRT_ERROR_WEBSOCKET_INVALID_FRAME);
    }
    struct wscrt_outgoing_frame *frame = s_outgoing_frame_new(websocket, opcode, options->fin, options->payload,
                                                              options->on_complete, options->user_data);
    if (!frame) {
        return WSCRT_OP_ERR;
    }
    pthread_mutex_lock(&websocket->lock);
    if (websocket->synced.channel_gone) {
        frame->error_code = WSCRT_ERROR_WEBSOCKET_CONNECTION_CLOSED;
    } else if (websocket->synced.close_frame_queued) {
        frame->error_code = WSCRT_ERROR_WEBSOCKET_CLOSE_FRAME_SENT;
    } else if (opcode == WSCRT_WEBSOCKET_OPCODE_CLOSE) {
        websocket->synced.close_frame_queued = true;
    }
    wscrt_linked_list_push_back(&websocket->synced.frames, &frame->node);
    s_schedule_cross_thread_work_locked(websocket);
    pthread_mutex_unlock(&websocket->lock);
    return WSCRT_OP_SUCCESS;
}

void wscrt_websocket_increment_read_window(struct wscrt_websocket *websocket, uint64_t size) {
    if (!websocket->options.manual_window_management || size == 0) {
        return;
    }
    pthread_mutex_lock(&websocket->lock);
    if (!websocket->synced.channel_gone) {
        uint64_t sum = websocket->synced.window_increment + size;
        websocket->synced.window_increment = sum < size ? UINT64_MAX : sum;
        s_schedule_cross_thread_work_locked(websocket);
    }
    pthread_mutex_unlock(&websocket->lock);
}

void wscrt_websocket_close(struct wscrt_websocket *websocket) {
    pthread_mutex_lock(&websocket->lock);
    if (!websocket->synced.channel_gone) {
        websocket->synced.close_requested = true;
        s_schedule_cross_thread_work_locked(websocket);
    }
    pthread_mutex_unlock(&websocket->lock);
}

void wscrt_websocket_shutdown_with_error(struct wscrt_websocket *websocket, int error_code) {
    pthread_mutex_lock(&websocket->lock);
    if (!websocket->synced.channel_gone && websocket->synced.shutdown_error == 0) {
        websocket->synced.shutdown_error = error_code;
        s_schedule_cross_thread_work_locked(websocket);
    }
    pthread_mutex_unlock(&websocket->lock);
}

void wscrt_websocket_release(struct wscrt_websocket *websocket) {
    if (!websocket) {
        return;
    }
    wscrt_websocket_close(websocket);
    s_websocket_release(websocket);
}

const char *wscrt_websocket_get_tls_version(const struct wscrt_websocket *websocket) {
    return websocket->tls_version;
}

const char *wscrt_websocket_get_alpn_protocol(const struct wscrt_websocket *websocket) {
    return websocket->alpn_protocol;
}
