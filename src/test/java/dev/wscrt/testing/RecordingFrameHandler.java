package dev.wscrt.testing;

import dev.wscrt.testing.NettyWebSocketServer.Connection;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The last handler of a {@link NettyWebSocketServer} connection: makes its {@link NettyWebSocketServer.Connection}
 * at the handshake, records every frame received, echoes data frames, answers CLOSE, and runs the hooks.
 */
final class RecordingFrameHandler extends SimpleChannelInboundHandler<WebSocketFrame> {
    private final NettyWebSocketServer server;
    private final NettyWebSocketServer.Builder config;
    private Connection connection;

    RecordingFrameHandler(NettyWebSocketServer server) {
        this.server = server;
        this.config = server.config;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof WebSocketServerProtocolHandler.HandshakeComplete hc) {
            List<Map.Entry<String, String>> headers = new ArrayList<>();
            hc.requestHeaders().forEach(e -> headers.add(Map.entry(e.getKey(), e.getValue())));
            connection = new Connection(ctx.channel(), hc.requestUri(), headers);
            server.connections.add(connection);
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
                    ctx.writeAndFlush(NettyWebSocketServer.closeAnswer((CloseWebSocketFrame) frame))
                            .addListener(ChannelFutureListener.CLOSE);
                } else {
                    ctx.close();
                }
            }
        } else if (config.echo && rf.isDataFrame()) {
            ctx.writeAndFlush(NettyWebSocketServer.echoOf(frame));
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
}
