package dev.wscrt.faults;

import dev.wscrt.testing.NettyWebSocketServer;
import dev.wscrt.tls.TestCertificates;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The soak's echo server, run as a child JVM of {@link Soak} so that the soak's RSS, threads and
 * descriptors are the client's alone: Netty (NIO, two threads) on 127.0.0.1 with a ws port and a wss port
 * (JDK TLS, the {@link TestCertificates} server certificate). Echoes every data frame as received, answers
 * a CLOSE with the same status code and ends the TCP connection; keeps no per-connection record. Prints
 * {@code PORTS <ws> <wss> <CA PEM in base64>}, answers {@code stats} with {@code STATS ...}, and ends when
 * its standard input closes.
 */
public final class SoakServer {

    /** The soak's largest message is 2 MiB. */
    private static final int MAX_FRAME_PAYLOAD = 4 * 1024 * 1024;

    private static final AtomicLong ACCEPTED = new AtomicLong();
    private static final AtomicLong ECHOED = new AtomicLong();
    private static final AtomicLong ERRORS = new AtomicLong();

    private SoakServer() {
    }

    public static void main(String[] args) throws Exception {
        TestCertificates certs = TestCertificates.get();
        SslContext tls = SslContextBuilder.forServer(certs.server().privateKey(), certs.server().certificate())
                .sslProvider(SslProvider.JDK).build();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
        try {
            Channel ws = bind(group, null);
            Channel wss = bind(group, tls);
            System.out.println("PORTS " + port(ws) + " " + port(wss) + " "
                    + Base64.getEncoder().encodeToString(certs.caPem().getBytes(StandardCharsets.US_ASCII)));
            System.out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            String line;
            while ((line = in.readLine()) != null) {
                if (line.trim().equals("stats")) {
                    System.out.println("STATS accepted=" + ACCEPTED.get() + " echoed=" + ECHOED.get() + " errors="
                            + ERRORS.get());
                    System.out.flush();
                }
            }
        } finally {
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
        }
        System.exit(0);
    }

    private static int port(Channel c) {
        return ((InetSocketAddress) c.localAddress()).getPort();
    }

    private static Channel bind(EventLoopGroup group, SslContext tls) {
        ChannelHandler echo = new Echo();
        return new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .option(ChannelOption.SO_BACKLOG, 1024)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ACCEPTED.incrementAndGet();
                        if (tls != null) {
                            ch.pipeline().addLast(tls.newHandler(ch.alloc()));
                        }
                        ch.pipeline()
                                .addLast(new HttpServerCodec())
                                .addLast(new HttpObjectAggregator(16 * 1024))
                                .addLast(new WebSocketServerProtocolHandler(WebSocketServerProtocolConfig.newBuilder()
                                        .websocketPath("/").checkStartsWith(true).handleCloseFrames(false)
                                        .sendCloseFrame(null).dropPongFrames(true).handshakeTimeoutMillis(30_000)
                                        .decoderConfig(WebSocketDecoderConfig.newBuilder()
                                                .maxFramePayloadLength(MAX_FRAME_PAYLOAD).expectMaskedFrames(true)
                                                .allowExtensions(false).closeOnProtocolViolation(true)
                                                .withUTF8Validator(true).build())
                                        .build()))
                                .addLast(echo);
                    }
                })
                .bind(new InetSocketAddress("127.0.0.1", 0)).syncUninterruptibly().channel();
    }

    /** Echoes data frames, answers CLOSE; stateless. */
    @ChannelHandler.Sharable
    private static final class Echo extends SimpleChannelInboundHandler<WebSocketFrame> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, WebSocketFrame frame) {
            if (frame instanceof CloseWebSocketFrame close) {
                ctx.writeAndFlush(NettyWebSocketServer.closeAnswer(close)).addListener(ChannelFutureListener.CLOSE);
                return;
            }
            WebSocketFrame echo = NettyWebSocketServer.echoOf(frame);
            if (echo == null) {
                return;
            }
            ECHOED.incrementAndGet();
            ctx.writeAndFlush(echo, ctx.voidPromise());
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ERRORS.incrementAndGet();
            ctx.close();
        }
    }
}
