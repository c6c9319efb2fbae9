package dev.wscrt.bench;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
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
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrameDecoder;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshaker;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshakerFactory;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The benchmark's WebSocket server: Netty on 127.0.0.1 with one event-loop thread (epoll when
 * {@code netty-transport-native-epoll} is on the class path and works, NIO otherwise). Netty does the
 * HTTP upgrade; what happens next depends on the request path:
 *
 * <ul>
 *   <li>{@code /blast?size=S&count=N}: sends N BINARY messages of S bytes as fast as the channel's
 *       writability allows, then a TEXT {@code "done"}. The frames are encoded once, up front, into a
 *       chunk of whole frames that is written again and again ({@code retainedDuplicate}), so that the
 *       server is not what limits a fast client.
 *   <li>{@code /sink}: counts the BINARY/CONTINUATION payload bytes and the messages it receives and
 *       answers a TEXT {@code "stats"} with a TEXT {@code "<messages> <bytes>"}. Frames are parsed by a
 *       small streaming parser that skips (does not unmask) binary payload, again so that the server
 *       keeps up with a fast client.
 *   <li>{@code /echo}: Netty's own frame decoder and encoder; every TEXT/BINARY frame comes back as
 *       the same frame.
 * </ul>
 *
 * In every mode a CLOSE from the client is answered with a CLOSE carrying the same status code, then
 * the TCP connection is closed.
 */
public final class BenchServer implements AutoCloseable {
    static final int MAX_FRAME_PAYLOAD = 64 * 1024 * 1024;
    /** How many bytes of pre-encoded frames one blast write carries (at least one frame). */
    private static final int BLAST_CHUNK_BYTES = 256 * 1024;

    private final EventLoopGroup group;
    private final Channel serverChannel;
    private final String transport;

    private BenchServer(boolean tryEpoll) {
        IoHandlerFactory factory = null;
        Class<? extends ServerChannel> channelClass = null;
        String name = "nio";
        if (tryEpoll) {
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
        this.group = new MultiThreadIoEventLoopGroup(1, factory);
        try {
            ServerBootstrap b = new ServerBootstrap()
                    .group(group)
                    .channel(channelClass)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK,
                            new WriteBufferWaterMark(2 * 1024 * 1024, 8 * 1024 * 1024))
                    .childHandler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline()
                                    .addLast(new HttpServerCodec())
                                    .addLast(new HttpObjectAggregator(16 * 1024))
                                    .addLast(new UpgradeHandler());
                        }
                    });
            this.serverChannel = b.bind(new InetSocketAddress("127.0.0.1", 0)).syncUninterruptibly().channel();
        } catch (RuntimeException e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw e;
        }
    }

    /** Starts the server; {@code tryEpoll} = use Netty's epoll transport if it is available. */
    public static BenchServer start(boolean tryEpoll) {
        return new BenchServer(tryEpoll);
    }

    public int port() {
        return ((InetSocketAddress) serverChannel.localAddress()).getPort();
    }

    /** "epoll" or "nio". */
    public String transport() {
        return transport;
    }

    @Override
    public void close() {
        serverChannel.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
    }

    /**
     * Runs the server as its own process (how {@link Benchmark} uses it by default, so that the
     * clients' garbage collection and JIT work do not stop the server): prints
     * {@code "PORT <port> <transport>"} on standard output, then serves until standard input closes.
     * Option: {@code --no-epoll}.
     */
    public static void main(String[] args) throws IOException {
        boolean epoll = !List.of(args).contains("--no-epoll");
        try (BenchServer server = start(epoll)) {
            System.out.println("PORT " + server.port() + " " + server.transport());
            System.out.flush();
            byte[] sink = new byte[256];
            while (System.in.read(sink) >= 0) {
                // wait for EOF: the parent process is done or gone
            }
        }
        System.exit(0);
    }

    /** Upgrades the connection, then runs the mode named by the path. */
    private static final class UpgradeHandler extends ChannelInboundHandlerAdapter {
        private WebSocketServerHandshaker handshaker;
        private String mode;
        private BlastWriter blast;

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
            if (!path.equals("/blast") && !path.equals("/sink") && !path.equals("/echo")) {
                reject(ctx, HttpResponseStatus.NOT_FOUND, "unknown mode " + path);
                return;
            }
            int size;
            long count;
            if (path.equals("/blast")) {
                try {
                    size = Integer.parseInt(first(query, "size"));
                    count = Long.parseLong(first(query, "count"));
                } catch (RuntimeException e) {
                    reject(ctx, HttpResponseStatus.BAD_REQUEST, "blast needs size and count");
                    return;
                }
                if (size < 0 || size > MAX_FRAME_PAYLOAD || count < 0) {
                    reject(ctx, HttpResponseStatus.BAD_REQUEST, "bad size or count");
                    return;
                }
            } else {
                size = 0;
                count = 0;
            }
            WebSocketServerHandshakerFactory factory = new WebSocketServerHandshakerFactory(
                    "ws://" + req.headers().get(HttpHeaderNames.HOST, "127.0.0.1") + req.uri(), null, false,
                    MAX_FRAME_PAYLOAD);
            handshaker = factory.newHandshaker(req);
            if (handshaker == null) {
                WebSocketServerHandshakerFactory.sendUnsupportedVersionResponse(ctx.channel());
                return;
            }
            mode = path;
            Channel ch = ctx.channel();
            int blastSize = size;
            long blastCount = count;
            handshaker.handshake(ch, req).addListener((ChannelFutureListener) f -> {
                if (!f.isSuccess()) {
                    ch.close();
                    return;
                }
                ChannelPipeline p = ch.pipeline();
                switch (mode) {
                    case "/blast" -> {
                        blast = new BlastWriter(blastSize, blastCount);
                        p.addLast(blast);
                    }
                    case "/sink" -> {
                        // Replace Netty's frame decoder (bytes it may hold move on to the new handler).
                        ChannelHandlerContext decoder = p.context(WebSocketFrameDecoder.class);
                        p.replace(decoder.handler(), "bench-sink", new SinkParser());
                    }
                    default -> {
                        // echo: Netty's codec stays; frames arrive in onFrame.
                    }
                }
            });
        }

        private static String first(QueryStringDecoder query, String name) {
            List<String> values = query.parameters().get(name);
            if (values == null || values.isEmpty()) {
                throw new IllegalArgumentException("missing " + name);
            }
            return values.get(0);
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
            if (frame instanceof BinaryWebSocketFrame || frame instanceof TextWebSocketFrame) {
                if ("/echo".equals(mode)) {
                    ByteBuf content = frame.content().retainedDuplicate();
                    WebSocketFrame copy = frame instanceof TextWebSocketFrame
                            ? new TextWebSocketFrame(frame.isFinalFragment(), 0, content)
                            : new BinaryWebSocketFrame(frame.isFinalFragment(), 0, content);
                    ctx.channel().writeAndFlush(copy, ctx.channel().voidPromise());
                }
            } else if (frame instanceof CloseWebSocketFrame close) {
                if (blast != null) {
                    blast.stop(); // no data frames after our CLOSE (RFC 6455 5.5.1)
                }
                int code = close.statusCode();
                CloseWebSocketFrame answer = code < 0 ? new CloseWebSocketFrame()
                        : new CloseWebSocketFrame(code, "");
                ctx.channel().writeAndFlush(answer).addListener(ChannelFutureListener.CLOSE);
            } else if (frame instanceof PingWebSocketFrame) {
                ctx.channel().writeAndFlush(new PongWebSocketFrame(frame.content().retainedDuplicate()));
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    /**
     * Writes {@code count} pre-encoded BINARY frames while the channel is writable, then TEXT "done".
     * Added to the pipeline once the upgrade response is out.
     */
    private static final class BlastWriter extends ChannelInboundHandlerAdapter {
        private final int size;
        private long remaining;
        private ByteBuf chunk;
        private int framesPerChunk;
        private int frameBytes;
        private boolean doneSent;

        BlastWriter(int size, long count) {
            this.size = size;
            this.remaining = count;
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            int headerBytes = size < 126 ? 2 : size <= 0xFFFF ? 4 : 10;
            frameBytes = headerBytes + size;
            framesPerChunk = Math.max(1, BLAST_CHUNK_BYTES / frameBytes);
            chunk = ctx.alloc().directBuffer(framesPerChunk * frameBytes);
            byte[] payload = new byte[size];
            for (int i = 0; i < size; i++) {
                payload[i] = (byte) (i * 31 + 7);
            }
            for (int f = 0; f < framesPerChunk; f++) {
                chunk.writeByte(0x82); // FIN + BINARY, no mask
                if (size < 126) {
                    chunk.writeByte(size);
                } else if (size <= 0xFFFF) {
                    chunk.writeByte(126);
                    chunk.writeShort(size);
                } else {
                    chunk.writeByte(127);
                    chunk.writeLong(size);
                }
                chunk.writeBytes(payload);
            }
            pump(ctx);
        }

        /** Writes nothing more (what is already queued still goes out). */
        void stop() {
            doneSent = true;
            releaseChunk();
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
            if (ctx.channel().isWritable()) {
                pump(ctx);
            }
            super.channelWritabilityChanged(ctx);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) throws Exception {
            releaseChunk();
            super.channelInactive(ctx);
        }

        @Override
        public void handlerRemoved(ChannelHandlerContext ctx) {
            releaseChunk();
        }

        private void releaseChunk() {
            if (chunk != null) {
                chunk.release();
                chunk = null;
            }
        }

        private void pump(ChannelHandlerContext ctx) {
            Channel ch = ctx.channel();
            if (doneSent || chunk == null || !ch.isActive()) {
                return;
            }
            boolean wrote = false;
            while (remaining > 0 && ch.isWritable()) {
                int n = (int) Math.min(framesPerChunk, remaining);
                ByteBuf piece = n == framesPerChunk ? chunk.retainedDuplicate()
                        : chunk.retainedSlice(0, n * frameBytes);
                ch.write(piece, ch.voidPromise());
                remaining -= n;
                wrote = true;
            }
            if (remaining == 0) {
                doneSent = true;
                ch.write(new TextWebSocketFrame("done"), ch.voidPromise());
                wrote = true;
                releaseChunk();
            }
            if (wrote) {
                ch.flush();
            }
        }
    }

    /**
     * Server-side streaming parser for masked client frames: counts data payload without unmasking it,
     * unmasks only TEXT and control payloads (kept whole, they are small), answers "stats", PING and
     * CLOSE. Protocol errors close the connection.
     */
    private static final class SinkParser extends ChannelInboundHandlerAdapter {
        private static final int MAX_SMALL_PAYLOAD = 64 * 1024;
        private final byte[] header = new byte[14];
        private int headerHave;
        private int headerNeed = 2;
        private boolean inPayload;
        private int opcode;
        private boolean fin;
        private long payloadRemaining;
        private byte[] small;
        private int smallHave;
        private final byte[] mask = new byte[4];
        private long bytes;
        private long messages;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!(msg instanceof ByteBuf buf)) {
                ReferenceCountUtil.release(msg);
                return;
            }
            try {
                while (buf.isReadable() && ctx.channel().isActive()) {
                    if (!inPayload) {
                        int n = Math.min(headerNeed - headerHave, buf.readableBytes());
                        buf.readBytes(header, headerHave, n);
                        headerHave += n;
                        if (headerHave == headerNeed && !parseHeader(ctx)) {
                            return;
                        }
                    } else {
                        int n = (int) Math.min(payloadRemaining, buf.readableBytes());
                        if (small != null) {
                            buf.readBytes(small, smallHave, n);
                            smallHave += n;
                        } else {
                            buf.skipBytes(n);
                        }
                        if (opcode == 0 || opcode == 2) {
                            bytes += n;
                        }
                        payloadRemaining -= n;
                        if (payloadRemaining == 0) {
                            frameComplete(ctx);
                        }
                    }
                }
            } finally {
                buf.release();
            }
        }

        /** Returns false if the connection was closed for a protocol error. */
        private boolean parseHeader(ChannelHandlerContext ctx) {
            if (headerNeed == 2) {
                if ((header[1] & 0x80) == 0) {
                    ctx.close(); // client frames must be masked
                    return false;
                }
                int len7 = header[1] & 0x7F;
                headerNeed = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + 4;
                return true;
            }
            fin = (header[0] & 0x80) != 0;
            opcode = header[0] & 0x0F;
            int len7 = header[1] & 0x7F;
            long length;
            int maskAt;
            if (len7 == 126) {
                length = ((header[2] & 0xFFL) << 8) | (header[3] & 0xFFL);
                maskAt = 4;
            } else if (len7 == 127) {
                length = 0;
                for (int i = 2; i < 10; i++) {
                    length = (length << 8) | (header[i] & 0xFFL);
                }
                maskAt = 10;
            } else {
                length = len7;
                maskAt = 2;
            }
            if (length < 0) {
                ctx.close();
                return false;
            }
            System.arraycopy(header, maskAt, mask, 0, 4);
            headerHave = 0;
            headerNeed = 2;
            payloadRemaining = length;
            boolean keep = opcode != 0 && opcode != 2;
            if (keep && length > MAX_SMALL_PAYLOAD) {
                ctx.close();
                return false;
            }
            small = keep ? new byte[(int) length] : null;
            smallHave = 0;
            if (length == 0) {
                frameComplete(ctx);
            } else {
                inPayload = true;
            }
            return true;
        }

        private void frameComplete(ChannelHandlerContext ctx) {
            inPayload = false;
            byte[] payload = small;
            small = null;
            if (payload != null) {
                for (int i = 0; i < payload.length; i++) {
                    payload[i] ^= mask[i & 3];
                }
            }
            Channel ch = ctx.channel();
            switch (opcode) {
                case 0, 2 -> {
                    if (fin) {
                        messages++;
                    }
                }
                case 1 -> {
                    String text = new String(payload, StandardCharsets.UTF_8);
                    if (text.equals("stats")) {
                        ch.writeAndFlush(new TextWebSocketFrame(messages + " " + bytes));
                    }
                }
                case 8 -> {
                    CloseWebSocketFrame answer = payload.length >= 2
                            ? new CloseWebSocketFrame(((payload[0] & 0xFF) << 8) | (payload[1] & 0xFF), "")
                            : new CloseWebSocketFrame();
                    ch.writeAndFlush(answer).addListener(ChannelFutureListener.CLOSE);
                }
                case 9 -> ch.writeAndFlush(new PongWebSocketFrame(Unpooled.wrappedBuffer(payload)));
                case 10 -> {
                    // PONG: nothing to do
                }
                default -> ctx.close();
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
