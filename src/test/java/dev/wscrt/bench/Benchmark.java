package dev.wscrt.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * wscrt against the JDK's {@code java.net.http.WebSocket}, in one run, against the same local
 * {@link BenchServer}. Not a unit test: run it with {@code scripts/bench.sh} (see {@link #usage()}).
 *
 * <p>Each scenario runs, per client, one unrecorded warm-up run and then {@code --runs}
 * measured runs, alternating between the clients; the table shows the median of the measured runs.
 * Every run is bounded by its message count and by {@code --time-limit} seconds.
 */
public final class Benchmark {

    enum Scenario {
        RECV64("recv64", "receive 64 B messages", 64, 2_000_000),
        RECV1M("recv1m", "receive 1 MiB messages", 1024 * 1024, 2_000),
        SEND64K("send64k", "send 64 KiB messages", 64 * 1024, 20_000),
        ECHO("echo", "32 B echo round trip", 32, 20_000);

        final String key;
        final String title;
        final int size;
        final long count;

        Scenario(String key, String title, int size, long count) {
            this.key = key;
            this.title = title;
            this.size = size;
            this.count = count;
        }

        static Scenario of(String key) {
            for (Scenario s : values()) {
                if (s.key.equalsIgnoreCase(key)) {
                    return s;
                }
            }
            throw new IllegalArgumentException("unknown scenario '" + key + "' (recv64, recv1m, send64k, echo)");
        }
    }

    /** Round trips done on each echo connection before the measured ones. */
    static final int ECHO_WARMUP = 2_000;

    private static String loadAtStart = "unknown";

    private static final class Config {
        Set<Scenario> scenarios = EnumSet.allOf(Scenario.class);
        List<String> clients = List.of("wscrt", "jdk");
        int runs = 5;
        double scale = 1.0;
        long timeLimitSeconds = 10;
        boolean epoll = true;
        boolean inProcess;
        boolean pin;
        boolean quick;
        Path out = Path.of("target", "bench", "report.md");
    }

    /** Results of one client in one scenario. */
    private static final class Series {
        final List<BenchClient.Run> runs = new ArrayList<>();
        final List<String> failures = new ArrayList<>();
        /** Set after a timeout or a second failure: no more runs of this client in this scenario. */
        boolean stopped;
        /** Runs (warm-up included) that hit the time limit; after one, a single measured run is enough. */
        int timeLimited;

        boolean wantsMoreRuns() {
            return !stopped && (timeLimited == 0 || runs.isEmpty());
        }

        void failed(String what, BenchClient.Run r) {
            failures.add(what + ": " + r.problem());
            if (r.problem().contains("timed out") || failures.size() >= 2) {
                stopped = true;
            }
        }
    }

    private Benchmark() {
    }

    static String usage() {
        return String.join("\n",
                "usage: scripts/bench.sh [options] [scenario...]",
                "  scenarios: recv64 recv1m send64k echo (default: all)",
                "  --quick            about 30 s: counts x0.25, 2 measured runs",
                "  --runs=N           measured runs per client and scenario (default 5)",
                "  --scale=F          multiply message counts by F (default 1)",
                "  --time-limit=S     seconds one run may take before it is abandoned (default 10)",
                "  --clients=a,b      wscrt, jdk (default both)",
                "  --no-epoll         use Netty NIO for the server even if epoll is available",
                "  --in-process       run the server in this JVM instead of a child JVM",
                "  --pin              pin the server process to the last CPU and this process to the others",
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
        int exit = run(config);
        System.exit(exit);
    }

    private static Config parse(String[] args) {
        Config c = new Config();
        List<Scenario> picked = new ArrayList<>();
        boolean runsGiven = false;
        boolean scaleGiven = false;
        for (String a : args) {
            if (a.equals("-h") || a.equals("--help")) {
                return null;
            } else if (a.equals("--quick")) {
                c.quick = true;
            } else if (a.startsWith("--runs=")) {
                c.runs = Integer.parseInt(a.substring(7));
                runsGiven = true;
                if (c.runs < 1 || c.runs > 50) {
                    throw new IllegalArgumentException("--runs must be 1..50");
                }
            } else if (a.startsWith("--scale=")) {
                c.scale = Double.parseDouble(a.substring(8));
                scaleGiven = true;
                if (!(c.scale > 0) || c.scale > 100) {
                    throw new IllegalArgumentException("--scale must be in (0, 100]");
                }
            } else if (a.startsWith("--time-limit=")) {
                c.timeLimitSeconds = Long.parseLong(a.substring(13));
                if (c.timeLimitSeconds < 1 || c.timeLimitSeconds > 600) {
                    throw new IllegalArgumentException("--time-limit must be 1..600 seconds");
                }
            } else if (a.startsWith("--clients=")) {
                List<String> list = new ArrayList<>();
                for (String name : a.substring(10).split(",")) {
                    String n = name.trim().toLowerCase(Locale.ROOT);
                    if (!n.equals("wscrt") && !n.equals("jdk")) {
                        throw new IllegalArgumentException("unknown client '" + name + "' (wscrt, jdk)");
                    }
                    if (!list.contains(n)) {
                        list.add(n);
                    }
                }
                c.clients = List.copyOf(list);
            } else if (a.equals("--no-epoll")) {
                c.epoll = false;
            } else if (a.equals("--in-process")) {
                c.inProcess = true;
            } else if (a.equals("--pin")) {
                c.pin = true;
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
            c.scenarios = EnumSet.copyOf(picked);
        }
        if (c.pin && c.inProcess) {
            throw new IllegalArgumentException("--pin needs the server in its own process (no --in-process)");
        }
        if (c.quick) {
            if (!scaleGiven) {
                c.scale = 0.25;
            }
            if (!runsGiven) {
                c.runs = 2;
            }
        }
        return c;
    }

    private static long scaled(long count, double scale) {
        return Math.max(1, Math.round(count * scale));
    }

    private static int run(Config config) throws Exception {
        loadAtStart = loadAverage();
        Map<String, BenchClient> clients = new LinkedHashMap<>();
        Map<String, String> unavailable = new LinkedHashMap<>();
        for (String name : config.clients) {
            if (name.equals("wscrt")) {
                try {
                    dev.wscrt.Crt.load();
                    clients.put("wscrt", new WscrtClient());
                } catch (Throwable t) {
                    unavailable.put("wscrt", "native library did not load: " + t);
                }
            } else {
                clients.put("JDK", new JdkClient());
            }
        }
        Map<Scenario, Map<String, Series>> results = new LinkedHashMap<>();
        String transport;
        long started = System.nanoTime();
        try (Server server = config.inProcess ? Server.inProcess(config.epoll) : Server.childProcess(config)) {
            transport = server.description();
            System.err.printf("bench server: %s on 127.0.0.1:%d; clients: %s; runs: %d; scale: %s%n",
                    transport, server.port(), clients.keySet(), config.runs, config.scale);
            for (Scenario s : config.scenarios) {
                Map<String, Series> perClient = new LinkedHashMap<>();
                for (String name : clients.keySet()) {
                    perClient.put(name, new Series());
                }
                results.put(s, perClient);
                runScenario(config, s, server.port(), clients, perClient);
            }
        } finally {
            for (BenchClient c : clients.values()) {
                c.close();
            }
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        String report = report(config, results, unavailable, transport, seconds);
        System.out.println(report);
        try {
            Path out = config.out.toAbsolutePath();
            Files.createDirectories(out.getParent());
            Files.writeString(out, report, StandardCharsets.UTF_8);
            System.err.println("report written to " + out);
        } catch (IOException e) {
            System.err.println("could not write " + config.out + ": " + e);
        }
        boolean allOk = unavailable.isEmpty() && results.values().stream()
                .flatMap(m -> m.values().stream()).allMatch(x -> x.failures.isEmpty());
        return allOk ? 0 : 2;
    }

    private static void runScenario(Config config, Scenario s, int port, Map<String, BenchClient> clients,
                                    Map<String, Series> perClient) {
        long count = scaled(s.count, config.scale);
        long timeout = TimeUnit.SECONDS.toNanos(config.timeLimitSeconds);
        System.err.printf("%s: %,d messages%s%n", s.title, count,
                s == Scenario.ECHO ? " after " + scaled(ECHO_WARMUP, Math.min(1, config.scale)) + " warm-up" : "");
        // Warm-up: one unrecorded run per client.
        for (Map.Entry<String, BenchClient> e : clients.entrySet()) {
            Series series = perClient.get(e.getKey());
            BenchClient.Run r = once(e.getValue(), s, port, count, timeout, config.scale);
            System.err.printf("  %-5s warm-up   %s%n", e.getKey(), describe(s, r));
            if (!r.ok()) {
                series.failed("warm-up", r);
            } else if (r.timeLimited()) {
                series.timeLimited++;
            }
        }
        // Measured runs, alternating between the clients. A failed run is reported and left out of the
        // median; after a timeout or a second failure the client's remaining runs are skipped.
        for (int i = 0; i < config.runs; i++) {
            for (Map.Entry<String, BenchClient> e : clients.entrySet()) {
                Series series = perClient.get(e.getKey());
                if (!series.wantsMoreRuns()) {
                    continue;
                }
                System.gc();
                BenchClient.Run r = once(e.getValue(), s, port, count, timeout, config.scale);
                System.err.printf("  %-5s run %d/%d   %s%n", e.getKey(), i + 1, config.runs, describe(s, r));
                if (r.ok()) {
                    series.runs.add(r);
                    if (r.timeLimited()) {
                        series.timeLimited++;
                    }
                } else {
                    series.failed("run " + (i + 1), r);
                }
            }
        }
    }

    private static BenchClient.Run once(BenchClient client, Scenario s, int port, long count, long timeout,
                                        double scale) {
        try {
            return switch (s) {
                case RECV64, RECV1M -> client.receive(port, s.size, count, timeout);
                case SEND64K -> client.send(port, s.size, count, timeout);
                case ECHO -> client.echo(port, s.size, (int) scaled(ECHO_WARMUP, Math.min(1, scale)),
                        (int) count, timeout);
            };
        } catch (Throwable t) {
            return new BenchClient.Run(0, 0, 0, null, "exception: " + describe(t));
        }
    }

    /** A throwable with its causes and their first stack frames, for the report. */
    static String describe(Throwable t) {
        if (t == null) {
            return "null";
        }
        StringBuilder sb = new StringBuilder();
        int depth = 0;
        for (Throwable x = t; x != null && depth < 5; x = x.getCause(), depth++) {
            if (depth > 0) {
                sb.append("\n  caused by: ");
            }
            sb.append(x);
            StackTraceElement[] stack = x.getStackTrace();
            for (int i = 0; i < Math.min(12, stack.length); i++) {
                sb.append("\n        at ").append(stack[i]);
            }
        }
        return sb.toString();
    }

    // ---- the server -----------------------------------------------------------------------------------

    /** The bench server, in this JVM or (default) in a child JVM so that client GC does not stop it. */
    private interface Server extends AutoCloseable {
        int port();

        String description();

        @Override
        void close();

        static Server inProcess(boolean epoll) {
            BenchServer server = BenchServer.start(epoll);
            return new Server() {
                @Override
                public int port() {
                    return server.port();
                }

                @Override
                public String description() {
                    return "Netty " + server.transport() + " in the benchmark's JVM";
                }

                @Override
                public void close() {
                    server.close();
                }
            };
        }

        static Server childProcess(Config config) throws IOException, InterruptedException {
            int cpus = Runtime.getRuntime().availableProcessors();
            List<String> cmd = new ArrayList<>();
            String where = "";
            if (config.pin) {
                if (cpus < 2) {
                    throw new IllegalStateException("--pin needs at least 2 CPUs");
                }
                cmd.addAll(List.of("taskset", "-c", Integer.toString(cpus - 1)));
                pinSelf("0-" + (cpus - 2));
                where = ", pinned to CPU " + (cpus - 1);
            }
            cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            cmd.addAll(List.of("-Xms512m", "-Xmx512m", "-cp", System.getProperty("java.class.path"),
                    BenchServer.class.getName()));
            if (!config.epoll) {
                cmd.add("--no-epoll");
            }
            Process process = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            BufferedReader out = new BufferedReader(
                    new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
            CompletableFuture<String> firstLine = CompletableFuture.supplyAsync(() -> {
                try {
                    return out.readLine();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            String line;
            try {
                line = firstLine.get(30, TimeUnit.SECONDS);
            } catch (ExecutionException | TimeoutException e) {
                process.destroyForcibly();
                throw new IOException("the server process did not report its port: " + e, e);
            }
            String[] parts = line == null ? new String[0] : line.trim().split(" ");
            if (parts.length != 3 || !parts[0].equals("PORT")) {
                process.destroyForcibly();
                throw new IOException("the server process said '" + line + "' instead of 'PORT <port> <transport>'");
            }
            int port = Integer.parseInt(parts[1]);
            String description = "Netty " + parts[2] + " in a child JVM (pid " + process.pid() + where + ")";
            return new Server() {
                @Override
                public int port() {
                    return port;
                }

                @Override
                public String description() {
                    return description;
                }

                @Override
                public void close() {
                    try {
                        process.getOutputStream().close();
                        if (!process.waitFor(15, TimeUnit.SECONDS)) {
                            process.destroyForcibly();
                        }
                    } catch (IOException e) {
                        process.destroyForcibly();
                    } catch (InterruptedException e) {
                        process.destroyForcibly();
                        Thread.currentThread().interrupt();
                    }
                }
            };
        }

        /** Restricts every thread of this process to {@code cpuList} (threads made later inherit it). */
        private static void pinSelf(String cpuList) throws IOException, InterruptedException {
            Process p = new ProcessBuilder("taskset", "-a", "-p", "-c", cpuList,
                    Long.toString(ProcessHandle.current().pid()))
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
                p.destroyForcibly();
                throw new IOException("taskset could not pin this process to CPUs " + cpuList);
            }
        }
    }

    // ---- metrics ---------------------------------------------------------------------------------------

    /** The value shown for a run: msgs/s, bytes/s, or (echo) p50 in ns. */
    private static double metric(Scenario s, BenchClient.Run r, int percentile) {
        return switch (s) {
            case RECV64 -> r.messagesPerSecond();
            case RECV1M, SEND64K -> r.bytesPerSecond();
            case ECHO -> percentile(r.latencies(), percentile);
        };
    }

    static double percentile(long[] values, int p) {
        long[] sorted = values.clone();
        Arrays.sort(sorted);
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }

    private static double median(List<Double> values) {
        double[] v = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        int n = v.length;
        return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    }

    private static Double medianMetric(Scenario s, Series series, int percentile) {
        if (series == null || series.runs.isEmpty()) {
            return null;
        }
        List<Double> values = new ArrayList<>();
        for (BenchClient.Run r : series.runs) {
            values.add(metric(s, r, percentile));
        }
        return median(values);
    }

    private static String format(Scenario s, double value) {
        return switch (s) {
            case RECV64 -> String.format(Locale.ROOT, "%.2f M msgs/s", value / 1e6);
            case RECV1M, SEND64K -> String.format(Locale.ROOT, "%.2f GB/s", value / 1e9);
            case ECHO -> String.format(Locale.ROOT, "%.1f µs", value / 1e3);
        };
    }

    private static String describe(Scenario s, BenchClient.Run r) {
        if (!r.ok()) {
            return "FAILED: " + r.problem();
        }
        String limited = r.timeLimited() ? " [time limit reached]" : "";
        if (s == Scenario.ECHO) {
            return String.format(Locale.ROOT, "%,d round trips in %.2f s: p50 %.1f µs, p99 %.1f µs%s",
                    r.messages(), r.elapsedNanos() / 1e9, percentile(r.latencies(), 50) / 1e3,
                    percentile(r.latencies(), 99) / 1e3, limited);
        }
        return String.format(Locale.ROOT, "%,d msgs, %,d bytes in %.3f s: %.2f M msgs/s, %.2f GB/s%s",
                r.messages(), r.bytes(), r.elapsedNanos() / 1e9, r.messagesPerSecond() / 1e6,
                r.bytesPerSecond() / 1e9, limited);
    }

    // ---- report ----------------------------------------------------------------------------------------

    private static String report(Config config, Map<Scenario, Map<String, Series>> results,
                                 Map<String, String> unavailable, String transport, double seconds) {
        StringBuilder sb = new StringBuilder();
        sb.append("# wscrt benchmark\n\n");
        sb.append("| scenario | wscrt | JDK | ratio |\n");
        sb.append("|---|---:|---:|---:|\n");
        for (Map.Entry<Scenario, Map<String, Series>> e : results.entrySet()) {
            Scenario s = e.getKey();
            long count = scaled(s.count, config.scale);
            if (s == Scenario.ECHO) {
                for (int p : new int[] {50, 99}) {
                    row(sb, s, String.format(Locale.ROOT, "%s p%d (%,d round trips)", s.title, p, count),
                            e.getValue(), unavailable, p, true);
                }
            } else {
                row(sb, s, String.format(Locale.ROOT, "%s (%,d)", s.title, count), e.getValue(), unavailable, 0,
                        false);
            }
        }
        sb.append("\nratio: wscrt / JDK for throughput, JDK / wscrt for latency, so > 1 means wscrt is better. ")
                .append("Median of ").append(config.runs).append(" measured run(s) after one warm-up run per ")
                .append("client; GB = 10^9 bytes.\n");

        sb.append("\n## Environment\n\n");
        Runtime rt = Runtime.getRuntime();
        sb.append("- Java: ").append(System.getProperty("java.vm.name")).append(' ')
                .append(System.getProperty("java.runtime.version", System.getProperty("java.version")))
                .append(" (").append(System.getProperty("java.vendor")).append(")\n");
        sb.append("- JVM options: ").append(String.join(" ", ManagementFactory.getRuntimeMXBean().getInputArguments()))
                .append('\n');
        sb.append("- OS: ").append(System.getProperty("os.name")).append(' ').append(System.getProperty("os.version"))
                .append(' ').append(System.getProperty("os.arch")).append('\n');
        sb.append("- CPU: ").append(cpuModel()).append(", ").append(rt.availableProcessors())
                .append(" available processors\n");
        sb.append("- wscrt native: ").append(wscrtVersion(config, unavailable)).append('\n');
        sb.append("- Server: ").append(transport).append(", one event-loop thread, 127.0.0.1")
                .append(config.pin ? "; client process pinned to the other CPUs" : "").append('\n');
        sb.append("- Load average (1/5/15 min): ").append(loadAtStart).append(" at the start, ")
                .append(loadAverage()).append(" at the end")
                .append(" (other work on the machine skews the figures)\n");
        sb.append("- Date: ").append(ZonedDateTime.now().format(DateTimeFormatter.RFC_1123_DATE_TIME))
                .append("; whole run ").append(String.format(Locale.ROOT, "%.1f s", seconds)).append('\n');

        sb.append("\n## Method\n\n");
        sb.append("- receive: the server sends N pre-encoded BINARY frames as fast as its channel is writable, ")
                .append("then TEXT \"done\"; time from the client's open callback to \"done\"; every payload ")
                .append("byte is counted by the client.\n");
        sb.append("- send: the client sends N BINARY frames from one direct ByteBuffer (wscrt: at most ")
                .append(WscrtClient.SEND_IN_FLIGHT).append(" frames in flight; JDK: one outstanding send, as ")
                .append("its API requires), then TEXT \"stats\"; time until the server's answer shows it ")
                .append("has counted every byte.\n");
        sb.append("- echo: sequential round trips on one connection, ")
                .append(scaled(ECHO_WARMUP, Math.min(1, config.scale)))
                .append(" unmeasured first; each next message is sent from the callback that received the ")
                .append("previous echo; percentiles by nearest rank.\n");

        sb.append("\n## Runs\n\n");
        for (Map.Entry<Scenario, Map<String, Series>> e : results.entrySet()) {
            Scenario s = e.getKey();
            for (Map.Entry<String, Series> c : e.getValue().entrySet()) {
                sb.append("- ").append(s.key).append(' ').append(c.getKey()).append(": ");
                List<String> parts = new ArrayList<>();
                for (BenchClient.Run r : c.getValue().runs) {
                    parts.add((s == Scenario.ECHO
                            ? format(s, percentile(r.latencies(), 50)) + " / " + format(s, percentile(r.latencies(), 99))
                            : format(s, metric(s, r, 0)))
                            + (r.timeLimited() ? String.format(Locale.ROOT, " (time limit reached after %,d)",
                            r.messages()) : ""));
                }
                sb.append(parts.isEmpty() ? "none" : String.join(", ", parts));
                for (String failure : c.getValue().failures) {
                    sb.append("\n  - **failed** ").append(failure.replace("\n", "\n    "));
                }
                if (c.getValue().stopped) {
                    sb.append("\n  - remaining runs skipped");
                }
                sb.append('\n');
            }
        }
        for (Map.Entry<String, String> u : unavailable.entrySet()) {
            sb.append("- ").append(u.getKey()).append(" not run: ").append(u.getValue()).append('\n');
        }
        return sb.toString();
    }

    private static void row(StringBuilder sb, Scenario s, String title, Map<String, Series> series,
                            Map<String, String> unavailable, int percentile, boolean lowerIsBetter) {
        Double w = medianMetric(s, series.get("wscrt"), percentile);
        Double j = medianMetric(s, series.get("JDK"), percentile);
        sb.append("| ").append(title).append(" | ")
                .append(cell(s, w, series.get("wscrt"), unavailable.containsKey("wscrt"))).append(" | ")
                .append(cell(s, j, series.get("JDK"), false)).append(" | ");
        if (w != null && j != null && w > 0 && j > 0) {
            double ratio = lowerIsBetter ? j / w : w / j;
            sb.append(String.format(Locale.ROOT, "%.2f×", ratio));
        } else {
            sb.append("—");
        }
        sb.append(" |\n");
    }

    private static String cell(Scenario s, Double value, Series series, boolean unavailable) {
        if (value != null) {
            int failed = series.failures.size();
            return format(s, value) + (failed > 0 ? " (" + failed + " run" + (failed > 1 ? "s" : "")
                    + " failed, see Runs)" : "") + (series.timeLimited > 0 ? " (time limit reached)" : "");
        }
        if (unavailable) {
            return "unavailable";
        }
        if (series == null) {
            return "not run";
        }
        return series.failures.isEmpty() ? "—" : "FAILED (see Runs)";
    }

    private static String loadAverage() {
        try {
            String[] parts = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return parts[0] + " " + parts[1] + " " + parts[2];
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }

    private static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).trim();
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux, or not readable
        }
        return System.getProperty("os.arch");
    }

    private static String wscrtVersion(Config config, Map<String, String> unavailable) {
        if (!config.clients.contains("wscrt")) {
            return "not used";
        }
        if (unavailable.containsKey("wscrt")) {
            return "not loaded";
        }
        try {
            return dev.wscrt.Crt.version();
        } catch (Throwable t) {
            return "unknown (" + t + ")";
        }
    }
}
