package dev.wscrt.conformance;

import static dev.wscrt.conformance.Events.text;

import java.util.ArrayList;
import java.util.List;

/**
 * Family 3, reserved bits: with no extension negotiated, a frame with any RSV bit set fails the
 * connection (RFC 6455 5.2) with 1002, whatever its opcode. When a valid message precedes it, its echo is
 * expected; a client that fails before the echo goes out is NON-STRICT (as in Autobahn).
 */
final class ReservedBitsCases {
    static final String RESERVED_BITS = "WSCRT_ERROR_WEBSOCKET_RESERVED_BITS";
    private static final String NO_ECHO = "the connection was failed before the echo of the preceding valid message"
            + " was sent";

    private ReservedBitsCases() {
    }

    static List<ConformanceCase> all() {
        List<ConformanceCase> cases = new ArrayList<>();
        cases.add(ConformanceCase.of("3.1", "Send small text message with RSV = 1; expect the client to fail with 1002",
                run -> {
                    run.send(Frames.frame(true, 1, Frames.TEXT, Frames.utf8("Hello, world!")));
                    run.expectFailure(1002, RESERVED_BITS);
                }));
        cases.add(ConformanceCase.of("3.2", "Send small text message, then one with RSV = 2, then a PING, frame by frame;"
                + " expect the echo of the first, then failure 1002, no PONG", run -> {
            run.sendEach(Chop.WHOLE, 50, List.of(Frames.text("Hello, world!"),
                    Frames.frame(true, 2, Frames.TEXT, Frames.utf8("Hello, world!")), Frames.ping("ping")));
            expectEchoThenFailure(run);
        }));
        cases.add(ConformanceCase.of("3.3", "Send small text message, then one with RSV = 3, then a PING, in one write;"
                + " expect the echo of the first, then failure 1002, no PONG", run -> {
            run.send(Frames.text("Hello, world!"), Frames.frame(true, 3, Frames.TEXT, Frames.utf8("Hello, world!")),
                    Frames.ping("ping"));
            expectEchoThenFailure(run);
        }));
        cases.add(ConformanceCase.of("3.4", "Send small text message, then one with RSV = 4, then a PING, one byte per"
                + " TCP write; expect the echo of the first, then failure 1002, no PONG", run -> {
            run.send(Chop.BYTEWISE, Frames.text("Hello, world!"),
                    Frames.frame(true, 4, Frames.TEXT, Frames.utf8("Hello, world!")), Frames.ping("ping"));
            expectEchoThenFailure(run);
        }));
        cases.add(ConformanceCase.of("3.5", "Send small binary message with RSV = 5; expect the client to fail with 1002",
                run -> {
                    run.send(Frames.frame(true, 5, Frames.BINARY, Frames.binaryPayload(8)));
                    run.expectFailure(1002, RESERVED_BITS);
                }));
        cases.add(ConformanceCase.of("3.6", "Send PING with RSV = 6; expect the client to fail with 1002, no PONG",
                run -> {
                    run.send(Frames.frame(true, 6, Frames.PING, Frames.utf8("ping")));
                    run.expectFailure(1002, RESERVED_BITS);
                }));
        cases.add(ConformanceCase.of("3.7", "Send CLOSE with RSV = 7; expect the client to fail with 1002", run -> {
            run.send(Frames.frame(true, 7, Frames.CLOSE, Frames.closePayload(1000, new byte[0])));
            run.expectFailure(1002, RESERVED_BITS);
        }));
        return cases;
    }

    private static void expectEchoThenFailure(CaseRun run) {
        run.expect(text("Hello, world!"));
        run.allowNonStrict(NO_ECHO);
        run.expectFailure(1002, RESERVED_BITS);
    }
}
