package dev.wscrt.websocket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wscrt.CrtError;
import dev.wscrt.CrtRuntimeException;
import dev.wscrt.testing.Await;
import dev.wscrt.testing.CallbackRecorder;
import dev.wscrt.testing.NativeMemory;
import dev.wscrt.testing.NettyWebSocketServer;
import dev.wscrt.testing.ReceivedFrame;
import dev.wscrt.testing.ScriptedServer;
import dev.wscrt.testing.SenderThreads;
import dev.wscrt.testing.Testbed;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Each send's completion callback runs once, for that send: callbacks run in the order the frames went out,
 * whichever threads sent them, a refused send's callback never runs, and no later callback takes its place.
 */
class SendCompletionsTest {
    @RegisterExtension
    static final Testbed testbed = Testbed.withLoopThreads(1);

    /** Completions in the order their callbacks ran: a label per send and the outcome. */
    private static final class Outcomes {
        record Outcome(long label, Throwable exception) {
        }

        private final List<Outcome> ran = new ArrayList<>(); // guarded by this

        Consumer<OnSendFrameCompleteData> callback(long label) {
            return d -> {
                synchronized (this) {
                    ran.add(new Outcome(label, d.exception()));
                }
            };
        }

        synchronized List<Outcome> ran() {
            return List.copyOf(ran);
        }

        List<Outcome> await(int count) {
            Await.until(count + " completions", Await.DEFAULT_TIMEOUT, () -> ran().size() >= count,
                    () -> ran().size() + " ran");
            return ran();
        }
    }

    @Test
    void callbacksRunInTheOrderTheFramesReachedTheServerWhenFourThreadsSendAtOnce() {
        int threads = 4;
        int perThread = 3_000;
        NettyWebSocketServer server = testbed.nettyServer(b -> b.echo(false));
        CallbackRecorder rec = new CallbackRecorder();
        WebSocket ws = testbed.connect(server, rec);
        Outcomes outcomes = new Outcomes();
        SenderThreads.runTogether(threads, thread -> {
            for (int seq = 0; seq < perThread; seq++) {
                long label = (long) thread << 32 | seq;
                ws.sendFrame(Opcode.BINARY, ByteBuffer.allocate(8).putLong(label).array(), true,
                        outcomes.callback(label));
            }
        });

        List<Outcomes.Outcome> ran = outcomes.await(threads * perThread);
        List<ReceivedFrame> frames = server.awaitConnection().awaitFrames(threads * perThread);
        for (int i = 0; i < frames.size(); i++) {
            long onTheWire = ByteBuffer.wrap(frames.get(i).payload()).getLong();
            assertEquals(onTheWire, ran.get(i).label(), "completion " + i + " belongs to the frame sent " + i + "th");
            assertNull(ran.get(i).exception());
        }
        Testbed.closeCleanly(ws, rec);
    }

    @Test
    void sendsReportedEndedWhileCallbacksRunAreCompletedAfterThemInSendOrder() {
        SendCompletions completions = new SendCompletions();
        Outcomes outcomes = new Outcomes();
        completions.add(d -> {
            outcomes.callback(0).accept(d);
            completions.complete(1, CrtError.WEBSOCKET_CONNECTION_CLOSED.code()); // as a failing connection might
        });
        completions.add(outcomes.callback(1));
        completions.add(outcomes.callback(2));
        completions.complete(2, 0);
        List<Outcomes.Outcome> ran = outcomes.ran();
        assertEquals(List.of(0L, 1L, 2L), ran.stream().map(Outcomes.Outcome::label).toList());
        assertNull(ran.get(0).exception());
        assertNull(ran.get(1).exception());
        assertEquals("WSCRT_ERROR_WEBSOCKET_CONNECTION_CLOSED",
                ((CrtRuntimeException) ran.get(2).exception()).errorName());
    }

    @Test
    void aRefusedSendsCallbackNeverRunsAndEveryAcceptedOneRunsOnceWrittenOnesBeforeFailedOnes() {
        CallbackRecorder first = new CallbackRecorder(); // what the loop and resolver keep after a first connection
        Testbed.closeCleanly(testbed.connect(testbed.echoServer(), first), first);
        NativeMemory.Snapshot before = NativeMemory.snapshot();
        ScriptedServer server = testbed.scriptedServer();
        CallbackRecorder rec = new CallbackRecorder();
        WebSocket.connect(testbed.options(server, rec).sendQueueLimit(256 * 1024).build());
        ScriptedServer.Conn conn = server.awaitConnection();
        conn.handshake(); // and never reads: the socket buffers fill, then the send queue
        WebSocket ws = rec.awaitWebSocket();

        Outcomes outcomes = new Outcomes();
        List<Long> accepted = new ArrayList<>();
        int refusedInARow = 0;
        byte[] payload = new byte[64 * 1024];
        for (long label = 0; label < 2_000 && refusedInARow < 20; label++) {
            try {
                ws.sendFrame(Opcode.BINARY, payload, true, outcomes.callback(label));
                accepted.add(label);
                refusedInARow = 0;
            } catch (CrtRuntimeException e) {
                assertEquals("WSCRT_ERROR_WEBSOCKET_SEND_QUEUE_FULL", e.errorName());
                refusedInARow++;
                Await.sleep(1); // the loop thread writes what the socket takes meanwhile
            }
        }
        assertEquals(20, refusedInARow, "the socket's buffers and then the send queue filled up");
        ws.abort(); // what is still queued cannot have been written: it fails

        rec.awaitShutdown();
        List<Outcomes.Outcome> ran = outcomes.await(accepted.size());
        Await.sleep(50); // time for a callback too many
        ran = outcomes.ran();
        List<Long> ranLabels = ran.stream().map(Outcomes.Outcome::label).toList();
        assertEquals(accepted, ranLabels, "exactly the accepted sends complete, once each, in send order");
        boolean failedYet = false;
        for (Outcomes.Outcome o : ran) {
            failedYet |= o.exception() != null;
            assertTrue(o.exception() == null || o.exception() instanceof CrtRuntimeException, "outcome " + o);
            assertTrue(!failedYet || o.exception() != null, "a send written after one failed: " + o.label());
        }
        assertTrue(failedYet, "the sends still queued at the abort fail");
        ws.close();
        conn.close();
        NativeMemory.assertBackTo(before);
    }
}
