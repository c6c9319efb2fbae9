package dev.wscrt.websocket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wscrt.CrtRuntimeException;
import dev.wscrt.http.HttpProxyOptions;
import dev.wscrt.io.TlsConnectionOptions;
import dev.wscrt.io.TlsContext;
import dev.wscrt.io.TlsContextOptions;
import dev.wscrt.testing.CallbackRecorder;
import dev.wscrt.testing.NettyWebSocketServer;
import dev.wscrt.testing.ScriptedServer;
import dev.wscrt.testing.Testbed;
import dev.wscrt.tls.ServerTls;
import dev.wscrt.tls.TestCertificates;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.net.URI;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Errors say where and why: each failure's message names the server (and the proxy, apart from it),
 * the stage, and what was learnt there (HTTP status and body, the certificate check's result in words,
 * the trust store in use); every exception of the setup carries the stack of the connect call that started
 * the connection as a suppressed exception, and an open connection no longer keeps that stack (its
 * failures name the connection instead).
 */
class ConnectAttemptTest {

    @RegisterExtension
    static final Testbed testbed = Testbed.withLoopThreads(1);

    private static int closedPort() throws Exception {
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return probe.getLocalPort();
        }
    }

    /** Connects with the options {@code options} makes for a fresh recorder; returns the setup's failure. */
    private static CrtRuntimeException setupFailure(
            Function<CallbackRecorder, WebSocketConnectOptions.Builder> options) {
        CallbackRecorder rec = new CallbackRecorder();
        WebSocket.connect(options.apply(rec).build());
        return rec.awaitSetupFailure();
    }

    private static void assertMentions(Throwable e, String... facts) {
        for (String fact : facts) {
            assertTrue(e.getMessage().contains(fact), "'" + fact + "' in: " + e.getMessage());
        }
    }

    /** The suppressed exception holds the stack of the connect call, made from {@code testMethod}. */
    private static void assertCarriesConnectSite(Throwable e, String testMethod) {
        Throwable site = Arrays.stream(e.getSuppressed())
                .filter(s -> s.getMessage().equals("the connect call that started this connection"))
                .findFirst().orElseThrow(() -> new AssertionError("no connect site in " + e));
        assertTrue(Arrays.stream(site.getStackTrace()).anyMatch(f -> f.getMethodName().equals(testMethod)),
                "the stack reaches " + testMethod + ": " + Arrays.toString(site.getStackTrace()));
        assertTrue(Arrays.stream(site.getStackTrace()).anyMatch(f -> f.getMethodName().equals("connect")
                && f.getClassName().equals(WebSocket.class.getName())), "the stack holds WebSocket.connect");
    }

    /** An open connection's failure: named by its server, without the stack of a connect call long returned. */
    private static void assertCarriesNoConnectSite(Throwable e) {
        assertTrue(Arrays.stream(e.getSuppressed()).noneMatch(
                s -> s.getMessage().equals("the connect call that started this connection")), "connect site in " + e);
    }

    @Test
    void aRefusedConnectNamesTheServerAndCarriesTheConnectCallStack() throws Exception {
        int port = closedPort();
        CrtRuntimeException e = setupFailure(rec -> rec.options("127.0.0.1", port, testbed.bootstrap()));
        assertEquals("WSCRT_ERROR_IO_SOCKET_CONNECTION_REFUSED", e.errorName());
        assertMentions(e, "connecting to server 127.0.0.1:" + port);
        assertCarriesConnectSite(e, "aRefusedConnectNamesTheServerAndCarriesTheConnectCallStack");
    }

    @Test
    void aRefusedConnectToANameNamesTheAddressesTried() throws Exception {
        int port = closedPort();
        CrtRuntimeException e = setupFailure(rec -> rec.options("localhost", port, testbed.bootstrap()));
        assertEquals("WSCRT_ERROR_IO_SOCKET_CONNECTION_REFUSED", e.errorName());
        // localhost may also resolve to ::1; then both addresses were tried and both are named.
        String tried = e.getMessage().contains("[::1]:" + port) ? "localhost:" + port + " (tried " : "localhost (";
        assertMentions(e, "connecting to server " + tried, "127.0.0.1:" + port);
    }

    @Test
    void aNameThatDoesNotResolveIsNamed() {
        // A 64-character label is invalid: the resolver refuses it locally, no query leaves the machine.
        String host = "x".repeat(64) + ".invalid";
        CrtRuntimeException e = setupFailure(rec -> rec.options(host, 80, testbed.bootstrap()));
        assertTrue(e.errorName().startsWith("WSCRT_ERROR_IO_DNS_"), e.errorName());
        assertMentions(e, "resolving the host of " + host + ":80");
    }

    @Test
    void aProxyThatRefusesTheTcpConnectIsNamedApartFromTheServer() throws Exception {
        int proxyPort = closedPort();
        CrtRuntimeException e = setupFailure(rec -> rec.options("server.example", 80, testbed.bootstrap())
                .proxyOptions(new HttpProxyOptions().withHost("127.0.0.1").withPort(proxyPort)));
        assertEquals("WSCRT_ERROR_IO_SOCKET_CONNECTION_REFUSED", e.errorName());
        assertMentions(e, "connecting to proxy 127.0.0.1:" + proxyPort + " (for server server.example:80)");
    }

    @Test
    void aProxyThatRefusesConnectIsNamedWithTheServerAndItsAnswer() {
        ScriptedServer proxy = testbed.scriptedServer();
        CallbackRecorder rec = new CallbackRecorder();
        WebSocket.connect(rec.options("server.example", 443, testbed.bootstrap())
                .proxyOptions(new HttpProxyOptions().withHost(proxy.host()).withPort(proxy.port())).build());
        ScriptedServer.Conn conn = proxy.awaitConnection();
        conn.readRequest();
        conn.writeAscii("HTTP/1.1 403 Forbidden\r\nContent-Length: 11\r\n\r\nno tunnels!");
        CrtRuntimeException e = rec.awaitSetupFailure();
        assertEquals("WSCRT_ERROR_HTTP_PROXY_CONNECT_FAILED", e.errorName());
        assertMentions(e, "proxy " + proxy.authority() + " refused CONNECT to server server.example:443", "HTTP 403");
    }

    @Test
    void aRefusedUpgradeNamesTheServerTheRequestTheStatusAndTheBody() {
        ScriptedServer server = testbed.scriptedServer();
        CallbackRecorder rec = new CallbackRecorder();
        WebSocket.connect(testbed.options(server, rec).build());
        ScriptedServer.Conn conn = server.awaitConnection();
        String requestLine = conn.readRequest().requestLine();
        conn.writeAscii("HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 23\r\n\r\n"
                + "origin not allowed here");
        CrtRuntimeException e = rec.awaitSetupFailure();
        assertEquals("WSCRT_ERROR_WEBSOCKET_UPGRADE_FAILURE", e.errorName());
        String path = requestLine.split(" ")[1];
        assertMentions(e, "server " + server.authority() + " answered GET " + path,
                "HTTP 403", "body \"origin not allowed here\"");
    }

    @Test
    void anUntrustedIssuerIsSaidInWordsWithTheCaFileInUse(@TempDir Path dir) throws Exception {
        Path caFile = otherCaFile(dir);
        try (TlsContext ctx = trustingOnly(caFile);
             NettyWebSocketServer server = startTls(TestCertificates.get().server())) {
            CrtRuntimeException e = setupFailure(
                    rec -> testbed.options(server, rec).tlsConnectionOptions(new TlsConnectionOptions(ctx)));
            assertEquals("WSCRT_ERROR_TLS_CERT_UNKNOWN_CA", e.errorName());
            assertMentions(e, "TLS handshake with server 127.0.0.1:" + server.port(),
                    "untrusted issuer", "trusting CA file " + caFile);
        }
    }

    @Test
    void aTlsFailureWithANamedServerNamesTheAddressConnectedTo(@TempDir Path dir) throws Exception {
        Path caFile = otherCaFile(dir);
        try (TlsContext ctx = trustingOnly(caFile);
             NettyWebSocketServer server = startTls(TestCertificates.get().server())) {
            CrtRuntimeException e = setupFailure(rec -> rec.options("localhost", server.port(), testbed.bootstrap())
                    .tlsConnectionOptions(new TlsConnectionOptions(ctx)));
            assertEquals("WSCRT_ERROR_TLS_CERT_UNKNOWN_CA", e.errorName());
            // The server listens on 127.0.0.1 only: that is the address connected to, whatever was refused first.
            assertMentions(e,
                    "TLS handshake with server localhost (127.0.0.1:" + server.port() + "): untrusted issuer");
        }
    }

    @Test
    void anExpiredCertificateAndAWrongNameAreSaidInWords() {
        TestCertificates certs = TestCertificates.get();
        try (TlsContext ctx = new TlsContext(certs.clientTrustingTheCa());
             NettyWebSocketServer expired = startTls(certs.expired());
             NettyWebSocketServer wrongName = startTls(certs.wrongName())) {
            CrtRuntimeException e = setupFailure(
                    rec -> testbed.options(expired, rec).tlsConnectionOptions(new TlsConnectionOptions(ctx)));
            assertEquals("WSCRT_ERROR_TLS_CERT_EXPIRED", e.errorName());
            assertMentions(e, "certificate has expired", "trusting the CA certificates given in PEM");

            CrtRuntimeException e2 = setupFailure(
                    rec -> testbed.options(wrongName, rec).tlsConnectionOptions(new TlsConnectionOptions(ctx)));
            assertEquals("WSCRT_ERROR_TLS_CERT_HOSTNAME_MISMATCH", e2.errorName());
            assertMentions(e2, "host-name mismatch: the certificate is not for 127.0.0.1");
        }
    }

    @Test
    void aConnectionLostAfterSetupNamesTheServerWithoutTheConnectCallStack() {
        ScriptedServer server = testbed.scriptedServer();
        CallbackRecorder rec = new CallbackRecorder();
        WebSocket.connect(testbed.options(server, rec).build());
        ScriptedServer.Conn conn = server.awaitConnection();
        conn.handshake();
        assertNotNull(rec.awaitWebSocket());
        conn.reset();
        Throwable e = rec.awaitShutdown().exception();
        assertNotNull(e, "a reset is not a clean close");
        assertMentions(e, "connection to " + server.authority());
        assertCarriesNoConnectSite(e);
    }

    @Test
    void aConnectionLostAfterSetupThroughAProxyNamesTheServerAndTheProxy() {
        ScriptedServer proxy = testbed.scriptedServer();
        CallbackRecorder rec = new CallbackRecorder();
        WebSocket.connect(rec.options("server.example", 80, testbed.bootstrap())
                .proxyOptions(new HttpProxyOptions().withHost(proxy.host()).withPort(proxy.port())).build());
        ScriptedServer.Conn conn = proxy.awaitConnection();
        assertTrue(conn.readRequest().requestLine().startsWith("CONNECT server.example:80 "));
        conn.writeAscii("HTTP/1.1 200 Connection established\r\n\r\n");
        conn.handshake(); // the far end of the tunnel answers the upgrade
        assertNotNull(rec.awaitWebSocket());
        conn.reset();
        Throwable e = rec.awaitShutdown().exception();
        assertNotNull(e, "a reset is not a clean close");
        assertMentions(e, "connection to server.example:80 through proxy " + proxy.authority());
        assertCarriesNoConnectSite(e);
    }

    // ---- the message API: its futures and listener get the same messages --------------------------

    /** The exception a message-API connect future failed with. */
    private static CrtRuntimeException connectFailure(CompletableFuture<WebSocketConnection> connecting) {
        CompletionException e = assertThrows(CompletionException.class, connecting::join);
        return assertInstanceOf(CrtRuntimeException.class, e.getCause());
    }

    @Test
    void aMessageConnectToARefusedPortFailsItsFutureNamingTheServerAndTheConnectCall() throws Exception {
        int port = closedPort();
        CrtRuntimeException e = connectFailure(WebSocketConnection.builder(URI.create("ws://127.0.0.1:" + port + "/"))
                .bootstrap(testbed.bootstrap()).connect(new MessageRecorder()));
        assertEquals("WSCRT_ERROR_IO_SOCKET_CONNECTION_REFUSED", e.errorName());
        assertMentions(e, "connecting to server 127.0.0.1:" + port);
        assertCarriesConnectSite(e, "aMessageConnectToARefusedPortFailsItsFutureNamingTheServerAndTheConnectCall");
    }

    @Test
    void aMessageConnectToAnUntrustedCertificateSaysSoWithTheTrustStore(@TempDir Path dir) throws Exception {
        Path caFile = otherCaFile(dir);
        try (TlsContext ctx = trustingOnly(caFile);
             NettyWebSocketServer server = startTls(TestCertificates.get().server())) {
            CrtRuntimeException e = connectFailure(WebSocketConnection.builder(
                            URI.create("wss://127.0.0.1:" + server.port() + "/feed"))
                    .bootstrap(testbed.bootstrap()).tlsContext(ctx).connect(new MessageRecorder()));
            assertEquals("WSCRT_ERROR_TLS_CERT_UNKNOWN_CA", e.errorName());
            assertMentions(e, "TLS handshake with server 127.0.0.1:" + server.port(), "untrusted issuer",
                    "trusting CA file " + caFile);
        }
    }

    @Test
    void aMessageConnectRefusedUpgradeNamesTheServerTheRequestTheStatusAndTheBody() {
        NettyWebSocketServer server = testbed.nettyServer(b -> b.rejectUpgrades(403, "not you"));
        CrtRuntimeException e = connectFailure(WebSocketConnection.builder(
                        URI.create("ws://" + server.authority() + "/chat"))
                .bootstrap(testbed.bootstrap()).connect(new MessageRecorder()));
        WebSocketHandshakeException refused = assertInstanceOf(WebSocketHandshakeException.class, e);
        assertEquals(403, refused.status());
        assertMentions(e, "server " + server.authority() + " answered GET /chat", "HTTP 403", "body \"not you\"");
        assertCarriesConnectSite(e, "aMessageConnectRefusedUpgradeNamesTheServerTheRequestTheStatusAndTheBody");
    }

    @Test
    void aMessageConnectionLostAfterTheOpenReportsTheServerToTheListener() {
        ScriptedServer server = testbed.scriptedServer();
        MessageRecorder rec = new MessageRecorder();
        CompletableFuture<WebSocketConnection> connecting = WebSocketConnection.builder(
                URI.create("ws://localhost:" + server.port() + "/")).bootstrap(testbed.bootstrap()).connect(rec);
        ScriptedServer.Conn conn = server.awaitConnection();
        conn.handshake();
        assertNotNull(connecting.join());
        conn.reset();
        Throwable e = rec.awaitEnd().error();
        assertNotNull(e, "a reset is not a clean close");
        assertMentions(e, "connection to localhost (127.0.0.1:" + server.port() + ")");
        assertCarriesNoConnectSite(e);
    }

    /** A CA file in {@code dir} holding a self-signed certificate: not the test CA, which issued the server's. */
    private static Path otherCaFile(Path dir) throws IOException {
        return Files.writeString(dir.resolve("other-ca.pem"), TestCertificates.get().selfSigned().certificatePem());
    }

    /** A client TLS context whose only trust is the CA file {@code caFile}. */
    private static TlsContext trustingOnly(Path caFile) {
        return new TlsContext(TlsContextOptions.createDefaultClient()
                .withCertificateAuthorityFromPath(caFile.toString(), null));
    }

    private static NettyWebSocketServer startTls(TestCertificates.Issued certificate) {
        return NettyWebSocketServer.builder().sslContext(ServerTls.forCertificate(certificate).build().sslContext())
                .start();
    }
}
