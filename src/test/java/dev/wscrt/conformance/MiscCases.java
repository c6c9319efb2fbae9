package dev.wscrt.conformance;

import static dev.wscrt.conformance.Events.text;

import java.util.List;

/**
 * Family 10, miscellaneous: Autobahn's single case 10.1.1, a 64 KiB text message auto-fragmented into
 * 1300-byte frames (so fragment boundaries fall inside multi-byte code points), echoed whole.
 */
final class MiscCases {
    private static final long ECHO_WAIT_MS = 5_000;

    private MiscCases() {
    }

    static List<ConformanceCase> all() {
        byte[] payload = Frames.textPayload(65536);
        return List.of(ConformanceCase.of("10.1.1", "Send text message of 65536 B auto-fragmented into frames of"
                + " 1300 B; expect its echo", run -> {
                    run.send(Frames.fragmented(Frames.TEXT, payload, 1300));
                    run.peer().awaitTrace(1, ECHO_WAIT_MS);
                    run.expect(text(payload));
                }));
    }
}
