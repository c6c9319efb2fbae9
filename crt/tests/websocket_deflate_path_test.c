/*
 * permessage-deflate on a live message-mode connection (websocket_deflate_path.c), end to end against
 * a scripted server writing exact bytes: the offer in the request, strict reading of the answer, the
 * RFC 7692 7.2.3 examples as hex literals both ways, RSV1 rules, the inflated-size cap (a bomb refused
 * with memory near the cap), invalid DEFLATE data and invalid inflated UTF-8.
 */
#include <stdatomic.h>
#include <zlib.h>

#include "http/websocket_deflate.h"
#include "http/websocket_impl.h" /* white-box: whether the connection still holds deflate state */
#include "test_hex.h"
#include "websocket_fixture.h"

/* ---- an allocator that records its peak of live bytes (wraps the test's tracking allocator) ---- */

struct peak_allocator {
    struct wscrt_allocator base;
    struct wscrt_allocator *wrapped;
    atomic_size_t live;
    atomic_size_t peak;
};

#define S_PREFIX 16

static void s_peak_note(struct peak_allocator *p, size_t live) {
    size_t peak = atomic_load(&p->peak);
    while (live > peak && !atomic_compare_exchange_weak(&p->peak, &peak, live)) {
    }
}

static void *s_peak_acquire(struct wscrt_allocator *allocator, size_t size) {
    struct peak_allocator *p = allocator->impl;
    uint8_t *block = wscrt_mem_acquire(p->wrapped, size + S_PREFIX);
    memcpy(block, &size, sizeof(size));
    s_peak_note(p, atomic_fetch_add(&p->live, size) + size);
    return block + S_PREFIX;
}

static void s_peak_release(struct wscrt_allocator *allocator, void *ptr) {
    struct peak_allocator *p = allocator->impl;
    uint8_t *block = (uint8_t *)ptr - S_PREFIX;
    size_t size;
    memcpy(&size, block, sizeof(size));
    atomic_fetch_sub(&p->live, size);
    wscrt_mem_release(p->wrapped, block);
}

static void *s_peak_realloc(struct wscrt_allocator *allocator, void *ptr, size_t old_size, size_t new_size) {
    void *fresh = s_peak_acquire(allocator, new_size);
    if (ptr) {
        memcpy(fresh, ptr, old_size < new_size ? old_size : new_size);
        s_peak_release(allocator, ptr);
    }
    return fresh;
}

static void s_peak_init(struct peak_allocator *p, struct wscrt_allocator *wrapped) {
    memset(p, 0, sizeof(*p));
    p->base = (struct wscrt_allocator){s_peak_acquire, s_peak_release, s_peak_realloc, p};
    p->wrapped = wrapped;
}

/* ---- helpers ---- */

static const struct wscrt_websocket_deflate_config s_plain_offer = {.offer = {.client_max_window_bits = 15}};

/* Connects offering `config`, checks the offer line, answers 101 with `answer` ("" = declined). */
static int s_connect_with_answer(struct fixture *f, struct wscrt_allocator *allocator,
                                 const struct wscrt_websocket_deflate_config *config, uint64_t max_size,
                                 const char *expected_offer, const char *answer) {
    ASSERT_SUCCESS(s_fixture_init(f, allocator));
    f->message_mode = true;
    f->max_message_size = max_size;
    f->deflate = config;
    ASSERT_SUCCESS(s_fixture_connect(f, false, 0));
    ASSERT_SUCCESS(s_server_accept_only(&f->server));
    char head[4096];
    ASSERT_SUCCESS(s_server_read_head(&f->server, head, sizeof(head)));
    ASSERT_TRUE(strstr(head, expected_offer) != NULL);
    const char *key = strstr(head, "Sec-WebSocket-Key: ") + strlen("Sec-WebSocket-Key: ");
    char key_copy[64];
    size_t key_len = strcspn(key, "\r");
    memcpy(key_copy, key, key_len);
    key_copy[key_len] = '\0';
    char extra[256] = "";
    if (answer[0]) {
        snprintf(extra, sizeof(extra), "Sec-WebSocket-Extensions: %s\r\n", answer);
    }
    ASSERT_SUCCESS(s_server_send_101_with(allocator, &f->server, key_copy, extra));
    ASSERT_TRUE(s_wait_for(&f->recorder, &f->recorder.setup_count, 1));
    return 0;
}

static int s_negotiate(struct fixture *f, struct wscrt_allocator *allocator, const char *answer) {
    ASSERT_SUCCESS(s_connect_with_answer(f, allocator, &s_plain_offer, 0,
                                         "\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n",
                                         answer));
    ASSERT_INT_EQ(0, f->recorder.setup_error);
    return 0;
}

static int s_send_hex(struct fixture *f, const char *hex) {
    uint8_t bytes[256];
    size_t len = s_hex_to_array(bytes, sizeof(bytes), hex);
    return s_server_send(&f->server, bytes, len);
}

/* ---- negotiation ---- */

static int s_test_the_offer_is_sent_and_the_answer_is_exposed(struct wscrt_allocator *allocator) {
    struct fixture f;
    ASSERT_SUCCESS(s_negotiate(&f, allocator, "permessage-deflate; server_max_window_bits=10"));
    ASSERT_TRUE(strcmp("permessage-deflate; server_max_window_bits=10",
                       wscrt_websocket_get_extensions(f.recorder.websocket)) == 0);
    ASSERT_TRUE(f.recorder.websocket->deflate != NULL && f.recorder.websocket->deflate->deflater != NULL);
    return s_fixture_clean_up(&f);
}

static int s_test_a_declined_offer_leaves_messages_uncompressed(struct wscrt_allocator *allocator) {
    struct fixture f;
    ASSERT_SUCCESS(s_negotiate(&f, allocator, ""));
    ASSERT_TRUE(strcmp("", wscrt_websocket_get_extensions(f.recorder.websocket)) == 0);
    /* The offer's state went with the declining answer: an open connection without deflate holds none. */
    ASSERT_TRUE(f.recorder.websocket->deflate == NULL);
    struct wscrt_websocket_send_frame_options send = {
        .opcode = WSCRT_WEBSOCKET_OPCODE_TEXT, .fin = true, .payload = wscrt_byte_cursor_from_c_str("Hello")};
    ASSERT_SUCCESS(wscrt_websocket_send_frame(f.recorder.websocket, &send));
    uint8_t payload[64];
    size_t len = 0;
    ASSERT_INT_EQ(0x1, s_server_read_frame(&f.server, payload, sizeof(payload), &len));
    ASSERT_UINT_EQ(0x81, f.server.last_frame_byte0);
    /* RSV1 without deflate negotiated is a protocol error. */
    ASSERT_SUCCESS(s_send_hex(&f, "c1 07 f2 48 cd c9 c9 07 00"));
    ASSERT_SUCCESS(s_expect_client_failure(&f, 1002, WSCRT_ERROR_WEBSOCKET_RESERVED_BITS, 0));
    return s_fixture_clean_up(&f);
}

static int s_test_a_bad_answer_fails_the_setup_with_the_response(struct wscrt_allocator *allocator) {
    struct fixture f;
    ASSERT_SUCCESS(s_connect_with_answer(&f, allocator, &s_plain_offer, 0, "permessage-deflate",
                                         "permessage-deflate; server_max_window_bits=7"));
    ASSERT_INT_EQ(WSCRT_ERROR_WEBSOCKET_BAD_EXTENSION_PARAMETER, f.recorder.setup_error);
    ASSERT_INT_EQ(101, f.recorder.setup_status);
    return s_fixture_clean_up(&f);
}

static int s_test_a_required_parameter_missing_from_the_answer_fails(struct wscrt_allocator *allocator) {
    static const struct wscrt_websocket_deflate_config offer = {
        .offer = {.server_no_context_takeover = true, .server_max_window_bits = 10}};
    struct fixture f;
    ASSERT_SUCCESS(s_connect_with_answer(
        &f, allocator, &offer, 0, "permessage-deflate; server_max_window_bits=10; server_no_context_takeover",
        "permessage-deflate; server_max_window_bits=10"));
    ASSERT_INT_EQ(WSCRT_ERROR_WEBSOCKET_EXTENSION_PARAMETER_NOT_ALLOWED, f.recorder.setup_error);
    return s_fixture_clean_up(&f);
}

static int s_test_deflate_needs_message_mode(struct wscrt_allocator *allocator) {
    struct fixture f;
    ASSERT_SUCCESS(s_fixture_init(&f, allocator));
    f.deflate = &s_plain_offer;
    ASSERT_ERROR(WSCRT_ERROR_INVALID_ARGUMENT, s_fixture_connect(&f, false, 0));
    return s_fixture_clean_up(&f);
}

/* ---- receiving (RFC 7692 7.2.3) ---- */

static int s_expect_messages(struct fixture *f, int count, const char *joined) {
    ASSERT_TRUE(s_wait_for(&f->recorder, &f->recorder.message_count, count));
    ASSERT_INT_EQ(count, f->recorder.message_count);
    ASSERT_BYTES_EQ(joined, strlen(joined), f->recorder.payload, f->recorder.payload_len);
    return 0;
}

static int s_test_compressed_messages_are_inflated(struct wscrt_allocator *allocator) {
    struct fixture f;
    ASSERT_SUCCESS(s_negotiate(&f, allocator, "permessage-deflate"));
    ASSERT_SUCCESS(s_send_hex(&f, "c1 07 f2 48 cd c9 c9 07 00"));             /* 7.2.3.1 one frame */
    ASSERT_SUCCESS(s_send_hex(&f, "41 03 f2 48 cd 80 04 c9 c9 07 00"));       /* 7.2.3.1 two frames */
    ASSERT_SUCCESS(s_send_hex(&f, "c1 0b 00 05 00 fa ff 48 65 6c 6c 6f 00")); /* 7.2.3.3 stored block */
    ASSERT_SUCCESS(s_send_hex(&f, "c1 08 f3 48 cd c9 c9 07 00 00"));          /* 7.2.3.4 BFINAL set */
    ASSERT_SUCCESS(s_send_hex(&f, "c2 01 00"));                               /* 7.2.3.6 empty, binary */
    ASSERT_SUCCESS(s_expect_messages(&f, 5, "HelloHelloHelloHello"));
    ASSERT_UINT_EQ(0, f.recorder.message_lengths[4]);
    ASSERT_INT_EQ(WSCRT_WEBSOCKET_OPCODE_BINARY, f.recorder.message_opcodes[4]);
    return s_fixture_clean_up(&f);
}

static int s_test_the_server_context_is_taken_over_between_messages(struct wscrt_allocator *allocator) {
    struct fixture f;
    ASSERT_SUCCESS(s_negotiate(&f, allocator, "permessage-deflate"));
    /* 7.2.3.2: the second "Hello" refers back into the first. */
    ASSERT_SUCCESS(s_send_hex(&f, "c1 07 f2 48 cd c9 c9 07 00 c1 05 f2 00 11 00 00"));
    ASSERT_SUCCESS(s_expect_messages(&f, 2, "HelloHello"));
    return s_fixture_clean_up(&f);
}

static int s_test_a_control_frame_between_compressed_fragments_is_delivered_first(
    struct wscrt_allocator *allocator) {
    struct fixture f;
    ASSERT_SUCCESS(s_negotiate(&f, allocator, "permessage-deflate"));
    ASSERT_SUCCESS(s_send_hex(&f, "41 03 f2 48 cd 89 01 70 80 04 c9 c9 07 00"));
    ASSERT_SUCCESS(s_expect_messages(&f, 2, "pHello"));
    ASSERT_INT_EQ(WSCRT_WEBSOCKET_OPCODE_PING, f.recorder.message_opcodes[0]);
    return s_fixture_clean_up(&f);
}

/* Frames the client refuses once permessage-deflate is negotiated: its CLOSE status and the shutdown error. */
struct s_refused_frame {
    const char *name;
    const char *hex;
    uint16_t status;
    int error;
};

static const struct s_refused_frame s_refused_frames[] = {
    {"RSV1 on a continuation fails with 1002", "41 03 f2 48 cd c0 04 c9 c9 07 00", 1002,
     WSCRT_ERROR_WEBSOCKET_MISPLACED_RSV1},
    {"RSV1 on a control frame fails with 1002", "c9 01 70", 1002, WSCRT_ERROR_WEBSOCKET_MISPLACED_RSV1},
    /* BFINAL, block type 3 (reserved) */
    {"invalid deflate data fails with 1007", "c2 01 07", 1007, WSCRT_ERROR_WEBSOCKET_INVALID_COMPRESSED_DATA},
    /* a stored block holding 0xff */
    {"inflated text that is not UTF-8 fails with 1007", "c1 06 00 01 00 fe ff ff", 1007,
     WSCRT_ERROR_WEBSOCKET_INVALID_UTF8},
};

static int s_check_refused_frame(struct wscrt_allocator *allocator, const struct s_refused_frame *c) {
    struct fixture f;
    ASSERT_SUCCESS(s_negotiate(&f, allocator, "permessage-deflate"));
    ASSERT_SUCCESS(s_send_hex(&f, c->hex));
    ASSERT_SUCCESS(s_expect_client_failure(&f, c->status, c->error, 0));
    return s_fixture_clean_up(&f);
}

static int s_test_each_refused_frame_closes_with_its_status_and_error(struct wscrt_allocator *allocator) {
    int failures = 0;
    for (size_t i = 0; i < WSCRT_COUNT_OF(s_refused_frames); ++i) {
        failures += WSCRT_CASE(s_refused_frames[i].name, s_check_refused_frame(allocator, &s_refused_frames[i]));
    }
    return failures;
}

/* `zeros` zero bytes as raw DEFLATE, tail removed, behind a BINARY frame header with RSV1. */
static int s_make_bomb(struct wscrt_byte_buf *out, size_t zeros) {
    z_stream z;
    memset(&z, 0, sizeof(z));
    ASSERT_INT_EQ(Z_OK, deflateInit2(&z, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY));
    static uint8_t input[64 * 1024];
    uint8_t compressed[256 * 1024];
    size_t len = 0;
    while (zeros > 0) {
        size_t n = zeros < sizeof(input) ? zeros : sizeof(input);
        zeros -= n;
        z.next_in = input;
        z.avail_in = (uInt)n;
        z.next_out = compressed + len;
        z.avail_out = (uInt)(sizeof(compressed) - len);
        ASSERT_INT_EQ(Z_OK, deflate(&z, zeros == 0 ? Z_SYNC_FLUSH : Z_NO_FLUSH));
        ASSERT_INT_EQ(0, (int)z.avail_in);
        len = sizeof(compressed) - z.avail_out;
    }
    deflateEnd(&z);
    len -= 4;
    uint8_t header[10] = {0xC2, 127};
    for (int i = 0; i < 8; ++i) {
        header[2 + i] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
    }
    wscrt_byte_buf_append_dynamic(out, wscrt_byte_cursor_from_array(header, sizeof(header)));
    return wscrt_byte_buf_append_dynamic(out, wscrt_byte_cursor_from_array(compressed, len));
}

static int s_test_a_compression_bomb_is_refused_at_the_cap_with_memory_near_it(struct wscrt_allocator *allocator) {
    struct peak_allocator peak;
    s_peak_init(&peak, allocator);
    const uint64_t cap = 1024 * 1024;
    struct fixture f;
    ASSERT_SUCCESS(s_connect_with_answer(&f, &peak.base, &s_plain_offer, cap, "permessage-deflate",
                                         "permessage-deflate"));
    ASSERT_INT_EQ(0, f.recorder.setup_error);
    size_t before = atomic_load(&peak.live);
    atomic_store(&peak.peak, before);
    /* 256 MiB of zeros in about 250 KiB on the wire. */
    struct wscrt_byte_buf bomb;
    wscrt_byte_buf_init(&bomb, allocator, 0);
    ASSERT_SUCCESS(s_make_bomb(&bomb, 256u * 1024 * 1024));
    ASSERT_TRUE(bomb.len < 300 * 1024);
    s_server_send(&f.server, bomb.buffer, bomb.len); /* may stop short: the client fails and closes */
    wscrt_byte_buf_clean_up(&bomb);
    ASSERT_SUCCESS(s_expect_client_failure(&f, 1009, WSCRT_ERROR_WEBSOCKET_MESSAGE_TOO_BIG, 0));
    size_t grown = atomic_load(&peak.peak) - before;
    fprintf(stderr, "  bomb: peak growth %zu bytes for a cap of %llu\n", grown, (unsigned long long)cap);
    /* The joined message (at most the cap, grown by doubling) and zlib's state; nothing like 256 MiB. */
    ASSERT_TRUE(grown < 2 * cap + 512 * 1024);
    return s_fixture_clean_up(&f);
}

static int s_test_a_compressed_message_within_the_cap_is_delivered_whole(struct wscrt_allocator *allocator) {
    struct fixture f;
    ASSERT_SUCCESS(s_connect_with_answer(&f, allocator, &s_plain_offer, 5, "permessage-deflate",
                                         "permessage-deflate"));
    ASSERT_SUCCESS(s_send_hex(&f, "c1 07 f2 48 cd c9 c9 07 00")); /* exactly 5 bytes inflated */
    ASSERT_SUCCESS(s_expect_messages(&f, 1, "Hello"));
    ASSERT_SUCCESS(s_send_hex(&f, "c1 0c 00 06 00 f9 ff 48 65 6c 6c 6f 21 00")); /* "Hello!": 6 > 5 */
    ASSERT_SUCCESS(s_expect_client_failure(&f, 1009, WSCRT_ERROR_WEBSOCKET_MESSAGE_TOO_BIG, 1));
    return s_fixture_clean_up(&f);
}

/* ---- sending ---- */

static int s_send_text(struct fixture *f, const char *text, uint8_t opcode) {
    struct wscrt_websocket_send_frame_options send = {
        .opcode = opcode, .fin = true, .payload = wscrt_byte_cursor_from_c_str(text)};
    return wscrt_websocket_send_frame(f->recorder.websocket, &send);
}

static int s_expect_sent(struct fixture *f, uint8_t byte0, const char *hex_payload) {
    uint8_t payload[256];
    size_t len = 0;
    ASSERT_TRUE(s_server_read_frame(&f->server, payload, sizeof(payload), &len) >= 0);
    ASSERT_UINT_EQ(byte0, f->server.last_frame_byte0);
    char hex[600] = "";
    for (size_t i = 0; i < len && i < 200; ++i) {
        snprintf(hex + strlen(hex), sizeof(hex) - strlen(hex), i ? " %02x" : "%02x", payload[i]);
    }
    if (strcmp(hex, hex_payload) != 0) {
        fprintf(stderr, "  sent payload %s, expected %s\n", hex, hex_payload);
        return 1;
    }
    return 0;
}

static int s_test_sent_messages_are_compressed_with_context_takeover(struct wscrt_allocator *allocator) {
    struct fixture f;
    ASSERT_SUCCESS(s_negotiate(&f, allocator, "permessage-deflate"));
    ASSERT_SUCCESS(s_send_text(&f, "Hello", WSCRT_WEBSOCKET_OPCODE_TEXT));
    ASSERT_SUCCESS(s_send_text(&f, "Hello", WSCRT_WEBSOCKET_OPCODE_BINARY));
    ASSERT_SUCCESS(s_send_text(&f, "p", WSCRT_WEBSOCKET_OPCODE_PING));
    ASSERT_SUCCESS(s_expect_sent(&f, 0xC1, "f2 48 cd c9 c9 07 00"));
    ASSERT_SUCCESS(s_expect_sent(&f, 0xC2, "f2 00 11 00 00"));
    ASSERT_SUCCESS(s_expect_sent(&f, 0x89, "70")); /* control frames are never compressed */
    return s_fixture_clean_up(&f);
}

static int s_test_without_client_context_takeover_each_message_stands_alone(struct wscrt_allocator *allocator) {
    struct fixture f;
    ASSERT_SUCCESS(s_negotiate(&f, allocator, "permessage-deflate; client_no_context_takeover"));
    ASSERT_SUCCESS(s_send_text(&f, "Hello Hello Hello", WSCRT_WEBSOCKET_OPCODE_TEXT));
    ASSERT_SUCCESS(s_send_text(&f, "Hello Hello Hello", WSCRT_WEBSOCKET_OPCODE_TEXT));
    ASSERT_SUCCESS(s_expect_sent(&f, 0xC1, "f2 48 cd c9 c9 57 f0 40 90 00 00"));
    ASSERT_SUCCESS(s_expect_sent(&f, 0xC1, "f2 48 cd c9 c9 57 f0 40 90 00 00"));
    return s_fixture_clean_up(&f);
}

static int s_test_fragments_and_messages_below_the_threshold_go_uncompressed(struct wscrt_allocator *allocator) {
    static const struct wscrt_websocket_deflate_config config = {.offer = {.client_max_window_bits = 15},
                                                                 .compression_threshold = 6};
    struct fixture f;
    ASSERT_SUCCESS(s_connect_with_answer(&f, allocator, &config, 0, "permessage-deflate", "permessage-deflate"));
    ASSERT_SUCCESS(s_send_text(&f, "Hello", WSCRT_WEBSOCKET_OPCODE_TEXT));
    struct wscrt_websocket_send_frame_options fragment = {
        .opcode = WSCRT_WEBSOCKET_OPCODE_TEXT, .fin = false, .payload = wscrt_byte_cursor_from_c_str("Hello!")};
    ASSERT_SUCCESS(wscrt_websocket_send_frame(f.recorder.websocket, &fragment));
    fragment.opcode = WSCRT_WEBSOCKET_OPCODE_CONTINUATION;
    fragment.fin = true;
    ASSERT_SUCCESS(wscrt_websocket_send_frame(f.recorder.websocket, &fragment));
    ASSERT_SUCCESS(s_expect_sent(&f, 0x81, "48 65 6c 6c 6f"));
    ASSERT_SUCCESS(s_expect_sent(&f, 0x01, "48 65 6c 6c 6f 21"));
    ASSERT_SUCCESS(s_expect_sent(&f, 0x80, "48 65 6c 6c 6f 21"));
    return s_fixture_clean_up(&f);
}

WSCRT_TEST_MAIN(s_test_the_offer_is_sent_and_the_answer_is_exposed,
                s_test_a_declined_offer_leaves_messages_uncompressed,
                s_test_a_bad_answer_fails_the_setup_with_the_response,
                s_test_a_required_parameter_missing_from_the_answer_fails, s_test_deflate_needs_message_mode,
                s_test_compressed_messages_are_inflated, s_test_the_server_context_is_taken_over_between_messages,
                s_test_a_control_frame_between_compressed_fragments_is_delivered_first,
                s_test_each_refused_frame_closes_with_its_status_and_error,
                s_test_a_compression_bomb_is_refused_at_the_cap_with_memory_near_it,
                s_test_a_compressed_message_within_the_cap_is_delivered_whole,
                s_test_sent_messages_are_compressed_with_context_takeover,
                s_test_without_client_context_takeover_each_message_stands_alone,
                s_test_fragments_and_messages_below_the_threshold_go_uncompressed)
