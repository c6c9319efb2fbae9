package dev.wscrt.websocket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
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
    void sendsCompleteOnceQueuedWhileAtMost2MiBWaitThenOnceTheQueueIsDownTo1MiBAndKeepTheirOwnBytes() {
        int size = 64 * 1024;
        int bound = 1024; // 64 MiB: far past the loopback socket buffers and the 2 MiB a sender may get ahead
        NettyWebSocketServer server = testbed.nettyServer(b -> b.echo(false));
        WebSocket ws = Await.get("open", JdkWebSocket.newWebSocketBuilder(testbed.bootstrap())
                .buildAsync(URI.create("ws://" + server.authority() + "/"), new WebSocket.Listener() { }));
        NettyWebSocketServer.Connection c = server.awaitConnection();
        c.pauseReading(true);
        ByteBuffer reused = ByteBuffer.allocate(size);
        CompletableFuture<WebSocket> waiting = null;
        int sent = 0;
        while (sent < bound && waiting == null) {
            Arrays.fill(reused.array(), (byte) sent);
            reused.clear();
            CompletableFuture<WebSocket> send = ws.sendBinary(reused, true);
            if (sent == 0) {
                assertTrue(send.isDone(), "the first send completed when it returned: nothing was queued ahead");
            }
            sent++;
            try {
                // Behind the limit it may wait for the loop to write, until the socket's buffers are full.
                send.get(300, TimeUnit.MILLISECONDS);
                assertEquals(0, reused.remaining(), "a completed send consumed its buffer");
            } catch (TimeoutException stalled) {
                waiting = send;
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }
        CompletableFuture<WebSocket> last = waiting;
        assertTrue(last != null, "every one of " + bound + " sends completed while the server read nothing");
        assertTrue(sent - 1 >= JdkWebSocketImpl.WRITE_BEHIND_LIMIT / size,
                "only " + (sent - 1) + " sends completed before one waited");
        JdkWebSocketImpl impl = (JdkWebSocketImpl) ws;
        CompletableFuture<Long> queuedWhenDone = last.thenApply(x -> impl.queuedBytes()); // on the loop thread
        Arrays.fill(reused.array(), (byte) 0x7f); // the queued frames hold their own bytes
        c.pauseReading(false);
        long queued = Await.get("the waiting send, once the queue came down", queuedWhenDone);
        assertTrue(queued <= JdkWebSocketImpl.WRITE_BEHIND_RESUME, queued + " bytes still queued when it completed");
        int count = sent;
        List<ReceivedFrame> frames = c.awaitFrames(count);
        for (int i = 0; i < count; i++) {
            assertEquals((byte) i, frames.get(i).payload()[size - 1], "the last byte of message " + i);
        }
        ws.abort();
    }

    @Test
    void aSurrogatePairSplitBetweenTwoTextPiecesGoesOutWholeInTheSecondFrame() {
        NettyWebSocketServer server = testbed.nettyServer(b -> b.echo(false));
        WebSocket ws = Await.get("open", JdkWebSocket.newWebSocketBuilder(testbed.bootstrap())
                .buildAsync(URI.create("ws://" + server.authority() + "/"), new WebSocket.Listener() { }));
        NettyWebSocketServer.Connection c = server.awaitConnection();
        Await.get("the piece ending in a high surrogate", ws.sendText("a\uD83D", false));
        Await.get("the piece starting with its low surrogate", ws.sendText("\uDE00b", true));
        List<ReceivedFrame> frames = c.awaitFrames(2);
        assertEquals(List.of(ReceivedFrame.TEXT, ReceivedFrame.CONTINUATION),
                List.of(frames.get(0).opcode(), frames.get(1).opcode()));
        assertEquals("a", frames.get(0).text());
        assertEquals("\uD83D\uDE00b", frames.get(1).text(), "the pair, encoded as one four-byte character");
        assertTrue(frames.get(1).fin());
        ws.abort();
    }

    @Test
    void textPastTheReadWindowKeepsArrivingAsTheListenerTakesIt() {
        int messages = 16; // 1 MiB of text in all, four times the read window
        String text = "\u00e9".repeat(32 * 1024); // 64 KiB of UTF-8 in 32,768 characters
        NettyWebSocketServer server = testbed.nettyServer(b -> b.echo(false));
        AtomicInteger received = new AtomicInteger();
        StringBuilder message = new StringBuilder();
        WebSocket ws = Await.get("open", JdkWebSocket.newWebSocketBuilder(testbed.bootstrap())
                .buildAsync(URI.create("ws://" + server.authority() + "/"), new WebSocket.Listener() {
                    @Override
                    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
                        message.append(data);
                        if (last) {
                            if (message.toString().equals(text)) {
                                received.incrementAndGet();
                            }
                            message.setLength(0);
                        }
                        webSocket.request(1);
                        return null;
                    }
                }));
        ws.request(1);
        NettyWebSocketServer.Connection c = server.awaitConnection();
        for (int i = 0; i < messages; i++) {
            c.sendText(text);
        }
        Await.until(messages + " texts of 64 KiB, each whole", () -> received.get() == messages);
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
