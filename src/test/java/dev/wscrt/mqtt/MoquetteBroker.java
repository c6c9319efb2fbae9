package dev.wscrt.mqtt;

import dev.wscrt.tls.TestCertificates;
import io.moquette.broker.Server;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.util.Comparator;
import java.util.Properties;
import java.util.stream.Stream;

/**
 * A real MQTT broker for the tests and the benchmark: Moquette (Maven Central, test scope) run in this
 * JVM on 127.0.0.1 with a plain MQTT TCP listener and a secure WebSocket listener ({@code wss://127.0.0.1:
 * port/mqtt}) whose JKS keystore holds {@link TestCertificates#server()}, made at test time. Persistence
 * and telemetry are off; its data directory is a temporary one removed by {@link #close()}.
 *
 * <pre>{@code
 * try (MoquetteBroker broker = MoquetteBroker.start()) {
 *     ... broker.wssUri() ... broker.tcpPort() ...
 * }
 * }</pre>
 *
 * Not thread-safe: owned by one test thread; {@link #stop()} may be called once before {@link #close()}.
 */
public final class MoquetteBroker implements AutoCloseable {

    /** The largest MQTT packet and WebSocket frame the broker accepts (the load sends 64 KiB payloads). */
    public static final int MAX_PACKET = 1 << 20;
    private static final String STORE_PASSWORD = "wscrt-test";
    private static final int START_ATTEMPTS = 3;

    private final Path directory;
    private final Server server;
    private final BrokerWriteRoom writeRoom;
    private final int tcpPort;
    private final int wssPort;
    private boolean stopped;

    private MoquetteBroker(Path directory, Server server, BrokerWriteRoom writeRoom, int tcpPort, int wssPort) {
        this.directory = directory;
        this.server = server;
        this.writeRoom = writeRoom;
        this.tcpPort = tcpPort;
        this.wssPort = wssPort;
    }

    /** Starts the broker on two free ports (retried when a port was taken in between). */
    public static MoquetteBroker start() {
        Path directory;
        try {
            directory = Files.createTempDirectory("wscrt-moquette");
            writeKeyStore(directory.resolve("server.jks"));
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException("cannot prepare the broker's directory", e);
        }
        IllegalStateException last = null;
        for (int attempt = 0; attempt < START_ATTEMPTS; attempt++) {
            int tcp = freePort();
            int wss = freePort();
            Server server = new Server();
            try {
                server.startServer(config(directory, tcp, wss));
                BrokerWriteRoom writeRoom = BrokerWriteRoom.install(server);
                awaitListening(tcp);
                awaitListening(wss);
                return new MoquetteBroker(directory, server, writeRoom, tcp, wss);
            } catch (IOException | RuntimeException e) {
                server.stopServer();
                last = new IllegalStateException("Moquette did not start on ports " + tcp + "/" + wss, e);
            }
        }
        deleteTree(directory);
        throw last;
    }

    private static Properties config(Path directory, int tcpPort, int wssPort) {
        Properties p = new Properties();
        p.setProperty("host", "127.0.0.1");
        p.setProperty("port", Integer.toString(tcpPort));
        p.setProperty("websocket_port", "disabled");
        p.setProperty("secure_websocket_port", Integer.toString(wssPort));
        p.setProperty("websocket_path", "/mqtt");
        p.setProperty("jks_path", directory.resolve("server.jks").toString());
        p.setProperty("key_store_type", "jks");
        p.setProperty("key_store_password", STORE_PASSWORD);
        p.setProperty("key_manager_password", STORE_PASSWORD);
        p.setProperty("allow_anonymous", "true");
        p.setProperty("persistence_enabled", "false");
        p.setProperty("data_path", directory.toString());
        p.setProperty("telemetry_enabled", "false");
        p.setProperty("use_metrics", "false");
        p.setProperty("use_bugsnag", "false");
        p.setProperty("netty.mqtt.message_size", Integer.toString(MAX_PACKET));
        p.setProperty("websocket_max_frame_size", Integer.toString(MAX_PACKET));
        p.setProperty("session_queue_size", "65536");
        p.setProperty("buffer_flush_millis", "0");
        return p;
    }

    private static void writeKeyStore(Path file) throws IOException, GeneralSecurityException {
        TestCertificates certificates = TestCertificates.get();
        KeyStore store = KeyStore.getInstance("JKS");
        store.load(null, null);
        store.setKeyEntry("server", certificates.server().privateKey(), STORE_PASSWORD.toCharArray(),
                new Certificate[] {certificates.server().certificate(), certificates.ca().certificate()});
        try (OutputStream out = Files.newOutputStream(file)) {
            store.store(out, STORE_PASSWORD.toCharArray());
        }
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void awaitListening(int port) throws IOException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (true) {
            try (Socket probe = new Socket()) {
                probe.connect(new InetSocketAddress("127.0.0.1", port), 1_000);
                return;
            } catch (IOException e) {
                if (System.nanoTime() - deadline > 0) {
                    throw e;
                }
                dev.wscrt.testing.Await.sleep(20);
            }
        }
    }

    /** The broker's plain MQTT port on 127.0.0.1. */
    public int tcpPort() {
        return tcpPort;
    }

    /** {@code wss://127.0.0.1:port/mqtt}. */
    public URI wssUri() {
        return URI.create("wss://127.0.0.1:" + wssPort + "/mqtt");
    }

    /**
     * How many client channels (including the ones the listeners' readiness probes opened) were given the
     * write room that keeps the broker from dropping a QoS 1 message ({@link BrokerWriteRoom}).
     */
    public int channelsWithWriteRoom() {
        return writeRoom.channels();
    }

    /** Stops the broker now: its listeners close and every client connection is dropped. */
    public void stop() {
        if (!stopped) {
            stopped = true;
            server.stopServer();
        }
    }

    @Override
    public void close() {
        stop();
        deleteTree(directory);
    }

    private static void deleteTree(Path directory) {
        try (Stream<Path> paths = Files.walk(directory)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
