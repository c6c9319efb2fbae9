package dev.wscrt.tls;

import dev.wscrt.Crt;
import dev.wscrt.io.TlsConnectionOptions;
import dev.wscrt.io.TlsContext;
import dev.wscrt.io.TlsContextOptions;
import dev.wscrt.testing.ClientResources;
import dev.wscrt.testing.NettyWebSocketServer;
import dev.wscrt.websocket.OnConnectionSetupData;
import dev.wscrt.websocket.WebSocket;
import dev.wscrt.websocket.WebSocketConnectOptions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Figures, not a test: what TLS costs, measured in one run against the same local Netty servers with
 * and without an SslHandler (JDK provider, EC P-256 certificate from {@link TestCertificates}).
 *
 * <ul>
 *   <li>Handshake rate: sequential connect, upgrade (101), close, for a fixed time; connections per
 *       second and the median time from connect() to the setup callback. wss:// is a full TLS handshake
 *       each time (no session resumption).
 *   <li>Receive throughput: the server sends {@value #MESSAGES} binary messages of 1 MiB as fast as the
 *       connection drains ({@link BlastServer}); the client counts payload bytes in its callback
 *       without copying. Median of {@value #RUNS} runs after one warm-up.
 * </ul>
 *
 * Prints a Markdown table. Run with the test classpath (see scripts/demo.sh):
 * {@code java -cp target/classes:target/test-classes:$(cat target/test.classpath) dev.wscrt.tls.TlsBenchmark [seconds]}
 */
public final class TlsBenchmark {

    private static final int MESSAGES = 1000;
    private static final int MESSAGE_SIZE = 1024 * 1024;
    private static final int RUNS = 3;
    private static final long TIMEOUT_SECONDS = 60;

    private record HandshakeFigures(int connections, double perSecond, double medianSetupMs) {
    }

    private TlsBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 5.0;
        TestCertificates certs = TestCertificates.get();
        ServerTls serverTls = ServerTls.forCertificate(certs.server()).build();
        try (ClientResources client = ClientResources.create(1);
             TlsContext ctx = new TlsContext(TlsContextOptions.createDefaultClient()
                     .withCertificateAuthority(certs.caPem()))) {
            TlsConnectionOptions tls = new TlsConnectionOptions(ctx);

            HandshakeFigures ws;
            HandshakeFigures wss;
            try (NettyWebSocketServer plain = NettyWebSocketServer.builder().keepPayloads(false).start();
                 NettyWebSocketServer secure = NettyWebSocketServer.builder().keepPayloads(false)
                         .sslContext(serverTls.sslContext()).start()) {
                handshakes(client, plain.port(), null, 0.5); // warm-up
                handshakes(client, secure.port(), tls, 0.5);
                ws = handshakes(client, plain.port(), null, seconds);
                wss = handshakes(client, secure.port(), tls, seconds);
            }
            String negotiated = serverTls.awaitHandshake(0).protocol();

            double wsThroughput;
            double wssThroughput;
            try (BlastServer plain = new BlastServer(null, MESSAGES, MESSAGE_SIZE);
                 BlastServer secure = new BlastServer(serverTls.sslContext(), MESSAGES, MESSAGE_SIZE)) {
                wsThroughput = throughput(client, plain.port(), null);
                wssThroughput = throughput(client, secure.port(), tls);
            }

            System.out.println();
            System.out.printf(Locale.ROOT, "TLS figures: wscrt %s, %s, %d cores, server Netty SslHandler (JDK %s),"
                            + " %s, EC P-256 certificate, 127.0.0.1%n%n", Crt.version(), System.getProperty("java.vm.name"),
                    Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"), negotiated);
            System.out.println("| measure | ws:// | wss:// | wss / ws |");
            System.out.println("| --- | ---: | ---: | ---: |");
            row("connections/s (sequential connect + upgrade + close, " + seconds + " s)", ws.perSecond(),
                    wss.perSecond(), "%.0f");
            row("median connect() to setup callback (ms)", ws.medianSetupMs(), wss.medianSetupMs(), "%.2f");
            row("receive throughput, " + MESSAGES + " x 1 MiB binary (MiB/s, median of " + RUNS + ")",
                    wsThroughput, wssThroughput, "%.0f");
            System.out.printf(Locale.ROOT, "%nconnections made: ws %d, wss %d%n", ws.connections(), wss.connections());
        }
    }

    private static void row(String what, double ws, double wss, String format) {
        System.out.printf(Locale.ROOT, "| %s | " + format + " | " + format + " | %.2f |%n", what, ws, wss, wss / ws);
    }

    private static WebSocketConnectOptions.Builder options(ClientResources client, int port, TlsConnectionOptions tls) {
        return WebSocketConnectOptions.builder()
                .host("127.0.0.1")
                .port(port)
                .bootstrap(client.bootstrap())
                .tlsConnectionOptions(tls)
                .handshakeRequest(WebSocket.createHandshakeRequest("127.0.0.1:" + port, "/"));
    }

    /** Sequential connect + upgrade + close cycles for {@code seconds}. */
    private static HandshakeFigures handshakes(ClientResources client, int port, TlsConnectionOptions tls,
                                               double seconds) throws Exception {
        List<Long> setupNanos = new ArrayList<>();
        long start = System.nanoTime();
        long end = start + (long) (seconds * 1e9);
        int n = 0;
        while (System.nanoTime() - end < 0) {
            CompletableFuture<OnConnectionSetupData> setup = new CompletableFuture<>();
            CompletableFuture<Throwable> shutdown = new CompletableFuture<>();
            long t0 = System.nanoTime();
            WebSocket.connect(options(client, port, tls)
                    .onConnectionSetup(setup::complete)
                    .onConnectionShutdown(d -> shutdown.complete(d.exception()))
                    .build());
            OnConnectionSetupData d = setup.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
            setupNanos.add(System.nanoTime() - t0);
            if (d.exception() != null) {
                throw new IllegalStateException("connection " + n + " failed", d.exception());
            }
            d.websocket().close();
            Throwable e = shutdown.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
            if (e != null) {
                throw new IllegalStateException("connection " + n + " shut down with an error", e);
            }
            n++;
        }
        double elapsed = (System.nanoTime() - start) / 1e9;
        long[] sorted = setupNanos.stream().mapToLong(Long::longValue).sorted().toArray();
        return new HandshakeFigures(n, n / elapsed, sorted[sorted.length / 2] / 1e6);
    }

    /** Median MiB/s over {@link #RUNS} connections (after one warm-up) that each receive all messages. */
    private static double throughput(ClientResources client, int port, TlsConnectionOptions tls) throws Exception {
        double[] results = new double[RUNS];
        for (int run = -1; run < RUNS; run++) {
            double mibPerSecond = receiveAll(client, port, tls);
            if (run >= 0) {
                results[run] = mibPerSecond;
            }
        }
        Arrays.sort(results);
        return results[RUNS / 2];
    }

    private static double receiveAll(ClientResources client, int port, TlsConnectionOptions tls) throws Exception {
        long total = (long) MESSAGES * MESSAGE_SIZE;
        AtomicLong received = new AtomicLong();
        CompletableFuture<Long> done = new CompletableFuture<>();
        CompletableFuture<OnConnectionSetupData> setup = new CompletableFuture<>();
        CompletableFuture<Throwable> shutdown = new CompletableFuture<>();
        long[] t0 = new long[1];
        WebSocket.connect(options(client, port, tls)
                .onConnectionSetup(d -> {
                    t0[0] = System.nanoTime();
                    setup.complete(d);
                })
                .onConnectionShutdown(d -> {
                    shutdown.complete(d.exception());
                    done.completeExceptionally(new IllegalStateException("shut down after " + received.get()
                            + " of " + total + " bytes", d.exception()));
                })
                .onIncomingFramePayload(d -> {
                    if (received.addAndGet(d.data().remaining()) == total) {
                        done.complete(System.nanoTime());
                    }
                })
                .build());
        OnConnectionSetupData d = setup.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        if (d.exception() != null) {
            throw new IllegalStateException("throughput connection failed", d.exception());
        }
        long t1 = done.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        d.websocket().close();
        shutdown.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        return total / (1024.0 * 1024.0) / ((t1 - t0[0]) / 1e9);
    }
}
