package dev.wscrt.loadserver;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * A handler that writes one pre-filled direct {@link #chunk} (or slices of it) over and over while the
 * channel is writable: {@link #pump} runs again each time the channel turns writable, and the chunk is
 * released when the channel goes inactive (or by the subclass once it has written enough). Payload bytes
 * follow {@link #patternByte}. Runs on the channel's event loop only.
 */
abstract class ChunkWriter extends ChannelInboundHandlerAdapter {
    /** What is written; null before it is made and after {@link #releaseChunk}. */
    ByteBuf chunk;

    /** Byte {@code i} of every payload the load server writes. */
    static byte patternByte(int i) {
        return (byte) (i * 31 + 7);
    }

    /** Writes while the channel is writable and there is something left to write. */
    abstract void pump(ChannelHandlerContext ctx);

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

    final void releaseChunk() {
        if (chunk != null) {
            chunk.release();
            chunk = null;
        }
    }
}
