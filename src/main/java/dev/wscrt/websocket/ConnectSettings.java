package dev.wscrt.websocket;

import dev.wscrt.http.HttpProxyOptions;
import dev.wscrt.http.HttpRequest;
import dev.wscrt.io.ClientBootstrap;
import dev.wscrt.io.SocketOptions;
import dev.wscrt.io.TlsConnectionOptions;
import dev.wscrt.io.TlsContext;
import dev.wscrt.io.TlsContextOptions;
import java.util.function.Consumer;

/**
 * The values a {@link WebSocketConnectOptions.Builder} collects, and the defaults and checks its
 * {@code build()} applies. Not thread-safe, as the builder is not.
 */
final class ConnectSettings {
    private static final int DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;
    /** Enough for any burst an ordinary sender makes; a stalled peer cannot make the client buffer more. */
    static final long DEFAULT_SEND_QUEUE_LIMIT = 16L * 1024 * 1024;

    String host;
    Integer port;
    HttpRequest handshakeRequest;
    HandshakeTransform handshakeTransform;
    ClientBootstrap bootstrap;
    SocketOptions socketOptions;
    TlsConnectionOptions tlsConnectionOptions;
    HttpProxyOptions proxyOptions;
    boolean manageReadWindow;
    Long initialReadWindow;
    int handshakeTimeoutMs = DEFAULT_HANDSHAKE_TIMEOUT_MS;
    long sendQueueLimit = DEFAULT_SEND_QUEUE_LIMIT;
    int pingIntervalMs;
    Integer pongTimeoutMs; // null: the ping interval
    MessageMode messageMode; // null: the frame API
    boolean secure; // from a wss:// URI
    Consumer<OnConnectionSetupData> onConnectionSetup;
    Consumer<OnConnectionShutdownData> onConnectionShutdown;
    Consumer<OnIncomingFrameBeginData> onIncomingFrameBegin;
    Consumer<OnIncomingFramePayloadData> onIncomingFramePayload;
    Consumer<OnIncomingFrameCompleteData> onIncomingFrameComplete;

    /**
     * Fills in the defaults that depend on other values (TLS for wss://, the port, the handshake request) and
     * checks the whole, in this order.
     *
     * @throws IllegalArgumentException naming the first problem
     */
    void complete() {
        if (host == null || host.isEmpty()) {
            throw new IllegalArgumentException("host is required");
        }
        if (secure && tlsConnectionOptions == null) {
            tlsConnectionOptions = DefaultTls.connectionOptions();
        }
        if (port == null) {
            port = tlsConnectionOptions != null ? 443 : 80;
        }
        if (proxyOptions != null) {
            proxyOptions.validate();
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port must be between 1 and 65535: " + port);
        }
        if (onConnectionSetup == null) {
            throw new IllegalArgumentException("onConnectionSetup is required");
        }
        if (manageReadWindow && initialReadWindow == null) {
            throw new IllegalArgumentException("manageReadWindow requires initialReadWindow");
        }
        if (initialReadWindow != null && initialReadWindow < 0) {
            throw new IllegalArgumentException("initialReadWindow must not be negative: " + initialReadWindow);
        }
        if (pongTimeoutMs != null && pongTimeoutMs > 0 && pingIntervalMs == 0) {
            throw new IllegalArgumentException("pongTimeout needs a pingInterval (keepalive is off)");
        }
        if (handshakeTimeoutMs <= 0) {
            throw new IllegalArgumentException("handshakeTimeoutMs must be positive: " + handshakeTimeoutMs);
        }
        if (handshakeRequest == null) {
            handshakeRequest = WebSocket.createHandshakeRequest(host, "/");
        }
        HandshakeRequests.validate(handshakeRequest);
        if (messageMode != null && messageMode.compression() != null
                && handshakeRequest.getHeader("Sec-WebSocket-Extensions") != null) {
            throw new IllegalArgumentException(
                    "compression offers Sec-WebSocket-Extensions itself: remove that header or turn compression off");
        }
    }

    /** The TLS context of wss:// URIs without TLS options: made on first use, shared by every connection. */
    private static final class DefaultTls {
        private static final TlsContext CONTEXT = new TlsContext(TlsContextOptions.createDefaultClient());

        static TlsConnectionOptions connectionOptions() {
            return new TlsConnectionOptions(CONTEXT);
        }
    }
}
