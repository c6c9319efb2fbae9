package dev.wscrt.loadserver;

import dev.wscrt.testing.NettyWebSocketServer;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.Utf8FrameValidator;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrameDecoder;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshaker;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshakerFactory;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.ReferenceCountUtil;
import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

/**
 * The one Netty WebSocket server of the benchmark and the stress runs, on 127.0.0.1 (epoll when Netty's
 * epoll transport loads, NIO otherwise). Netty does the HTTP upgrade; the request path picks the mode:
 *
 * <ul>
 *   <li>{@code /blast?size=S&count=N}: sends N BINARY messages of S bytes as fast as the channel's
 *       writability allows, then a TEXT {@code "done"} (with {@code &text=1}, TEXT messages of ASCII letters
 *       instead of BINARY ones); the frames are encoded once into a chunk of whole frames that is written
 *       again and again, so that the server is not what limits a fast client.
 *   <li>{@code /sink}: counts BINARY/CONTINUATION payload bytes and messages with a streaming parser that
 *       skips (does not unmask) data payload, and answers a TEXT {@code "stats"} with
 *       {@code "<messages> <bytes>"}.
 *   <li>any other path ({@code /echo}, {@code /}): Netty's frame decoder, a UTF-8 check of TEXT messages,
 *       and every TEXT/BINARY/CONTINUATION frame back as received (same type, same FIN bit).
 * </ul>
 *
 * In every mode PING gets PONG and a CLOSE is answered with a CLOSE carrying the same status code, then the
 * TCP connection is closed. With a certificate the same server also listens for wss:// on one port per
 * {@link TlsPort}, Netty's {@link SslHandler} in front: full handshakes only, resumable sessions, BoringSSL
 * for throughput, and TLS 1.2 full and resumable. With {@code raw}, another port serves plain TCP for the
 * transport ceiling, see {@link RawHandler}.
 *
 * <p>Counters are updated on Netty's threads and read by {@link #stats()} from any thread.
 */
public final class LoadServer implements AutoCloseable {
    /** Largest frame payload the decoder accepts (the benchmark's largest message is 1 MiB). */
    static final int MAX_FRAME_PAYLOAD = 64 * 1024 * 1024;
    /** How many bytes of pre-encoded frames one blast write carries (at least one frame). */
    public static final int BLAST_CHUNK_BYTES = 256 * 1024;
    /** How the server is set up. */
    public record Options(boolean epoll, int threads, int backlog, File certificatePem, File privateKeyPem,
                          boolean raw) {
        public static Options parse(List<String> args) {
            boolean epoll = true;
            int threads = 1;
            int backlog = 1024;
            File cert = null;
            File key = null;
            boolean raw = false;
            for (String a : args) {
                if (a.equals("--no-epoll")) {
                    epoll = false;
                } else if (a.startsWith("--threads=")) {
                    threads = Integer.parseInt(a.substring(10));
                } else if (a.startsWith("--backlog=")) {
                    backlog = Integer.parseInt(a.substring(10));
                } else if (a.startsWith("--tls-cert=")) {
                    cert = new File(a.substring(11));
                } else if (a.startsWith("--tls-key=")) {
                    key = new File(a.substring(10));
                } else if (a.equals("--raw")) {
                    raw = true;
                } else {
                    throw new IllegalArgumentException("unknown server option " + a);
                }
            }
            return new Options(epoll, threads, backlog, cert, key, raw);
        }
    }

    private final EventLoopGroup group;
    private final Channel wsChannel;
    /** One per {@link TlsPort}; empty without a certificate. */
    private final Map<TlsPort, Channel> wssChannels = new EnumMap<>(TlsPort.class);
    private final String dataTlsProvider;
    private final Channel rawChannel;
    private final String transport;
    private final AtomicLong accepted = new AtomicLong();
    private final AtomicLong open = new AtomicLong();
    private final AtomicLong upgraded = new AtomicLong();
    private final AtomicLong framesEchoed = new AtomicLong();
    private final AtomicLong closesAnswered = new AtomicLong();
    private final AtomicLong errors = new AtomicLong();
    private final AtomicReference<String> lastCipher = new AtomicReference<>("none");
    private final Map<String, LongAdder> errorKinds = new ConcurrentHashMap<>();

    private LoadServer(Options options) throws Exception {
        IoHandlerFactory factory = null;
        Class<? extends ServerChannel> channelClass = NioServerSocketChannel.class;
        String name = "nio";
        if (options.epoll()) {
            try {
                Class<?> epoll = Class.forName("io.netty.channel.epoll.Epoll");
                if ((Boolean) epoll.getMethod("isAvailable").invoke(null)) {
                    factory = (IoHandlerFactory) Class.forName("io.netty.channel.epoll.EpollIoHandler")
                            .getMethod("newFactory").invoke(null);
                    channelClass = Class.forName("io.netty.channel.epoll.EpollServerSocketChannel")
                            .asSubclass(ServerChannel.class);
                    name = "epoll";
                }
            } catch (ReflectiveOperationException | LinkageError e) {
                factory = null;
            }
        }
        if (factory == null) {
            factory = NioIoHandler.newFactory();
            channelClass = NioServerSocketChannel.class;
            name = "nio";
        }
        this.transport = name;
        this.group = new MultiThreadIoEventLoopGroup(options.threads(), factory);
        try {
            ChannelHandler counter = new ConnectionCounter();
            wsChannel = bind(channelClass, options, webSocketInitializer(counter, null, false));
            if (options.certificatePem() != null) {
                for (TlsPort port : TlsPort.values()) {
                    SslContext[] contexts = new SslContext[port.contexts()];
                    for (int i = 0; i < contexts.length; i++) {
                        contexts[i] = port.context(options.certificatePem(), options.privateKeyPem());
                    }
                    wssChannels.put(port, bind(channelClass, options,
                            webSocketInitializer(counter, contexts, port.forgetsSessions())));
                }
                dataTlsProvider = TlsPort.dataProvider();
            } else {
                dataTlsProvider = "none";
            }
            rawChannel = !options.raw() ? null : bind(channelClass, options, new ChannelInitializer<>() {
                @Override
                protected void initChannel(Channel ch) {
                    ch.pipeline().addLast(new RawHandler());
                }
            });
        } catch (Exception | Error e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw e;
        }
    }

    /** {@code contexts}: null for ws://, else the TLS contexts that connections take turns among. */
    private ChannelInitializer<Channel> webSocketInitializer(ChannelHandler counter, SslContext[] contexts,
                                                             boolean forgetSessions) {
        AtomicLong turns = new AtomicLong();
        return new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                accepted.incrementAndGet();
                ChannelPipeline p = ch.pipeline();
                p.addLast(counter);
                if (contexts != null) {
                    SslContext ssl = contexts[(int) (turns.getAndIncrement() % contexts.length)];
                    SslHandler tls = ssl.newHandler(ch.alloc());
                    if (forgetSessions) {
                        tls.handshakeFuture().addListener(done -> tls.engine().getSession().invalidate());
                    }
                    p.addLast(tls);
                }
                p.addLast(new HttpServerCodec())
                        .addLast(new HttpObjectAggregator(16 * 1024))
                        .addLast(new UpgradeHandler(contexts != null));
            }
        };
    }

    private Channel bind(Class<? extends ServerChannel> channelClass, Options options,
                         ChannelInitializer<Channel> initializer) {
        return new ServerBootstrap()
                .group(group)
                .channel(channelClass)
                .option(ChannelOption.SO_BACKLOG, options.backlog())
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK,
                        new WriteBufferWaterMark(2 * 1024 * 1024, 8 * 1024 * 1024))
                .childHandler(initializer)
                .bind(new InetSocketAddress("127.0.0.1", 0)).syncUninterruptibly().channel();
    }

    /** Starts the server. */
    public static LoadServer start(Options options) throws Exception {
        return new LoadServer(options);
    }

    private static int portOf(Channel ch) {
        return ch == null ? 0 : ((InetSocketAddress) ch.localAddress()).getPort();
    }

    /** The ws:// port. */
    public int port() {
        return portOf(wsChannel);
    }

    /** The wss:// port of that kind, 0 without a certificate. */
    public int tlsPort(TlsPort port) {
        return portOf(wssChannels.get(port));
    }

    /** The wss:// port with full handshakes only ({@link TlsPort#FULL}), 0 without a certificate. */
    public int tlsPort() {
        return tlsPort(TlsPort.FULL);
    }

    /** The TLS implementation of the {@link TlsPort#DATA} port: BoringSSL's version string, "JDK" or "none". */
    public String dataTlsProvider() {
        return dataTlsProvider;
    }

    /** The plain TCP port ({@link RawHandler}), 0 without {@code raw}. */
    public int rawPort() {
        return portOf(rawChannel);
    }

    /** "epoll" or "nio". */
    public String transport() {
        return transport;
    }

    /** The counters, as {@code accepted=.. open=.. upgraded=.. echoed=.. closes=.. errors=..}. */
    public String stats() {
        return "accepted=" + accepted.get() + " open=" + open.get() + " upgraded=" + upgraded.get()
                + " echoed=" + framesEchoed.get() + " closes=" + closesAnswered.get() + " errors=" + errors.get();
    }

    /** "none", or each distinct exception with its count: "IOException: Connection reset by peer x3; ...". */
    public String errorKinds() {
        if (errorKinds.isEmpty()) {
            return "none";
        }
        StringBuilder sb = new StringBuilder();
        new TreeMap<>(errorKinds).forEach((kind, n) -> sb.append(sb.length() == 0 ? "" : "; ").append(kind)
                .append(" x").append(n.sum()));
        return sb.toString();
    }

    /** The TLS version and cipher suite of the last wss handshake ("TLSv1.3 TLS_AES_256_GCM_SHA384"). */
    public String lastCipher() {
        return lastCipher.get();
    }

    private void error(ChannelHandlerContext ctx, Throwable cause) {
        errors.incrementAndGet();
        String kind = cause.getClass().getSimpleName() + ": " + cause.getMessage();
        errorKinds.computeIfAbsent(kind.replace('\n', ' '), k -> new LongAdder()).increment();
        ctx.close();
    }

    @Override
    public void close() {
        List<Channel> channels = new ArrayList<>(wssChannels.values());
        channels.add(wsChannel);
        channels.add(rawChannel);
        for (Channel ch : channels) {
            if (ch != null) {
                ch.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
            }
        }
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
    }

    /**
     * Runs the server as its own process ({@link LoadServerProcess} starts it): prints
     * {@code "READY ws=<port> wss=<port> wss-resume=<port> wss-data=<port> wss12=<port> wss12-resume=<port>
     * raw=<port> data-tls=<provider> transport=<epoll|nio>"} (one entry per {@link TlsPort}; 0 for a port not
     * served),
     * then answers each line {@code "stats"}, {@code "errors"} or {@code "cipher"} on standard input with
     * {@code "STATS <counters>"}, {@code "ERRORS <errorKinds>"} or {@code "CIPHER <lastCipher>"}, until
     * standard input closes. Options: see {@link Options#parse}.
     */
    public static void main(String[] args) throws Exception {
        try (LoadServer server = start(Options.parse(List.of(args)))) {
            StringBuilder ready = new StringBuilder("READY ws=").append(server.port());
            for (TlsPort port : TlsPort.values()) {
                ready.append(' ').append(port.key()).append('=').append(server.tlsPort(port));
            }
            System.out.println(ready.append(" raw=").append(server.rawPort())
                    .append(" data-tls=").append(server.dataTlsProvider().replace(' ', '_'))
                    .append(" transport=").append(server.transport()));
            System.out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            String line;
            while ((line = in.readLine()) != null) {
                switch (line.trim()) {
                    case "stats" -> System.out.println("STATS " + server.stats());
                    case "errors" -> System.out.println("ERRORS " + server.errorKinds());
                    case "cipher" -> System.out.println("CIPHER " + server.lastCipher());
                    default -> System.out.println("UNKNOWN " + line.trim());
                }
                System.out.flush();
            }
        }
        System.exit(0);
    }

    /** Counts TCP connections as they open and close. */
    @ChannelHandler.Sharable
    private final class ConnectionCounter extends ChannelInboundHandlerAdapter {
        @Override
        public void channelActive(ChannelHandlerContext ctx) throws Exception {
            open.incrementAndGet();
            super.channelActive(ctx);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) throws Exception {
            open.decrementAndGet();
            super.channelInactive(ctx);
        }
    }

    /** Upgrades the connection, then runs the mode named by the path. */
    private final class UpgradeHandler extends ChannelInboundHandlerAdapter {
        private final boolean tls;
        private WebSocketServerHandshaker handshaker;
        private String mode;
        private BlastWriter blast;

        UpgradeHandler(boolean tls) {
            this.tls = tls;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof FullHttpRequest req) {
                try {
                    upgrade(ctx, req);
                } finally {
                    req.release();
                }
            } else if (msg instanceof WebSocketFrame frame) {
                try {
                    onFrame(ctx, frame);
                } finally {
                    frame.release();
                }
            } else {
                ReferenceCountUtil.release(msg);
            }
        }

        private void upgrade(ChannelHandlerContext ctx, FullHttpRequest req) {
            QueryStringDecoder query = new QueryStringDecoder(req.uri());
            String path = query.path();
            int size = 0;
            long count = 0;
            boolean text = false;
            if (path.equals("/blast")) {
                try {
                    size = Integer.parseInt(query.parameters().get("size").get(0));
                    count = Long.parseLong(query.parameters().get("count").get(0));
                    text = query.parameters().containsKey("text");
                } catch (RuntimeException e) {
                    reject(ctx, HttpResponseStatus.BAD_REQUEST, "blast needs size and count");
                    return;
                }
                if (size < 0 || size > MAX_FRAME_PAYLOAD || count < 0) {
                    reject(ctx, HttpResponseStatus.BAD_REQUEST, "bad size or count");
                    return;
                }
            }
            WebSocketDecoderConfig decoder = WebSocketDecoderConfig.newBuilder()
                    .maxFramePayloadLength(MAX_FRAME_PAYLOAD)
                    .expectMaskedFrames(true)
                    .allowExtensions(false)
                    .closeOnProtocolViolation(true)
                    .build();
            String scheme = tls ? "wss://" : "ws://";
            handshaker = new WebSocketServerHandshakerFactory(
                    scheme + req.headers().get(HttpHeaderNames.HOST, "127.0.0.1") + req.uri(), null, decoder)
                    .newHandshaker(req);
            if (handshaker == null) {
                WebSocketServerHandshakerFactory.sendUnsupportedVersionResponse(ctx.channel());
                return;
            }
            mode = path.equals("/blast") || path.equals("/sink") ? path : "echo";
            Channel ch = ctx.channel();
            int blastSize = size;
            long blastCount = count;
            boolean blastText = text;
            handshaker.handshake(ch, req).addListener((ChannelFutureListener) f -> {
                if (!f.isSuccess()) {
                    ch.close();
                    return;
                }
                upgraded.incrementAndGet();
                ChannelPipeline p = ch.pipeline();
                switch (mode) {
                    case "/blast" -> {
                        blast = new BlastWriter(blastSize, blastCount, blastText);
                        p.addLast(blast);
                    }
                    case "/sink" -> {
                        // Replace Netty's frame decoder (bytes it may hold move on to the new handler).
                        ChannelHandlerContext decoderContext = p.context(WebSocketFrameDecoder.class);
                        p.replace(decoderContext.handler(), "load-sink",
                                new SinkParser(closesAnswered, LoadServer.this::error));
                    }
                    default -> p.addBefore(p.context(this).name(), "utf8", new Utf8FrameValidator(true));
                }
            });
        }

        private static void reject(ChannelHandlerContext ctx, HttpResponseStatus status, String text) {
            byte[] body = text.getBytes(StandardCharsets.UTF_8);
            DefaultFullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                    Unpooled.wrappedBuffer(body));
            res.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
            res.headers().set(HttpHeaderNames.CONTENT_LENGTH, body.length);
            ctx.writeAndFlush(res).addListener(ChannelFutureListener.CLOSE);
        }

        /** Frames decoded by Netty (echo mode, and whatever a blast client sends). */
        private void onFrame(ChannelHandlerContext ctx, WebSocketFrame frame) {
            Channel ch = ctx.channel();
            if (frame instanceof CloseWebSocketFrame close) {
                if (blast != null) {
                    blast.stop(); // no data frames after our CLOSE (RFC 6455 5.5.1)
                }
                closesAnswered.incrementAndGet();
                ch.writeAndFlush(NettyWebSocketServer.closeAnswer(close)).addListener(ChannelFutureListener.CLOSE);
            } else if (frame instanceof PingWebSocketFrame) {
                ch.writeAndFlush(new PongWebSocketFrame(frame.content().retainedDuplicate()));
            } else if (frame instanceof PongWebSocketFrame) {
                return;
            } else if ("echo".equals(mode)) {
                WebSocketFrame echo = NettyWebSocketServer.echoOf(frame); // a data frame: controls are answered above
                framesEchoed.incrementAndGet();
                ch.writeAndFlush(echo, ch.voidPromise());
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
            // Fired by the SslHandler, which sits before this handler.
            if (evt instanceof SslHandshakeCompletionEvent done && done.isSuccess()) {
                SslHandler ssl = ctx.pipeline().get(SslHandler.class);
                lastCipher.set(ssl.engine().getSession().getProtocol() + " "
                        + ssl.engine().getSession().getCipherSuite());
            }
            super.userEventTriggered(ctx, evt);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            error(ctx, cause);
        }
    }
}
