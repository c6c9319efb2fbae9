package dev.wscrt.conformance;

import dev.wscrt.CrtRuntimeException;
import dev.wscrt.testing.ReceivedFrame;
import dev.wscrt.websocket.OnConnectionShutdownData;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * One run of one case: what its script uses to drive the server side, the expectation the script
 * states, and the verdict, judged the way Autobahn|Testsuite judges.
 *
 * <p>The expectation has two parts. The trace (what the client sent, {@link TraceEvent}) must equal one
 * of the OK traces (default: nothing at all), else one of the NON-STRICT traces, else the case FAILED.
 * The ending is one of:
 * <ul>
 *   <li>{@link #expectServerClose}: a healthy exchange; the server sends CLOSE once the trace is
 *       complete, the client must answer with the expected code and shut down without error;</li>
 *   <li>{@link #expectCloseAnswer}: the script itself sent a CLOSE; the same rules;</li>
 *   <li>{@link #expectFailure}: a violation; the client must send CLOSE with the expected code (1002,
 *       or 1007 for invalid UTF-8), and shut down with the named error. Another failure code, or a TCP
 *       drop without CLOSE, is NON-STRICT.</li>
 * </ul>
 * Every client frame is checked by the {@link ServerPeer}; a breach fails the case.
 *
 * <p>Threads: the case thread only.
 */
final class CaseRun {
    /** How long the server waits for the client's expected messages and PONGs before it gives up. */
    private static final long SETTLE_MS = 2500;
    /** How long the server waits for the client's CLOSE, or for it to fail the connection. */
    private static final long CLOSE_WAIT_MS = 2500;
    /** How long the client gets to report its shutdown once the TCP connection is gone. */
    private static final long SHUTDOWN_WAIT_MS = 2500;

    private enum Ending { SERVER_CLOSES, SCRIPT_CLOSED, CLIENT_FAILS }

    private final ConformanceCase spec;
    private final ServerPeer peer;
    private final EchoClient client;

    private final List<List<TraceEvent>> okTraces = new ArrayList<>();
    private final List<List<TraceEvent>> nonStrictTraces = new ArrayList<>();
    private final List<String> nonStrictTraceReasons = new ArrayList<>();
    private boolean checkTrace = true;

    private Ending ending = Ending.SERVER_CLOSES;
    private byte[] serverClose = Frames.close(1000, "");
    private Set<Integer> okCodes = Set.of(1000);
    private Set<Integer> nonStrictCodes = Set.of();
    private String nonStrictCodeReason = "";
    private int failureCode;
    private Set<String> errorNames = Set.of();

    private final List<String> failures = new ArrayList<>();
    private final List<String> nonStrict = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();
    private OnConnectionShutdownData shutdown;

    CaseRun(ConformanceCase spec, ServerPeer peer, EchoClient client) {
        this.spec = spec;
        this.peer = peer;
        this.client = client;
    }

    ServerPeer peer() {
        return peer;
    }

    EchoClient client() {
        return client;
    }

    // ---- driving the client -----------------------------------------------------------------

    /** Writes the frames back to back in one write. */
    void send(byte[]... frames) {
        peer.send(Frames.concat(frames), Chop.WHOLE);
    }

    /** Writes the frames back to back, cut into TCP writes as {@code chop} says. */
    void send(Chop chop, byte[]... frames) {
        peer.send(Frames.concat(frames), chop);
    }

    /** Writes each frame on its own ({@code chop} within it), pausing {@code pauseMs} between frames. */
    void sendEach(Chop chop, long pauseMs, List<byte[]> frames) {
        for (int i = 0; i < frames.size(); i++) {
            if (i > 0) {
                pause(pauseMs);
            }
            peer.send(frames.get(i), chop);
        }
    }

    void pause(long ms) {
        try {
            TimeUnit.MILLISECONDS.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** A checkpoint: see {@link ServerPeer#mark}. */
    void mark(String name, long waitMs) {
        peer.mark(name, waitMs);
    }

    // ---- the expectation --------------------------------------------------------------------

    /** Adds an OK trace. Without any, the OK trace is the empty one. */
    void expect(TraceEvent... trace) {
        okTraces.add(List.of(trace));
    }

    void expect(List<TraceEvent> trace) {
        okTraces.add(List.copyOf(trace));
    }

    /** Adds a NON-STRICT trace, and the reason it is acceptable but not strict. */
    void allowNonStrict(String why, TraceEvent... trace) {
        nonStrictTraces.add(List.of(trace));
        nonStrictTraceReasons.add(why);
    }

    /** The case judges what the client sent itself (cases with many messages diverted from the trace). */
    void skipTraceCheck() {
        checkTrace = false;
    }

    /** Ends with the server's CLOSE {@code code}; the client must answer with one of {@code okCodes}. */
    void expectServerClose(byte[] closeFrame, int... codes) {
        ending = Ending.SERVER_CLOSES;
        serverClose = closeFrame;
        okCodes = toSet(codes);
    }

    /** The script sent a CLOSE; the client must answer with one of {@code okCodes}. */
    void expectCloseAnswer(int... codes) {
        ending = Ending.SCRIPT_CLOSED;
        okCodes = toSet(codes);
    }

    /** An answer with one of {@code codes} is NON-STRICT, for {@code why}. */
    void allowNonStrictCloseAnswer(String why, int... codes) {
        nonStrictCodes = toSet(codes);
        nonStrictCodeReason = why;
    }

    /** The client must fail the connection: CLOSE {@code code}, shutdown error one of {@code names}. */
    void expectFailure(int code, String... names) {
        ending = Ending.CLIENT_FAILS;
        failureCode = code;
        errorNames = Set.of(names);
    }

    /** The case's own findings, judged with the rest. */
    void fail(String why) {
        failures.add(why);
    }

    void nonStrict(String why) {
        nonStrict.add(why);
    }

    void note(String what) {
        notes.add(what);
    }

    private static Set<Integer> toSet(int... codes) {
        return Arrays.stream(codes).boxed().collect(Collectors.toUnmodifiableSet());
    }

    // ---- ending and judging -----------------------------------------------------------------

    /** Ends the case as the expectation says, within bounded waits. */
    void finish() {
        switch (ending) {
            case SERVER_CLOSES -> {
                peer.awaitTrace(longestExpectedTrace(), SETTLE_MS);
                if (!peer.clientEnded()) {
                    peer.sendClose(serverClose);
                }
                peer.awaitClientEnd(CLOSE_WAIT_MS);
            }
            case SCRIPT_CLOSED -> peer.awaitClientEnd(CLOSE_WAIT_MS);
            case CLIENT_FAILS -> {
                peer.awaitClientEnd(CLOSE_WAIT_MS);
                ReceivedFrame close = peer.clientClose();
                if (close != null && !peer.serverCloseSent()) {
                    // Answer as a server does (the client may already be gone: then the write fails).
                    peer.sendClose(Frames.frame(true, Frames.CLOSE, close.payload().length >= 2
                            ? Arrays.copyOf(close.payload(), 2) : new byte[0]));
                }
            }
            default -> throw new IllegalStateException();
        }
        peer.awaitEof(CLOSE_WAIT_MS);
        shutdown = client.awaitShutdown(SHUTDOWN_WAIT_MS);
    }

    private int longestExpectedTrace() {
        if (!checkTrace) {
            return 0;
        }
        int longest = 0;
        for (List<TraceEvent> t : okTraces) {
            longest = Math.max(longest, t.size());
        }
        for (List<TraceEvent> t : nonStrictTraces) {
            longest = Math.max(longest, t.size());
        }
        return longest;
    }

    /** The verdict and its reasons. */
    CaseResult judge(long millis) {
        List<String> failed = new ArrayList<>(failures);
        List<String> loose = new ArrayList<>(nonStrict);
        List<String> seen = new ArrayList<>();
        for (String v : peer.violations()) {
            failed.add("client frame: " + v);
        }
        judgeTrace(failed, loose, seen);
        judgeEnding(failed, loose, seen);
        judgeDeliveredControlFrames(failed);
        if (client.echoesFailed() > 0) {
            seen.add(client.echoesFailed() + " echo(es) not sent (" + client.firstEchoFailure() + ")");
        }
        seen.addAll(notes);
        Verdict verdict = !failed.isEmpty() ? Verdict.FAILED : !loose.isEmpty() ? Verdict.NON_STRICT : Verdict.OK;
        List<String> detail = new ArrayList<>(failed);
        detail.addAll(loose);
        detail.addAll(seen);
        return new CaseResult(spec.id(), spec.description(), verdict, String.join("; ", detail), millis);
    }

    private void judgeTrace(List<String> failed, List<String> loose, List<String> seen) {
        if (!checkTrace) {
            return;
        }
        List<TraceEvent> observed = peer.trace();
        List<List<TraceEvent>> ok = okTraces.isEmpty() ? List.of(List.of()) : okTraces;
        if (ok.contains(observed)) {
            seen.add(observed.isEmpty() ? "nothing sent back" : "sent back " + describe(observed));
            return;
        }
        int i = nonStrictTraces.indexOf(observed);
        if (i >= 0) {
            loose.add(nonStrictTraceReasons.get(i) + " (sent back " + describe(observed) + ")");
            return;
        }
        failed.add("sent back " + describe(observed) + ", expected " + ok.stream().map(CaseRun::describe)
                .collect(Collectors.joining(" or ")));
    }

    private void judgeEnding(List<String> failed, List<String> loose, List<String> seen) {
        ReceivedFrame close = peer.clientClose();
        String end = peer.end();
        Throwable shutdownError = shutdown == null ? null : shutdown.exception();
        if (shutdown == null) {
            failed.add("no shutdown callback within " + SHUTDOWN_WAIT_MS + " ms of the end of the case");
        }
        if (ending == Ending.CLIENT_FAILS) {
            String expected = "CLOSE " + failureCode;
            if (close != null) {
                int code = close.closeCode();
                if (code == failureCode) {
                    seen.add("client failed with CLOSE " + code);
                } else if (code == 1002 || code == 1007) {
                    loose.add("client failed with CLOSE " + code + " where " + failureCode + " is the precise code");
                } else {
                    failed.add("client sent CLOSE " + CloseCodes.name(code) + ", expected " + expected);
                }
            } else if (end != null) {
                loose.add("client dropped the TCP connection without a CLOSE (" + end + "), expected " + expected);
            } else {
                failed.add("client did not fail the connection within " + CLOSE_WAIT_MS + " ms, expected "
                        + expected);
            }
            if (shutdown != null) {
                String name = EchoClient.errorName(shutdownError);
                if (shutdownError == null) {
                    failed.add("shutdown reported no error, expected " + String.join(" or ", errorNames));
                } else if (!(shutdownError instanceof CrtRuntimeException crt)
                        || !errorNames.contains(crt.errorName())) {
                    failed.add("shutdown error " + name + ", expected " + String.join(" or ", errorNames));
                } else {
                    seen.add(name);
                }
            }
            return;
        }
        String expected = okCodes.stream().sorted().map(CloseCodes::name).collect(Collectors.joining(" or "));
        if (close == null) {
            failed.add(end == null ? "client never answered the server's CLOSE"
                    : "client ended the TCP connection (" + end + ") without a CLOSE");
        } else {
            int code = close.closeCode();
            if (okCodes.contains(code)) {
                seen.add("close handshake " + describeReceivedClose() + " -> " + CloseCodes.name(code));
            } else if (nonStrictCodes.contains(code)) {
                loose.add(nonStrictCodeReason + " (answered CLOSE " + CloseCodes.name(code) + " to "
                        + describeReceivedClose() + ")");
            } else {
                failed.add("client answered CLOSE " + CloseCodes.name(code) + " to " + describeReceivedClose()
                        + ", expected " + expected);
            }
        }
        if (shutdown != null && shutdownError != null) {
            failed.add("shutdown error " + EchoClient.errorName(shutdownError) + " after a close handshake");
        }
    }

    /**
     * The client's callbacks must deliver every PING, PONG and CLOSE the server sent, with its payload,
     * up to the server's CLOSE; when the client failed the connection, a prefix of them.
     */
    private void judgeDeliveredControlFrames(List<String> failed) {
        List<ControlFrame> sent = peer.sentControlFrames();
        List<ControlFrame> delivered = client.controlFrames();
        boolean prefix = delivered.size() <= sent.size() && delivered.equals(sent.subList(0, delivered.size()));
        if (!prefix) {
            int i = 0;
            while (i < delivered.size() && i < sent.size() && delivered.get(i).equals(sent.get(i))) {
                i++;
            }
            failed.add("the frame callbacks delivered control frame #" + (i + 1) + " as "
                    + (i < delivered.size() ? delivered.get(i) : "nothing") + " where the server sent "
                    + (i < sent.size() ? sent.get(i) : "nothing") + " (" + delivered.size() + " delivered, "
                    + sent.size() + " sent: " + describeControls(sent) + ")");
        } else if (ending != Ending.CLIENT_FAILS && delivered.size() < sent.size()) {
            failed.add("the frame callbacks delivered only " + describeControls(delivered) + " of the control frames"
                    + " sent, " + describeControls(sent));
        }
    }

    private static String describeControls(List<ControlFrame> frames) {
        if (frames.size() > 4) {
            return frames.subList(0, 3).toString().replace("]", ", ...]");
        }
        return frames.toString();
    }

    private String describeReceivedClose() {
        int code = client.receivedCloseCode();
        return code == EchoClient.NO_CLOSE ? "(no CLOSE seen by the client)" : CloseCodes.name(code);
    }

    private static String describe(List<TraceEvent> trace) {
        if (trace.isEmpty()) {
            return "nothing";
        }
        if (trace.size() > 6) {
            return trace.size() + " events [" + trace.subList(0, 3).stream().map(Object::toString)
                    .collect(Collectors.joining(", ")) + ", ...]";
        }
        return trace.toString();
    }
}
