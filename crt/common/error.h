#ifndef WSCRT_COMMON_ERROR_H
#define WSCRT_COMMON_ERROR_H
/*
 * Functions that can fail return WSCRT_OP_SUCCESS / WSCRT_OP_ERR and set a
 * thread-local error code; functions returning a pointer return NULL and set
 * it. Every code has a stable name (the enum identifier, also exposed to Java
 * as CrtRuntimeException.errorName()) and a user-facing message.
 *
 * Ranges: common 0x0000, io 0x0400, tls 0x0800, http 0x0C00, websocket 0x1000.
 * Codes are never renumbered; new ones are added at the end of their range.
 */
#define WSCRT_OP_SUCCESS 0
#define WSCRT_OP_ERR (-1)

#define WSCRT_ERROR_LIST(X)                                                                                            \
    X(WSCRT_ERROR_SUCCESS, 0x0000, "Success.")                                                                         \
    X(WSCRT_ERROR_UNKNOWN, 0x0001, "Unknown error.")                                                                   \
    X(WSCRT_ERROR_OOM, 0x0002, "Out of memory.")                                                                       \
    X(WSCRT_ERROR_INVALID_ARGUMENT, 0x0003, "An argument was invalid.")                                                \
    X(WSCRT_ERROR_INVALID_STATE, 0x0004, "The operation is not allowed in the object's current state.")               \
    X(WSCRT_ERROR_INVALID_UTF8, 0x0005, "The bytes are not valid UTF-8.")                                              \
    X(WSCRT_ERROR_SHORT_BUFFER, 0x0006, "The buffer is too small for the operation.")                                  \
    X(WSCRT_ERROR_OVERFLOW_DETECTED, 0x0007, "An integer computation would overflow.")                                 \
    X(WSCRT_ERROR_SYS_CALL_FAILURE, 0x0008, "A system call failed.")                                                   \
    X(WSCRT_ERROR_INVALID_BASE64, 0x0009, "The text is not valid base64.")                                             \
    X(WSCRT_ERROR_RANDOM_GEN_FAILED, 0x000A, "The system could not produce random bytes.")                             \
    X(WSCRT_ERROR_CRYPTO_FAILURE, 0x000B, "A libcrypto operation failed.")                                             \
    X(WSCRT_ERROR_CALLBACK_EXCEPTION, 0x000C, "A user callback threw an exception.")                                   \
    X(WSCRT_ERROR_UNSUPPORTED_OPERATION, 0x000D, "The operation is not supported.")                                    \
    X(WSCRT_ERROR_FILE_OPEN_FAILURE, 0x000E, "A file could not be opened.")                                            \
    X(WSCRT_ERROR_THREAD_CREATE_FAILED, 0x000F, "A thread could not be started.")                                      \
    X(WSCRT_ERROR_IO_EVENT_LOOP_SHUTDOWN, 0x0400, "The event loop has shut down.")                                     \
    X(WSCRT_ERROR_IO_DNS_QUERY_FAILED, 0x0401, "The host name lookup failed.")                                         \
    X(WSCRT_ERROR_IO_DNS_INVALID_NAME, 0x0402, "The host name is invalid.")                                            \
    X(WSCRT_ERROR_IO_DNS_NO_ADDRESS, 0x0403, "The host name has no address of the requested family.")                 \
    X(WSCRT_ERROR_IO_SOCKET_TIMEOUT, 0x0404, "The socket connect timed out.")                                          \
    X(WSCRT_ERROR_IO_SOCKET_CONNECTION_REFUSED, 0x0405, "The connection was refused by the peer.")                     \
    X(WSCRT_ERROR_IO_SOCKET_CLOSED, 0x0406, "The socket was closed by the peer.")                                      \
    X(WSCRT_ERROR_IO_SOCKET_CONNECTION_RESET, 0x0407, "The connection was reset by the peer.")                         \
    X(WSCRT_ERROR_IO_SOCKET_NETWORK_DOWN, 0x0408, "The network is unreachable.")                                       \
    X(WSCRT_ERROR_IO_SOCKET_NO_ROUTE, 0x0409, "There is no route to the host.")                                        \
    X(WSCRT_ERROR_IO_SOCKET_INVALID_OPTIONS, 0x040A, "The socket options are invalid.")                                \
    X(WSCRT_ERROR_IO_SOCKET_NOT_CONNECTED, 0x040B, "The socket is not connected.")                                     \
    X(WSCRT_ERROR_IO_READ_WOULD_BLOCK, 0x040C, "The read would block.")                                                \
    X(WSCRT_ERROR_IO_BROKEN_PIPE, 0x040D, "The peer stopped reading (broken pipe).")                                   \
    X(WSCRT_ERROR_IO_CHANNEL_SHUT_DOWN, 0x040E, "The channel has shut down.")                                          \
    X(WSCRT_ERROR_IO_INVALID_ADDRESS, 0x040F, "The address is not a valid IPv4 or IPv6 address.")                      \
    X(WSCRT_ERROR_IO_TOO_MANY_FILES, 0x0410, "The process is out of file descriptors.")                                \
    X(WSCRT_ERROR_TLS_CONTEXT_FAILURE, 0x0800, "The TLS context could not be created.")                                \
    X(WSCRT_ERROR_TLS_HANDSHAKE_FAILURE, 0x0801, "The TLS handshake failed.")                                          \
    X(WSCRT_ERROR_TLS_HANDSHAKE_TIMEOUT, 0x0802, "The TLS handshake timed out.")                                       \
    X(WSCRT_ERROR_TLS_CERT_VERIFY_FAILED, 0x0803, "The peer's certificate could not be verified.")                     \
    X(WSCRT_ERROR_TLS_CERT_EXPIRED, 0x0804, "The peer's certificate has expired.")                                     \
    X(WSCRT_ERROR_TLS_CERT_SELF_SIGNED, 0x0805, "The peer's certificate is self-signed.")                              \
    X(WSCRT_ERROR_TLS_CERT_UNKNOWN_CA, 0x0806, "The peer's certificate was issued by an unknown authority.")           \
    X(WSCRT_ERROR_TLS_CERT_HOSTNAME_MISMATCH, 0x0807, "The peer's certificate does not match the host name.")          \
    X(WSCRT_ERROR_TLS_PROTOCOL_VERSION, 0x0808, "No TLS protocol version acceptable to both sides.")                   \
    X(WSCRT_ERROR_TLS_PEER_CLOSED_DURING_HANDSHAKE, 0x0809, "The peer closed the connection during the TLS handshake.") \
    X(WSCRT_ERROR_TLS_NO_TRUST_STORE, 0x080A, "No system CA bundle was found.")                                        \
    X(WSCRT_ERROR_TLS_ALERT_RECEIVED, 0x080B, "The peer sent a fatal TLS alert.")                                      \
    X(WSCRT_ERROR_TLS_IO_FAILURE, 0x080C, "TLS record processing failed.")                                             \
    X(WSCRT_ERROR_TLS_CLIENT_CERT_REQUIRED, 0x080D, "The server requires a client certificate.")                       \
    X(WSCRT_ERROR_HTTP_INVALID_RESPONSE, 0x0C00, "The HTTP response is malformed.")                                    \
    X(WSCRT_ERROR_HTTP_HEADER_BLOCK_TOO_LARGE, 0x0C01, "The HTTP response header block exceeds the limit.")            \
    X(WSCRT_ERROR_HTTP_CONNECTION_CLOSED, 0x0C02, "The connection closed before the HTTP response was complete.")      \
    X(WSCRT_ERROR_HTTP_INVALID_REQUEST, 0x0C03, "The HTTP request is invalid.")                                        \
    X(WSCRT_ERROR_HTTP_PROXY_CONNECT_FAILED, 0x0C04, "The proxy refused the CONNECT request.")                         \
    X(WSCRT_ERROR_HTTP_PROXY_AUTH_REQUIRED, 0x0C05, "The proxy requires authentication (407).")                        \
    X(WSCRT_ERROR_HTTP_BODY_TOO_LARGE, 0x0C06, "The HTTP response body exceeds the limit.")                            \
    X(WSCRT_ERROR_WEBSOCKET_UPGRADE_FAILURE, 0x1000, "The server did not accept the WebSocket upgrade.")                \
    X(WSCRT_ERROR_WEBSOCKET_UPGRADE_INVALID_HEADERS, 0x1001,                                                            \
      "The 101 response lacks 'Upgrade: websocket' or a 'Connection: upgrade' token.")                                  \
    X(WSCRT_ERROR_WEBSOCKET_UPGRADE_BAD_ACCEPT, 0x1002, "The Sec-WebSocket-Accept header does not match the key.")      \
    X(WSCRT_ERROR_WEBSOCKET_HANDSHAKE_TIMEOUT, 0x1003, "The WebSocket handshake timed out.")                            \
    X(WSCRT_ERROR_WEBSOCKET_PROTOCOL_ERROR, 0x1004, "The server violated the WebSocket protocol.")                      \
    X(WSCRT_ERROR_WEBSOCKET_RESERVED_BITS, 0x1005, "A frame has reserved bits set but no extension was negotiated.")    \
    X(WSCRT_ERROR_WEBSOCKET_RESERVED_OPCODE, 0x1006, "A frame uses a reserved opcode.")                                 \
    X(WSCRT_ERROR_WEBSOCKET_MASKED_FRAME, 0x1007, "Server-sent frames must not be masked.")                             \
    X(WSCRT_ERROR_WEBSOCKET_CONTROL_FRAME_FRAGMENTED, 0x1008, "Control frames must be final.")                          \
    X(WSCRT_ERROR_WEBSOCKET_CONTROL_FRAME_TOO_LONG, 0x1009, "Control frame payloads must not exceed 125 bytes.")        \
    X(WSCRT_ERROR_WEBSOCKET_UNEXPECTED_CONTINUATION, 0x100A, "A CONTINUATION frame arrived with no message open.")      \
    X(WSCRT_ERROR_WEBSOCKET_EXPECTED_CONTINUATION, 0x100B, "A new data frame arrived while a message was open.")        \
    X(WSCRT_ERROR_WEBSOCKET_INVALID_PAYLOAD_LENGTH, 0x100C, "A 64-bit payload length has its most significant bit set.")\
    X(WSCRT_ERROR_WEBSOCKET_NON_MINIMAL_LENGTH, 0x100D, "A payload length is not in its minimal encoding.")             \
    X(WSCRT_ERROR_WEBSOCKET_INVALID_CLOSE_PAYLOAD, 0x100E, "A CLOSE payload must be empty or at least 2 bytes.")        \
    X(WSCRT_ERROR_WEBSOCKET_INVALID_CLOSE_CODE, 0x100F, "A CLOSE frame carries an invalid status code.")                \
    X(WSCRT_ERROR_WEBSOCKET_INVALID_UTF8, 0x1010, "A TEXT message or CLOSE reason is not valid UTF-8.")                 \
    X(WSCRT_ERROR_WEBSOCKET_CLOSE_FRAME_SENT, 0x1011, "A CLOSE frame was already sent; no more frames can be sent.")    \
    X(WSCRT_ERROR_WEBSOCKET_CONNECTION_CLOSED, 0x1012, "The WebSocket connection has shut down.")                       \
    X(WSCRT_ERROR_WEBSOCKET_CLOSE_TIMEOUT, 0x1013, "The peer did not answer the CLOSE frame in time.")                  \
    X(WSCRT_ERROR_WEBSOCKET_INVALID_FRAME, 0x1014, "The frame to send is invalid.")                                     \
    X(WSCRT_ERROR_WEBSOCKET_CONNECTION_LOST, 0x1015, "The connection was lost before the frame was complete.")          \
    X(WSCRT_ERROR_WEBSOCKET_SEND_QUEUE_FULL, 0x1016,                                                                   \
      "The send would take the bytes queued and not yet written past the connection's send queue limit.")            \
    X(WSCRT_ERROR_WEBSOCKET_MESSAGE_TOO_BIG, 0x1017, "An incoming message exceeds the maximum message size (1009).")    \
    X(WSCRT_ERROR_WEBSOCKET_UNEXPECTED_EXTENSION, 0x1018,                                                               \
      "The 101 response accepts a WebSocket extension the client did not offer.")                                       \
    X(WSCRT_ERROR_WEBSOCKET_UNEXPECTED_SUBPROTOCOL, 0x1019,                                                             \
      "The 101 response selects a subprotocol the client did not offer.")                                               \
    X(WSCRT_ERROR_WEBSOCKET_MULTIPLE_SUBPROTOCOLS, 0x101A, "The 101 response selects more than one subprotocol.")       \
    X(WSCRT_ERROR_WEBSOCKET_MULTIPLE_EXTENSIONS, 0x101B,                                                                \
      "The 101 response accepts permessage-deflate more than once.")                                                    \
    X(WSCRT_ERROR_WEBSOCKET_MALFORMED_EXTENSION_HEADER, 0x101C,                                                         \
      "The Sec-WebSocket-Extensions header of the 101 response is malformed.")                                          \
    X(WSCRT_ERROR_WEBSOCKET_UNKNOWN_EXTENSION_PARAMETER, 0x101D,                                                        \
      "The permessage-deflate answer has a parameter RFC 7692 does not define.")                                        \
    X(WSCRT_ERROR_WEBSOCKET_DUPLICATE_EXTENSION_PARAMETER, 0x101E,                                                      \
      "The permessage-deflate answer repeats a parameter.")                                                             \
    X(WSCRT_ERROR_WEBSOCKET_BAD_EXTENSION_PARAMETER, 0x101F,                                                            \
      "A permessage-deflate parameter has a bad value (window bits must be 8 to 15, others take no value).")            \
    X(WSCRT_ERROR_WEBSOCKET_EXTENSION_PARAMETER_NOT_ALLOWED, 0x1020,                                                    \
      "The permessage-deflate answer does not honour the offer (a parameter not offered, or a window too large).")      \
    X(WSCRT_ERROR_WEBSOCKET_MISPLACED_RSV1, 0x1021,                                                                     \
      "RSV1 (compressed) may only be set on the first frame of a TEXT or BINARY message.")                              \
    X(WSCRT_ERROR_WEBSOCKET_INVALID_COMPRESSED_DATA, 0x1022, "A compressed message is not valid DEFLATE data.")         \
    X(WSCRT_ERROR_WEBSOCKET_COMPRESSION_FAILURE, 0x1023, "zlib failed to compress or decompress a message.")   \
    X(WSCRT_ERROR_WEBSOCKET_ABORTED, 0x1024, "The connection was aborted by the client without a close handshake.")   \
    X(WSCRT_ERROR_WEBSOCKET_SEND_UNEXPECTED_CONTINUATION, 0x1025,                                                      \
      "A CONTINUATION frame cannot be sent: no fragmented message is open.")                                         \
    X(WSCRT_ERROR_WEBSOCKET_SEND_EXPECTED_CONTINUATION, 0x1026,                                                        \
      "A TEXT or BINARY frame cannot be sent while a fragmented message is open; send CONTINUATION frames.")        \
    X(WSCRT_ERROR_WEBSOCKET_SEND_INVALID_UTF8, 0x1027, "The TEXT message to send is not valid UTF-8.")                 \
    X(WSCRT_ERROR_WEBSOCKET_SEND_INVALID_CLOSE, 0x1028,                                                                \
      "The CLOSE frame to send has a 1-byte payload, a code that may not be sent, or a reason that is not UTF-8.")   \
    X(WSCRT_ERROR_WEBSOCKET_PING_TIMEOUT, 0x1029,                                                                     \
      "Nothing arrived from the peer within the pong timeout after a keepalive PING.")                               \
    X(WSCRT_ERROR_WEBSOCKET_HANDSHAKE_TRANSFORM_FAILED, 0x102A,                                                        \
      "The handshake transform failed, or made an invalid upgrade request; nothing was sent.")                       \
    X(WSCRT_ERROR_WEBSOCKET_HANDSHAKE_TRANSFORM_TIMEOUT, 0x102B,                                                       \
      "The handshake transform did not complete within the handshake timeout; nothing was sent.")

enum wscrt_error_code {
#define WSCRT_ERROR_ENUM_ENTRY(name, value, message) name = value,
    WSCRT_ERROR_LIST(WSCRT_ERROR_ENUM_ENTRY)
#undef WSCRT_ERROR_ENUM_ENTRY
};

/* Sets the calling thread's error code and returns WSCRT_OP_ERR. */
int wscrt_raise_error(int error_code);
int wscrt_last_error(void);
void wscrt_reset_error(void);
/* "WSCRT_ERROR_UNKNOWN" / "Unknown error." for codes not in the table. */
const char *wscrt_error_name(int error_code);
const char *wscrt_error_str(int error_code);
/* Translates an errno value from a socket call into a wscrt code and raises it. */
int wscrt_raise_errno(int errno_value);

#endif
