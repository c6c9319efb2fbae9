package dev.wscrt.websocket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wscrt.io.TlsContext;
import dev.wscrt.io.TlsContextOptions;
import dev.wscrt.testing.Await;
import dev.wscrt.testing.NettyWebSocketServer;
import dev.wscrt.testing.ReceivedFrame;
import dev.wscrt.testing.Testbed;
import dev.wscrt.tls.TestCertificates;
import java.io.IOException;
import java.net.URI;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
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
    /** The size of each send of the write-behind tests. */
    private static final int WRITE_BEHIND_SEND = 64 * 1024;

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
        NettyWebSocketServer server = testbed.nettyServer(b -> b.echo(false));
        WebSocket ws = open(server);
        NettyWebSocketServer.Connection c = server.awaitConnection();
        c.pauseReading(true);
        ByteBuffer reused = ByteBuffer.allocate(WRITE_BEHIND_SEND);
        Waiting last = sendUntilOneWaits(ws, reused);
        JdkWebSocketImpl impl = (JdkWebSocketImpl) ws;
        CompletableFuture<Long> queuedWhenDone = last.send().thenApply(x -> impl.queuedBytes()); // loop thread
        Arrays.fill(reused.array(), (byte) 0x7f); // the queued frames hold their own bytes
        c.pauseReading(false);
        long queued = Await.get("the waiting send, once the queue came down", queuedWhenDone);
        assertTrue(queued <= JdkWebSocketImpl.WRITE_BEHIND_RESUME, queued + " bytes still queued when it completed");
        List<ReceivedFrame> frames = c.awaitFrames(last.sends());
        for (int i = 0; i < last.sends(); i++) {
            assertEquals((byte) i, frames.get(i).payload()[WRITE_BEHIND_SEND - 1], "the last byte of message " + i);
        }
        ws.abort();
    }

    @Test
    void aSendWaitingBehindTheLimitFailsWithIOExceptionWhenItsFrameIsNeverWritten() {
        NettyWebSocketServer server = testbed.nettyServer(b -> b.echo(false));
        WebSocket ws = open(server);
        server.awaitConnection().pauseReading(true);
        CompletableFuture<WebSocket> waiting = sendUntilOneWaits(ws, ByteBuffer.allocate(WRITE_BEHIND_SEND)).send();
        ws.abort();
        ExecutionException failed = assertThrows(ExecutionException.class,
                () -> waiting.get(Await.DEFAULT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS));
        assertTrue(failed.getCause() instanceof IOException, "failed with " + failed.getCause());
    }

    private static WebSocket open(NettyWebSocketServer server) {
        return Await.get("open", JdkWebSocket.newWebSocketBuilder(testbed.bootstrap())
                .buildAsync(URI.create("ws://" + server.authority() + "/"), new WebSocket.Listener() { }));
    }

    /** The send that waited, and how many were made, it included. */
    private record Waiting(CompletableFuture<WebSocket> send, int sends) {
    }

    /**
     * Sends BINARY messages of the buffer's size, message i filled with the byte i, to a server that reads
     * nothing, until one has not completed after 300 ms. Each send before it completed and consumed its
     * buffer, and at least as many completed as fit in the limit.
     */
    private static Waiting sendUntilOneWaits(WebSocket ws, ByteBuffer reused) {
        int size = reused.capacity();
        int bound = 1024; // 64 MiB: far past the loopback socket buffers and the 2 MiB a sender may get ahead
        for (int sent = 0; sent < bound; sent++) {
            Arrays.fill(reused.array(), (byte) sent);
            reused.clear();
            CompletableFuture<WebSocket> send = ws.sendBinary(reused, true);
            if (sent == 0) {
                assertTrue(send.isDone(), "the first send completed when it returned: nothing was queued ahead");
            }
            try {
                // Behind the limit it waits for the queue to come down, once the socket's buffers are full.
                send.get(300, TimeUnit.MILLISECONDS);
                assertEquals(0, reused.remaining(), "a completed send consumed its buffer");
            } catch (TimeoutException stalled) {
                assertTrue(sent >= JdkWebSocketImpl.WRITE_BEHIND_LIMIT / size,
                        "only " + sent + " sends completed before one waited");
                return new Waiting(send, sent + 1);
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }
        throw new AssertionError("every one of " + bound + " sends completed while the server read nothing");
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
