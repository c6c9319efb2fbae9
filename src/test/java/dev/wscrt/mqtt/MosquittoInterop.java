package dev.wscrt.mqtt;

import dev.wscrt.io.TlsContext;
import dev.wscrt.io.TlsContextOptions;
import dev.wscrt.tls.TestCertificates;
import io.netty.handler.codec.mqtt.MqttQoS;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The cross-check with MQTT clients no one here wrote, Debian's {@code mosquitto_pub} and
 * {@code mosquitto_sub} (installed by scripts/install-mosquitto-clients.sh; run by scripts/mqtt-interop.sh
 * in CI): against Moquette in this JVM, messages that {@code mosquitto_pub} publishes over the broker's
 * TCP port reach a wscrt subscriber over wss byte for byte, and messages a wscrt publisher sends over wss
 * reach {@code mosquitto_sub}. Then runs examples/MqttOverWss.java against the same broker. Exits 1 on any
 * failure (a missing mosquitto client is a failure, never a skip).
 */
public final class MosquittoInterop {
    private static final long WAIT_SECONDS = 20;

    private MosquittoInterop() {
    }

    public static void main(String[] args) throws Exception {
        List<String> failures = new ArrayList<>();
        Random random = new Random(11);
        try (MoquetteBroker broker = MoquetteBroker.start();
             TlsContext tls = new TlsContext(TlsContextOptions.createDefaultClient()
                     .withCertificateAuthority(TestCertificates.get().caPem()))) {
            // mosquitto_pub (TCP) -> wscrt subscriber (wss)
            BlockingQueue<MqttClient.Message> received = new LinkedBlockingQueue<>();
            MqttClient subscriber = MqttClient.connect(r -> WscrtTransport.connect(broker.wssUri(), tls, null, r),
                    "wscrt-interop-sub", received::add).get(WAIT_SECONDS, TimeUnit.SECONDS);
            subscriber.subscribe("interop/to-wscrt", MqttQoS.AT_LEAST_ONCE).get(WAIT_SECONDS, TimeUnit.SECONDS);
            byte[] text = "hello from mosquitto_pub".getBytes(StandardCharsets.UTF_8);
            byte[] binary = new byte[40_000];
            random.nextBytes(binary);
            Path file = Files.createTempFile("wscrt-interop", ".bin");
            Files.write(file, binary);
            for (List<String> payloadArgs : List.of(List.of("-m", new String(text, StandardCharsets.UTF_8)),
                    List.of("-f", file.toString()))) {
                List<String> command = new ArrayList<>(List.of("mosquitto_pub", "-h", "127.0.0.1", "-p",
                        Integer.toString(broker.tcpPort()), "-V", "mqttv311", "-i", "mosquitto-pub", "-q", "1", "-t",
                        "interop/to-wscrt"));
                command.addAll(payloadArgs);
                run(command, failures);
            }
            Files.delete(file);
            for (byte[] expected : List.of(text, binary)) {
                MqttClient.Message m = received.poll(WAIT_SECONDS, TimeUnit.SECONDS);
                check(failures, "mosquitto_pub -> wscrt, " + expected.length + " bytes",
                        m != null && java.util.Arrays.equals(expected, m.payload()),
                        m == null ? "nothing arrived" : m.payload().length + " bytes differ");
            }
            subscriber.disconnect().exceptionally(e -> null).get(WAIT_SECONDS, TimeUnit.SECONDS);
        }
        // A fresh broker for each part: after the part above, Moquette 0.17 here sent no CONNACK to the
        // next TCP client (mosquitto_sub), although none of its threads was blocked.
        try (MoquetteBroker broker = MoquetteBroker.start();
             TlsContext tls = new TlsContext(TlsContextOptions.createDefaultClient()
                     .withCertificateAuthority(TestCertificates.get().caPem()))) {
            // wscrt publisher (wss) -> mosquitto_sub (TCP)
            List<byte[]> sent = List.of("hello from wscrt".getBytes(StandardCharsets.UTF_8), new byte[16],
                    new byte[30_000]);
            random.nextBytes(sent.get(1));
            random.nextBytes(sent.get(2));
            Process sub = new ProcessBuilder("stdbuf", "-oL", "mosquitto_sub", "-h", "127.0.0.1", "-p", // stdbuf: lines as they come
                    Integer.toString(broker.tcpPort()), "-V", "mqttv311", "-i", "mosquitto-sub", "-q", "1", "-t",
                    "interop/from-wscrt",
                    "-d", "-C", Integer.toString(sent.size()), "-W", Long.toString(WAIT_SECONDS), "-F", "HEX %x")
                    .redirectErrorStream(true).start();
            BufferedReader out = new BufferedReader(new InputStreamReader(sub.getInputStream(), StandardCharsets.UTF_8));
            List<String> lines = new ArrayList<>();
            String line;
            while ((line = out.readLine()) != null && !line.contains("received SUBACK")) { // -W bounds it
                lines.add(line);
            }
            MqttClient publisher = MqttClient.connect(r -> WscrtTransport.connect(broker.wssUri(), tls, null, r),
                    "wscrt-interop-pub", m -> { }).get(WAIT_SECONDS, TimeUnit.SECONDS);
            for (byte[] payload : sent) {
                publisher.publish("interop/from-wscrt", payload, MqttQoS.AT_LEAST_ONCE)
                        .get(WAIT_SECONDS, TimeUnit.SECONDS);
            }
            List<String> hex = new ArrayList<>();
            while ((line = out.readLine()) != null) {
                lines.add(line);
                if (line.startsWith("HEX ")) {
                    hex.add(line.substring(4));
                }
            }
            boolean exited = sub.waitFor(WAIT_SECONDS, TimeUnit.SECONDS);
            check(failures, "mosquitto_sub ended by itself after " + sent.size() + " messages",
                    exited && sub.exitValue() == 0, "output: " + lines);
            for (int i = 0; i < sent.size(); i++) {
                String expected = HexFormat.of().formatHex(sent.get(i));
                check(failures, "wscrt -> mosquitto_sub, " + sent.get(i).length + " bytes",
                        i < hex.size() && hex.get(i).equalsIgnoreCase(expected),
                        i < hex.size() ? "differs" : "nothing arrived");
            }
            publisher.disconnect().exceptionally(e -> null).get(WAIT_SECONDS, TimeUnit.SECONDS);
        }
        try (MoquetteBroker broker = MoquetteBroker.start()) {
            // the example in examples/, against the same broker
            Path ca = Files.createTempFile("wscrt-interop-ca", ".pem");
            Files.writeString(ca, TestCertificates.get().caPem());
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            Finished example = runBounded(List.of(java, "-cp", System.getProperty("java.class.path"),
                    "examples/MqttOverWss.java", broker.wssUri().toString(), ca.toString()), 60);
            check(failures, "examples/MqttOverWss.java connects", example.exitCode() == 0
                    && example.output().contains("CONNACK: accepted"), example.output());
            Files.delete(ca);
        }
        System.out.println(failures.isEmpty() ? "mosquitto interop: all checks passed"
                : "mosquitto interop: FAILED: " + failures);
        System.exit(failures.isEmpty() ? 0 : 1);
    }

    private static void run(List<String> command, List<String> failures) throws IOException, InterruptedException {
        Finished p = runBounded(command, WAIT_SECONDS);
        if (p.exitCode() != 0) {
            failures.add(command.get(0) + " failed (exit " + p.exitCode() + "): " + p.output());
        }
    }

    /** A process's exit code (-1 if it was killed at the time limit) and its output. */
    private record Finished(int exitCode, String output) {
    }

    /** Runs {@code command} for at most {@code seconds}, its output to a file (so no read can block). */
    private static Finished runBounded(List<String> command, long seconds) throws IOException, InterruptedException {
        Path log = Files.createTempFile("wscrt-interop", ".log");
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            boolean done = p.waitFor(seconds, TimeUnit.SECONDS);
            if (!done) {
                p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
            String output = Files.readString(log).trim();
            return new Finished(done ? p.exitValue() : -1, done ? output : "killed after " + seconds + " s: " + output);
        } finally {
            Files.deleteIfExists(log);
        }
    }

    private static void check(List<String> failures, String what, boolean ok, String detail) {
        System.out.println((ok ? "ok   " : "FAIL ") + what + (ok ? "" : ": " + detail));
        if (!ok) {
            failures.add(what);
        }
    }
}
