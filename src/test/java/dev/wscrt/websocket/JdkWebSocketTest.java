package dev.wscrt.websocket;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.wscrt.io.TlsContext;
import dev.wscrt.io.TlsContextOptions;
import dev.wscrt.testing.Await;
import dev.wscrt.testing.NettyWebSocketServer;
import dev.wscrt.testing.ReceivedFrame;
import dev.wscrt.testing.Testbed;
import dev.wscrt.tls.TestCertificates;
import java.net.URI;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What {@link JdkWebSocket} documents where it differs from the JDK's client (the parity with it is
 * {@link JdkWebSocketParityTest}), and its factory overloads.
 */
class JdkWebSocketTest {
    @RegisterExtension
    static final Testbed testbed = Testbed.withLoopThreads(1);

    @Test
    void pingsAreAnsweredAtOnceAndAtMost64WaitForDemand() {
        int pings = JdkWebSocketImpl.MAX_QUEUED_CONTROL + 6;
        NettyWebSocketServer server = testbed.nettyServer(b -> b.echo(false));
        AtomicInteger delivered = new AtomicInteger();
        WebSocket ws = Await.get("open", JdkWebSocket.newWebSocketBuilder(testbed.bootstrap())
                .buildAsync(URI.create("ws://" + server.authority() + "/"), new WebSocket.Listener() {
                    @Override
                    public void onOpen(WebSocket webSocket) {
                        // no demand yet
                    }

                    @Override
                    public CompletionStage<?> onPing(WebSocket webSocket, ByteBuffer message) {
                        delivered.incrementAndGet();
                        return null;
                    }
                }));
        NettyWebSocketServer.Connection c = server.awaitConnection();
        for (int i = 0; i < pings; i++) {
            c.sendPing(new byte[] {(byte) i});
        }
        Await.until(pings + " PONGs without demand", () -> c.frames().stream()
                .filter(f -> f.opcode() == ReceivedFrame.PONG).count() == pings);
        assertEquals(0, delivered.get());
        ws.request(Long.MAX_VALUE);
        Await.until("the waiting PINGs delivered", () -> delivered.get() == JdkWebSocketImpl.MAX_QUEUED_CONTROL);
        Await.holdsFalseFor("a dropped PING delivered", Duration.ofMillis(300),
                () -> delivered.get() > JdkWebSocketImpl.MAX_QUEUED_CONTROL);
        c.sendPing(new byte[] {1});
        Await.until("a PING with demand", () -> delivered.get() == JdkWebSocketImpl.MAX_QUEUED_CONTROL + 1);
        ws.abort();
    }

    @Test
    void aTlsContextAppliesToWssOnlyAndAWsUriStaysPlain() throws Exception {
        NettyWebSocketServer server = testbed.echoServer();
        try (TlsContext tls = new TlsContext(TlsContextOptions.createDefaultClient()
                .withCertificateAuthority(TestCertificates.get().ca().certificatePem()))) {
            WebSocket ws = Await.get("open", JdkWebSocket.newWebSocketBuilder(testbed.bootstrap(), tls)
                    .buildAsync(URI.create("ws://" + server.authority() + "/"), new WebSocket.Listener() { }));
            Await.get("close", ws.sendClose(WebSocket.NORMAL_CLOSURE, ""));
            server.awaitConnection().awaitDisconnect();
        }
    }
}
