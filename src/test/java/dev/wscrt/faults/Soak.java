package dev.wscrt.faults;

import dev.wscrt.http.HttpProxyOptions;
import dev.wscrt.io.TlsConnectionOptions;
import dev.wscrt.io.TlsContext;
import dev.wscrt.io.TlsContextOptions;
import dev.wscrt.proxy.TinyProxy;
import dev.wscrt.testing.ClientResources;
import dev.wscrt.testing.Hex;
import dev.wscrt.testing.NativeMemory;
import dev.wscrt.tls.TestCertificates;
import dev.wscrt.websocket.OnConnectionSetupData;
import dev.wscrt.websocket.Opcode;
import dev.wscrt.websocket.WebSocket;
import dev.wscrt.websocket.WebSocketConnectOptions;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.CRC32;
import javax.net.ssl.SSLContext;

/**
 * The long soak (issue 16): for a given number of minutes, worker threads run sessions of mixed traffic
 * against a Netty echo server in a child JVM ({@link SoakServer}) and tinyproxy, with faults injected at
 * random, and once a minute the workers pause, native memory settles, and the run samples native bytes,
 * RSS, threads and descriptors. At the end: the slope of each per minute (least squares), exact callback
 * counts, and the errors seen, split into the injected ones and anything else.
 *
 * <p>A session is one connection, chosen at random:
 * <ul>
 *   <li>traffic (60%): ws, wss, ws through tinyproxy or wss through tinyproxy; 1 to 12 messages, small
 *       (TEXT, up to 2 KiB) or large (BINARY, 64 KiB to 2 MiB), each echo checked (length, CRC-32, order);
 *       a quarter with a manual read window opened 64 KiB at a time with pauses; a fifth closed by the
 *       client right after sending (echoes still in flight), the rest after all echoes;</li>
 *   <li>a fault (40%), each with the one error it must produce: refused port, silent server (handshake
 *       timeout 300 ms), garbage instead of HTTP, RST in the middle of a payload, bytes that are not a
 *       ServerHello, a proxy answering 407, TCP FIN without close_notify in the middle of a message, a
 *       callback that throws.</li>
 * </ul>
 *
 * Usage: {@code Soak --minutes M [--sessions S] [--out DIR]}; writes {@code DIR/report.md}; exits 0 when every
 * check held, 1 otherwise.
 */
public final class Soak {

    /** How long a session waits for a callback or its echoes. */
    static final long SESSION_WAIT_MS = 60_000;
    private static final int KIB = 1024;

    private final SplittableRandom seeds = new SplittableRandom(20261204L);
    private final SoakTally tally = new SoakTally();
    private final AtomicInteger busy = new AtomicInteger();
    private volatile boolean paused;
    private volatile boolean stopped;

    private ClientResources client;
    private TlsContext tls;      // trusts the soak server's CA (made in its JVM)
    private TlsContext localTls; // trusts this JVM's test CA, for the scripted TLS peers
    private TinyProxy proxy;
    private int wsPort;
    private int wssPort;
    private SSLContext peerTls;
    private SoakFaults faults;

    /** One sample, taken with the workers paused and native memory settled. */
    record Sample(int minute, long sessions, long nativeBytes, long allocations, long rss, long threads, long fds) {
    }

    public static void main(String[] args) throws Exception {
        int minutes = 60;
        int workers = 4;
        Path out = Path.of("target", "soak");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--minutes" -> minutes = Integer.parseInt(args[++i]);
                case "--sessions" -> workers = Integer.parseInt(args[++i]);
                case "--out" -> out = Path.of(args[++i]);
                default -> {
                    System.err.println("usage: Soak --minutes M [--sessions S] [--out DIR]");
                    System.exit(2);
                }
            }
        }
        boolean ok = new Soak().run(minutes, workers, out);
        System.exit(ok ? 0 : 1);
    }

    private boolean run(int minutes, int workers, Path out) throws Exception {
        Instant started = Instant.now();
        String load = Files.readString(Path.of("/proc/loadavg")).trim();
        NativeMemory.Snapshot before = NativeMemory.snapshot();
        Process server = startServer();
        List<Sample> samples = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        boolean memoryBack;
        String serverStats;
        try {
            proxy = TinyProxy.builder().connectPorts(wsPort, wssPort).maxClients(256).start();
            client = ClientResources.create(2);
            peerTls = TlsPeer.context(TestCertificates.get().server(), TestCertificates.get().ca().certificate());
            localTls = new TlsContext(TlsContextOptions.createDefaultClient()
                    .withCertificateAuthority(TestCertificates.get().caPem()));
            faults = new SoakFaults(tally, client.bootstrap(), localTls, peerTls, wsPort);
            for (int w = 0; w < workers; w++) {
                long seed = seeds.nextLong();
                Thread t = new Thread(() -> work(new SplittableRandom(seed)), "soak-worker-" + w);
                t.setDaemon(true);
                t.start();
                threads.add(t);
            }
            sleepSeconds(20); // warm-up: tables, caches, JIT
            samples.add(sample(0));
            for (int m = 1; m <= minutes; m++) {
                sleepSeconds(55);
                samples.add(sample(m));
                Sample s = samples.get(samples.size() - 1);
                System.out.printf("minute %d: %d sessions, native %d B in %d allocations, RSS %.1f MiB, %d threads, "
                                + "%d fds, unexpected %d%n", m, s.sessions(), s.nativeBytes(), s.allocations(),
                        s.rss() / 1048576.0, s.threads(), s.fds(), tally.unexpectedCount.get());
            }
        } finally {
            stopped = true;
            paused = false;
            for (Thread t : threads) {
                t.join(SESSION_WAIT_MS);
            }
            serverStats = askStats(server);
            if (proxy != null) {
                proxy.close();
            }
            if (tls != null) {
                tls.close();
            }
            if (localTls != null) {
                localTls.close();
            }
            if (client != null) {
                client.close();
            }
            server.getOutputStream().close();
            if (!server.waitFor(10, TimeUnit.SECONDS)) {
                server.destroyForcibly();
            }
        }
        try {
            NativeMemory.assertBackTo(before);
            memoryBack = true;
        } catch (AssertionError e) {
            memoryBack = false;
        }
        String report = report(started, load, minutes, workers, samples, memoryBack, serverStats);
        Files.createDirectories(out);
        Files.writeString(out.resolve("report.md"), report, StandardCharsets.UTF_8);
        System.out.println(report);
        return report.contains("**Verdict: PASS**");
    }

    // ---- the server child ---------------------------------------------------------------------------

    private Process startServer() throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "-Xmx512m", "-cp", System.getProperty("java.class.path"),
                SoakServer.class.getName()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        String line = in.readLine();
        if (line == null || !line.startsWith("PORTS ")) {
            p.destroyForcibly();
            throw new IOException("the soak server said '" + line + "'");
        }
        String[] parts = line.split(" ");
        wsPort = Integer.parseInt(parts[1]);
        wssPort = Integer.parseInt(parts[2]);
        String ca = new String(Base64.getDecoder().decode(parts[3]), StandardCharsets.US_ASCII);
        tls = new TlsContext(TlsContextOptions.createDefaultClient().withCertificateAuthority(ca));
        serverOut = in;
        return p;
    }

    private BufferedReader serverOut;

    private String askStats(Process server) {
        try {
            OutputStream o = server.getOutputStream();
            o.write("stats\n".getBytes(StandardCharsets.US_ASCII));
            o.flush();
            String line = serverOut.readLine();
            return line == null ? "(no answer)" : line.replaceFirst("^STATS ", "");
        } catch (IOException e) {
            return "(" + e + ")";
        }
    }

    // ---- workers and samples ----------------------------------------------------------------------------

    private void work(SplittableRandom random) {
        while (!stopped) {
            if (paused) {
                sleepMs(10);
                continue;
            }
            busy.incrementAndGet();
            try {
                if (!paused && !stopped) {
                    session(random);
                    tally.sessions.incrementAndGet();
                }
            } catch (Throwable t) {
                tally.unexpected("session threw " + t);
            } finally {
                busy.decrementAndGet();
            }
        }
    }

    private Sample sample(int minute) throws IOException {
        paused = true;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (busy.get() > 0 && System.nanoTime() - deadline < 0) {
            sleepMs(10);
        }
        if (busy.get() > 0) {
            tally.unexpected("minute " + minute + ": workers still busy after 90 s");
        }
        NativeMemory.Snapshot settled = NativeMemory.snapshot();
        Sample s = new Sample(minute, tally.sessions.get(), settled.bytes(), settled.allocations(),
                status("VmRSS") * KIB, status("Threads"), openDescriptors());
        tally.checkCounts("minute " + minute);
        paused = false;
        return s;
    }
    private static long status(String field) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith(field + ":")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return -1;
    }

    private static long openDescriptors() throws IOException {
        try (var fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count() - 1;
        }
    }

    // ---- sessions -------------------------------------------------------------------------------------

    private void session(SplittableRandom random) throws Exception {
        if (random.nextInt(100) < 60) {
            traffic(random);
            return;
        }
        faults.injectOne(random);
    }

    private void traffic(SplittableRandom random) throws Exception {
        int transport = random.nextInt(4); // ws, wss, ws via proxy, wss via proxy
        boolean secure = (transport & 1) == 1;
        boolean viaProxy = transport >= 2;
        boolean manualWindow = random.nextInt(4) == 0;
        boolean closeEarly = random.nextInt(5) == 0;
        String kind = (secure ? "wss" : "ws") + (viaProxy ? " via tinyproxy" : "");
        SoakConnection c = new SoakConnection(tally, client.bootstrap());
        WebSocketConnectOptions.Builder o = c.options("127.0.0.1", secure ? wssPort : wsPort);
        if (secure) {
            o.tlsConnectionOptions(new TlsConnectionOptions(tls));
        }
        if (viaProxy) {
            o.proxyOptions(new HttpProxyOptions().withHost(proxy.host()).withPort(proxy.port()));
        }
        if (manualWindow) {
            o.manageReadWindow(true).initialReadWindow(16 * KIB);
        }
        c.connect(o);
        OnConnectionSetupData setup = c.awaitSetup();
        if (setup.exception() != null) {
            tally.unexpected(kind + ": setup failed " + SoakTally.describe(setup.exception()));
            return;
        }
        WebSocket ws = setup.websocket();
        int n = 1 + random.nextInt(12);
        List<long[]> sent = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            boolean large = random.nextInt(5) == 0;
            byte[] payload = large ? Hex.pattern(64 * KIB + random.nextInt(2 * 1024 * KIB - 64 * KIB), random.nextInt())
                    : Hex.ascii("m".repeat(1 + random.nextInt(2 * KIB)));
            CRC32 crc = new CRC32();
            crc.update(payload);
            Opcode op = large ? Opcode.BINARY : Opcode.TEXT;
            sent.add(new long[] {op.value(), payload.length, crc.getValue()});
            ws.sendFrame(op, payload);
        }
        if (closeEarly) {
            ws.close();
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(SESSION_WAIT_MS);
        while ((closeEarly ? c.shutdownDone.getCount() > 0 : c.echoes.size() < n) && System.nanoTime() - deadline < 0) {
            if (manualWindow) {
                ws.incrementReadWindow(64 * KIB);
                sleepMs(1 + random.nextInt(3)); // a paused reader
            } else {
                sleepMs(1);
            }
        }
        if (!closeEarly) {
            if (c.echoes.size() < n) {
                tally.unexpected(kind + ": " + c.echoes.size() + " of " + n + " echoes within " + SESSION_WAIT_MS
                        + " ms");
            }
            ws.close();
            while (manualWindow && c.shutdownDone.getCount() > 0 && System.nanoTime() - deadline < 0) {
                ws.incrementReadWindow(64 * KIB);
                sleepMs(1);
            }
        }
        Throwable end = c.awaitShutdown();
        int i = 0;
        for (long[] echo : c.echoes) {
            long[] expected = sent.get(i++);
            if (echo[0] != expected[0] || echo[1] != expected[1] || echo[2] != expected[2]) {
                tally.unexpected(kind + ": echo " + (i - 1) + " differs from what was sent");
                break;
            }
            tally.messagesEchoed.incrementAndGet();
            tally.bytesEchoed.addAndGet(echo[1]);
        }
        String outcome = end == null ? "clean" : SoakTally.describe(end);
        if (end != null) {
            tally.unexpected(kind + (closeEarly ? ", closed early" : "") + ": shutdown " + outcome);
        }
        tally.outcome(kind + (manualWindow ? ", paced read window" : "") + (closeEarly ? ", close() at once" : "")
                + ": shutdown " + outcome);
        ws.close();
    }

    // ---- the report ---------------------------------------------------------------------------------------


    /** Least-squares slope of {@code y} per minute over the samples from minute 1 on (0 when fewer than 2). */
    static double slope(List<Sample> samples, java.util.function.ToLongFunction<Sample> y) {
        List<Sample> s = samples.stream().filter(x -> x.minute() >= 1).toList();
        if (s.size() < 2) {
            return 0;
        }
        double mx = s.stream().mapToDouble(Sample::minute).average().orElse(0);
        double my = s.stream().mapToDouble(x -> y.applyAsLong(x)).average().orElse(0);
        double num = 0;
        double den = 0;
        for (Sample x : s) {
            num += (x.minute() - mx) * (y.applyAsLong(x) - my);
            den += (x.minute() - mx) * (x.minute() - mx);
        }
        return num / den;
    }

    private String report(Instant started, String load, int minutes, int workers, List<Sample> samples,
                          boolean memoryBack, String serverStats) throws IOException {
        tally.checkCounts("the end");
        double nativeSlope = slope(samples, Sample::nativeBytes);
        double rssSlope = slope(samples, Sample::rss);
        double threadSlope = slope(samples, Sample::threads);
        double fdSlope = slope(samples, Sample::fds);
        boolean rssJudged = samples.size() >= 6;
        // Flat: native bytes within 1 KiB/min (in practice: equal at every sample), threads and descriptors
        // within 0.5/min, RSS within 256 KiB/min once there are five minutes to fit.
        boolean nativeFlat = Math.abs(nativeSlope) < 1024;
        boolean threadsFlat = Math.abs(threadSlope) < 0.5 && Math.abs(fdSlope) < 0.5;
        boolean rssFlat = !rssJudged || rssSlope < 256 * 1024;
        boolean countsExact = tally.countsExact();
        boolean pass = nativeFlat && threadsFlat && rssFlat && countsExact && tally.unexpectedCount.get() == 0
                && memoryBack && samples.size() == minutes + 1;

        StringBuilder md = new StringBuilder();
        md.append("## Soak run: ").append(minutes).append(minutes == 1 ? " minute" : " minutes").append("\n\n");
        md.append("Started ").append(started).append(", ").append(workers).append(" worker threads each running one "
                + "session at a time (see `dev.wscrt.faults.Soak` for the mix), client event loop group of 2 threads; "
                + "Netty echo server (ws and wss) in a child JVM, tinyproxy for the proxied sessions, scripted peers "
                + "for the faults, all on 127.0.0.1. Load average at the start: ").append(load)
                .append(" (a shared 2-core machine: timings are noisy). JVM: ")
                .append(String.join(" ", java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()))
                .append(".\n\n");
        md.append("Each minute the workers pause after their current session, native memory settles (GC, at most "
                + "2 s), and the sample is taken; minute 0 follows a 20 s warm-up.\n\n");
        md.append("| minute | sessions so far | native bytes | native allocations | RSS | threads | fds |\n");
        md.append("|---:|---:|---:|---:|---:|---:|---:|\n");
        for (Sample s : samples) {
            md.append(String.format("| %d | %d | %d | %d | %.1f MiB | %d | %d |%n", s.minute(), s.sessions(),
                    s.nativeBytes(), s.allocations(), s.rss() / 1048576.0, s.threads(), s.fds()));
        }
        md.append(String.format("%nSlopes per minute (least squares over minutes 1..%d): native %+.1f B, RSS %+.1f "
                        + "KiB%s, threads %+.2f, fds %+.2f.%n%n", minutes, nativeSlope, rssSlope / 1024,
                rssJudged ? "" : " (not judged: fewer than five minutes)", threadSlope, fdSlope));
        md.append("Callbacks: ").append(tally.connects).append(" connects, ").append(tally.setupCallbacks)
                .append(" setup callbacks (").append(tally.setupsOk).append(" ok), ").append(tally.shutdownCallbacks)
                .append(" shutdown callbacks; ").append(countsExact ? "exactly one setup per connect and one "
                        + "shutdown per successful setup" : "**MISMATCH**").append(". ").append(tally.messagesEchoed)
                .append(" messages (").append(tally.bytesEchoed.get() / 1048576)
                .append(" MiB) echoed and checked. Server: ").append(serverStats).append(".\n\n");
        md.append("| session kind and outcome | count |\n|---|---:|\n");
        new TreeMap<>(tally.outcomes).forEach((k, v) -> md.append("| ").append(k).append(" | ").append(v.sum())
                .append(" |\n"));
        md.append("\nErrors: injected ones by name ").append(new TreeMap<>(tally.injectedErrors))
                .append("; anything else: ").append(tally.unexpectedCount.get())
                .append(tally.unexpected.isEmpty() ? "" : " — " + String.join("; ", tally.unexpected))
                .append(".\n\n");
        md.append("Native memory after everything closed: ").append(memoryBack ? "back to the baseline taken before "
                + "the run" : "**NOT back to the baseline**").append(". OpenSSL's own allocations are not in the "
                + "native figures (they are in RSS).\n\n");
        md.append("**Verdict: ").append(pass ? "PASS" : "FAIL").append("**\n");
        return md.toString();
    }

    private static void sleepSeconds(long s) {
        sleepMs(s * 1000);
    }

    private static void sleepMs(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
