package dev.wscrt.faults;

import static dev.wscrt.faults.Expected.checkedByTheCase;
import static dev.wscrt.faults.Expected.cleanShutdown;
import static dev.wscrt.faults.Expected.setupFailure;
import static dev.wscrt.faults.Expected.shutdown;

/**
 * The fault cases, in the order the report lists them: what the peer does, and the {@link Expected}
 * callbacks the client owes for it, stated here, before any case runs. Each case is one test method of
 * a {@link FaultTestBase} subclass, which checks the observed callbacks against this expectation.
 */
enum Fault {
    // ---- TCP (FaultInjectionTest) ----
    REFUSED("refuses: connect to a closed port",
            setupFailure("IO_SOCKET_CONNECTION_REFUSED")),
    ACCEPTS_THEN_CLOSES("accepts, then closes at once",
            setupFailure("HTTP_CONNECTION_CLOSED", "IO_SOCKET_CONNECTION_RESET")
                    .with("CLOSED when the FIN is read first, RESET when the unread request turned the close into a RST")),
    RESET_DURING_HANDSHAKE("reads the upgrade request, then RST",
            setupFailure("IO_SOCKET_CONNECTION_RESET")),
    RESET_MID_HEADER("writes part of \"HTTP/1.1 101 ...\", then RST",
            setupFailure("IO_SOCKET_CONNECTION_RESET")),
    RESET_MID_PAYLOAD("101, a frame header and 100 of its 256 payload bytes, then RST",
            shutdown("IO_SOCKET_CONNECTION_RESET")
                    .with("begin BINARY(256), the 100 bytes, complete with IO_SOCKET_CONNECTION_RESET")),
    RESET_AWAITING_CLOSE("client sends a CLOSE frame; the server reads it, then RST",
            shutdown("IO_SOCKET_CONNECTION_RESET").within(FaultCase.CLOSE_TIMEOUT_MS / 2)
                    .with("no frame callbacks; at the reset, well before the 5 s close timeout")),
    RESET_AFTER_CLOSE_CALL("client calls close(); the server reads its CLOSE, then RST instead of answering",
            shutdown("IO_SOCKET_CONNECTION_RESET").within(FaultCase.CLOSE_TIMEOUT_MS)
                    .with("at the reset, before the close timeout")),
    RESET_AFTER_CLOSE_ECHO("server sends CLOSE 1001; after the client's echo arrives, RST",
            cleanShutdown().with("complete(CLOSE); the client echoes 1001 (the close handshake completed)")),
    SLOW_ONE_BYTE("a valid 101 and a frame, one byte every ~5 ms",
            cleanShutdown().within(10_000)
                    .with("begin, payload*, complete(TEXT \"slow\"); close() and the server's CLOSE")),
    HEADER_BLOCK_1_MIB("a 1 MiB header block: 128 KiB, then (after the client's verdict) the rest",
            setupFailure("HTTP_HEADER_BLOCK_TOO_LARGE")
                    .with("on the first 128 KiB, native memory peak < 256 KiB")),
    GARBAGE("binary garbage instead of an HTTP response",
            setupFailure("HTTP_INVALID_RESPONSE")),
    LENGTH_2_POW_63("101, then a frame whose 64-bit length has its top bit set (2^63)",
            shutdown("WEBSOCKET_INVALID_PAYLOAD_LENGTH").with("no frame callbacks; client CLOSE 1002")),
    LENGTH_2_POW_63_MINUS_1_DROPPED("101, a frame announcing 2^63-1 bytes, 100 of them, then FIN",
            shutdown("IO_SOCKET_CLOSED").with("begin(2^63-1), payload*, complete IO_SOCKET_CLOSED")),
    STOPS_READING_256_MIB("server never reads while the client queues 256 x 1 MiB frames, then close()",
            shutdown("WEBSOCKET_CLOSE_TIMEOUT").afterTimeout(FaultCase.CLOSE_TIMEOUT_MS)
                    .with("native memory <= queued + 1 MiB; 256 completions, each once, in order, "
                            + "WEBSOCKET_CLOSE_TIMEOUT on every frame not written; the CLOSE cannot be written, so "
                            + "the close timeout (from close()) ends it")),
    HANDSHAKE_NEVER_ANSWERED("reads the request and says nothing (handshakeTimeoutMs 300)",
            setupFailure("WEBSOCKET_HANDSHAKE_TIMEOUT").afterTimeout(300).with("no status")),
    CONNECT_TIMEOUT_FULL_BACKLOG("listener whose accept backlog is full (connectTimeoutMs 300)",
            setupFailure("IO_SOCKET_TIMEOUT").afterTimeout(300)),
    DROPPED_WITHOUT_CLOSE("20 connected WebSockets dropped without close(), then collected",
            checkedByTheCase("20 setups ok; the server sees all 20 TCP connections end; at most one shutdown "
                    + "callback each; native memory back to baseline")),

    // ---- TLS (TlsFaultTest): wss to 127.0.0.1, the client trusting the test CA ----
    TLS_RESET_DURING_HANDSHAKE("raw TCP: reads the ClientHello record, then RST",
            setupFailure("TLS_PEER_CLOSED_DURING_HANDSHAKE")
                    .with("the TLS layer's name for a FIN or RST before its handshake ends")),
    TLS_NOT_A_SERVER_HELLO("raw TCP: answers the ClientHello with a plaintext \"HTTP/1.1 400 Bad Request\" head",
            setupFailure("TLS_HANDSHAKE_FAILURE").with("no HTTP status")),
    TLS_HANDSHAKE_TRICKLED("a real TLS 1.3 server (SSLEngine) behind a relay passing its answer one byte per 100 ms "
            + "(TLS timeoutMs 1000)",
            setupFailure("TLS_HANDSHAKE_TIMEOUT").afterTimeout(1000)
                    .with("the timeout bounds the whole handshake, not the gap between bytes")),
    TLS_CERT_CHAIN_400_KIB("TLS 1.3 server whose certificate carries a 400 KiB extension (a ~400 KiB Certificate "
            + "message, CA-signed, valid)",
            setupFailure("TLS_HANDSHAKE_FAILURE")
                    .with("refused at OpenSSL's 100 KiB certificate-list limit; JVM RSS growth < 64 MiB")),
    TLS_FATAL_ALERT_MID_STREAM("TLS 1.3 and 101 done; the server's engine is fed the client's next record with one "
            + "tag byte flipped and sends its fatal alert (bad_record_mac), then closes",
            shutdown("TLS_ALERT_RECEIVED").with("no frames")),
    TLS_FIN_MID_MESSAGE("TLS 1.3 and 101 done; a frame header announcing 256 bytes and 100 of them, then TCP FIN "
            + "without close_notify",
            shutdown("IO_SOCKET_CLOSED").with("begin BINARY(256), the 100 bytes, complete IO_SOCKET_CLOSED: a "
                    + "truncation is an error, never a clean close")),
    TLS_DATA_AFTER_CLOSE_NOTIFY("TLS 1.3 and 101 done; a TEXT frame, close_notify, then a 37-byte application_data "
            + "record written raw",
            shutdown("IO_SOCKET_CLOSED").with("the TEXT frame delivered; nothing after close_notify is decrypted or "
                    + "delivered, and it is no TLS error; the end of stream without a CLOSE frame is the error")),
    TLS12_RENEGOTIATION_REQUEST("TLS 1.2 and 101 done; the server asks for a renegotiation (HelloRequest), reads "
            + "the client's answer raw, then sends a TEXT frame, a CLOSE frame, close_notify and FIN",
            cleanShutdown().with("the client refuses (SSL_OP_NO_RENEGOTIATION: it answers with an alert record, not a "
                    + "ClientHello); the TEXT frame after it is delivered; the server's CLOSE ends it cleanly")),

    // ---- HTTP proxy (ProxyFaultTest): a scripted proxy on 127.0.0.1 that reads the client's CONNECT ----
    PROXY_CLOSES_DURING_CONNECT("reads the CONNECT request, then closes (FIN) without an answer",
            setupFailure("HTTP_CONNECTION_CLOSED").with("no status")),
    PROXY_407_NO_CREDENTIALS("no credentials configured; the proxy answers 407 with "
            + "Proxy-Authenticate: Basic realm=\"wscrt-faults\"",
            setupFailure("HTTP_PROXY_AUTH_REQUIRED").with("status 407 and the Proxy-Authenticate header carried in "
                    + "the setup data; no Proxy-Authorization sent")),
    PROXY_200_THEN_CLOSE("answers \"HTTP/1.1 200 Connection established\", then closes at once",
            setupFailure("HTTP_CONNECTION_CLOSED", "IO_SOCKET_CONNECTION_RESET")
                    .with("the tunnel is open, the upgrade request meets the close (RESET when it sat unread)")),
    PROXY_HEADER_BLOCK_OVER_LIMIT("answers 200 with a 256 KiB header block (128 KiB written, the rest held back)",
            setupFailure("HTTP_HEADER_BLOCK_TOO_LARGE").with("on the first 128 KiB (the limit is 64 KiB)")),
    PROXY_NEVER_ANSWERS("reads the CONNECT request and says nothing (handshakeTimeoutMs 300)",
            setupFailure("WEBSOCKET_HANDSHAKE_TIMEOUT").afterTimeout(300)
                    .with("the handshake timeout covers the CONNECT too")),
    PROXY_HTTP10_200("answers \"HTTP/1.0 200 Connection established\", then plays the target: 101 and a TEXT frame",
            cleanShutdown().with("HTTP/1.0 200 opens the tunnel; the upgrade request arrives through it; the TEXT "
                    + "frame is delivered; close() and the CLOSE answer end it")),
    PROXY_TUNNEL_BURST_SMALL_WINDOW("answers 200, then plays the target: the 101 and 64 frames of 4 KiB in one write; "
            + "the client's read window is manual, 16 KiB, opened 16 KiB at a time",
            cleanShutdown().within(15_000).with("all 64 frames delivered intact as the window opens (the tunnel "
                    + "holds what the window does not admit; found by the soak: it used to pass everything on and "
                    + "fail with INVALID_STATE)")),

    // ---- DNS (DnsFaultTest): a child JVM in private mount and network namespaces, a scripted DNS server ----
    DNS_NAME_DOES_NOT_RESOLVE("connect to nonexistent.invalid; the namespace's DNS server answers NXDOMAIN",
            setupFailure("IO_DNS_QUERY_FAILED").with("fast; the exception's message names nonexistent.invalid")),
    DNS_SLOW_RESOLVER("connect to slow.wscrt.test; the DNS server answers (127.0.0.1) after 1.5 s",
            cleanShutdown().within(ScriptedDns.SLOW_MS + 5000).with("setup ok once the answer comes (no earlier than "
                    + "1.5 s: the library has no resolution timeout of its own; the handshake timeout starts at the "
                    + "TCP connection); a TEXT frame; close() and the CLOSE answer end it")),
    DNS_SILENT_RESOLVER("connect to silent.wscrt.test; the DNS server never answers (resolv.conf: options timeout:3 "
            + "attempts:1)",
            setupFailure("IO_DNS_QUERY_FAILED").within(3000 + Expected.SCHEDULING_SLACK_MS)
                    .with("bounded only by the system resolver's timeout and attempts (the library adds none)")),
    DNS_LOCALHOST_ONE_FAMILY_LISTENING("localhost is ::1 and 127.0.0.1 (the namespace's /etc/hosts); a server on "
            + "127.0.0.1 only, then one on ::1 only",
            cleanShutdown().with("both connect: the addresses are tried in getaddrinfo's order (::1 first) and a "
                    + "refused one falls through to the next; one setup and one clean shutdown each")),

    // ---- resource exhaustion (ExhaustionFaultTest) ----
    DESCRIPTOR_LIMIT_DURING_CONNECT("a child JVM under prlimit --nofile=512:512 opens /dev/null until EMFILE, then "
            + "connects; then frees the files",
            setupFailure("IO_TOO_MANY_FILES").with("the server sees no connection; as many descriptors open after as "
                    + "before (nothing leaked); later connects work")),
    CALLBACK_OUT_OF_MEMORY("connection A's payload callback allocates new long[Integer.MAX_VALUE] (the JVM throws "
            + "OutOfMemoryError); connection B shares A's event-loop thread",
            shutdown("CALLBACK_EXCEPTION").with("A: the OutOfMemoryError as the cause, its open frame completed with "
                    + "the error; B receives a frame afterwards and closes cleanly")),
    CALLBACK_STACK_OVERFLOW("connection A's payload callback recurses without end (the JVM throws "
            + "StackOverflowError on the event-loop thread); connection B shares the thread",
            shutdown("CALLBACK_EXCEPTION").with("A: the StackOverflowError as the cause; B receives a frame "
                    + "afterwards and closes cleanly")),
    TEN_THOUSAND_ON_ONE_LOOP("10,000 connections to a Netty echo server (child JVM) from a client whose event loop "
            + "group has ONE thread; one echo each; then close() on all",
            checkedByTheCase("10,000 setups ok, 10,000 echoes, 10,000 clean shutdowns (one each), all on one thread; "
                    + "a second connection on that loop works; native memory back to baseline"));

    private final String peerBehaviour;
    private final Expected expected;

    Fault(String peerBehaviour, Expected expected) {
        this.peerBehaviour = peerBehaviour;
        this.expected = expected;
    }

    String peerBehaviour() {
        return peerBehaviour;
    }

    Expected expected() {
        return expected;
    }
}
