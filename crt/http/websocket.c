/*
 * The public C API of a connection, safe from any thread: requests (frames to
 * send, read-window increments, close, shutdown, a drain-mark check) are recorded under the lock
 * and applied on the event-loop thread by one task, scheduled at most once at
 * a time however many requests arrive before it runs.
 */
#include "common/allocator.h"
#include "common/error.h"
#include "http/websocket_encoder.h"
#include "http/websocket_impl.h"

void wscrt_websocket_schedule_requests_locked(struct wscrt_websocket *ws) {
    if (ws->synced.task_scheduled) {
        return;
    }
    ws->synced.task_scheduled = true;
    wscrt_websocket_acquire_ref(ws); /* released by the task */
    wscrt_event_loop_schedule_task_now(ws->event_loop, &ws->cross_thread_task);
}

/* Takes the drain mark if `queued` bytes are at or below it: true for exactly one taker per mark armed. */
static bool s_take_drain_mark(struct wscrt_websocket *ws, uint64_t queued) {
    uint64_t mark = atomic_load(&ws->drain_mark);
    while (mark != 0 && queued < mark) {
        if (atomic_compare_exchange_weak(&ws->drain_mark, &mark, 0)) {
            return true;
        }
    }
    return false;
}

void wscrt_websocket_check_drain_mark(struct wscrt_websocket *ws) {
    /* Not once the shutdown is being reported (frames sent after it fail here too): the end says it all. */
    if (ws->state != WSCRT_WS_STATE_OPEN && ws->state != WSCRT_WS_STATE_SHUTTING_DOWN) {
        return;
    }
    if (atomic_load_explicit(&ws->drain_mark, memory_order_relaxed) != 0 &&
        s_take_drain_mark(ws, atomic_load(&ws->queued_bytes)) && ws->options.on_send_queue_drained) {
        ws->options.on_send_queue_drained(ws, ws->options.user_data);
    }
}

bool wscrt_websocket_notify_when_queued_at_most(struct wscrt_websocket *websocket, uint64_t bytes) {
    uint64_t want = bytes == UINT64_MAX ? UINT64_MAX : bytes + 1;
    uint64_t mark = atomic_load(&websocket->drain_mark);
    while (mark < want && !atomic_compare_exchange_weak(&websocket->drain_mark, &mark, want)) {
    }
    /* The queue may have come down before the mark was there for the loop thread to see. */
    return s_take_drain_mark(websocket, atomic_load(&websocket->queued_bytes));
}

/* Any thread: gives back the count of a send refused before it was queued. A mark armed meanwhile counted
 * these bytes as queued, and no frame leaving the queue may follow to notice it: the loop checks it. */
static void s_unreserve(struct wscrt_websocket *ws, uint64_t size) {
    atomic_fetch_sub(&ws->queued_bytes, size);
    if (atomic_load(&ws->drain_mark) != 0) {
        pthread_mutex_lock(&ws->lock);
        if (!ws->synced.channel_gone) {
            ws->synced.drain_check = true;
            wscrt_websocket_schedule_requests_locked(ws);
        }
        pthread_mutex_unlock(&ws->lock);
    }
}

/* Loop thread: applies what other threads asked for since the last run (frames, read window, close, shutdown). */
static void s_apply_requests(struct wscrt_task *task, void *arg, enum wscrt_task_status status) {
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
    bool abort_requested = ws->synced.abort_requested;
    int shutdown_error = ws->synced.shutdown_error;
    ws->synced.shutdown_error = 0;
    bool drain_check = ws->synced.drain_check;
    ws->synced.drain_check = false;
    ws->synced.task_scheduled = false;
    pthread_mutex_unlock(&ws->lock);

    bool runnable = status == WSCRT_TASK_STATUS_RUN_READY;
    while (!wscrt_linked_list_empty(&frames)) {
        struct wscrt_outgoing_frame *frame =
            WSCRT_CONTAINER_OF(wscrt_linked_list_pop_front(&frames), struct wscrt_outgoing_frame, node);
        if (runnable) {
            wscrt_websocket_send_frame_now(ws, frame);
        } else {
            wscrt_websocket_complete_frame(frame, WSCRT_ERROR_WEBSOCKET_CONNECTION_CLOSED);
        }
    }
    if (runnable && drain_check) {
        wscrt_websocket_check_drain_mark(ws);
    }
    if (runnable && ws->state == WSCRT_WS_STATE_OPEN) {
        if (abort_requested) {
            wscrt_websocket_shutdown_channel(ws, WSCRT_ERROR_WEBSOCKET_ABORTED);
        } else if (shutdown_error != 0) {
            wscrt_websocket_fail(ws, shutdown_error);
        } else if (close_requested) {
            /* The close handshake (RFC 6455 7.1.1): frames queued before close() go out first, then CLOSE
             * 1000; incoming data is dropped meanwhile; the connection shuts down cleanly once the peer's
             * CLOSE arrives, or with WSCRT_ERROR_WEBSOCKET_CLOSE_TIMEOUT when it does not in time. Waiting
             * for the peer, rather than closing the socket under it, spares it a reset. */
            ws->discarding = true;
            wscrt_websocket_send_close(ws, WSCRT_WEBSOCKET_CLOSE_NORMAL);
            wscrt_websocket_arm_close_timeout(ws);
            if (ws->pending.len > 0) {
                /* Bytes held back by the window: decode them now, and so drop them. */
                wscrt_websocket_process_frames(ws, (struct wscrt_byte_cursor){0});
            }
        } else if (window_increment > 0 && ws->options.manual_window_management) {
            ws->user_window += window_increment;
            size_t slot_increment = window_increment > WSCRT_WEBSOCKET_UNLIMITED_WINDOW
                                        ? WSCRT_WEBSOCKET_UNLIMITED_WINDOW
                                        : (size_t)window_increment;
            if (ws->pending.len > 0 && wscrt_websocket_is_receiving(ws)) {
                wscrt_websocket_process_frames(ws, (struct wscrt_byte_cursor){0});
            }
            if (wscrt_websocket_is_receiving(ws)) {
                wscrt_channel_slot_increment_read_window(ws->slot, slot_increment);
            }
        }
    }
    wscrt_websocket_release_ref(ws);
}
/* ---- the public API (any thread) ---- */

/* RFC 6455 7.4: the codes an endpoint may put in a CLOSE it sends. */
static bool s_close_code_may_be_sent(uint16_t code) {
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

/* A CLOSE payload is empty, or a code that may be sent followed by a UTF-8 reason. */
static int s_check_close_payload(struct wscrt_byte_cursor payload) {
    if (payload.len == 0) {
        return WSCRT_OP_SUCCESS;
    }
    if (payload.len == 1 || !s_close_code_may_be_sent((uint16_t)((payload.ptr[0] << 8) | payload.ptr[1])) ||
        !wscrt_utf8_is_valid(wscrt_byte_cursor_from_array(payload.ptr + 2, payload.len - 2))) {
        return wscrt_raise_error(WSCRT_ERROR_WEBSOCKET_SEND_INVALID_CLOSE);
    }
    return WSCRT_OP_SUCCESS;
}

/*
 * With the lock held: whether a data frame may follow what was sent so far (no CONTINUATION without an
 * open message, no new message inside one, TEXT bytes valid UTF-8 across fragments), and if so the
 * message state after it. Nothing changes when the frame is refused.
 */
static int s_check_data_frame_locked(struct wscrt_websocket *ws, const struct wscrt_websocket_send_frame_options *o) {
    bool continuation = o->opcode == WSCRT_WEBSOCKET_OPCODE_CONTINUATION;
    if (continuation && !ws->synced.send_message_open) {
        return wscrt_raise_error(WSCRT_ERROR_WEBSOCKET_SEND_UNEXPECTED_CONTINUATION);
    }
    if (!continuation && ws->synced.send_message_open) {
        return wscrt_raise_error(WSCRT_ERROR_WEBSOCKET_SEND_EXPECTED_CONTINUATION);
    }
    bool text = continuation ? ws->synced.send_message_text : o->opcode == WSCRT_WEBSOCKET_OPCODE_TEXT;
    if (text) {
        struct wscrt_utf8_validator validator = ws->synced.send_text_validator;
        if (!continuation) {
            wscrt_utf8_validator_reset(&validator);
        }
        if (wscrt_utf8_validator_update(&validator, o->payload) ||
            (o->fin && wscrt_utf8_validator_finalize(&validator))) {
            return wscrt_raise_error(WSCRT_ERROR_WEBSOCKET_SEND_INVALID_UTF8);
        }
        ws->synced.send_text_validator = validator;
    }
    ws->synced.send_message_open = !o->fin;
    ws->synced.send_message_text = text;
    return WSCRT_OP_SUCCESS;
}

int wscrt_websocket_send_frame(struct wscrt_websocket *websocket,
                               const struct wscrt_websocket_send_frame_options *options) {
    uint8_t opcode = options->opcode;
    if (!wscrt_websocket_opcode_is_known(opcode) ||
        (!wscrt_websocket_opcode_is_data(opcode) &&
         (!options->fin || options->payload.len > WSCRT_WEBSOCKET_MAX_CONTROL_PAYLOAD))) {
        return wscrt_raise_error(WSCRT_ERROR_WEBSOCKET_INVALID_FRAME);
    }
    if (opcode == WSCRT_WEBSOCKET_OPCODE_CLOSE && s_check_close_payload(options->payload)) {
        return WSCRT_OP_ERR;
    }
    /* Reserve the frame's place in the send queue's count first: a refused send costs no copy. A frame
     * larger than the limit is accepted into an empty queue, so that any message can be sent. */
    size_t size = wscrt_websocket_frame_header_size(options->payload.len, true) + options->payload.len;
    uint64_t limit = websocket->options.send_queue_limit;
    uint64_t queued_before = atomic_fetch_add(&websocket->queued_bytes, size);
    if (limit != 0 && queued_before != 0 && queued_before + size > limit) {
        s_unreserve(websocket, size);
        return wscrt_raise_error(WSCRT_ERROR_WEBSOCKET_SEND_QUEUE_FULL);
    }
    /* Checked, built and queued under the lock, so frames go out in the order their checks passed. With
     * deflate in use, data frames are also serialized by the deflate state's lock, which alone is held
     * while a whole message is compressed (websocket_deflate_path.c). */
    bool data = wscrt_websocket_opcode_is_data(opcode);
    struct wscrt_websocket_deflate_state *deflate = data ? websocket->deflate : NULL;
    bool deflating = deflate != NULL && deflate->deflater != NULL;
    if (deflating) {
        pthread_mutex_lock(&deflate->lock);
    }
    pthread_mutex_lock(&websocket->lock);
    bool saved_open = websocket->synced.send_message_open;
    bool saved_text = websocket->synced.send_message_text;
    struct wscrt_utf8_validator saved_validator = websocket->synced.send_text_validator;
    struct wscrt_outgoing_frame *frame = NULL;
    if (!data || s_check_data_frame_locked(websocket, options) == WSCRT_OP_SUCCESS) {
        if (deflating && options->fin && opcode != WSCRT_WEBSOCKET_OPCODE_CONTINUATION) {
            pthread_mutex_unlock(&websocket->lock);
            frame = wscrt_websocket_deflate_frame_new(websocket, opcode, options->payload, options->on_complete,
                                                      options->user_data);
            pthread_mutex_lock(&websocket->lock);
        } else {
            frame = wscrt_websocket_outgoing_frame_new(websocket, opcode, options->fin, options->payload,
                                                       options->on_complete, options->user_data);
        }
    }
    if (!frame) {
        int error_code = wscrt_last_error();
        websocket->synced.send_message_open = saved_open;
        websocket->synced.send_message_text = saved_text;
        websocket->synced.send_text_validator = saved_validator;
        pthread_mutex_unlock(&websocket->lock);
        if (deflating) {
            pthread_mutex_unlock(&deflate->lock);
        }
        s_unreserve(websocket, size);
        return wscrt_raise_error(error_code);
    }
    size_t built = frame->message->data.len;
    if (built != size) {
        /* A compressed message is counted at its compressed size. */
        if (built < size) {
            atomic_fetch_sub(&websocket->queued_bytes, size - built);
        } else {
            atomic_fetch_add(&websocket->queued_bytes, built - size);
        }
        size = built;
    }
    frame->queued_size = size;
    if (websocket->synced.channel_gone) {
        frame->error_code = WSCRT_ERROR_WEBSOCKET_CONNECTION_CLOSED;
    } else if (websocket->synced.close_frame_queued) {
        frame->error_code = WSCRT_ERROR_WEBSOCKET_CLOSE_FRAME_SENT;
    } else if (opcode == WSCRT_WEBSOCKET_OPCODE_CLOSE) {
        websocket->synced.close_frame_queued = true;
    }
    wscrt_linked_list_push_back(&websocket->synced.frames, &frame->node);
    wscrt_websocket_schedule_requests_locked(websocket);
    pthread_mutex_unlock(&websocket->lock);
    if (deflating) {
        pthread_mutex_unlock(&deflate->lock);
    }
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
        wscrt_websocket_schedule_requests_locked(websocket);
    }
    pthread_mutex_unlock(&websocket->lock);
}

void wscrt_websocket_close(struct wscrt_websocket *websocket) {
    pthread_mutex_lock(&websocket->lock);
    if (!websocket->synced.channel_gone) {
        websocket->synced.close_requested = true;
        wscrt_websocket_schedule_requests_locked(websocket);
    }
    pthread_mutex_unlock(&websocket->lock);
}

void wscrt_websocket_abort(struct wscrt_websocket *websocket) {
    pthread_mutex_lock(&websocket->lock);
    if (!websocket->synced.channel_gone && !websocket->synced.abort_requested) {
        websocket->synced.abort_requested = true;
        wscrt_websocket_schedule_requests_locked(websocket);
    }
    pthread_mutex_unlock(&websocket->lock);
}

void wscrt_websocket_shutdown_with_error(struct wscrt_websocket *websocket, int error_code) {
    pthread_mutex_lock(&websocket->lock);
    if (!websocket->synced.channel_gone && websocket->synced.shutdown_error == 0) {
        websocket->synced.shutdown_error = error_code;
        wscrt_websocket_schedule_requests_locked(websocket);
    }
    pthread_mutex_unlock(&websocket->lock);
}

void wscrt_websocket_release(struct wscrt_websocket *websocket) {
    if (!websocket) {
        return;
    }
    wscrt_websocket_close(websocket);
    wscrt_websocket_release_ref(websocket);
}

uint64_t wscrt_websocket_get_queued_bytes(const struct wscrt_websocket *websocket) {
    return atomic_load(&((struct wscrt_websocket *)websocket)->queued_bytes);
}

struct wscrt_event_loop *wscrt_websocket_get_event_loop(const struct wscrt_websocket *websocket) {
    return websocket->event_loop;
}

const char *wscrt_websocket_get_tls_version(const struct wscrt_websocket *websocket) {
    return websocket->tls_version != NULL ? websocket->tls_version : "";
}

bool wscrt_websocket_get_tls_session_resumed(const struct wscrt_websocket *websocket) {
    return websocket->tls_session_resumed;
}

const char *wscrt_websocket_get_alpn_protocol(const struct wscrt_websocket *websocket) {
    return websocket->alpn_protocol ? websocket->alpn_protocol : "";
}

const char *wscrt_websocket_get_subprotocol(const struct wscrt_websocket *websocket) {
    return websocket->subprotocol ? websocket->subprotocol : "";
}

void wscrt_websocket_requests_init(struct wscrt_websocket *ws) {
    pthread_mutex_init(&ws->lock, NULL);
    wscrt_linked_list_init(&ws->synced.frames);
    wscrt_task_init(&ws->cross_thread_task, s_apply_requests, ws);
}
