package dev.wscrt.tls;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.wscrt.io.TlsConnectionOptions;
import dev.wscrt.io.TlsContext;
import dev.wscrt.loadserver.LoadServerProcess;
import dev.wscrt.loadserver.TlsPort;
import dev.wscrt.testing.CallbackRecorder;
import dev.wscrt.testing.CallbackRecorder.Frame;
import dev.wscrt.testing.Hex;
import dev.wscrt.testing.SendRecorder;
import dev.wscrt.testing.Testbed;
import dev.wscrt.websocket.Opcode;
import dev.wscrt.websocket.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * wscrt's own TLS 1.3 record layer (which takes over from OpenSSL once the handshake is done) against the
 * JDK's TLS: a JDK server sends a KeyUpdate that asks for ours each time one of its keys has protected, or
 * opened, {@value #KEY_LIMIT} bytes. The JDK reads that limit (the security property
 * {@code jdk.tls.keyLimits}) once per JVM, so the server is the shared {@code LoadServer} in a child JVM.
 * The JDK does not insist on the KeyUpdate it asks for in return (ours is sent, as OpenSSL's server, which
 * counts them, checks in {@code crt/tests/io_tls_records_test.c}, with the cases around the exchange); what
 * this test holds is that every record after each of the JDK's KeyUpdates is opened with the next key.
 */
class TlsKeyUpdateInteropTest {
    /** Bytes a JDK key protects (or opens) before the JDK asks for new keys both ways. */
    private static final int KEY_LIMIT = 64 * 1024;
    private static final int MESSAGE_SIZE = 60 * 1024;
    private static final int MESSAGES = 64;
    /** Longer than the hand-over's delay without a ticket (WSCRT_TLS_HAND_OVER_DELAY_MS, 1 s). */
    private static final Duration HAND_OVER_WAIT = Duration.ofMillis(1_500);

    @RegisterExtension
    static final Testbed testbed = Testbed.withLoopThreads(1);

    @Test
    void aJdkServerUpdatingItsKeysEvery64KiBEchoesFourMibIntact(@TempDir Path dir) throws Exception {
        TestCertificates certs = TestCertificates.get();
        Path cert = Files.writeString(dir.resolve("server.pem"), certs.server().certificatePem());
        Path key = Files.writeString(dir.resolve("server.key"), certs.server().privateKeyPem());
        Path limits = Files.writeString(dir.resolve("key-limits.security"), "jdk.tls.keyLimits="
                + "AES/GCM/NoPadding KeyUpdate " + KEY_LIMIT + ", ChaCha20-Poly1305 KeyUpdate " + KEY_LIMIT + "\n");
        try (LoadServerProcess server = LoadServerProcess.start(
                List.of("-Xmx256m", "-Djava.security.properties=" + limits),
                List.of("--threads=1", "--tls-cert=" + cert, "--tls-key=" + key), null);
             TlsContext ctx = new TlsContext(certs.clientTrustingTheCa())) {
            CallbackRecorder rec = new CallbackRecorder();
            WebSocket ws = testbed.connect(rec.options("localhost", server.tlsPort(TlsPort.RESUMABLE),
                    testbed.bootstrap()).tlsConnectionOptions(new TlsConnectionOptions(ctx)), rec);
            assertEquals("TLSv1.3", ws.tlsVersion());
            // Sent once OpenSSL has handed the records over (after the server's ticket, or the delay without
            // one), so that every KeyUpdate of the exchange reaches wscrt's record layer.
            Thread.sleep(HAND_OVER_WAIT.toMillis());

            byte[][] sent = new byte[MESSAGES][];
            SendRecorder sends = new SendRecorder();
            for (int i = 0; i < MESSAGES; i++) {
                sent[i] = Hex.pattern(MESSAGE_SIZE, i);
                ws.sendFrame(Opcode.BINARY, sent[i], true, sends.callback());
            }
            rec.await(MESSAGES + " echoes", Duration.ofSeconds(30),
                    () -> rec.frames().size() >= MESSAGES || rec.shutdownSeen());
            List<Frame> echoes = rec.frames();
            assertEquals(MESSAGES, echoes.size(), () -> "the connection ended early: " + rec.summary());
            for (int i = 0; i < MESSAGES; i++) {
                assertNull(echoes.get(i).exception(), "echo " + i);
                assertArrayEquals(sent[i], echoes.get(i).payload(), "echo " + i + " is what was sent");
            }
            sends.awaitAllSucceeded();
            Testbed.closeCleanly(ws, rec);
        }
    }
}
