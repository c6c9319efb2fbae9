package dev.wscrt.conformance;

import dev.wscrt.testing.Hex;
import java.util.Arrays;

/**
 * What the conformance server observed from the client, in order: the events a case's expectation is
 * compared with, as Autobahn compares its "received" list. Frames are reassembled messages (the echo
 * driver answers each message), PONGs, and marks the case script sets at its checkpoints.
 */
sealed interface TraceEvent permits TraceEvent.Message, TraceEvent.Control, TraceEvent.Mark {

    /** A complete data message from the client (its echo), opcode of the first frame. */
    record Message(int opcode, byte[] payload) implements TraceEvent {
        @Override
        public boolean equals(Object o) {
            return o instanceof Message m && m.opcode == opcode && Arrays.equals(m.payload, payload);
        }

        @Override
        public int hashCode() {
            return opcode * 31 + Arrays.hashCode(payload);
        }

        @Override
        public String toString() {
            return (opcode == Frames.TEXT ? "text" : opcode == Frames.BINARY ? "binary" : "opcode" + opcode)
                    + "(" + describe(payload) + ")";
        }
    }

    /** A PONG from the client, or a PING (the echo driver never pings, so a PING is never expected). */
    record Control(ControlFrame frame) implements TraceEvent {
        Control(int opcode, byte[] payload) {
            this(new ControlFrame(opcode, payload));
        }

        @Override
        public String toString() {
            int opcode = frame.opcode();
            return (opcode == Frames.PONG ? "pong" : opcode == Frames.PING ? "ping" : "opcode" + opcode)
                    + "(" + describe(frame.payload()) + ")";
        }
    }

    /**
     * The script reached checkpoint {@code name} and the client had not failed the connection by then
     * (Autobahn's "timeout" events): fail-fast expectations are written with these.
     */
    record Mark(String name) implements TraceEvent {
        @Override
        public String toString() {
            return "still-open@" + name;
        }
    }

    /** A short description of a payload: its length and its first bytes in hex. */
    static String describe(byte[] payload) {
        if (payload.length <= 16) {
            return payload.length + " B" + (payload.length == 0 ? "" : ": " + Hex.format(payload));
        }
        return payload.length + " B: " + Hex.format(Arrays.copyOf(payload, 8)) + " ...";
    }
}
