package dev.wscrt.websocket;

/**
 * Describes a frame being received. Immutable, and a value: the begin, payload and complete callbacks of one
 * frame get the same instance, and consecutive frames of the same opcode, length and fin may share one, so
 * compare frames with {@link #equals}, not {@code ==}.
 *
 * @param opcode        the frame's type
 * @param payloadLength the frame's payload length in bytes
 * @param fin           true if this is the final fragment of a message
 */
public record IncomingFrame(Opcode opcode, long payloadLength, boolean fin) {
    /**
     * Whether this is a data frame, whose payload counts against the read window.
     *
     * @return true for TEXT, BINARY and CONTINUATION frames
     */
    public boolean isDataFrame() {
        return opcode.isDataFrame();
    }
}
