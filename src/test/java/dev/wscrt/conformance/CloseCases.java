package dev.wscrt.conformance;

import static dev.wscrt.conformance.Events.text;

import dev.wscrt.testing.Hex;
import java.util.ArrayList;
import java.util.List;

/**
 * Family 7, close handling (RFC 6455 5.5.1, 7.4): the client answers a CLOSE with a CLOSE echoing the
 * status code, sends nothing after it and ignores whatever arrives after the server's CLOSE (7.1); a
 * CLOSE payload must be empty or hold a 2-byte code with at most 123 bytes of UTF-8 reason (7.3, 7.5);
 * every valid code is echoed (7.7; answering 1000 instead is NON-STRICT); an invalid code fails the
 * connection with 1002 (7.9, 7.13).
 */
final class CloseCases {
    private static final String INVALID_CODE = "WSCRT_ERROR_WEBSOCKET_INVALID_CLOSE_CODE";
    private static final byte[] INVALID_REASON = Frames.concat(Frames.utf8("\u03ba\u1f79\u03c3\u03bc\u03b5"),
            Hex.bytes("ed a0 80"), Frames.utf8("edited"));

    private CloseCases() {
    }

    static List<ConformanceCase> all() {
        List<ConformanceCase> cases = new ArrayList<>();
        addDataAroundClose(cases);
        addPayloads(cases);
        int n = 1;
        for (int code : CloseCodes.VALID) {
            cases.add(ConformanceCase.of("7.7." + n++, "Send CLOSE with valid code " + code + "; expect the client to"
                    + " answer CLOSE " + code, run -> {
                run.send(Frames.close(code, ""));
                run.expectCloseAnswer(code);
                run.allowNonStrictCloseAnswer("the client answered 1000 instead of echoing the code", 1000);
            }));
        }
        n = 1;
        int m = 1;
        for (int code : CloseCodes.INVALID) {
            String id = code <= 2999 ? "7.9." + n++ : "7.13." + m++;
            cases.add(ConformanceCase.of(id, "Send CLOSE with invalid code " + code + "; expect the client to fail with"
                    + " 1002", run -> {
                run.send(Frames.close(code, ""));
                run.expectFailure(1002, INVALID_CODE);
            }));
        }
        return cases;
    }

    private static void addDataAroundClose(List<ConformanceCase> cases) {
        cases.add(ConformanceCase.of("7.1.1", "Send a text message, then CLOSE 1000, in one write; expect the echo,"
                + " then CLOSE 1000", run -> {
            run.send(Frames.text("Hello World!"), Frames.close(1000, ""));
            run.expect(text("Hello World!"));
            run.expectCloseAnswer(1000);
        }));
        cases.add(ConformanceCase.of("7.1.2", "Send CLOSE 1000 twice; expect one CLOSE 1000 and nothing else", run -> {
            run.send(Frames.close(1000, ""), Frames.close(1000, ""));
            run.expectCloseAnswer(1000);
        }));
        cases.add(ConformanceCase.of("7.1.3", "Send CLOSE 1000, then a PING; expect CLOSE 1000 and no PONG", run -> {
            run.send(Frames.close(1000, ""), Frames.ping("Hello World!"));
            run.expectCloseAnswer(1000);
        }));
        cases.add(ConformanceCase.of("7.1.4", "Send CLOSE 1000, then a text message; expect CLOSE 1000 and no echo",
                run -> {
                    run.send(Frames.close(1000, ""), Frames.text("Hello World!"));
                    run.expectCloseAnswer(1000);
                }));
        cases.add(ConformanceCase.of("7.1.5", "Send a text fragment, CLOSE 1000, then the final fragment; expect CLOSE"
                + " 1000 and no echo", run -> {
            run.send(Frames.frame(false, Frames.TEXT, Frames.utf8("fragment1")), Frames.close(1000, ""),
                    Frames.frame(true, Frames.CONTINUATION, Frames.utf8("fragment2")));
            run.expectCloseAnswer(1000);
        }));
        byte[] big = Frames.textPayload(256 * 1024);
        cases.add(ConformanceCase.of("7.1.6", "Send a 256 KiB text message, CLOSE 1000, then a PING, in one write;"
                + " expect CLOSE 1000 (the echo may or may not come first) and no PONG", run -> {
            run.send(Frames.text(big), Frames.close(1000, ""), Frames.ping("Hello World!"));
            run.expect(text(big));
            run.expect();
            run.expectCloseAnswer(1000);
        }));
        cases.add(ConformanceCase.of("7.1.7", "(wscrt) Send CLOSE 1000, wait, then more frames into the closed"
                + " connection; expect CLOSE 1000, no PONG, no echo, no error", run -> {
            run.send(Frames.close(1000, ""));
            run.peer().awaitClientEnd(2000);
            run.send(Frames.ping("late"), Frames.text("late"));
            run.expectCloseAnswer(1000);
        }));
    }

    private static void addPayloads(List<ConformanceCase> cases) {
        cases.add(ConformanceCase.of("7.3.1", "Send CLOSE with an empty payload; expect an empty CLOSE (or 1000)", run -> {
            run.send(Frames.frame(true, Frames.CLOSE, new byte[0]));
            run.expectCloseAnswer(CloseCodes.NONE, 1000);
        }));
        cases.add(ConformanceCase.of("7.3.2", "Send CLOSE with a 1-byte payload; expect the client to fail with 1002",
                run -> {
                    run.send(Frames.frame(true, Frames.CLOSE, new byte[] {0x03}));
                    run.expectFailure(1002, "WSCRT_ERROR_WEBSOCKET_INVALID_CLOSE_PAYLOAD");
                }));
        cases.add(ConformanceCase.of("7.3.3", "Send CLOSE 1000 without reason; expect CLOSE 1000", run -> {
            run.send(Frames.close(1000, ""));
            run.expectCloseAnswer(1000);
        }));
        cases.add(ConformanceCase.of("7.3.4", "Send CLOSE 1000 with a short reason; expect CLOSE 1000", run -> {
            run.send(Frames.close(1000, "Hello World!"));
            run.expectCloseAnswer(1000);
        }));
        byte[] reason123 = Frames.asciiPayload(123);
        cases.add(ConformanceCase.of("7.3.5", "Send CLOSE 1000 with a 123-byte reason (the maximum); expect CLOSE 1000",
                run -> {
                    run.send(Frames.close(1000, reason123));
                    run.expectCloseAnswer(1000);
                }));
        cases.add(ConformanceCase.of("7.3.6", "Send CLOSE 1000 with a 124-byte reason (126-byte payload); expect the"
                + " client to fail with 1002", run -> {
            run.send(Frames.close(1000, Frames.asciiPayload(124)));
            run.expectFailure(1002, "WSCRT_ERROR_WEBSOCKET_CONTROL_FRAME_TOO_LONG");
        }));
        cases.add(ConformanceCase.of("7.3.7", "(wscrt) Send CLOSE 1000 with a 123-byte multi-byte UTF-8 reason, one byte"
                + " per TCP write; expect CLOSE 1000", run -> {
            byte[] reason = Frames.textPayload(123);
            run.send(Chop.BYTEWISE, Frames.close(1000, reason));
            run.expectCloseAnswer(1000);
        }));
        cases.add(ConformanceCase.of("7.5.1", "Send CLOSE 1000 with a reason that is not valid UTF-8; expect the client to"
                + " fail with 1007", run -> {
            run.send(Frames.close(1000, INVALID_REASON));
            run.expectFailure(1007, Utf8Cases.INVALID_UTF8);
        }));
        cases.add(ConformanceCase.of("7.5.2", "(wscrt) Send CLOSE 1000 with a reason cut off inside a code point; expect"
                + " the client to fail with 1007", run -> {
            run.send(Frames.close(1000, Frames.concat(Frames.utf8("cut short: "), Hex.bytes("e2 82"))));
            run.expectFailure(1007, Utf8Cases.INVALID_UTF8);
        }));
        cases.add(ConformanceCase.of("7.5.3", "(wscrt) Send CLOSE 1000 with an invalid UTF-8 reason, one byte per TCP"
                + " write; expect the client to fail with 1007", run -> {
            run.send(Chop.BYTEWISE, Frames.close(1000, INVALID_REASON));
            run.expectFailure(1007, Utf8Cases.INVALID_UTF8);
        }));
    }
}
