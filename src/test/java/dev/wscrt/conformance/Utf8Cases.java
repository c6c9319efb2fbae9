package dev.wscrt.conformance;

import static dev.wscrt.conformance.Events.mark;
import static dev.wscrt.conformance.Events.text;

import dev.wscrt.testing.Hex;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Family 6, UTF-8 handling (RFC 6455 8.1): TEXT messages that are valid UTF-8 are echoed however they
 * are cut (fragments ending inside a code point, TCP writes splitting frames at every byte); invalid
 * ones fail the connection with 1007, and as early as the bytes prove it (fail-fast, 6.4 and the
 * "f"/"c" variants): a client that fails only later, when the message is complete, is NON-STRICT.
 *
 * <p>Every sequence of {@link Utf8Vectors} runs three ways: {@code 6.g.n} as one frame in one write,
 * {@code 6.g.nf} as one-byte fragments, {@code 6.g.nc} as one frame written one byte per TCP write.
 */
final class Utf8Cases {
    static final String INVALID_UTF8 = "WSCRT_ERROR_WEBSOCKET_INVALID_UTF8";
    /**
     * How long a checkpoint waits for the client to fail before noting that it has not. A fail-fast
     * client fails within milliseconds (the wait ends then); a client that must not fail costs the full
     * wait, so it stays short.
     */
    private static final long CHECKPOINT_MS = 400;
    /** The text of 6.2: ASCII with 2-, 3- and 4-byte code points. */
    private static final byte[] MIXED = Frames.utf8("Hello-\u00b5@\u00df\u00f6\u00e4\u00fc\u00e0\u00e1-UTF-8!! "
            + "\u03ba\u1f79\u03c3\u03bc\u03b5 \u20ac\ud800\udf48 \u65e5\u672c\u8a9e");
    private static final byte[] KOSME = Frames.utf8("\u03ba\u1f79\u03c3\u03bc\u03b5");

    private Utf8Cases() {
    }

    static List<ConformanceCase> all() {
        List<ConformanceCase> cases = new ArrayList<>();
        addBasics(cases);
        addFailFast(cases);
        for (Utf8Vectors.Group group : Utf8Vectors.groups()) {
            int n = 1;
            for (Utf8Vectors.Vector v : group.vectors()) {
                addVector(cases, group.id() + "." + n++, group.title(), v);
            }
        }
        return cases;
    }

    private static void addBasics(List<ConformanceCase> cases) {
        cases.add(ConformanceCase.of("6.1.1", "Send empty text message; expect its echo", run -> {
            run.send(Frames.text(new byte[0]));
            run.expect(text(new byte[0]));
        }));
        cases.add(ConformanceCase.of("6.1.2", "Send empty text message in 3 empty fragments; expect an empty echo",
                run -> {
                    run.send(Frames.frame(false, Frames.TEXT, new byte[0]),
                            Frames.frame(false, Frames.CONTINUATION, new byte[0]),
                            Frames.frame(true, Frames.CONTINUATION, new byte[0]));
                    run.expect(text(new byte[0]));
                }));
        cases.add(ConformanceCase.of("6.1.3", "Send text message in 3 fragments, first and last empty; expect its echo",
                run -> {
                    run.send(Frames.frame(false, Frames.TEXT, new byte[0]),
                            Frames.frame(false, Frames.CONTINUATION, Frames.utf8("middle frame payload")),
                            Frames.frame(true, Frames.CONTINUATION, new byte[0]));
                    run.expect(text("middle frame payload"));
                }));
        cases.add(ConformanceCase.of("6.2.1", "Send valid UTF-8 text with 1- to 4-byte code points in one frame; expect"
                + " its echo", run -> {
            run.send(Frames.text(MIXED));
            run.expect(text(MIXED));
        }));
        int boundary = Frames.utf8("Hello-\u00b5@\u00df").length;
        cases.add(ConformanceCase.of("6.2.2", "Send the same text in 2 fragments split on a code point boundary; expect"
                + " its echo", run -> {
            run.send(Frames.frame(false, Frames.TEXT, Arrays.copyOf(MIXED, boundary)),
                    Frames.frame(true, Frames.CONTINUATION, Arrays.copyOfRange(MIXED, boundary, MIXED.length)));
            run.expect(text(MIXED));
        }));
        cases.add(ConformanceCase.of("6.2.3", "Send the same text in one-byte fragments (most end inside a code point);"
                + " expect its echo", run -> {
            run.send(Frames.concat(Frames.fragments(Frames.TEXT, MIXED, 1)));
            run.expect(text(MIXED));
        }));
        cases.add(ConformanceCase.of("6.2.4", "Send '\u03ba\u1f79\u03c3\u03bc\u03b5' in one-byte fragments; expect its"
                + " echo", run -> {
            run.send(Frames.concat(Frames.fragments(Frames.TEXT, KOSME, 1)));
            run.expect(text(KOSME));
        }));
        cases.add(ConformanceCase.of("6.2.5", "(wscrt) Send the text " + (MIXED.length - 1) + " times, split into 2"
                + " fragments at every byte position; expect every echo", run -> {
            List<byte[]> frames = new ArrayList<>();
            List<TraceEvent> echoes = new ArrayList<>();
            for (int k = 1; k < MIXED.length; k++) {
                frames.add(Frames.frame(false, Frames.TEXT, Arrays.copyOf(MIXED, k)));
                frames.add(Frames.frame(true, Frames.CONTINUATION, Arrays.copyOfRange(MIXED, k, MIXED.length)));
                echoes.add(text(MIXED));
            }
            run.send(Frames.concat(frames));
            run.expect(echoes);
        }));
        cases.add(ConformanceCase.of("6.2.6", "(wscrt) Send the text " + MIXED.length + " times as one frame written in"
                + " 2 TCP writes split at every payload byte position; expect every echo", run -> {
            byte[] frame = Frames.text(MIXED);
            int header = Frames.headerSize(MIXED.length);
            List<TraceEvent> echoes = new ArrayList<>();
            for (int k = 0; k < MIXED.length; k++) {
                run.send(Arrays.copyOf(frame, header + k));
                run.pause(1);
                run.send(Arrays.copyOfRange(frame, header + k, frame.length));
                echoes.add(text(MIXED));
            }
            run.expect(echoes);
        }));
        cases.add(ConformanceCase.of("6.2.7", "(wscrt) Send the text as one frame, one byte per TCP write; expect its"
                + " echo", run -> {
            run.send(Chop.BYTEWISE, Frames.text(MIXED));
            run.expect(text(MIXED));
        }));
        byte[] invalid = Frames.concat(KOSME, Hex.bytes("ed a0 80"), Frames.utf8("edited"));
        cases.add(ConformanceCase.of("6.3.1", "Send text with a UTF-16 surrogate (invalid UTF-8) in one frame; expect"
                + " failure 1007", run -> {
            run.send(Frames.text(invalid));
            run.expectFailure(1007, INVALID_UTF8);
        }));
        cases.add(ConformanceCase.of("6.3.2", "Send the same invalid text in one-byte fragments; expect failure 1007 at"
                + " the fragment that makes it invalid", run -> sendFragmentsFailFast(run, invalid)));
    }

    /** 6.4: the invalid part arrives in the middle, with pauses; the client must fail before the rest. */
    private static void addFailFast(List<ConformanceCase> cases) {
        byte[] tail = Frames.utf8("edited");
        byte[][] split1 = {KOSME, Hex.bytes("f4 90 80 80"), tail};
        byte[][] split2 = {Frames.concat(KOSME, Hex.bytes("f4")), Hex.bytes("90"), Frames.concat(Hex.bytes("80 80"),
                tail)};
        cases.add(ConformanceCase.of("6.4.1", "Send 3 fragments with pauses: valid, then F4 90 80 80 (beyond U+10FFFF),"
                + " then valid; expect failure 1007 right after the 2nd fragment", run -> {
            List<byte[]> frames = List.of(Frames.frame(false, Frames.TEXT, split1[0]),
                    Frames.frame(false, Frames.CONTINUATION, split1[1]),
                    Frames.frame(true, Frames.CONTINUATION, split1[2]));
            threeStepsFailFast(run, frames);
        }));
        cases.add(ConformanceCase.of("6.4.2", "Send 3 fragments with pauses: valid ending in lead byte F4, then 90"
                + " (invalid after F4), then the rest; expect failure 1007 right after the 2nd fragment", run -> {
            List<byte[]> frames = List.of(Frames.frame(false, Frames.TEXT, split2[0]),
                    Frames.frame(false, Frames.CONTINUATION, split2[1]),
                    Frames.frame(true, Frames.CONTINUATION, split2[2]));
            threeStepsFailFast(run, frames);
        }));
        cases.add(ConformanceCase.of("6.4.3", "Send one text frame in 3 TCP writes with pauses, the 2nd holding F4 90 80"
                + " 80; expect failure 1007 right after the 2nd write, before the frame is complete", run ->
                threeStepsFailFast(run, splitFrame(split1))));
        cases.add(ConformanceCase.of("6.4.4", "Send one text frame in 3 TCP writes with pauses, the 2nd holding the"
                + " single byte 90 after F4; expect failure 1007 right after the 2nd write", run ->
                threeStepsFailFast(run, splitFrame(split2))));
    }

    /** One frame whose payload is the parts, cut into writes at the parts' boundaries. */
    private static List<byte[]> splitFrame(byte[][] parts) {
        byte[] payload = Frames.concat(parts);
        byte[] frame = Frames.text(payload);
        int header = Frames.headerSize(payload.length);
        int first = header + parts[0].length;
        int second = first + parts[1].length;
        return List.of(Arrays.copyOf(frame, first), Arrays.copyOfRange(frame, first, second),
                Arrays.copyOfRange(frame, second, frame.length));
    }

    private static void threeStepsFailFast(CaseRun run, List<byte[]> writes) {
        run.send(writes.get(0));
        run.mark("A", CHECKPOINT_MS);
        run.send(writes.get(1));
        run.mark("B", CHECKPOINT_MS);
        run.send(writes.get(2));
        run.expect(mark("A"));
        run.allowNonStrict("the client failed only after the whole message had arrived, not at the invalid part",
                mark("A"), mark("B"));
        run.expectFailure(1007, INVALID_UTF8);
    }

    private static void addVector(List<ConformanceCase> cases, String id, String title, Utf8Vectors.Vector v) {
        byte[] bytes = v.bytes();
        String what = title + ": " + Hex.format(bytes.length > 16 ? Arrays.copyOf(bytes, 16) : bytes)
                + (bytes.length > 16 ? " ... (" + bytes.length + " bytes)" : "");
        String expectation = v.valid() ? "expect its echo" : "expect failure 1007";
        String when = v.valid() ? "" : Utf8.invalidAt(bytes) < bytes.length ? " at the first invalid byte"
                : " at the end of the message";
        cases.add(ConformanceCase.of(id, what + ", in one frame; " + expectation, run -> {
            run.send(Frames.text(bytes));
            expectEchoOrFailure(run, v);
        }));
        cases.add(ConformanceCase.of(id + "f", what + ", in one-byte fragments; " + expectation + when, run -> {
            if (v.valid()) {
                run.send(Frames.concat(Frames.fragments(Frames.TEXT, bytes, 1)));
                run.expect(text(bytes));
            } else {
                sendFragmentsFailFast(run, bytes);
            }
        }));
        cases.add(ConformanceCase.of(id + "c", what + ", in one frame, one byte per TCP write; " + expectation + when,
                run -> sendBytewise(run, v)));
    }

    /**
     * One frame, one byte per TCP write. Invalid text goes up to its first invalid byte, then comes a
     * checkpoint, then the rest: the client must fail before the rest, inside the frame.
     */
    private static void sendBytewise(CaseRun run, Utf8Vectors.Vector v) {
        byte[] bytes = v.bytes();
        byte[] frame = Frames.text(bytes);
        int at = Utf8.invalidAt(bytes);
        if (v.valid() || at == bytes.length) {
            run.send(Chop.BYTEWISE, frame);
            expectEchoOrFailure(run, v);
            return;
        }
        int cut = Frames.headerSize(bytes.length) + at + 1;
        run.send(Chop.BYTEWISE, Arrays.copyOf(frame, cut));
        run.mark("rest", CHECKPOINT_MS);
        run.send(Chop.BYTEWISE, Arrays.copyOfRange(frame, cut, frame.length));
        run.allowNonStrict("the client did not fail at the first invalid byte (index " + at + ") but later",
                mark("rest"));
        run.expectFailure(1007, INVALID_UTF8);
    }

    private static void expectEchoOrFailure(CaseRun run, Utf8Vectors.Vector v) {
        if (v.valid()) {
            run.expect(text(v.bytes()));
        } else {
            run.expectFailure(1007, INVALID_UTF8);
        }
    }

    /**
     * Invalid text as one-byte fragments: the fragments up to the first invalid byte, a checkpoint, then
     * the rest. Text cut off inside a code point is invalid only at its last fragment (FIN).
     */
    private static void sendFragmentsFailFast(CaseRun run, byte[] bytes) {
        List<byte[]> frames = Frames.fragments(Frames.TEXT, bytes, 1);
        int at = Utf8.invalidAt(bytes);
        if (at == bytes.length) {
            run.send(Frames.concat(frames));
        } else {
            run.send(Frames.concat(frames.subList(0, at + 1)));
            run.mark("rest", CHECKPOINT_MS);
            run.send(Frames.concat(frames.subList(at + 1, frames.size())));
            run.allowNonStrict("the client did not fail at the fragment with the first invalid byte (index " + at
                    + ") but later", mark("rest"));
        }
        run.expectFailure(1007, INVALID_UTF8);
    }
}
