package dev.wscrt.stress;

import dev.wscrt.loadserver.LoadServerProcess;
import dev.wscrt.testing.ClientResources;
import dev.wscrt.testing.NativeMemory;
import dev.wscrt.websocket.IncomingFrame;
import dev.wscrt.websocket.Opcode;
import dev.wscrt.websocket.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Run 2: N connections open at once, held for a while with periodic PINGs from the client; every one
 * must stay up and every PING must be answered. Reports native bytes, Java heap and RSS per
 * connection, and the connection setup rate.
 *
 * <p>Threads: the main thread connects, measures and closes; one pinger thread sends the PINGs; the
 * callbacks run on the event-loop threads. Per-connection state lives in arrays allocated before the
 * baseline, so that the heap figure per connection is the library's (plus the callback lambdas this
 * run registers), not the harness's.
 */
final class ConnectionsRun {

    /**
     * @param connections      connections to hold
     * @param hold             how long to hold them once all are up
     * @param pingInterval     each connection sends a PING this often
     * @param connectsInFlight connection attempts in flight at once while connecting
     */
    record Config(int connections, Duration hold, Duration pingInterval, int connectsInFlight) {
        static Config full() {
            return new Config(10_000, Duration.ofSeconds(60), Duration.ofSeconds(5), 256);
        }

        static Config quick() {
            return new Config(1_000, Duration.ofSeconds(10), Duration.ofSeconds(5), 256);
        }
    }

    /** The pinger wakes this often and pings the connections whose turn it is. */
    private static final long TICK_MS = 50;
    /** An attempt that has not reported setup after this long counts as hung. */
    private static final Duration STALL = Duration.ofSeconds(30);
    private static final int LOOP_THREADS = 2;
    /** Open and close this many connections first, so that JIT and first-use allocations are not counted. */
    private static final int WARMUP = 200;

    private final Config config;
    private final int port;
    private final AtomicReferenceArray<WebSocket> sockets;
    private final AtomicIntegerArray setups;
    private final AtomicIntegerArray shutdowns;
    private final AtomicIntegerArray pingsSent;
    private final AtomicIntegerArray pingsCompleted;
    private final AtomicIntegerArray pongs;
    /** The payload of the PONG being received, per connection; touched only on its event-loop thread. */
    private final long[] pongPayload;
    private final Semaphore connectSlots;
    private final AtomicInteger setupOk = new AtomicInteger();
    private final AtomicInteger setupFailed = new AtomicInteger();
    private final AtomicLong lastSetupNanos = new AtomicLong();
    private final AtomicLong pongWrong = new AtomicLong();
    private final AtomicLong unexpectedFrames = new AtomicLong();
    private final AtomicLong closesReceived = new AtomicLong();
    private final AtomicLong duplicates = new AtomicLong();
    private final Tally setupFailures = new Tally();
    private final Tally pingFailures = new Tally();
    private final Tally shutdownErrors = new Tally();
    private volatile String firstSetupFailure;
    private volatile boolean closing;
    private final AtomicInteger shutdownsBeforeClose = new AtomicInteger();

    private ConnectionsRun(Config config, int port) {
        this.config = config;
        this.port = port;
        int n = config.connections();
        sockets = new AtomicReferenceArray<>(n);
        setups = new AtomicIntegerArray(n);
        shutdowns = new AtomicIntegerArray(n);
        pingsSent = new AtomicIntegerArray(n);
        pingsCompleted = new AtomicIntegerArray(n);
        pongs = new AtomicIntegerArray(n);
        pongPayload = new long[n];
        connectSlots = new Semaphore(config.connectsInFlight());
    }

    static Section run(Config config) throws Exception {
        Section section = new Section("2. " + Probe.count(config.connections()) + " concurrent connections held "
                + config.hold().toSeconds() + " s with pings");
        NativeMemory.Snapshot processStart = NativeMemory.snapshot();
        try (LoadServerProcess server = StressServers.start()) {
            section.text("Open " + Probe.count(config.connections()) + " connections to 127.0.0.1 (at most "
                    + config.connectsInFlight() + " attempts in flight), hold them " + config.hold().toSeconds()
                    + " s while each sends a PING (8-byte payload: connection index and sequence number) every "
                    + config.pingInterval().toSeconds() + " s, counting the PONGs in `onIncomingFrameComplete` and "
                    + "checking their payload; then close them all. Client: " + LOOP_THREADS + " event-loop threads; "
                    + "file descriptor limit of this JVM: " + Probe.openFileLimit() + ". Server: "
                    + server.description() + ", backlog " + StressServers.BACKLOG + " (capped by net.core.somaxconn).");
            ConnectionsRun run = new ConnectionsRun(config, server.port());
            run.execute(section, server, processStart);
        }
        return section;
    }

    private void execute(Section section, LoadServerProcess server, NativeMemory.Snapshot processStart)
            throws InterruptedException {
        int n = config.connections();
        ClientResources resources = ClientResources.create(LOOP_THREADS);
        boolean resourcesClosed = false;
        try {
            warmUp(resources, section);
            NativeMemory.Snapshot base = NativeMemory.snapshot();
            Probe.Reading before = Probe.take();
            Map<String, Integer> fdsBefore = Probe.fdKinds();

            // ---- connect ----
            long t0 = System.nanoTime();
            int attempted = 0;
            for (int i = 0; i < n && firstSetupFailure == null; i++) {
                if (!connectSlots.tryAcquire(STALL.toMillis(), TimeUnit.MILLISECONDS)) {
                    section.fail("hang: no connection attempt finished for " + STALL.toSeconds() + " s ("
                            + setupOk.get() + " up, " + setupFailed.get() + " failed, " + attempted + " attempted)");
                    break;
                }
                connect(resources, i);
                attempted++;
            }
            if (!connectSlots.tryAcquire(config.connectsInFlight(), STALL.toMillis(), TimeUnit.MILLISECONDS)) {
                section.fail("hang: " + (attempted - setupOk.get() - setupFailed.get())
                        + " connection attempts did not report setup within " + STALL.toSeconds() + " s");
            } else {
                connectSlots.release(config.connectsInFlight());
            }
            int up = setupOk.get();
            double setupSeconds = (lastSetupNanos.get() - t0) / 1e9;
            Probe.Reading connected = Probe.take();
            Map<String, Long> serverUp = server.stats();

            section.table(List.of("connections up", "attempted", "setup failures", "time to set up all",
                    "setup rate"), List.of(List.of(Probe.count(up), Probe.count(attempted), setupFailures.toString(),
                    String.format("%.2f s", setupSeconds), String.format("%,.0f connections/s", up / setupSeconds))));
            if (firstSetupFailure != null) {
                section.fail("could not reach " + Probe.count(n) + " connections: " + Probe.count(up)
                        + " were up when the first setup failed (" + firstSetupFailure + ")");
            }

            // ---- hold, with pings ----
            List<List<String>> samples = new ArrayList<>();
            ScheduledExecutorService pinger = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "stress-pinger");
                t.setDaemon(true);
                return t;
            });
            int slices = (int) Math.max(1, config.pingInterval().toMillis() / TICK_MS);
            AtomicLong tick = new AtomicLong();
            pinger.scheduleAtFixedRate(() -> pingSlice((int) (tick.getAndIncrement() % slices), slices), 0, TICK_MS,
                    TimeUnit.MILLISECONDS);
            long holdStart = System.nanoTime();
            long holdEnd = holdStart + config.hold().toNanos();
            long nextSample = holdStart;
            while (System.nanoTime() - holdEnd < 0) {
                if (System.nanoTime() - nextSample >= 0) {
                    samples.add(sample(holdStart, server));
                    nextSample += Duration.ofSeconds(10).toNanos();
                }
                Probe.sleep(100);
            }
            pinger.shutdown();
            if (!pinger.awaitTermination(10, TimeUnit.SECONDS)) {
                section.fail("the pinger thread did not stop within 10 s (a sendFrame call blocked?)");
            }
            long pingTotal = sum(pingsSent);
            long lastPingsDone = System.nanoTime() + Duration.ofSeconds(15).toNanos();
            while ((sum(pongs) < pingTotal || sum(pingsCompleted) < pingTotal)
                    && System.nanoTime() - lastPingsDone < 0) {
                Probe.sleep(50);
            }
            samples.add(sample(holdStart, server));
            Probe.Reading held = Probe.take();
            Map<String, Long> serverHeld = server.stats();

            int missing = 0;
            int firstMissing = -1;
            int neverPinged = 0;
            long minPings = Long.MAX_VALUE;
            for (int i = 0; i < n; i++) {
                if (sockets.get(i) == null) {
                    continue;
                }
                minPings = Math.min(minPings, pingsSent.get(i));
                if (pingsSent.get(i) == 0) {
                    neverPinged++;
                }
                if (pongs.get(i) != pingsSent.get(i) || pingsCompleted.get(i) != pingsSent.get(i)) {
                    missing++;
                    if (firstMissing < 0) {
                        firstMissing = i;
                    }
                }
            }
            section.text("During the hold (one row every 10 s, and one after the last PONG; heap after GC):");
            section.table(List.of("s", "PINGs sent", "PING completions", "PONGs received", "native bytes", "heap after GC",
                    "RSS", "server open"), samples);
            section.table(List.of("check", "count"), List.of(
                    List.of("PINGs sent", Probe.count(pingTotal)),
                    List.of("PING send completions", Probe.count(sum(pingsCompleted))),
                    List.of("PING send completions with an error", pingFailures.toString()),
                    List.of("PONGs received", Probe.count(sum(pongs))),
                    List.of("PONGs with a wrong payload", Probe.count(pongWrong.get())),
                    List.of("connections with a PING unanswered", Probe.count(missing)),
                    List.of("fewest PINGs sent by one connection", minPings == Long.MAX_VALUE ? "-"
                            : Long.toString(minPings)),
                    List.of("unexpected frames", Probe.count(unexpectedFrames.get())),
                    List.of("connections shut down during the hold", Probe.count(shutdownsBeforeClose.get())
                            + (shutdownErrors.total() > 0 ? " (" + shutdownErrors + ")" : "")),
                    List.of("duplicate setup/shutdown callbacks", Probe.count(duplicates.get())),
                    List.of("server: open / upgraded / errors", serverHeld.get("open") + " / "
                            + serverHeld.get("upgraded") + " / " + serverHeld.get("errors"))));
            section.check(missing == 0, missing + " connection(s) with a PING unanswered or uncompleted (first: #"
                    + firstMissing + ", sent " + (firstMissing < 0 ? 0 : pingsSent.get(firstMissing)) + ", completed "
                    + (firstMissing < 0 ? 0 : pingsCompleted.get(firstMissing)) + ", PONGs "
                    + (firstMissing < 0 ? 0 : pongs.get(firstMissing)) + ")");
            section.check(pongWrong.get() == 0, pongWrong.get() + " PONG(s) with a wrong payload");
            section.check(pingFailures.total() == 0, "PING sends failed: " + pingFailures);
            section.check(neverPinged == 0, neverPinged + " connection(s) never sent a PING");
            section.check(unexpectedFrames.get() == 0, unexpectedFrames.get() + " unexpected frame(s)");
            section.check(shutdownsBeforeClose.get() == 0, shutdownsBeforeClose.get()
                    + " connection(s) shut down during the hold: " + shutdownErrors);
            section.check(duplicates.get() == 0, duplicates.get() + " duplicate setup/shutdown callback(s)");
            section.check(serverHeld.get("open") == up, "the server had " + serverHeld.get("open")
                    + " connections open at the end of the hold, the client " + up);

            // ---- per connection ----
            if (up > 0) {
                section.text("Per connection: (reading − before) / " + Probe.count(up) + ". Before = after "
                        + WARMUP + " warm-up connections were opened and closed on the same resources. The heap "
                        + "includes the 5 callback lambdas this run registers per connection; RSS is the client "
                        + "JVM's alone (the server is another process), with the Java heap pre-touched "
                        + "(-Xms = -Xmx, -XX:+AlwaysPreTouch) so that heap growth does not show up as RSS.");
                section.table(List.of("measure", "before", "all connected", "per connection", "end of hold",
                        "per connection"), List.of(
                        perConnection("native bytes (Crt.nativeMemoryInUse)", before.nativeBytes(),
                                connected.nativeBytes(), held.nativeBytes(), up, true),
                        perConnection("native allocations", before.nativeAllocations(), connected.nativeAllocations(),
                                held.nativeAllocations(), up, false),
                        perConnection("Java heap used after GC", before.heapAfterGc(), connected.heapAfterGc(),
                                held.heapAfterGc(), up, true),
                        perConnection("process RSS (VmRSS)", before.rssBytes(), connected.rssBytes(),
                                held.rssBytes(), up, true),
                        perConnection("open file descriptors", before.fds(), connected.fds(), held.fds(), up, false),
                        perConnection("OS threads", before.threads(), connected.threads(), held.threads(), up,
                                false)));
                section.text("Server when all were up: " + serverUp + ". For comparison, the targets in "
                        + "ARCHITECTURE.md: an idle connection at most 4 KiB of process RSS including native memory "
                        + "(Netty ≈ 7–9 KiB), and at least 8,000 connection setups/s (Netty epoll ≈ 4,000/s); the "
                        + "setup rate here is measured with " + config.connectsInFlight() + " attempts in flight while "
                        + "the server shares the two cores.");
            }

            // ---- close ----
            closing = true;
            long c0 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                WebSocket ws = sockets.get(i);
                if (ws != null) {
                    ws.close();
                }
            }
            long closeDeadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (sum(shutdowns) < up && System.nanoTime() - closeDeadline < 0) {
                Probe.sleep(20);
            }
            double closeSeconds = (System.nanoTime() - c0) / 1e9;
            long shut = sum(shutdowns);
            section.check(shut == up, "after close(): " + shut + " shutdown callbacks for " + up + " connections");
            section.observe(closesReceived.get() == up, "the server's CLOSE reached the client on "
                    + Probe.count(closesReceived.get()) + " of " + Probe.count(up) + " connections: "
                    + Stress.CLOSE_DOES_NOT_WAIT);
            section.check(shutdownErrors.total() == 0, "shutdowns with an error: " + shutdownErrors);
            for (int i = 0; i < n; i++) {
                sockets.set(i, null);
            }
            resourcesClosed = true;
            section.closeResources(resources, "closing the run's ClientResources");
            String nativeBack = Probe.nativeNotBackTo(processStart);
            Probe.Reading after = Probe.take();
            Map<String, Long> serverAfter = server.awaitOpen(0, Duration.ofSeconds(15));
            section.text(String.format("Closed all %,d in %.2f s (%,.0f/s); shutdown callbacks: %,d, with an error: %s; "
                    + "server CLOSE frames received: %,d. "
                    + "After closing the resources: native %s bytes in %s allocations (process start: %s in %s), "
                    + "heap after GC %s, RSS %s, %d fds, %d threads; server %s.", up, closeSeconds, up / closeSeconds,
                    shut, shutdownErrors, closesReceived.get(), Probe.count(after.nativeBytes()), Probe.count(after.nativeAllocations()),
                    Probe.count(processStart.bytes()), Probe.count(processStart.allocations()),
                    Probe.bytes(after.heapAfterGc()), Probe.bytes(after.rssBytes()), after.fds(), after.threads(),
                    serverAfter) + " Exceptions the server saw: " + server.errors() + ".");
            section.observe(serverAfter.get("errors") == 0, "the server saw exceptions: " + server.errors());
            section.check(serverAfter.get("closes").equals(serverAfter.get("upgraded")), "the server received "
                    + serverAfter.get("closes") + " CLOSE frames for " + serverAfter.get("upgraded") + " connections");
            section.check(nativeBack == null, "native memory not back to the baseline: " + nativeBack);
            section.check(serverAfter.get("open") == 0, "the server still has " + serverAfter.get("open")
                    + " connections open");
            section.check(after.fds() <= before.fds(), "file descriptors: " + before.fds() + " before, "
                    + after.fds() + " after (" + Probe.fdDifference(fdsBefore, Probe.fdKinds()) + ")");
        } finally {
            if (!resourcesClosed) {
                for (int i = 0; i < n; i++) {
                    WebSocket ws = sockets.get(i);
                    if (ws != null) {
                        ws.close();
                    }
                }
                section.closeResources(resources, "closing the run's ClientResources after an error");
            }
        }
    }

    private static List<String> perConnection(String what, long before, long connected, long held, int n,
                                              boolean bytes) {
        if (bytes) {
            return List.of(what, Probe.bytes(before), Probe.bytes(connected),
                    String.format("%,.0f B", (connected - before) / (double) n), Probe.bytes(held),
                    String.format("%,.0f B", (held - before) / (double) n));
        }
        return List.of(what, Probe.count(before), Probe.count(connected),
                String.format("%.2f", (connected - before) / (double) n), Probe.count(held),
                String.format("%.2f", (held - before) / (double) n));
    }

    private List<String> sample(long holdStart, LoadServerProcess server) {
        long heap = Probe.heapUsedAfterGc();
        // Read in reverse order of occurrence, so that a row never shows more PONGs than PINGs sent.
        long pongTotal = sum(pongs);
        long completed = sum(pingsCompleted);
        long sent = sum(pingsSent);
        return List.of(String.format("%.0f", (System.nanoTime() - holdStart) / 1e9), Probe.count(sent),
                Probe.count(completed), Probe.count(pongTotal),
                Probe.count(dev.wscrt.Crt.nativeMemoryInUse()), Probe.bytes(heap), Probe.bytes(Probe.rssBytes()),
                Probe.count(server.stats().get("open")));
    }

    /** Opens and closes {@link #WARMUP} connections (the same code path, indices reused afterwards). */
    private void warmUp(ClientResources resources, Section section) {
        int n = Math.min(WARMUP, config.connections());
        for (int i = 0; i < n; i++) {
            connectSlots.acquireUninterruptibly();
            connect(resources, i);
        }
        connectSlots.acquireUninterruptibly(config.connectsInFlight());
        connectSlots.release(config.connectsInFlight());
        closing = true;
        for (int i = 0; i < n; i++) {
            WebSocket ws = sockets.getAndSet(i, null);
            if (ws != null) {
                ws.close();
            }
        }
        long deadline = System.nanoTime() + STALL.toNanos();
        while (sum(shutdowns) < setupOk.get() && System.nanoTime() - deadline < 0) {
            Probe.sleep(10);
        }
        section.check(setupFailed.get() == 0 && sum(shutdowns) == setupOk.get() && shutdownErrors.total() == 0,
                "warm-up: " + setupOk.get() + " up, " + setupFailures + " failed, " + sum(shutdowns)
                        + " shut down, errors " + shutdownErrors);
        closing = false;
        for (int i = 0; i < n; i++) {
            setups.set(i, 0);
            shutdowns.set(i, 0);
        }
        setupOk.set(0);
        lastSetupNanos.set(0);
        closesReceived.set(0);
    }

    private void connect(ClientResources resources, int i) {
        try {
            WebSocket.connect(resources.loopbackOptions(port)
                    .onConnectionSetup(d -> {
                        if (setups.incrementAndGet(i) > 1) {
                            duplicates.incrementAndGet();
                            return;
                        }
                        if (d.exception() != null || d.websocket() == null) {
                            String name = d.exception() == null ? "no websocket" : Tally.name(d.exception());
                            setupFailures.add(name);
                            setupFailed.incrementAndGet();
                            if (firstSetupFailure == null) {
                                firstSetupFailure = "connection #" + i + ": " + name;
                            }
                        } else {
                            sockets.set(i, d.websocket());
                            setupOk.incrementAndGet();
                            lastSetupNanos.set(System.nanoTime());
                        }
                        connectSlots.release();
                    })
                    .onIncomingFrameBegin(d -> {
                        if (d.frame().opcode() == Opcode.PONG) {
                            pongPayload[i] = 0;
                        }
                    })
                    .onIncomingFramePayload(d -> {
                        if (d.frame().opcode() == Opcode.PONG) {
                            ByteBuffer data = d.data();
                            long value = pongPayload[i];
                            while (data.hasRemaining()) {
                                value = (value << 8) | (data.get() & 0xFF);
                            }
                            pongPayload[i] = value;
                        }
                    })
                    .onIncomingFrameComplete(d -> onFrameComplete(i, d.frame(), d.exception()))
                    .onConnectionShutdown(d -> {
                        if (shutdowns.incrementAndGet(i) > 1) {
                            duplicates.incrementAndGet();
                        }
                        if (!closing) {
                            shutdownsBeforeClose.incrementAndGet();
                        }
                        if (d.exception() != null) {
                            shutdownErrors.add(d.exception());
                        }
                    })
                    .build());
        } catch (RuntimeException e) {
            setupFailures.add("connect() threw " + Tally.name(e));
            setupFailed.incrementAndGet();
            if (firstSetupFailure == null) {
                firstSetupFailure = "connection #" + i + ": connect() threw " + e;
            }
            connectSlots.release();
        }
    }

    private void onFrameComplete(int i, IncomingFrame frame, Throwable error) {
        if (frame.opcode() == Opcode.CLOSE && error == null && closing) {
            closesReceived.incrementAndGet(); // the server's answer to our CLOSE
            return;
        }
        if (frame.opcode() != Opcode.PONG || error != null) {
            unexpectedFrames.incrementAndGet();
            return;
        }
        int sequence = pongs.get(i) + 1;
        if (pongPayload[i] != (((long) i << 32) | sequence)) {
            pongWrong.incrementAndGet();
        }
        pongs.incrementAndGet(i);
    }

    /** On the pinger thread: one PING to every connection in slice {@code slice} of {@code slices}. */
    private void pingSlice(int slice, int slices) {
        for (int i = slice; i < config.connections(); i += slices) {
            WebSocket ws = sockets.get(i);
            if (ws == null) {
                continue;
            }
            int sequence = pingsSent.incrementAndGet(i);
            byte[] payload = ByteBuffer.allocate(8).putLong(((long) i << 32) | sequence).array();
            int index = i;
            try {
                ws.sendFrame(Opcode.PING, payload, true, c -> {
                    pingsCompleted.incrementAndGet(index);
                    if (c.exception() != null) {
                        pingFailures.add(c.exception());
                    }
                });
            } catch (RuntimeException e) {
                pingFailures.add("sendFrame threw " + Tally.name(e));
                pingsCompleted.incrementAndGet(index);
            }
        }
    }

    private static long sum(AtomicIntegerArray values) {
        long total = 0;
        for (int i = 0; i < values.length(); i++) {
            total += values.get(i);
        }
        return total;
    }
}
