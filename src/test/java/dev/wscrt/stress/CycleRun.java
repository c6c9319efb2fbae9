package dev.wscrt.stress;

import dev.wscrt.loadserver.LoadServerProcess;
import dev.wscrt.io.ClientBootstrap;
import dev.wscrt.testing.ClientResources;
import dev.wscrt.testing.NativeMemory;
import dev.wscrt.websocket.IncomingFrame;
import dev.wscrt.websocket.Opcode;
import dev.wscrt.websocket.WebSocket;
import dev.wscrt.websocket.WebSocketConnectOptions;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;

/**
 * Run 1: N cycles of connect, send a TEXT, await its echo, close, await the shutdown callback, with a
 * few cycles in flight at once. Native memory must be back to its baseline and the Java heap flat at
 * the end, once this run's own {@link ClientResources} are closed.
 *
 * <p>Threads: the main thread starts cycles as slots free up; each cycle's callbacks run on its
 * connection's event-loop thread and touch only that cycle's fields (plus the shared atomic counters).
 */
final class CycleRun {

    /**
     * @param cycles       cycles to run (unless the time cap comes first)
     * @param concurrency  cycles in flight at once
     * @param timeCap      no cycle starts after this; the run then reports how many it did
     * @param warmupCycles cycles run (on their own resources) before the baselines, so that class loading,
     *                     JIT and first-use allocations are not counted as growth
     * @param heapSlack    allowed growth of the Java heap used after GC
     */
    record Config(long cycles, int concurrency, Duration timeCap, long warmupCycles, long heapSlack) {
        static Config full() {
            return new Config(100_000, 16, Duration.ofMinutes(6), 1_000, 2L * 1024 * 1024);
        }

        static Config quick() {
            return new Config(5_000, 16, Duration.ofMinutes(2), 500, 2L * 1024 * 1024);
        }
    }

    /** A cycle that has not finished after this long counts as hung. */
    private static final Duration STALL = Duration.ofSeconds(30);
    private static final int LOOP_THREADS = 2;
    private static final int SAMPLES = 10;

    private CycleRun() {
    }

    static Section run(Config config) throws Exception {
        Section section = new Section("1. Connect → exchange → close cycles");
        NativeMemory.Snapshot processStart = NativeMemory.snapshot();
        try (LoadServerProcess server = StressServers.start()) {
            section.text("Each cycle: `WebSocket.connect` to 127.0.0.1, send a TEXT frame of 24–32 bytes from the setup "
                    + "callback, wait for its echo, `close()`, wait for `onConnectionShutdown`. " + config.concurrency()
                    + " cycles in flight at once, on this run's own `ClientResources` (" + LOOP_THREADS
                    + " event-loop threads). Server: " + server.description() + ". Target " + Probe.count(config.cycles())
                    + " cycles, time cap " + config.timeCap().toSeconds() + " s, after " + Probe.count(config.warmupCycles())
                    + " warm-up cycles on separate resources (closed before the baselines).");

            Driver warmup;
            try (ClientResources resources = ClientResources.create(LOOP_THREADS)) {
                warmup = new Driver(resources.bootstrap(), server.port(), config.concurrency());
                warmup.runAll(config.warmupCycles(), config.timeCap(), null);
            }
            if (!warmup.clean()) {
                section.fail("warm-up cycles went wrong: " + warmup.summary());
            }

            NativeMemory.Snapshot base = NativeMemory.snapshot();
            Probe.Reading before = Probe.take();
            Map<String, Integer> fdsBefore = Probe.fdKinds();
            List<List<String>> samples = new ArrayList<>();
            Driver driver = null;
            long elapsedNanos = 0;
            try (ClientResources resources = ClientResources.create(LOOP_THREADS)) {
                driver = new Driver(resources.bootstrap(), server.port(), config.concurrency());
                long t0 = System.nanoTime();
                driver.runAll(config.cycles(), config.timeCap(), done -> {
                    Probe.Reading r = Probe.take();
                    samples.add(List.of(Probe.count(done), Probe.count(r.nativeBytes()),
                            Probe.count(r.nativeAllocations()), Probe.bytes(r.heapAfterGc()), Probe.bytes(r.rssBytes()),
                            Long.toString(r.fds()), String.format("%.0f", (System.nanoTime() - t0) / 1e9)));
                });
                elapsedNanos = System.nanoTime() - t0;
            } catch (AssertionError e) {
                // ClientResources.close() waits (bounded) for the event loop group; the counts still get reported.
                section.fail("closing the run's ClientResources: " + e.getMessage());
            }
            String nativeBack = Probe.nativeNotBackTo(base);
            Probe.Reading after = Probe.take();
            Map<String, Long> serverStats = server.awaitOpen(0, Duration.ofSeconds(10));

            if (driver != null) {
                long cyclingNanos = elapsedNanos - driver.samplingNanos;
                double rate = driver.done.get() / (cyclingNanos / 1e9);
                long ok = Math.max(1, driver.done.get() - driver.echoWrong.get());
                section.table(List.of("cycles started", "cycles completed", "time (without sampling)", "rate",
                        "mean connect → setup", "setup → echo", "echo → shutdown", "time cap hit"),
                        List.of(List.of(Probe.count(driver.started.get()), Probe.count(driver.done.get()),
                                String.format("%.1f s (%.1f s)", elapsedNanos / 1e9, cyclingNanos / 1e9),
                                String.format("%,.0f cycles/s", rate),
                                String.format("%.2f ms", driver.connectNanos.get() / 1e6 / ok),
                                String.format("%.2f ms", driver.echoNanos.get() / 1e6 / ok),
                                String.format("%.2f ms", driver.closeNanos.get() / 1e6 / ok),
                                driver.timeCapped ? "yes" : "no")));
                section.table(List.of("check", "count"), List.of(
                        List.of("setup failures", driver.setupFailures.toString()),
                        List.of("send completions with an error", driver.sendFailures.toString()),
                        List.of("echo wrong or missing at shutdown", Probe.count(driver.echoWrong.get())),
                        List.of("server CLOSE frames received (close handshake done)",
                                Probe.count(driver.closesReceived.get())),
                        List.of("unexpected frames (not the echo, not the server's CLOSE)",
                                Probe.count(driver.unexpectedFrames.get())),
                        List.of("shutdowns with an error", driver.shutdownErrors.toString()),
                        List.of("duplicate setup/shutdown callbacks", Probe.count(driver.duplicates.get())),
                        List.of("connect() threw", driver.connectThrew.toString()),
                        List.of("cycles still in flight at the end", Integer.toString(driver.inFlight.size()))));
                section.check(driver.clean(), "cycles went wrong: " + driver.summary());
                section.observe(driver.closesReceived.get() == driver.done.get(), "the server's CLOSE reached the "
                        + "client in " + Probe.count(driver.closesReceived.get()) + " of " + Probe.count(driver.done.get())
                        + " cycles: " + Stress.CLOSE_DOES_NOT_WAIT);
                if (driver.stalled != null) {
                    section.fail("hang: " + driver.stalled);
                }
                if (!driver.timeCapped) {
                    section.check(driver.done.get() == config.cycles(),
                            "completed " + driver.done.get() + " of " + config.cycles() + " cycles");
                } else {
                    section.note("the time cap (" + config.timeCap().toSeconds() + " s) stopped the run after "
                            + Probe.count(driver.done.get()) + " cycles");
                }
            }
            section.text("Samples during the measured cycles, each after a GC. No cycle starts while a sample is "
                    + "taken, so the cycles in flight finish meanwhile and the native figures are those of the open "
                    + "`ClientResources` alone; the rate above leaves the sampling time out.");
            section.table(List.of("cycles done", "native bytes", "native allocations", "heap after GC", "RSS", "fds",
                    "s"), samples);

            long heapGrowth = after.heapAfterGc() - before.heapAfterGc();
            section.text("Before = after the warm-up, with its resources closed; after = once the run's "
                    + "`ClientResources` were closed and native memory had settled (bounded wait, "
                    + Probe.SETTLE.toSeconds() + " s).");
            section.table(List.of("measure", "process start", "before", "after", "after − before"), List.of(
                    List.of("native bytes (Crt.nativeMemoryInUse)", Probe.count(processStart.bytes()),
                            Probe.count(base.bytes()), Probe.count(after.nativeBytes()),
                            Probe.count(after.nativeBytes() - base.bytes())),
                    List.of("native allocations (Crt.nativeAllocationCount)", Probe.count(processStart.allocations()),
                            Probe.count(base.allocations()), Probe.count(after.nativeAllocations()),
                            Probe.count(after.nativeAllocations() - base.allocations())),
                    List.of("Java heap used after GC", "", Probe.bytes(before.heapAfterGc()),
                            Probe.bytes(after.heapAfterGc()), Probe.delta(heapGrowth)),
                    List.of("RSS", "", Probe.bytes(before.rssBytes()), Probe.bytes(after.rssBytes()),
                            Probe.delta(after.rssBytes() - before.rssBytes())),
                    List.of("open file descriptors", "", Long.toString(before.fds()), Long.toString(after.fds()),
                            Long.toString(after.fds() - before.fds())),
                    List.of("OS threads", "", Long.toString(before.threads()), Long.toString(after.threads()),
                            Long.toString(after.threads() - before.threads()))));
            section.text("Server after the run: " + serverStats + "; exceptions it saw: " + server.errors() + ".");

            section.check(nativeBack == null, "native memory not back to the baseline: " + nativeBack);
            section.check(after.nativeBytes() == processStart.bytes()
                            && after.nativeAllocations() == processStart.allocations(),
                    "native memory not back to its level at process start (" + processStart + ")");
            section.check(heapGrowth <= config.heapSlack(), "Java heap grew by " + Probe.delta(heapGrowth)
                    + ", more than the " + Probe.bytes(config.heapSlack()) + " allowed");
            section.check(after.fds() <= before.fds(), "file descriptors: " + before.fds() + " before, "
                    + after.fds() + " after (" + Probe.fdDifference(fdsBefore, Probe.fdKinds()) + ")");
            section.observe(serverStats.get("errors") == 0, "the server saw exceptions: " + server.errors());
            section.check(serverStats.get("open") == 0, "the server still has " + serverStats.get("open")
                    + " connections open");
            if (driver != null) {
                long expectedAccepted = warmup.started.get() + driver.started.get() - warmup.connectThrew.total()
                        - driver.connectThrew.total();
                section.check(serverStats.get("accepted") == expectedAccepted, "the server accepted "
                        + serverStats.get("accepted") + " connections, expected " + expectedAccepted);
                section.check(serverStats.get("closes") == expectedAccepted, "the server received "
                        + serverStats.get("closes") + " CLOSE frames for " + expectedAccepted + " connections");
            }
            section.note("heap slack allowed: " + Probe.bytes(config.heapSlack()) + "; the heap figure is the "
                    + "lowest of three readings after System.gc()");
        }
        return section;
    }

    /** Runs cycles against one bootstrap; counters are read by the main thread once it is done. */
    private static final class Driver {
        private final ClientBootstrap bootstrap;
        private final int port;
        private final int concurrency;
        private final Semaphore slots;
        final Map<Long, Cycle> inFlight = new ConcurrentHashMap<>();
        final AtomicLong started = new AtomicLong();
        final AtomicLong done = new AtomicLong();
        final AtomicLong echoWrong = new AtomicLong();
        final AtomicLong unexpectedFrames = new AtomicLong();
        final AtomicLong closesReceived = new AtomicLong();
        final AtomicLong duplicates = new AtomicLong();
        final Tally setupFailures = new Tally();
        final Tally sendFailures = new Tally();
        final Tally shutdownErrors = new Tally();
        final Tally connectThrew = new Tally();
        /** Sums over finished cycles, for the mean time of each phase. */
        final AtomicLong connectNanos = new AtomicLong();
        final AtomicLong echoNanos = new AtomicLong();
        final AtomicLong closeNanos = new AtomicLong();
        /** Time the main thread spent taking samples (no cycle starts meanwhile). */
        long samplingNanos;
        boolean timeCapped;
        String stalled;

        Driver(ClientBootstrap bootstrap, int port, int concurrency) {
            this.bootstrap = bootstrap;
            this.port = port;
            this.concurrency = concurrency;
            this.slots = new Semaphore(concurrency);
        }

        /** Runs {@code n} cycles (fewer if {@code cap} passes or a cycle hangs); calls {@code sample}
         * on this thread about {@link #SAMPLES} times. */
        void runAll(long n, Duration cap, LongConsumer sample) throws InterruptedException {
            long deadline = System.nanoTime() + cap.toNanos();
            long sampleEvery = Math.max(1, n / SAMPLES);
            for (long id = 0; id < n; id++) {
                if (System.nanoTime() - deadline > 0) {
                    timeCapped = true;
                    break;
                }
                if (!slots.tryAcquire(STALL.toMillis(), TimeUnit.MILLISECONDS)) {
                    stalled = "no cycle finished for " + STALL.toSeconds() + " s; in flight: " + describeInFlight();
                    return;
                }
                if (sample != null && id > 0 && id % sampleEvery == 0) {
                    long s0 = System.nanoTime();
                    sample.accept(done.get());
                    samplingNanos += System.nanoTime() - s0;
                }
                start(id);
            }
            if (!slots.tryAcquire(concurrency, STALL.toMillis(), TimeUnit.MILLISECONDS)) {
                stalled = "cycles did not finish within " + STALL.toSeconds() + " s of the last start; in flight: "
                        + describeInFlight();
                return;
            }
            slots.release(concurrency);
            if (sample != null) {
                sample.accept(done.get());
            }
        }

        private void start(long id) {
            Cycle cycle = new Cycle(id);
            inFlight.put(id, cycle);
            started.incrementAndGet();
            try {
                WebSocket.connect(WebSocketConnectOptions.builder()
                        .host("127.0.0.1")
                        .port(port)
                        .bootstrap(bootstrap)
                        .onConnectionSetup(d -> {
                            if (cycle.setups.incrementAndGet() > 1) {
                                duplicates.incrementAndGet();
                                return;
                            }
                            if (d.exception() != null || d.websocket() == null) {
                                setupFailures.add(d.exception() == null ? "no websocket" : Tally.name(d.exception()));
                                finish(cycle);
                                return;
                            }
                            cycle.setupNanos = System.nanoTime();
                            cycle.websocket = d.websocket();
                            cycle.state = "sent";
                            cycle.websocket.sendFrame(Opcode.TEXT, cycle.expected, true, c -> {
                                if (c.exception() != null) {
                                    sendFailures.add(c.exception());
                                }
                            });
                        })
                        .onIncomingFrameBegin(d -> {
                            if (d.frame().opcode() == Opcode.TEXT) {
                                cycle.received.reset();
                            }
                        })
                        .onIncomingFramePayload(d -> cycle.received.writeBytes(d.bytes()))
                        .onIncomingFrameComplete(d -> onFrame(cycle, d.frame(), d.exception()))
                        .onConnectionShutdown(d -> {
                            if (cycle.shutdowns.incrementAndGet() > 1) {
                                duplicates.incrementAndGet();
                                return;
                            }
                            if (d.exception() != null) {
                                shutdownErrors.add(d.exception());
                            }
                            if (!cycle.echoed) {
                                echoWrong.incrementAndGet();
                            } else {
                                long now = System.nanoTime();
                                connectNanos.addAndGet(cycle.setupNanos - cycle.startNanos);
                                echoNanos.addAndGet(cycle.echoNanos - cycle.setupNanos);
                                closeNanos.addAndGet(now - cycle.echoNanos);
                            }
                            finish(cycle);
                        })
                        .build());
            } catch (RuntimeException e) {
                connectThrew.add(e);
                finish(cycle);
            }
        }

        private void onFrame(Cycle cycle, IncomingFrame frame, Throwable error) {
            if (frame.opcode() == Opcode.CLOSE && error == null && cycle.echoed) {
                closesReceived.incrementAndGet(); // the server's answer to our CLOSE
                return;
            }
            if (frame.opcode() != Opcode.TEXT || !frame.fin() || error != null || cycle.echoed) {
                unexpectedFrames.incrementAndGet();
                return;
            }
            cycle.echoNanos = System.nanoTime();
            cycle.echoed = Arrays.equals(cycle.received.toByteArray(), cycle.expected);
            cycle.state = cycle.echoed ? "closing" : "closing (echo wrong)";
            cycle.websocket.close();
        }

        private void finish(Cycle cycle) {
            cycle.state = "done";
            if (inFlight.remove(cycle.id) != null) {
                done.incrementAndGet();
                slots.release();
            }
        }

        boolean clean() {
            return stalled == null && setupFailures.total() == 0 && sendFailures.total() == 0 && echoWrong.get() == 0
                    && unexpectedFrames.get() == 0 && shutdownErrors.total() == 0 && duplicates.get() == 0
                    && connectThrew.total() == 0 && inFlight.isEmpty() && done.get() == started.get();
        }

        String summary() {
            return "started " + started.get() + ", done " + done.get() + ", setup failures " + setupFailures
                    + ", send failures " + sendFailures + ", echo wrong " + echoWrong.get() + ", unexpected frames "
                    + unexpectedFrames.get() + ", shutdown errors " + shutdownErrors + ", duplicate callbacks "
                    + duplicates.get() + ", connect threw " + connectThrew + ", in flight " + inFlight.size()
                    + (stalled == null ? "" : ", " + stalled);
        }

        private String describeInFlight() {
            long now = System.nanoTime();
            return inFlight.values().stream()
                    .sorted(Comparator.comparingLong(c -> c.id))
                    .limit(16)
                    .map(c -> "#" + c.id + " " + c.state + " for " + (now - c.startNanos) / 1_000_000 + " ms")
                    .toList()
                    .toString();
        }
    }

    /** One cycle. Its callbacks run one at a time on its event-loop thread. */
    private static final class Cycle {
        final long id;
        final long startNanos = System.nanoTime();
        final byte[] expected;
        final ByteArrayOutputStream received = new ByteArrayOutputStream(64);
        final AtomicInteger setups = new AtomicInteger();
        final AtomicInteger shutdowns = new AtomicInteger();
        volatile String state = "connecting";
        long setupNanos;
        long echoNanos;
        volatile WebSocket websocket;
        volatile boolean echoed;

        Cycle(long id) {
            this.id = id;
            this.expected = ("stress cycle " + id + " echo me").getBytes(StandardCharsets.UTF_8);
        }
    }
}
