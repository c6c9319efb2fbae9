package dev.wscrt.faults;

/**
 * The fault cases of {@link FaultInjectionTest}, in the order the report lists them: what the server
 * does, and the callbacks the client owes for it. Error names are {@code CrtRuntimeException.errorName()}
 * values without their {@code WSCRT_ERROR_} prefix.
 */
enum Fault {
    REFUSED("refuses: connect to a closed port",
            "setup failure IO_SOCKET_CONNECTION_REFUSED; no shutdown"),
    ACCEPTS_THEN_CLOSES("accepts, then closes at once",
            "setup failure HTTP_CONNECTION_CLOSED (FIN read first) or IO_SOCKET_CONNECTION_RESET (the unread "
                    + "request turned the close into a RST); no shutdown"),
    RESET_DURING_HANDSHAKE("reads the upgrade request, then RST",
            "setup failure IO_SOCKET_CONNECTION_RESET; no shutdown"),
    RESET_MID_HEADER("writes part of \"HTTP/1.1 101 ...\", then RST",
            "setup failure IO_SOCKET_CONNECTION_RESET; no shutdown"),
    RESET_MID_PAYLOAD("101, a frame header and 100 of its 256 payload bytes, then RST",
            "setup ok; begin, payload*, complete with IO_SOCKET_CONNECTION_RESET; shutdown IO_SOCKET_CONNECTION_RESET"),
    RESET_AWAITING_CLOSE("client sends a CLOSE frame; the server reads it, then RST",
            "setup ok; shutdown IO_SOCKET_CONNECTION_RESET, well before the 5 s close timeout"),
    RESET_AFTER_CLOSE_CALL("client calls close(); the server reads its CLOSE, then RST instead of answering",
            "setup ok; one shutdown IO_SOCKET_CONNECTION_RESET at the reset, well before the close timeout"),
    RESET_AFTER_CLOSE_ECHO("server sends CLOSE; after the client's echo arrives, RST",
            "setup ok; complete(CLOSE); one clean shutdown (the close handshake completed)"),
    SLOW_ONE_BYTE("a valid 101 and a frame, one byte every ~5 ms",
            "setup ok; begin, payload*, complete(TEXT \"slow\"); clean shutdown after close() and the server's CLOSE"),
    HEADER_BLOCK_1_MIB("a 1 MiB header block: 128 KiB, then (after the client's verdict) the rest",
            "setup failure HTTP_HEADER_BLOCK_TOO_LARGE within 2 s on the first 128 KiB, native memory peak "
                    + "< 256 KiB; no shutdown"),
    GARBAGE("binary garbage instead of an HTTP response",
            "setup failure HTTP_INVALID_RESPONSE; no shutdown"),
    LENGTH_2_POW_63("101, then a frame whose 64-bit length has its top bit set (2^63)",
            "setup ok; no frame callbacks; client CLOSE 1002; shutdown WEBSOCKET_INVALID_PAYLOAD_LENGTH"),
    LENGTH_2_POW_63_MINUS_1_DROPPED("101, a frame announcing 2^63-1 bytes, 100 of them, then FIN",
            "setup ok; begin(2^63-1), payload*, complete IO_SOCKET_CLOSED; shutdown IO_SOCKET_CLOSED"),
    STOPS_READING_256_MIB("server never reads while the client queues 256 x 1 MiB frames, then close()",
            "native memory <= queued + 1 MiB; one shutdown WEBSOCKET_CLOSE_TIMEOUT at the 5 s close timeout "
                    + "(the CLOSE cannot be written); 256 completions, each once, in order, WEBSOCKET_CLOSE_TIMEOUT "
                    + "on every frame not written"),
    HANDSHAKE_NEVER_ANSWERED("reads the request and says nothing (handshakeTimeoutMs 300)",
            "setup failure WEBSOCKET_HANDSHAKE_TIMEOUT after 300 ms (< 2.3 s); no shutdown"),
    CONNECT_TIMEOUT_FULL_BACKLOG("listener whose accept backlog is full (connectTimeoutMs 300)",
            "setup failure IO_SOCKET_TIMEOUT after 300 ms (< 2.3 s); no shutdown"),
    DROPPED_WITHOUT_CLOSE("20 connected WebSockets dropped without close(), then collected",
            "the server sees all 20 TCP connections end; native memory back to baseline");

    private final String serverBehaviour;
    private final String expected;

    Fault(String serverBehaviour, String expected) {
        this.serverBehaviour = serverBehaviour;
        this.expected = expected;
    }

    String serverBehaviour() {
        return serverBehaviour;
    }

    String expected() {
        return expected;
    }
}
