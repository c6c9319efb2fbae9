package dev.wscrt.loadserver;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;

/**
 * Streaming parser for masked client frames: counts data payload without unmasking it, unmasks only
 * TEXT and control payloads (kept whole, they are small), answers "stats", PING and CLOSE. Protocol
 * errors close the connection.
 */
final class SinkParser extends ChannelInboundHandlerAdapter {
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
    private final AtomicLong closesAnswered;
    private final BiConsumer<ChannelHandlerContext, Throwable> onError;

    /** {@code closesAnswered} counts the CLOSE frames answered; {@code onError} gets what the pipeline threw. */
    SinkParser(AtomicLong closesAnswered, BiConsumer<ChannelHandlerContext, Throwable> onError) {
        this.closesAnswered = closesAnswered;
        this.onError = onError;
    }

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
        boolean keep = opcode != 0 && opcode != 2;
        if (length < 0 || (keep && length > MAX_SMALL_PAYLOAD)) {
            ctx.close();
            return false;
        }
        System.arraycopy(header, maskAt, mask, 0, 4);
        headerHave = 0;
        headerNeed = 2;
        payloadRemaining = length;
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
                if (new String(payload, StandardCharsets.UTF_8).equals("stats")) {
                    ch.writeAndFlush(new TextWebSocketFrame(messages + " " + bytes));
                }
            }
            case 8 -> {
                closesAnswered.incrementAndGet();
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
        onError.accept(ctx, cause);
    }
}
