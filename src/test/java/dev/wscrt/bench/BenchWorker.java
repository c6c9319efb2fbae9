package dev.wscrt.bench;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * One client library in one scenario, in a process of its own (started by {@link Benchmark}): warm-up runs
 * that also calibrate the counts, lasting {@code --seconds} together at least, until the JIT compiler is nearly
 * done (idle: its own warm-up), then the measured runs, each at least {@code --seconds} long. Prints one
 * line per run: {@code WARMUP k=v ...}, {@code RESULT k=v ...} or {@code FAILED <why>}; then {@code INFO k=v}.
 *
 * <p>Arguments: {@code --peer=NAME --scenario=KEY --ws=PORT --wss=PORT --raw=PORT --ca=FILE --runs=N
 * --seconds=S --idle=N --idle-wss=N}, and {@code --max-warmup=S} (default {@link #MAX_WARMUP_SECONDS}).
 */
public final class BenchWorker {
    /**
     * The warm-up goes on until the JIT compiler took at most this share of its last run's time (compilation
     * time over wall time: the "warm-up under 2 %") ...
     */
    static final double MAX_JIT_SHARE = 0.02;
    /** ... or for this long at most (unless {@code --max-warmup} says otherwise). */
    static final double MAX_WARMUP_SECONDS = 60;
    /** Round trips before the measured ones, in each echo run. */
    static final int ECHO_WARMUP = 2_000;
    static final int ECHO_MAX = 2_000_000;
    /** Idle connections at most for the clients with a thread per connection. */
    static final int THREAD_PER_CONNECTION_IDLE = 1_000;

    private final Scenario scenario;
    private final String peerName;
    private final Peer peer;
    private final Peer.Endpoint endpoint;
    private final int rawPort;
    private final double seconds;
    private final double maxWarmupSeconds;
    private final int idleConnections;
    /** Where the {@code WARMUP}, {@code RESULT}, {@code FAILED} and {@code INFO} lines go. */
    private final PrintStream out;
    /**
     * Idle cells' warm-up (see {@link #warmUpConnects}): this many times the measured run's connections, so
     * that the methods run once per connection pass HotSpot's C2 threshold (5,000 calls) in it, ...
     */
    static final int IDLE_WARMUP_ROUNDS = 3;
    /** ... wss connections at most (the slowest peer makes about 100 handshakes a second), ... */
    static final int IDLE_WARMUP_CONNECTS_WSS = 3_000;
    /** ... connections held at a time (the measured run's handshakes in flight), ... */
    static final int IDLE_WARMUP_BATCH = 64;
    /** ... and how long the JIT compiler must have compiled nothing, waiting at most so long. */
    static final long IDLE_COMPILER_QUIET_MILLIS = 500;
    static final long IDLE_COMPILER_WAIT_MILLIS = 15_000;
    /** Then this long, so that HotSpot has freed the compiler's pooled arenas (it does every 5 s). */
    static final long IDLE_ARENA_RELEASE_MILLIS = 5_500;
    private final long timeoutNanos;
    private final LongSupplier nativeBytes;

    BenchWorker(Map<String, String> args, PrintStream out) throws Exception {
        this.out = out;
        scenario = Scenario.of(args.get("scenario"));
        peerName = args.get("peer");
        Path ca = Path.of(args.get("ca"));
        endpoint = new Peer.Endpoint(Integer.parseInt(args.get("ws")), Integer.parseInt(args.get("wss")), ca,
                scenario.tls);
        rawPort = Integer.parseInt(args.get("raw"));
        seconds = Double.parseDouble(args.get("seconds"));
        maxWarmupSeconds = Double.parseDouble(args.getOrDefault("max-warmup", Double.toString(MAX_WARMUP_SECONDS)));
        int idle = Integer.parseInt(args.get(scenario.tls ? "idle-wss" : "idle"));
        // Java-WebSocket and OkHttp hold a thread (Java-WebSocket two) per connection: 5,000 of them would take
        // a large share of this shared machine's process-id space, so they hold at most 1,000.
        idleConnections = peerName.equals("java-websocket") || peerName.equals("okhttp")
                ? Math.min(idle, THREAD_PER_CONNECTION_IDLE) : idle;
        timeoutNanos = TimeUnit.SECONDS.toNanos((long) Math.max(30, 10 * seconds));
        peer = switch (peerName) {
            case "wscrt", "wscrt-b" -> new WscrtPeer(ca);
            case "wscrt-poll" -> new WscrtPeer(ca, WscrtPeer.BUSY_POLL);
            case "wscrt-msg" -> new WscrtMessagePeer(ca);
            case "wscrt-jdk" -> new JdkPeer(ca, true);
            case "jdk" -> new JdkPeer(ca);
            case "netty" -> new NettyPeer(ca);
            case "java-websocket" -> new JavaWebSocketPeer(ca);
            case "okhttp" -> new OkHttpPeer(ca);
            case "sockets" -> null;
            default -> throw new IllegalArgumentException("unknown peer " + peerName);
        };
        nativeBytes = peerName.startsWith("wscrt") ? dev.wscrt.Crt::nativeMemoryInUse : () -> 0;
    }

    public static void main(String[] argv) throws Exception {
        Map<String, String> args = new java.util.HashMap<>();
        for (String a : argv) {
            int eq = a.indexOf('=');
            args.put(a.substring(2, eq), a.substring(eq + 1));
        }
        BenchWorker w = new BenchWorker(args, System.out);
        try {
            w.runAll(Integer.parseInt(args.get("runs")));
        } finally {
            w.close();
        }
        System.out.flush();
        System.exit(0);
    }

    void close() {
        if (peer != null) {
            peer.close();
        }
    }

    /**
     * Whether the warm-up is done after {@code warmedSeconds} of it, with {@code extraRuns} runs after the
     * calibrating one, the last of which the JIT compiler took {@code jitShare} of: it lasted a measured run's
     * {@code runSeconds} and the compiler is nearly done, or it lasted {@code maxSeconds}.
     */
    static boolean warmedUp(double warmedSeconds, int extraRuns, double jitShare, double runSeconds,
                            double maxSeconds) {
        return warmedSeconds >= maxSeconds
                || (warmedSeconds >= runSeconds && extraRuns > 0 && jitShare <= MAX_JIT_SHARE);
    }

    void runAll(int runs) {
        long count = scenario.warmupCount;
        if (scenario.kind == Scenario.Kind.IDLE) {
            count = Math.min(count, idleConnections);
            if (!warmUpConnects()) {
                return;
            }
        }
        long warmStart = System.nanoTime();
        Map<String, Double> warm = once(count, true, 0);
        if (warm == null) {
            return;
        }
        if (scenario.kind == Scenario.Kind.IDLE) {
            awaitSettledCompiler();
        }
        count = next(count, warm);
        // The first warm-up run only calibrates: it lasts a fraction of a second, while the JIT compiles the
        // scenario's path for seconds, in the connect cells for tens of seconds (Netty's ws connects: 930,
        // 1,160 and 1,710 a second in its measured runs after 300 warm-up connects; 7,000 after 33 s of warm-up,
        // when the compiler was done; wscrt's 3,100 to 5,700, then 7,000). So the warm-up goes on, sized by the
        // last run's rate, until it has lasted as long as a measured run and the JIT compiler took at most
        // MAX_JIT_SHARE of the last run's time (or MAX_WARMUP_SECONDS have passed).
        int extraRuns = 0;
        double jitShare = 0;
        while (scenario.kind != Scenario.Kind.IDLE && !warmedUp((System.nanoTime() - warmStart) / 1e9, extraRuns,
                jitShare, seconds, maxWarmupSeconds)) {
            long compiledBefore = Scenarios.compilationMillis();
            long runStart = System.nanoTime();
            warm = once(count, true, 0);
            if (warm == null) {
                return;
            }
            double runMillis = (System.nanoTime() - runStart) / 1e6;
            jitShare = (Scenarios.compilationMillis() - compiledBefore) / Math.max(1.0, runMillis);
            extraRuns++;
            count = next(count, warm);
        }
        if (scenario.kind != Scenario.Kind.IDLE) {
            out.println(String.format(Locale.ROOT, "INFO warmupSeconds=%.1f warmupJitShare=%.3f",
                    (System.nanoTime() - warmStart) / 1e9, jitShare));
        }
        int failures = 0;
        int tooShort = 0;
        int wanted = scenario.kind == Scenario.Kind.IDLE ? 1 : runs;
        for (int i = 0; i < wanted && failures < 2; i++) {
            boolean retry = tooShort < 2 && scenario.kind != Scenario.Kind.IDLE;
            Map<String, Double> r = once(count, false, retry ? seconds : 0);
            if (r == null) {
                failures++;
            } else {
                if (r.containsKey("short")) {
                    tooShort++;
                    i--; // not counted: run again with the count this run calls for
                }
                count = next(count, r);
            }
        }
        if (scenario.kind == Scenario.Kind.IDLE) {
            out.println("INFO connections=" + idleConnections);
        }
        if (peer instanceof NettyPeer n) {
            out.println("INFO transport=" + n.transport());
        }
    }

    /**
     * Idle cells: before the held warm-up, {@link #IDLE_WARMUP_ROUNDS} times as many connections as the
     * measured run holds (wss: at most {@link #IDLE_WARMUP_CONNECTS_WSS}) are opened, held and closed
     * {@link #IDLE_WARMUP_BATCH} at a time by the measured run's own code, so that the JIT compiles that code
     * now (see {@link #awaitSettledCompiler}): when it compiled during the measured run, the arenas it compiles
     * with (megabytes, freed later) counted as connection memory, 1 to 3 KiB per connection, varying from run
     * to run and from client to client. With as many warm-up connections as measured ones, the methods run
     * once per connection were still compiled by C2 during the measured run (their 5,000th call). A batch at a
     * time is all that is freed, so little freed memory is left for the measured connections to reuse.
     */
    private boolean warmUpConnects() {
        int connects = IDLE_WARMUP_ROUNDS * idleConnections;
        if (scenario.tls) {
            connects = Math.min(connects, IDLE_WARMUP_CONNECTS_WSS);
        }
        try {
            long start = System.nanoTime();
            for (int opened = 0; opened < connects; opened += IDLE_WARMUP_BATCH) {
                Scenarios.idle(peer, endpoint, Math.min(IDLE_WARMUP_BATCH, connects - opened), nativeBytes, 0,
                        timeoutNanos, false);
            }
            out.println("INFO warmupConnects=" + connects + " warmupConnectSeconds="
                    + String.format(Locale.ROOT, "%.2f", (System.nanoTime() - start) / 1e9));
            return true;
        } catch (Throwable t) {
            out.println("FAILED warm-up connects: " + t);
            return false;
        } finally {
            out.flush();
        }
    }

    /**
     * Idle cells, after every warm-up and right before the measured run: the JIT compiler gets up to
     * {@link #IDLE_COMPILER_WAIT_MILLIS} to finish, then HotSpot {@link #IDLE_ARENA_RELEASE_MILLIS} to free
     * the arenas it compiled with, so that neither counts as connection memory.
     */
    private void awaitSettledCompiler() {
        try {
            long waited = Scenarios.awaitQuietCompiler(IDLE_COMPILER_QUIET_MILLIS, IDLE_COMPILER_WAIT_MILLIS);
            Thread.sleep(IDLE_ARENA_RELEASE_MILLIS);
            out.println("INFO compilerWaitMillis=" + waited);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            out.flush();
        }
    }

    /** Count for the next run: enough for {@code seconds} at the last run's rate, with 50 % to spare. */
    private long next(long count, Map<String, Double> last) {
        if (scenario.kind == Scenario.Kind.IDLE) {
            return idleConnections;
        }
        if (scenario.kind == Scenario.Kind.ECHO) {
            return count;
        }
        double rate = last.get("messages") / Math.max(1e-3, last.get("seconds"));
        long wanted = (long) Math.ceil(rate * seconds * 1.5);
        return Math.max(Math.max(10, count / 4), Math.min(wanted, count * 50));
    }

    /**
     * One run; a measured run shorter than {@code atLeastSeconds} is printed as {@code SHORT} (not a result)
     * and returned with a {@code short} entry. Each CPU's busy share over the run is added to the result
     * ({@link CpuTimes}).
     */
    private Map<String, Double> once(long count, boolean warmup, double atLeastSeconds) {
        try {
            CpuTimes before = CpuTimes.now();
            Map<String, Double> r = measure(count, warmup);
            r.putAll(CpuTimes.now().busySince(before));
            boolean isShort = !warmup && r.get("seconds") < atLeastSeconds;
            StringBuilder sb = new StringBuilder(warmup ? "WARMUP" : isShort ? "SHORT" : "RESULT");
            if (isShort) {
                r.put("short", 1.0);
            }
            r.forEach((k, v) -> sb.append(' ').append(k).append('=').append(String.format(Locale.ROOT, "%.9g", v)));
            out.println(sb);
            return r;
        } catch (Throwable t) {
            String why = (t.getMessage() != null ? t.getClass().getSimpleName() + ": " + t.getMessage() : t.toString());
            out.println("FAILED " + (warmup ? "warm-up: " : "") + why.replace('\n', ' '));
            return null;
        } finally {
            out.flush();
        }
    }

    private Map<String, Double> measure(long count, boolean warmup) throws Exception {
        int size = scenario.size;
        if (peer == null) {
            Map<String, Double> r = switch (scenario.kind) {
                case RECEIVE -> SocketLimit.receive(rawPort, receiveWriteSize(), count * scenario.wireBytes(),
                        timeoutNanos);
                case SEND -> SocketLimit.send(rawPort, (int) scenario.wireBytes(), count * scenario.wireBytes(),
                        timeoutNanos);
                case ECHO -> SocketLimit.echo(rawPort, size, ECHO_WARMUP, warmup ? seconds / 4 : seconds, ECHO_MAX,
                        timeoutNanos);
                default -> throw new IllegalArgumentException("no socket limit for " + scenario.key);
            };
            if (scenario.kind != Scenario.Kind.ECHO) {
                r.put("messages", (double) count); // the same bytes as count WebSocket messages
            }
            return r;
        }
        return switch (scenario.kind) {
            case RECEIVE -> Scenarios.receive(peer, endpoint, size, count, scenario.text, timeoutNanos);
            case SEND -> Scenarios.send(peer, endpoint, size, count, scenario.direct, timeoutNanos);
            case ECHO -> Scenarios.echo(peer, endpoint, size, ECHO_WARMUP, warmup ? seconds / 4 : seconds, ECHO_MAX,
                    timeoutNanos);
            case CONNECT -> Scenarios.connectRate(peer, endpoint, count, 16, timeoutNanos);
            case IDLE -> Scenarios.idle(peer, endpoint, (int) count, nativeBytes, 200,
                    TimeUnit.SECONDS.toNanos(300), true);
        };
    }

    /** The server's write size in the receive scenario: its chunk of whole frames. */
    private int receiveWriteSize() {
        long frame = scenario.wireBytes();
        return (int) (Math.max(1, dev.wscrt.loadserver.LoadServer.BLAST_CHUNK_BYTES / frame) * frame);
    }
}
