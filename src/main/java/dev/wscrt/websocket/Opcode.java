package dev.wscrt.websocket;

/**
 * A frame's type (RFC 6455 section 5.2). TEXT, BINARY and CONTINUATION are data frames; the rest are
 * control frames. Do not send PONG in answer to PING: the connection does that by itself.
 */
public enum Opcode {
    /** Continues the most recent TEXT or BINARY frame (RFC 6455 section 5.4). */
    CONTINUATION(0),
    /** A data frame whose payload is UTF-8. */
    TEXT(1),
    /** A data frame with arbitrary bytes. */
    BINARY(2),
    /** The last frame an endpoint sends; payload empty or a 2-byte status code plus a UTF-8 reason. */
    CLOSE(8),
    /** A keep-alive or liveness check; answered automatically with a PONG of the same payload. */
    PING(9),
    /** The answer to a PING. */
    PONG(10);

    private final int value;

    Opcode(int value) {
        this.value = value;
    }

    /**
     * The opcode's value on the wire.
     *
     * @return the 4-bit value
     */
    public int value() {
        return value;
    }

    /**
     * Whether frames of this type are data frames.
     *
     * @return true for TEXT, BINARY and CONTINUATION: the frames whose payload counts against the read window
     */
    public boolean isDataFrame() {
        return value < 8;
    }

    /**
     * The opcode with this wire value.
     *
     * @param value the 4-bit value
     * @return the constant whose {@link #value()} is {@code value}
     * @throws IllegalArgumentException for a reserved or out-of-range value
     */
    public static Opcode of(int value) {
        return switch (value) {
            case 0 -> CONTINUATION;
            case 1 -> TEXT;
            case 2 -> BINARY;
            case 8 -> CLOSE;
            case 9 -> PING;
            case 10 -> PONG;
            default -> throw new IllegalArgumentException("reserved or invalid opcode: " + value);
        };
    }
}
