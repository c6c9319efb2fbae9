#ifndef WSCRT_HTTP_WEBSOCKET_FRAME_H
#define WSCRT_HTTP_WEBSOCKET_FRAME_H
/*
 * RFC 6455 section 5.2 base framing:
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-------+-+-------------+-------------------------------+
 *  |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
 *  |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
 *  |N|V|V|V|       |S|             |   (if payload len==126/127)   |
 *  | |1|2|3|       |K|             |                               |
 *  +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
 *  |     Extended payload length continued, if payload len == 127  |
 *  + - - - - - - - - - - - - - - - +-------------------------------+
 *  |                               | Masking-key, if MASK set to 1 |
 *  +-------------------------------+-------------------------------+
 *  | Masking-key (continued)       |          Payload Data         |
 *  +-------------------------------- - - - - - - - - - - - - - - - +
 */
#include <stdbool.h>
#include <stdint.h>

enum wscrt_websocket_opcode {
    WSCRT_WEBSOCKET_OPCODE_CONTINUATION = 0x0,
    WSCRT_WEBSOCKET_OPCODE_TEXT = 0x1,
    WSCRT_WEBSOCKET_OPCODE_BINARY = 0x2,
    WSCRT_WEBSOCKET_OPCODE_CLOSE = 0x8,
    WSCRT_WEBSOCKET_OPCODE_PING = 0x9,
    WSCRT_WEBSOCKET_OPCODE_PONG = 0xA,
};

#define WSCRT_WEBSOCKET_FIN_BIT 0x80
#define WSCRT_WEBSOCKET_RSV_MASK 0x70
/* RSV1 on the first frame of a message: permessage-deflate compressed it (RFC 7692 6). */
#define WSCRT_WEBSOCKET_RSV1_COMPRESSED 0x40
#define WSCRT_WEBSOCKET_OPCODE_MASK 0x0F
#define WSCRT_WEBSOCKET_MASK_BIT 0x80
#define WSCRT_WEBSOCKET_LENGTH7_MASK 0x7F
#define WSCRT_WEBSOCKET_LENGTH7_U16 126
#define WSCRT_WEBSOCKET_LENGTH7_U64 127
/* Control frames carry at most 125 bytes (RFC 6455 5.5) so they fit in one small header. */
#define WSCRT_WEBSOCKET_MAX_CONTROL_PAYLOAD 125
/* The largest header: 2 + 8 (length) + 4 (mask). */
#define WSCRT_WEBSOCKET_MAX_HEADER_SIZE 14

/* Close status codes (RFC 6455 7.4.1). */
#define WSCRT_WEBSOCKET_CLOSE_NORMAL 1000
#define WSCRT_WEBSOCKET_CLOSE_GOING_AWAY 1001
#define WSCRT_WEBSOCKET_CLOSE_PROTOCOL_ERROR 1002
#define WSCRT_WEBSOCKET_CLOSE_INVALID_PAYLOAD 1007
#define WSCRT_WEBSOCKET_CLOSE_MESSAGE_TOO_BIG 1009
#define WSCRT_WEBSOCKET_CLOSE_INTERNAL_ERROR 1011

struct wscrt_websocket_frame {
    uint64_t payload_length;
    uint8_t opcode;
    bool fin;
    uint8_t rsv; /* the three RSV bits, in place (mask 0x70) */
    bool masked;
    uint8_t masking_key[4];
    /* Decoder: the frame belongs to a permessage-deflate compressed message
     * (RSV1 on the message's first frame): set on every one of its data
     * frames, CONTINUATIONs included; never on control frames. Its payload
     * is DEFLATE data for the inflater, not the message's bytes. */
    bool compressed;
};

static inline bool wscrt_websocket_opcode_is_data(uint8_t opcode) {
    return opcode < 0x8;
}

static inline bool wscrt_websocket_opcode_is_known(uint8_t opcode) {
    return opcode <= 0x2 || (opcode >= 0x8 && opcode <= 0xA);
}

/* A status code a peer may put in a CLOSE frame (RFC 6455 7.4, IANA registry):
 * 1000-1003, 1007-1011 (plus 1012-1014 registered later), 3000-4999. */
bool wscrt_websocket_close_code_is_valid(uint16_t code);

#endif
