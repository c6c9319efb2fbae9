package dev.wscrt.bench;

import dev.wscrt.websocket.IncomingFrame;
import dev.wscrt.websocket.OnSendFrameCompleteData;
import dev.wscrt.websocket.Opcode;
import dev.wscrt.websocket.WebSocket;
import dev.wscrt.websocket.WebSocketConnectOptions;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The wscrt side: the low-level frame API, callbacks on the native event-loop thread, the static
 * default bootstrap.
 */
final class WscrtClient implements BenchClient {
    private static final long SETUP_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(10);
    private static final long SHUTDOWN_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(5);
    /** Frames a sender may have queued in the library before waiting for completions. */
    static final int SEND_IN_FLIGHT = Integer.getInteger("bench.inFlight", 64);

    @Override
    public String name() {
        return "wscrt";
    }

    /**
     * State of one connection. Fields written on the event-loop thread are read by the main thread only
     * after a latch (or the shutdown latch) says so, which orders them; {@code volatile} only where the
     * main thread writes and the loop reads.
     */
    private static final class Conn {
        final CountDownLatch setup = new CountDownLatch(1);
        final CountDownLatch finished = new CountDownLatch(1);
        final CountDownLatch shutdown = new CountDownLatch(1);
        volatile WebSocket ws;
        volatile String setupError;
        volatile Throwable shutdownError;
        volatile String failure;
        volatile boolean shutDown;
        /** Set before the benchmark calls close(): a frame cut short after that is expected. */
        volatile boolean closing;
        long t0;
        long t1;
        long messages;
        long bytes;
        final StringBuilder text = new StringBuilder();

        void fail(String what) {
            if (failure == null && !closing) {
                failure = what;
            }
            finished.countDown();
        }
    }

    private static WebSocketConnectOptions.Builder options(int port, String path, Conn c) {
        return WebSocketConnectOptions.builder()
                .host("127.0.0.1")
                .port(port)
                .handshakeRequest(WebSocket.createHandshakeRequest("127.0.0.1:" + port, path))
                .onConnectionSetup(d -> {
                    if (d.exception() != null) {
                        c.setupError = d.exception() + " (status " + d.handshakeResponseStatus() + ")";
                    } else {
                        c.t0 = System.nanoTime();
                        c.ws = d.websocket();
                    }
                    c.setup.countDown();
                })
                .onConnectionShutdown(d -> {
                    c.shutdownError = d.exception();
                    c.shutDown = true;
                    c.shutdown.countDown();
                    c.finished.countDown();
                });
    }

    /** Connects and waits for setup; returns null with {@code c.setupError} set on failure. */
    private static WebSocket connect(WebSocketConnectOptions options, Conn c) throws InterruptedException {
        WebSocket.connect(options);
        if (!c.setup.await(SETUP_TIMEOUT_NANOS, TimeUnit.NANOSECONDS)) {
            c.setupError = "no setup callback within 10 s";
            return null;
        }
        return c.ws;
    }

    /** Closes, waits for the shutdown callback; returns a problem description or null. */
    private static String closeAndWait(Conn c) throws InterruptedException {
        WebSocket ws = c.ws;
        if (ws != null) {
            c.closing = true;
            ws.close();
        }
        if (!c.shutdown.await(SHUTDOWN_TIMEOUT_NANOS, TimeUnit.NANOSECONDS)) {
            return "no shutdown callback within 5 s after close()";
        }
        if (System.getProperty("bench.debug") != null) {
            System.err.println("wscrt shutdown after close(): " + c.shutdownError);
        }
        return null;
    }

    private static String describeEnd(Conn c) {
        if (c.failure != null) {
            return c.failure;
        }
        if (c.shutDown) {
            return "connection shut down early: " + Benchmark.describe(c.shutdownError);
        }
        return null;
    }

    @Override
    public Run receive(int port, int size, long count, long timeoutNanos) throws Exception {
        Conn c = new Conn();
        WebSocketConnectOptions options = options(port, "/blast?size=" + size + "&count=" + count, c)
                .onIncomingFramePayload(d -> {
                    if (d.frame().opcode() == Opcode.BINARY) {
                        c.bytes += d.data().remaining();
                    }
                })
                .onIncomingFrameComplete(d -> {
                    IncomingFrame f = d.frame();
                    if (d.exception() != null) {
                        c.fail("frame completed with " + Benchmark.describe(d.exception()));
                    } else if (f.opcode() == Opcode.BINARY) {
                        c.messages++;
                    } else if (f.opcode() == Opcode.TEXT) {
                        c.t1 = System.nanoTime();
                        c.finished.countDown();
                    }
                })
                .build();
        WebSocket ws = connect(options, c);
        if (ws == null) {
            return new Run(0, 0, 0, null, "setup failed: " + c.setupError);
        }
        boolean done = c.finished.await(timeoutNanos, TimeUnit.NANOSECONDS);
        long now = System.nanoTime();
        String endProblem = c.t1 != 0 ? null : describeEnd(c);
        String closeProblem = closeAndWait(c);
        // After the shutdown latch every loop-thread write is visible.
        if (!done) {
            String timedOut = "timed out after " + TimeUnit.NANOSECONDS.toSeconds(timeoutNanos) + " s with "
                    + c.messages + "/" + count + " messages";
            if (closeProblem != null || c.failure != null) {
                return new Run(now - c.t0, c.messages, c.bytes, null, timedOut + "; "
                        + (c.failure != null ? c.failure : closeProblem));
            }
            return Run.timeLimited(now - c.t0, c.messages, c.bytes, null, timedOut);
        }
        if (endProblem != null) {
            return new Run(now - c.t0, c.messages, c.bytes, null, "after " + c.messages + "/" + count
                    + " messages: " + endProblem);
        }
        String problem = closeProblem;
        if (c.messages != count || c.bytes != count * size) {
            problem = "expected " + count + " messages / " + count * size + " bytes, got " + c.messages + " / "
                    + c.bytes;
        }
        return new Run(c.t1 - c.t0, c.messages, c.bytes, null, problem);
    }

    @Override
    public Run send(int port, int size, long count, long timeoutNanos) throws Exception {
        Conn c = new Conn();
        WebSocketConnectOptions options = options(port, "/sink", c)
                .onIncomingFramePayload(d -> {
                    if (d.frame().opcode() == Opcode.TEXT) {
                        c.text.append(StandardCharsets.UTF_8.decode(d.data()));
                    }
                })
                .onIncomingFrameComplete(d -> {
                    if (d.exception() != null) {
                        c.fail("frame completed with " + Benchmark.describe(d.exception()));
                    } else if (d.frame().opcode() == Opcode.TEXT) {
                        c.t1 = System.nanoTime();
                        c.finished.countDown();
                    }
                })
                .build();
        WebSocket ws = connect(options, c);
        if (ws == null) {
            return new Run(0, 0, 0, null, "setup failed: " + c.setupError);
        }
        ByteBuffer payload = ByteBuffer.allocateDirect(size);
        for (int i = 0; i < size; i++) {
            payload.put(i, (byte) (i * 17 + 3));
        }
        Semaphore inFlight = new Semaphore(SEND_IN_FLIGHT);
        Consumer<OnSendFrameCompleteData> onSent = d -> {
            if (d.exception() != null) {
                c.fail("send completed with " + Benchmark.describe(d.exception()));
            }
            inFlight.release();
        };
        long start = System.nanoTime();
        long deadline = start + timeoutNanos;
        String problem = null;
        boolean timedOut = false;
        long queued = 0;
        while (queued < count) {
            if (!inFlight.tryAcquire(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                timedOut = true;
                break;
            }
            if (c.failure != null || c.shutDown) {
                break;
            }
            ws.sendFrame(Opcode.BINARY, payload, true, onSent);
            queued++;
        }
        if (!timedOut && c.failure == null && !c.shutDown) {
            ws.sendFrame(Opcode.TEXT, "stats");
            timedOut = !c.finished.await(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        }
        long now = System.nanoTime();
        long written = queued - (SEND_IN_FLIGHT - inFlight.availablePermits());
        if (timedOut) {
            problem = "timed out after " + TimeUnit.NANOSECONDS.toSeconds(timeoutNanos) + " s with " + queued
                    + "/" + count + " frames queued, " + written + " written"
                    + (queued == count ? ", no answer to \"stats\"" : "");
        }
        if (c.failure != null) {
            problem = (problem != null ? problem + "; " : "") + c.failure;
        } else if (!timedOut && c.t1 == 0) {
            problem = describeEnd(c);
        }
        boolean earlyEnd = c.shutDown;
        String closeProblem = closeAndWait(c);
        if (timedOut && c.failure == null && !earlyEnd && closeProblem == null) {
            // Time-limited: count what the library reported as written.
            return Run.timeLimited(now - start, written, written * size, null, problem);
        }
        if (problem != null) {
            return new Run(now - start, written, written * size, null, problem);
        }
        long[] stats = parseStats(c.text.toString());
        if (stats == null || stats[0] != count || stats[1] != count * size) {
            problem = "server counted '" + c.text + "', expected '" + count + " " + count * size + "'";
        } else {
            problem = closeProblem;
        }
        return new Run(c.t1 - start, stats == null ? 0 : stats[0], stats == null ? 0 : stats[1], null, problem);
    }

    static long[] parseStats(String text) {
        String[] parts = text.trim().split(" ");
        if (parts.length != 2) {
            return null;
        }
        try {
            return new long[] {Long.parseLong(parts[0]), Long.parseLong(parts[1])};
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** Echo state: everything runs on the event-loop thread once the first frame is out. */
    private static final class Echo {
        final byte[] payload;
        final long[] latencies;
        final int warmup;
        final int total;
        volatile int done;
        volatile long sentAt;
        int received;

        Echo(int size, int warmup, int count) {
            payload = new byte[size];
            for (int i = 0; i < size; i++) {
                payload[i] = (byte) ('a' + i % 26);
            }
            latencies = new long[count];
            this.warmup = warmup;
            this.total = warmup + count;
        }
    }

    @Override
    public Run echo(int port, int size, int warmup, int count, long timeoutNanos) throws Exception {
        Conn c = new Conn();
        Echo e = new Echo(size, warmup, count);
        WebSocketConnectOptions options = options(port, "/echo", c)
                .onIncomingFramePayload(d -> e.received += d.data().remaining())
                .onIncomingFrameComplete(d -> {
                    long now = System.nanoTime();
                    if (d.exception() != null) {
                        c.fail("frame completed with " + Benchmark.describe(d.exception()));
                        return;
                    }
                    if (d.frame().opcode() != Opcode.BINARY) {
                        return;
                    }
                    if (e.received != e.payload.length) {
                        c.fail("echo of " + e.received + " bytes, expected " + e.payload.length);
                        return;
                    }
                    e.received = 0;
                    int i = e.done;
                    if (i >= e.warmup) {
                        e.latencies[i - e.warmup] = now - e.sentAt;
                    }
                    e.done = ++i;
                    if (i < e.total) {
                        e.sentAt = System.nanoTime();
                        c.ws.sendFrame(Opcode.BINARY, e.payload);
                    } else {
                        c.t1 = now;
                        c.finished.countDown();
                    }
                })
                .build();
        WebSocket ws = connect(options, c);
        if (ws == null) {
            return new Run(0, 0, 0, null, "setup failed: " + c.setupError);
        }
        long start = System.nanoTime();
        e.sentAt = start;
        ws.sendFrame(Opcode.BINARY, e.payload);
        boolean finished = c.finished.await(timeoutNanos, TimeUnit.NANOSECONDS);
        long now = System.nanoTime();
        String problem = null;
        if (!finished) {
            problem = "timed out after " + TimeUnit.NANOSECONDS.toSeconds(timeoutNanos) + " s with " + e.done + "/"
                    + e.total + " round trips";
        } else if (c.t1 == 0) {
            problem = "after " + e.done + "/" + e.total + " round trips: " + describeEnd(c);
        }
        String failure = c.failure;
        String closeProblem = closeAndWait(c);
        int measured = Math.max(0, e.done - warmup);
        if (!finished && failure == null && closeProblem == null) {
            return Run.timeLimited(now - start, measured, (long) measured * size,
                    Arrays.copyOf(e.latencies, measured), problem);
        }
        if (problem == null) {
            problem = closeProblem;
        }
        return new Run((c.t1 != 0 ? c.t1 : now) - start, measured, (long) measured * size,
                problem == null ? e.latencies : null, problem);
    }
}
