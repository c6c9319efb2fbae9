package dev.wscrt.stress;

import dev.wscrt.loadserver.LoadServerProcess;
import dev.wscrt.testing.ClientResources;
import dev.wscrt.testing.NativeMemory;
import dev.wscrt.websocket.OnSendFrameCompleteData;
import dev.wscrt.websocket.Opcode;
import dev.wscrt.websocket.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.Consumer;

/**
 * Run 3: many threads sending random frames on a few shared connections while some of them close
 * connections at random times (each closed connection is replaced by a new one). Checks: no crash,
 * every {@code sendFrame} gets exactly one completion, every connection that was set up gets exactly
 * one shutdown callback, and native memory is back to its baseline at the end.
 *
 * <p>Threads: {@link Config#threads()} worker threads send (the first {@link Config#closerThreads()} of
 * them also close); completions and connection callbacks run on the event-loop threads, and now and
 * then a completion callback closes its connection from there too. Slots hold the current connection
 * of each shared position; a connection object is never reused.
 */
final class SharedConnectionsRun {

    /**
     * @param connections          shared connections (slots)
     * @param threads              sending threads
     * @param closerThreads        of those, how many also close a random connection every 50–500 ms
     * @param duration             how long the threads run
     * @param outstandingPerThread sends a thread may have without completion, so that the send queues
     *                             stay bounded (the library queues whatever it is given)
     */
    record Config(int connections, int threads, int closerThreads, Duration duration, int outstandingPerThread) {
        static Config full() {
            return new Config(8, 16, 4, Duration.ofSeconds(30), 64);
        }

        static Config quick() {
            return new Config(8, 16, 4, Duration.ofSeconds(10), 64);
        }
    }

    /** A thread that waits this long for one of its sends to complete reports a lost completion. */
    private static final Duration STALL = Duration.ofSeconds(20);
    private static final int LOOP_THREADS = 2;
    /** One completion callback in this many closes its own connection (from the event-loop thread). */
    private static final int CLOSE_FROM_CALLBACK_ONE_IN = 20_000;

    private final Config config;
    private final int port;
    private final ClientResources resources;
    private final AtomicReferenceArray<Conn> slots;
    private final List<Conn> all = new CopyOnWriteArrayList<>();
    private final AtomicLong sendCalls = new AtomicLong();
    private final AtomicLong completions = new AtomicLong();
    private final AtomicLong completionsOk = new AtomicLong();
    private final AtomicLong duplicateCompletions = new AtomicLong();
    private final AtomicLong sendThrew = new AtomicLong();
    private final AtomicLong bytesQueued = new AtomicLong();
    private final AtomicLong framesReceived = new AtomicLong();
    private final AtomicLong closesByThreads = new AtomicLong();
    private final AtomicLong closesFromCallbacks = new AtomicLong();
    private final AtomicLong duplicateCallbacks = new AtomicLong();
    private final AtomicInteger connectsStarted = new AtomicInteger();
    private final AtomicInteger setupsReported = new AtomicInteger();
    private final Tally completionErrors = new Tally();
    private final Tally setupFailures = new Tally();
    private final Tally shutdownErrors = new Tally();
    private final Tally threadErrors = new Tally();
    private final Map<String, AtomicLong> sendsByKind = new ConcurrentHashMap<>();
    private final List<String> stalls = new CopyOnWriteArrayList<>();
    private volatile boolean stopping;

    private SharedConnectionsRun(Config config, int port, ClientResources resources) {
        this.config = config;
        this.port = port;
        this.resources = resources;
        this.slots = new AtomicReferenceArray<>(config.connections());
    }

    static Section run(Config config) throws Exception {
        Section section = new Section("3. " + config.threads() + " threads sending and closing on "
                + config.connections() + " shared connections");
        NativeMemory.Snapshot processStart = NativeMemory.snapshot();
        try (LoadServerProcess server = StressServers.start()) {
            section.text(config.threads() + " threads, each for " + config.duration().toSeconds() + " s: pick a random "
                    + "slot, send a random final frame (TEXT 0–16 KiB as String or byte[], BINARY 0–256 KiB as byte[], "
                    + "heap or direct ByteBuffer, PING 0–125 B) with a completion callback, at most "
                    + config.outstandingPerThread() + " sends without completion per thread. "
                    + config.closerThreads() + " of the threads also `close()` a random slot's connection every "
                    + "50–500 ms and connect a replacement; one completion callback in "
                    + Probe.count(CLOSE_FROM_CALLBACK_ONE_IN) + " closes its connection from the event-loop thread. "
                    + "Server (echoes every data frame): " + server.description() + ".");
            Probe.Reading before = Probe.take();
            Map<String, Integer> fdsBefore = Probe.fdKinds();
            ClientResources resources = ClientResources.create(LOOP_THREADS);
            SharedConnectionsRun run = new SharedConnectionsRun(config, server.port(), resources);
            boolean closed = false;
            try {
                run.execute(section);
                closed = true;
                resources.close();
            } catch (AssertionError e) {
                section.fail("closing the run's ClientResources: " + e.getMessage());
            } finally {
                if (!closed) {
                    run.closeAll();
                    section.closeResources(resources, "closing the run's ClientResources after an error");
                }
            }
            String nativeBack = Probe.nativeNotBackTo(processStart);
            Probe.Reading after = Probe.take();
            Map<String, Long> serverStats = server.awaitOpen(0, Duration.ofSeconds(15));
            section.text("Before = at the start of this JVM (native) and before the run's `ClientResources` were "
                    + "created (the rest); after = once they were closed and native memory had settled (bounded wait, "
                    + Probe.SETTLE.toSeconds() + " s).");
            section.table(List.of("measure", "before", "after"), List.of(
                    List.of("native bytes", Probe.count(processStart.bytes()), Probe.count(after.nativeBytes())),
                    List.of("native allocations", Probe.count(processStart.allocations()),
                            Probe.count(after.nativeAllocations())),
                    List.of("Java heap used after GC", Probe.bytes(before.heapAfterGc()), Probe.bytes(after.heapAfterGc())),
                    List.of("open file descriptors", Long.toString(before.fds()), Long.toString(after.fds())),
                    List.of("OS threads", Long.toString(before.threads()), Long.toString(after.threads()))));
            section.text("Server after the run: " + serverStats + "; exceptions it saw: " + server.errors() + ".");
            section.check(nativeBack == null, "native memory not back to the baseline: " + nativeBack);
            section.check(after.fds() <= before.fds(), "file descriptors: " + before.fds() + " before, "
                    + after.fds() + " after (" + Probe.fdDifference(fdsBefore, Probe.fdKinds()) + ")");
            section.check(serverStats.get("open") == 0, "the server still has " + serverStats.get("open")
                    + " connections open");
            // close() does not wait for the server's CLOSE: a server still echoing queued frames then
            // writes to a closed socket (EPIPE/ECONNRESET) and may never read the client's CLOSE.
            section.observe(serverStats.get("closes").equals(serverStats.get("upgraded")), "the server read the "
                    + "client's CLOSE on " + serverStats.get("closes") + " of " + serverStats.get("upgraded")
                    + " connections, and saw these failures: " + server.errors() + ". " + Stress.CLOSE_DOES_NOT_WAIT
                    + "; a server still echoing frames queued before close() has its connection reset under it");
        }
        return section;
    }

    private void execute(Section section) throws InterruptedException {
        for (int i = 0; i < config.connections(); i++) {
            Conn c = connectAndWait(i);
            if (c == null) {
                section.fail("could not open the initial connection for slot " + i + ": " + setupFailures);
                return;
            }
        }
        List<Thread> threads = new ArrayList<>();
        long deadline = System.nanoTime() + config.duration().toNanos();
        for (int t = 0; t < config.threads(); t++) {
            boolean closer = t < config.closerThreads();
            Thread thread = new Thread(() -> work(deadline, closer), "stress-sender-" + t);
            thread.setUncaughtExceptionHandler((th, e) -> threadErrors.add(th.getName() + ": " + e));
            threads.add(thread);
        }
        long t0 = System.nanoTime();
        threads.forEach(Thread::start);
        for (Thread thread : threads) {
            thread.join(config.duration().toMillis() + STALL.toMillis() + 10_000);
            if (thread.isAlive()) {
                section.fail("hang: " + thread.getName() + " still running after the deadline: "
                        + stackOf(thread));
            }
        }
        stopping = true;
        double seconds = (System.nanoTime() - t0) / 1e9;

        // Every send must complete, even those still queued on connections that are open now.
        long completionDeadline = System.nanoTime() + STALL.toNanos();
        while (completions.get() < sendCalls.get() - sendThrew.get() && System.nanoTime() - completionDeadline < 0) {
            Probe.sleep(20);
        }
        long pendingBeforeClose = sendCalls.get() - sendThrew.get() - completions.get();
        closeAll();
        long shutdownDeadline = System.nanoTime() + STALL.toNanos();
        while ((setupsReported.get() < connectsStarted.get() || shutdownsReported() < setUpCount()
                || completions.get() < sendCalls.get() - sendThrew.get()) && System.nanoTime() - shutdownDeadline < 0) {
            Probe.sleep(20);
        }
        Probe.sleep(500); // let a duplicate callback, if any, show up
        long sent = sendCalls.get() - sendThrew.get();
        int setUp = setUpCount();
        long wrongShutdownCounts = all.stream().filter(c -> c.setUp && c.shutdowns.get() != 1).count();
        long shutdownWithoutSetup = all.stream().filter(c -> !c.setUp && c.shutdowns.get() != 0).count();

        List<List<String>> kinds = new ArrayList<>();
        sendsByKind.entrySet().stream().sorted(Map.Entry.comparingByKey())
                .forEach(e -> kinds.add(List.of(e.getKey(), Probe.count(e.getValue().get()))));
        section.table(List.of("sendFrame calls by kind", "count"), kinds);
        section.table(List.of("check", "count"), List.of(
                List.of("sendFrame calls", Probe.count(sendCalls.get())),
                List.of("sendFrame threw", Probe.count(sendThrew.get())),
                List.of("completions", Probe.count(completions.get())),
                List.of("… without error", Probe.count(completionsOk.get())),
                List.of("… with an error", completionErrors.toString()),
                List.of("duplicate completions", Probe.count(duplicateCompletions.get())),
                List.of("sends without completion at the deadline (before closing all)",
                        Probe.count(pendingBeforeClose)),
                List.of("payload bytes queued", Probe.bytes(bytesQueued.get())),
                List.of("frames received (echoes)", Probe.count(framesReceived.get())),
                List.of("connections opened (8 initial + replacements)", Probe.count(connectsStarted.get())),
                List.of("… set up / setup failed", setUp + " / " + setupFailures),
                List.of("close() by threads / from completion callbacks", Probe.count(closesByThreads.get()) + " / "
                        + Probe.count(closesFromCallbacks.get())),
                List.of("shutdown callbacks", Probe.count(shutdownsReported())),
                List.of("… with an error", shutdownErrors.toString()),
                List.of("connections set up without exactly one shutdown", Probe.count(wrongShutdownCounts)),
                List.of("shutdowns without setup / duplicate setups", shutdownWithoutSetup + " / "
                        + duplicateCallbacks.get()),
                List.of("thread stalls (a completion awaited " + STALL.toSeconds() + " s)",
                        Probe.count(stalls.size())),
                List.of("uncaught exceptions in threads", threadErrors.toString())));
        section.text(String.format("%,d sendFrame calls in %.1f s (%,.0f/s, all threads).", sendCalls.get(), seconds,
                sendCalls.get() / seconds));
        section.check(sendThrew.get() == 0, sendThrew.get() + " sendFrame call(s) threw");
        section.check(completions.get() == sent, "sent " + sent + " frames but got " + completions.get()
                + " completions (lost: " + (sent - completions.get()) + ")");
        section.check(duplicateCompletions.get() == 0, duplicateCompletions.get() + " duplicate completion(s)");
        section.check(setupsReported.get() == connectsStarted.get(), connectsStarted.get() + " connects but "
                + setupsReported.get() + " setup callbacks");
        section.check(setupFailures.total() == 0, "setup failures: " + setupFailures);
        section.check(wrongShutdownCounts == 0, wrongShutdownCounts
                + " connection(s) set up without exactly one shutdown callback");
        section.check(shutdownWithoutSetup == 0 && duplicateCallbacks.get() == 0,
                "callbacks out of order: " + shutdownWithoutSetup + " shutdown(s) without setup, "
                        + duplicateCallbacks.get() + " duplicate setup(s)");
        section.check(shutdownErrors.total() == 0, "shutdowns with an error after close(): " + shutdownErrors);
        section.check(stalls.isEmpty(), "threads stalled waiting for completions: " + stalls);
        section.check(threadErrors.total() == 0, "uncaught exceptions: " + threadErrors);
        section.note("completions with an error are expected: sends racing with close() complete with "
                + "WEBSOCKET_CONNECTION_CLOSED (or CLOSE_FRAME_SENT, IO_CHANNEL_SHUT_DOWN); they are counted, "
                + "not failed");
    }

    private int setUpCount() {
        return (int) all.stream().filter(c -> c.setUp).count();
    }

    private long shutdownsReported() {
        return all.stream().mapToLong(c -> c.shutdowns.get()).sum();
    }

    /** One worker thread: sends until the deadline; closers also close and replace connections. */
    private void work(long deadline, boolean closer) {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        Semaphore outstanding = new Semaphore(config.outstandingPerThread());
        long nextClose = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(random.nextInt(50, 500));
        ByteBuffer direct = ByteBuffer.allocateDirect(256 * 1024);
        while (System.nanoTime() - deadline < 0) {
            if (closer && System.nanoTime() - nextClose >= 0) {
                closeAndReplace(random.nextInt(config.connections()));
                closesByThreads.incrementAndGet();
                nextClose = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(random.nextInt(50, 500));
            }
            try {
                if (!outstanding.tryAcquire(STALL.toMillis(), TimeUnit.MILLISECONDS)) {
                    stalls.add(Thread.currentThread().getName() + " at " + sendCalls.get() + " sends, "
                            + completions.get() + " completions");
                    return;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            Conn conn = slots.get(random.nextInt(config.connections()));
            sendRandom(conn, random, direct, outstanding);
        }
        try {
            if (!outstanding.tryAcquire(config.outstandingPerThread(), STALL.toMillis(), TimeUnit.MILLISECONDS)) {
                stalls.add(Thread.currentThread().getName() + " at the end: "
                        + (config.outstandingPerThread() - outstanding.availablePermits())
                        + " of its sends never completed");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void sendRandom(Conn conn, ThreadLocalRandom random, ByteBuffer direct, Semaphore outstanding) {
        AtomicBoolean done = new AtomicBoolean();
        Consumer<OnSendFrameCompleteData> onComplete = c -> {
            if (!done.compareAndSet(false, true)) {
                duplicateCompletions.incrementAndGet();
                return;
            }
            completions.incrementAndGet();
            if (c.exception() == null) {
                completionsOk.incrementAndGet();
            } else {
                completionErrors.add(c.exception());
            }
            outstanding.release();
            if (ThreadLocalRandom.current().nextInt(CLOSE_FROM_CALLBACK_ONE_IN) == 0 && !conn.websocket.isClosed()) {
                closesFromCallbacks.incrementAndGet();
                conn.websocket.close();
            }
        };
        int kind = random.nextInt(100);
        sendCalls.incrementAndGet();
        try {
            if (kind < 30) {
                int n = small(random, 16 * 1024);
                count("TEXT String", n);
                conn.websocket.sendFrame(Opcode.TEXT, "x".repeat(n), true, onComplete);
            } else if (kind < 45) {
                int n = small(random, 16 * 1024);
                count("TEXT byte[]", n);
                byte[] text = new byte[n];
                Arrays.fill(text, (byte) 'y');
                conn.websocket.sendFrame(Opcode.TEXT, text, true, onComplete);
            } else if (kind < 75) {
                int n = small(random, 256 * 1024);
                count("BINARY byte[]", n);
                byte[] payload = new byte[n];
                random.nextBytes(payload);
                conn.websocket.sendFrame(Opcode.BINARY, payload, true, onComplete);
            } else if (kind < 85) {
                int n = small(random, 256 * 1024);
                count("BINARY direct ByteBuffer", n);
                // The payload is copied before sendFrame returns, so the thread's one buffer can be reused.
                ByteBuffer slice = direct.duplicate();
                slice.position(random.nextInt(direct.capacity() - n + 1));
                slice.limit(slice.position() + n);
                conn.websocket.sendFrame(Opcode.BINARY, slice, true, onComplete);
            } else if (kind < 95) {
                int n = small(random, 64 * 1024);
                count("BINARY heap ByteBuffer", n);
                ByteBuffer heap = ByteBuffer.allocate(n + 16);
                heap.position(8).limit(8 + n);
                conn.websocket.sendFrame(Opcode.BINARY, heap, true, onComplete);
            } else {
                int n = random.nextInt(126);
                count("PING", n);
                conn.websocket.sendFrame(Opcode.PING, new byte[n], true, onComplete);
            }
        } catch (RuntimeException e) {
            sendThrew.incrementAndGet();
            threadErrors.add("sendFrame threw " + Tally.name(e));
            outstanding.release();
        }
    }

    /** Mostly small sizes, sometimes up to {@code max}: 70 % under 256 B. */
    private static int small(ThreadLocalRandom random, int max) {
        return random.nextInt(10) < 7 ? random.nextInt(Math.min(256, max + 1)) : random.nextInt(max + 1);
    }

    private void count(String kind, int bytes) {
        sendsByKind.computeIfAbsent(kind, k -> new AtomicLong()).incrementAndGet();
        bytesQueued.addAndGet(bytes);
    }

    /** Closes slot {@code i}'s connection; the first thread to close it connects the replacement. */
    private void closeAndReplace(int i) {
        Conn old = slots.get(i);
        old.websocket.close();
        if (old.replaced.compareAndSet(false, true) && !stopping) {
            Conn fresh = connectAndWait(i);
            if (fresh == null) {
                // setup failed: counted; keep the closed connection in the slot (its sends complete with errors)
                old.replaced.set(false);
            }
        }
    }

    /** Connects a new connection for slot {@code i} and waits (bounded) for its setup; null if it failed. */
    private Conn connectAndWait(int i) {
        Conn conn = new Conn();
        all.add(conn);
        connectsStarted.incrementAndGet();
        try {
            WebSocket.connect(resources.loopbackOptions(port)
                    // Every thread may queue its outstanding sends (up to 256 KiB each) on one connection, more
                    // than the 16 MiB default; the semaphores bound the queue, and this run is about races,
                    // not back-pressure (WebSocketConnectionTest covers SEND_QUEUE_FULL).
                    .sendQueueLimit((long) config.threads() * config.outstandingPerThread() * 257 * 1024)
                    .onConnectionSetup(d -> {
                        setupsReported.incrementAndGet();
                        if (conn.setups.incrementAndGet() > 1) {
                            duplicateCallbacks.incrementAndGet();
                            return;
                        }
                        if (d.exception() != null || d.websocket() == null) {
                            setupFailures.add(d.exception() == null ? "no websocket" : Tally.name(d.exception()));
                        } else {
                            conn.websocket = d.websocket();
                            conn.setUp = true;
                        }
                        conn.setupDone.release();
                    })
                    .onIncomingFrameComplete(d -> framesReceived.incrementAndGet())
                    .onConnectionShutdown(d -> {
                        conn.shutdowns.incrementAndGet();
                        if (d.exception() != null) {
                            shutdownErrors.add(d.exception());
                        }
                    })
                    .build());
        } catch (RuntimeException e) {
            setupsReported.incrementAndGet();
            setupFailures.add("connect() threw " + Tally.name(e));
            return null;
        }
        try {
            if (!conn.setupDone.tryAcquire(STALL.toMillis(), TimeUnit.MILLISECONDS)) {
                stalls.add("no setup callback within " + STALL.toSeconds() + " s for a connection of slot " + i);
                return null;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
        if (!conn.setUp) {
            return null;
        }
        slots.set(i, conn);
        return conn;
    }

    /** Closes every connection that was set up (close() is idempotent). */
    private void closeAll() {
        stopping = true;
        for (Conn c : all) {
            if (c.setUp) {
                c.websocket.close();
            }
        }
    }

    private static String stackOf(Thread thread) {
        StringBuilder sb = new StringBuilder();
        for (StackTraceElement e : thread.getStackTrace()) {
            sb.append(" at ").append(e);
        }
        return sb.toString();
    }

    /** One connection; fields written by its setup callback are published through {@link #setupDone}. */
    private static final class Conn {
        final Semaphore setupDone = new Semaphore(0);
        final AtomicInteger setups = new AtomicInteger();
        final AtomicInteger shutdowns = new AtomicInteger();
        final AtomicBoolean replaced = new AtomicBoolean();
        volatile WebSocket websocket;
        volatile boolean setUp;
    }
}
