/*
 * Keepalive: PINGs on a timer and a deadline for proof of life, on the
 * connection's event loop (options ping_interval_ms and pong_timeout_ms,
 * documented in websocket.h).
 *
 * One task, in the keepalive state, serves both timers: it is scheduled
 * for the earlier of the next PING and the pong deadline, and rescheduled
 * each time it runs. A PING is due every ping_interval_ms from the open,
 * whatever else flows; while the previous PING is still in the channel (not
 * yet written, e.g. behind a large user message) no second one is queued, so
 * a stalled writer does not pile PINGs up. The pong deadline starts when a
 * PING is written to the socket (its completion), not when it is queued, so
 * a long send queue does not make a live peer look dead; any bytes read from
 * the peer after the PING was queued count as proof of life (the handler
 * counts reads; write completions run in a later task than the write, so the
 * PONG may be read before the PING's completion). The deadline of the
 * earliest unanswered PING stands: later PINGs do not extend it.
 *
 * Costs: no thread; a small allocation per connection that uses keepalive (none
 * for one that does not); per PING, the frame (its struct and its io message,
 * as for any frame sent) and nothing else; per read, one store.
 * Stopped in the handler's write-side shutdown (websocket_connection.c), before
 * the channel and the connection can go away.
 */
#include "common/allocator.h"
#include "common/clock.h"
#include "common/error.h"
#include "common/logging.h"
#include "http/websocket_impl.h"

/* Whether PINGs still go out: open, and no close handshake or failure under way. */
static bool s_active(const struct wscrt_websocket *ws) {
    return ws->state == WSCRT_WS_STATE_OPEN && ws->channel && !ws->failing && !ws->close_sent &&
           !ws->close_received && !ws->discarding;
}

/* Schedules the task for the earlier of the next PING and the pong deadline (moving it if needed). */
static void s_schedule(struct wscrt_websocket *ws) {
    struct wscrt_websocket_keepalive *ka = ws->keepalive;
    uint64_t at = ka->next_ping_ns;
    if (ka->pong_deadline_ns != 0 && ka->pong_deadline_ns < at) {
        at = ka->pong_deadline_ns;
    }
    if (ka->task_at_ns == at) {
        return;
    }
    if (ka->task_at_ns != 0) {
        wscrt_event_loop_cancel_task(ws->event_loop, &ka->task);
    }
    ka->task_at_ns = at;
    wscrt_event_loop_schedule_task_future(ws->event_loop, &ka->task, at);
}

/* The PING is in the socket (error 0), or failed: its pong deadline starts now. */
static void s_on_ping_written(struct wscrt_websocket *ws, int error_code, void *user_data) {
    (void)user_data;
    struct wscrt_websocket_keepalive *ka = ws->keepalive;
    ka->ping_unwritten = false;
    if (error_code != 0 || !s_active(ws) || ws->options.pong_timeout_ms == 0) {
        return;
    }
    if (ka->awaiting && ka->pong_deadline_ns == 0) {
        ka->pong_deadline_ns =
            wscrt_clock_now_ns() + (uint64_t)ws->options.pong_timeout_ms * WSCRT_NS_PER_MS;
        s_schedule(ws);
    }
}

static void s_send_ping(struct wscrt_websocket *ws) {
    struct wscrt_websocket_keepalive *ka = ws->keepalive;
    uint32_t counter = ka->pings_sent++;
    uint8_t payload[4] = {(uint8_t)(counter >> 24), (uint8_t)(counter >> 16), (uint8_t)(counter >> 8),
                          (uint8_t)counter};
    /* Built like a reply: not counted in queued_bytes, so not limited by send_queue_limit. */
    struct wscrt_outgoing_frame *frame = wscrt_websocket_outgoing_frame_new(
        ws, WSCRT_WEBSOCKET_OPCODE_PING, true, wscrt_byte_cursor_from_array(payload, sizeof(payload)),
        s_on_ping_written, NULL);
    if (!frame) {
        return; /* no random bytes for the mask: try again at the next interval */
    }
    ka->ping_unwritten = true;
    if (!ka->awaiting) {
        ka->awaiting = true;
        ka->reads_at_ping = ka->reads;
    }
    wscrt_websocket_send_frame_now(ws, frame);
}

/* Whether the peer cannot be heard because the user holds the read window at 0. */
static bool s_reading_stopped_by_user(const struct wscrt_websocket *ws) {
    return ws->options.manual_window_management && ws->user_window == 0;
}

static void s_on_keepalive_task(struct wscrt_task *task, void *arg, enum wscrt_task_status status) {
    (void)task;
    struct wscrt_websocket *ws = arg;
    if (status != WSCRT_TASK_STATUS_RUN_READY) {
        return; /* cancelled (moved or stopped): task_at_ns was updated by whoever cancelled */
    }
    struct wscrt_websocket_keepalive *ka = ws->keepalive;
    ka->task_at_ns = 0;
    if (!s_active(ws)) {
        return;
    }
    uint64_t now = wscrt_clock_now_ns();
    if (ka->awaiting) {
        if (ka->reads != ka->reads_at_ping || s_reading_stopped_by_user(ws)) {
            ka->awaiting = false;
            ka->pong_deadline_ns = 0;
        } else if (ka->pong_deadline_ns != 0 && now >= ka->pong_deadline_ns) {
            WSCRT_LOGF_DEBUG(WSCRT_LS_WEBSOCKET, "id=%p: Nothing arrived within %u ms of a PING", (void *)ws,
                             ws->options.pong_timeout_ms);
            wscrt_websocket_fail(ws, WSCRT_ERROR_WEBSOCKET_PING_TIMEOUT);
            return;
        }
    }
    if (now >= ka->next_ping_ns) {
        ka->next_ping_ns = now + (uint64_t)ws->options.ping_interval_ms * WSCRT_NS_PER_MS;
        if (!ka->ping_unwritten) {
            s_send_ping(ws);
        }
    }
    if (s_active(ws)) {
        s_schedule(ws);
    }
}

void wscrt_websocket_keepalive_init(struct wscrt_websocket *ws) {
    if (ws->options.ping_interval_ms == 0) {
        return;
    }
    struct wscrt_websocket_keepalive *ka = wscrt_mem_calloc(ws->allocator, 1, sizeof(*ka));
    wscrt_task_init(&ka->task, s_on_keepalive_task, ws);
    ws->keepalive = ka;
}

void wscrt_websocket_keepalive_clean_up(struct wscrt_websocket *ws) {
    wscrt_mem_release(ws->allocator, ws->keepalive); /* stopped before: nothing is scheduled */
    ws->keepalive = NULL;
}

void wscrt_websocket_keepalive_start(struct wscrt_websocket *ws) {
    struct wscrt_websocket_keepalive *ka = ws->keepalive;
    if (ka == NULL || !s_active(ws)) {
        return;
    }
    ka->next_ping_ns = wscrt_clock_now_ns() + (uint64_t)ws->options.ping_interval_ms * WSCRT_NS_PER_MS;
    s_schedule(ws);
}

void wscrt_websocket_keepalive_stop(struct wscrt_websocket *ws) {
    struct wscrt_websocket_keepalive *ka = ws->keepalive;
    if (ka != NULL && ka->task_at_ns != 0) {
        ka->task_at_ns = 0;
        ka->pong_deadline_ns = 0;
        ka->awaiting = false;
        wscrt_event_loop_cancel_task(ws->event_loop, &ka->task);
    }
}
