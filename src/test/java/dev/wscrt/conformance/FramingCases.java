package dev.wscrt.conformance;

import static dev.wscrt.conformance.Events.binary;
import static dev.wscrt.conformance.Events.text;

import java.util.ArrayList;
import java.util.List;

/**
 * Family 1, framing: TEXT (1.1) and BINARY (1.2) messages of every length class (7-bit, 16-bit and
 * 64-bit lengths and their edges), each echoed exactly, also when the bytes arrive in small TCP writes.
 */
final class FramingCases {
    /** 7-bit up to 125, 16-bit from 126 (and 127/128 just past it), 64-bit from 65536. */
    private static final int[] LENGTHS = {0, 125, 126, 127, 128, 65535, 65536};

    private FramingCases() {
    }

    static List<ConformanceCase> all() {
        List<ConformanceCase> cases = new ArrayList<>();
        addFamily(cases, "1.1", "text", Frames.TEXT);
        addFamily(cases, "1.2", "binary", Frames.BINARY);
        return cases;
    }

    private static void addFamily(List<ConformanceCase> cases, String group, String kind, int opcode) {
        int n = 1;
        for (int length : LENGTHS) {
            byte[] payload = payload(opcode, length);
            cases.add(ConformanceCase.of(group + "." + n++, "Send " + kind + " message with payload of length "
                    + length + "; expect its echo", run -> {
                run.send(Frames.frame(true, opcode, payload));
                run.expect(echo(opcode, payload));
            }));
        }
        byte[] chopped = payload(opcode, 65536);
        cases.add(ConformanceCase.of(group + "." + n++, "Send " + kind + " message with payload of length 65536,"
                + " in 997-byte TCP writes; expect its echo", run -> {
            run.send(Chop.of(997), Frames.frame(true, opcode, chopped));
            run.expect(echo(opcode, chopped));
        }));
        for (int length : new int[] {125, 126, 65536}) {
            byte[] payload = payload(opcode, length);
            byte[] frame = Frames.frame(true, opcode, payload);
            int header = Frames.headerSize(length);
            cases.add(ConformanceCase.of(group + "." + n++, "(wscrt) Send " + kind + " message with payload of length "
                    + length + " one byte per TCP write (header with pauses); expect its echo", run -> {
                byte[] head = java.util.Arrays.copyOf(frame, header);
                byte[] body = java.util.Arrays.copyOfRange(frame, header, frame.length);
                run.send(Chop.BYTEWISE, head);
                run.send(length > 1000 ? Chop.of(1) : Chop.BYTEWISE, body);
                run.expect(echo(opcode, payload));
            }));
        }
    }

    private static byte[] payload(int opcode, int length) {
        return opcode == Frames.TEXT ? Frames.textPayload(length) : Frames.binaryPayload(length);
    }

    private static TraceEvent echo(int opcode, byte[] payload) {
        return opcode == Frames.TEXT ? text(payload) : binary(payload);
    }
}
