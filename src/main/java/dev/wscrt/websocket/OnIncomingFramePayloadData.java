package dev.wscrt.websocket;

import java.nio.ByteBuffer;

/**
 * Passed to {@code onIncomingFramePayload} with the next piece of a frame's payload.
 *
 * <p>{@link #data()} is a read-only view of a direct buffer that Java allocated and the event-loop thread
 * reuses: its read buffer, which received bytes (decrypted ones for wss://) are handed over from without a
 * copy, or its staging buffer, which the native side copies the other pieces into (bytes held back by the read
 * window, control frames cut across reads). It may be called only during the callback: afterwards it throws
 * {@link IllegalStateException} on the callback's thread, and on any thread that synchronized with that
 * thread after the callback returned (through a queue, a latch, a lock); a thread that did not may still get
 * the view. A buffer obtained during the callback and kept longer stays safe to read, since it keeps its Java
 * buffer reachable, but it shows whatever the event loop puts there next. Use {@link #bytes()} for a copy
 * that may be kept.
 */
public final class OnIncomingFramePayloadData {
    private final IncomingFrame frame;
    private final ByteBuffer data;
    /*
     * Plain, not volatile: a volatile store per payload piece is a full fence on x86, a measurable part of the
     * 64-byte receive rate. The check is meant for the callback's thread, and holds for any thread that
     * synchronizes with it afterwards, as documented above.
     */
    private boolean expired;

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
     * @throws IllegalStateException when called after the callback returned
     */
    public ByteBuffer data() {
        checkNotExpired();
        return data;
    }

    /** Called when the callback has returned: from then on the payload is gone. */
    void expire() {
        expired = true;
    }

    private void checkNotExpired() {
        if (expired) {
            throw new IllegalStateException("the payload of " + frame + " is valid only during its callback;"
                    + " copy it with bytes() inside the callback to keep it");
        }
    }

    /**
     * A copy of the payload piece, which may be kept.
     *
     * @return a new array holding the remaining bytes of {@link #data()}
     * @throws IllegalStateException when called after the callback returned
     */
    public byte[] bytes() {
        checkNotExpired();
        byte[] copy = new byte[data.remaining()];
        data.get(data.position(), copy);
        return copy;
    }

    /**
     * The frame and the piece's length, for logs.
     *
     * @return a description without the payload bytes
     */
    @Override
    public String toString() {
        return "OnIncomingFramePayloadData[frame=" + frame + ", length=" + data.limit() + "]"; // the view starts at 0
    }
}
