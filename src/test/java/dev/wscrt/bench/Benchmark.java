package dev.wscrt.bench;

import dev.wscrt.loadserver.LoadServerProcess;
import dev.wscrt.loadserver.TlsPort;
import dev.wscrt.tls.TestCertificates;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * wscrt against the other Java WebSocket clients and against the limits, in one run, all against the same
 * {@link dev.wscrt.loadserver.LoadServer} (Netty epoll in a child JVM, pinned to the last CPU). Each client
 * library runs each scenario in a JVM of its own ({@link BenchWorker}, pinned to the other CPUs): warm-up
 * runs that calibrate the counts, lasting {@code --seconds} together at least and until the JIT compiler is
 * nearly done, then {@code --runs} measured runs of at least {@code --seconds} each.
 * Not a unit test: run it with {@code scripts/bench.sh} (see {@link #usage()}).
 */
public final class Benchmark {
    /** Client libraries, by worker name, with the names the report shows; "sockets" is the plain-TCP limit. */
    static final Map<String, String> PEERS = new LinkedHashMap<>();

    static {
        PEERS.put("wscrt", "wscrt frames");
        PEERS.put("wscrt-poll", "wscrt frames, busy poll");
        PEERS.put("wscrt-msg", "wscrt messages");
        PEERS.put("wscrt-jdk", "wscrt java.net.http API");
        PEERS.put("jdk", "JDK");
        PEERS.put("netty", "Netty");
        PEERS.put("java-websocket", "Java-WebSocket");
        PEERS.put("okhttp", "OkHttp");
    }

    /** Options of one benchmark run. */
    static final class Config {
        List<Scenario> scenarios = List.of(Scenario.values());
        List<String> peers = new ArrayList<>(PEERS.keySet());
        int runs = 3;
        double seconds = 2.0;
        /** The longest warm-up of a worker, JIT compiler done or not. */
        double maxWarmupSeconds = BenchWorker.MAX_WARMUP_SECONDS;
        int idle = 5_000;
        int idleWss = 5_000;
        boolean quick;
        boolean pin = true;
        Path out = Path.of("target", "bench", "report.md");
        List<String> workerJvm = List.of("-Xms1g", "-Xmx1g");
        /** A second build of libwscrt-jni.so, measured as client "wscrt-b" beside "wscrt" (before/after). */
        Path wscrtB;
    }

    /** The runs of one client library in one scenario. */
    static final class Cell {
        final List<Map<String, Double>> runs = new ArrayList<>();
        final List<String> failures = new ArrayList<>();
        final Map<String, String> info = new LinkedHashMap<>();
        /** Each worker's warm-up: its length in seconds and the JIT compiler's share of its last run. */
        final List<double[]> warmUps = new ArrayList<>();
        String loadAtStart = "?";
        double wallSeconds;

        /** Adds the runs of another worker of the same client and scenario (the first one's load stays). */
        void add(Cell other) {
            if (runs.isEmpty() && failures.isEmpty()) {
                loadAtStart = other.loadAtStart;
            }
            runs.addAll(other.runs);
            failures.addAll(other.failures);
            info.putAll(other.info);
            warmUps.addAll(other.warmUps);
            wallSeconds += other.wallSeconds;
        }
    }

    private Benchmark() {
    }

    static String usage() {
        return String.join("\n",
                "usage: scripts/bench.sh [options] [scenario...]",
                "  scenarios: " + String.join(" ", java.util.Arrays.stream(Scenario.values()).map(s -> s.key).toList()),
                "  --quick            smoke check: 1 run of 0.3 s per cell after 2 s of warm-up at most, 200 idle",
                "                     connections",
                "  --runs=N           measured runs per client and scenario (default 3)",
                "  --seconds=S        least length of a measured run (default 2)",
                "  --idle=N           connections held in the ws idle scenario (default 5000)",
                "  --idle-wss=N       connections held in the wss idle scenario (default 5000, as for ws: with fewer,",
                "                     the process's fixed growth, JIT and malloc arenas, weighs on each connection)",
                "  --clients=a,b      " + String.join(", ", PEERS.keySet()) + " (default all)",
                "  --wscrt-b=LIB      also measure wscrt with this libwscrt-jni.so (client wscrt-b: before/after)",
                "  --no-pin           do not pin the server and the clients to separate CPUs",
                "  --out=FILE         report file (default target/bench/report.md)");
    }

    public static void main(String[] args) throws Exception {
        Config config;
        try {
            config = parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.err.println(usage());
            System.exit(64);
            return;
        }
        if (config == null) {
            System.out.println(usage());
            return;
        }
        System.exit(run(config));
    }

    static Config parse(String[] args) {
        Config c = new Config();
        List<Scenario> picked = new ArrayList<>();
        Integer runs = null;
        Double seconds = null;
        Integer idle = null;
        Integer idleWss = null;
        for (String a : args) {
            if (a.equals("-h") || a.equals("--help")) {
                return null;
            } else if (a.equals("--quick")) {
                c.quick = true;
            } else if (a.startsWith("--runs=")) {
                runs = Integer.parseInt(a.substring(7));
                if (runs < 1 || runs > 20) {
                    throw new IllegalArgumentException("--runs must be 1..20");
                }
            } else if (a.startsWith("--seconds=")) {
                seconds = Double.parseDouble(a.substring(10));
                if (!(seconds > 0) || seconds > 60) {
                    throw new IllegalArgumentException("--seconds must be in (0, 60]");
                }
            } else if (a.startsWith("--idle=")) {
                idle = Integer.parseInt(a.substring(7));
                if (idle < 1 || idle > 10_000) {
                    throw new IllegalArgumentException("--idle must be 1..10000");
                }
            } else if (a.startsWith("--idle-wss=")) {
                idleWss = Integer.parseInt(a.substring(11));
                if (idleWss < 1 || idleWss > 10_000) {
                    throw new IllegalArgumentException("--idle-wss must be 1..10000");
                }
            } else if (a.startsWith("--clients=")) {
                List<String> list = new ArrayList<>();
                for (String name : a.substring(10).split(",")) {
                    String n = name.trim().toLowerCase(Locale.ROOT);
                    if (!PEERS.containsKey(n)) {
                        throw new IllegalArgumentException("unknown client '" + name + "' (" + PEERS.keySet() + ")");
                    }
                    list.add(n);
                }
                c.peers = new ArrayList<>(list);
            } else if (a.startsWith("--wscrt-b=")) {
                c.wscrtB = Path.of(a.substring(10)).toAbsolutePath();
            } else if (a.equals("--no-pin")) {
                c.pin = false;
            } else if (a.startsWith("--out=")) {
                c.out = Path.of(a.substring(6));
            } else if (a.startsWith("-")) {
                throw new IllegalArgumentException("unknown option " + a);
            } else {
                for (String key : a.split(",")) {
                    if (!key.isBlank()) {
                        picked.add(Scenario.of(key.trim()));
                    }
                }
            }
        }
        if (!picked.isEmpty()) {
            c.scenarios = picked;
        }
        if (c.wscrtB != null) {
            PEERS.put("wscrt-b", "wscrt frames (B)");
            if (!c.peers.contains("wscrt-b")) {
                c.peers.add(c.peers.indexOf("wscrt") + 1, "wscrt-b");
            }
        }
        c.runs = runs != null ? runs : c.quick ? 1 : c.runs;
        c.seconds = seconds != null ? seconds : c.quick ? 0.3 : c.seconds;
        c.maxWarmupSeconds = c.quick ? 2 : c.maxWarmupSeconds;
        c.idle = idle != null ? idle : c.quick ? 200 : c.idle;
        c.idleWss = idleWss != null ? idleWss : c.quick ? 100 : c.idleWss;
        String opts = System.getProperty("bench.workerOpts");
        if (opts != null && !opts.isBlank()) {
            c.workerJvm = List.of(opts.trim().split("\\s+"));
        }
        return c;
    }

    static int run(Config config) throws Exception {
        long started = System.nanoTime();
        Environment env = Environment.atStart(config);
        Path tls = Path.of("target", "bench", "tls").toAbsolutePath();
        Files.createDirectories(tls);
        TestCertificates certs = TestCertificates.get();
        Path ca = tls.resolve("ca.pem");
        Files.writeString(ca, certs.ca().certificatePem());
        Files.writeString(tls.resolve("server.pem"), certs.server().certificatePem());
        Files.writeString(tls.resolve("server.key"), certs.server().privateKeyPem());

        int cpus = Runtime.getRuntime().availableProcessors();
        boolean pin = config.pin && cpus >= 2;
        String serverCpu = pin ? Integer.toString(cpus - 1) : null;
        String clientCpus = pin ? (cpus == 2 ? "0" : "0-" + (cpus - 2)) : null;
        if (pin) {
            pinSelf(clientCpus);
        }
        env.serverCpu = pin ? cpus - 1 : -1;
        env.pinning = pin ? "server on CPU " + serverCpu + ", clients (and this coordinator) on CPU " + clientCpus
                : "none (" + (config.pin ? "fewer than 2 CPUs" : "--no-pin") + ")";
        env.cipherCeiling = CipherCeiling.NONE;

        Map<Scenario, Map<String, Cell>> results = new LinkedHashMap<>();
        try (LoadServerProcess server = LoadServerProcess.start(List.of("-Xms512m", "-Xmx512m"),
                List.of("--threads=1", "--backlog=8192", "--raw", "--tls-cert=" + tls.resolve("server.pem"),
                        "--tls-key=" + tls.resolve("server.key")), serverCpu)) {
            env.server = server.description();
            env.dataTls = server.dataTlsProvider();
            System.err.printf("bench server: %s, ws %d, wss %d, wss throughput %d (%s), raw %d; %s%n", env.server,
                    server.port(), server.tlsPort(TlsPort.FULL), server.tlsPort(TlsPort.DATA), env.dataTls,
                    server.rawPort(), env.pinning);
            for (Scenario s : config.scenarios) {
                Map<String, Cell> cells = new LinkedHashMap<>();
                results.put(s, cells);
                List<String> names = new ArrayList<>(config.peers);
                if (s.hasSocketLimit()) {
                    names.add("sockets");
                }
                names.removeIf(peer -> peer.equals("wscrt-poll") && s.kind != Scenario.Kind.ECHO); // latency option
                if (!config.quick && !names.isEmpty()) {
                    // Unmeasured: the server's JIT compiles this scenario's path now, not during the first
                    // measured client's cell (connect: 5.2k, 9.7k, 11.4k conn/s over that client's three runs).
                    worker(config, s, names.get(0), server, ca, clientCpus, config.runs);
                }
                if (s.kind == Scenario.Kind.ECHO) {
                    echoInTurns(config, s, names, cells, server, ca, clientCpus);
                    continue;
                }
                for (String peer : names) {
                    Cell cell = cell(config, s, peer, server, ca, clientCpus);
                    cells.put(peer, cell);
                    if (s.tls && s.hasCipherLimit() && env.cipher == null && !cell.runs.isEmpty()) {
                        // The ceiling is the cipher the throughput port negotiated, measured between cells.
                        env.cipher = server.cipher();
                        env.cipherCeiling = CipherCeiling.measure(clientCpus, config.quick ? 1 : 3, env.cipher);
                    }
                }
            }
            env.serverErrors = server.errors();
        }
        env.seconds = (System.nanoTime() - started) / 1e9;
        env.loadAtEnd = Environment.loadAverage();
        String report = Report.render(config, env, results);
        System.out.println(report);
        Path out = config.out.toAbsolutePath();
        Files.createDirectories(out.getParent());
        Files.writeString(out, report, StandardCharsets.UTF_8);
        System.err.println("report written to " + out);
        boolean allOk = results.values().stream().flatMap(m -> m.values().stream())
                .allMatch(c -> c.failures.isEmpty() && !c.runs.isEmpty());
        return allOk ? 0 : 2;
    }

    /**
     * Echo cells: the clients take turns, one measured run each per round in a JVM of its own, for as many rounds
     * as runs are asked for. Round-trip latency is the figure the machine's load of the moment moves most, so a
     * busy minute then falls on every client rather than on one.
     */
    private static void echoInTurns(Config config, Scenario s, List<String> names, Map<String, Cell> cells,
                                    LoadServerProcess server, Path ca, String cpus)
            throws IOException, InterruptedException {
        for (String peer : names) {
            cells.put(peer, new Cell());
        }
        for (int round = 0; round < config.runs; round++) {
            for (String peer : names) {
                Cell cell = cells.get(peer);
                if (cell.failures.isEmpty()) {
                    cell.add(worker(config, s, peer, server, ca, cpus, 1));
                }
            }
        }
    }

    /**
     * The idle cells' JVMs touch their whole heap at start: otherwise the RSS a connection seems to add
     * includes the Eden pages first touched by the garbage of opening it, which a running service has long
     * touched (that garbage is reported on its own row, as Java bytes allocated per connection opened).
     */
    static final String IDLE_WORKER_OPTION = "-XX:+AlwaysPreTouch";

    /**
     * One client library's cell of one scenario: a worker JVM that makes every measured run, or for the idle
     * scenarios a fresh worker JVM per measured run. An idle run measures what holding the connections adds to a
     * process that never held that many, which a second run in the same JVM cannot (the allocators keep and reuse
     * what the first run's connections freed), so each run needs a process of its own.
     */
    private static Cell cell(Config config, Scenario s, String peer, LoadServerProcess server, Path ca,
                             String cpus) throws IOException, InterruptedException {
        if (s.kind != Scenario.Kind.IDLE) {
            return worker(config, s, peer, server, ca, cpus, config.runs);
        }
        Cell cell = new Cell();
        for (int i = 0; i < config.runs && cell.failures.isEmpty(); i++) {
            cell.add(worker(config, s, peer, server, ca, cpus, 1));
        }
        return cell;
    }

    /**
     * Runs one client library in one scenario in a JVM of its own (its warm-up, then {@code runs} measured
     * runs) and collects what it prints.
     */
    private static Cell worker(Config config, Scenario s, String peer, LoadServerProcess server, Path ca,
                               String cpus, int runs) throws IOException, InterruptedException {
        Cell cell = new Cell();
        cell.loadAtStart = Environment.loadAverage().split(" ")[0];
        List<String> cmd = new ArrayList<>();
        if (cpus != null) {
            cmd.addAll(List.of("taskset", "-c", cpus));
        }
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(config.workerJvm);
        if (s.kind == Scenario.Kind.IDLE) {
            cmd.add(IDLE_WORKER_OPTION);
        }
        if (peer.equals("wscrt-b")) {
            cmd.add("-Dwscrt.lib.path=" + config.wscrtB);
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), BenchWorker.class.getName(),
                "--peer=" + peer, "--scenario=" + s.key, "--ws=" + server.port(),
                "--wss=" + server.tlsPort(s.tlsPort()),
                "--raw=" + server.rawPort(), "--ca=" + ca, "--runs=" + runs,
                "--seconds=" + config.seconds, "--max-warmup=" + config.maxWarmupSeconds,
                "--idle=" + config.idle, "--idle-wss=" + config.idleWss));
        long t0 = System.nanoTime();
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        // A reader thread, so that the wait below is bounded even if the worker hangs without output.
        List<String> lines = java.util.Collections.synchronizedList(new ArrayList<>());
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(),
                    StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    lines.add(line);
                    System.err.printf("  %-22s %-15s %s%n", s.key, peer, line);
                }
            } catch (IOException e) {
                // the worker is gone
            }
        });
        reader.setDaemon(true);
        reader.start();
        long limitSeconds = (long) (120 + (runs + 1) * Math.max(30, 10 * config.seconds)
                + (s.kind == Scenario.Kind.IDLE ? 600 : 0));
        if (!p.waitFor(limitSeconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            cell.failures.add("the client process did not finish within " + limitSeconds + " s");
        }
        reader.join(5_000);
        cell.wallSeconds = (System.nanoTime() - t0) / 1e9;
        synchronized (lines) {
            for (String line : lines) {
                if (line.startsWith("RESULT ")) {
                    cell.runs.add(fields(line.substring(7)));
                } else if (line.startsWith("FAILED ")) {
                    cell.failures.add(line.substring(7));
                } else if (line.startsWith("INFO warmupSeconds=")) {
                    Map<String, Double> w = fields(line.substring(5));
                    cell.warmUps.add(new double[] {w.get("warmupSeconds"), w.get("warmupJitShare")});
                } else if (line.startsWith("INFO ")) {
                    for (String f : line.substring(5).split(" ")) {
                        int eq = f.indexOf('=');
                        cell.info.put(f.substring(0, eq), f.substring(eq + 1));
                    }
                }
            }
        }
        if (p.exitValue() != 0 && cell.failures.isEmpty()) {
            cell.failures.add("the client process exited with status " + p.exitValue());
        }
        return cell;
    }

    private static Map<String, Double> fields(String text) {
        Map<String, Double> m = new LinkedHashMap<>();
        for (String f : text.trim().split(" ")) {
            int eq = f.indexOf('=');
            try {
                m.put(f.substring(0, eq), Double.parseDouble(f.substring(eq + 1)));
            } catch (NumberFormatException e) {
                // INFO text values are kept as strings by the caller
            }
        }
        return m;
    }

    /** Restricts every thread of this process to {@code cpuList} (threads made later inherit it). */
    private static void pinSelf(String cpuList) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("taskset", "-a", "-p", "-c", cpuList, Long.toString(ProcessHandle.current().pid()))
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IOException("taskset could not pin this process to CPUs " + cpuList);
        }
    }
}
