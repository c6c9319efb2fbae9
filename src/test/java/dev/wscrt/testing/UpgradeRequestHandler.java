package dev.wscrt.testing;

import dev.wscrt.testing.NettyWebSocketServer.Connection;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Records upgrade requests and, when configured, rejects them. After the upgrade, decoded frames pass
 * here before Netty's protocol handler, which answers PINGs itself: PINGs are counted here.
 */
final class UpgradeRequestHandler extends ChannelInboundHandlerAdapter {
    private final NettyWebSocketServer server;
    private final NettyWebSocketServer.Builder config;

    UpgradeRequestHandler(NettyWebSocketServer server) {
        this.server = server;
        this.config = server.config;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof PingWebSocketFrame) {
            for (Connection c : server.connections) {
                if (c.channel == ctx.channel()) {
                    c.pings.incrementAndGet();
                }
            }
        }
        if (msg instanceof FullHttpRequest req) {
            List<Map.Entry<String, String>> headers = new ArrayList<>();
            req.headers().forEach(e -> headers.add(Map.entry(e.getKey(), e.getValue())));
            server.upgradeRequests.add(Map.entry(req.method() + " " + req.uri() + " " + req.protocolVersion(),
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
