package dev.wscrt.testing;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.handler.codec.http.websocketx.extensions.WebSocketServerExtensionHandler;
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

    private final Builder config;
    private final EventLoopGroup group;
    private final Channel serverChannel;
    private final List<Connection> connections = new CopyOnWriteArrayList<>();
    private final List<Map.Entry<String, List<Map.Entry<String, String>>>> upgradeRequests =
            new CopyOnWriteArrayList<>();
    private final AtomicLong tcpConnections = new AtomicLong();
    private final AtomicLong wireBytesReceived = new AtomicLong();

    private NettyWebSocketServer(Builder config) {
        this.config = config;
        this.group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
        try {
            ServerBootstrap b = new ServerBootstrap()
                    .group(group)
                    .channel(NioServerSocketChannel.class)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            tcpConnections.incrementAndGet();
                            initPipeline(ch);
                        }
                    });
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

    private void initPipeline(SocketChannel ch) {
        WebSocketDecoderConfig decoderConfig = WebSocketDecoderConfig.newBuilder()
                .maxFramePayloadLength(MAX_FRAME_PAYLOAD)
                .expectMaskedFrames(true)
                .allowMaskMismatch(false)
                .allowExtensions(config.deflate != null)
                .closeOnProtocolViolation(true)
                .withUTF8Validator(true)
                .build();
        WebSocketServerProtocolConfig wsConfig = WebSocketServerProtocolConfig.newBuilder()
                .websocketPath("/")
                .subprotocols(config.subprotocols)
                .checkStartsWith(true)
                .handleCloseFrames(false)
                .sendCloseFrame(null)
                .dropPongFrames(false)
                .handshakeTimeoutMillis(10_000)
                .decoderConfig(decoderConfig)
                .build();
        ch.pipeline().addLast("wire-bytes", new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                if (msg instanceof ByteBuf buf) {
                    wireBytesReceived.addAndGet(buf.readableBytes());
                }
                ctx.fireChannelRead(msg);
            }
        });
        if (config.sslContext != null) {
            ch.pipeline().addLast("ssl", config.sslContext.newHandler(ch.alloc()));
        }
        ch.pipeline()
                .addLast(new HttpServerCodec())
                .addLast(new HttpObjectAggregator(65536))
                .addLast(new UpgradeRequestHandler());
        if (config.deflate != null) {
            ch.pipeline().addLast(new WebSocketServerExtensionHandler(config.deflate));
        }
        ch.pipeline()
                .addLast(new WebSocketServerProtocolHandler(wsConfig))
                .addLast(new FrameHandler());
    }

    /**
     * Records upgrade requests and, when configured, rejects them. After the upgrade, decoded frames pass
     * here before Netty's protocol handler, which answers PINGs itself: PINGs are counted here.
     */
    private final class UpgradeRequestHandler extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof PingWebSocketFrame) {
                for (Connection c : connections) {
                    if (c.channel == ctx.channel()) {
                        c.pings.incrementAndGet();
                    }
                }
            }
            if (msg instanceof FullHttpRequest req) {
                List<Map.Entry<String, String>> headers = new ArrayList<>();
                req.headers().forEach(e -> headers.add(Map.entry(e.getKey(), e.getValue())));
                upgradeRequests.add(Map.entry(req.method() + " " + req.uri() + " " + req.protocolVersion(),
                        List.copyOf(headers)));
                int refusal = config.rejectStatus > 0 ? config.rejectStatus
                        : config.admit != null && !config.admit.test(req) ? 403 : 0;
                if (refusal > 0) {
                    req.release();
                    byte[] body = (config.rejectStatus > 0 ? config.rejectBody : "forbidden")
                            .getBytes(StandardCharsets.UTF_8);
                    DefaultFullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                            HttpResponseStatus.valueOf(refusal), Unpooled.wrappedBuffer(body));
                    res.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
                    res.headers().set(HttpHeaderNames.CONTENT_LENGTH, body.length);
                    res.headers().set("X-Test-Server", "netty");
                    ctx.writeAndFlush(res).addListener(ChannelFutureListener.CLOSE);
                    return;
                }
            }
            ctx.fireChannelRead(msg);
        }
    }

    private final class FrameHandler extends SimpleChannelInboundHandler<WebSocketFrame> {
        private Connection connection;

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
            if (evt instanceof WebSocketServerProtocolHandler.HandshakeComplete hc) {
                List<Map.Entry<String, String>> headers = new ArrayList<>();
                hc.requestHeaders().forEach(e -> headers.add(Map.entry(e.getKey(), e.getValue())));
                connection = new Connection(ctx.channel(), hc.requestUri(), headers);
                connections.add(connection);
                if (config.onOpen != null) {
                    config.onOpen.accept(connection);
                }
            }
            super.userEventTriggered(ctx, evt);
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, WebSocketFrame frame) {
            Connection c = connection;
            ReceivedFrame rf = new ReceivedFrame(opcodeOf(frame), frame.isFinalFragment(), frame.rsv(), true,
                    frame.content().readableBytes(),
                    config.keepPayloads || frame instanceof CloseWebSocketFrame
                            ? ByteBufUtil.getBytes(frame.content()) : null);
            c.record(rf);
            if (frame instanceof CloseWebSocketFrame) {
                if (config.answerClose) {
                    if (c.closeSent.compareAndSet(false, true)) {
                        // Echo the client's status code (RFC 6455 5.5.1), then end the TCP connection.
                        ctx.writeAndFlush(closeAnswer((CloseWebSocketFrame) frame))
                                .addListener(ChannelFutureListener.CLOSE);
                    } else {
                        ctx.close();
                    }
                }
            } else if (config.echo && rf.isDataFrame()) {
                ctx.writeAndFlush(echoOf(frame));
            }
            if (config.onFrame != null) {
                config.onFrame.accept(c, rf);
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) throws Exception {
            if (connection != null) {
                connection.closed.complete(null);
            }
            super.channelInactive(ctx);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (connection != null) {
                connection.errors.add(cause);
            }
            ctx.close();
        }
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

    private static int opcodeOf(WebSocketFrame f) {
        if (f instanceof ContinuationWebSocketFrame) {
            return ReceivedFrame.CONTINUATION;
        } else if (f instanceof TextWebSocketFrame) {
            return ReceivedFrame.TEXT;
        } else if (f instanceof BinaryWebSocketFrame) {
            return ReceivedFrame.BINARY;
        } else if (f instanceof CloseWebSocketFrame) {
            return ReceivedFrame.CLOSE;
        } else if (f instanceof PingWebSocketFrame) {
            return ReceivedFrame.PING;
        } else if (f instanceof PongWebSocketFrame) {
            return ReceivedFrame.PONG;
        }
        throw new IllegalArgumentException("unknown frame type " + f);
    }

    /** One upgraded connection, seen from the server. Thread-safe. */
    public static final class Connection {
        private final Channel channel;
        private final String requestUri;
        private final List<Map.Entry<String, String>> requestHeaders;
        // Appended on the Netty thread, read by the test: a synchronized list (a copy-on-write list makes
        // recording n frames cost O(n^2) and stalls the 80,000-frame tests).
        private final List<ReceivedFrame> frames = Collections.synchronizedList(new ArrayList<>());
        private final List<Throwable> errors = new CopyOnWriteArrayList<>();
        private final AtomicLong dataBytes = new AtomicLong();
        private final AtomicLong pings = new AtomicLong();
        private final AtomicBoolean closeSent = new AtomicBoolean();
        private final CompletableFuture<Void> closed = new CompletableFuture<>();

        Connection(Channel channel, String requestUri, List<Map.Entry<String, String>> requestHeaders) {
            this.channel = channel;
            this.requestUri = requestUri;
            this.requestHeaders = List.copyOf(requestHeaders);
        }

        private void record(ReceivedFrame f) {
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
        private String host = "127.0.0.1";
        private boolean echo = true;
        private boolean answerClose = true;
        private boolean keepPayloads = true;
        private int rejectStatus;
        private String rejectBody = "";
        private Consumer<Connection> onOpen;
        private BiConsumer<Connection, ReceivedFrame> onFrame;
        private Predicate<FullHttpRequest> admit;
        private SslContext sslContext;
        private String subprotocols;
        private PerMessageDeflateServerExtensionHandshaker deflate;

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
