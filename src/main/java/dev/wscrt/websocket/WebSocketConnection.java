package dev.wscrt.websocket;

import dev.wscrt.CrtRuntimeException;
import dev.wscrt.http.HttpProxyOptions;
import dev.wscrt.io.ClientBootstrap;
import dev.wscrt.io.SocketOptions;
import dev.wscrt.io.TlsConnectionOptions;
import dev.wscrt.io.TlsContext;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * A WebSocket connection that sends and receives whole messages, the everyday API over the native transport:
 *
 * <pre>{@code
 * WebSocketConnection ws = WebSocketConnection.connect(URI.create("ws://127.0.0.1:8080/chat"),
 *         new WebSocketListener() {
 *             public void onText(WebSocketConnection c, String text) { System.out.println(text); }
 *         }).join();
 * ws.sendText("hello");
 * ws.close(1000, "bye").join();
 * }</pre>
 *
 * <p>Messages are joined from their frames and reach the {@link WebSocketListener} once each, on the
 * connection's event-loop thread; the bytes of a binary message sent as one frame (the common case) are
 * copied once, straight into the buffer the listener gets. A message longer than the maximum message size
 * (16 MiB by default) fails the connection with CLOSE 1009 and {@code WSCRT_ERROR_WEBSOCKET_MESSAGE_TOO_BIG}.
 *
 * <p>With {@link Builder#partialMessages(boolean) partialMessages(true)} data messages are not joined:
 * each piece reaches {@link WebSocketListener#onText(WebSocketConnection, String, boolean)} or
 * {@link WebSocketListener#onBinary(WebSocketConnection, ByteBuffer, boolean)} as it arrives, with
 * {@code last} true on the message's last piece, and no maximum message size applies. Text pieces are cut
 * at code point boundaries (bytes of a character split between frames or reads wait for the rest), so
 * each piece is a valid String.
 *
 * <p>Sends return a {@link CompletableFuture} completed when the frame has been handed to the socket, or
 * failed with a {@link CrtRuntimeException} saying why (for example
 * {@code WSCRT_ERROR_WEBSOCKET_SEND_QUEUE_FULL} when the bytes queued and not yet written would pass the
 * send queue limit, 16 MiB by default; the connection stays up; a message larger than the limit is
 * accepted when nothing is queued). Every method is thread-safe.
 *
 * <p>permessage-deflate (RFC 7692) is off by default and offered with {@link Builder#compression(boolean)
 * compression(true)} or {@link Builder#compression(CompressionOptions)}: when the server accepts, messages
 * are compressed and inflated in native code, transparently, and the maximum message size applies to the
 * inflated bytes. {@link #extensions()} tells what was agreed. Off by default because on fast links it
 * costs more than it saves: measured on loopback against Netty's deflate, echo throughput fell by 40-60 %
 * for 64 B messages and by 64-93 % for 64 KiB ones, and a connection that has used it holds about 310 KiB
 * of zlib state (with context takeover); turn it on for slow or metered links and compressible traffic.
 *
 * <p>A connection stays open while it is open, whether or not the program keeps a reference to it, and
 * its native resources are released once it has ended.
 *
 * <p>Keepalive is on by default: a PING every 30 s, and the connection fails with
 * {@code WSCRT_ERROR_WEBSOCKET_PING_TIMEOUT} when nothing at all arrives from the server within 10 s after
 * one ({@link Builder#pingInterval}, {@link Builder#pongTimeout}). An idle connection would otherwise
 * never learn that its server or the path to it is gone (a receive-only client would wait forever), and
 * NATs, proxies and load balancers drop connections idle for 30-350 s; a 6-byte frame every 30 s costs
 * next to nothing. {@code pingInterval(Duration.ZERO)} turns it off.
 */
public final class WebSocketConnection {
    /** RFC 6455 7.4.1: the code reported when a CLOSE carried none. */
    public static final int NO_STATUS_CODE = 1005;
    static final long DEFAULT_MAX_MESSAGE_SIZE = 16L * 1024 * 1024;
    /** The longest message handed over whole: the longest array the JVM makes. */
    static final long LONGEST_WHOLE_MESSAGE = Integer.MAX_VALUE - 8;
    /** Keepalive of the message API (see the class comment for why it is on). */
    static final Duration DEFAULT_PING_INTERVAL = Duration.ofSeconds(30);
    static final Duration DEFAULT_PONG_TIMEOUT = Duration.ofSeconds(10);
    /**
     * The options' setup callback, which they require: never called, since the message mode's callbacks hand
     * the setup to the connection's events directly (a reused builder then holds no past connection).
     */
    private static final Consumer<OnConnectionSetupData> SETUP_GOES_TO_EVENTS = setup -> {
    };

    /**
     * The text of the URI connected to, not the URI object: a parsed URI holds its parts as strings of
     * their own (about 0.3 KiB of heap) for as long as the connection lives, while the text is a string the
     * caller's URI already holds.
     */
    private final String uriText;
    private final ConnectionEvents events;
    private volatile WebSocket socket;
    private volatile boolean open;

    private WebSocketConnection(URI uri, WebSocketListener listener, boolean partial) {
        this.uriText = uri.toString();
        this.events = new ConnectionEvents(this, listener, partial);
    }

    /**
     * Connects with the defaults; see {@link Builder#connect}.
     *
     * @param uri a {@code ws://} or {@code wss://} URI
     * @param listener receives the connection's events, not null
     * @return a future completed with the open connection, or failed with why it did not open
     * @throws IllegalArgumentException for a URI that cannot be used (naming the part) or a null listener
     */
    public static CompletableFuture<WebSocketConnection> connect(URI uri, WebSocketListener listener) {
        return builder(uri).connect(listener);
    }

    /**
     * Options for a connection to a {@code ws://} or {@code wss://} URI.
     *
     * @param uri a {@code ws://} or {@code wss://} URI
     * @return a new builder with the defaults
     * @throws IllegalArgumentException for a null URI, or naming the part of the URI that cannot be used
     */
    public static Builder builder(URI uri) {
        return new Builder(uri);
    }

    /**
     * The URI this connection was made to: equal to the one given to {@link #builder} or {@link #connect},
     * made again from its text at each call (the connection does not keep the caller's object).
     *
     * @return a URI equal to the one this connection was made to
     */
    public URI uri() {
        return URI.create(uriText);
    }

    /**
     * True from the open until the connection has ended (or close was called and completed).
     *
     * @return true from {@link WebSocketListener#onOpen} on, false from {@code onClosed} or {@code onError} on
     */
    public boolean isOpen() {
        return open;
    }

    /**
     * The subprotocol the server selected from those offered, or null when it selected none.
     *
     * @return the subprotocol, or null
     */
    public String subprotocol() {
        return socket.subprotocol();
    }

    /**
     * The extension the server accepted, with the parameters that apply, for example
     * {@code "permessage-deflate; server_max_window_bits=10"}; null when none (compression off, or declined).
     *
     * @return the negotiated extension, or null
     */
    public String extensions() {
        return socket.extensions();
    }

    /**
     * Whether permessage-deflate is in use on this connection (see {@link #extensions()}).
     *
     * @return true when the server accepted permessage-deflate
     */
    public boolean compressionNegotiated() {
        return socket.extensions() != null;
    }

    /**
     * The TLS version negotiated for wss ("TLSv1.3"), or null for ws.
     *
     * @return {@code "TLSv1.3"} or {@code "TLSv1.2"} for wss, null for ws
     */
    public String tlsVersion() {
        return socket.tlsVersion();
    }

    /**
     * Whether the TLS handshake resumed a session from an earlier connection to the same server; false
     * for a full handshake and for ws.
     *
     * @return whether the TLS handshake resumed an earlier session
     */
    public boolean tlsSessionResumed() {
        return socket.tlsSessionResumed();
    }

    /**
     * Bytes of messages sent and not yet written to the socket.
     *
     * @return those bytes, frame headers included; 0 once the connection has ended
     */
    public long queuedBytes() {
        return socket.queuedBytes();
    }

    /**
     * A future that completes once at most {@code bytes} of sent messages wait in the send queue
     * ({@link #queuedBytes()}): flow control for a sender that keeps the queue between two marks, waking once
     * each time it has come down to the lower one rather than once per send. For example:
     * <pre>{@code
     * if (ws.queuedBytes() > 64 * 1024) {
     *     ws.whenQueuedBytesAtMost(32 * 1024).join();
     * }
     * ws.sendBinary(payload);
     * }</pre>
     * It completes on the event-loop thread (its dependent actions must not block) once the queue has come
     * down to {@code bytes} or the connection ends, and at once when at most {@code bytes} are queued already
     * or the connection has ended, as {@link WebSocket#whenQueuedBytesAtMost} says; always normally.
     * Thread-safe.
     *
     * @param bytes the most bytes, frame headers included, that may still be queued; 0 waits for an empty queue
     * @return the future, completed with {@code null}
     * @throws IllegalArgumentException if {@code bytes} is negative
     */
    public CompletableFuture<Void> whenQueuedBytesAtMost(long bytes) {
        return socket.whenQueuedBytesAtMost(bytes);
    }

    /**
     * Sends a TEXT message (the characters as UTF-8).
     *
     * @param text the message, not null
     * @return a future completed once the message is written to the socket, or failed saying why it was not
     */
    public CompletableFuture<Void> sendText(CharSequence text) {
        if (text == null) {
            throw new IllegalArgumentException("text must not be null");
        }
        return send(Opcode.TEXT, text.toString().getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Sends a BINARY message: the buffer's remaining bytes, copied before this returns.
     *
     * @param data the message: the buffer's remaining bytes (its position is not changed); not null
     * @return a future completed once the message is written to the socket, or failed saying why it was not
     */
    public CompletableFuture<Void> sendBinary(ByteBuffer data) {
        return sendFrame(Opcode.BINARY, requireNonNull(data, "data"), true);
    }

    /**
     * Sends a BINARY message, copied before this returns.
     *
     * @param data the message, not null
     * @return a future completed once the message is written to the socket, or failed saying why it was not
     */
    public CompletableFuture<Void> sendBinary(byte[] data) {
        return send(Opcode.BINARY, requireNonNull(data, "data"));
    }

    /**
     * Sends a PING (at most 125 bytes).
     *
     * @param data the payload: the buffer's remaining bytes, at most 125; not null
     * @return a future completed once the PING is written to the socket, or failed saying why it was not
     * @throws IllegalArgumentException for a payload over 125 bytes
     */
    public CompletableFuture<Void> ping(ByteBuffer data) {
        return sendFrame(Opcode.PING, requireNonNull(data, "data"), true);
    }

    /**
     * Sends an unsolicited PONG (at most 125 bytes); PINGs are answered automatically.
     *
     * @param data the payload: the buffer's remaining bytes, at most 125; not null
     * @return a future completed once the PONG is written to the socket, or failed saying why it was not
     * @throws IllegalArgumentException for a payload over 125 bytes
     */
    public CompletableFuture<Void> pong(ByteBuffer data) {
        return sendFrame(Opcode.PONG, requireNonNull(data, "data"), true);
    }

    /**
     * Starts the close handshake: a CLOSE with {@code code} and {@code reason} goes out behind the
     * messages already sent; messages that arrive meanwhile are still delivered. The future completes
     * when the handshake has finished (the connection ended cleanly), or fails with the error it ended
     * with, for example {@code WSCRT_ERROR_WEBSOCKET_CLOSE_TIMEOUT} when the server does not answer within
     * the close timeout (5 s). Calling it again returns the same outcome.
     *
     * @param code   1000-1003, 1007-1014 or 3000-4999 (RFC 6455 7.4)
     * @param reason at most 123 bytes of UTF-8; null for none
     * @return a future completed when the handshake has finished, or failed with the error the connection ended with
     * @throws IllegalArgumentException for a code that may not be sent or a reason that is too long
     */
    public CompletableFuture<Void> close(int code, String reason) {
        checkCloseCode(code);
        byte[] payload = WebSocket.closePayload(code, reason);
        socket.sendFrame(Opcode.CLOSE, payload, true, null);
        return events.ended.copy();
    }

    /**
     * Ends the connection at once without the close handshake; {@link WebSocketListener#onError} reports
     * {@code WSCRT_ERROR_WEBSOCKET_ABORTED} and pending sends fail.
     */
    public void abort() {
        socket.abort();
    }

    /**
     * Lets {@code bytes} more bytes of message payload arrive (only with {@link Builder#readWindow}):
     * delivery stops when the window is used up and the socket stops reading, so TCP pushes back on the
     * server.
     *
     * @param bytes how many more bytes of message payload may arrive, 0 or more (0 does nothing)
     * @throws IllegalArgumentException if {@code bytes} is negative
     */
    public void incrementReadWindow(long bytes) {
        socket.incrementReadWindow(bytes);
    }

    /** Whether a CLOSE may carry this code (RFC 6455 7.4.1 and 7.4.2). */
    static void checkCloseCode(int code) {
        boolean sendable = (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014)
                || (code >= 3000 && code <= 4999);
        if (!sendable) {
            throw new IllegalArgumentException("a CLOSE may not carry code " + code);
        }
    }

    /** One frame of a message; adapters send fragments with it: TEXT/BINARY first, then CONTINUATION. */
    CompletableFuture<Void> sendFrame(Opcode opcode, ByteBuffer payload, boolean fin) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        try {
            socket.sendFrame(opcode, payload, fin, completion(done));
        } catch (CrtRuntimeException e) {
            done.completeExceptionally(e);
        }
        return done;
    }

    /** Sends CLOSE; the future completes when it has been written (not when the handshake ends). */
    CompletableFuture<Void> sendCloseFrame(int code, String reason) {
        return send(Opcode.CLOSE, WebSocket.closePayload(code, reason));
    }

    private CompletableFuture<Void> send(Opcode opcode, byte[] payload) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        try {
            socket.sendFrame(opcode, payload, true, completion(done));
        } catch (CrtRuntimeException e) {
            done.completeExceptionally(e);
        }
        return done;
    }

    private static Consumer<OnSendFrameCompleteData> completion(CompletableFuture<Void> done) {
        return data -> {
            if (data.exception() == null) {
                done.complete(null);
            } else {
                done.completeExceptionally(data.exception());
            }
        };
    }

    private static <T> T requireNonNull(T value, String name) {
        if (value == null) {
            throw new IllegalArgumentException(name + " must not be null");
        }
        return value;
    }

    /** Setup succeeded (event-loop thread, before {@link WebSocketListener#onOpen}): open on {@code socket}. */
    void opened(WebSocket socket) {
        this.socket = socket;
        open = true;
    }

    /** Shutdown began (event-loop thread): no longer open. */
    void shuttingDown() {
        open = false;
    }

    /** Options for one connection; not thread-safe. */
    public static final class Builder {
        private final URI uri;
        private final WebSocketConnectOptions.Builder options;
        private long maxMessageSize = DEFAULT_MAX_MESSAGE_SIZE;
        private boolean partialMessages;
        private CompressionOptions compression; // null: not offered (the default)
        private TlsContext tlsContext;
        private Duration connectTimeout;
        private Duration pingInterval; // null: DEFAULT_PING_INTERVAL
        private Duration pongTimeout;  // null: DEFAULT_PONG_TIMEOUT with the default interval, else the interval

        private Builder(URI uri) {
            this.uri = uri;
            this.options = WebSocketConnectOptions.builder().uri(uri);
        }

        /**
         * Offers these subprotocols, in order of preference; the server's choice is {@link #subprotocol()}.
         *
         * @param names the subprotocol tokens, most preferred first
         * @return this
         * @throws IllegalArgumentException for no names, or a name that is not an HTTP token
         */
        public Builder subprotocols(String... names) {
            options.subprotocols(names);
            return this;
        }

        /**
         * Transforms the upgrade request before connecting, for example to sign it; see
         * {@link HandshakeTransform} for when it runs, on which thread, and how it fails.
         *
         * @param transform called once per connect with a copy of the upgrade request, not null
         * @return this
         */
        public Builder handshakeTransform(HandshakeTransform transform) {
            options.handshakeTransform(requireNonNull(transform, "transform"));
            return this;
        }

        /**
         * Adds a header to the upgrade request.
         *
         * @param name the field name, not null
         * @param value the field value, not null
         * @return this
         */
        public Builder header(String name, String value) {
            options.header(name, value);
            return this;
        }

        /**
         * The TLS context for wss (default: the system trust store, verification on).
         *
         * @param context the TLS configuration for a wss URI (a ws URI does not use it), not null
         * @return this
         */
        public Builder tlsContext(TlsContext context) {
            tlsContext = requireNonNull(context, "context");
            return this;
        }

        /**
         * Connect through this HTTP proxy (CONNECT tunnel).
         *
         * @param proxy the proxy, not null; checked when {@link #connect} is called
         * @return this
         */
        public Builder proxy(HttpProxyOptions proxy) {
            options.proxyOptions(requireNonNull(proxy, "proxy"));
            return this;
        }

        /**
         * The event loops and resolver to use (default: the process-wide default bootstrap).
         *
         * @param bootstrap the bootstrap whose event loops and resolver to use, not null
         * @return this
         */
        public Builder bootstrap(ClientBootstrap bootstrap) {
            options.bootstrap(requireNonNull(bootstrap, "bootstrap"));
            return this;
        }

        /**
         * How long the TCP connect may take (default 3 s).
         *
         * @param timeout positive; counted in whole milliseconds, at most {@link Integer#MAX_VALUE}
         * @return this
         * @throws IllegalArgumentException for null, zero or negative, and from {@link #connect} for under 1 ms
         */
        public Builder connectTimeout(Duration timeout) {
            connectTimeout = ConnectDurations.requirePositive(timeout, "connectTimeout");
            return this;
        }

        /**
         * How long everything between the TCP connection and the 101 answer may take (default 10 s); also
         * how long a {@link #handshakeTransform} may take, counted on its own before connecting.
         *
         * @param timeout positive; counted in whole milliseconds, at most {@link Integer#MAX_VALUE}
         * @return this
         * @throws IllegalArgumentException for null, zero or negative, and from {@link #connect} for under 1 ms
         */
        public Builder handshakeTimeout(Duration timeout) {
            options.handshakeTimeoutMs(
                    ConnectDurations.toMillis(ConnectDurations.requirePositive(timeout, "handshakeTimeout")));
            return this;
        }

        /**
         * Offers permessage-deflate with {@link CompressionOptions#DEFAULT} ({@code true}) or not at all
         * ({@code false}, the default).
         *
         * @param enabled whether to offer permessage-deflate
         * @return this
         */
        public Builder compression(boolean enabled) {
            compression = enabled ? CompressionOptions.DEFAULT : null;
            return this;
        }

        /**
         * Offers permessage-deflate with these options (see {@link CompressionOptions}).
         *
         * @param options what to offer and how to compress
         * @return this
         */
        public Builder compression(CompressionOptions options) {
            compression = requireNonNull(options, "options");
            return this;
        }

        /**
         * The largest message accepted (default 16 MiB); a longer one fails the connection with 1009. For a
         * compressed message the limit applies to its inflated bytes. A whole message is handed over in one
         * array, so a limit above 2,147,483,639 bytes (the longest array the JVM makes) means that many.
         *
         * @param bytes the limit in bytes, positive
         * @return this
         * @throws IllegalArgumentException if {@code bytes} is not positive
         */
        public Builder maxMessageSize(long bytes) {
            if (bytes <= 0) {
                throw new IllegalArgumentException("maxMessageSize must be positive: " + bytes);
            }
            maxMessageSize = bytes;
            return this;
        }

        /**
         * Partial messages for streaming: when true, data messages are not joined but delivered piece by
         * piece as they arrive, to {@link WebSocketListener#onText(WebSocketConnection, String, boolean)}
         * and {@link WebSocketListener#onBinary(WebSocketConnection, ByteBuffer, boolean)} (the two-argument
         * methods are not called), and {@link #maxMessageSize} does not apply: nothing is held in native
         * code. Default false (whole messages).
         *
         * @param partial true for pieces as they arrive, false for whole messages
         * @return this
         */
        public Builder partialMessages(boolean partial) {
            partialMessages = partial;
            return this;
        }

        /**
         * Back-pressure by hand: at most {@code initialBytes} bytes of message payload arrive until
         * {@link WebSocketConnection#incrementReadWindow} allows more (default: automatic, no limit).
         *
         * @param initialBytes bytes of message payload that may arrive before the first increment, 0 or more
         * @return this
         * @throws IllegalArgumentException if {@code initialBytes} is negative
         */
        public Builder readWindow(long initialBytes) {
            if (initialBytes < 0) {
                throw new IllegalArgumentException("readWindow must not be negative: " + initialBytes);
            }
            options.manageReadWindow(true).initialReadWindow(initialBytes);
            return this;
        }

        /**
         * Keepalive: a PING every {@code interval} while the connection is open (default 30 s;
         * {@link Duration#ZERO} turns keepalive off). Keepalive PINGs may go between the frames of a
         * message being sent and do not count against {@link #sendQueueLimit}; PONGs reach
         * {@link WebSocketListener#onPong}. Setting an interval without {@link #pongTimeout} makes the
         * timeout equal to the interval.
         *
         * @param interval the time between two PINGs; {@link Duration#ZERO} for none
         * @return this
         * @throws IllegalArgumentException ({@code pingInterval ...}) for null, a negative duration, one
         *                                  between 0 and 1 ms, or more than {@link Integer#MAX_VALUE} ms
         */
        public Builder pingInterval(Duration interval) {
            ConnectDurations.keepaliveMillis(interval, "pingInterval");
            pingInterval = interval;
            return this;
        }

        /**
         * How long after a keepalive PING was written the server has to send something (a PONG or any
         * other frame; any byte counts) before the connection fails: CLOSE 1001 is attempted and
         * {@link WebSocketListener#onError} reports {@code WSCRT_ERROR_WEBSOCKET_PING_TIMEOUT}, once.
         * Default 10 s with the default interval; {@link Duration#ZERO}: PINGs without a deadline.
         *
         * @param timeout how long the server has to send something after a PING
         * @return this
         * @throws IllegalArgumentException ({@code pongTimeout ...}) as for {@link #pingInterval}; and from
         *                                  {@link #connect} when keepalive is off
         */
        public Builder pongTimeout(Duration timeout) {
            ConnectDurations.keepaliveMillis(timeout, "pongTimeout");
            pongTimeout = timeout;
            return this;
        }

        /**
         * Bytes queued and not yet written above which a send fails (default 16 MiB; 0 = no limit).
         *
         * @param bytes the limit in bytes, 0 for none
         * @return this
         * @throws IllegalArgumentException if {@code bytes} is negative
         */
        public Builder sendQueueLimit(long bytes) {
            options.sendQueueLimit(bytes);
            return this;
        }

        /**
         * Connects. The future completes with the open connection after {@link WebSocketListener#onOpen},
         * or fails with a {@link CrtRuntimeException} naming why (a {@link WebSocketHandshakeException}
         * with the status, headers and body when the server or proxy answered with a refusal).
         *
         * @param listener receives the connection's events, not null
         * @return a future completed with the open connection, or failed with why it did not open
         * @throws IllegalArgumentException for a null listener, or options that cannot be used (the message names why)
         */
        public CompletableFuture<WebSocketConnection> connect(WebSocketListener listener) {
            WebSocketConnection connection = new WebSocketConnection(uri, requireNonNull(listener, "listener"),
                    partialMessages);
            if (tlsContext != null && "wss".equalsIgnoreCase(uri.getScheme())) { // ws:// stays plain
                options.tlsConnectionOptions(new TlsConnectionOptions(tlsContext));
            }
            if (connectTimeout != null) {
                options.socketOptions(
                        new SocketOptions().withConnectTimeoutMs(ConnectDurations.toMillis(connectTimeout)));
            }
            options.pingInterval(pingInterval != null ? pingInterval : DEFAULT_PING_INTERVAL);
            if (pongTimeout != null) {
                options.pongTimeout(pongTimeout);
            } else if (pingInterval == null) {
                options.pongTimeout(DEFAULT_PONG_TIMEOUT);
            }
            WebSocketConnectOptions built = options
                    .messages(new MessageMode(Math.min(maxMessageSize, LONGEST_WHOLE_MESSAGE), partialMessages,
                            compression))
                    .onConnectionSetup(SETUP_GOES_TO_EVENTS)
                    .build();
            WebSocketCallbacks callbacks = new WebSocketCallbacks(connection.events);
            WebSocket.connect(built, callbacks);
            return connection.events.opened;
        }
    }
}
