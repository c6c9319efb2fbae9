package dev.wscrt.tls;

import static dev.wscrt.testing.Testbed.closeCleanly;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wscrt.io.TlsConnectionOptions;
import dev.wscrt.io.TlsContext;
import dev.wscrt.testing.CallbackRecorder;
import dev.wscrt.testing.NettyWebSocketServer;
import dev.wscrt.testing.Testbed;
import dev.wscrt.websocket.Opcode;
import dev.wscrt.websocket.WebSocket;
import dev.wscrt.websocket.WebSocketConnection;
import dev.wscrt.websocket.WebSocketListener;
import java.net.URI;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * TLS session resumption over wss:// against the real third-party TLS server of {@link WssTest}
 * (Netty's {@code SslHandler}, JDK provider, certificates made at test time): a {@link TlsContext}
 * keeps the session each server gave it and the next connection to that server resumes it, which
 * {@link WebSocket#tlsSessionResumed()} reports (OpenSSL's view: the server accepted the offered session).
 * Servers that must not be resumed share one server {@code SslContext} with the one that issued the
 * session (one session cache, one set of ticket keys), so an offered session would be accepted and seen.
 * Native memory is back to its baseline after the class (the contexts free their cached sessions).
 */
class WssResumptionTest {

    @RegisterExtension
    static final Testbed testbed = Testbed.withLoopThreads(1);
    private static final TestCertificates certs = TestCertificates.get();

    private static NettyWebSocketServer start(ServerTls tls) {
        return testbed.nettyServer(b -> b.sslContext(tls.sslContext()));
    }

    /** One wss connection to the server's 127.0.0.1:port: echo, clean close; returns what the client saw. */
    private record Seen(String tlsVersion, boolean resumed) {
    }

    private static Seen connectEchoClose(NettyWebSocketServer server, TlsContext ctx) {
        CallbackRecorder rec = new CallbackRecorder();
        WebSocket ws = testbed.connect(testbed.options(server, rec).tlsConnectionOptions(new TlsConnectionOptions(ctx)),
                rec);
        ws.sendFrame(Opcode.TEXT, "hello");
        assertEquals("hello", rec.awaitFrames(1).get(0).text(), "echo over wss");
        Seen seen = new Seen(ws.tlsVersion(), ws.tlsSessionResumed());
        closeCleanly(ws, rec);
        return seen;
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
    void aSecondConnectionToTheSameServerResumesTheSession(String version) {
        try (TlsContext ctx = new TlsContext(certs.clientTrustingTheCa())) {
            NettyWebSocketServer server = start(ServerTls.forCertificate(certs.server()).protocols(version).build());
            Seen first = connectEchoClose(server, ctx);
            assertEquals(version, first.tlsVersion());
            assertFalse(first.resumed(), "the first connection makes a full handshake");
            Seen second = connectEchoClose(server, ctx);
            assertEquals(version, second.tlsVersion());
            assertTrue(second.resumed(), "the second connection resumes the first one's session");
            assertTrue(connectEchoClose(server, ctx).resumed(), "and so does the third");
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
    void withSessionResumptionOffEveryConnectionMakesAFullHandshake(String version) {
        try (TlsContext ctx = new TlsContext(certs.clientTrustingTheCa().withSessionResumption(false))) {
            NettyWebSocketServer server = start(ServerTls.forCertificate(certs.server()).protocols(version).build());
            for (int i = 0; i < 3; i++) {
                assertFalse(connectEchoClose(server, ctx).resumed(), "connection " + i);
            }
        }
    }

    @Test
    void aSessionIsNotOfferedToAnotherPortOfTheSameServer() {
        ServerTls serverTls = ServerTls.forCertificate(certs.server()).build();
        try (TlsContext ctx = new TlsContext(certs.clientTrustingTheCa())) {
            NettyWebSocketServer portA = start(serverTls);
            NettyWebSocketServer portB = start(serverTls); // same SslContext: it would accept port A's session
            assertFalse(connectEchoClose(portA, ctx).resumed());
            assertFalse(connectEchoClose(portB, ctx).resumed(), "port A's session is not offered to port B");
            assertTrue(connectEchoClose(portB, ctx).resumed(), "port B resumes its own session");
            assertTrue(connectEchoClose(portA, ctx).resumed(), "port A's session is still there");
        }
    }

    @Test
    void aSessionIsNotOfferedThroughAnotherContext() {
        NettyWebSocketServer server = start(ServerTls.forCertificate(certs.server()).build());
        try (TlsContext first = new TlsContext(certs.clientTrustingTheCa());
             TlsContext second = new TlsContext(certs.clientTrustingTheCa())) {
            assertFalse(connectEchoClose(server, first).resumed());
            assertFalse(connectEchoClose(server, second).resumed(), "each context keeps its own sessions");
            assertTrue(connectEchoClose(server, first).resumed());
        }
    }

    @Test
    void theMessageApiReportsAResumedSession() throws Exception {
        NettyWebSocketServer server = start(ServerTls.forCertificate(certs.server()).build());
        URI uri = URI.create("wss://127.0.0.1:" + server.port() + "/");
        WebSocketListener quiet = new WebSocketListener() {
        };
        try (TlsContext ctx = new TlsContext(certs.clientTrustingTheCa())) {
            for (boolean expectResumed : new boolean[] {false, true}) {
                WebSocketConnection connection = WebSocketConnection.builder(uri).bootstrap(testbed.bootstrap())
                        .tlsContext(ctx).connect(quiet).get(10, TimeUnit.SECONDS);
                assertEquals(expectResumed, connection.tlsSessionResumed());
                connection.sendText("tickets arrive before this echo").get(10, TimeUnit.SECONDS);
                connection.close(1000, "bye").get(10, TimeUnit.SECONDS);
            }
        }
    }
}
