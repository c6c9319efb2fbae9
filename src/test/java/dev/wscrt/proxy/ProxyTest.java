package dev.wscrt.proxy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wscrt.CrtRuntimeException;
import dev.wscrt.http.HttpHeader;
import dev.wscrt.http.HttpProxyOptions;
import dev.wscrt.io.TlsConnectionOptions;
import dev.wscrt.io.TlsContext;
import dev.wscrt.testing.Await;
import dev.wscrt.testing.CallbackRecorder;
import dev.wscrt.testing.CallbackRecorder.Frame;
import dev.wscrt.testing.Hex;
import dev.wscrt.testing.NettyWebSocketServer;
import dev.wscrt.testing.Testbed;
import dev.wscrt.tls.ServerTls;
import dev.wscrt.tls.TestCertificates;
import dev.wscrt.websocket.OnConnectionSetupData;
import dev.wscrt.websocket.Opcode;
import dev.wscrt.websocket.WebSocket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * ws:// and wss:// through a real HTTP proxy that no one here wrote: tinyproxy (Debian's package, see
 * {@link TinyProxy}) tunnelling with CONNECT to a Netty WebSocket server on 127.0.0.1. Basic
 * authentication, the named failures for a proxy that says no (407, and any other status carried in
 * the setup data), and native memory back to its baseline after the class.
 *
 * <p>When tinyproxy is missing, {@value TinyProxy#INSTALL_SCRIPT} is run once; if it is still missing
 * the tests are skipped, saying so.
 */
class ProxyTest {

    private static final String USER = "wscrt";
    private static final String PASSWORD = "s3cret";

    @RegisterExtension
    static final Testbed testbed = Testbed.withLoopThreads(1);

    @BeforeAll
    static void start() {
        TinyProxy.ensureInstalled(); // runs the install script once when tinyproxy is missing
    }

    @BeforeEach
    void tinyproxyIsInstalled() {
        // The only skip of the suite: reported per test, with the script to run.
        Assumptions.assumeTrue(TinyProxy.ensureInstalled().isPresent(), TinyProxy::missingMessage);
    }

    // ---- helpers --------------------------------------------------------------------------------

    private static HttpProxyOptions proxyOptions(TinyProxy proxy) {
        return new HttpProxyOptions().withHost(proxy.host()).withPort(proxy.port());
    }

    private static HttpProxyOptions basicAuth(TinyProxy proxy, String user, String password) {
        return proxyOptions(proxy).withAuthType(HttpProxyOptions.AuthType.BASIC).withUsername(user)
                .withPassword(password);
    }

    /** Connects to the server (through the proxy) and returns the recorder, setup not yet awaited. */
    private static CallbackRecorder connect(NettyWebSocketServer server, HttpProxyOptions proxy,
                                            TlsConnectionOptions tls) {
        CallbackRecorder rec = new CallbackRecorder();
        WebSocket.connect(testbed.options(server, rec).proxyOptions(proxy).tlsConnectionOptions(tls).build());
        return rec;
    }

    private static void echoAndClose(NettyWebSocketServer server, CallbackRecorder rec, String text) {
        WebSocket ws = rec.awaitWebSocket();
        assertEquals(101, rec.awaitSetup().handshakeResponseStatus(), "the 101 of the target, not the proxy's 200");
        ws.sendFrame(Opcode.TEXT, text);
        assertEquals(text, rec.awaitFrames(1).get(0).text(), "echo through the tunnel");
        assertEquals(text, server.awaitConnection().awaitFrames(1).get(0).text(), "text at the server");
        ws.close();
        assertNull(rec.awaitShutdown().exception(), "a clean close reports no exception");
        rec.assertGrammar();
    }

    /** The proxy's log shows the CONNECT to the server (so the connection did go through it). */
    private static void assertTunnelled(TinyProxy proxy, NettyWebSocketServer server) {
        String request = "CONNECT " + server.host() + ":" + server.port();
        Await.until("tinyproxy to log '" + request + "'", Await.DEFAULT_TIMEOUT,
                () -> proxy.log().contains(request), proxy::log);
    }

    /**
     * Waits for a failed setup; checks name, carried status, a message naming the proxy apart from the
     * server with the proxy's status, and that the target saw no connection.
     */
    private static OnConnectionSetupData assertProxyRefused(CallbackRecorder rec, String errorName, int status,
                                                            TinyProxy proxy, NettyWebSocketServer target) {
        CrtRuntimeException e = rec.awaitSetupFailure();
        OnConnectionSetupData d = rec.awaitSetup();
        assertEquals(errorName, e.errorName(), () -> "setup failure: " + CallbackRecorder.describe(e)
                + ", status " + d.handshakeResponseStatus());
        assertTrue(e.getMessage().contains("proxy " + proxy.host() + ":" + proxy.port() + " refused CONNECT to server "
                + target.authority() + ": HTTP " + status), e.getMessage());
        assertEquals(status, d.handshakeResponseStatus(), "the proxy's status, carried in the setup data");
        assertNotNull(d.handshakeResponseHeaders(), "the proxy's headers, carried in the setup data");
        assertNull(d.websocket());
        rec.assertGrammar();
        assertEquals(0, target.tcpConnectionCount(), "the target must not have been reached");
        return d;
    }

    private static String header(OnConnectionSetupData d, String name) {
        return d.handshakeResponseHeaders().stream().filter(h -> h.name().equalsIgnoreCase(name))
                .map(HttpHeader::value).findFirst().orElse(null);
    }

    // ---- tunnels that work ------------------------------------------------------------------------

    @Test
    void wsThroughTheProxyEchoes() {
        try (NettyWebSocketServer server = NettyWebSocketServer.startEcho();
             TinyProxy proxy = TinyProxy.builder().connectPorts(server.port()).start()) {
            echoAndClose(server, connect(server, proxyOptions(proxy), null), "hello through tinyproxy");
            assertTunnelled(proxy, server);
            String host = server.upgradeRequests().get(0).getValue().stream()
                    .filter(h -> h.getKey().equalsIgnoreCase("Host")).map(java.util.Map.Entry::getValue)
                    .findFirst().orElseThrow();
            assertEquals(server.authority(), host, "the upgrade request names the target, not the proxy");
        }
    }

    @Test
    void wssThroughTheProxyEchoesWithTlsInsideTheTunnel() {
        ServerTls serverTls = ServerTls.forCertificate(TestCertificates.get().server()).build();
        try (TlsContext ctx = new TlsContext(TestCertificates.get().clientTrustingTheCa());
             NettyWebSocketServer server = NettyWebSocketServer.builder().sslContext(serverTls.sslContext()).start();
             TinyProxy proxy = TinyProxy.builder().connectPorts(server.port()).start()) {
            CallbackRecorder rec = connect(server, proxyOptions(proxy), new TlsConnectionOptions(ctx));
            WebSocket ws = rec.awaitWebSocket();
            byte[] mib = Hex.pattern(1024 * 1024, 3);
            ws.sendFrame(Opcode.BINARY, mib);
            ws.sendFrame(Opcode.TEXT, "hello over wss through tinyproxy");
            List<Frame> echoes = rec.awaitFrames(2);
            assertArrayEquals(mib, echoes.get(0).payload(), "1 MiB echoed over wss through the tunnel");
            assertEquals("hello over wss through tinyproxy", echoes.get(1).text());
            ServerTls.Handshake hs = serverTls.awaitHandshake(0);
            assertNull(hs.failure());
            assertEquals("TLSv1.3", hs.protocol(), "TLS end to end with the target, inside the tunnel");
            assertEquals("TLSv1.3", ws.tlsVersion(), "the client's view");
            ws.close();
            assertNull(rec.awaitShutdown().exception(), "a clean close reports no exception");
            rec.assertGrammar();
            assertTunnelled(proxy, server);
        }
    }

    @Test
    void basicAuthWithTheRightPasswordIsAccepted() {
        try (NettyWebSocketServer server = NettyWebSocketServer.startEcho();
             TinyProxy proxy = TinyProxy.builder().connectPorts(server.port()).basicAuth(USER, PASSWORD).start()) {
            echoAndClose(server, connect(server, basicAuth(proxy, USER, PASSWORD), null), "authenticated");
            assertTunnelled(proxy, server);
        }
    }

    // ---- the proxy says no ------------------------------------------------------------------------

    @Test
    void missingCredentialsFailWithAuthRequiredAnd407() {
        try (NettyWebSocketServer server = NettyWebSocketServer.startEcho();
             TinyProxy proxy = TinyProxy.builder().connectPorts(server.port()).basicAuth(USER, PASSWORD).start()) {
            OnConnectionSetupData d = assertProxyRefused(connect(server, proxyOptions(proxy), null),
                    "WSCRT_ERROR_HTTP_PROXY_AUTH_REQUIRED", 407, proxy, server);
            assertNotNull(header(d, "Proxy-Authenticate"), "a 407 carries the proxy's challenge");
        }
    }

    /**
     * A wrong password is refused before the target is reached, with the proxy's status carried. An
     * RFC 9110 proxy answers 407, named {@code _AUTH_REQUIRED}; Debian 12's tinyproxy 1.11.1 answers
     * 401 to credentials it rejects (tinyproxy issue #532, fixed upstream after 1.11.2), which the
     * library names as any other refusal, {@code _CONNECT_FAILED}.
     */
    @Test
    void wrongPasswordIsRefusedWithTheProxysStatusCarried() {
        try (NettyWebSocketServer server = NettyWebSocketServer.startEcho();
             TinyProxy proxy = TinyProxy.builder().connectPorts(server.port()).basicAuth(USER, PASSWORD).start()) {
            CallbackRecorder rec = connect(server, basicAuth(proxy, USER, "wrong-" + PASSWORD), null);
            Integer status = rec.awaitSetup().handshakeResponseStatus();
            assertTrue(status != null && (status == 407 || status == 401),
                    () -> "tinyproxy refuses a wrong password with 407 (or 401 before its fix), got " + status);
            assertProxyRefused(rec, status == 407 ? "WSCRT_ERROR_HTTP_PROXY_AUTH_REQUIRED"
                    : "WSCRT_ERROR_HTTP_PROXY_CONNECT_FAILED", status, proxy, server);
            Await.until("tinyproxy to log the failed authentication", Await.DEFAULT_TIMEOUT,
                    () -> proxy.log().toLowerCase(Locale.ROOT).contains("auth"), proxy::log);
        }
    }

    @Test
    void targetPortNotAllowedFailsWithConnectFailedAnd403() {
        try (NettyWebSocketServer allowed = NettyWebSocketServer.startEcho();
             NettyWebSocketServer refused = NettyWebSocketServer.startEcho();
             TinyProxy proxy = TinyProxy.builder().connectPorts(allowed.port()).start()) {
            OnConnectionSetupData d = assertProxyRefused(connect(refused, proxyOptions(proxy), null),
                    "WSCRT_ERROR_HTTP_PROXY_CONNECT_FAILED", 403, proxy, refused);
            assertNotNull(d.handshakeResponseBody(), "the proxy's error page is carried");
            assertTrue(new String(d.handshakeResponseBody(), StandardCharsets.UTF_8).contains("Access violation")
                    || proxy.log().contains("Refused CONNECT method on port " + refused.port()), proxy::log);
        }
    }

    @Test
    void unreachableTargetFailsWithConnectFailedAndTheProxysStatus() {
        int deadPort;
        try (NettyWebSocketServer gone = NettyWebSocketServer.startEcho()) {
            deadPort = gone.port();
        }
        try (NettyWebSocketServer placeholder = NettyWebSocketServer.startEcho();
             TinyProxy proxy = TinyProxy.builder().connectPorts(deadPort).start()) {
            CallbackRecorder rec = new CallbackRecorder();
            WebSocket.connect(rec.options("127.0.0.1", deadPort, testbed.bootstrap()).proxyOptions(proxyOptions(proxy))
                    .build());
            CrtRuntimeException e = rec.awaitSetupFailure();
            OnConnectionSetupData d = rec.awaitSetup();
            assertEquals("WSCRT_ERROR_HTTP_PROXY_CONNECT_FAILED", e.errorName(), CallbackRecorder.describe(e));
            // tinyproxy answers 500 "Unable to connect" when the target refuses the TCP connection.
            assertEquals(500, d.handshakeResponseStatus());
            assertTrue(e.getMessage().contains("proxy " + proxy.host() + ":" + proxy.port()
                    + " refused CONNECT to server 127.0.0.1:" + deadPort + ": HTTP 500"), e.getMessage());
            rec.assertGrammar();
            assertEquals(0, placeholder.tcpConnectionCount());
        }
    }

    @Test
    void proxyThatIsNotListeningFailsWithoutAStatus() {
        int deadPort;
        try (TinyProxy proxy = TinyProxy.builder().connectPorts(1).start()) {
            deadPort = proxy.port();
        }
        try (NettyWebSocketServer server = NettyWebSocketServer.startEcho()) {
            CallbackRecorder rec = connect(server, new HttpProxyOptions().withHost("127.0.0.1").withPort(deadPort),
                    null);
            CrtRuntimeException e = rec.awaitSetupFailure();
            assertEquals("WSCRT_ERROR_IO_SOCKET_CONNECTION_REFUSED", e.errorName(), CallbackRecorder.describe(e));
            assertTrue(e.getMessage().contains("connecting to proxy 127.0.0.1:" + deadPort + " (for server "
                    + server.authority() + ")"), e.getMessage());
            assertNull(rec.awaitSetup().handshakeResponseStatus());
            rec.assertGrammar();
            assertEquals(0, server.tcpConnectionCount());
        }
    }
}
