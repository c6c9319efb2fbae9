package dev.wscrt.websocket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.wscrt.CrtRuntimeException;
import dev.wscrt.testing.Await;
import dev.wscrt.testing.CallbackRecorder;
import dev.wscrt.testing.NettyWebSocketServer;
import dev.wscrt.testing.ReceivedFrame;
import dev.wscrt.testing.SendRecorder;
import dev.wscrt.testing.SenderThreads;
import dev.wscrt.testing.Testbed;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Sends from many threads at once: nothing lost, nothing duplicated, call order kept per thread. */
class WebSocketConcurrencyTest {

    private static final int THREADS = 8;
    private static final int SENDS_PER_THREAD = 10_000;

    @RegisterExtension
    static final Testbed testbed = Testbed.withLoopThreads(2);

    /** Payload: thread number, then sequence number within the thread. */
    private static byte[] payload(int thread, int seq) {
        return ByteBuffer.allocate(8).putInt(thread).putInt(seq).array();
    }

    private static void onThreads(SenderThreads.Body body) {
        SenderThreads.runTogether(THREADS, body);
    }

    @Test
    void eightThreadsSendingTenThousandFramesEachLoseNothingAndKeepOrderPerThread() {
        NettyWebSocketServer server = testbed.nettyServer(b -> b.echo(false));
        CallbackRecorder rec = new CallbackRecorder();
        WebSocket ws = testbed.connect(server, rec);
        SendRecorder sends = new SendRecorder();

        onThreads(thread -> {
            for (int seq = 0; seq < SENDS_PER_THREAD; seq++) {
                ws.sendFrame(Opcode.BINARY, payload(thread, seq), true, sends.callback());
            }
        });

        sends.awaitAllSucceeded();
        assertEquals(THREADS * SENDS_PER_THREAD, sends.completed());
        List<ReceivedFrame> frames = server.awaitConnection().awaitFrames(THREADS * SENDS_PER_THREAD);
        int[] next = new int[THREADS];
        for (ReceivedFrame f : frames) {
            ByteBuffer p = ByteBuffer.wrap(f.payload());
            int thread = p.getInt();
            int seq = p.getInt();
            assertEquals(next[thread], seq, "thread " + thread + "'s frames arrive in call order");
            next[thread]++;
        }
        for (int t = 0; t < THREADS; t++) {
            assertEquals(SENDS_PER_THREAD, next[t], "all frames of thread " + t);
        }
        ws.close();
        assertNull(rec.awaitShutdown().exception());
        rec.assertGrammar();
    }

    @Test
    void concurrentSendsAreEchoedBackCompleteAndInPerThreadOrder() {
        int perThread = 2_000;
        NettyWebSocketServer server = testbed.echoServer();
        CallbackRecorder rec = new CallbackRecorder();
        WebSocket ws = testbed.connect(server, rec);
        onThreads(thread -> {
            for (int seq = 0; seq < perThread; seq++) {
                ws.sendFrame(Opcode.TEXT, thread + ":" + seq);
            }
        });
        List<CallbackRecorder.Frame> frames = rec.awaitFrames(THREADS * perThread);
        int[] next = new int[THREADS];
        for (CallbackRecorder.Frame f : frames) {
            String[] parts = f.text().split(":");
            int thread = Integer.parseInt(parts[0]);
            assertEquals(next[thread]++, Integer.parseInt(parts[1]), "echo order of thread " + thread);
        }
        ws.close();
        assertNull(rec.awaitShutdown().exception());
        rec.assertGrammar();
    }

    @Test
    void closeRacingWithSendsFromManyThreadsCompletesEverySendExactlyOnce() {
        NettyWebSocketServer server = testbed.nettyServer(b -> b.echo(false));
        CallbackRecorder rec = new CallbackRecorder();
        WebSocket ws = testbed.connect(server, rec);
        SendRecorder sends = new SendRecorder();
        onThreads(thread -> {
            for (int seq = 0; seq < 2_000; seq++) {
                if (thread == 0 && seq == 500) {
                    ws.close();
                }
                ws.sendFrame(Opcode.BINARY, payload(thread, seq), true, sends.callback());
            }
        });
        List<SendRecorder.Completion> done = sends.awaitAll();
        assertEquals(THREADS * 2_000, done.size(), "every send completes exactly once");
        Set<String> allowed = Set.of("WSCRT_ERROR_WEBSOCKET_CLOSE_FRAME_SENT",
                "WSCRT_ERROR_WEBSOCKET_CONNECTION_CLOSED");
        for (SendRecorder.Completion c : done) {
            if (c.exception() != null) {
                if (!(c.exception() instanceof CrtRuntimeException e) || !allowed.contains(e.errorName())) {
                    fail("send " + c.index() + " failed with " + CallbackRecorder.describe(c.exception()));
                }
            }
        }
        assertTrue(sends.failed() > 0, "sends after close() fail");
        rec.awaitShutdown();
        rec.assertGrammar();
        assertEquals(1, rec.count(CallbackRecorder.Shutdown.class));
    }

    @Test
    void closeFromManyThreadsAtOnceShutsDownOnce() {
        NettyWebSocketServer server = testbed.echoServer();
        CallbackRecorder rec = new CallbackRecorder();
        WebSocket ws = testbed.connect(server, rec);
        onThreads(thread -> ws.close());
        assertNull(rec.awaitShutdown().exception());
        NettyWebSocketServer.Connection conn = server.awaitConnection();
        conn.awaitDisconnect();
        long closes = conn.frames().stream().filter(ReceivedFrame::isClose).count();
        assertEquals(1, closes, "exactly one CLOSE frame sent");
        Await.sleep(100);
        assertEquals(1, rec.count(CallbackRecorder.Shutdown.class));
        rec.assertGrammar();
    }
}
