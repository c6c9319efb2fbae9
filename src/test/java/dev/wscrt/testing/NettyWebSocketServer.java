package dev.wscrt.testing;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.extensions.compression.PerMessageDeflateServerExtensionHandshaker;
import io.netty.handler.ssl.SslContext;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * A real third-party WebSocket server (Netty 4.2) on 127.0.0.1, port chosen by the OS, for
 * end-to-end tests. Netty does the handshake, frame decoding (client frames must be masked, RSV bits
 * must be 0, TEXT must be UTF-8) and frame encoding; this class only adds the test behaviour:
 *
 * <ul>
 *   <li>echo (default): every data frame comes back as the same frame type with the same FIN bit, so
 *       a fragmented message is echoed fragment by fragment;
 *   <li>{@link Builder#onOpen} and {@link Builder#onFrame} hooks to send arbitrary frames through a
 *       {@link Connection};
 *   <li>{@link Builder#rejectUpgrades} answers every upgrade with a given status and body;
 *   <li>every frame received (including CLOSE and PONG) is recorded per connection, with bounded
 *       awaits;
 *   <li>{@link Builder#deflate} accepts permessage-deflate with Netty's own handshaker
 *       ({@code PerMessageDeflateServerExtensionHandshaker}): frames are then recorded and echoed as
 *       Netty inflated them, and Netty compresses what it sends; {@link #wireBytesReceived()} counts the
 *       bytes as they came off the socket.
 * </ul>
 *
 * CLOSE handling: when the client sends CLOSE and the server has not sent one, the server echoes the
 * client's status code and closes the TCP connection; when the server already sent CLOSE, it closes
 * the TCP connection on the client's answer. {@link Builder#answerClose(boolean) answerClose(false)}
 * records the client's CLOSE and does nothing else. PINGs from the client are answered by Netty (which
 * does not pass them on): they are counted, not recorded, see {@link Connection#pingsReceived()}.
 */
public final class NettyWebSocketServer implements LocalServer {

    /** The largest frame payload the server accepts; above the 16 MiB echo test. */
    public static final int MAX_FRAME_PAYLOAD = 64 * 1024 * 1024;

    final Builder config;
    private final EventLoopGroup group;
    private final Channel serverChannel;
    // What the server saw; recorded by the handlers of NettyServerPipeline, on Netty threads.
    final List<Connection> connections = new CopyOnWriteArrayList<>();
    final List<Map.Entry<String, List<Map.Entry<String, String>>>> upgradeRequests = new CopyOnWriteArrayList<>();
    final AtomicLong tcpConnections = new AtomicLong();
    final AtomicLong wireBytesReceived = new AtomicLong();

    private NettyWebSocketServer(Builder config) {
        this.config = config;
        this.group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
        try {
            ServerBootstrap b = new ServerBootstrap()
                    .group(group)
                    .channel(NioServerSocketChannel.class)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childHandler(new NettyServerPipeline(this));
            this.serverChannel = b.bind(new InetSocketAddress(config.host, 0)).syncUninterruptibly().channel();
        } catch (RuntimeException e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw e;
        }
    }

    /** Starts an echo server on 127.0.0.1. */
    public static NettyWebSocketServer startEcho() {
        return builder().start();
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public String host() {
        return config.host;
    }

    @Override
    public int port() {
        return ((InetSocketAddress) serverChannel.localAddress()).getPort();
    }

    /** "host:port", the value of the Host header a client should send. */
    public String authority() {
        return config.host.contains(":") ? "[" + config.host + "]:" + port() : config.host + ":" + port();
    }

    /** Connections that completed the WebSocket handshake, in order. */
    public List<Connection> connections() {
        return List.copyOf(connections);
    }

    /** Number of TCP connections accepted (upgraded or not). */
    public long tcpConnectionCount() {
        return tcpConnections.get();
    }

    /** Bytes read from every connection's socket (before TLS, HTTP or WebSocket decoding). */
    public long wireBytesReceived() {
        return wireBytesReceived.get();
    }

    /** Request lines and headers of every upgrade request received, in order. */
    public List<Map.Entry<String, List<Map.Entry<String, String>>>> upgradeRequests() {
        return List.copyOf(upgradeRequests);
    }

    /** Waits for the first upgraded connection. */
    public Connection awaitConnection() {
        return awaitConnections(1).get(0);
    }

    /** Waits until at least {@code n} connections have been upgraded; returns the first n. */
    public List<Connection> awaitConnections(int n) {
        Await.until(n + " upgraded server connection(s)", Await.DEFAULT_TIMEOUT, () -> connections.size() >= n,
                () -> connections.size() + " upgraded, " + tcpConnections.get() + " TCP connections");
        return connections().subList(0, n);
    }

    @Override
    public void close() {
        serverChannel.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        for (Connection c : connections) {
            c.channel.close();
        }
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
    }

    /**
     * What an echo server sends back for the data frame {@code frame}: a frame of the same kind and FIN with
     * its content (retained, RSV bits clear); null for a control frame. For every Netty server of the tests.
     */
    public static WebSocketFrame echoOf(WebSocketFrame frame) {
        boolean fin = frame.isFinalFragment();
        if (frame instanceof TextWebSocketFrame) {
            return new TextWebSocketFrame(fin, 0, frame.content().retainedDuplicate());
        } else if (frame instanceof BinaryWebSocketFrame) {
            return new BinaryWebSocketFrame(fin, 0, frame.content().retainedDuplicate());
        } else if (frame instanceof ContinuationWebSocketFrame) {
            return new ContinuationWebSocketFrame(fin, 0, frame.content().retainedDuplicate());
        }
        return null;
    }

    /** The CLOSE answering {@code close}: its status code echoed (RFC 6455 5.5.1), empty when it had none. */
    public static CloseWebSocketFrame closeAnswer(CloseWebSocketFrame close) {
        int code = close.statusCode();
        ByteBuf payload = code < 0 ? Unpooled.EMPTY_BUFFER
                : Unpooled.wrappedBuffer(new byte[] {(byte) (code >>> 8), (byte) code});
        return new CloseWebSocketFrame(true, 0, payload);
    }

    /** One upgraded connection, seen from the server. Thread-safe. */
    public static final class Connection {
        // Package-private: the handlers of NettyServerPipeline use the channel and record errors, PINGs, the
        // CLOSE sent and the end.
        final Channel channel;
        private final String requestUri;
        private final List<Map.Entry<String, String>> requestHeaders;
        // Appended on the Netty thread, read by the test: a synchronized list (a copy-on-write list makes
        // recording n frames cost O(n^2) and stalls the 80,000-frame tests).
        private final List<ReceivedFrame> frames = Collections.synchronizedList(new ArrayList<>());
        final List<Throwable> errors = new CopyOnWriteArrayList<>();
        private final AtomicLong dataBytes = new AtomicLong();
        final AtomicLong pings = new AtomicLong();
        final AtomicBoolean closeSent = new AtomicBoolean();
        final CompletableFuture<Void> closed = new CompletableFuture<>();

        Connection(Channel channel, String requestUri, List<Map.Entry<String, String>> requestHeaders) {
            this.channel = channel;
            this.requestUri = requestUri;
            this.requestHeaders = List.copyOf(requestHeaders);
        }

        void record(ReceivedFrame f) {
            if (f.isDataFrame()) {
                dataBytes.addAndGet(f.payloadLength());
            }
            frames.add(f);
        }

        public String requestUri() {
            return requestUri;
        }

        public List<Map.Entry<String, String>> requestHeaders() {
            return requestHeaders;
        }

        /** The first value of a request header (case-insensitive), or null. */
        public String requestHeader(String name) {
            return requestHeaders.stream().filter(e -> e.getKey().equalsIgnoreCase(name)).map(Map.Entry::getValue)
                    .findFirst().orElse(null);
        }

        public InetSocketAddress remoteAddress() {
            return (InetSocketAddress) channel.remoteAddress();
        }

        // ---- sending -------------------------------------------------------------------------

        public CompletableFuture<Void> sendText(String text) {
            return sendText(text, true);
        }

        public CompletableFuture<Void> sendText(String text, boolean fin) {
            return send(new TextWebSocketFrame(fin, 0, Unpooled.copiedBuffer(text, StandardCharsets.UTF_8)));
        }

        public CompletableFuture<Void> sendBinary(byte[] payload) {
            return sendBinary(payload, true);
        }

        public CompletableFuture<Void> sendBinary(byte[] payload, boolean fin) {
            return send(new BinaryWebSocketFrame(fin, 0, Unpooled.wrappedBuffer(payload)));
        }

        public CompletableFuture<Void> sendContinuation(byte[] payload, boolean fin) {
            return send(new ContinuationWebSocketFrame(fin, 0, Unpooled.wrappedBuffer(payload)));
        }

        public CompletableFuture<Void> sendPing(byte[] payload) {
            return send(new PingWebSocketFrame(Unpooled.wrappedBuffer(payload)));
        }

        public CompletableFuture<Void> sendPong(byte[] payload) {
            return send(new PongWebSocketFrame(Unpooled.wrappedBuffer(payload)));
        }

        /** Sends CLOSE with a status code and reason; the server then waits for the client's CLOSE. */
        public CompletableFuture<Void> sendClose(int statusCode, String reason) {
            closeSent.set(true);
            return send(new CloseWebSocketFrame(true, 0, statusCode, reason));
        }

        /**
         * Sends {@code totalBytes} of binary data in frames of at most {@code frameSize} bytes, with the
         * content of {@link Hex#pattern(int, int) Hex.pattern(totalBytes, 0)} (as one continuous
         * stream). Netty buffers what the client does not read yet. Completes when all is written.
         */
        public CompletableFuture<Void> sendBinaryBytes(long totalBytes, int frameSize) {
            CompletableFuture<Void> last = CompletableFuture.completedFuture(null);
            long offset = 0;
            while (offset < totalBytes || (totalBytes == 0 && offset == 0)) {
                int n = (int) Math.min(frameSize, totalBytes - offset);
                byte[] chunk = new byte[n];
                for (int i = 0; i < n; i++) {
                    chunk[i] = (byte) (((offset + i) * 31) % 251);
                }
                last = write(new BinaryWebSocketFrame(true, 0, Unpooled.wrappedBuffer(chunk)));
                offset += n;
                if (totalBytes == 0) {
                    break;
                }
            }
            channel.flush();
            return last;
        }

        /** Writes the frames in order and flushes once: they reach the client together, in few reads. */
        public CompletableFuture<Void> sendTogether(List<WebSocketFrame> frames) {
            CompletableFuture<Void> last = CompletableFuture.completedFuture(null);
            for (WebSocketFrame frame : frames) {
                if (frame instanceof CloseWebSocketFrame) {
                    closeSent.set(true);
                }
                last = write(frame);
            }
            channel.flush();
            return last;
        }

        /** Writes and flushes any Netty frame. */
        public CompletableFuture<Void> send(WebSocketFrame frame) {
            CompletableFuture<Void> f = write(frame);
            channel.flush();
            return f;
        }

        private CompletableFuture<Void> write(WebSocketFrame frame) {
            CompletableFuture<Void> result = new CompletableFuture<>();
            ChannelFuture cf = channel.write(frame);
            cf.addListener(x -> {
                if (x.isSuccess()) {
                    result.complete(null);
                } else {
                    result.completeExceptionally(x.cause());
                }
            });
            return result;
        }

        /** Stops (true) or resumes (false) reading from the client: its sends then wait in TCP buffers. */
        public void pauseReading(boolean paused) {
            channel.config().setAutoRead(!paused);
        }

        /** Ends the TCP connection at once, without a CLOSE frame. */
        public void drop() {
            channel.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        }

        // ---- what was received ----------------------------------------------------------------

        /** Every frame received so far, in order. */
        public List<ReceivedFrame> frames() {
            synchronized (frames) {
                return List.copyOf(frames);
            }
        }

        /** PINGs received (Netty answers each with a PONG; they are not in {@link #frames()}). */
        public long pingsReceived() {
            return pings.get();
        }

        /** Total data-frame payload bytes received. */
        public long dataBytesReceived() {
            return dataBytes.get();
        }

        /** Exceptions Netty reported on this connection (e.g. a protocol violation by the client). */
        public List<Throwable> errors() {
            return List.copyOf(errors);
        }

        public boolean isOpen() {
            return channel.isActive();
        }

        /** Waits until at least {@code n} frames were received; returns the first n. */
        public List<ReceivedFrame> awaitFrames(int n) {
            return awaitFrames(n, Await.DEFAULT_TIMEOUT);
        }

        public List<ReceivedFrame> awaitFrames(int n, Duration timeout) {
            Await.until(n + " frame(s) at the server", timeout, () -> frames.size() >= n,
                    () -> frames.size() + " received; errors " + errors + "; open " + isOpen());
            return frames().subList(0, n);
        }

        /** Waits until {@code n} data-frame payload bytes were received. */
        public void awaitDataBytes(long n) {
            Await.until(n + " data bytes at the server", Await.DEFAULT_TIMEOUT, () -> dataBytes.get() >= n,
                    () -> dataBytes.get() + " received in " + frames.size() + " frames; errors " + errors);
        }

        /** Waits for the first received frame matching {@code p}. */
        public ReceivedFrame awaitFrame(String what, Predicate<ReceivedFrame> p) {
            Await.until(what + " at the server", Await.DEFAULT_TIMEOUT,
                    () -> frames().stream().anyMatch(p),
                    () -> "received " + summary() + "; errors " + errors + "; open " + isOpen());
            return frames().stream().filter(p).findFirst().orElseThrow();
        }

        public ReceivedFrame awaitClose() {
            return awaitFrame("a CLOSE frame", ReceivedFrame::isClose);
        }

        public ReceivedFrame awaitPong() {
            return awaitFrame("a PONG frame", f -> f.opcode() == ReceivedFrame.PONG);
        }

        /** Waits until the TCP connection is closed (by either side). */
        public void awaitDisconnect() {
            Await.get("the server connection to close", closed);
        }

        public CompletableFuture<Void> closedFuture() {
            return closed;
        }

        private String summary() {
            List<ReceivedFrame> all = frames();
            if (all.size() <= 8) {
                return all.toString();
            }
            return all.size() + " frames, last " + all.subList(all.size() - 4, all.size());
        }
    }

    /** Configuration of a server; {@link #start()} binds it. */
    public static final class Builder {
        // Read by NettyServerPipeline and its handlers.
        String host = "127.0.0.1";
        boolean echo = true;
        boolean answerClose = true;
        boolean keepPayloads = true;
        int rejectStatus;
        String rejectBody = "";
        Consumer<Connection> onOpen;
        BiConsumer<Connection, ReceivedFrame> onFrame;
        Predicate<FullHttpRequest> admit;
        SslContext sslContext;
        String subprotocols;
        PerMessageDeflateServerExtensionHandshaker deflate;

        private Builder() {
        }

        /** Accept permessage-deflate as Netty's default handshaker does (level 6, windows 15, no limits). */
        public Builder deflate() {
            return deflate(new PerMessageDeflateServerExtensionHandshaker(6, false, 15, false, false, 0));
        }

        /** Accept permessage-deflate with this handshaker (its constructor sets what the server allows). */
        public Builder deflate(PerMessageDeflateServerExtensionHandshaker handshaker) {
            this.deflate = handshaker;
            return this;
        }

        /** Bind address: 127.0.0.1 (default) or ::1. */
        public Builder host(String host) {
            if (!host.equals("127.0.0.1") && !host.equals("::1")) {
                throw new IllegalArgumentException("loopback only: " + host);
            }
            this.host = host;
            return this;
        }

        /** Echo data frames back as received (default true). */
        public Builder echo(boolean echo) {
            this.echo = echo;
            return this;
        }

        /** Answer a client CLOSE and end the TCP connection (default true). */
        public Builder answerClose(boolean answerClose) {
            this.answerClose = answerClose;
            return this;
        }

        /** Keep the payload of received data frames (default true; CLOSE payloads are always kept). */
        public Builder keepPayloads(boolean keep) {
            this.keepPayloads = keep;
            return this;
        }

        /** Answer every upgrade request with this status and body instead of 101. */
        public Builder rejectUpgrades(int status, String body) {
            this.rejectStatus = status;
            this.rejectBody = body;
            return this;
        }

        /**
         * Checks each upgrade request before Netty's handshake handler sees it (on a Netty thread, in the
         * pipeline in front of {@code WebSocketServerProtocolHandler}): a request {@code admit} refuses is
         * answered 403 with the body "forbidden" and never upgraded.
         */
        public Builder admitUpgradesOnly(Predicate<FullHttpRequest> admit) {
            this.admit = admit;
            return this;
        }

        /** Runs on a Netty thread once a connection is upgraded. */
        public Builder onOpen(Consumer<Connection> onOpen) {
            this.onOpen = onOpen;
            return this;
        }

        /** Runs on a Netty thread after each received frame is recorded (and echoed). */
        public Builder onFrame(BiConsumer<Connection, ReceivedFrame> onFrame) {
            this.onFrame = onFrame;
            return this;
        }

        /** Serve wss://: an SslHandler from this server context first in every connection's pipeline. */
        public Builder sslContext(SslContext sslContext) {
            this.sslContext = sslContext;
            return this;
        }

        /** Subprotocols the server supports, in its order of preference; it selects the first one offered. */
        public Builder subprotocols(String... names) {
            this.subprotocols = String.join(",", names);
            return this;
        }

        public NettyWebSocketServer start() {
            return new NettyWebSocketServer(this);
        }
    }
}
