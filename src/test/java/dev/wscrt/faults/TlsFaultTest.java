package dev.wscrt.faults;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wscrt.io.TlsConnectionOptions;
import dev.wscrt.io.TlsContext;
import dev.wscrt.testing.Await;
import dev.wscrt.testing.CallbackRecorder.Frame;
import dev.wscrt.testing.Hex;
import dev.wscrt.testing.ReceivedFrame;
import dev.wscrt.testing.ScriptedServer;
import dev.wscrt.tls.TestCertificates;
import dev.wscrt.websocket.IncomingFrame;
import dev.wscrt.websocket.Opcode;
import dev.wscrt.websocket.WebSocket;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Date;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * TLS faults: a scripted TLS server ({@link TlsPeer}: the JDK's SSLEngine over a socket the test drives,
 * certificates made at test time) or a raw socket where the bytes are not TLS at all. The client trusts the
 * test CA and connects wss to 127.0.0.1. See {@link Fault} for what each case owes and
 * {@link FaultTestBase} for the checks after every case.
 */
class TlsFaultTest extends FaultTestBase {

    private static TlsContext tls;

    @BeforeAll
    static void createTheTlsContext() {
        tls = new TlsContext(TestCertificates.get().clientTrustingTheCa());
    }

    @AfterAll
    static void closeTheTlsContext() {
        tls.close();
    }

    private static SSLContext serverContext() {
        return TlsPeer.context(TestCertificates.get().server(), TestCertificates.get().ca().certificate());
    }

    private static TlsConnectionOptions wss() {
        return new TlsConnectionOptions(tls);
    }

    /** Connects wss to {@code port} and returns the peer's accepted (not yet handshaken) connection. */
    private static TlsPeer.Conn connect(FaultCase fc, TlsPeer peer, TlsConnectionOptions options) {
        fc.connect(fc.options(peer.port()).tlsConnectionOptions(options));
        return peer.accept();
    }

    /** A case on an open wss connection: the server's side, and the client's WebSocket. */
    @FunctionalInterface
    private interface OnEstablished {
        /** Drives the case and returns the report's extra text ("" for none). */
        String run(FaultCase fc, TlsPeer.Conn c, WebSocket ws) throws Exception;
    }

    /**
     * Runs {@code body} once TLS ({@code version}, the test certificates) and the upgrade are done with a
     * scripted TLS server, then closes the client's WebSocket and reports the case.
     */
    private void established(Fault fault, String version, OnEstablished body) throws Exception {
        try (TlsPeer peer = TlsPeer.start(serverContext(), version)) {
            FaultCase fc = begin(fault);
            TlsPeer.Conn c = connect(fc, peer, wss());
            c.handshake();
            c.answerUpgrade();
            WebSocket ws = fc.awaitWebSocket();
            String extra = body.run(fc, c, ws);
            ws.close();
            fc.report(extra);
        }
    }

    // ---- the handshake ----------------------------------------------------------------------------

    @Test
    void resetDuringTheTlsHandshakeFailsSetupNamingThePeer() throws Exception {
        scripted(Fault.TLS_RESET_DURING_HANDSHAKE, o -> o.tlsConnectionOptions(wss()), (fc, c) -> {
            byte[] hello = readTlsRecord(c);
            assertEquals(0x16, hello[0] & 0xff, "a handshake record (the ClientHello) first");
            fc.faultNow();
            c.reset();
            fc.verify();
            fc.report("after a " + hello.length + "-byte ClientHello record");
        });
    }

    @Test
    void bytesThatAreNotAServerHelloFailSetupWithHandshakeFailure() throws Exception {
        scripted(Fault.TLS_NOT_A_SERVER_HELLO, o -> o.tlsConnectionOptions(wss()), (fc, c) -> {
            readTlsRecord(c);
            fc.faultNow();
            c.tryWrite(Hex.ascii("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"));
            fc.verify();
            assertNull(fc.recorder().awaitSetup().handshakeResponseStatus(), "no HTTP status from a TLS failure");
            c.awaitEof();
            fc.report("");
        });
    }

    @Test
    void handshakeTrickledOneBytePer100MsFailsAtTheTlsHandshakeTimeout() throws Exception {
        try (TlsPeer peer = TlsPeer.start(serverContext(), "TLSv1.3");
             TrickleRelay relay = new TrickleRelay(peer.port(), 100, 600)) {
            Thread server = serveOneHandshakeInTheBackground(peer);
            FaultCase fc = begin(Fault.TLS_HANDSHAKE_TRICKLED);
            fc.connect(fc.options(relay.port()).tlsConnectionOptions(wss().withTimeoutMs(1000)));
            fc.verify();
            fc.report(relay.trickled() + " bytes of the server's flight had reached the client");
            relay.close();
            server.join(5000);
        }
    }

    @Test
    void certificateChainOfSeveralHundredKilobytesIsRefusedWithBoundedMemory() throws Exception {
        int extensionBytes = 400 * 1024;
        TestCertificates.Issued big = certificateWithExtension(extensionBytes);
        try (TlsPeer peer = TlsPeer.start(TlsPeer.context(big, TestCertificates.get().ca().certificate()),
                "TLSv1.3")) {
            long rssBefore = rssBytes();
            FaultCase fc = begin(Fault.TLS_CERT_CHAIN_400_KIB);
            TlsPeer.Conn c = connect(fc, peer, wss());
            long peakRss;
            try (RssPeak rss = new RssPeak()) {
                fc.faultNow();
                assertThrows(AssertionError.class, c::handshake, "the client gives up on the certificate");
                fc.recorder().awaitSetup();
                peakRss = rss.peak();
            }
            fc.verify();
            long growth = peakRss - rssBefore;
            // The whole JVM's RSS (the server's 400 KiB message and its copies included): a loose bound.
            assertTrue(growth < 64L * 1024 * 1024, "RSS grew by " + growth / 1024 + " KiB");
            fc.report("certificate " + big.certificate().getEncoded().length / 1024 + " KiB; sampled JVM RSS "
                    + "growth " + Math.max(0, growth) / 1024 + " KiB (server included)");
        }
    }

    // ---- an established connection ------------------------------------------------------------

    @Test
    void fatalAlertFromTheServerMidStreamShutsDownWithAlertReceived() throws Exception {
        established(Fault.TLS_FATAL_ALERT_MID_STREAM, "TLSv1.3", (fc, c, ws) -> {
            ws.sendFrame(Opcode.TEXT, "tamper with me");
            byte[] record = c.readRawRecord();
            record[record.length - 1] ^= 0x01; // the last byte of the AEAD tag
            assertThrows(SSLException.class, () -> c.unwrapRecord(record), "the server's engine rejects it");
            fc.faultNow();
            byte[] alert = c.wrap(java.nio.ByteBuffer.allocate(0)); // the engine's fatal alert
            assertTrue(alert.length > 0, "the server's engine has an alert to send");
            c.writeRaw(alert);
            c.close();
            fc.verify();
            assertEquals(0, fc.recorder().frames().size(), "no frames");
            return "server sent a " + alert.length + "-byte alert record";
        });
    }

    @Test
    void tcpFinWithoutCloseNotifyInTheMiddleOfAMessageIsAnErrorNeverACleanClose() throws Exception {
        established(Fault.TLS_FIN_MID_MESSAGE, "TLSv1.3", (fc, c, ws) -> {
            c.writePlain(Hex.concat(Hex.bytes("82 7e 01 00"), Hex.pattern(100, 1))); // 256 announced, 100 sent
            fc.recorder().awaitDataBytes(100);
            fc.faultNow();
            c.finWithoutCloseNotify();
            Frame f = fc.verifyTheOpenFrameCompletesWithTheError(new IncomingFrame(Opcode.BINARY, 256, true));
            assertArrayEquals(Hex.pattern(100, 1), f.payload());
            return "";
        });
    }

    @Test
    void bytesAfterCloseNotifyAreNeitherDeliveredNorAnError() throws Exception {
        established(Fault.TLS_DATA_AFTER_CLOSE_NOTIFY, "TLSv1.3", (fc, c, ws) -> {
            c.writePlain(ScriptedServer.frame(true, ReceivedFrame.TEXT, Hex.ascii("before")));
            assertEquals("before", fc.recorder().awaitFrames(1).get(0).text());
            fc.faultNow();
            c.closeNotify();
            // An application_data record header and 32 bytes: what a server writing on would send.
            byte[] after = Hex.concat(Hex.bytes("17 03 03 00 20"), Hex.pattern(32, 7));
            c.writeRaw(after);
            fc.verify();
            assertEquals(1, fc.recorder().frames().size(), "only the frame before close_notify: "
                    + fc.recorder().summary());
            return "";
        });
    }

    @Test
    void tls12RenegotiationRequestIsRefusedAndTheConnectionGoesOn() throws Exception {
        established(Fault.TLS12_RENEGOTIATION_REQUEST, "TLSv1.2", (fc, c, ws) -> {
            assertEquals("TLSv1.2", ws.tlsVersion());
            fc.faultNow();
            c.requestRenegotiation();
            // The client's answer, read raw: its type is in the clear even though its body is encrypted. A
            // ClientHello would be a handshake record (22). It is not given to the server's engine, which would
            // end the connection over the refusal (the JDK answers no_renegotiation with a fatal alert): the
            // server only writes from here on, and ends with a CLOSE frame and a TCP FIN.
            byte[] answer = c.readRawRecord();
            assertEquals(21, answer[0] & 0xff, "the client answers the HelloRequest with an alert record, not a "
                    + "ClientHello: record type " + (answer[0] & 0xff));
            c.writePlain(ScriptedServer.frame(true, ReceivedFrame.TEXT, Hex.ascii("after")));
            Frame after = fc.recorder().awaitFrames(1).get(0);
            assertEquals("after", after.text(), "the connection goes on after the refusal");
            c.writePlain(ScriptedServer.frame(true, ReceivedFrame.CLOSE, ScriptedServer.closePayload(1000, "")));
            fc.recorder().awaitFrames(2);
            c.closeNotify();
            c.finWithoutCloseNotify();
            fc.verify();
            return "the client's answer: a " + answer.length + "-byte alert record (type 21)";
        });
    }

    // ---- helpers ------------------------------------------------------------------------------------

    /** Reads one TLS record (header and body) as raw bytes from a plain scripted connection. */
    private static byte[] readTlsRecord(ScriptedServer.Conn c) {
        try {
            java.io.InputStream in = c.socket().getInputStream();
            byte[] header = in.readNBytes(5);
            assertEquals(5, header.length, "a TLS record header from the client");
            int length = ((header[3] & 0xff) << 8) | (header[4] & 0xff);
            return Hex.concat(header, in.readNBytes(length));
        } catch (IOException e) {
            throw new AssertionError("reading the ClientHello failed: " + e, e);
        }
    }

    /** Accepts one connection on {@code peer} and runs its handshake on a daemon thread (failure ignored). */
    private static Thread serveOneHandshakeInTheBackground(TlsPeer peer) {
        Thread t = new Thread(() -> {
            try (TlsPeer.Conn c = peer.accept()) {
                c.handshake();
            } catch (AssertionError expected) {
                // the client gives up first
            }
        }, "tls-peer-background");
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** A server certificate for 127.0.0.1 and localhost, signed by the test CA, with a filler extension. */
    private static TestCertificates.Issued certificateWithExtension(int fillerBytes) throws Exception {
        TestCertificates.Issued ca = TestCertificates.get().ca();
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair keys = generator.generateKeyPair();
        Instant now = Instant.now();
        JcaX509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(
                new JcaX509CertificateHolder(ca.certificate()).getSubject(), BigInteger.valueOf(now.toEpochMilli()),
                Date.from(now.minus(1, ChronoUnit.HOURS)), Date.from(now.plus(1, ChronoUnit.DAYS)),
                new X500Name("CN=wscrt big certificate"), keys.getPublic());
        builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
                new GeneralName(GeneralName.dNSName, "localhost"), new GeneralName(GeneralName.iPAddress, "127.0.0.1")}));
        // A private-arc OID (non-critical, so only its size matters).
        builder.addExtension(new ASN1ObjectIdentifier("1.3.6.1.4.1.55555.16.1"), false,
                new DEROctetString(Hex.pattern(fillerBytes, 3)));
        X509Certificate cert = new JcaX509CertificateConverter().getCertificate(
                builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(ca.privateKey())));
        return new TestCertificates.Issued(cert, keys.getPrivate());
    }

    /** This process's resident set size, from /proc/self/status. */
    static long rssBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        throw new AssertionError("no VmRSS in /proc/self/status");
    }

    /** Samples {@link #rssBytes()} every millisecond on a daemon thread; keeps the largest. */
    private static final class RssPeak implements AutoCloseable {
        private volatile long peak = rssBytes();
        private volatile boolean running = true;
        private final Thread sampler = new Thread(() -> {
            while (running) {
                peak = Math.max(peak, rssBytes());
                Await.sleep(1);
            }
        }, "rss-peak");

        RssPeak() {
            sampler.setDaemon(true);
            sampler.start();
        }

        long peak() {
            return Math.max(peak, rssBytes());
        }

        @Override
        public void close() throws InterruptedException {
            running = false;
            sampler.join(1000);
        }
    }
}
