package dev.wscrt.conformance;

import static dev.wscrt.conformance.Events.binary;
import static dev.wscrt.conformance.Events.pong;
import static dev.wscrt.conformance.Events.text;

import java.util.ArrayList;
import java.util.List;

/**
 * Family 5, fragmentation (RFC 6455 5.4): fragmented control frames fail the connection; a message in
 * fragments is echoed whole, with control frames between its fragments answered at once; a CONTINUATION
 * with no message open, or a new TEXT/BINARY while one is open, fails the connection with 1002. Each
 * shape is sent in one write, frame by frame with pauses, and one byte per TCP write.
 */
final class FragmentationCases {
    private static final String FRAGMENTED = "WSCRT_ERROR_WEBSOCKET_CONTROL_FRAME_FRAGMENTED";
    private static final String UNEXPECTED = "WSCRT_ERROR_WEBSOCKET_UNEXPECTED_CONTINUATION";
    private static final String EXPECTED = "WSCRT_ERROR_WEBSOCKET_EXPECTED_CONTINUATION";
    /** The pause between frames sent one at a time: long enough for the client to act on each. */
    private static final long FRAME_PAUSE_MS = 50;

    private FragmentationCases() {
    }

    /** How a case's frames go out. */
    private enum Delivery {
        ONE_WRITE("in one write"),
        FRAME_BY_FRAME("frame by frame with pauses"),
        BYTEWISE("one byte per TCP write");

        final String words;

        Delivery(String words) {
            this.words = words;
        }

        void send(CaseRun run, List<byte[]> frames) {
            switch (this) {
                case ONE_WRITE -> run.send(Frames.concat(frames));
                case FRAME_BY_FRAME -> run.sendEach(Chop.WHOLE, FRAME_PAUSE_MS, frames);
                case BYTEWISE -> run.send(Chop.BYTEWISE, Frames.concat(frames));
                default -> throw new IllegalStateException();
            }
        }
    }

    static List<ConformanceCase> all() {
        List<ConformanceCase> cases = new ArrayList<>();
        cases.add(ConformanceCase.of("5.1", "Send PING fragmented into 2 fragments; expect the client to fail with"
                + " 1002", run -> {
            run.send(Frames.frame(false, Frames.PING, Frames.utf8("frag")),
                    Frames.frame(true, Frames.CONTINUATION, Frames.utf8("ment")));
            run.expectFailure(1002, FRAGMENTED);
        }));
        cases.add(ConformanceCase.of("5.2", "Send PONG fragmented into 2 fragments; expect the client to fail with"
                + " 1002", run -> {
            run.send(Frames.frame(false, Frames.PONG, Frames.utf8("frag")),
                    Frames.frame(true, Frames.CONTINUATION, Frames.utf8("ment")));
            run.expectFailure(1002, FRAGMENTED);
        }));

        int n = 3;
        List<byte[]> twoFragments = List.of(Frames.frame(false, Frames.TEXT, Frames.utf8("fragment1")),
                Frames.frame(true, Frames.CONTINUATION, Frames.utf8("fragment2")));
        for (Delivery d : Delivery.values()) {
            cases.add(ConformanceCase.of("5." + n++, "Send text message in 2 fragments, " + d.words
                    + "; expect its echo", run -> {
                d.send(run, twoFragments);
                run.expect(text("fragment1fragment2"));
            }));
        }
        List<byte[]> withPing = List.of(twoFragments.get(0), Frames.ping("ping payload"), twoFragments.get(1));
        for (Delivery d : Delivery.values()) {
            cases.add(ConformanceCase.of("5." + n++, "Send text message in 2 fragments with a PING between them, "
                    + d.words + "; expect the PONG, then the echo", run -> {
                d.send(run, withPing);
                run.expect(pong("ping payload"), text("fragment1fragment2"));
            }));
        }
        for (boolean fin : new boolean[] {true, false}) {
            List<byte[]> orphan = List.of(Frames.frame(fin, Frames.CONTINUATION, Frames.utf8("non-continuation payload")),
                    Frames.text("Hello, world!"), Frames.ping("ping"));
            for (Delivery d : Delivery.values()) {
                cases.add(ConformanceCase.of("5." + n++, "Send CONTINUATION with FIN = " + fin + " and nothing to"
                        + " continue, then a text message and a PING, " + d.words + "; expect failure 1002", run -> {
                    d.send(run, orphan);
                    run.expectFailure(1002, UNEXPECTED);
                }));
            }
        }
        cases.add(ConformanceCase.of("5." + n++, "Send text message in 2 fragments, then CONTINUATION with FIN = false and"
                + " nothing to continue, then a text message, in one write; expect the echo, then failure 1002",
                run -> {
                    run.send(Frames.concat(twoFragments), Frames.frame(false, Frames.CONTINUATION,
                            Frames.utf8("fragment3")), Frames.text("fragment4"));
                    run.expect(text("fragment1fragment2"));
                    run.allowNonStrict("the connection was failed before the echo of the preceding valid message was"
                            + " sent");
                    run.expectFailure(1002, UNEXPECTED);
                }));
        for (boolean fin : new boolean[] {false, true}) {
            cases.add(ConformanceCase.of("5." + n++, "Twice: CONTINUATION with FIN = " + fin + " and nothing to"
                    + " continue, text fragment, final CONTINUATION, in one write; expect failure 1002 at once",
                    run -> {
                        byte[] round = Frames.concat(Frames.frame(fin, Frames.CONTINUATION, Frames.utf8("fragment1")),
                                Frames.frame(false, Frames.TEXT, Frames.utf8("fragment2")),
                                Frames.frame(true, Frames.CONTINUATION, Frames.utf8("fragment3")));
                        run.send(round, round);
                        run.expectFailure(1002, UNEXPECTED);
                    }));
        }
        if (n != 18) {
            throw new IllegalStateException("5.x numbering is off: " + n);
        }
        cases.add(ConformanceCase.of("5." + n++, "Send text message in 2 fragments, both with opcode TEXT; expect"
                + " failure 1002", run -> {
            run.send(Frames.frame(false, Frames.TEXT, Frames.utf8("fragment1")),
                    Frames.frame(true, Frames.TEXT, Frames.utf8("fragment2")));
            run.expectFailure(1002, EXPECTED);
        }));
        List<byte[]> five = new ArrayList<>();
        five.add(Frames.frame(false, Frames.TEXT, Frames.utf8("fragment1")));
        five.add(Frames.frame(false, Frames.CONTINUATION, Frames.utf8("fragment2")));
        five.add(Frames.ping("pongme 1!"));
        five.add(Frames.frame(false, Frames.CONTINUATION, Frames.utf8("fragment3")));
        five.add(Frames.frame(false, Frames.CONTINUATION, Frames.utf8("fragment4")));
        five.add(Frames.ping("pongme 2!"));
        five.add(Frames.frame(true, Frames.CONTINUATION, Frames.utf8("fragment5")));
        for (Delivery d : new Delivery[] {Delivery.FRAME_BY_FRAME, Delivery.BYTEWISE}) {
            cases.add(ConformanceCase.of("5." + n++, "Send text message in 5 fragments with 2 PINGs between them, "
                    + d.words + "; expect both PONGs at once, then the echo", run -> {
                d.send(run, five);
                run.expect(pong("pongme 1!"), pong("pongme 2!"),
                        text("fragment1fragment2fragment3fragment4fragment5"));
            }));
        }
        cases.add(ConformanceCase.of("5." + n++, "(wscrt) Send text fragment, then a BINARY frame; expect failure 1002",
                run -> {
                    run.send(Frames.frame(false, Frames.TEXT, Frames.utf8("fragment1")),
                            Frames.binary(Frames.binaryPayload(4)));
                    run.expectFailure(1002, EXPECTED);
                }));
        byte[] binaryPayload = Frames.binaryPayload(300);
        cases.add(ConformanceCase.of("5." + n++, "(wscrt) Send binary message in 3 fragments, the middle one empty;"
                + " expect its echo", run -> {
            run.send(Frames.frame(false, Frames.BINARY, java.util.Arrays.copyOf(binaryPayload, 100)),
                    Frames.frame(false, Frames.CONTINUATION, new byte[0]),
                    Frames.frame(true, Frames.CONTINUATION, java.util.Arrays.copyOfRange(binaryPayload, 100, 300)));
            run.expect(binary(binaryPayload));
        }));
        cases.add(ConformanceCase.of("5." + n++, "(wscrt) Send binary message of 300 bytes as 300 one-byte fragments,"
                + " one byte per TCP write; expect its echo", run -> {
            run.send(Chop.of(1), Frames.concat(Frames.fragments(Frames.BINARY, binaryPayload, 1)));
            run.expect(binary(binaryPayload));
        }));
        cases.add(ConformanceCase.of("5." + n++, "(wscrt) Send binary fragment, then PING, then CONTINUATION, then a"
                + " second fragmented message, in one write; expect PONG and both echoes", run -> {
            run.send(Frames.frame(false, Frames.BINARY, Frames.utf8("ab")), Frames.ping("p"),
                    Frames.frame(true, Frames.CONTINUATION, Frames.utf8("cd")),
                    Frames.frame(false, Frames.TEXT, Frames.utf8("ef")),
                    Frames.frame(true, Frames.CONTINUATION, Frames.utf8("gh")));
            run.expect(pong("p"), binary(Frames.utf8("abcd")), text("efgh"));
        }));
        return cases;
    }
}
