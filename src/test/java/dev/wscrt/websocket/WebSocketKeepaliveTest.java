package dev.wscrt.websocket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wscrt.CrtRuntimeException;
import dev.wscrt.testing.Await;
import dev.wscrt.testing.CallbackRecorder;
import dev.wscrt.testing.NativeMemory;
import dev.wscrt.testing.NettyWebSocketServer;
import dev.wscrt.testing.ReceivedFrame;
import dev.wscrt.testing.ScriptedServer;
import dev.wscrt.testing.Testbed;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Keepalive on both APIs: PINGs every {@code pingInterval} answered by a real server (Netty) keep an
 * otherwise silent connection open; a raw server that stops answering makes it fail with
 * {@code WSCRT_ERROR_WEBSOCKET_PING_TIMEOUT}, once, without leaking native memory.
 */
class WebSocketKeepaliveTest {
    @RegisterExtension
    static final Testbed testbed = Testbed.withLoopThreads(1);

    private static final Duration INTERVAL = Duration.ofMillis(50);
    /** Generous: Netty answers within a millisecond, but this host is shared and loaded. */
    private static final Duration ANSWER_TIMEOUT = Duration.ofSeconds(2);

    @Test
    void aRealServerAnsweringPingsFor30IntervalsKeepsAFrameApiConnectionOpen() {
        NettyWebSocketServer server = testbed.nettyServer(b -> b.echo(false));
        CallbackRecorder rec = new CallbackRecorder();
        long start = System.nanoTime();
        WebSocket ws = testbed.connect(testbed.options(server, rec).pingInterval(INTERVAL)
                .pongTimeout(ANSWER_TIMEOUT), rec);
        NettyWebSocketServer.Connection conn = server.awaitConnection();
        Await.until("30 PINGs at the server", Duration.ofSeconds(20), () -> conn.pingsReceived() >= 30,
                () -> conn.pingsReceived() + " PINGs; client " + rec.summary());
        assertTrue(System.nanoTime() - start >= INTERVAL.multipliedBy(30).toNanos(), "no PING came early");
        rec.await("30 PONGs delivered", () -> pongs(rec) >= 30);
        assertTrue(!rec.shutdownSeen(), rec.summary());
        assertEquals(List.of(), conn.frames(), "nothing but PINGs on the wire");
        assertEquals(List.of(), conn.errors());
        Testbed.closeCleanly(ws, rec);
    }

    @Test
    void aRealServerAnsweringPingsFor30IntervalsKeepsAMessageApiConnectionOpen() {
        NettyWebSocketServer server = testbed.nettyServer(b -> b.echo(false));
        MessageRecorder rec = new MessageRecorder();
        WebSocketConnection ws = Await.get("connect", WebSocketConnection.builder(uri(server))
                .bootstrap(testbed.bootstrap()).pingInterval(INTERVAL).pongTimeout(ANSWER_TIMEOUT).connect(rec));
        NettyWebSocketServer.Connection conn = server.awaitConnection();
        Await.until("30 PINGs at the server", Duration.ofSeconds(20), () -> conn.pingsReceived() >= 30,
                () -> conn.pingsReceived() + " PINGs; client " + rec.kinds());
        rec.await("pong", 30);
        assertTrue(ws.isOpen());
        assertEquals(List.of(), conn.frames(), "nothing but PINGs on the wire");
        Await.get("close", ws.close(1000, "done"));
        assertEquals("closed", rec.awaitEnd().kind());
    }

    @Test
    void aServerThatStopsAnsweringFailsAFrameApiConnectionWithPingTimeoutOnce() {
        NativeMemory.Snapshot baseline = NativeMemory.snapshot();
        ScriptedServer server = testbed.scriptedServer();
        CallbackRecorder rec = new CallbackRecorder();
        Duration timeout = Duration.ofMillis(200);
        WebSocket.connect(testbed.options(server, rec).pingInterval(INTERVAL).pongTimeout(timeout).build());
        ScriptedServer.Conn c = server.awaitConnection();
        c.handshake();
        WebSocket ws = rec.awaitWebSocket();
        ReceivedFrame first = c.readFrame();
        assertEquals(ReceivedFrame.PING, first.opcode());
        c.sendFrame(true, ReceivedFrame.PONG, first.payload());
        long silentFrom = System.nanoTime(); // from here on the server answers nothing

        ReceivedFrame close = c.readFrameUntil("the client's CLOSE", ReceivedFrame::isClose, new java.util.ArrayList<>());
        assertEquals(1001, close.closeCode());
        CrtRuntimeException e = assertInstanceOf(CrtRuntimeException.class, rec.awaitShutdown().exception());
        long elapsedMs = Duration.ofNanos(System.nanoTime() - silentFrom).toMillis();
        assertEquals("WSCRT_ERROR_WEBSOCKET_PING_TIMEOUT", e.errorName());
        assertTrue(elapsedMs >= timeout.toMillis(), "failed after " + elapsedMs + " ms, before the timeout");
        assertTrue(elapsedMs < 5_000, "failed after " + elapsedMs + " ms");
        Await.sleep(5 * INTERVAL.toMillis());
        assertEquals(1, rec.count(CallbackRecorder.Shutdown.class), rec.summary());
        rec.assertGrammar();
        ws.close();
        c.close();
        NativeMemory.assertBackTo(baseline);
    }

    @Test
    void aServerThatStopsAnsweringFailsAMessageApiConnectionWithPingTimeoutOnce() {
        NativeMemory.Snapshot baseline = NativeMemory.snapshot();
        ScriptedServer server = testbed.scriptedServer();
        MessageRecorder rec = new MessageRecorder();
        var connecting = WebSocketConnection.builder(URI.create("ws://" + server.authority() + "/"))
                .bootstrap(testbed.bootstrap()).pingInterval(INTERVAL).pongTimeout(Duration.ofMillis(200))
                .connect(rec);
        ScriptedServer.Conn c = server.awaitConnection();
        c.handshake();
        Await.get("connect", connecting);
        assertEquals(ReceivedFrame.PING, c.readFrame().opcode()); // never answered
        assertEquals(1001, c.awaitClose().closeCode());
        assertEquals("WSCRT_ERROR_WEBSOCKET_PING_TIMEOUT", rec.awaitError());
        Await.sleep(5 * INTERVAL.toMillis());
        assertEquals(List.of("open", "error"), rec.kinds());
        c.close();
        NativeMemory.assertBackTo(baseline);
    }

    @Test
    void keepalivePingsGoBetweenTheFragmentsOfAMessageTheUserSends() {
        NettyWebSocketServer server = testbed.echoServer(); // Netty checks the fragment sequence strictly
        CallbackRecorder rec = new CallbackRecorder();
        WebSocket ws = testbed.connect(testbed.options(server, rec).pingInterval(INTERVAL)
                .pongTimeout(ANSWER_TIMEOUT), rec);
        NettyWebSocketServer.Connection conn = server.awaitConnection();
        ws.sendFrame(Opcode.TEXT, "frag", false, null);
        conn.awaitFrames(1);
        long pingsAtFirstFragment = conn.pingsReceived();
        Await.until("two PINGs inside the open message", () -> conn.pingsReceived() >= pingsAtFirstFragment + 2);
        ws.sendFrame(Opcode.CONTINUATION, "mented", true, null);
        List<ReceivedFrame> frames = conn.awaitFrames(2);
        assertEquals(List.of(ReceivedFrame.TEXT, ReceivedFrame.CONTINUATION),
                frames.stream().map(ReceivedFrame::opcode).toList());
        assertEquals(List.of(), conn.errors(), "Netty accepted the interleaving");
        rec.awaitFrame("the echoed last fragment", f -> f.opcode() == Opcode.CONTINUATION);
        assertEquals("fragmented", rec.frames().stream().filter(f -> f.opcode() == Opcode.TEXT
                || f.opcode() == Opcode.CONTINUATION).map(CallbackRecorder.Frame::text).reduce("", String::concat));
        Testbed.closeCleanly(ws, rec);
    }

    @Test
    void keepaliveOptionsAreValidatedNamingTheParameter() {
        Function<Runnable, String> refusal = call -> assertThrows(IllegalArgumentException.class, call::run)
                .getMessage();
        WebSocketConnectOptions.Builder frames = WebSocketConnectOptions.builder();
        assertTrue(refusal.apply(() -> frames.pingInterval(Duration.ofMillis(-1))).startsWith("pingInterval"));
        assertTrue(refusal.apply(() -> frames.pingInterval(null)).startsWith("pingInterval"));
        assertTrue(refusal.apply(() -> frames.pingInterval(Duration.ofNanos(10))).startsWith("pingInterval"));
        assertTrue(refusal.apply(() -> frames.pongTimeout(Duration.ofDays(30))).startsWith("pongTimeout"));
        String alone = refusal.apply(() -> WebSocketConnectOptions.builder().host("127.0.0.1")
                .onConnectionSetup(s -> { }).pongTimeout(Duration.ofSeconds(1)).build());
        assertTrue(alone.startsWith("pongTimeout"), alone);

        WebSocketConnectOptions off = WebSocketConnectOptions.builder().host("127.0.0.1").onConnectionSetup(s -> { })
                .build();
        assertEquals(Duration.ZERO, off.pingInterval(), "off by default on the frame API");
        WebSocketConnectOptions on = WebSocketConnectOptions.builder().host("127.0.0.1").onConnectionSetup(s -> { })
                .pingInterval(Duration.ofSeconds(5)).build();
        assertEquals(Duration.ofSeconds(5), on.pongTimeout(), "the timeout defaults to the interval");

        WebSocketConnection.Builder messages = WebSocketConnection.builder(URI.create("ws://127.0.0.1:9/"));
        assertTrue(refusal.apply(() -> messages.pingInterval(Duration.ofSeconds(-5))).startsWith("pingInterval"));
        assertTrue(refusal.apply(() -> messages.pongTimeout(null)).startsWith("pongTimeout"));
        String off2 = refusal.apply(() -> WebSocketConnection.builder(URI.create("ws://127.0.0.1:9/"))
                .pingInterval(Duration.ZERO).pongTimeout(Duration.ofSeconds(1)).connect(new MessageRecorder()));
        assertTrue(off2.startsWith("pongTimeout"), off2);
    }

    private static long pongs(CallbackRecorder rec) {
        return rec.frames().stream().filter(f -> f.opcode() == Opcode.PONG).count();
    }

    private static URI uri(NettyWebSocketServer server) {
        return URI.create("ws://" + server.authority() + "/");
    }
}
