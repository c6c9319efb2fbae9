package dev.wscrt.loadserver;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;

/**
 * Writes {@code count} pre-encoded BINARY frames (or TEXT frames of ASCII letters) while the channel is
 * writable, then TEXT "done".
 */
final class BlastWriter extends ChunkWriter {
    private final int size;
    private final boolean text;
    private long remaining;
    private int framesPerChunk;
    private int frameBytes;
    private boolean doneSent;

    BlastWriter(int size, long count, boolean text) {
        this.size = size;
        this.text = text;
        this.remaining = count;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        int headerBytes = size < 126 ? 2 : size <= 0xFFFF ? 4 : 10;
        frameBytes = headerBytes + size;
        framesPerChunk = Math.max(1, LoadServer.BLAST_CHUNK_BYTES / frameBytes);
        chunk = ctx.alloc().directBuffer(framesPerChunk * frameBytes);
        byte[] payload = new byte[size];
        for (int i = 0; i < size; i++) {
            payload[i] = text ? (byte) ('a' + i % 26) : patternByte(i);
        }
        for (int f = 0; f < framesPerChunk; f++) {
            chunk.writeByte(text ? 0x81 : 0x82); // FIN + TEXT or BINARY, no mask
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
    public void handlerRemoved(ChannelHandlerContext ctx) {
        releaseChunk();
    }

    @Override
    void pump(ChannelHandlerContext ctx) {
        Channel ch = ctx.channel();
        if (doneSent || chunk == null || !ch.isActive()) {
            return;
        }
        boolean wrote = false;
        while (remaining > 0 && ch.isWritable()) {
            int n = (int) Math.min(framesPerChunk, remaining);
            ByteBuf piece = n == framesPerChunk ? chunk.retainedDuplicate()
                    : chunk.retainedSlice(0, n * frameBytes);
            ctx.write(piece, ch.voidPromise());
            remaining -= n;
            wrote = true;
        }
        if (remaining == 0) {
            doneSent = true;
            // TEXT "done", unmasked, written by hand: the pipeline below this handler takes bytes.
            ctx.write(Unpooled.wrappedBuffer(new byte[] {(byte) 0x81, 4, 'd', 'o', 'n', 'e'}), ch.voidPromise());
            wrote = true;
            releaseChunk();
        }
        if (wrote) {
            ctx.flush();
        }
    }
}
