package dev.wscrt.tls;

import static dev.wscrt.testing.Testbed.closeCleanly;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wscrt.CrtRuntimeException;
import dev.wscrt.io.TlsConnectionOptions;
import dev.wscrt.io.TlsContext;
import dev.wscrt.io.TlsContextOptions;
import dev.wscrt.io.TlsVersion;
import dev.wscrt.testing.CallbackRecorder;
import dev.wscrt.testing.CallbackRecorder.Frame;
import dev.wscrt.testing.Hex;
import dev.wscrt.testing.NettyWebSocketServer;
import dev.wscrt.testing.ReceivedFrame;
import dev.wscrt.testing.ScriptedServer;
import dev.wscrt.testing.SendRecorder;
import dev.wscrt.testing.Testbed;
import dev.wscrt.websocket.IncomingFrame;
import dev.wscrt.websocket.OnConnectionSetupData;
import dev.wscrt.websocket.Opcode;
import dev.wscrt.websocket.WebSocket;
import dev.wscrt.websocket.WebSocketConnectOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * wss:// end to end against a real third-party TLS server: Netty's {@code SslHandler} (JDK provider)
 * in front of {@link NettyWebSocketServer}, with certificates made at test time
 * ({@link TestCertificates}). Trust (custom CA, system store, verification off), host-name checks,
 * expiry, self-signed, mTLS, forced TLS versions, ALPN, 16 MiB messages, the handshake timeout, and
 * native memory back to its baseline after the class.
 *
 * <p>The client connects to 127.0.0.1, so the certificate's IP entry is what is checked unless a test
 * sets a server name. What was negotiated is checked on both sides: the server's SslHandler
 * ({@link ServerTls}) and the client's {@link WebSocket#tlsVersion()} / {@link WebSocket#alpnProtocol()}.
 */
class WssTest {

    private static final String ALPN = "x-wscrt-test";

    @RegisterExtension
    static final Testbed testbed = Testbed.withLoopThreads(1);
    private static TestCertificates certs;

    @BeforeAll
    static void start() {
        certs = TestCertificates.get();
    }

    // ---- helpers --------------------------------------------------------------------------------

    private static NettyWebSocketServer start(ServerTls tls) {
        return NettyWebSocketServer.builder().sslContext(tls.sslContext()).start();
    }

    /** Connects over wss to the server's 127.0.0.1:port; returns the recorder (setup not yet awaited). */
    private static CallbackRecorder connect(NettyWebSocketServer server, TlsConnectionOptions tls) {
        CallbackRecorder rec = new CallbackRecorder();
        WebSocket.connect(testbed.options(server, rec).tlsConnectionOptions(tls).build());
        return rec;
    }

    private static WebSocket connectAndEcho(NettyWebSocketServer server, TlsConnectionOptions tls,
                                            CallbackRecorder rec, String text) {
        WebSocket.connect(testbed.options(server, rec).tlsConnectionOptions(tls).build());
        WebSocket ws = rec.awaitWebSocket();
        ws.sendFrame(Opcode.TEXT, text);
        Frame echo = rec.awaitFrames(1).get(0);
        assertEquals(Opcode.TEXT, echo.opcode());
        assertEquals(text, echo.text(), "echo over wss");
        assertEquals(text, server.awaitConnection().awaitFrames(1).get(0).text(), "text at the server");
        return ws;
    }

    /** Waits for a failed setup and checks its error name, that no HTTP answer came, and the grammar. */
    private static CrtRuntimeException assertSetupFails(CallbackRecorder rec, String errorName) {
        CrtRuntimeException e = rec.awaitSetupFailure();
        assertEquals(errorName, e.errorName(), () -> "setup failure: " + CallbackRecorder.describe(e));
        OnConnectionSetupData d = rec.awaitSetup();
        assertNull(d.handshakeResponseStatus(), "no HTTP answer after a TLS failure");
        rec.assertGrammar();
        return e;
    }

    /** What the client reports it negotiated: {@link WebSocket#tlsVersion()} and {@link WebSocket#alpnProtocol()}. */
    private record Negotiated(String tlsVersion, String alpnProtocol) {
    }

    private static Negotiated echoAndClose(TlsContextOptions clientOptions, ServerTls serverTls,
                                           Function<TlsContext, TlsConnectionOptions> connectionOptions) {
        try (TlsContext ctx = new TlsContext(clientOptions);
             NettyWebSocketServer server = start(serverTls)) {
            CallbackRecorder rec = new CallbackRecorder();
            WebSocket ws = connectAndEcho(server, connectionOptions.apply(ctx), rec, "hello over wss");
            Negotiated negotiated = new Negotiated(ws.tlsVersion(), ws.alpnProtocol());
            closeCleanly(ws, rec);
            return negotiated;
        }
    }

    /**
     * Connects with a context made of {@code clientOptions} to a server with {@code serverTls}: the TLS
     * handshake fails the setup with {@code errorName} (as {@link #assertSetupFails} checks it) and the server
     * sees no upgrade.
     */
    private static void assertHandshakeRefused(TlsContextOptions clientOptions, ServerTls serverTls,
                                               Function<TlsContext, TlsConnectionOptions> connectionOptions,
                                               String errorName) {
        try (TlsContext ctx = new TlsContext(clientOptions);
             NettyWebSocketServer server = start(serverTls)) {
            assertSetupFails(connect(server, connectionOptions.apply(ctx)), errorName);
            assertTrue(server.connections().isEmpty(), "no upgrade after a failed handshake");
        }
    }

    // ---- trust ----------------------------------------------------------------------------------

    @Test
    void echoOverWssWithTheCustomCa() {
        ServerTls serverTls = ServerTls.forCertificate(certs.server()).build();
        try (TlsContext ctx = new TlsContext(certs.clientTrustingTheCa());
             NettyWebSocketServer server = start(serverTls)) {
            CallbackRecorder rec = new CallbackRecorder();
            WebSocket ws = connectAndEcho(server, new TlsConnectionOptions(ctx), rec, "hello over wss");
            assertEquals(101, rec.awaitSetup().handshakeResponseStatus());

            ServerTls.Handshake hs = serverTls.awaitHandshake(0);
            assertNull(hs.failure(), "server handshake");
            assertEquals("TLSv1.3", hs.protocol(), "both sides allow TLS 1.3, so it is chosen");
            assertNull(hs.applicationProtocol(), "no ALPN offered, none selected");
            assertTrue(hs.clientCertificates().isEmpty(), "no client certificate without mTLS");
            assertEquals("TLSv1.3", ws.tlsVersion(), "the client's view of the version");
            assertNull(ws.alpnProtocol(), "the client's view: no ALPN");
            closeCleanly(ws, rec);
        }
    }

    @Test
    void serverNameLocalhostIsVerifiedAgainstTheCertificatesDnsName() {
        echoAndClose(certs.clientTrustingTheCa(), ServerTls.forCertificate(certs.server()).build(),
                ctx -> new TlsConnectionOptions(ctx).withServerName("localhost"));
    }

    @Test
    void oneContextServesManyConcurrentConnections() {
        int n = 8;
        try (TlsContext ctx = new TlsContext(certs.clientTrustingTheCa());
             NettyWebSocketServer server = start(ServerTls.forCertificate(certs.server()).build())) {
            List<CallbackRecorder> recs = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                recs.add(connect(server, new TlsConnectionOptions(ctx)));
            }
            List<WebSocket> sockets = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                WebSocket ws = recs.get(i).awaitWebSocket();
                ws.sendFrame(Opcode.TEXT, "connection " + i);
                sockets.add(ws);
            }
            for (int i = 0; i < n; i++) {
                assertEquals("connection " + i, recs.get(i).awaitFrames(1).get(0).text());
                closeCleanly(sockets.get(i), recs.get(i));
            }
        }
    }

    @Test
    void rejectedByDefaultWithoutTheCustomCa() {
        // The system trust store does not know the test CA, and the server sends its leaf alone.
        assertHandshakeRefused(TlsContextOptions.createDefaultClient(),
                ServerTls.forCertificate(certs.server()).build(), TlsConnectionOptions::new,
                "WSCRT_ERROR_TLS_CERT_UNKNOWN_CA");
    }

    static Stream<Arguments> unverifiableCertificates() {
        TestCertificates c = TestCertificates.get();
        return Stream.of(Arguments.of("signed by the test CA", c.server()), Arguments.of("expired", c.expired()),
                Arguments.of("for " + TestCertificates.WRONG_NAME, c.wrongName()),
                Arguments.of("self-signed", c.selfSigned()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("unverifiableCertificates")
    void acceptedWithVerifyPeerFalse(String what, TestCertificates.Issued certificate) {
        echoAndClose(TlsContextOptions.createDefaultClient().withVerifyPeer(false),
                ServerTls.forCertificate(certificate).build(), TlsConnectionOptions::new);
    }

    static Stream<Arguments> nameMismatches() {
        TestCertificates c = TestCertificates.get();
        return Stream.of(
                Arguments.of("certificate for " + TestCertificates.WRONG_NAME + ", connect to 127.0.0.1",
                        c.wrongName(), null),
                Arguments.of("certificate for " + TestCertificates.WRONG_NAME + ", server name localhost",
                        c.wrongName(), "localhost"),
                Arguments.of("certificate for localhost, server name other.name", c.server(), "other.name"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("nameMismatches")
    void wrongHostnameIsRejected(String what, TestCertificates.Issued certificate, String serverName) {
        assertHandshakeRefused(certs.clientTrustingTheCa(), ServerTls.forCertificate(certificate).build(), ctx -> {
            TlsConnectionOptions tls = new TlsConnectionOptions(ctx);
            if (serverName != null) {
                tls.withServerName(serverName);
            }
            return tls;
        }, "WSCRT_ERROR_TLS_CERT_HOSTNAME_MISMATCH");
    }

    @Test
    void expiredCertificateIsRejected() {
        assertHandshakeRefused(certs.clientTrustingTheCa(), ServerTls.forCertificate(certs.expired()).build(),
                TlsConnectionOptions::new, "WSCRT_ERROR_TLS_CERT_EXPIRED");
    }

    @Test
    void selfSignedCertificateIsRejected() {
        assertHandshakeRefused(certs.clientTrustingTheCa(), ServerTls.forCertificate(certs.selfSigned()).build(),
                TlsConnectionOptions::new, "WSCRT_ERROR_TLS_CERT_SELF_SIGNED");
    }

    // ---- mTLS -----------------------------------------------------------------------------------

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
    void mtlsRequiredAndProvidedWorks(String protocol) {
        ServerTls serverTls = ServerTls.forCertificate(certs.server()).protocols(protocol)
                .requireClientCertificate().build();
        try (TlsContext ctx = new TlsContext(certs.clientTrustingTheCa()
                .withMtls(certs.client().certificatePem(), certs.client().privateKeyPem()));
             NettyWebSocketServer server = start(serverTls)) {
            CallbackRecorder rec = new CallbackRecorder();
            WebSocket ws = connectAndEcho(server, new TlsConnectionOptions(ctx), rec, "hello with a client certificate");
            ServerTls.Handshake hs = serverTls.awaitHandshake(0);
            assertNull(hs.failure());
            assertEquals(protocol, hs.protocol());
            // OpenSSL sends the leaf, followed by the CA when it can build the chain from its trust store.
            assertFalse(hs.clientCertificates().isEmpty(), "the client sent its certificate");
            assertEquals(certs.client().certificate(), hs.clientCertificates().get(0), "the client's leaf first");
            closeCleanly(ws, rec);
        }
    }

    /**
     * tls_handler.h: a TLS 1.2 server refuses a missing client certificate inside the handshake; a TLS
     * 1.3 server only after the client finished its side, so the failure arrives as the channel's
     * error while the upgrade is still pending, and the connection setup fails with it. The names it
     * documents for this are {@code _CLIENT_CERT_REQUIRED} or {@code _ALERT_RECEIVED}: Netty's JDK
     * engine answers with a bad_certificate alert (42) in both versions, which the handler names
     * {@code _ALERT_RECEIVED} (it names only handshake_failure and certificate_required
     * {@code _CLIENT_CERT_REQUIRED}).
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
    void mtlsRequiredAndMissingFailsTheSetupWithANamedTlsFailure(String protocol) {
        ServerTls serverTls = ServerTls.forCertificate(certs.server()).protocols(protocol)
                .requireClientCertificate().build();
        try (TlsContext ctx = new TlsContext(certs.clientTrustingTheCa());
             NettyWebSocketServer server = start(serverTls)) {
            CallbackRecorder rec = connect(server, new TlsConnectionOptions(ctx));
            CrtRuntimeException e = rec.awaitSetupFailure();
            assertTrue(Set.of("WSCRT_ERROR_TLS_CLIENT_CERT_REQUIRED", "WSCRT_ERROR_TLS_ALERT_RECEIVED")
                    .contains(e.errorName()), () -> "setup failure: " + CallbackRecorder.describe(e));
            assertNull(rec.awaitSetup().handshakeResponseStatus());
            rec.assertGrammar();
            Throwable atServer = serverTls.awaitHandshake(0).failure();
            assertNotNull(atServer, "the server refused the handshake");
            assertTrue(String.valueOf(atServer.getMessage()).contains("certificate"),
                    () -> "the server refused for want of a client certificate: " + atServer);
            assertTrue(server.connections().isEmpty());
        }
    }

    // ---- versions -------------------------------------------------------------------------------

    static Stream<Arguments> forcedVersions() {
        return Stream.of(
                Arguments.of("server TLS 1.3 only", "TLSv1.3", new String[] {"TLSv1.3"}, null, null),
                Arguments.of("server TLS 1.2 only", "TLSv1.2", new String[] {"TLSv1.2"}, null, null),
                Arguments.of("client minimum TLS 1.3", "TLSv1.3", new String[] {"TLSv1.3", "TLSv1.2"},
                        TlsVersion.TLSv1_3, null),
                Arguments.of("client maximum TLS 1.2", "TLSv1.2", new String[] {"TLSv1.3", "TLSv1.2"}, null,
                        TlsVersion.TLSv1_2));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("forcedVersions")
    void forcedVersionIsNegotiated(String what, String expected, String[] serverProtocols, TlsVersion clientMinimum,
                                   TlsVersion clientMaximum) {
        TlsContextOptions options = certs.clientTrustingTheCa();
        if (clientMinimum != null) {
            options.withMinimumTlsVersion(clientMinimum);
        }
        if (clientMaximum != null) {
            options.withMaximumTlsVersion(clientMaximum);
        }
        ServerTls serverTls = ServerTls.forCertificate(certs.server()).protocols(serverProtocols).build();
        Negotiated atClient = echoAndClose(options, serverTls, TlsConnectionOptions::new);
        ServerTls.Handshake hs = serverTls.awaitHandshake(0);
        assertNull(hs.failure());
        assertEquals(expected, hs.protocol(), "the server's view");
        assertEquals(expected, atClient.tlsVersion(), "the client's view");
    }

    @Test
    void minimumTls13AgainstATls12OnlyServerFailsWithProtocolVersion() {
        ServerTls serverTls = ServerTls.forCertificate(certs.server()).protocols("TLSv1.2").build();
        assertHandshakeRefused(certs.clientTrustingTheCa().withMinimumTlsVersion(TlsVersion.TLSv1_3), serverTls,
                TlsConnectionOptions::new, "WSCRT_ERROR_TLS_PROTOCOL_VERSION");
    }

    // ---- ALPN -----------------------------------------------------------------------------------

    @Test
    void alpnFromTheContextIsNegotiated() {
        ServerTls serverTls = ServerTls.forCertificate(certs.server()).alpn(ALPN).build();
        Negotiated atClient = echoAndClose(certs.clientTrustingTheCa().withAlpnList("x-unknown", ALPN), serverTls,
                TlsConnectionOptions::new);
        assertEquals(ALPN, serverTls.awaitHandshake(0).applicationProtocol(), "the server's view");
        assertEquals(ALPN, atClient.alpnProtocol(), "the client's view");
    }

    @Test
    void alpnFromTheConnectionOptionsOverridesTheContexts() {
        ServerTls serverTls = ServerTls.forCertificate(certs.server()).alpn(ALPN, "x-context").build();
        Negotiated atClient = echoAndClose(certs.clientTrustingTheCa().withAlpnList("x-context"), serverTls,
                ctx -> new TlsConnectionOptions(ctx).withAlpnList(ALPN));
        assertEquals(ALPN, serverTls.awaitHandshake(0).applicationProtocol(), "the server's view");
        assertEquals(ALPN, atClient.alpnProtocol(), "the client's view");
    }

    @Test
    void noAlpnOfferedNoneSelected() {
        ServerTls serverTls = ServerTls.forCertificate(certs.server()).alpn(ALPN).build();
        Negotiated atClient = echoAndClose(certs.clientTrustingTheCa(), serverTls, TlsConnectionOptions::new);
        assertNull(serverTls.awaitHandshake(0).applicationProtocol());
        assertNull(atClient.alpnProtocol());
    }

    // ---- bulk -----------------------------------------------------------------------------------

    @Test
    void sixteenMibMessagesBothWaysAreIntact() {
        int size = 16 * 1024 * 1024;
        byte[] payload = Hex.pattern(size, 7);
        try (TlsContext ctx = new TlsContext(certs.clientTrustingTheCa());
             NettyWebSocketServer server = start(ServerTls.forCertificate(certs.server()).build())) {
            CallbackRecorder rec = new CallbackRecorder();
            WebSocket.connect(testbed.options(server, rec).sendQueueLimit(2L * size + 1024)
                    .tlsConnectionOptions(new TlsConnectionOptions(ctx)).build());
            WebSocket ws = rec.awaitWebSocket();
            SendRecorder sends = new SendRecorder();
            ws.sendFrame(Opcode.BINARY, payload, true, sends.callback());
            ws.sendFrame(Opcode.BINARY, payload, true, sends.callback());

            ReceivedFrame atServer = server.awaitConnection().awaitFrames(2, Duration.ofSeconds(30)).get(0);
            assertEquals(ReceivedFrame.BINARY, atServer.opcode());
            assertArrayEquals(payload, atServer.payload(), "16 MiB at the server");
            rec.await("two 16 MiB echoes", Duration.ofSeconds(30), () -> rec.frames().size() >= 2);
            for (Frame echo : rec.frames()) {
                assertEquals(new IncomingFrame(Opcode.BINARY, size, true), echo.frame());
                assertNull(echo.exception());
                assertArrayEquals(payload, echo.payload(), "16 MiB echoed back");
            }
            sends.awaitAllSucceeded();
            closeCleanly(ws, rec);
        }
    }

    // ---- timeout and options ----------------------------------------------------------------

    @Test
    void silentServerFailsWithHandshakeTimeout() {
        try (TlsContext ctx = new TlsContext(certs.clientTrustingTheCa());
             ScriptedServer silent = ScriptedServer.start()) {
            CallbackRecorder rec = new CallbackRecorder();
            WebSocket.connect(testbed.options(silent, rec)
                    .tlsConnectionOptions(new TlsConnectionOptions(ctx).withTimeoutMs(300)).build());
            silent.awaitConnection();
            assertSetupFails(rec, "WSCRT_ERROR_TLS_HANDSHAKE_TIMEOUT");
        }
    }

    @Test
    void defaultPortIs443WithTls() {
        try (TlsContext ctx = new TlsContext(certs.clientTrustingTheCa())) {
            WebSocketConnectOptions withTls = WebSocketConnectOptions.builder().host("example.invalid")
                    .tlsConnectionOptions(new TlsConnectionOptions(ctx)).onConnectionSetup(d -> { }).build();
            assertEquals(443, withTls.port());
            WebSocketConnectOptions withoutTls = WebSocketConnectOptions.builder().host("example.invalid")
                    .onConnectionSetup(d -> { }).build();
            assertEquals(80, withoutTls.port());
            WebSocketConnectOptions explicit = WebSocketConnectOptions.builder().host("example.invalid").port(8443)
                    .tlsConnectionOptions(new TlsConnectionOptions(ctx)).onConnectionSetup(d -> { }).build();
            assertEquals(8443, explicit.port());
        }
    }
}
