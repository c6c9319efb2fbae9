package dev.wscrt.conformance;

import java.util.Arrays;

/**
 * A PING, PONG or CLOSE with its payload: as the server sent it ({@link SentFrames}), or as the client's
 * frame callbacks delivered it ({@link EchoClient}). The two lists must agree.
 */
record ControlFrame(int opcode, byte[] payload) {
    @Override
    public boolean equals(Object o) {
        return o instanceof ControlFrame c && c.opcode == opcode && Arrays.equals(c.payload, payload);
    }

    @Override
    public int hashCode() {
        return opcode * 31 + Arrays.hashCode(payload);
    }

    @Override
    public String toString() {
        String name = switch (opcode) {
            case Frames.PING -> "PING";
            case Frames.PONG -> "PONG";
            case Frames.CLOSE -> "CLOSE";
            default -> "opcode" + opcode;
        };
        return name + "(" + TraceEvent.describe(payload) + ")";
    }
}
