package dev.wscrt.mqtt;

import com.sun.management.OperatingSystemMXBean;
import dev.wscrt.io.TlsContext;
import dev.wscrt.io.TlsContextOptions;
import io.netty.handler.codec.mqtt.MqttQoS;
import java.io.ByteArrayInputStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * MQTT over wss through Moquette (in a child JVM), wscrt against the JDK's {@code java.net.http.WebSocket}
 * carrying the same MQTT bytes (same codec, same client session code, same payloads), alternating in one
 * run: one client publishes N messages of 16 B-64 KiB at QoS 1 (64 awaiting PUBACK), another, subscribed
 * at QoS 1, receives and checks each in order. Reports messages per second through the broker and this
 * JVM's CPU time per message (publisher and subscriber together; process CPU, so GC and JIT included),
 * with the broker's CPU per message beside it.
 *
 * <p>Usage: {@code MqttBenchmark [messages] [rounds]} (defaults 10000 and 3). Prints a Markdown table.
 */
public final class MqttBenchmark {
    private static final int WINDOW = Integer.getInteger("mqtt.window", 64);

    private MqttBenchmark() {
    }

    record Run(String client, int round, int messages, double seconds, double clientCpuMs, double brokerCpuMs,
               String problem) {
        double perSecond() {
            return messages / seconds;
        }
    }

    public static void main(String[] args) throws Exception {
        int messages = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        List<byte[]> payloads = MqttLoad.payloads(messages, 42);
        List<Run> runs = new ArrayList<>();
        boolean failed = false;
        try (BrokerProcess broker = BrokerProcess.start();
             TlsContext wscrtTls = new TlsContext(TlsContextOptions.createDefaultClient()
                     .withCertificateAuthority(broker.caPem))) {
            SSLContext jdkTls = sslContext(broker.caPem);
            for (int round = 1; round <= rounds; round++) {
                for (String client : List.of("wscrt", "JDK")) {
                    Function<MqttTransport.Receiver, CompletableFuture<MqttTransport>> connector =
                            client.equals("wscrt")
                                    ? r -> WscrtTransport.connect(broker.wssUri, wscrtTls, null, r)
                                    : r -> JdkTransport.connect(broker.wssUri, jdkTls, r);
                    Run run = run(client, round, connector, payloads, broker);
                    runs.add(run);
                    failed |= run.problem() != null;
                    System.err.println(run);
                }
            }
        }
        System.out.println(table(runs, payloads));
        System.exit(failed ? 1 : 0);
    }

    private static Run run(String client, int round, Function<MqttTransport.Receiver,
            CompletableFuture<MqttTransport>> connector, List<byte[]> payloads, BrokerProcess broker)
            throws Exception {
        String topic = "bench/" + client + "/" + round;
        MqttLoad.Checker checker = new MqttLoad.Checker(payloads, topic);
        MqttClient subscriber = MqttClient.connect(connector, client + "-sub-" + round, checker)
                .get(10, TimeUnit.SECONDS);
        MqttClient publisher = MqttClient.connect(connector, client + "-pub-" + round, m -> { })
                .get(10, TimeUnit.SECONDS);
        subscriber.subscribe(topic, MqttQoS.valueOf(Integer.getInteger("mqtt.subQos", 1))).get(10, TimeUnit.SECONDS);
        OperatingSystemMXBean os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        System.gc();
        long cpu0 = os.getProcessCpuTime();
        long broker0 = broker.cpuNanos();
        long t0 = System.nanoTime();
        Throwable failure = MqttLoad.publishAll(publisher, topic, payloads, WINDOW, Duration.ofSeconds(300));
        boolean all = failure == null && checker.awaitReceived(payloads.size(), Duration.ofSeconds(60));
        long t1 = System.nanoTime();
        long cpu1 = os.getProcessCpuTime();
        long broker1 = broker.cpuNanos();
        String problem = failure != null ? "publish failed: " + failure
                : checker.firstProblem() != null ? checker.firstProblem()
                : all ? null : "received " + checker.received() + " of " + payloads.size();
        // After the measurement. The broker may close the TCP connection on DISCONNECT before the client's
        // CLOSE is written (the JDK client then fails its close with "Output closed"): not a result.
        for (MqttClient c : List.of(publisher, subscriber)) {
            c.disconnect().handle((v, e) -> null).get(10, TimeUnit.SECONDS);
            c.abort();
        }
        int n = payloads.size();
        return new Run(client, round, n, (t1 - t0) / 1e9, (cpu1 - cpu0) / 1e6 / n, (broker1 - broker0) / 1e6 / n,
                problem);
    }

    private static SSLContext sslContext(String caPem) throws Exception {
        KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
        trust.load(null, null);
        trust.setCertificateEntry("ca", CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(caPem.getBytes(StandardCharsets.US_ASCII))));
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, tmf.getTrustManagers(), null);
        return context;
    }

    private static String table(List<Run> runs, List<byte[]> payloads) {
        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "%d messages of 16 B-64 KiB (%.1f MB of payload), QoS 1, %d in flight;"
                + " client CPU = this JVM (publisher + subscriber), broker CPU = Moquette's JVM%n%n",
                payloads.size(), MqttLoad.totalBytes(payloads) / 1e6, WINDOW));
        out.append("| client | round | messages/s | client CPU per message | broker CPU per message | check |\n");
        out.append("|---|---|---|---|---|---|\n");
        for (Run r : runs) {
            out.append(String.format(Locale.ROOT, "| %s | %d | %.0f | %.3f ms | %.3f ms | %s |%n", r.client(),
                    r.round(), r.perSecond(), r.clientCpuMs(), r.brokerCpuMs(),
                    r.problem() == null ? "all in order, byte for byte" : "FAILED: " + r.problem()));
        }
        return out.toString();
    }
}
