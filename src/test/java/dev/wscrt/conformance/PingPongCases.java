package dev.wscrt.conformance;

import static dev.wscrt.conformance.Events.pong;

import java.util.ArrayList;
import java.util.List;

/**
 * Family 2, PINGs and PONGs: every PING is answered with a PONG carrying its payload (RFC 6455 5.5.2,
 * 5.5.3), up to the 125-byte control-frame limit; a longer PING fails the connection; unsolicited
 * PONGs are ignored. (Fragmented PING and PONG are cases 5.1 and 5.2, where Autobahn has them.)
 */
final class PingPongCases {
    private static final String TOO_LONG = "WSCRT_ERROR_WEBSOCKET_CONTROL_FRAME_TOO_LONG";

    private PingPongCases() {
    }

    static List<ConformanceCase> all() {
        List<ConformanceCase> cases = new ArrayList<>();
        byte[] binary = {0x00, (byte) 0xff, (byte) 0xfe, (byte) 0xfd, (byte) 0xfc, (byte) 0xfb, 0x00, (byte) 0xff};
        byte[] max = Frames.binaryPayload(125);
        cases.add(ConformanceCase.of("2.1", "Send PING without payload; expect a PONG without payload", run -> {
            run.send(Frames.ping(new byte[0]));
            run.expect(pong(new byte[0]));
        }));
        cases.add(ConformanceCase.of("2.2", "Send PING with a small text payload; expect a PONG with the same payload",
                run -> {
                    run.send(Frames.ping("Hello, world!"));
                    run.expect(pong("Hello, world!"));
                }));
        cases.add(ConformanceCase.of("2.3", "Send PING with a small binary payload; expect a PONG with the same payload",
                run -> {
                    run.send(Frames.ping(binary));
                    run.expect(pong(binary));
                }));
        cases.add(ConformanceCase.of("2.4", "Send PING with a 125-byte binary payload (the maximum); expect its PONG",
                run -> {
                    run.send(Frames.ping(max));
                    run.expect(pong(max));
                }));
        cases.add(ConformanceCase.of("2.5", "Send PING with a 126-byte payload; expect the client to fail with 1002",
                run -> {
                    run.send(Frames.ping(Frames.binaryPayload(126)));
                    run.expectFailure(1002, TOO_LONG);
                }));
        cases.add(ConformanceCase.of("2.6", "Send PING with a 125-byte payload, one byte per TCP write; expect its PONG",
                run -> {
                    run.send(Chop.BYTEWISE, Frames.ping(max));
                    run.expect(pong(max));
                }));
        cases.add(ConformanceCase.of("2.7", "Send an unsolicited PONG without payload; expect nothing", run -> {
            run.send(Frames.pong(new byte[0]));
        }));
        cases.add(ConformanceCase.of("2.8", "Send an unsolicited PONG with payload; expect nothing", run -> {
            run.send(Frames.pong(Frames.utf8("unsolicited pong payload")));
        }));
        cases.add(ConformanceCase.of("2.9", "Send an unsolicited PONG, then a PING; expect the PING's PONG only", run -> {
            run.send(Frames.pong(Frames.utf8("unsolicited pong payload")), Frames.ping("ping payload"));
            run.expect(pong("ping payload"));
        }));
        cases.add(ConformanceCase.of("2.10", "Send 10 PINGs in a row; expect 10 PONGs with their payloads, in order",
                run -> tenPings(run, Chop.WHOLE)));
        cases.add(ConformanceCase.of("2.11", "Send 10 PINGs in a row, one byte per TCP write; expect 10 PONGs in order",
                run -> tenPings(run, Chop.BYTEWISE)));
        cases.add(ConformanceCase.of("2.12", "(wscrt) Send PING announcing a 64-bit payload length; expect the client"
                + " to fail with 1002 at the length byte", run -> {
            run.send(Chop.BYTEWISE, new byte[] {(byte) 0x89, 127, 0, 0, 0, 0, 0, 1, 0, 0});
            run.expectFailure(1002, TOO_LONG);
        }));
        cases.add(ConformanceCase.of("2.13", "(wscrt) Send a PING whose payload is cut into 1-byte TCP writes between"
                + " the halves of a TEXT message's frames; expect the PONG and the echo", run -> {
            byte[] first = Frames.frame(false, Frames.TEXT, Frames.utf8("frag"));
            byte[] last = Frames.frame(true, Frames.CONTINUATION, Frames.utf8("ment"));
            run.send(first);
            run.send(Chop.BYTEWISE, Frames.ping("in between"));
            run.send(last);
            run.expect(pong("in between"), Events.text("fragment"));
        }));
        return cases;
    }

    private static void tenPings(CaseRun run, Chop chop) {
        List<byte[]> frames = new ArrayList<>();
        List<TraceEvent> pongs = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            String payload = "payload-" + i;
            frames.add(Frames.ping(payload));
            pongs.add(pong(payload));
        }
        run.send(chop, Frames.concat(frames));
        run.expect(pongs);
    }
}
