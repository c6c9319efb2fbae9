package dev.wscrt.conformance;

import static dev.wscrt.conformance.Events.text;

import java.util.ArrayList;
import java.util.List;

/**
 * Family 4, opcodes: a frame with a reserved opcode, data (3-7, group 4.1) or control (11-15, group
 * 4.2), fails the connection with 1002 (RFC 6455 5.2). When a valid message precedes it, its echo is
 * expected; failing before the echo went out is NON-STRICT (as in Autobahn).
 */
final class OpcodeCases {
    private static final String RESERVED_OPCODE = "WSCRT_ERROR_WEBSOCKET_RESERVED_OPCODE";
    private static final String NO_ECHO = "the connection was failed before the echo of the preceding valid message"
            + " was sent";

    private OpcodeCases() {
    }

    static List<ConformanceCase> all() {
        List<ConformanceCase> cases = new ArrayList<>();
        addGroup(cases, "4.1", "non-control", 3);
        addGroup(cases, "4.2", "control", 11);
        return cases;
    }

    private static void addGroup(List<ConformanceCase> cases, String group, String kind, int first) {
        byte[] payload = Frames.utf8("reserved opcode payload");
        cases.add(ConformanceCase.of(group + ".1", "Send frame with reserved " + kind + " opcode " + first
                + "; expect the client to fail with 1002", run -> {
            run.send(Frames.frame(true, first, new byte[0]));
            run.expectFailure(1002, RESERVED_OPCODE);
        }));
        cases.add(ConformanceCase.of(group + ".2", "Send frame with reserved " + kind + " opcode " + (first + 1)
                + " and a payload; expect the client to fail with 1002", run -> {
            run.send(Frames.frame(true, first + 1, payload));
            run.expectFailure(1002, RESERVED_OPCODE);
        }));
        cases.add(ConformanceCase.of(group + ".3", "Send small text message, then a frame with reserved " + kind
                + " opcode " + (first + 2) + ", then a PING, in one write; expect the echo, then failure 1002", run -> {
            run.send(Frames.text("Hello, world!"), Frames.frame(true, first + 2, new byte[0]), Frames.ping("ping"));
            expectEchoThenFailure(run);
        }));
        cases.add(ConformanceCase.of(group + ".4", "Send small text message, then a frame with reserved " + kind
                + " opcode " + (first + 3) + " and a payload, then a PING, frame by frame; expect the echo, then failure"
                + " 1002", run -> {
            run.sendEach(Chop.WHOLE, 50, List.of(Frames.text("Hello, world!"), Frames.frame(true, first + 3, payload),
                    Frames.ping("ping")));
            expectEchoThenFailure(run);
        }));
        cases.add(ConformanceCase.of(group + ".5", "Send small text message, then a frame with reserved " + kind
                + " opcode " + (first + 4) + " and a payload, then a PING, one byte per TCP write; expect the echo, then"
                + " failure 1002", run -> {
            run.send(Chop.BYTEWISE, Frames.text("Hello, world!"), Frames.frame(true, first + 4, payload),
                    Frames.ping("ping"));
            expectEchoThenFailure(run);
        }));
    }

    private static void expectEchoThenFailure(CaseRun run) {
        run.expect(text("Hello, world!"));
        run.allowNonStrict(NO_ECHO);
        run.expectFailure(1002, RESERVED_OPCODE);
    }
}
