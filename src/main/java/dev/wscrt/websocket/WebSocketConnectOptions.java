package dev.wscrt.websocket;

import dev.wscrt.http.HttpHeader;
import dev.wscrt.http.HttpProxyOptions;
import dev.wscrt.http.HttpRequest;
import dev.wscrt.io.ClientBootstrap;
import dev.wscrt.io.SocketOptions;
import dev.wscrt.io.TlsConnectionOptions;
import java.time.Duration;
import java.util.function.Consumer;

/**
 * Everything {@link WebSocket#connect} needs. Built with {@link #builder()}; {@link Builder#build()}
 * rejects an incomplete or inconsistent set with {@link IllegalArgumentException}.
 *
 * <p>The frame API does not offer permessage-deflate (RFC 7692), and a {@code Sec-WebSocket-Extensions}
 * header added to the handshake request makes any extension in the server's answer fail the setup. Its
 * callbacks report frames as they are on the wire, as {@code awscrt.websocket} does: the payload length in
 * {@code onIncomingFrameBegin} is the wire length, read windows count wire bytes, and a frame is delivered
 * as it arrives. A compressed message breaks all three (its frames carry DEFLATE data whose inflated length
 * is known only at the end, and a fragment cannot be inflated alone with context takeover). Compression is
 * a feature of the message API, {@link WebSocketConnection.Builder#compression(CompressionOptions)}, where
 * whole messages are inflated in native code and capped on their inflated size.
 *
 * <p>All callbacks run on the connection's event-loop thread. They must not block on network work of
 * the same connection (for example, send a frame and wait for its completion): the connection cannot make
 * progress until the callback returns. A callback that throws shuts the connection down.
 *
 * <p>Keepalive ({@link Builder#pingInterval}, {@link Builder#pongTimeout}) is off by default here: as in
 * {@code awscrt.websocket}, the frame API leaves PINGs to the caller.
 */
public final class WebSocketConnectOptions {
    private final String host;
    private final int port;
    private final HttpRequest handshakeRequest;
    private final HandshakeTransform handshakeTransform;
    private final ClientBootstrap bootstrap;
    private final SocketOptions socketOptions;
    private final TlsConnectionOptions tlsConnectionOptions;
    private final HttpProxyOptions proxyOptions;
    private final boolean manageReadWindow;
    private final long initialReadWindow;
    private final int handshakeTimeoutMs;
    private final long sendQueueLimit;
    private final int pingIntervalMs;
    private final int pongTimeoutMs;
    private final MessageMode messageMode; // null: the frame API (package-private: the message API sets it)
    private final Consumer<OnConnectionSetupData> onConnectionSetup;
    private final Consumer<OnConnectionShutdownData> onConnectionShutdown;
    private final Consumer<OnIncomingFrameBeginData> onIncomingFrameBegin;
    private final Consumer<OnIncomingFramePayloadData> onIncomingFramePayload;
    private final Consumer<OnIncomingFrameCompleteData> onIncomingFrameComplete;

    private WebSocketConnectOptions(ConnectSettings settings) {
        this.host = settings.host;
        this.port = settings.port;
        this.handshakeRequest = settings.handshakeRequest;
        this.handshakeTransform = settings.handshakeTransform;
        this.bootstrap = settings.bootstrap;
        this.socketOptions = settings.socketOptions;
        this.tlsConnectionOptions = settings.tlsConnectionOptions;
        this.proxyOptions = settings.proxyOptions;
        this.manageReadWindow = settings.manageReadWindow;
        this.initialReadWindow = settings.initialReadWindow == null ? 0 : settings.initialReadWindow;
        this.handshakeTimeoutMs = settings.handshakeTimeoutMs;
        this.sendQueueLimit = settings.sendQueueLimit;
        this.pingIntervalMs = settings.pingIntervalMs;
        this.pongTimeoutMs = settings.pongTimeoutMs == null ? settings.pingIntervalMs : settings.pongTimeoutMs;
        this.messageMode = settings.messageMode;
        this.onConnectionSetup = settings.onConnectionSetup;
        this.onConnectionShutdown = settings.onConnectionShutdown;
        this.onIncomingFrameBegin = settings.onIncomingFrameBegin;
        this.onIncomingFramePayload = settings.onIncomingFramePayload;
        this.onIncomingFrameComplete = settings.onIncomingFrameComplete;
    }

    /**
     * A builder with no host, port or request yet, and the defaults for everything else.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The host to connect to.
     *
     * @return the host name or numeric address, never null or empty
     */
    public String host() {
        return host;
    }

    /**
     * The port; 80 unless set (443 with TLS).
     *
     * @return the port, 1 to 65535
     */
    public int port() {
        return port;
    }

    /**
     * The upgrade request.
     *
     * @return the request set on the builder, else {@link WebSocket#createHandshakeRequest}(host, "/")
     */
    public HttpRequest handshakeRequest() {
        return handshakeRequest;
    }

    /**
     * The transform applied to the handshake request before connecting.
     *
     * @return the transform, or null for none
     */
    public HandshakeTransform handshakeTransform() {
        return handshakeTransform;
    }

    /**
     * The bootstrap, or null for {@link ClientBootstrap#getOrCreateStaticDefault()}.
     *
     * @return the bootstrap, or null for {@link ClientBootstrap#getOrCreateStaticDefault()}
     */
    public ClientBootstrap bootstrap() {
        return bootstrap;
    }

    /**
     * The socket options, or null for the defaults.
     *
     * @return the socket options, or null for the defaults
     */
    public SocketOptions socketOptions() {
        return socketOptions;
    }

    /**
     * TLS to the server (wss://), or null for ws://.
     *
     * @return the TLS options (for a wss URI without any, the default context's), or null for ws://
     */
    public TlsConnectionOptions tlsConnectionOptions() {
        return tlsConnectionOptions;
    }

    /**
     * The HTTP proxy to tunnel through, or null to connect directly.
     *
     * @return the HTTP proxy to tunnel through, or null to connect directly
     */
    public HttpProxyOptions proxyOptions() {
        return proxyOptions;
    }

    /**
     * Whether the read window is managed by hand, with {@link WebSocket#incrementReadWindow}.
     *
     * @return true when delivery stops at the window; false (the default) for no limit
     */
    public boolean manageReadWindow() {
        return manageReadWindow;
    }

    /**
     * The read window a connection starts with, in bytes of data-frame payload.
     *
     * @return the window in bytes (0 when not set), used only with {@link #manageReadWindow()}
     */
    public long initialReadWindow() {
        return initialReadWindow;
    }

    /**
     * How long the upgrade may take, in milliseconds.
     *
     * @return the timeout, positive (default 10 000)
     */
    public int handshakeTimeoutMs() {
        return handshakeTimeoutMs;
    }

    /**
     * Bytes queued and not yet written above which a send fails at once; 0 = no limit.
     *
     * @return the limit in bytes; 0 for none (default 16 MiB)
     */
    public long sendQueueLimit() {
        return sendQueueLimit;
    }

    /**
     * How often the connection sends a keepalive PING.
     *
     * @return the ping interval; {@link Duration#ZERO} when keepalive is off
     */
    public Duration pingInterval() {
        return Duration.ofMillis(pingIntervalMs);
    }

    /**
     * How long after a keepalive PING was written the peer has to send something.
     *
     * @return the pong timeout; {@link Duration#ZERO} for no limit
     */
    public Duration pongTimeout() {
        return Duration.ofMillis(pongTimeoutMs);
    }

    int pingIntervalMs() {
        return pingIntervalMs;
    }

    int pongTimeoutMs() {
        return pongTimeoutMs;
    }

    /** What the message API asks for; null for the frame API (frames as they arrive). */
    MessageMode messageMode() {
        return messageMode;
    }

    /**
     * The callback that reports the outcome of the setup.
     *
     * @return the callback, never null
     */
    public Consumer<OnConnectionSetupData> onConnectionSetup() {
        return onConnectionSetup;
    }

    /**
     * The callback that reports the end of a connection that was set up.
     *
     * @return the callback, or null for none
     */
    public Consumer<OnConnectionShutdownData> onConnectionShutdown() {
        return onConnectionShutdown;
    }

    /**
     * The callback run as each frame begins to arrive.
     *
     * @return the callback, or null for none
     */
    public Consumer<OnIncomingFrameBeginData> onIncomingFrameBegin() {
        return onIncomingFrameBegin;
    }

    /**
     * The callback run with each piece of a frame's payload.
     *
     * @return the callback, or null for none
     */
    public Consumer<OnIncomingFramePayloadData> onIncomingFramePayload() {
        return onIncomingFramePayload;
    }

    /**
     * The callback run once for each frame that began to arrive, when it has ended.
     *
     * @return the callback, or null for none
     */
    public Consumer<OnIncomingFrameCompleteData> onIncomingFrameComplete() {
        return onIncomingFrameComplete;
    }

    /** Collects the options; not thread-safe. */
    public static final class Builder {
        private final ConnectSettings settings = new ConnectSettings();

        private Builder() {
        }

        /**
         * The host to connect to (name or numeric address). Required.
         *
         * @param value the host name or numeric address; {@link #build()} fails when it is null or empty
         * @return this
         */
        public Builder host(String value) {
            settings.host = value;
            return this;
        }

        /**
         * Host, port, {@code Host} header and request-target from a {@code ws://} or {@code wss://} URI:
         * ws means port 80, wss port 443 and TLS with the default context (the system trust store, peer
         * and host-name verification on) unless {@link #tlsConnectionOptions} sets other TLS options. The
         * {@code Host} header carries the port when it is not the scheme's default; IPv6 literals are
         * written in brackets; the path and query are sent as the URI's raw form ({@code /} for an empty
         * path), with characters a request-target may not hold raw percent-encoded as UTF-8. Replaces the
         * handshake request, so add headers to {@link #handshakeRequest()} after this call, or use
         * {@link #header}.
         *
         * @param value a {@code ws://} or {@code wss://} URI, not null
         * @return this
         * @throws IllegalArgumentException naming the part that cannot be used: a scheme other than ws or
         *                                  wss, a fragment, user-info, no host, a port out of range
         */
        public Builder uri(java.net.URI value) {
            WebSocketUri target = WebSocketUri.of(value);
            settings.host = target.host();
            settings.port = target.port();
            settings.handshakeRequest = WebSocket.createHandshakeRequest(target.hostHeader(), target.requestTarget());
            settings.secure = target.secure();
            return this;
        }

        /**
         * Offers these subprotocols, in order of preference (the {@code Sec-WebSocket-Protocol} header of
         * the handshake request; after {@link #uri} or {@link #handshakeRequest}). The server's choice is
         * {@link WebSocket#subprotocol()}; an answer naming one not offered, or several, fails the setup.
         *
         * @param names the subprotocol tokens, most preferred first
         * @return this
         * @throws IllegalStateException    before {@link #uri} or {@link #handshakeRequest}
         * @throws IllegalArgumentException for no names, or a name that is not an HTTP token
         */
        public Builder subprotocols(String... names) {
            if (settings.handshakeRequest == null) {
                throw new IllegalStateException("set uri(...) or handshakeRequest(...) before subprotocols");
            }
            HandshakeRequests.offerSubprotocols(settings.handshakeRequest, names);
            return this;
        }

        /**
         * Adds a header to the handshake request (after {@link #uri} or {@link #handshakeRequest}).
         *
         * @param name the field name, not null
         * @param value the field value, not null
         * @return this
         * @throws IllegalStateException before {@link #uri} or {@link #handshakeRequest}
         */
        public Builder header(String name, String value) {
            if (settings.handshakeRequest == null) {
                throw new IllegalStateException("set uri(...) or handshakeRequest(...) before adding headers");
            }
            settings.handshakeRequest.addHeader(new HttpHeader(name, value));
            return this;
        }

        /**
         * The port; 80 if not set, 443 with TLS.
         *
         * @param value the TCP port, 1 to 65535 ({@link #build()} checks it)
         * @return this
         */
        public Builder port(int value) {
            settings.port = value;
            return this;
        }

        /**
         * The upgrade request; if not set, {@link WebSocket#createHandshakeRequest}(host, "/") is used.
         *
         * @param value the request, kept and not copied ({@link #header} adds to it); null for the default
         * @return this
         */
        public Builder handshakeRequest(HttpRequest value) {
            settings.handshakeRequest = value;
            return this;
        }

        /**
         * Transforms the handshake request before each connection attempt, for example to sign it; see
         * {@link HandshakeTransform} for when it runs, on which thread, and how it fails.
         *
         * @param value the transform, or null for none
         * @return this
         */
        public Builder handshakeTransform(HandshakeTransform value) {
            settings.handshakeTransform = value;
            return this;
        }

        /**
         * The event loops and host resolver to use.
         *
         * @param value the bootstrap, or null for {@link ClientBootstrap#getOrCreateStaticDefault()}
         * @return this
         */
        public Builder bootstrap(ClientBootstrap value) {
            settings.bootstrap = value;
            return this;
        }

        /**
         * TCP options: connect timeout, keep-alive, address family, TCP_NODELAY.
         *
         * @param value the options, read when the connection starts; null for the defaults of {@link SocketOptions}
         * @return this
         */
        public Builder socketOptions(SocketOptions value) {
            settings.socketOptions = value;
            return this;
        }

        /**
         * TLS to the server (wss://); the server name defaults to the host.
         *
         * @param value the TLS options; null for none (a wss {@link #uri} then uses the default context)
         * @return this
         */
        public Builder tlsConnectionOptions(TlsConnectionOptions value) {
            settings.tlsConnectionOptions = value;
            return this;
        }

        /**
         * Tunnel through this HTTP proxy with CONNECT.
         *
         * @param value the proxy, checked by {@link #build()}; null to connect directly
         * @return this
         */
        public Builder proxyOptions(HttpProxyOptions value) {
            settings.proxyOptions = value;
            return this;
        }

        /**
         * Manage the read window by hand with {@link WebSocket#incrementReadWindow}; needs an initial window.
         *
         * @param value true to stop delivery when the window is used up; false (the default) for no limit
         * @return this
         */
        public Builder manageReadWindow(boolean value) {
            settings.manageReadWindow = value;
            return this;
        }

        /**
         * Data-frame payload bytes the connection may receive before {@code incrementReadWindow} is called.
         *
         * @param value bytes, 0 or more; used only with {@link #manageReadWindow}
         * @return this
         */
        public Builder initialReadWindow(long value) {
            settings.initialReadWindow = value;
            return this;
        }

        /**
         * How long to wait for the upgrade response, in milliseconds (default 10 000); also how long a
         * {@link #handshakeTransform} may take, counted on its own before the connection attempt.
         *
         * @param value milliseconds, positive ({@link #build()} checks it)
         * @return this
         */
        public Builder handshakeTimeoutMs(int value) {
            settings.handshakeTimeoutMs = value;
            return this;
        }

        /**
         * Bytes of frames sent and not yet written to the socket above which {@link WebSocket#sendFrame}
         * fails at once with {@code WSCRT_ERROR_WEBSOCKET_SEND_QUEUE_FULL} (the connection stays up). A
         * frame larger than the limit is accepted when nothing is queued, so any message can be sent.
         * Default 16 MiB; 0 means no limit, by explicit choice.
         *
         * <p>Memory: besides the frames queued, the connection keeps the native buffers of frames of 4 KiB
         * or more that were already written, up to this many bytes (at most 16 MiB), so that a steady
         * stream of sends reuses them; it gives them back once nothing has been queued for 250 ms.
         *
         * @param bytes the limit in bytes; 0 for none
         * @return this
         * @throws IllegalArgumentException if {@code bytes} is negative
         */
        public Builder sendQueueLimit(long bytes) {
            if (bytes < 0) {
                throw new IllegalArgumentException("sendQueueLimit must not be negative: " + bytes);
            }
            settings.sendQueueLimit = bytes;
            return this;
        }

        /**
         * Keepalive: while the connection is open, a PING (payload: a 4-byte counter) goes out every
         * {@code interval}, whatever else is sent or received. Keepalive PINGs may go between the frames of
         * a fragmented message you are sending (RFC 6455 5.4 allows it), go ahead of frames queued and not
         * yet written, and do not count against {@link #sendQueueLimit}. No thread and no timer object per
         * PING: one timer task on the connection's event loop. Default {@link Duration#ZERO}: off.
         *
         * @param interval the time between two PINGs; {@link Duration#ZERO} for none
         * @return this
         * @throws IllegalArgumentException ({@code pingInterval ...}) for null, a negative duration, one
         *                                  between 0 and 1 ms, or more than {@link Integer#MAX_VALUE} ms
         */
        public Builder pingInterval(Duration interval) {
            settings.pingIntervalMs = ConnectDurations.keepaliveMillis(interval, "pingInterval");
            return this;
        }

        /**
         * How long after a keepalive PING has been written to the socket the server has to send
         * something: a PONG, or any other frame or part of one (any byte counts as proof of life). When
         * nothing arrives in time, the connection fails: CLOSE 1001 is attempted (bounded by the close
         * timeout) and the shutdown callback runs once with {@code WSCRT_ERROR_WEBSOCKET_PING_TIMEOUT}.
         * Default: the ping interval (a PING must be answered before the next is due). {@link Duration#ZERO}:
         * PINGs without a deadline. Needs {@link #pingInterval}. With {@link #manageReadWindow}, the
         * deadline is not enforced while the read window is 0 (you stopped the reading, not the server).
         *
         * @param timeout how long the server has to send something after a PING; {@link Duration#ZERO} for
         *                no limit
         * @return this
         * @throws IllegalArgumentException ({@code pongTimeout ...}) as for {@link #pingInterval}; and from
         *                                  {@link #build()} when set without a ping interval
         */
        public Builder pongTimeout(Duration timeout) {
            settings.pongTimeoutMs = ConnectDurations.keepaliveMillis(timeout, "pongTimeout");
            return this;
        }

        /** Message mode, for {@link WebSocketConnection}: whole messages or pieces, and permessage-deflate. */
        Builder messages(MessageMode mode) {
            settings.messageMode = mode;
            return this;
        }

        /**
         * Required: runs once when the connection succeeded or failed.
         *
         * @param value called with the outcome; {@link #build()} fails without it
         * @return this
         */
        public Builder onConnectionSetup(Consumer<OnConnectionSetupData> value) {
            settings.onConnectionSetup = value;
            return this;
        }

        /**
         * Runs once when a connection that was set up shuts down.
         *
         * @param value called with how it ended (a null exception: cleanly), or null for none
         * @return this
         */
        public Builder onConnectionShutdown(Consumer<OnConnectionShutdownData> value) {
            settings.onConnectionShutdown = value;
            return this;
        }

        /**
         * Runs as each frame begins to arrive, before any of its payload.
         *
         * @param value called with the frame's opcode, payload length and fin, or null for none
         * @return this
         */
        public Builder onIncomingFrameBegin(Consumer<OnIncomingFrameBeginData> value) {
            settings.onIncomingFrameBegin = value;
            return this;
        }

        /**
         * Runs with each piece of a frame's payload, in order.
         *
         * @param value called with a view of the piece, valid only during the call; null for none
         * @return this
         */
        public Builder onIncomingFramePayload(Consumer<OnIncomingFramePayloadData> value) {
            settings.onIncomingFramePayload = value;
            return this;
        }

        /**
         * Runs once for each frame that began to arrive: when it has arrived whole, or failed mid-frame.
         *
         * @param value called with the frame and null, or the exception that ended it; null for none
         * @return this
         */
        public Builder onIncomingFrameComplete(Consumer<OnIncomingFrameCompleteData> value) {
            settings.onIncomingFrameComplete = value;
            return this;
        }

        /**
         * Validates and builds; {@link IllegalArgumentException} names the first problem.
         *
         * @return the options, with the defaults filled in (port, handshake request, TLS for a wss URI)
         * @throws IllegalArgumentException naming the first problem
         */
        public WebSocketConnectOptions build() {
            settings.complete();
            return new WebSocketConnectOptions(settings);
        }
    }
}
