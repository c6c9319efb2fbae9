package dev.wscrt.faults;

import dev.wscrt.CrtRuntimeException;
import dev.wscrt.http.HttpProxyOptions;
import dev.wscrt.io.TlsConnectionOptions;
import dev.wscrt.io.TlsContext;
import dev.wscrt.io.TlsContextOptions;
import dev.wscrt.proxy.TinyProxy;
import dev.wscrt.testing.ClientResources;
import dev.wscrt.testing.Hex;
import dev.wscrt.testing.NativeMemory;
import dev.wscrt.testing.ScriptedServer;
import dev.wscrt.tls.TestCertificates;
import dev.wscrt.websocket.OnConnectionSetupData;
import dev.wscrt.websocket.Opcode;
import dev.wscrt.websocket.WebSocket;
import dev.wscrt.websocket.WebSocketConnectOptions;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
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

    private static final long SESSION_WAIT_MS = 60_000;
    private static final int KIB = 1024;

    private final SplittableRandom seeds = new SplittableRandom(20261204L);
    private final ConcurrentHashMap<String, LongAdder> outcomes = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, LongAdder> injectedErrors = new ConcurrentHashMap<>();
    private final Queue<String> unexpected = new ConcurrentLinkedQueue<>();
    private final AtomicLong unexpectedCount = new AtomicLong();
    private final AtomicLong connects = new AtomicLong();
    private final AtomicLong setupCallbacks = new AtomicLong();
    private final AtomicLong setupsOk = new AtomicLong();
    private final AtomicLong shutdownCallbacks = new AtomicLong();
    private final AtomicLong sessions = new AtomicLong();
    private final AtomicLong messagesEchoed = new AtomicLong();
    private final AtomicLong bytesEchoed = new AtomicLong();
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
                        s.rss() / 1048576.0, s.threads(), s.fds(), unexpectedCount.get());
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
                    sessions.incrementAndGet();
                }
            } catch (Throwable t) {
                unexpected("session threw " + t);
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
            unexpected("minute " + minute + ": workers still busy after 90 s");
        }
        NativeMemory.Snapshot settled = NativeMemory.snapshot();
        Sample s = new Sample(minute, sessions.get(), settled.bytes(), settled.allocations(), status("VmRSS") * KIB,
                status("Threads"), openDescriptors());
        checkCounts("minute " + minute);
        paused = false;
        return s;
    }

    /** With every session finished: one setup callback per connect, one shutdown per successful setup. */
    private void checkCounts(String when) {
        if (connects.get() != setupCallbacks.get() || setupsOk.get() != shutdownCallbacks.get()) {
            unexpected(when + ": " + connects + " connects, " + setupCallbacks + " setup callbacks, " + setupsOk
                    + " setups ok, " + shutdownCallbacks + " shutdown callbacks");
        }
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

    /** One connection's callbacks, counted; echoes as (opcode, length, CRC-32). */
    private final class Conn {
        final AtomicInteger setups = new AtomicInteger();
        final AtomicInteger shutdowns = new AtomicInteger();
        final CountDownLatch setupDone = new CountDownLatch(1);
        final CountDownLatch shutdownDone = new CountDownLatch(1);
        final Queue<long[]> echoes = new ConcurrentLinkedQueue<>();
        final CRC32 crc = new CRC32();
        volatile OnConnectionSetupData setup;
        volatile Throwable shutdownError;
        volatile boolean throwInPayload;
        long frameLength;

        WebSocketConnectOptions.Builder options(String host, int port) {
            return WebSocketConnectOptions.builder().host(host).port(port).bootstrap(client.bootstrap())
                    .handshakeRequest(WebSocket.createHandshakeRequest(host + ":" + port, "/"))
                    .onConnectionSetup(d -> {
                        setupCallbacks.incrementAndGet();
                        if (d.exception() == null) {
                            setupsOk.incrementAndGet();
                        }
                        setup = d;
                        if (setups.incrementAndGet() != 1) {
                            unexpected("a second setup callback");
                        }
                        setupDone.countDown();
                    })
                    .onConnectionShutdown(d -> {
                        shutdownCallbacks.incrementAndGet();
                        shutdownError = d.exception();
                        if (shutdowns.incrementAndGet() != 1) {
                            unexpected("a second shutdown callback");
                        }
                        shutdownDone.countDown();
                    })
                    .onIncomingFrameBegin(d -> {
                        crc.reset();
                        frameLength = 0;
                    })
                    .onIncomingFramePayload(d -> {
                        if (throwInPayload) {
                            throw new IllegalStateException("injected by the soak");
                        }
                        byte[] b = new byte[d.data().remaining()];
                        d.data().get(b);
                        crc.update(b);
                        frameLength += b.length;
                    })
                    .onIncomingFrameComplete(d -> {
                        Opcode op = d.frame().opcode();
                        if (d.exception() == null && (op == Opcode.TEXT || op == Opcode.BINARY)) {
                            echoes.add(new long[] {op.value(), frameLength, crc.getValue()});
                        }
                    });
        }

        void connect(WebSocketConnectOptions.Builder options) {
            connects.incrementAndGet();
            WebSocket.connect(options.build());
        }

        OnConnectionSetupData awaitSetup() throws InterruptedException {
            if (!setupDone.await(SESSION_WAIT_MS, TimeUnit.MILLISECONDS)) {
                throw new IllegalStateException("no setup callback within " + SESSION_WAIT_MS + " ms");
            }
            return setup;
        }

        Throwable awaitShutdown() throws InterruptedException {
            if (!shutdownDone.await(SESSION_WAIT_MS, TimeUnit.MILLISECONDS)) {
                throw new IllegalStateException("no shutdown callback within " + SESSION_WAIT_MS + " ms");
            }
            return shutdownError;
        }
    }

    private void session(SplittableRandom random) throws Exception {
        if (random.nextInt(100) < 60) {
            traffic(random);
            return;
        }
        switch (random.nextInt(8)) {
            case 0 -> refused();
            case 1 -> silentServer();
            case 2 -> garbage();
            case 3 -> resetMidPayload();
            case 4 -> notAServerHello();
            case 5 -> proxy407();
            case 6 -> finWithoutCloseNotify();
            default -> callbackThrows();
        }
    }

    private void traffic(SplittableRandom random) throws Exception {
        int transport = random.nextInt(4); // ws, wss, ws via proxy, wss via proxy
        boolean secure = (transport & 1) == 1;
        boolean viaProxy = transport >= 2;
        boolean manualWindow = random.nextInt(4) == 0;
        boolean closeEarly = random.nextInt(5) == 0;
        String kind = (secure ? "wss" : "ws") + (viaProxy ? " via tinyproxy" : "");
        Conn c = new Conn();
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
            unexpected(kind + ": setup failed " + describe(setup.exception()));
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
                unexpected(kind + ": " + c.echoes.size() + " of " + n + " echoes within " + SESSION_WAIT_MS + " ms");
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
                unexpected(kind + ": echo " + (i - 1) + " differs from what was sent");
                break;
            }
            messagesEchoed.incrementAndGet();
            bytesEchoed.addAndGet(echo[1]);
        }
        String outcome = end == null ? "clean" : describe(end);
        if (end != null) {
            unexpected(kind + (closeEarly ? ", closed early" : "") + ": shutdown " + outcome);
        }
        count(outcomes, kind + (manualWindow ? ", paced read window" : "") + (closeEarly ? ", close() at once" : "")
                + ": shutdown " + outcome);
        ws.close();
    }

    /** Expects the setup to fail with {@code expected}; counts the outcome. */
    private void expectSetupFailure(String fault, Conn c, String expected) throws InterruptedException {
        OnConnectionSetupData d = c.awaitSetup();
        String name = d.exception() == null ? "setup ok" : shortName(d.exception());
        if (d.exception() == null) {
            d.websocket().close();
            c.awaitShutdown();
        }
        injected(fault, name, expected);
    }

    private void injected(String fault, String name, String expected) {
        count(outcomes, "fault " + fault + ": " + name);
        if (name.equals(expected)) {
            count(injectedErrors, expected);
        } else {
            unexpected("fault " + fault + ": " + name + ", expected " + expected);
        }
    }

    private void refused() throws InterruptedException {
        Conn c = new Conn();
        c.connect(c.options("127.0.0.1", Loopback.closedPort()));
        expectSetupFailure("refused port", c, "IO_SOCKET_CONNECTION_REFUSED");
    }

    private void silentServer() throws InterruptedException {
        try (ScriptedServer server = ScriptedServer.start()) {
            Conn c = new Conn();
            c.connect(c.options("127.0.0.1", server.port()).handshakeTimeoutMs(300));
            server.awaitConnection().readRequest();
            expectSetupFailure("silent server", c, "WEBSOCKET_HANDSHAKE_TIMEOUT");
        }
    }

    private void garbage() throws InterruptedException {
        try (ScriptedServer server = ScriptedServer.start()) {
            Conn c = new Conn();
            c.connect(c.options("127.0.0.1", server.port()));
            ScriptedServer.Conn s = server.awaitConnection();
            s.readRequest();
            s.tryWrite(Hex.concat(Hex.bytes("00 ff 13 37"), Hex.pattern(512, 3), Hex.ascii("\r\n\r\n")));
            expectSetupFailure("garbage", c, "HTTP_INVALID_RESPONSE");
        }
    }

    private void resetMidPayload() throws InterruptedException {
        try (ScriptedServer server = ScriptedServer.start()) {
            Conn c = new Conn();
            c.connect(c.options("127.0.0.1", server.port()));
            ScriptedServer.Conn s = server.awaitConnection();
            s.handshake(Hex.concat(Hex.bytes("82 7e 01 00"), Hex.pattern(100, 0)));
            OnConnectionSetupData d = c.awaitSetup();
            s.reset();
            String name = d.exception() != null ? "setup failure " + shortName(d.exception())
                    : shortNameOrClean(c.awaitShutdown());
            if (d.websocket() != null) {
                d.websocket().close();
            }
            injected("RST mid-payload", name, "IO_SOCKET_CONNECTION_RESET");
        }
    }

    private void notAServerHello() throws Exception {
        try (ScriptedServer server = ScriptedServer.start()) {
            Conn c = new Conn();
            c.connect(c.options("127.0.0.1", server.port()).tlsConnectionOptions(new TlsConnectionOptions(localTls)));
            ScriptedServer.Conn s = server.awaitConnection();
            InputStream in = s.socket().getInputStream();
            byte[] header = in.readNBytes(5);
            in.readNBytes(((header[3] & 0xff) << 8) | (header[4] & 0xff));
            s.tryWrite(Hex.ascii("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"));
            expectSetupFailure("not a ServerHello", c, "TLS_HANDSHAKE_FAILURE");
        }
    }

    private void proxy407() throws InterruptedException {
        try (ScriptedServer fakeProxy = ScriptedServer.start()) {
            Conn c = new Conn();
            c.connect(c.options("127.0.0.1", wsPort)
                    .proxyOptions(new HttpProxyOptions().withHost(fakeProxy.host()).withPort(fakeProxy.port())));
            ScriptedServer.Conn s = fakeProxy.awaitConnection();
            s.readRequest();
            s.writeAscii("HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"soak\"\r\n"
                    + "Content-Length: 0\r\n\r\n");
            expectSetupFailure("proxy 407", c, "HTTP_PROXY_AUTH_REQUIRED");
        }
    }

    private void finWithoutCloseNotify() throws InterruptedException {
        try (TlsPeer peer = TlsPeer.start(peerTls, "TLSv1.3")) {
            Conn c = new Conn();
            c.connect(c.options("127.0.0.1", peer.port()).tlsConnectionOptions(new TlsConnectionOptions(localTls)));
            try (TlsPeer.Conn s = peer.accept()) {
                s.handshake();
                s.answerUpgrade(Hex.concat(Hex.bytes("82 7e 01 00"), Hex.pattern(100, 1)));
                OnConnectionSetupData d = c.awaitSetup();
                s.finWithoutCloseNotify();
                String name = d.exception() != null ? "setup failure " + shortName(d.exception())
                        : shortNameOrClean(c.awaitShutdown());
                if (d.websocket() != null) {
                    d.websocket().close();
                }
                injected("TLS FIN without close_notify", name, "IO_SOCKET_CLOSED");
            }
        }
    }

    private void callbackThrows() throws InterruptedException {
        Conn c = new Conn();
        c.throwInPayload = true;
        c.connect(c.options("127.0.0.1", wsPort));
        OnConnectionSetupData d = c.awaitSetup();
        if (d.exception() != null) {
            injected("callback throws", "setup failure " + shortName(d.exception()), "CALLBACK_EXCEPTION");
            return;
        }
        d.websocket().sendFrame(Opcode.TEXT, "echo me");
        String name = shortNameOrClean(c.awaitShutdown());
        d.websocket().close();
        injected("callback throws", name, "CALLBACK_EXCEPTION");
    }

    // ---- tallies and the report ---------------------------------------------------------------------------

    private void unexpected(String what) {
        unexpectedCount.incrementAndGet();
        if (unexpected.size() < 50) {
            unexpected.add(Instant.now() + " " + what);
        }
        System.err.println("UNEXPECTED: " + what);
    }

    private static void count(Map<String, LongAdder> map, String key) {
        map.computeIfAbsent(key, k -> new LongAdder()).increment();
    }

    private static String shortName(Throwable t) {
        return t instanceof CrtRuntimeException e ? e.errorName().replaceFirst("^WSCRT_ERROR_", "")
                : t.getClass().getSimpleName();
    }

    private static String shortNameOrClean(Throwable t) {
        return t == null ? "clean" : shortName(t);
    }

    private static String describe(Throwable t) {
        return t instanceof CrtRuntimeException e ? shortName(e) + " (" + e.getMessage() + ")" : t.toString();
    }

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
        checkCounts("the end");
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
        boolean countsExact = connects.get() == setupCallbacks.get() && setupsOk.get() == shutdownCallbacks.get();
        boolean pass = nativeFlat && threadsFlat && rssFlat && countsExact && unexpectedCount.get() == 0 && memoryBack
                && samples.size() == minutes + 1;

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
        md.append("Callbacks: ").append(connects).append(" connects, ").append(setupCallbacks)
                .append(" setup callbacks (").append(setupsOk).append(" ok), ").append(shutdownCallbacks)
                .append(" shutdown callbacks; ").append(countsExact ? "exactly one setup per connect and one "
                        + "shutdown per successful setup" : "**MISMATCH**").append(". ").append(messagesEchoed)
                .append(" messages (").append(bytesEchoed.get() / 1048576).append(" MiB) echoed and checked. Server: ")
                .append(serverStats).append(".\n\n");
        md.append("| session kind and outcome | count |\n|---|---:|\n");
        new TreeMap<>(outcomes).forEach((k, v) -> md.append("| ").append(k).append(" | ").append(v.sum())
                .append(" |\n"));
        md.append("\nErrors: injected ones by name ").append(new TreeMap<>(injectedErrors)).append("; anything else: ")
                .append(unexpectedCount.get()).append(unexpected.isEmpty() ? "" : " — " + String.join("; ", unexpected))
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
