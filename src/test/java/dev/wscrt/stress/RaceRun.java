package dev.wscrt.stress;

import dev.wscrt.testing.ClientResources;
import dev.wscrt.testing.NativeMemory;
import dev.wscrt.websocket.OnSendFrameCompleteData;
import dev.wscrt.websocket.Opcode;
import dev.wscrt.websocket.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.Consumer;

/**
 * The JNI race run of {@code scripts/tsan.sh --jni}: several Java threads at once connect, send on,
 * close and drop (forget without {@code close()}, leaving the connection to its Cleaner) WebSockets that
 * live in a few shared slots, for a bounded time, against the stress echo server on 127.0.0.1. Made for
 * a ThreadSanitizer build of the native library: every native entry point (connect, the sends with and
 * without completion, close, release from the Cleaner, a TLS getter) runs on Java threads while the
 * connections' event-loop threads deliver setup, frames, completions and shutdowns.
 *
 * <p>A WebSocket reaches the other threads from its setup callback, on the event-loop thread, through
 * an {@link AtomicReferenceArray} slot: the Java hand-off behind the reports of earlier TSan runs.
 *
 * <pre>
 *   RaceRun --port P [--threads N] [--slots N] [--seconds S]     defaults: 6 threads, 8 slots, 10 s
 * </pre>
 *
 * The echo server (StressServer) runs in a JVM of its own, started by the script, so that this JVM does
 * no process handling. Checks, once the run's resources are closed: no thread failed; each connection
 * that was closed (and kept reachable) got every completion callback exactly once and one shutdown
 * callback; a dropped one never more than that (its callbacks may go with it, see WebSocket's Javadoc);
 * native memory back to the baseline. Exits 0 when all held, 1 otherwise. Bounded in time.
 */
public final class RaceRun {

    /** One connection's counts. Holds no reference to its WebSocket, so a dropped one can be collected. */
    private static final class Conn {
        final AtomicLong expected = new AtomicLong();
        final AtomicLong completed = new AtomicLong();
        final AtomicLong duplicates = new AtomicLong();
        final AtomicLong shutdowns = new AtomicLong();
        volatile boolean setUp;
        volatile boolean dropped;
    }

    /** A live connection in a slot. */
    private record Live(WebSocket websocket, Conn conn) {
    }

    private final AtomicReferenceArray<Live> slots;
    private final int port;
    private final ClientResources resources;
    private final List<Conn> conns = new CopyOnWriteArrayList<>();
    /** Closed connections stay reachable until the end, so that their callbacks are owed. */
    private final List<WebSocket> closed = new CopyOnWriteArrayList<>();
    private final AtomicLong sends = new AtomicLong();
    private final AtomicLong setupFailures = new AtomicLong();
    private final List<Throwable> failures = new ArrayList<>(); // guarded by itself
    private volatile boolean stopping;

    private RaceRun(int slotCount, int port, ClientResources resources) {
        this.slots = new AtomicReferenceArray<>(slotCount);
        this.port = port;
        this.resources = resources;
    }

    public static void main(String[] args) throws Exception {
        int port = -1;
        int threads = 6;
        int slotCount = 8;
        long seconds = 10;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--port" -> port = Integer.parseInt(args[++i]);
                case "--threads" -> threads = Integer.parseInt(args[++i]);
                case "--slots" -> slotCount = Integer.parseInt(args[++i]);
                case "--seconds" -> seconds = Long.parseLong(args[++i]);
                default -> port = -2;
            }
        }
        if (port <= 0) {
            System.err.println("usage: RaceRun --port P [--threads N] [--slots N] [--seconds S]");
            System.exit(2);
        }
        NativeMemory.Snapshot baseline = NativeMemory.snapshot();
        ClientResources resources = ClientResources.create(2);
        RaceRun run = new RaceRun(slotCount, port, resources);
        run.execute(threads, Duration.ofSeconds(seconds));
        resources.close(); // waits for every connection, the dropped ones too, to shut down
        boolean ok = run.report();
        String leak = Probe.nativeNotBackTo(baseline);
        if (leak != null) {
            System.out.println("native memory not back to the baseline: " + leak);
            ok = false;
        }
        System.out.println(ok ? "RaceRun: PASS" : "RaceRun: FAIL");
        System.exit(ok ? 0 : 1);
    }

    private void execute(int threadCount, Duration duration) throws InterruptedException {
        long deadline = System.nanoTime() + duration.toNanos();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < threadCount; t++) {
            Thread thread = new Thread(() -> work(deadline), "race-" + t);
            thread.setUncaughtExceptionHandler((th, e) -> fail(e));
            threads.add(thread);
            thread.start();
        }
        for (Thread thread : threads) {
            thread.join(duration.plusSeconds(60).toMillis());
            if (thread.isAlive()) {
                fail(new AssertionError(thread.getName() + " still running 60 s after the deadline"));
            }
        }
        // Close what is left; the Cleaner takes the dropped ones (ClientResources.close() waits for them).
        // A setup still in flight closes its own WebSocket once it sees `stopping` (see connect).
        stopping = true;
        for (int i = 0; i < slots.length(); i++) {
            close(slots.getAndSet(i, null));
        }
    }

    private void work(long deadline) {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        while (System.nanoTime() - deadline < 0) {
            int slot = random.nextInt(slots.length());
            int action = random.nextInt(100);
            if (action < 10) {
                connect(slot);
            } else if (action < 15) {
                close(slots.getAndSet(slot, null));
            } else if (action < 19) {
                Live dropped = slots.getAndSet(slot, null); // forgotten without close()
                if (dropped != null) {
                    dropped.conn().dropped = true;
                }
            } else if (action < 20) {
                System.gc(); // lets the Cleaner release dropped connections, on its own thread
            } else {
                Live live = slots.get(slot);
                if (live != null) {
                    send(live, random);
                }
            }
            if (action % 8 == 0) {
                sleepQuietly(1);
            }
        }
    }

    private void close(Live live) {
        if (live != null) {
            closed.add(live.websocket());
            live.websocket().close();
        }
    }

    private void connect(int slot) {
        Conn conn = new Conn();
        conns.add(conn);
        try {
            WebSocket.connect(resources.loopbackOptions(port)
                    .onConnectionSetup(d -> {
                        // On the event-loop thread: publish the new WebSocket to the Java threads.
                        if (d.websocket() == null) {
                            setupFailures.incrementAndGet();
                            return;
                        }
                        conn.setUp = true;
                        close(slots.getAndSet(slot, new Live(d.websocket(), conn)));
                        if (stopping) {
                            // The run is over: whichever of this and the final sweep sees the other closes it.
                            close(slots.getAndSet(slot, null));
                        }
                    })
                    .onConnectionShutdown(d -> conn.shutdowns.incrementAndGet())
                    .build());
        } catch (RuntimeException e) {
            fail(e);
        }
    }

    private void send(Live live, ThreadLocalRandom random) {
        WebSocket ws = live.websocket();
        byte[] payload = new byte[random.nextInt(2048)];
        random.nextBytes(payload);
        sends.incrementAndGet();
        // On a connection another thread closed, sendFrame does not throw: the completion says why.
        switch (random.nextInt(4)) {
            case 0 -> ws.sendFrame(Opcode.BINARY, payload, true, once(live.conn()));
            case 1 -> ws.sendFrame(Opcode.BINARY, ByteBuffer.allocateDirect(payload.length).put(payload).flip(), true,
                    once(live.conn()));
            case 2 -> ws.sendFrame(Opcode.TEXT, "x".repeat(payload.length), true, once(live.conn()));
            default -> ws.sendFrame(Opcode.PING, ByteBuffer.wrap(payload, 0, Math.min(payload.length, 125)));
        }
        if (random.nextInt(64) == 0) {
            ws.tlsVersion(); // null on a plain connection, but it crosses into native code
        }
    }

    /** A completion callback owed to {@code conn}: counts itself, notices a second run. */
    private static Consumer<OnSendFrameCompleteData> once(Conn conn) {
        conn.expected.incrementAndGet();
        AtomicBoolean ran = new AtomicBoolean();
        return d -> {
            if (!ran.compareAndSet(false, true)) {
                conn.duplicates.incrementAndGet();
            }
            conn.completed.incrementAndGet();
        };
    }

    /** Prints the counts and the failures; true when every check held. */
    private boolean report() {
        long setUp = 0;
        long dropped = 0;
        long expected = 0;
        long completed = 0;
        long shutdowns = 0;
        List<String> wrong = new ArrayList<>();
        for (Conn c : conns) {
            if (!c.setUp) {
                continue;
            }
            setUp++;
            dropped += c.dropped ? 1 : 0;
            expected += c.expected.get();
            completed += c.completed.get();
            shutdowns += c.shutdowns.get();
            boolean owed = !c.dropped;
            if (c.duplicates.get() > 0 || c.shutdowns.get() > 1 || c.completed.get() > c.expected.get()
                    || owed && (c.completed.get() != c.expected.get() || c.shutdowns.get() != 1)) {
                wrong.add((c.dropped ? "dropped" : "closed") + " connection: " + c.completed.get() + " of "
                        + c.expected.get() + " completions, " + c.duplicates.get() + " duplicates, "
                        + c.shutdowns.get() + " shutdowns");
            }
        }
        System.out.printf("connections %d (set up %d, setup failures %d, closed %d, dropped %d), sendFrame calls %d, "
                        + "completion callbacks %d of %d made, shutdown callbacks %d%n",
                conns.size(), setUp, setupFailures.get(), closed.size(), dropped, sends.get(), completed, expected,
                shutdowns);
        wrong.stream().limit(10).forEach(w -> System.out.println("wrong: " + w));
        synchronized (failures) {
            failures.forEach(e -> {
                System.out.println("failure: " + e);
                e.printStackTrace(System.out);
            });
            return wrong.isEmpty() && failures.isEmpty();
        }
    }

    private void fail(Throwable e) {
        synchronized (failures) {
            if (failures.size() < 20) {
                failures.add(e);
            }
        }
    }

    private static void sleepQuietly(long ms) {
        try {
            TimeUnit.MILLISECONDS.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
