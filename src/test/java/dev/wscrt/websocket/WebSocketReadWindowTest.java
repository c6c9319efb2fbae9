package dev.wscrt.websocket;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wscrt.Crt;
import dev.wscrt.testing.Await;
import dev.wscrt.testing.CallbackRecorder;
import dev.wscrt.testing.Hex;
import dev.wscrt.testing.NettyWebSocketServer;
import dev.wscrt.testing.Testbed;
import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Flow control with manageReadWindow: the window shrinks by data-frame payload only; at 0 nothing
 * more is delivered (and the socket stops reading) until incrementReadWindow.
 */
class WebSocketReadWindowTest {

    private static final int MiB = 1024 * 1024;
    /** How long "delivery has stopped" must hold. */
    private static final Duration STALL = Duration.ofMillis(300);

    @RegisterExtension
    static final Testbed testbed = Testbed.withLoopThreads(1);

    private static WebSocket connect(NettyWebSocketServer server, CallbackRecorder rec, Long initialWindow) {
        WebSocketConnectOptions.Builder b = testbed.options(server, rec);
        if (initialWindow != null) {
            b.manageReadWindow(true).initialReadWindow(initialWindow);
        }
        WebSocket.connect(b.build());
        return rec.awaitWebSocket();
    }

    /** Waits until exactly {@code n} data bytes were delivered, then checks it stays so for STALL. */
    private static void assertDeliveryStopsAt(CallbackRecorder rec, long n) {
        rec.awaitDataBytes(n);
        Await.holdsFalseFor("delivered more than " + n + " data bytes: " + rec.dataBytesDelivered(), STALL,
                () -> rec.dataBytesDelivered() != n);
    }

    private static byte[] allPayload(CallbackRecorder rec) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        rec.frames().forEach(f -> out.writeBytes(f.payload()));
        return out.toByteArray();
    }

    @Test
    void eightMebibytesWithA64KiBWindowStopAtExactlyTheWindowUntilIncremented() {
        int total = 8 * MiB;
        NettyWebSocketServer server = testbed.nettyServer(b -> b.echo(false));
        CallbackRecorder rec = new CallbackRecorder();
        WebSocket ws = connect(server, rec, 65536L);
        CompletableFuture<Void> written = server.awaitConnection().sendBinaryBytes(total, MiB);

        assertDeliveryStopsAt(rec, 65536);
        ws.incrementReadWindow(100_000);
        assertDeliveryStopsAt(rec, 165_536);
        ws.incrementReadWindow(total - 165_536);
        rec.awaitDataBytes(total);
        Await.get("the server to finish writing", written);

        assertEquals(8, rec.awaitFrames(8).size());
        assertArrayEquals(Hex.pattern(total, 0), allPayload(rec), "8 MiB delivered intact and in order");
        Await.holdsFalseFor("more data than was sent", STALL, () -> rec.dataBytesDelivered() != total);
        ws.close();
        assertNull(rec.awaitShutdown().exception());
        rec.assertGrammar();
    }

    @Test
    void closedWindowStopsReadingTheSocketSoTheServerFeelsBackPressure() {
        // 64 MiB is more than the loopback socket buffers can hold (tcp_rmem max + tcp_wmem max on
        // this machine kind is 36 MiB), so the server can finish writing only if the client reads.
        long total = 64L * MiB;
        NettyWebSocketServer server = testbed.nettyServer(b -> b.echo(false));
        CallbackRecorder rec = new CallbackRecorder().keepPayloads(false);
        WebSocket ws = connect(server, rec, 65536L);
        long nativeBefore = Crt.nativeMemoryInUse();
        CompletableFuture<Void> written = server.awaitConnection().sendBinaryBytes(total, MiB);

        assertDeliveryStopsAt(rec, 65536);
        Await.sleep(700);
        assertFalse(written.isDone(), "the server could write all 64 MiB: the client kept reading");
        long grown = Crt.nativeMemoryInUse() - nativeBefore;
        assertTrue(grown < 4L * MiB, "native memory grew by " + grown + " bytes with a closed window");

        ws.incrementReadWindow(total - 65536);
        rec.await("all 64 MiB delivered", Duration.ofSeconds(30), () -> rec.dataBytesDelivered() == total);
        Await.get("the server to finish writing", written);
        ws.close();
        rec.awaitShutdown();
        rec.assertGrammar();
    }

    @Test
    void windowSpanningManySmallFramesStopsMidFrame() {
        int total = 100_000;
        NettyWebSocketServer server = testbed.nettyServer(b -> b.echo(false));
        CallbackRecorder rec = new CallbackRecorder();
        WebSocket ws = connect(server, rec, 2500L);
        server.awaitConnection().sendBinaryBytes(total, 1000);
        assertDeliveryStopsAt(rec, 2500);
        assertEquals(2, rec.frames().size(), "two whole frames and half of the third");
        ws.incrementReadWindow(total - 2500);
        rec.awaitFrames(100);
        assertArrayEquals(Hex.pattern(total, 0), allPayload(rec));
        ws.close();
        rec.awaitShutdown();
        rec.assertGrammar();
    }

    @Test
    void initialWindowZeroDeliversNoDataUntilIncremented() {
        NettyWebSocketServer server = testbed.nettyServer(b -> b.echo(false));
        CallbackRecorder rec = new CallbackRecorder();
        WebSocket ws = connect(server, rec, 0L);
        server.awaitConnection().sendBinary(Hex.pattern(1000, 0));
        assertDeliveryStopsAt(rec, 0);
        ws.incrementReadWindow(1000);
        assertArrayEquals(Hex.pattern(1000, 0), rec.awaitFrames(1).get(0).payload());
        ws.close();
        rec.awaitShutdown();
        rec.assertGrammar();
    }

    @Test
    void controlFramesDoNotShrinkTheWindow() {
        NettyWebSocketServer server = testbed.nettyServer(b -> b.echo(false));
        CallbackRecorder rec = new CallbackRecorder();
        WebSocket ws = connect(server, rec, 10L);
        NettyWebSocketServer.Connection conn = server.awaitConnection();
        for (int i = 0; i < 5; i++) {
            conn.sendPing(Hex.pattern(100, i));
        }
        conn.sendBinary(Hex.pattern(10, 0));
        conn.sendBinary(Hex.pattern(1, 0));

        List<CallbackRecorder.Frame> frames = rec.awaitFrames(6);
        assertEquals(5, frames.stream().filter(f -> f.opcode() == Opcode.PING).count());
        assertEquals(10, frames.get(5).payload().length);
        assertDeliveryStopsAt(rec, 10);
        ws.incrementReadWindow(1);
        assertEquals(1, rec.awaitFrames(7).get(6).payload().length);
        Await.until("5 PONGs at the server", () -> conn.frames().size() >= 5);
        ws.close();
        rec.awaitShutdown();
        rec.assertGrammar();
    }

    @Test
    void incrementsFromManyThreadsAddUp() throws Exception {
        int threads = 8;
        int incrementsPerThread = 1000;
        int step = 16;
        int granted = threads * incrementsPerThread * step;
        int total = granted + 50_000;
        NettyWebSocketServer server = testbed.nettyServer(b -> b.echo(false));
        CallbackRecorder rec = new CallbackRecorder().keepPayloads(false);
        WebSocket ws = connect(server, rec, 0L);
        server.awaitConnection().sendBinaryBytes(total, 4096);
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Thread w = new Thread(() -> {
                for (int i = 0; i < incrementsPerThread; i++) {
                    ws.incrementReadWindow(step);
                }
            });
            workers.add(w);
            w.start();
        }
        for (Thread w : workers) {
            w.join(10_000);
        }
        assertDeliveryStopsAt(rec, granted);
        ws.incrementReadWindow(total - granted);
        rec.awaitDataBytes(total);
        ws.close();
        rec.awaitShutdown();
        rec.assertGrammar();
    }

    @Test
    void incrementingFromThePayloadCallbackKeepsDataFlowing() {
        int total = 4 * MiB;
        NettyWebSocketServer server = testbed.nettyServer(b -> b.echo(false));
        AtomicReference<WebSocket> self = new AtomicReference<>();
        CallbackRecorder rec = new CallbackRecorder().keepPayloads(false)
                .onSetup(d -> self.set(d.websocket()))
                .onPayload(d -> self.get().incrementReadWindow(d.data().remaining()));
        WebSocket ws = connect(server, rec, 4096L);
        server.awaitConnection().sendBinaryBytes(total, 65536);
        rec.awaitDataBytes(total);
        ws.close();
        rec.awaitShutdown();
        rec.assertGrammar();
    }

    @Test
    void incrementReadWindowWithoutManageReadWindowIsANoOp() {
        int total = 2 * MiB;
        NettyWebSocketServer server = testbed.nettyServer(b -> b.echo(false));
        CallbackRecorder rec = new CallbackRecorder().keepPayloads(false);
        WebSocket ws = connect(server, rec, null);
        ws.incrementReadWindow(5);
        server.awaitConnection().sendBinaryBytes(total, 65536);
        rec.awaitDataBytes(total);
        ws.incrementReadWindow(1);
        ws.close();
        assertNull(rec.awaitShutdown().exception());
        rec.assertGrammar();
    }
}
