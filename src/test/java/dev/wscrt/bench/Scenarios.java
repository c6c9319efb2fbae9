package dev.wscrt.bench;

import java.io.IOException;
import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;

/**
 * The measured runs, written once against {@link Peer}. Each returns its figures by name (seconds, counts,
 * bytes, nanoseconds) or throws with what went wrong; every wait is bounded.
 */
final class Scenarios {
    static final long OPEN_TIMEOUT_SECONDS = 15;
    static final long CLOSE_TIMEOUT_SECONDS = 10;

    private Scenarios() {
    }

    /** A listener for what counts connections, not messages: messages are ignored. */
    private abstract static class IgnoresMessages implements Peer.Listener {
        @Override
        public void onBinary(ByteBuffer data, boolean last) {
        }

        @Override
        public void onText(String text) {
        }
    }

    /** Listener base: records the open time, the end, and an early close. */
    private abstract static class Base extends IgnoresMessages {
        final CountDownLatch finished = new CountDownLatch(1);
        final CountDownLatch closed = new CountDownLatch(1);
        volatile Peer.Connection connection;
        volatile long t0;
        volatile long t1;
        volatile String failure;
        volatile Throwable closeError;

        @Override
        public void onOpen(Peer.Connection c) {
            t0 = System.nanoTime();
            connection = c;
        }

        @Override
        public void onClosed(Throwable error) {
            closeError = error;
            if (t1 == 0) {
                fail("connection closed early" + (error != null ? ": " + error : ""));
            }
            closed.countDown();
        }

        void fail(String what) {
            if (failure == null) {
                failure = what;
            }
            finished.countDown();
        }

        /** Connects; returns the set-up time in nanoseconds. */
        long open(Peer peer, Peer.Endpoint ep, String path) throws Exception {
            long c0 = System.nanoTime();
            peer.connect(ep.uri(path), this).get(OPEN_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            return t0 - c0;
        }

        void awaitEnd(long timeoutNanos, String what) throws Exception {
            if (!finished.await(timeoutNanos, TimeUnit.NANOSECONDS)) {
                failure = "timed out after " + TimeUnit.NANOSECONDS.toSeconds(timeoutNanos) + " s: " + what;
            }
            String problem = failure;
            connection.close();
            boolean closedInTime = closed.await(CLOSE_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            if (problem != null) {
                throw new IllegalStateException(problem);
            }
            if (!closedInTime) {
                throw new IllegalStateException("no close within " + CLOSE_TIMEOUT_SECONDS + " s after close()");
            }
        }
    }

    private static Map<String, Double> figures(Object... pairs) {
        Map<String, Double> m = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            m.put((String) pairs[i], ((Number) pairs[i + 1]).doubleValue());
        }
        return m;
    }

    /** The server sends {@code count} BINARY messages of {@code size} bytes, then TEXT "done". */
    static Map<String, Double> receive(Peer peer, Peer.Endpoint ep, int size, long count, long timeoutNanos)
            throws Exception {
        return receive(peer, ep, size, count, false, timeoutNanos);
    }

    /**
     * The server sends {@code count} BINARY messages of {@code size} bytes (with {@code asText}, TEXT messages of
     * as many ASCII letters, each handed to the listener as a {@link String}), then TEXT "done".
     */
    static Map<String, Double> receive(Peer peer, Peer.Endpoint ep, int size, long count, boolean asText,
                                       long timeoutNanos) throws Exception {
        class Receive extends Base {
            long messages;
            long bytes;

            @Override
            public void onBinary(ByteBuffer data, boolean last) {
                bytes += data.remaining();
                if (last) {
                    messages++;
                }
            }

            @Override
            public void onText(String text) {
                if (text.equals("done")) {
                    t1 = System.nanoTime();
                    finished.countDown();
                } else {
                    bytes += text.length(); // ASCII: a byte per char
                    messages++;
                }
            }
        }
        Receive r = new Receive();
        long setup = r.open(peer, ep, "/blast?size=" + size + "&count=" + count + (asText ? "&text=1" : ""));
        r.awaitEnd(timeoutNanos, "receiving " + count + " messages");
        if (r.messages != count || r.bytes != count * size) {
            throw new IllegalStateException("expected " + count + " messages / " + count * size + " bytes, got "
                    + r.messages + " / " + r.bytes);
        }
        return figures("seconds", (r.t1 - r.t0) / 1e9, "messages", count, "bytes", count * size,
                "setup", setup / 1e9);
    }

    /** The client sends {@code count} BINARY messages, then TEXT "stats"; the server's answer ends the run. */
    static Map<String, Double> send(Peer peer, Peer.Endpoint ep, int size, long count, boolean direct,
                                    long timeoutNanos) throws Exception {
        class Send extends Base {
            volatile String answer;

            @Override
            public void onText(String text) {
                answer = text;
                t1 = System.nanoTime();
                finished.countDown();
            }
        }
        Send s = new Send();
        long setup = s.open(peer, ep, "/sink");
        ByteBuffer payload = direct ? ByteBuffer.allocateDirect(size) : ByteBuffer.allocate(size);
        for (int i = 0; i < size; i++) {
            payload.put(i, (byte) (i * 17 + 3));
        }
        long start = System.nanoTime();
        long deadline = start + timeoutNanos;
        for (long i = 0; i < count && s.failure == null; i++) {
            s.connection.sendBinary(payload);
            if ((i & 1023) == 0 && System.nanoTime() - deadline > 0) {
                s.fail("timed out after " + i + " of " + count + " sends");
            }
        }
        s.connection.sendText("stats");
        s.awaitEnd(Math.max(1, deadline - System.nanoTime()), "waiting for the server's count");
        String expected = count + " " + count * size;
        if (!expected.equals(s.answer)) {
            throw new IllegalStateException("the server counted '" + s.answer + "', expected '" + expected + "'");
        }
        return figures("seconds", (s.t1 - start) / 1e9, "messages", count, "bytes", count * size,
                "setup", setup / 1e9);
    }

    /**
     * Sequential round trips of a {@code size}-byte BINARY message on one connection: {@code warmup}
     * unmeasured, then measured ones for {@code seconds} (at most {@code maxCount}); each next message is
     * sent from the callback that received the previous echo.
     */
    static Map<String, Double> echo(Peer peer, Peer.Endpoint ep, int size, int warmup, double seconds,
                                    int maxCount, long timeoutNanos) throws Exception {
        ByteBuffer payload = ByteBuffer.allocate(size);
        for (int i = 0; i < size; i++) {
            payload.put(i, (byte) ('a' + i % 26));
        }
        long[] latencies = new long[maxCount];
        long measureNanos = (long) (seconds * 1e9);
        class Echo extends Base {
            int received;
            int done;
            long sentAt;
            long measureStart;

            @Override
            public void onBinary(ByteBuffer data, boolean last) {
                received += data.remaining();
                if (!last) {
                    return;
                }
                long now = System.nanoTime();
                if (received != size) {
                    fail("echo of " + received + " bytes, expected " + size);
                    return;
                }
                received = 0;
                int i = done++;
                if (i == warmup) {
                    measureStart = sentAt;
                }
                if (i >= warmup) {
                    latencies[i - warmup] = now - sentAt;
                    if (now - measureStart >= measureNanos || i - warmup + 1 == maxCount) {
                        t1 = now;
                        finished.countDown();
                        return;
                    }
                }
                sentAt = System.nanoTime();
                try {
                    connection.sendBinary(payload);
                } catch (Exception e) {
                    fail("send from the callback failed: " + e);
                }
            }
        }
        Echo e = new Echo();
        long setup = e.open(peer, ep, "/echo");
        e.sentAt = System.nanoTime();
        e.connection.sendBinary(payload);
        e.awaitEnd(timeoutNanos, "echo round trips");
        int measured = e.done - warmup;
        long[] sorted = Arrays.copyOf(latencies, measured);
        Arrays.sort(sorted);
        return figures("seconds", (e.t1 - e.measureStart) / 1e9, "messages", measured, "bytes", (long) measured * size,
                "p50", percentile(sorted, 50), "p99", percentile(sorted, 99), "setup", setup / 1e9);
    }

    static long percentile(long[] sorted, int p) {
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }

    /** Many connections, each opened, counted and closed at once; {@code inFlight} handshakes at a time. */
    static Map<String, Double> connectRate(Peer peer, Peer.Endpoint ep, long count, int inFlight, long timeoutNanos)
            throws Exception {
        Semaphore handshakes = new Semaphore(inFlight);
        Semaphore unclosed = new Semaphore(512);
        AtomicLong opened = new AtomicLong();
        AtomicLong closed = new AtomicLong();
        AtomicLong lastOpen = new AtomicLong();
        AtomicReference<String> failure = new AtomicReference<>();
        CountDownLatch allClosed = new CountDownLatch(1);
        long start = System.nanoTime();
        long deadline = start + timeoutNanos;
        for (long i = 0; i < count && failure.get() == null; i++) {
            if (!handshakes.tryAcquire(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)
                    || !unclosed.tryAcquire(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                failure.compareAndSet(null, "timed out with " + opened.get() + " of " + count + " opened");
                break;
            }
            peer.connect(ep.uri("/echo"), new IgnoresMessages() {
                @Override
                public void onOpen(Peer.Connection c) {
                    lastOpen.set(System.nanoTime());
                    opened.incrementAndGet();
                    handshakes.release();
                    c.close();
                }

                @Override
                public void onClosed(Throwable error) {
                    unclosed.release();
                    if (closed.incrementAndGet() == count) {
                        allClosed.countDown();
                    }
                }
            }).whenComplete((c, error) -> {
                if (error != null) {
                    failure.compareAndSet(null, "a connect failed: " + error);
                    handshakes.release();
                }
            });
        }
        boolean done = failure.get() == null && allClosed.await(Math.max(0, deadline - System.nanoTime())
                + TimeUnit.SECONDS.toNanos(CLOSE_TIMEOUT_SECONDS), TimeUnit.NANOSECONDS);
        if (failure.get() != null) {
            throw new IllegalStateException(failure.get());
        }
        if (!done || opened.get() != count) {
            throw new IllegalStateException("opened " + opened.get() + ", closed " + closed.get() + " of " + count);
        }
        return figures("seconds", (lastOpen.get() - start) / 1e9, "messages", count, "bytes", 0, "setup", 0);
    }

    /** What this process holds: resident set, Java heap in use after GC, and wscrt's native bytes. */
    record Memory(long rss, long heap, long nativeBytes) {
        static Memory now(LongSupplier nativeBytes, long settleMillis) throws InterruptedException {
            for (int i = 0; i < 3; i++) {
                System.gc();
                Thread.sleep(settleMillis);
            }
            long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
            return new Memory(rssBytes(), heap, nativeBytes.getAsLong());
        }

        static long rssBytes() {
            try {
                for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                    if (line.startsWith("VmRSS:")) {
                        return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                    }
                }
            } catch (IOException | RuntimeException e) {
                // not Linux
            }
            return -1;
        }
    }

    /** Bytes the JVM's live threads have allocated so far (threads that ended are not counted). */
    static long javaBytesAllocated() {
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long sum = 0;
        for (long allocated : threads.getThreadAllocatedBytes(threads.getAllThreadIds())) {
            sum += Math.max(0, allocated);
        }
        return sum;
    }

    /**
     * Waits until the JIT compiler has compiled nothing for {@code quietMillis} (its total compilation time
     * unchanged), at most {@code maxMillis}; returns how long it waited.
     */
    static long awaitQuietCompiler(long quietMillis, long maxMillis) throws InterruptedException {
        long start = System.nanoTime();
        long deadline = start + TimeUnit.MILLISECONDS.toNanos(maxMillis);
        if (compilationMillis() >= 0) {
            long last = compilationMillis();
            while (System.nanoTime() < deadline) {
                Thread.sleep(quietMillis);
                long now = compilationMillis();
                if (now == last) {
                    break;
                }
                last = now;
            }
        }
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    }

    /** The JIT compiler's total compilation time so far in milliseconds, or -1 where the JVM does not tell. */
    static long compilationMillis() {
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        return jit != null && jit.isCompilationTimeMonitoringSupported() ? jit.getTotalCompilationTime() : -1;
    }

    /**
     * {@code n} idle connections held open: process memory per connection (measured after three GCs
     * {@code settleMillis} apart), and the Java bytes allocated (garbage included) while opening them; then
     * all closed again. Without {@code measure}, the same connections are opened, held and closed with no
     * memory figures (no GCs): a warm-up that runs the measured run's code.
     */
    static Map<String, Double> idle(Peer peer, Peer.Endpoint ep, int n, LongSupplier nativeBytes, long settleMillis,
                                    long timeoutNanos, boolean measure) throws Exception {
        Memory before = measure ? Memory.now(nativeBytes, settleMillis) : null;
        Semaphore handshakes = new Semaphore(64);
        CountDownLatch allOpen = new CountDownLatch(n);
        CountDownLatch allClosed = new CountDownLatch(n);
        AtomicReference<String> failure = new AtomicReference<>();
        List<Peer.Connection> connections = new ArrayList<>(n);
        long allocatedBefore = javaBytesAllocated();
        long start = System.nanoTime();
        long deadline = start + timeoutNanos;
        for (int i = 0; i < n && failure.get() == null; i++) {
            if (!handshakes.tryAcquire(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                failure.compareAndSet(null, "timed out opening " + n + " connections");
                break;
            }
            peer.connect(ep.uri("/echo"), new IgnoresMessages() {
                @Override
                public void onOpen(Peer.Connection c) {
                }

                @Override
                public void onClosed(Throwable error) {
                    allClosed.countDown();
                }
            }).whenComplete((c, error) -> {
                handshakes.release();
                if (error != null) {
                    failure.compareAndSet(null, "a connect failed: " + error);
                } else {
                    synchronized (connections) {
                        connections.add(c);
                    }
                    allOpen.countDown();
                }
            });
        }
        boolean opened = failure.get() == null && allOpen.await(Math.max(0, deadline - System.nanoTime()),
                TimeUnit.NANOSECONDS);
        long openedAt = System.nanoTime();
        long allocated = javaBytesAllocated() - allocatedBefore;
        Memory held = opened && measure ? Memory.now(nativeBytes, settleMillis) : null;
        synchronized (connections) {
            for (Peer.Connection c : connections) {
                c.close();
            }
        }
        int count;
        synchronized (connections) {
            count = connections.size();
        }
        boolean closed = allClosed.await(60, TimeUnit.SECONDS) || allClosed.getCount() == n - count;
        if (!opened) {
            throw new IllegalStateException(failure.get() != null ? failure.get()
                    : "only " + (n - allOpen.getCount()) + " of " + n + " connections opened in time");
        }
        if (!closed) {
            throw new IllegalStateException(allClosed.getCount() + " of " + n + " connections did not close in 60 s");
        }
        if (!measure) {
            return figures("seconds", (openedAt - start) / 1e9, "messages", n, "bytes", 0, "setup", 0);
        }
        double rss = (double) (held.rss() - before.rss()) / n;
        double heap = (double) (held.heap() - before.heap()) / n;
        return figures("seconds", (openedAt - start) / 1e9, "messages", n, "bytes", 0, "setup", 0,
                "total", rss + heap, "rss", rss, "heap", heap,
                "native", (double) (held.nativeBytes() - before.nativeBytes()) / n, "allocated", (double) allocated / n);
    }
}
