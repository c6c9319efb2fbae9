package dev.wscrt.testing;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.handler.codec.http.websocketx.extensions.WebSocketServerExtensionHandler;

/**
 * The pipeline of each TCP connection a {@link NettyWebSocketServer} accepts: a wire-byte counter, TLS when
 * configured, HTTP, the {@link UpgradeRequestHandler}, permessage-deflate when configured, Netty's WebSocket
 * protocol handler and the {@link RecordingFrameHandler}.
 */
final class NettyServerPipeline extends ChannelInitializer<SocketChannel> {
    private final NettyWebSocketServer server;

    NettyServerPipeline(NettyWebSocketServer server) {
        this.server = server;
    }

    @Override
    protected void initChannel(SocketChannel ch) {
        server.tcpConnections.incrementAndGet();
        NettyWebSocketServer.Builder config = server.config;
        WebSocketDecoderConfig decoderConfig = WebSocketDecoderConfig.newBuilder()
                .maxFramePayloadLength(NettyWebSocketServer.MAX_FRAME_PAYLOAD)
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
                    server.wireBytesReceived.addAndGet(buf.readableBytes());
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
                .addLast(new UpgradeRequestHandler(server));
        if (config.deflate != null) {
            ch.pipeline().addLast(new WebSocketServerExtensionHandler(config.deflate));
        }
        ch.pipeline()
                .addLast(new WebSocketServerProtocolHandler(wsConfig))
                .addLast(new RecordingFrameHandler(server));
    }
}
