/*
 * Outgoing frames: each is built on the caller's thread (header, then the
 * payload masked in the same pass as the copy), queued in call order, and
 * handed to the channel on the event-loop thread; its completion runs once,
 * when the socket took it or when it cannot be sent. Also the replies the
 * connection owes (PONG, CLOSE echo, failing CLOSE) and the close timeout.
 */
#include <string.h>

#include "common/allocator.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "common/error.h"
#include "common/logging.h"
#include "http/websocket_encoder.h"
#include "http/websocket_impl.h"

/* The frame leaves the send queue's count (written or failed). */
static void s_unqueue(struct wscrt_websocket *ws, struct wscrt_outgoing_frame *frame) {
    if (frame->queued_size > 0) {
        atomic_fetch_sub(&ws->queued_bytes, frame->queued_size);
        frame->queued_size = 0;
        wscrt_websocket_check_drain_mark(ws);
    }
}

void wscrt_websocket_complete_frame(struct wscrt_outgoing_frame *frame, int error_code) {
    struct wscrt_websocket *ws = frame->websocket;
    s_unqueue(ws, frame);
    if (frame->on_complete) {
        frame->on_complete(ws, error_code, frame->user_data);
    }
    struct wscrt_io_message *message = frame->message; /* not handed to the channel: still the frame's */
    if (!frame->in_message) {
        wscrt_mem_release(ws->allocator, frame);
    }
    wscrt_io_message_destroy(message); /* and with it an embedded record */
}

static void s_on_close_timeout(struct wscrt_task *task, void *arg, enum wscrt_task_status status) {
    (void)task;
    struct wscrt_websocket *ws = arg;
    if (status != WSCRT_TASK_STATUS_RUN_READY) {
        return;
    }
    WSCRT_LOGF_DEBUG(WSCRT_LS_WEBSOCKET, "id=%p: The CLOSE handshake did not finish in time", (void *)ws);
    int error_code = ws->fail_after_close ? ws->fail_after_close : WSCRT_ERROR_WEBSOCKET_CLOSE_TIMEOUT;
    wscrt_websocket_shutdown_channel(ws, error_code);
}

void wscrt_websocket_arm_close_timeout(struct wscrt_websocket *ws) {
    if (ws->close_timeout_task != NULL || !ws->channel) {
        return;
    }
    ws->close_timeout_task = wscrt_mem_acquire(ws->allocator, sizeof(struct wscrt_task));
    wscrt_task_init(ws->close_timeout_task, s_on_close_timeout, ws);
    wscrt_channel_schedule_task_future(ws->channel, ws->close_timeout_task,
                                       wscrt_clock_now_ns() + (uint64_t)ws->options.close_timeout_ms * WSCRT_NS_PER_MS);
}

static void s_on_send_blocks_trim(struct wscrt_task *task, void *arg, enum wscrt_task_status status) {
    (void)task;
    struct wscrt_websocket *ws = arg;
    struct wscrt_websocket_send_blocks *blocks = atomic_load_explicit(&ws->send_blocks, memory_order_acquire);
    blocks->trim_scheduled = false;
    if (status == WSCRT_TASK_STATUS_RUN_READY && atomic_load(&ws->queued_bytes) == 0) {
        wscrt_block_cache_trim(blocks->cache); /* sending again: the next empty queue schedules it again */
    }
}

/* Loop thread, when the send queue has just emptied: an idle connection keeps no frame blocks. Without a cache
 * (only small frames sent so far) there is nothing to give back and no timer is set; the frame that makes the
 * cache is written later, and its write schedules the trim. */
static void s_schedule_send_blocks_trim(struct wscrt_websocket *ws) {
    struct wscrt_websocket_send_blocks *blocks = atomic_load_explicit(&ws->send_blocks, memory_order_acquire);
    if (blocks == NULL || blocks->trim_scheduled || ws->state != WSCRT_WS_STATE_OPEN || !ws->channel ||
        atomic_load(&ws->queued_bytes) != 0) {
        return;
    }
    blocks->trim_scheduled = true;
    wscrt_channel_schedule_task_future(ws->channel, &blocks->trim_task,
                                       wscrt_clock_now_ns() +
                                           (uint64_t)WSCRT_WEBSOCKET_SEND_BLOCKS_IDLE_MS * WSCRT_NS_PER_MS);
}

static void s_on_message_written(struct wscrt_channel *channel, struct wscrt_io_message *message, int error_code,
                                 void *user_data) {
    (void)channel;
    struct wscrt_outgoing_frame *frame = user_data;
    struct wscrt_websocket *ws = frame->websocket;
    (void)message; /* destroyed by the socket handler */
    s_unqueue(ws, frame);
    s_schedule_send_blocks_trim(ws);
    if (frame->opcode == WSCRT_WEBSOCKET_OPCODE_CLOSE && ws->fail_after_close) {
        wscrt_websocket_shutdown_channel(ws, ws->fail_after_close);
    } else if (frame->opcode == WSCRT_WEBSOCKET_OPCODE_CLOSE && error_code == 0 &&
               ws->state == WSCRT_WS_STATE_OPEN) {
        ws->close_written = true;
        if (ws->close_received) {
            wscrt_websocket_shutdown_channel(ws, 0);
        } else {
            wscrt_websocket_arm_close_timeout(ws); /* now wait for the peer's CLOSE */
        }
    }
    if (frame->on_complete) {
        frame->on_complete(ws, error_code, frame->user_data);
    }
    if (!frame->in_message) {
        wscrt_mem_release(ws->allocator, frame);
    } /* else freed with the message, by the socket handler, once this returns */
}

void wscrt_websocket_send_frame_now(struct wscrt_websocket *ws, struct wscrt_outgoing_frame *frame) {
    if (frame->error_code != 0) {
        wscrt_websocket_complete_frame(frame, frame->error_code);
        return;
    }
    if (ws->state != WSCRT_WS_STATE_OPEN) {
        wscrt_websocket_complete_frame(frame, WSCRT_ERROR_WEBSOCKET_CONNECTION_CLOSED);
        return;
    }
    if (ws->close_sent) {
        wscrt_websocket_complete_frame(frame, WSCRT_ERROR_WEBSOCKET_CLOSE_FRAME_SENT);
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
        wscrt_websocket_complete_frame(frame, wscrt_last_error());
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

struct wscrt_outgoing_frame *wscrt_websocket_outgoing_frame_new(struct wscrt_websocket *ws, uint8_t opcode, bool fin,
                                                                struct wscrt_byte_cursor payload,
                                                                wscrt_websocket_on_send_complete_fn *on_complete,
                                                                void *user_data) {
    return wscrt_websocket_outgoing_frame_new_rsv(ws, opcode, fin, 0, payload, on_complete, user_data);
}

/* Any thread: where a frame's block of `block_size` bytes comes from; the cache of large blocks is made by the
 * first large frame (of two threads making it at once, one keeps its own and the other lets its go). */
static struct wscrt_allocator *s_frame_allocator(struct wscrt_websocket *ws, size_t block_size) {
    if (block_size < WSCRT_WEBSOCKET_SEND_BLOCK_MIN) {
        return ws->allocator; /* the cache would hand it to its allocator anyway */
    }
    struct wscrt_websocket_send_blocks *blocks = atomic_load_explicit(&ws->send_blocks, memory_order_acquire);
    if (blocks == NULL) {
        uint64_t cached = WSCRT_WEBSOCKET_SEND_BLOCKS_CACHED;
        if (ws->options.send_queue_limit != 0 && ws->options.send_queue_limit < cached) {
            cached = ws->options.send_queue_limit;
        }
        struct wscrt_websocket_send_blocks *made = wscrt_mem_calloc(ws->allocator, 1, sizeof(*made));
        made->cache = wscrt_block_cache_new(ws->allocator, WSCRT_WEBSOCKET_SEND_BLOCK_MIN, (size_t)cached);
        wscrt_task_init(&made->trim_task, s_on_send_blocks_trim, ws);
        if (atomic_compare_exchange_strong_explicit(&ws->send_blocks, &blocks, made, memory_order_acq_rel,
                                                    memory_order_acquire)) {
            blocks = made;
        } else {
            /* `blocks` now holds the other thread's */
            wscrt_block_cache_release(made->cache);
            wscrt_mem_release(ws->allocator, made);
        }
    }
    return wscrt_block_cache_allocator(blocks->cache);
}

struct wscrt_outgoing_frame *wscrt_websocket_outgoing_frame_new_rsv(struct wscrt_websocket *ws, uint8_t opcode,
                                                                    bool fin, uint8_t rsv,
                                                                    struct wscrt_byte_cursor payload,
                                                                    wscrt_websocket_on_send_complete_fn *on_complete,
                                                                    void *user_data) {
    uint8_t masking_key[4];
    if (s_next_masking_key(masking_key)) {
        return NULL;
    }
    size_t header_size = wscrt_websocket_frame_header_size(payload.len, true);
    size_t size = header_size + payload.len;
    struct wscrt_outgoing_frame *frame;
    struct wscrt_io_message *message;
    if (sizeof(struct wscrt_io_message) + size < WSCRT_WEBSOCKET_SEND_BLOCK_MIN) {
        /* Small: one allocation, the record after the bytes (aligned), out of reach of the bytes' capacity. */
        size_t record_at = (size + _Alignof(struct wscrt_outgoing_frame) - 1) &
                           ~(size_t)(_Alignof(struct wscrt_outgoing_frame) - 1);
        message = wscrt_io_message_new(ws->allocator, record_at + sizeof(struct wscrt_outgoing_frame));
        message->data.capacity = size;
        frame = (struct wscrt_outgoing_frame *)(void *)(message->data.buffer + record_at);
        memset(frame, 0, sizeof(*frame));
        frame->in_message = true;
    } else {
        frame = wscrt_mem_calloc(ws->allocator, 1, sizeof(struct wscrt_outgoing_frame));
        message = wscrt_io_message_new(s_frame_allocator(ws, sizeof(struct wscrt_io_message) + size), size);
    }
    frame->websocket = ws;
    frame->opcode = opcode;
    frame->on_complete = on_complete;
    frame->user_data = user_data;
    frame->message = message;
    uint8_t *out = frame->message->data.buffer;
    size_t written = wscrt_websocket_encode_header(out, opcode, fin, rsv, payload.len, masking_key);
    if (payload.len > 0) {
        wscrt_websocket_mask_copy(out + written, payload.ptr, payload.len, masking_key, 0);
    }
    frame->message->data.len = written + payload.len;
    return frame;
}

/* Loop thread: sends a CLOSE the connection decided on itself (close()). */
static void s_send_control_frame(struct wscrt_websocket *ws, uint8_t opcode, struct wscrt_byte_cursor payload) {
    struct wscrt_outgoing_frame *frame = wscrt_websocket_outgoing_frame_new(ws, opcode, true, payload, NULL, NULL);
    if (frame) {
        wscrt_websocket_send_frame_now(ws, frame);
    }
}

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
bool wscrt_websocket_queue_reply(struct wscrt_websocket *ws, uint8_t opcode, struct wscrt_byte_cursor payload) {
    if (!s_deliver_decoded_events(ws)) {
        return false;
    }
    struct wscrt_outgoing_frame *frame = wscrt_websocket_outgoing_frame_new(ws, opcode, true, payload, NULL, NULL);
    if (!frame) {
        return true;
    }
    pthread_mutex_lock(&ws->lock);
    if (opcode == WSCRT_WEBSOCKET_OPCODE_CLOSE) {
        ws->synced.close_frame_queued = true;
    }
    wscrt_linked_list_push_back(&ws->synced.frames, &frame->node);
    wscrt_websocket_schedule_requests_locked(ws);
    pthread_mutex_unlock(&ws->lock);
    return true;
}

void wscrt_websocket_send_close(struct wscrt_websocket *ws, uint16_t status) {
    if (ws->close_sent || ws->state != WSCRT_WS_STATE_OPEN) {
        return;
    }
    uint8_t payload[2] = {(uint8_t)(status >> 8), (uint8_t)(status & 0xFF)};
    s_send_control_frame(ws, WSCRT_WEBSOCKET_OPCODE_CLOSE, wscrt_byte_cursor_from_array(payload, 2));
}

void wscrt_websocket_send_stop(struct wscrt_websocket *ws) {
    if (ws->close_timeout_task != NULL) {
        wscrt_event_loop_cancel_task(ws->event_loop, ws->close_timeout_task);
    }
    struct wscrt_websocket_send_blocks *blocks = atomic_load_explicit(&ws->send_blocks, memory_order_acquire);
    if (blocks != NULL) {
        wscrt_event_loop_cancel_task(ws->event_loop, &blocks->trim_task);
    }
}

void wscrt_websocket_send_clean_up(struct wscrt_websocket *ws) {
    wscrt_mem_release(ws->allocator, ws->close_timeout_task);
    struct wscrt_websocket_send_blocks *blocks = atomic_load_explicit(&ws->send_blocks, memory_order_acquire);
    if (blocks != NULL) {
        wscrt_block_cache_release(blocks->cache); /* frames still in a channel keep it until they are freed */
        wscrt_mem_release(ws->allocator, blocks);
    }
}
