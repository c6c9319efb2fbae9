package dev.wscrt.websocket;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wscrt.Crt;
import dev.wscrt.CrtRuntimeException;
import dev.wscrt.testing.Await;
import dev.wscrt.testing.NettyWebSocketServer;
import dev.wscrt.testing.ReceivedFrame;
import dev.wscrt.testing.ScriptedServer;
import dev.wscrt.testing.Testbed;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The message API against a real server (Netty), and its misuse cases against the scripted raw server. */
class WebSocketConnectionTest {
    @RegisterExtension
    static final Testbed testbed = Testbed.withLoopThreads(1);

    private static URI uri(NettyWebSocketServer server, String path) {
        return URI.create("ws://" + server.authority() + path);
    }

    private static WebSocketConnection connect(URI uri, MessageRecorder rec) {
        return Await.get("connect", WebSocketConnection.builder(uri).bootstrap(testbed.bootstrap()).connect(rec));
    }

    @Test
    void textAndBinaryMessagesEchoWholeAndTheCloseHandshakeEndsCleanly() {
        NettyWebSocketServer server = testbed.echoServer();
        MessageRecorder rec = new MessageRecorder();
        URI uri = uri(server, "/chat?room=1");
        WebSocketConnection ws = connect(uri, rec);
        assertTrue(ws.isOpen());
        assertEquals("/chat?room=1", server.awaitConnection().requestUri());
        assertEquals(uri, ws.uri());

        Await.get("text sent", ws.sendText("héllo"));
        byte[] big = new byte[70_000];
        new Random(7).nextBytes(big);
        Await.get("binary sent", ws.sendBinary(big));
        assertEquals("héllo", rec.await("text", 1).get(0).text());
        assertArrayEquals(big, rec.await("binary", 1).get(0).bytes());

        Await.get("close handshake", ws.close(1000, "bye"));
        MessageRecorder.Call end = rec.awaitEnd();
        assertEquals("closed", end.kind());
        assertEquals(1000, end.code());
        assertEquals(List.of("open", "text", "binary", "closing", "closed"), rec.kinds());
        assertTrue(rec.calls().stream().allMatch(c -> c.thread().startsWith("wscrt-el")),
                "every listener call runs on the event-loop thread: " + rec.calls());
        assertEquals(0, ws.queuedBytes());
    }

    @Test
    void aFragmentedMessageArrivesOnceWithAPingBetweenItsFragmentsDeliveredFirst() {
        NettyWebSocketServer server = testbed.nettyServer(b -> b.echo(false));
        MessageRecorder rec = new MessageRecorder();
        connect(uri(server, "/"), rec);
        NettyWebSocketServer.Connection conn = server.awaitConnection();
        conn.sendText("frag", false);
        conn.sendPing("p".getBytes(StandardCharsets.US_ASCII));
        conn.sendContinuation("men".getBytes(StandardCharsets.UTF_8), false);
        conn.sendContinuation("ted".getBytes(StandardCharsets.UTF_8), true);
        assertEquals("fragmented", rec.await("text", 1).get(0).text());
        assertEquals(List.of("open", "ping", "text"), rec.kinds());
        assertEquals("p", conn.awaitPong().text());
    }

    @Test
    void aMessageOverTheMaximumFailsTheConnectionWith1009AndANamedError() {
        NettyWebSocketServer server = testbed.nettyServer(b -> b.echo(false));
        MessageRecorder rec = new MessageRecorder();
        Await.get("connect", WebSocketConnection.builder(uri(server, "/")).bootstrap(testbed.bootstrap())
                .maxMessageSize(1024).connect(rec));
        NettyWebSocketServer.Connection conn = server.awaitConnection();
        conn.sendBinary(new byte[1025]);
        assertEquals("WSCRT_ERROR_WEBSOCKET_MESSAGE_TOO_BIG", rec.awaitError());
        ReceivedFrame close = conn.awaitClose();
        assertEquals(1009, ((close.payload()[0] & 0xFF) << 8) | (close.payload()[1] & 0xFF));
        assertEquals(List.of("open", "error"), rec.kinds());
    }

    @Test
    void aLimitAboveTheLongestJavaArrayMeansThatLengthAndAFrameAnnouncingMoreFailsWith1009() {
        ScriptedServer server = testbed.scriptedServer();
        MessageRecorder rec = new MessageRecorder();
        CompletableFuture<WebSocketConnection> connecting =
                WebSocketConnection.builder(URI.create("ws://" + server.authority() + "/"))
                        .bootstrap(testbed.bootstrap()).maxMessageSize(Long.MAX_VALUE).connect(rec);
        ScriptedServer.Conn conn = server.awaitConnection();
        // A BINARY frame header announcing 2^31 - 8 bytes, one past the longest array; no payload follows.
        conn.handshake(new byte[] {(byte) 0x82, 127, 0, 0, 0, 0, 0x7F, (byte) 0xFF, (byte) 0xFF, (byte) 0xF8});
        Await.get("connect", connecting);
        assertEquals("WSCRT_ERROR_WEBSOCKET_MESSAGE_TOO_BIG", rec.awaitError());
        ReceivedFrame close = conn.readFrame();
        assertEquals(0x8, close.opcode());
        assertEquals(1009, ((close.payload()[0] & 0xFF) << 8) | (close.payload()[1] & 0xFF));
    }

    @Test
    void aRefusedUpgradeFailsTheConnectWithTheStatusAndBody() {
        NettyWebSocketServer server = testbed.nettyServer(b -> b.rejectUpgrades(403, "not you"));
        CompletableFuture<WebSocketConnection> connecting = WebSocketConnection.builder(uri(server, "/"))
                .bootstrap(testbed.bootstrap()).connect(new MessageRecorder());
        CompletionException e = assertThrows(CompletionException.class, connecting::join);
        WebSocketHandshakeException refused = assertInstanceOf(WebSocketHandshakeException.class, e.getCause());
        assertEquals("WSCRT_ERROR_WEBSOCKET_UPGRADE_FAILURE", refused.errorName());
        assertEquals(403, refused.status());
        assertEquals("not you", new String(refused.body(), StandardCharsets.ISO_8859_1));
        assertTrue(refused.getMessage().contains("403"), refused.getMessage());
    }

    @Test
    void aConnectionNobodyReferencesStaysOpenAndKeepsDelivering() {
        NettyWebSocketServer server = testbed.nettyServer(b -> b.echo(false));
        MessageRecorder rec = new MessageRecorder();
        connect(uri(server, "/"), rec); // the reference is dropped here
        NettyWebSocketServer.Connection conn = server.awaitConnection();
        for (int i = 0; i < 3; i++) {
            System.gc();
            Await.sleep(50);
        }
        conn.sendText("still here");
        assertEquals("still here", rec.await("text", 1).get(0).text());
        conn.sendClose(1001, "going away");
        assertEquals("closed", rec.awaitEnd().kind());
        MessageRecorder.Call closing = rec.await("closing", 1).get(0);
        assertEquals(1001, closing.code());
        assertEquals("going away", closing.text());
    }

    @Test
    void eachBinaryMessageIsABufferOfTheListenersOwnThatLaterMessagesLeaveAlone() {
        NettyWebSocketServer server = testbed.nettyServer(b -> b.echo(false));
        List<ByteBuffer> kept = new CopyOnWriteArrayList<>();
        Await.get("connect", WebSocketConnection.builder(uri(server, "/")).bootstrap(testbed.bootstrap())
                .connect(new WebSocketListener() {
                    @Override
                    public void onBinary(WebSocketConnection connection, ByteBuffer data) {
                        kept.add(data);
                    }
                }));
        NettyWebSocketServer.Connection conn = server.awaitConnection();
        conn.sendBinary(new byte[] {1, 2, 3});
        conn.sendBinary(new byte[] {4, 5, 6, 7});
        Await.until("two binary messages", () -> kept.size() == 2);

        ByteBuffer first = kept.get(0);
        assertFalse(first.isReadOnly());
        assertEquals(0, first.position());
        assertEquals(3, first.remaining());
        first.put(0, (byte) 9); // the listener may change it
        assertArrayEquals(new byte[] {9, 2, 3}, first.array());
        assertEquals(ByteBuffer.wrap(new byte[] {4, 5, 6, 7}), kept.get(1));
    }

    /**
     * Messages in one frame larger than a network read arrive in pieces, which the message API joins straight
     * into the listener's array (starting at 1 MiB and doubling up to the message's length): each arrives
     * whole, in an array of exactly its length, beside a large TEXT message (joined in native code).
     */
    @Test
    void largeMessagesArriveWholeInArraysOfTheirExactLength() {
        NettyWebSocketServer server = testbed.nettyServer(b -> b.echo(false));
        List<ByteBuffer> binaries = new CopyOnWriteArrayList<>();
        List<String> texts = new CopyOnWriteArrayList<>();
        Await.get("connect", WebSocketConnection.builder(uri(server, "/")).bootstrap(testbed.bootstrap())
                .connect(new WebSocketListener() {
                    @Override
                    public void onBinary(WebSocketConnection connection, ByteBuffer data) {
                        binaries.add(data);
                    }

                    @Override
                    public void onText(WebSocketConnection connection, String text) {
                        texts.add(text);
                    }
                }));
        NettyWebSocketServer.Connection conn = server.awaitConnection();
        Random random = new Random(11);
        int[] sizes = {3 * (1 << 20) + 5, 1 << 20, 300_000, (1 << 20) + 1};
        List<byte[]> sent = new java.util.ArrayList<>();
        for (int size : sizes) {
            byte[] payload = new byte[size];
            random.nextBytes(payload);
            sent.add(payload);
            conn.sendBinary(payload);
        }
        String text = "ü".repeat(300_000);
        conn.sendText(text);
        Await.until("four binary messages and a text", () -> binaries.size() == sizes.length && texts.size() == 1);
        for (int i = 0; i < sizes.length; i++) {
            ByteBuffer received = binaries.get(i);
            assertEquals(0, received.position());
            assertEquals(sizes[i], received.limit(), "message " + i + " whole");
            assertEquals(sizes[i], received.array().length, "message " + i + " in an array of its exact length");
            assertArrayEquals(sent.get(i), received.array(), "message " + i + " byte for byte");
        }
        assertEquals(text, texts.get(0));
    }

    @Test
    void sendsPastTheQueueLimitFailAtOnceAgainstAStalledReaderAndMemoryStaysNearTheLimit() {
        ScriptedServer server = testbed.scriptedServer();
        MessageRecorder rec = new MessageRecorder();
        long limit = 16L * 1024 * 1024;
        CompletableFuture<WebSocketConnection> connecting =
                WebSocketConnection.builder(URI.create("ws://" + server.authority() + "/"))
                        .bootstrap(testbed.bootstrap()).sendQueueLimit(limit).connect(rec);
        ScriptedServer.Conn conn = server.awaitConnection();
        conn.handshake(); // then never reads again
        WebSocketConnection ws = Await.get("connect", connecting);
        long before = Crt.nativeMemoryInUse();
        byte[] mebibyte = new byte[1024 * 1024];
        int refused = 0;
        long peak = 0;
        for (int i = 0; i < 300; i++) {
            CompletableFuture<Void> sent = ws.sendBinary(mebibyte);
            if (sent.isCompletedExceptionally()) {
                CrtRuntimeException e = assertInstanceOf(CrtRuntimeException.class,
                        assertThrows(CompletionException.class, sent::join).getCause());
                assertEquals("WSCRT_ERROR_WEBSOCKET_SEND_QUEUE_FULL", e.errorName());
                refused++;
            }
            peak = Math.max(peak, Crt.nativeMemoryInUse() - before);
            assertTrue(ws.queuedBytes() <= limit, "queued " + ws.queuedBytes());
        }
        assertTrue(refused > 250, "most of 300 MiB must be refused, refused " + refused);
        assertTrue(peak < limit + 2 * 1024 * 1024, "native memory grew by " + peak + " bytes");
        assertTrue(ws.isOpen(), "a full queue does not end the connection");
        conn.close();
        assertTrue(rec.awaitEnd().kind().equals("error"));
    }

    @Test
    void closeRefusesCodesThatMayNotBeSent() {
        NettyWebSocketServer server = testbed.echoServer();
        WebSocketConnection ws = connect(uri(server, "/"), new MessageRecorder());
        for (int code : new int[] {999, 1004, 1005, 1006, 1015, 1016, 2999, 5000}) {
            assertThrows(IllegalArgumentException.class, () -> ws.close(code, ""), "code " + code);
        }
        assertThrows(IllegalArgumentException.class, () -> ws.close(1000, "x".repeat(124)));
        Await.get("close", ws.close(4000, "fine"));
    }

    @Test
    void sendingAfterTheEndFailsTheFutureWithConnectionClosed() {
        NettyWebSocketServer server = testbed.echoServer();
        MessageRecorder rec = new MessageRecorder();
        WebSocketConnection ws = connect(uri(server, "/"), rec);
        Await.get("close", ws.close(1000, null));
        CompletionException e = assertThrows(CompletionException.class, () -> ws.sendText("late").join());
        assertEquals("WSCRT_ERROR_WEBSOCKET_CONNECTION_CLOSED", ((CrtRuntimeException) e.getCause()).errorName());
    }

    @Test
    void abortEndsAtOnceWithoutACloseFrameAndReportsAborted() {
        NettyWebSocketServer server = testbed.nettyServer(b -> b.echo(false));
        MessageRecorder rec = new MessageRecorder();
        WebSocketConnection ws = connect(uri(server, "/"), rec);
        NettyWebSocketServer.Connection conn = server.awaitConnection();
        ws.abort();
        assertEquals("WSCRT_ERROR_WEBSOCKET_ABORTED", rec.awaitError());
        Await.until("the server to see the connection end", () -> !conn.isOpen());
        assertTrue(conn.frames().stream().noneMatch(ReceivedFrame::isClose), "no CLOSE on an abort");
    }

    @Test
    void aManualReadWindowStopsDeliveryUntilIncremented() {
        NettyWebSocketServer server = testbed.nettyServer(b -> b.echo(false));
        MessageRecorder rec = new MessageRecorder();
        WebSocketConnection ws = Await.get("connect", WebSocketConnection.builder(uri(server, "/"))
                .bootstrap(testbed.bootstrap()).readWindow(10).connect(rec));
        NettyWebSocketServer.Connection conn = server.awaitConnection();
        conn.sendText("0123456789"); // exactly the window
        conn.sendText("abcde");
        assertEquals("0123456789", rec.await("text", 1).get(0).text());
        Await.holdsFalseFor("the second message before the window grows", java.time.Duration.ofMillis(200),
                () -> rec.kinds().stream().filter("text"::equals).count() > 1);
        ws.incrementReadWindow(5);
        assertEquals("abcde", rec.await("text", 2).get(1).text());
        Await.get("close", ws.close(1000, null));
    }
}
