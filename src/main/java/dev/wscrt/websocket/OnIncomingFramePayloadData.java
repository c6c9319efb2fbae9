package dev.wscrt.websocket;

import java.nio.ByteBuffer;

/**
 * Passed to {@code onIncomingFramePayload} with the next piece of a frame's payload.
 *
 * <p>{@link #data()} is a read-only view of the connection's native read buffer: it is valid only during
 * the callback, and its contents change afterwards. Use {@link #bytes()} for a copy that may be kept.
 */
public final class OnIncomingFramePayloadData {
    private final IncomingFrame frame;
    private final ByteBuffer data;

    OnIncomingFramePayloadData(IncomingFrame frame, ByteBuffer data) {
        this.frame = frame;
        this.data = data;
    }

    /**
     * The frame this payload belongs to.
     *
     * @return the frame, as passed to the begin callback
     */
    public IncomingFrame frame() {
        return frame;
    }

    /**
     * The payload piece, unmasked. Do not keep it: the buffer is reused once the callback returns.
     *
     * @return a read-only buffer, positioned at the piece's first byte, valid only during the callback
     */
    public ByteBuffer data() {
        return data;
    }

    /**
     * A copy of the payload piece, which may be kept.
     *
     * @return a new array holding the remaining bytes of {@link #data()}
     */
    public byte[] bytes() {
        byte[] copy = new byte[data.remaining()];
        data.duplicate().get(copy);
        return copy;
    }

    /**
     * The frame and the piece's length, for logs.
     *
     * @return a description without the payload bytes
     */
    @Override
    public String toString() {
        return "OnIncomingFramePayloadData[frame=" + frame + ", length=" + data.remaining() + "]";
    }
}
