package dev.wscrt.stress;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * The stress runs' WebSocket server: Netty on 127.0.0.1 (epoll when {@code netty-transport-native-epoll}
 * is on the class path and works, NIO otherwise), tuned for many connections (a large accept backlog)
 * and keeping no per-connection record, so that 100,000 cycles cost it nothing that grows.
 *
 * <p>Behaviour: every TEXT/BINARY/CONTINUATION frame is echoed as received (same type, same FIN bit);
 * PINGs are answered by Netty's protocol handler; a CLOSE is answered with a CLOSE carrying the same
 * status code, then the TCP connection is closed (the server ends it, as a well-behaved server does).
 *
 * <p>It normally runs in a child JVM ({@link #main}), so that the client's process figures (RSS, file
 * descriptors, heap) are the client's alone. Counters are updated on Netty's threads and read by
 * {@link #stats()} from any thread.
 */
public final class StressServer implements AutoCloseable {
    /** Accept queue length asked for; the kernel caps it at net.core.somaxconn (4096 here). */
    static final int BACKLOG = 16_384;
    /** The shared-connection run sends frames of up to 256 KiB; 1 MiB leaves room. */
    static final int MAX_FRAME_PAYLOAD = 1024 * 1024;
    /** Two loops: the machine has two cores, and the client needs its share of them. */
    private static final int THREADS = 2;

    private final EventLoopGroup group;
    private final Channel serverChannel;
    private final String transport;
    private final AtomicLong accepted = new AtomicLong();
    private final AtomicLong open = new AtomicLong();
    private final AtomicLong upgraded = new AtomicLong();
    private final AtomicLong framesEchoed = new AtomicLong();
    private final AtomicLong closesAnswered = new AtomicLong();
    private final AtomicLong errors = new AtomicLong();
    /** Exceptions Netty reported on connections, by class and message. */
    private final Map<String, LongAdder> errorKinds = new ConcurrentHashMap<>();

    private StressServer(boolean tryEpoll) {
        IoHandlerFactory factory = null;
        Class<? extends ServerChannel> channelClass = NioServerSocketChannel.class;
        String name = "nio";
        if (tryEpoll) {
            // By reflection: the epoll transport is added to the class path by scripts/stress.sh, not the pom.
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
        this.group = new MultiThreadIoEventLoopGroup(THREADS, factory);
        ChannelHandler frames = new FrameHandler();
        ChannelHandler counter = new ConnectionCounter();
        try {
            ServerBootstrap b = new ServerBootstrap()
                    .group(group)
                    .channel(channelClass)
                    .option(ChannelOption.SO_BACKLOG, BACKLOG)
                    .option(ChannelOption.SO_REUSEADDR, true)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childHandler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            accepted.incrementAndGet();
                            ch.pipeline()
                                    .addLast(counter)
                                    .addLast(new HttpServerCodec())
                                    .addLast(new HttpObjectAggregator(16 * 1024))
                                    .addLast(new WebSocketServerProtocolHandler(protocolConfig()))
                                    .addLast(frames);
                        }
                    });
            this.serverChannel = b.bind(new InetSocketAddress("127.0.0.1", 0)).syncUninterruptibly().channel();
        } catch (RuntimeException e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw e;
        }
    }

    private static WebSocketServerProtocolConfig protocolConfig() {
        return WebSocketServerProtocolConfig.newBuilder()
                .websocketPath("/")
                .checkStartsWith(true)
                .handleCloseFrames(false)
                .sendCloseFrame(null)
                .dropPongFrames(true)
                .handshakeTimeoutMillis(30_000)
                .decoderConfig(WebSocketDecoderConfig.newBuilder()
                        .maxFramePayloadLength(MAX_FRAME_PAYLOAD)
                        .expectMaskedFrames(true)
                        .allowExtensions(false)
                        .closeOnProtocolViolation(true)
                        .withUTF8Validator(true)
                        .build())
                .build();
    }

    /** Starts the server; {@code tryEpoll} = use Netty's epoll transport if it is available. */
    public static StressServer start(boolean tryEpoll) {
        return new StressServer(tryEpoll);
    }

    public int port() {
        return ((InetSocketAddress) serverChannel.localAddress()).getPort();
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

    @Override
    public void close() {
        serverChannel.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
    }

    /**
     * Runs the server as its own process: prints {@code "PORT <port> <transport>"}, then answers each
     * line {@code "stats"} on standard input with {@code "STATS <counters>"} and each line
     * {@code "errors"} with {@code "ERRORS <errorKinds>"}, until standard input closes.
     * Option: {@code --no-epoll}.
     */
    public static void main(String[] args) throws IOException {
        boolean epoll = !List.of(args).contains("--no-epoll");
        try (StressServer server = start(epoll)) {
            System.out.println("PORT " + server.port() + " " + server.transport());
            System.out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            String line;
            while ((line = in.readLine()) != null) {
                if (line.trim().equals("stats")) {
                    System.out.println("STATS " + server.stats());
                } else if (line.trim().equals("errors")) {
                    System.out.println("ERRORS " + server.errorKinds());
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

    /** Echoes data frames and answers CLOSE; stateless, so one instance serves every connection. */
    @ChannelHandler.Sharable
    private final class FrameHandler extends SimpleChannelInboundHandler<WebSocketFrame> {
        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
            if (evt instanceof WebSocketServerProtocolHandler.HandshakeComplete) {
                upgraded.incrementAndGet();
            }
            super.userEventTriggered(ctx, evt);
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, WebSocketFrame frame) {
            if (frame instanceof CloseWebSocketFrame close) {
                closesAnswered.incrementAndGet();
                int code = close.statusCode();
                // Echo the client's status code (RFC 6455 5.5.1), then end the TCP connection.
                ByteBuf payload = code < 0 ? Unpooled.EMPTY_BUFFER
                        : Unpooled.wrappedBuffer(new byte[] {(byte) (code >>> 8), (byte) code});
                ctx.writeAndFlush(new CloseWebSocketFrame(true, 0, payload)).addListener(ChannelFutureListener.CLOSE);
                return;
            }
            WebSocketFrame echo;
            ByteBuf content = frame.content().retainedDuplicate();
            if (frame instanceof TextWebSocketFrame) {
                echo = new TextWebSocketFrame(frame.isFinalFragment(), 0, content);
            } else if (frame instanceof BinaryWebSocketFrame) {
                echo = new BinaryWebSocketFrame(frame.isFinalFragment(), 0, content);
            } else if (frame instanceof ContinuationWebSocketFrame) {
                echo = new ContinuationWebSocketFrame(frame.isFinalFragment(), 0, content);
            } else {
                content.release(); // PONG (PINGs never get here: the protocol handler answers them)
                return;
            }
            framesEchoed.incrementAndGet();
            ctx.writeAndFlush(echo, ctx.voidPromise());
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            errors.incrementAndGet();
            String kind = cause.getClass().getSimpleName() + ": " + cause.getMessage();
            errorKinds.computeIfAbsent(kind.replace('\n', ' '), k -> new LongAdder()).increment();
            ctx.close();
        }
    }
}
