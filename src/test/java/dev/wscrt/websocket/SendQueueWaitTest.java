package dev.wscrt.websocket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wscrt.CrtRuntimeException;
import dev.wscrt.testing.Await;
import dev.wscrt.testing.CallbackRecorder;
import dev.wscrt.testing.NettyWebSocketServer;
import dev.wscrt.testing.ReceivedFrame;
import dev.wscrt.testing.Testbed;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Waiting for room in the send queue ({@code whenQueuedBytesAtMost}) against a real server (Netty) that stops
 * reading and starts again: the futures wait while the queue stays above their marks, complete on the
 * event-loop thread once it has come down to them, at once when it is there already, and when the connection
 * ends.
 */
class SendQueueWaitTest {
    @RegisterExtension
    static final Testbed testbed = Testbed.withLoopThreads(1);

    private static final int FRAME = 64 * 1024;
    private static final long MIB = 1024 * 1024;

    /**
     * While the server reads nothing: 250 frames of 64 KiB (about the default send queue limit, 16 MiB), then
     * waits until the socket's buffers are full (the queue unchanged for 200 ms); returns the frames sent.
     */
    private static int fillQueue(WebSocket ws) {
        byte[] payload = new byte[FRAME];
        int sent = 250;
        for (int i = 0; i < sent; i++) {
            payload[0] = (byte) i;
            ws.sendFrame(Opcode.BINARY, payload);
        }
        AtomicLong last = new AtomicLong(-1);
        AtomicLong steadySince = new AtomicLong(System.nanoTime());
        Await.until("the queue steady", () -> {
            long now = ws.queuedBytes();
            if (now != last.getAndSet(now)) {
                steadySince.set(System.nanoTime());
            }
            return System.nanoTime() - steadySince.get() > 200_000_000L;
        });
        assertTrue(ws.queuedBytes() > MIB, "queued " + ws.queuedBytes() + " once the socket took what it could");
        return sent;
    }

    /** A message-API connection to {@code server} whose send queue holds at most {@code limit} bytes. */
    private static WebSocketConnection connectWithSendQueueLimit(NettyWebSocketServer server, long limit) {
        return Await.get("connect", WebSocketConnection.builder(URI.create("ws://" + server.authority() + "/"))
                .bootstrap(testbed.bootstrap()).sendQueueLimit(limit).connect(new MessageRecorder()));
    }

    @Test
    void eachFutureCompletesOnTheLoopThreadOnceTheQueueHasComeDownToItsMark() {
        NettyWebSocketServer server = testbed.nettyServer(b -> b.echo(false));
        CallbackRecorder rec = new CallbackRecorder();
        WebSocket ws = testbed.connect(server, rec);
        NettyWebSocketServer.Connection conn = server.awaitConnection();
        conn.pauseReading(true);
        int sent = fillQueue(ws);
        long half = ws.queuedBytes() / 2;

        assertTrue(ws.whenQueuedBytesAtMost(Long.MAX_VALUE).isDone(), "a mark the queue is at completes at once");
        CompletableFuture<Void> halfway = ws.whenQueuedBytesAtMost(half);
        CompletableFuture<Void> empty = ws.whenQueuedBytesAtMost(0);
        AtomicLong queuedHalfway = new AtomicLong(-1);
        // This thread waits on `completedOn`, never on `halfway`: a thread waiting in halfway.get() may run
        // halfway's dependent actions itself once it is complete, wherever it was completed.
        CompletableFuture<String> completedOn = halfway.thenApply(x -> {
            queuedHalfway.set(ws.queuedBytes());
            return Thread.currentThread().getName();
        });
        Await.holdsFalseFor("a future done while the server reads nothing", Duration.ofMillis(300),
                () -> halfway.isDone() || empty.isDone());

        conn.pauseReading(false);
        String thread = Await.get("the halfway mark", completedOn);
        Await.get("the empty queue", empty);
        assertTrue(queuedHalfway.get() >= 0 && queuedHalfway.get() <= half, "queued " + queuedHalfway.get());
        assertTrue(thread.startsWith("wscrt-el"), "completed on " + thread);
        assertEquals(0, ws.queuedBytes());
        List<ReceivedFrame> frames = conn.awaitFrames(sent);
        for (int i = 0; i < sent; i++) {
            assertEquals((byte) i, frames.get(i).payload()[0], "frame " + i + " in order");
        }
        Testbed.closeCleanly(ws, rec);
    }

    @Test
    void theConnectionsEndCompletesTheFuturesStillWaitingAndLaterOnesAtOnce() {
        NettyWebSocketServer server = testbed.nettyServer(b -> b.echo(false));
        CallbackRecorder rec = new CallbackRecorder();
        WebSocket ws = testbed.connect(server, rec);
        server.awaitConnection().pauseReading(true);
        fillQueue(ws);
        CompletableFuture<Void> waiting = ws.whenQueuedBytesAtMost(0);
        assertFalse(waiting.isDone());

        ws.abort();
        Await.get("the future, at the end", waiting);
        assertEquals("WSCRT_ERROR_WEBSOCKET_ABORTED",
                ((CrtRuntimeException) rec.awaitShutdown().exception()).errorName());
        assertTrue(ws.whenQueuedBytesAtMost(0).isDone(), "after the end");
        ws.close();
        assertTrue(ws.whenQueuedBytesAtMost(0).isDone(), "after close()");
    }

    @Test
    void aNegativeMarkIsRefused() {
        NettyWebSocketServer server = testbed.echoServer();
        CallbackRecorder rec = new CallbackRecorder();
        WebSocket ws = testbed.connect(server, rec);
        assertThrows(IllegalArgumentException.class, () -> ws.whenQueuedBytesAtMost(-1));
        Testbed.closeCleanly(ws, rec);
    }

    /**
     * Four threads send on one connection, each waiting between marks of its own (256 KiB down to 64 KiB, ...,
     * 1 MiB down to 256 KiB): no send meets the 2 MiB limit, no wait is lost, every message arrives.
     */
    @Test
    void sendersWaitingAtMarksOfTheirOwnAllGoOnWhateverTheOrder() throws Exception {
        NettyWebSocketServer server = testbed.nettyServer(b -> b.echo(false));
        WebSocketConnection ws = connectWithSendQueueLimit(server, 2 * MIB);
        NettyWebSocketServer.Connection conn = server.awaitConnection();
        int senders = 4;
        int messagesEach = 500; // 8 KiB each: 16 MiB in all
        List<CompletableFuture<Void>> done = new ArrayList<>();
        for (int t = 0; t < senders; t++) {
            long high = (t + 1) * 256 * 1024L;
            long low = high / 4;
            done.add(CompletableFuture.runAsync(() -> {
                byte[] payload = new byte[8 * 1024];
                for (int i = 0; i < messagesEach; i++) {
                    if (ws.queuedBytes() > high) {
                        Await.get("room in the queue", ws.whenQueuedBytesAtMost(low));
                    }
                    CompletableFuture<Void> sent = ws.sendBinary(payload);
                    assertFalse(sent.isCompletedExceptionally(), "a send refused at " + ws.queuedBytes());
                }
            }));
        }
        for (CompletableFuture<Void> sender : done) {
            Await.get("a sender done", sender);
        }
        conn.awaitFrames(senders * messagesEach);
        Await.get("close", ws.close(1000, null));
    }

    /**
     * The message API: a sender that waits at 512 KiB for the queue to come down to 256 KiB never meets the
     * 1 MiB send queue limit, however fast it sends, and every message arrives in order.
     */
    @Test
    void aSenderBetweenTwoMarksNeverMeetsTheSendQueueLimit() {
        NettyWebSocketServer server = testbed.nettyServer(b -> b.echo(false));
        WebSocketConnection ws = connectWithSendQueueLimit(server, MIB);
        NettyWebSocketServer.Connection conn = server.awaitConnection();
        int messages = 1_000; // 16 MiB, sixteen times the limit
        byte[] payload = new byte[16 * 1024];
        int waits = 0;
        CompletableFuture<Void> last = null;
        for (int i = 0; i < messages; i++) {
            if (ws.queuedBytes() > 512 * 1024) {
                Await.get("room in the queue", ws.whenQueuedBytesAtMost(256 * 1024));
                waits++;
            }
            payload[0] = (byte) i;
            last = ws.sendBinary(payload);
            assertFalse(last.isCompletedExceptionally(), "message " + i + " refused");
        }
        Await.get("the last message written", last);
        assertTrue(waits > 0, "the sender never had to wait");
        List<ReceivedFrame> frames = conn.awaitFrames(messages);
        for (int i = 0; i < messages; i++) {
            assertEquals((byte) i, frames.get(i).payload()[0], "message " + i + " in order");
        }
        Await.get("close", ws.close(1000, null));
    }
}
