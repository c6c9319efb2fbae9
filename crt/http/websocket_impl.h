#ifndef WSCRT_HTTP_WEBSOCKET_IMPL_H
#define WSCRT_HTTP_WEBSOCKET_IMPL_H
/*
 * Private to crt/http/websocket*.c: the connection object and the functions
 * its files call on each other. One job per file:
 *
 *   websocket_bootstrap.c   setup: options copy, socket channel, [TLS] ->
 *                           [proxy CONNECT] -> [TLS] -> upgrade request, the
 *                           101 validation (websocket_handshake.c), setup report
 *   websocket_connection.c  the live connection: channel handler, decoding and
 *                           delivery within the read window, protocol failures,
 *                           shutdown report
 *   websocket_send.c        outgoing frames: building (masked copy), writing,
 *                           completions, replies (PONG, CLOSE echo), close timeout
 *   websocket_keepalive.c   PINGs on a timer and the pong deadline (ping_interval_ms,
 *                           pong_timeout_ms)
 *   websocket.c             the public API (any thread) and the one task that
 *                           applies its requests on the event-loop thread
 *
 * Extensions negotiated in the handshake (permessage-deflate, subprotocols)
 * are validated by the bootstrap and applied per message by the connection
 * (inflate) and by websocket_send.c (deflate).
 *
 * Threads: fields under "loop thread" are touched only on the channel's
 * event-loop thread; fields under `synced` only with `lock` held.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "common/block_cache.h"
#include "common/linked_list.h"
#include "common/utf8.h"
#include "common/ref_count.h"
#include "http/http_response_parser.h"
#include "http/websocket.h"
#include "http/websocket_decoder.h"
#include "http/websocket_deflate.h"
#include "io/channel.h"
#include "io/event_loop.h"
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
/* Whole messages larger than this fail with 1009 unless configured: large enough for every ordinary
 * message, small enough that a hostile peer cannot make a connection hold much more. */
#define WSCRT_WEBSOCKET_DEFAULT_MAX_MESSAGE_SIZE (16 * 1024 * 1024)

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
    char *host; /* the host connected to: with the port, the peer of the session cache */
};

/* What the connection keeps of its connect options (websocket.h says what each means), defaults applied; the
 * rest is copied into the setup state or used at connect only. Constant after connect. */
struct wscrt_websocket_settings {
    wscrt_websocket_on_connection_setup_fn *on_connection_setup;
    wscrt_websocket_on_connection_shutdown_fn *on_connection_shutdown;
    wscrt_websocket_on_incoming_frame_begin_fn *on_incoming_frame_begin;
    wscrt_websocket_on_incoming_frame_payload_fn *on_incoming_frame_payload;
    wscrt_websocket_on_incoming_frame_complete_fn *on_incoming_frame_complete;
    wscrt_websocket_on_incoming_frame_whole_fn *on_incoming_frame_whole;
    wscrt_websocket_on_incoming_batch_end_fn *on_incoming_batch_end;
    wscrt_websocket_on_incoming_message_fn *on_incoming_message;
    wscrt_websocket_on_send_queue_drained_fn *on_send_queue_drained;
    void *user_data;
    uint64_t send_queue_limit;
    uint64_t max_message_size;
    uint32_t close_timeout_ms;
    uint32_t ping_interval_ms;
    uint32_t pong_timeout_ms;
    bool manual_window_management;
    bool partial_messages;
    bool binary_frame_pieces;
};

/* What only the setup needs: allocated at connect, freed once the connection is open or with the
 * connection (wscrt_websocket_release_setup_resources). Loop thread, except at connect. */
struct wscrt_websocket_setup_state {
    struct wscrt_byte_buf encoded_request; /* the upgrade request, encoded at connect time */
    struct wscrt_byte_buf key;             /* Sec-WebSocket-Key, to check the answer against */
    struct wscrt_byte_buf offered_subprotocols; /* the request's Sec-WebSocket-Protocol value, ditto */
    struct wscrt_tls_options_copy target_tls;
    struct wscrt_tls_options_copy proxy_tls;
    bool use_proxy;
    char *target_host;
    uint32_t target_port;
    char *proxy_username;
    char *proxy_password;
    bool proxy_basic_auth;
    enum wscrt_websocket_stage next_stage;
    uint32_t handshake_timeout_ms;
    size_t max_response_header_bytes;
    struct wscrt_http_response_parser response;
    bool response_parser_initialized;
    /* The address connected to, or those tried (see wscrt_websocket_setup_data); filled by the bootstrap. */
    char remote_address[128];
    /* One deadline for everything between the TCP connection and the 101; cancelled before this state is
     * freed (wscrt_websocket_cancel_handshake_timeout). */
    struct wscrt_task handshake_timeout_task;
};

struct wscrt_outgoing_frame {
    struct wscrt_linked_list_node node;
    struct wscrt_websocket *websocket;
    struct wscrt_io_message *message; /* NULL once handed to the channel */
    wscrt_websocket_on_send_complete_fn *on_complete;
    void *user_data;
    int error_code;     /* for frames failed before they were sent */
    size_t queued_size; /* counted in queued_bytes until written or failed; 0 for replies */
    uint8_t opcode;
    /* A small frame's record lives in its message's block, after the bytes: one allocation per frame, freed
     * with the message (by the socket handler once written, or by wscrt_websocket_complete_frame). */
    bool in_message;
};

#define WSCRT_WEBSOCKET_SEND_BLOCK_MIN (4 * 1024)
/* Frame blocks kept for reuse: as many bytes as the send queue may hold (send_queue_limit), at most this.
 * A sender that keeps the queue near its limit then reuses every block; with less kept, the blocks freed
 * beyond it went back to malloc and the next frames faulted their pages in again (1 MiB sends with 8 MiB
 * queued ran at a third of the speed). */
#define WSCRT_WEBSOCKET_SEND_BLOCKS_CACHED (16 * 1024 * 1024)
#define WSCRT_WEBSOCKET_SEND_BLOCKS_IDLE_MS 250

/* Keepalive on one connection (websocket_keepalive.c). Loop thread, except at connect. */
struct wscrt_websocket_keepalive {
    struct wscrt_task task;    /* one task, reused for every PING and deadline */
    uint64_t task_at_ns;       /* when the task is scheduled; 0 = not scheduled */
    uint64_t next_ping_ns;
    uint64_t pong_deadline_ns; /* 0 = none: no awaited PING, or it is not written yet */
    uint32_t pings_sent;       /* the next PING's payload */
    uint32_t reads;            /* reads from the peer, counted (wrapping) */
    uint32_t reads_at_ping;    /* `reads` when the awaited PING was queued */
    bool awaiting;             /* a PING awaits proof of life (a read after it was queued) */
    bool ping_unwritten;       /* a PING is in the channel, not yet in the socket: no second one */
};

/* Where outgoing frames of at least WSCRT_WEBSOCKET_SEND_BLOCK_MIN bytes are allocated (any thread) and freed
 * (loop thread), to be reused, up to the smaller of send_queue_limit and WSCRT_WEBSOCKET_SEND_BLOCKS_CACHED,
 * until the send queue has been empty for WSCRT_WEBSOCKET_SEND_BLOCKS_IDLE_MS (block_cache.h). */
struct wscrt_websocket_send_blocks {
    struct wscrt_block_cache *cache;
    struct wscrt_task trim_task; /* loop thread: gives the blocks back once the queue has stayed empty */
    bool trim_scheduled;
};

/* permessage-deflate on one connection (websocket_deflate_path.c). */
struct wscrt_websocket_deflate_state {
    struct wscrt_websocket_deflate_config config; /* the offer, and the compressor's settings */
    struct wscrt_websocket_inflater *inflater;    /* loop thread; NULL until the server accepted */
    struct wscrt_websocket_deflater *deflater;    /* any thread, with lock held; ditto */
    struct wscrt_byte_buf scratch;                /* compressed bytes of the message being sent, ditto */
    /* A compressed message's TEXT is checked on the inflated bytes as they come. */
    struct wscrt_utf8_validator inflated_text;
    /* Held by every data-frame send, from its checks until it is queued: the compressor's window follows the
     * order messages go out in, and the connection's `lock` is not held while compressing (the event loop
     * takes it too). */
    pthread_mutex_t lock;
};

struct wscrt_websocket {
    struct wscrt_allocator *allocator;
    /* One reference for the connection (until its channel is destroyed or
     * setup failed), one for the user (until wscrt_websocket_release), one per
     * scheduled cross-thread task. */
    struct wscrt_ref_count ref_count;
    struct wscrt_client_bootstrap *bootstrap;
    struct wscrt_websocket_settings options;
    /* What only the setup needs; NULL once the connection is open (an idle connection keeps none of it). */
    struct wscrt_websocket_setup_state *setup;
    /* What TLS to the target negotiated (and tls_session_resumed below); set before setup is reported,
     * constant afterwards. */
    const char *tls_version; /* OpenSSL's static name ("TLSv1.3"); NULL for ws:// */
    char *alpn_protocol; /* NULL = none negotiated */
    /* The subprotocol the server selected (one the request offered), NUL-terminated; NULL = none. Set before
     * setup is reported, constant afterwards, freed with the connection. */
    char *subprotocol;

    /* Loop thread. */
    struct wscrt_event_loop *event_loop; /* set before setup is reported, then constant */
    struct wscrt_channel *channel;
    struct wscrt_channel_slot *slot;
    struct wscrt_channel_handler handler;
    enum wscrt_websocket_state state;
    bool setup_reported;
    bool setup_succeeded;
    bool tls_session_resumed; /* see tls_version */
    struct wscrt_websocket_decoder decoder;
    struct wscrt_websocket_incoming_frame current_frame; /* while frame_in_progress (below) */
    uint64_t user_window;          /* U, manual mode only */
    struct wscrt_byte_buf pending; /* P: read but not yet processed */
    size_t window_to_return;       /* increments owed to the slot, sent once per batch */
    bool frame_in_progress;
    bool close_sent;
    bool close_written; /* our CLOSE is in the kernel */
    /* close() was called: data frames that begin from now on are read and dropped (no callbacks, no
     * read window), so that the peer's CLOSE can arrive. */
    bool discarding;
    bool current_frame_silent; /* the frame being decoded is dropped, not delivered */
    bool close_received;
    int fail_after_close; /* error to shut down with once our failing CLOSE (1002/1007) is written */
    bool failing;         /* a violation was seen: nothing more is decoded, sends flow until that CLOSE */
    bool callback_failed;
    /* Message mode (websocket_message.c): the data message being joined, when it spans frames or reads (its
     * opcode, and whether the current single-frame message went out without a copy, beside the flags above:
     * no padding). */
    uint8_t message_opcode;
    bool message_delivered;
    struct wscrt_byte_buf message;
    uint64_t partial_frame_received; /* partial messages: payload bytes of the current frame so far */
    /* permessage-deflate (websocket_deflate_path.c): NULL unless offered at connect, and again NULL from the
     * server's answer on unless it accepted, so that a connection without compression holds none of it.
     * Set before setup is reported, then constant until the connection is destroyed. */
    struct wscrt_websocket_deflate_state *deflate;
    char *extensions; /* as negotiated, NUL-terminated; NULL = none */
    /* Made when the close timeout is armed (an open connection holds none), freed with the connection. */
    struct wscrt_task *close_timeout_task;
    /* Keepalive (websocket_keepalive.c): made at connect when ping_interval_ms is set, NULL otherwise (a
     * connection without keepalive holds none of it); freed with the connection. */
    struct wscrt_websocket_keepalive *keepalive;

    /* Bytes of user frames built and not yet written (send_queue_limit); any thread. */
    atomic_uint_least64_t queued_bytes;
    /* The mark of wscrt_websocket_notify_when_queued_at_most plus one, 0 = none armed; any thread. Taken
     * (set to 0) by whoever sees the queue at or below the mark first: the loop thread as frames leave the
     * queue, or the arming thread when the queue is there already. */
    atomic_uint_least64_t drain_mark;
    /* Made by the first frame of at least WSCRT_WEBSOCKET_SEND_BLOCK_MIN bytes (NULL until then: a connection
     * that only sends small frames, or none, holds none of it), then constant; freed with the connection. */
    _Atomic(struct wscrt_websocket_send_blocks *) send_blocks;
    struct wscrt_task cross_thread_task;
    pthread_mutex_t lock;
    struct {
        struct wscrt_linked_list frames; /* to send, or to fail (error_code set) */
        uint64_t window_increment;
        bool close_requested;
        bool abort_requested;
        /* What has been sent of a fragmented data message, in call order (websocket.c checks it). */
        bool send_message_open;
        bool send_message_text;
        struct wscrt_utf8_validator send_text_validator;
        int shutdown_error; /* nonzero: shut down at once with it */
        bool close_frame_queued;
        bool channel_gone; /* shutdown completed: nothing more can be sent */
        bool drain_check; /* a refused send left the queue lower: the loop checks the drain mark */
        bool task_scheduled;
    } synced;
};
static inline void wscrt_websocket_acquire_ref(struct wscrt_websocket *ws) {
    wscrt_ref_count_acquire(&ws->ref_count);
}

static inline void wscrt_websocket_release_ref(struct wscrt_websocket *ws) {
    wscrt_ref_count_release(&ws->ref_count);
}

/* ---- websocket_bootstrap.c (loop thread) ---- */

/* Reports setup once, with the upgrade response when one was parsed. */
void wscrt_websocket_report_setup(struct wscrt_websocket *ws, int error_code);
/* Reports the failed setup and shuts the channel down. */
void wscrt_websocket_fail_setup(struct wscrt_websocket *ws, int error_code);
/* Feeds bytes of the upgrade response; on a valid 101 opens the connection and decodes what follows. */
void wscrt_websocket_process_handshake(struct wscrt_websocket *ws, struct wscrt_byte_cursor data);
/* Frees what only the setup needs (idempotent). */
void wscrt_websocket_release_setup_resources(struct wscrt_websocket *ws);
/* Loop thread: cancels the handshake deadline, if the setup state is still there. */
void wscrt_websocket_cancel_handshake_timeout(struct wscrt_websocket *ws);

/* ---- websocket_connection.c (loop thread) ---- */

extern const struct wscrt_channel_handler_vtable wscrt_websocket_handler_vtable;
/* Initialises what the live connection owns (the decoder, the pending bytes). */
void wscrt_websocket_connection_init(struct wscrt_websocket *ws);
/* The ref-count destructor. */
void wscrt_websocket_destroy(void *object);
void wscrt_websocket_on_channel_shutdown(struct wscrt_client_bootstrap *bootstrap, int error_code,
                                         struct wscrt_channel *channel, void *user_data);
void wscrt_websocket_shutdown_channel(struct wscrt_websocket *ws, int error_code);
/* Fails the connection: CLOSE 1002/1007 (or the decoder's code) behind the answers owed, then shutdown. */
void wscrt_websocket_fail(struct wscrt_websocket *ws, int error_code);
/* Whether incoming bytes are still decoded and delivered. */
bool wscrt_websocket_is_receiving(const struct wscrt_websocket *ws);
/* Decodes pending bytes then `data` within the read window, then flushes the batch. */
void wscrt_websocket_process_frames(struct wscrt_websocket *ws, struct wscrt_byte_cursor data);
/* Ends a batch of events: delivers it and returns the read window it consumed. */
void wscrt_websocket_flush_batch(struct wscrt_websocket *ws);

/* ---- websocket_message.c (loop thread, message mode) ---- */

/* Whether the connection joins data frames into messages (on_incoming_message set). */
static inline bool wscrt_websocket_message_mode(const struct wscrt_websocket *ws) {
    return ws->options.on_incoming_message != NULL;
}
/* The decoder events in message mode; each returns like a decoder callback. */
int wscrt_websocket_message_on_begin(struct wscrt_websocket *ws, const struct wscrt_websocket_frame *frame);
int wscrt_websocket_message_on_payload(struct wscrt_websocket *ws, const struct wscrt_websocket_frame *frame,
                                       struct wscrt_byte_cursor data);
int wscrt_websocket_message_on_complete(struct wscrt_websocket *ws, const struct wscrt_websocket_frame *frame,
                                        struct wscrt_byte_cursor control_payload);
/* A data frame the decoder delivered whole, straight from the read buffer: a single-frame message (not
 * compressed) is delivered at once; with partial messages, any uncompressed frame's payload as one piece (as the
 * three steps would). Returns 1 for any other frame, which then takes the three steps. */
int wscrt_websocket_message_on_whole(struct wscrt_websocket *ws, const struct wscrt_websocket_frame *frame,
                                     struct wscrt_byte_cursor payload);
void wscrt_websocket_message_clean_up(struct wscrt_websocket *ws);
/* Partial messages: delivers a piece of the current message with `more` set (inflated bytes). */
int wscrt_websocket_message_deliver_piece(struct wscrt_websocket *ws, struct wscrt_byte_cursor data);

/* ---- websocket_deflate_path.c (permessage-deflate) ---- */

struct wscrt_websocket_handshake_answer;

/* Connect time: checks and copies options->deflate (WSCRT_ERROR_INVALID_ARGUMENT, before anything is
 * allocated) ... */
int wscrt_websocket_deflate_check_options(const struct wscrt_websocket_client_connection_options *options);
/* ... then copies it, and adds the offer to the encoded upgrade request. */
void wscrt_websocket_deflate_init(struct wscrt_websocket *ws,
                                  const struct wscrt_websocket_client_connection_options *options);
int wscrt_websocket_deflate_add_offer(struct wscrt_websocket *ws, struct wscrt_byte_buf *encoded_request);
/* Loop thread, on a valid 101: sets up what was negotiated (nothing when the server declined). */
int wscrt_websocket_deflate_start(struct wscrt_websocket *ws, const struct wscrt_websocket_handshake_answer *answer);
void wscrt_websocket_deflate_clean_up(struct wscrt_websocket *ws);
/* Loop thread, message mode: a compressed message's payload, then its end (fin). Inflated bytes are joined
 * in ws->message; TEXT is checked as UTF-8 on them. Errors: WSCRT_ERROR_WEBSOCKET_MESSAGE_TOO_BIG at the
 * first inflated byte past max_message_size, ..._INVALID_COMPRESSED_DATA, ..._INVALID_UTF8. */
int wscrt_websocket_inflate_payload(struct wscrt_websocket *ws, struct wscrt_byte_cursor data);
int wscrt_websocket_inflate_finish(struct wscrt_websocket *ws);
/* Any thread, ws->deflate->lock held: the frame of a whole TEXT or BINARY message, compressed (RSV1) unless
 * compressing does not apply to it (websocket_deflate.h). NULL on failure. */
struct wscrt_outgoing_frame *wscrt_websocket_deflate_frame_new(struct wscrt_websocket *ws, uint8_t opcode,
                                                               struct wscrt_byte_cursor payload,
                                                               wscrt_websocket_on_send_complete_fn *on_complete,
                                                               void *user_data);

/* ---- websocket_send.c ---- */

/* Loop thread: stops the timers of sending (the close timeout, the block cache's trim; the channel is shutting
 * down) ... */
void wscrt_websocket_send_stop(struct wscrt_websocket *ws);
/* ... and frees what sending owns (frames still in a channel keep the block cache until they are freed). */
void wscrt_websocket_send_clean_up(struct wscrt_websocket *ws);
/* Any thread: the frame's bytes (header, then the payload masked as it is copied). NULL on failure. */
struct wscrt_outgoing_frame *wscrt_websocket_outgoing_frame_new(struct wscrt_websocket *ws, uint8_t opcode, bool fin,
                                                                struct wscrt_byte_cursor payload,
                                                                wscrt_websocket_on_send_complete_fn *on_complete,
                                                                void *user_data);
/* The same with RSV bits (WSCRT_WEBSOCKET_RSV1_COMPRESSED for a compressed message). */
struct wscrt_outgoing_frame *wscrt_websocket_outgoing_frame_new_rsv(struct wscrt_websocket *ws, uint8_t opcode,
                                                                    bool fin, uint8_t rsv,
                                                                    struct wscrt_byte_cursor payload,
                                                                    wscrt_websocket_on_send_complete_fn *on_complete,
                                                                    void *user_data);
/* Loop thread: hands a frame to the channel, or fails it. */
void wscrt_websocket_send_frame_now(struct wscrt_websocket *ws, struct wscrt_outgoing_frame *frame);
/* Loop thread: completes a frame that will not be sent. */
void wscrt_websocket_complete_frame(struct wscrt_outgoing_frame *frame, int error_code);
/* Loop thread: queues a PONG, CLOSE echo or failing CLOSE behind the events decoded so far. */
bool wscrt_websocket_queue_reply(struct wscrt_websocket *ws, uint8_t opcode, struct wscrt_byte_cursor payload);
/* Loop thread: CLOSE with this status, unless one was sent. */
void wscrt_websocket_send_close(struct wscrt_websocket *ws, uint16_t status);
/* Loop thread: bounds the close handshake. Armed once. */
void wscrt_websocket_arm_close_timeout(struct wscrt_websocket *ws);

/* ---- websocket_keepalive.c (loop thread) ---- */

/* Connect time: makes the keepalive state when ping_interval_ms is set. */
void wscrt_websocket_keepalive_init(struct wscrt_websocket *ws);
void wscrt_websocket_keepalive_clean_up(struct wscrt_websocket *ws);
/* The connection is open: the first PING is due in ping_interval_ms (no-op when keepalive is off). */
void wscrt_websocket_keepalive_start(struct wscrt_websocket *ws);
/* Bytes arrived from the peer: proof of life for the PING awaiting it. */
static inline void wscrt_websocket_keepalive_on_read(struct wscrt_websocket *ws) {
    if (ws->keepalive) {
        ws->keepalive->reads++;
    }
}
/* The channel is shutting down: no PING or deadline runs after this. */
void wscrt_websocket_keepalive_stop(struct wscrt_websocket *ws);

/* ---- websocket.c ---- */

/* Initialises the lock, the synced requests and their task. */
void wscrt_websocket_requests_init(struct wscrt_websocket *ws);
/* Any thread, with the lock held: makes sure the requests task will run. */
void wscrt_websocket_schedule_requests_locked(struct wscrt_websocket *ws);
/* Loop thread, after bytes left the queue: runs on_send_queue_drained if that reached the drain mark. */
void wscrt_websocket_check_drain_mark(struct wscrt_websocket *ws);

#endif
