package dev.wscrt.loadserver;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;

/**
 * Plain TCP on the server's raw port, for the transport ceiling: the same server process, transport and
 * write sizes as the WebSocket modes, without WebSocket. The client's first line picks the mode:
 *
 * <ul>
 *   <li>{@code "recv <chunk> <total>\n"}: the server writes {@code total} bytes in writes of {@code chunk}
 *       bytes while the channel is writable;
 *   <li>{@code "send <total>\n"}: the server counts the bytes that follow and answers {@code "ok\n"} once it
 *       has {@code total} of them;
 *   <li>{@code "echo\n"}: every byte back.
 * </ul>
 */
final class RawHandler extends ChunkWriter {
    private static final int MAX_LINE = 128;
    private final StringBuilder line = new StringBuilder();
    private String mode;
    private long remaining;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf buf)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (mode == null) {
            while (buf.isReadable() && mode == null) {
                char c = (char) buf.readByte();
                if (c == '\n') {
                    start(ctx, line.toString().trim().split(" "));
                } else if (line.length() < MAX_LINE) {
                    line.append(c);
                } else {
                    buf.release();
                    ctx.close();
                    return;
                }
            }
        }
        if ("echo".equals(mode) && buf.isReadable()) {
            ctx.writeAndFlush(buf);
            return;
        }
        if ("send".equals(mode) && remaining > 0) {
            remaining -= buf.readableBytes();
            if (remaining <= 0) {
                ctx.writeAndFlush(Unpooled.wrappedBuffer("ok\n".getBytes(StandardCharsets.US_ASCII)));
            }
        }
        buf.release();
    }

    private void start(ChannelHandlerContext ctx, String[] words) {
        try {
            switch (words[0]) {
                case "recv" -> {
                    int size = Integer.parseInt(words[1]);
                    remaining = Long.parseLong(words[2]);
                    chunk = ctx.alloc().directBuffer(size);
                    for (int i = 0; i < size; i++) {
                        chunk.writeByte(patternByte(i));
                    }
                    mode = "recv";
                    pump(ctx);
                }
                case "send" -> {
                    remaining = Long.parseLong(words[1]);
                    mode = "send";
                }
                case "echo" -> mode = "echo";
                default -> ctx.close();
            }
        } catch (RuntimeException e) {
            ctx.close();
        }
    }

    @Override
    void pump(ChannelHandlerContext ctx) {
        Channel ch = ctx.channel();
        if (chunk == null || !ch.isActive()) {
            return;
        }
        while (remaining > 0 && ch.isWritable()) {
            int n = (int) Math.min(chunk.readableBytes(), remaining);
            ctx.write(chunk.retainedSlice(0, n), ch.voidPromise());
            remaining -= n;
        }
        ctx.flush();
        if (remaining == 0) {
            releaseChunk();
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }
}
