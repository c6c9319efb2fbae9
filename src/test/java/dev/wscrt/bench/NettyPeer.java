package dev.wscrt.bench;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolHandler;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Netty's WebSocket client ({@link WebSocketClientProtocolHandler}) on one event-loop thread, epoll transport
 * when it loads; sends are {@code writeAndFlush} of a frame wrapping the caller's buffer, and a sender waits
 * while the channel is not writable (Netty's default water marks).
 */
final class NettyPeer implements Peer {
    private final EventLoopGroup group;
    private final Class<? extends Channel> channelClass;
    private final String transport;
    private final SslContext ssl;

    NettyPeer(Path caPem) throws Exception {
        IoHandlerFactory factory;
        Class<? extends Channel> cls;
        String name;
        try {
            if (!(Boolean) Class.forName("io.netty.channel.epoll.Epoll").getMethod("isAvailable").invoke(null)) {
                throw new ClassNotFoundException("epoll not available");
            }
            factory = (IoHandlerFactory) Class.forName("io.netty.channel.epoll.EpollIoHandler")
                    .getMethod("newFactory").invoke(null);
            cls = Class.forName("io.netty.channel.epoll.EpollSocketChannel").asSubclass(Channel.class);
            name = "epoll";
        } catch (ReflectiveOperationException | LinkageError e) {
            factory = NioIoHandler.newFactory();
            cls = NioSocketChannel.class;
            name = "nio";
        }
        group = new MultiThreadIoEventLoopGroup(1, factory);
        channelClass = cls;
        transport = name;
        ssl = caPem == null ? null : SslContextBuilder.forClient().trustManager(caPem.toFile()).build();
    }

    @Override
    public String name() {
        return "Netty";
    }

    /** "epoll" or "nio". */
    String transport() {
        return transport;
    }

    @Override
    public CompletableFuture<Connection> connect(URI uri, Listener listener) {
        CompletableFuture<Connection> opened = new CompletableFuture<>();
        Conn conn = new Conn();
        WebSocketClientProtocolConfig config = WebSocketClientProtocolConfig.newBuilder()
                .webSocketUri(uri)
                .maxFramePayloadLength(64 * 1024 * 1024)
                .handleCloseFrames(false)
                .dropPongFrames(true)
                .handshakeTimeoutMillis(10_000)
                .build();
        boolean tls = uri.getScheme().equals("wss");
        new Bootstrap().group(group).channel(channelClass)
                .option(ChannelOption.TCP_NODELAY, true)
                .handler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        if (tls) {
                            ch.pipeline().addLast(ssl.newHandler(ch.alloc(), uri.getHost(), uri.getPort()));
                        }
                        ch.pipeline().addLast(new HttpClientCodec(), new HttpObjectAggregator(8192),
                                new WebSocketClientProtocolHandler(config), new Frames(conn, listener, opened));
                    }
                })
                .connect(uri.getHost(), uri.getPort())
                .addListener(f -> {
                    if (!f.isSuccess()) {
                        opened.completeExceptionally(f.cause());
                    }
                });
        return opened;
    }

    private static final class Frames extends SimpleChannelInboundHandler<WebSocketFrame> {
        private final Conn conn;
        private final Listener listener;
        private final CompletableFuture<Connection> opened;
        private final StringBuilder text = new StringBuilder();
        private boolean inText;
        private Throwable error;

        Frames(Conn conn, Listener listener, CompletableFuture<Connection> opened) {
            this.conn = conn;
            this.listener = listener;
            this.opened = opened;
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
            if (evt == WebSocketClientProtocolHandler.ClientHandshakeStateEvent.HANDSHAKE_COMPLETE) {
                conn.ch = ctx.channel();
                listener.onOpen(conn);
                opened.complete(conn);
            }
            super.userEventTriggered(ctx, evt);
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, WebSocketFrame frame) {
            if (frame instanceof BinaryWebSocketFrame || (frame instanceof ContinuationWebSocketFrame && !inText)) {
                ByteBuf content = frame.content();
                listener.onBinary(content.nioBuffer(), frame.isFinalFragment());
            } else if (frame instanceof TextWebSocketFrame || frame instanceof ContinuationWebSocketFrame) {
                text.append(frame.content().toString(java.nio.charset.StandardCharsets.UTF_8));
                inText = !frame.isFinalFragment();
                if (!inText) {
                    listener.onText(text.toString());
                    text.setLength(0);
                }
            } else if (frame instanceof CloseWebSocketFrame) {
                ctx.close();
            }
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
            synchronized (conn) {
                conn.notifyAll();
            }
            super.channelWritabilityChanged(ctx);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) throws Exception {
            if (!opened.isDone()) {
                opened.completeExceptionally(error != null ? error : new IllegalStateException("closed before open"));
            }
            synchronized (conn) {
                conn.notifyAll();
            }
            listener.onClosed(error);
            super.channelInactive(ctx);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (error == null) {
                error = cause;
            }
            ctx.close();
        }
    }

    private static final class Conn implements Connection {
        volatile Channel ch;

        @Override
        public void sendBinary(ByteBuffer payload) throws Exception {
            if (!ch.isWritable()) {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                synchronized (this) {
                    while (!ch.isWritable() && ch.isActive()) {
                        if (System.nanoTime() - deadline > 0) {
                            throw new TimeoutException("channel not writable for 30 s");
                        }
                        wait(10);
                    }
                }
            }
            ch.writeAndFlush(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(payload.duplicate())), ch.voidPromise());
        }

        @Override
        public void sendText(String text) {
            ch.writeAndFlush(new TextWebSocketFrame(text), ch.voidPromise());
        }

        @Override
        public void close() {
            ch.writeAndFlush(new CloseWebSocketFrame(1000, ""));
        }
    }

    @Override
    public void close() {
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
    }
}
