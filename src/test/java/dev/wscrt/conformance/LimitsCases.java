package dev.wscrt.conformance;

import static dev.wscrt.conformance.Events.binary;
import static dev.wscrt.conformance.Events.text;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntFunction;

/**
 * Family 9, limits and performance: large messages (up to 16 MiB) in one frame, in fragments and in
 * small TCP writes; 1000 round trips of small messages; and (wscrt additions) many small frames,
 * pipelined. Every echo is checked byte for byte; the detail gives the time and throughput.
 */
final class LimitsCases {
    /** Pipelined small messages in 9.9.1/9.9.2: each one a separate echo through the whole stack. */
    static final int SMALL_MESSAGES = 1_000_000;
    /** Frames of the single message of 9.9.3/9.9.4: the decoder's per-frame cost without per-echo cost. */
    static final int ONE_BYTE_FRAGMENTS = 1_000_000;
    /** PINGs of 9.9.5, each answered by the library's automatic PONG. */
    static final int PINGS = 100_000;
    /** Shown in the report header. */
    static final String SCALE_NOTE = "Family 9 is scaled to the time budget (the whole suite within ~3 minutes on"
            + " a 2-core machine): Autobahn's 9.1-9.8 sizes are kept as they are (messages up to 16 MiB, 4 MiB"
            + " messages in fragments down to 64 bytes, 1 MiB messages in TCP writes down to 64 bytes, 1000 round"
            + " trips); the many-small-frames cases 9.9 send " + SMALL_MESSAGES + " pipelined small messages (text"
            + " and binary), messages of " + ONE_BYTE_FRAGMENTS + " one-byte frames, and " + PINGS + " pipelined"
            + " PINGs.";

    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    /** The longest wait for one echo: 16 MiB both ways on loopback takes well under a second. */
    private static final long ECHO_WAIT_MS = 30_000;

    private LimitsCases() {
    }

    static List<ConformanceCase> all() {
        List<ConformanceCase> cases = new ArrayList<>();
        int[] sizes = {64 << 10, 256 << 10, 1 << 20, 4 << 20, 8 << 20, 16 << 20};
        int[] fragments = {64, 256, 1 << 10, 4 << 10, 16 << 10, 64 << 10, 256 << 10, 1 << 20, 4 << 20};
        int[] chops = {64, 128, 256, 512, 1024, 2048};
        int[] roundTrips = {0, 16, 64, 256, 1024, 4096};
        for (int opcode : new int[] {Frames.TEXT, Frames.BINARY}) {
            String kind = kind(opcode);
            String group = opcode == Frames.TEXT ? "9.1." : "9.2.";
            int n = 1;
            for (int size : sizes) {
                byte[] payload = payload(opcode, size);
                cases.add(ConformanceCase.slow(group + n++, "Send " + kind + " message of " + size(size)
                        + " in one frame; expect its echo", TIMEOUT,
                        run -> echoOnce(run, opcode, payload, Frames.frame(true, opcode, payload), Chop.WHOLE)));
            }
        }
        for (int opcode : new int[] {Frames.TEXT, Frames.BINARY}) {
            String group = opcode == Frames.TEXT ? "9.3." : "9.4.";
            byte[] payload = payload(opcode, 4 << 20);
            int n = 1;
            for (int fragment : fragments) {
                cases.add(ConformanceCase.slow(group + n++, "Send " + kind(opcode) + " message of 4 MiB in fragments"
                        + " of " + size(fragment) + "; expect its echo", TIMEOUT,
                        run -> echoOnce(run, opcode, payload, Frames.fragmented(opcode, payload, fragment),
                                Chop.WHOLE)));
            }
        }
        for (int opcode : new int[] {Frames.TEXT, Frames.BINARY}) {
            String group = opcode == Frames.TEXT ? "9.5." : "9.6.";
            byte[] payload = payload(opcode, 1 << 20);
            int n = 1;
            for (int chop : chops) {
                cases.add(ConformanceCase.slow(group + n++, "Send " + kind(opcode) + " message of 1 MiB in one frame,"
                        + " in " + chop + "-byte TCP writes; expect its echo", TIMEOUT,
                        run -> echoOnce(run, opcode, payload, Frames.frame(true, opcode, payload), Chop.of(chop))));
            }
        }
        for (int opcode : new int[] {Frames.TEXT, Frames.BINARY}) {
            String group = opcode == Frames.TEXT ? "9.7." : "9.8.";
            int n = 1;
            for (int size : roundTrips) {
                byte[] payload = payload(opcode, size);
                cases.add(ConformanceCase.slow(group + n++, "Send 1000 " + kind(opcode) + " messages of " + size(size)
                        + ", each after the echo of the one before; expect 1000 echoes", TIMEOUT,
                        run -> roundTrips(run, opcode, payload)));
            }
        }
        cases.add(ConformanceCase.slow("9.9.1", "(wscrt) Send " + SMALL_MESSAGES + " text messages of 16 B back to"
                + " back; expect every echo, in order", TIMEOUT, run -> pipelined(run, Frames.TEXT, SMALL_MESSAGES,
                LimitsCases::numberedText)));
        cases.add(ConformanceCase.slow("9.9.2", "(wscrt) Send " + SMALL_MESSAGES + " binary messages of 4 B back to"
                + " back; expect every echo, in order", TIMEOUT, run -> pipelined(run, Frames.BINARY, SMALL_MESSAGES,
                i -> new byte[] {(byte) (i >>> 24), (byte) (i >>> 16), (byte) (i >>> 8), (byte) i})));
        byte[] binaryMillion = Frames.binaryPayload(ONE_BYTE_FRAGMENTS);
        cases.add(ConformanceCase.slow("9.9.3", "(wscrt) Send a binary message as " + ONE_BYTE_FRAGMENTS + " one-byte"
                + " fragments; expect its echo", TIMEOUT, run -> echoOnce(run, Frames.BINARY, binaryMillion,
                Frames.fragmented(Frames.BINARY, binaryMillion, 1), Chop.WHOLE, ONE_BYTE_FRAGMENTS)));
        byte[] textMillion = Frames.textPayload(ONE_BYTE_FRAGMENTS);
        cases.add(ConformanceCase.slow("9.9.4", "(wscrt) Send a text message with multi-byte code points as "
                + ONE_BYTE_FRAGMENTS + " one-byte fragments; expect its echo", TIMEOUT, run -> echoOnce(run,
                Frames.TEXT, textMillion, Frames.fragmented(Frames.TEXT, textMillion, 1), Chop.WHOLE, ONE_BYTE_FRAGMENTS)));
        cases.add(ConformanceCase.slow("9.9.5", "(wscrt) Send " + PINGS + " PINGs back to back; expect every PONG,"
                + " with its payload, in order", TIMEOUT, LimitsCases::pipelinedPings));
        return cases;
    }

    /** 16 bytes of text numbered {@code i}: 14 decimal digits and an e-acute (a 2-byte code point). */
    private static byte[] numberedText(int i) {
        byte[] b = new byte[16];
        long v = i;
        for (int k = 13; k >= 0; k--) {
            b[k] = (byte) ('0' + v % 10);
            v /= 10;
        }
        b[14] = (byte) 0xc3;
        b[15] = (byte) 0xa9;
        return b;
    }

    private static void pipelinedPings(CaseRun run) {
        List<byte[]> pings = new ArrayList<>(PINGS);
        List<TraceEvent> pongs = new ArrayList<>(PINGS);
        for (int i = 0; i < PINGS; i++) {
            byte[] payload = Arrays.copyOf(numberedText(i), 14);
            pings.add(Frames.ping(payload));
            pongs.add(Events.pong(payload));
        }
        byte[] wire = Frames.concat(pings);
        long start = System.nanoTime();
        run.send(wire);
        run.peer().awaitTrace(PINGS, ECHO_WAIT_MS);
        long micros = TimeUnit.NANOSECONDS.toMicros(System.nanoTime() - start);
        run.expect(pongs);
        run.note(timing(micros, wire.length, PINGS));
    }

    /** Sends one message and waits for its echo. */
    private static void echoOnce(CaseRun run, int opcode, byte[] payload, byte[] wire, Chop chop) {
        echoOnce(run, opcode, payload, wire, chop, 1);
    }

    private static void echoOnce(CaseRun run, int opcode, byte[] payload, byte[] wire, Chop chop, long frames) {
        long start = System.nanoTime();
        run.send(chop, wire);
        boolean echoed = run.peer().awaitTrace(1, ECHO_WAIT_MS);
        long micros = TimeUnit.NANOSECONDS.toMicros(System.nanoTime() - start);
        run.expect(opcode == Frames.TEXT ? text(payload) : binary(payload));
        if (echoed) {
            run.note(timing(micros, wire.length, frames));
        }
    }

    private static void roundTrips(CaseRun run, int opcode, byte[] payload) {
        byte[] frame = Frames.frame(true, opcode, payload);
        TraceEvent echo = opcode == Frames.TEXT ? text(payload) : binary(payload);
        List<TraceEvent> expected = new ArrayList<>();
        long start = System.nanoTime();
        for (int i = 0; i < 1000; i++) {
            run.send(frame);
            expected.add(echo);
            if (!run.peer().awaitTrace(i + 1, ECHO_WAIT_MS)) {
                break;
            }
        }
        long micros = TimeUnit.NANOSECONDS.toMicros(System.nanoTime() - start);
        run.expect(expected);
        run.note(String.format("%.1f us per round trip", micros / 1000.0));
    }

    /** Sends {@code count} messages back to back; the server checks each echo as it comes. */
    private static void pipelined(CaseRun run, int opcode, int count, IntFunction<byte[]> payloadOf) {
        AtomicLong received = new AtomicLong();
        AtomicReference<String> mismatch = new AtomicReference<>();
        run.peer().divertMessages(m -> {
            long i = received.getAndIncrement();
            byte[] expected = payloadOf.apply((int) i);
            if ((m.opcode() != opcode || !Arrays.equals(m.payload(), expected)) && mismatch.get() == null) {
                mismatch.set("echo #" + i + " is " + m + ", expected " + new TraceEvent.Message(opcode, expected));
            }
        });
        byte[][] frames = new byte[count][];
        long bytes = 0;
        for (int i = 0; i < count; i++) {
            frames[i] = Frames.frame(true, opcode, payloadOf.apply(i));
            bytes += frames[i].length;
        }
        byte[] wire = new byte[Math.toIntExact(bytes)];
        int at = 0;
        for (byte[] f : frames) {
            System.arraycopy(f, 0, wire, at, f.length);
            at += f.length;
        }
        long start = System.nanoTime();
        run.send(wire);
        run.peer().await(ECHO_WAIT_MS, () -> received.get() >= count);
        long micros = TimeUnit.NANOSECONDS.toMicros(System.nanoTime() - start);
        run.skipTraceCheck();
        if (received.get() != count) {
            run.fail(received.get() + " of " + count + " echoes arrived within " + ECHO_WAIT_MS + " ms");
        }
        if (mismatch.get() != null) {
            run.fail(mismatch.get());
        }
        run.note(received.get() + " echoes checked; " + timing(micros, bytes, count));
        List<TraceEvent> other = run.peer().trace();
        if (!other.isEmpty()) {
            run.fail("unexpected " + other.get(0) + " among the echoes");
        }
    }

    private static String timing(long micros, long bytes, long frames) {
        double seconds = micros / 1e6;
        String rate = String.format("%.0f MiB/s", bytes / (1024.0 * 1024.0) / Math.max(seconds, 1e-6));
        if (frames > 1) {
            rate += String.format(", %.0f frames/s", frames / Math.max(seconds, 1e-6));
        }
        return String.format("%d ms to echo (%s)", micros / 1000, rate);
    }

    private static byte[] payload(int opcode, int size) {
        return opcode == Frames.TEXT ? Frames.textPayload(size) : Frames.binaryPayload(size);
    }

    private static String kind(int opcode) {
        return opcode == Frames.TEXT ? "text" : "binary";
    }

    private static String size(int bytes) {
        if (bytes >= 1 << 20 && bytes % (1 << 20) == 0) {
            return (bytes >> 20) + " MiB";
        }
        if (bytes >= 1 << 10 && bytes % (1 << 10) == 0) {
            return (bytes >> 10) + " KiB";
        }
        return bytes + " B";
    }
}
