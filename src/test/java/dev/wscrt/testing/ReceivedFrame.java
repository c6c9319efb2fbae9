package dev.wscrt.testing;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * One WebSocket frame as a test server received it from the client, already unmasked.
 *
 * @param opcode the RFC 6455 opcode (0 CONTINUATION, 1 TEXT, 2 BINARY, 8 CLOSE, 9 PING, 10 PONG)
 * @param fin the FIN bit
 * @param rsv the three RSV bits as a number 0..7
 * @param masked whether the client masked the frame (it always must); {@code true} when the peer's
 *     decoder already enforced masking and unmasked
 * @param payloadLength the payload length in bytes (also when the payload was not kept)
 * @param payload the unmasked payload, or an empty array when the recorder was told not to keep
 *     payloads
 */
public record ReceivedFrame(int opcode, boolean fin, int rsv, boolean masked, long payloadLength, byte[] payload) {

    public static final int CONTINUATION = 0;
    public static final int TEXT = 1;
    public static final int BINARY = 2;
    public static final int CLOSE = 8;
    public static final int PING = 9;
    public static final int PONG = 10;

    public ReceivedFrame {
        payload = payload == null ? new byte[0] : payload;
    }

    /** The payload decoded as UTF-8. */
    public String text() {
        return new String(payload, StandardCharsets.UTF_8);
    }

    public boolean isClose() {
        return opcode == CLOSE;
    }

    public boolean isDataFrame() {
        return opcode == CONTINUATION || opcode == TEXT || opcode == BINARY;
    }

    /** The status code of a CLOSE frame, or -1 when its payload is empty. */
    public int closeCode() {
        if (opcode != CLOSE) {
            throw new IllegalStateException("not a CLOSE frame: " + this);
        }
        if (payload.length < 2) {
            return -1;
        }
        return ByteBuffer.wrap(payload, 0, 2).getShort() & 0xFFFF;
    }

    /** The reason of a CLOSE frame ("" when none). */
    public String closeReason() {
        if (opcode != CLOSE) {
            throw new IllegalStateException("not a CLOSE frame: " + this);
        }
        if (payload.length <= 2) {
            return "";
        }
        return new String(payload, 2, payload.length - 2, StandardCharsets.UTF_8);
    }

    public static String opcodeName(int opcode) {
        switch (opcode) {
            case CONTINUATION: return "CONTINUATION";
            case TEXT: return "TEXT";
            case BINARY: return "BINARY";
            case CLOSE: return "CLOSE";
            case PING: return "PING";
            case PONG: return "PONG";
            default: return "OPCODE_" + opcode;
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ReceivedFrame f
                && f.opcode == opcode
                && f.fin == fin
                && f.rsv == rsv
                && f.masked == masked
                && f.payloadLength == payloadLength
                && Arrays.equals(f.payload, payload);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(payload) * 31 + opcode;
    }

    @Override
    public String toString() {
        String shown = payload.length <= 32 ? Hex.format(payload) : Hex.format(Arrays.copyOf(payload, 32)) + " ...";
        return opcodeName(opcode) + "(fin=" + fin + ", rsv=" + rsv + ", masked=" + masked + ", length=" + payloadLength
                + ", payload=[" + shown + "])";
    }
}
