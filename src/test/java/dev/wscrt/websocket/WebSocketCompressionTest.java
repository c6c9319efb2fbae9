package dev.wscrt.websocket;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wscrt.Crt;
import dev.wscrt.testing.Await;
import dev.wscrt.testing.Hex;
import dev.wscrt.testing.NativeMemory;
import dev.wscrt.testing.NettyWebSocketServer;
import dev.wscrt.testing.ReceivedFrame;
import dev.wscrt.testing.ScriptedServer;
import dev.wscrt.testing.Testbed;
import io.netty.handler.codec.http.websocketx.extensions.compression.PerMessageDeflateServerExtensionHandshaker;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.UnaryOperator;
import java.util.zip.Deflater;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * permessage-deflate (RFC 7692) on the message API: against Netty's own server-side deflate (a real
 * third-party implementation of the extension) for traffic, and against the scripted raw server for
 * answers and frames no well-behaved server sends.
 */
class WebSocketCompressionTest {
    @RegisterExtension
    static final Testbed testbed = Testbed.withLoopThreads(1);

    private static NettyWebSocketServer deflateServer(UnaryOperator<NettyWebSocketServer.Builder> more) {
        return testbed.nettyServer(b -> more.apply(b.deflate()));
    }

    /** Connects with compression on, then as {@code configure} says. */
    private static WebSocketConnection connect(NettyWebSocketServer server, MessageRecorder rec,
                                               UnaryOperator<WebSocketConnection.Builder> configure) {
        URI uri = URI.create("ws://" + server.authority() + "/");
        return Await.get("connect", configure.apply(
                WebSocketConnection.builder(uri).bootstrap(testbed.bootstrap()).compression(true)).connect(rec));
    }

    /** Text that compresses well: words repeating with a little variety. */
    private static String prose(int length, int seed) {
        String[] words = {"deflate ", "window ", "message ", "frame ", "context ", "takeover ", "zlib ", "é "};
        Random random = new Random(seed);
        StringBuilder text = new StringBuilder(length + 16);
        while (text.length() < length) {
            text.append(words[random.nextInt(words.length)]);
        }
        text.setLength(length);
        return text.toString();
    }

    private static int closeCode(ReceivedFrame close) {
        return ((close.payload()[0] & 0xFF) << 8) | (close.payload()[1] & 0xFF);
    }

    // ---- against Netty's permessage-deflate --------------------------------------------------------

    @Test
    void textAndBinaryMessagesTravelCompressedBothWays() {
        NettyWebSocketServer server = deflateServer(b -> b);
        MessageRecorder rec = new MessageRecorder();
        WebSocketConnection ws = connect(server, rec, b -> b);
        assertTrue(ws.compressionNegotiated());
        assertEquals("permessage-deflate", ws.extensions());
        assertEquals("permessage-deflate; client_max_window_bits",
                server.awaitConnection().requestHeader("Sec-WebSocket-Extensions"));

        String text = prose(100_000, 1);
        byte[] binary = prose(50_000, 2).getBytes(StandardCharsets.UTF_8);
        long wireBefore = server.wireBytesReceived();
        Await.get("text sent", ws.sendText(text));
        Await.get("binary sent", ws.sendBinary(binary));
        assertEquals(text, rec.await("text", 1).get(0).text());
        assertArrayEquals(binary, rec.await("binary", 1).get(0).bytes());
        long wire = server.wireBytesReceived() - wireBefore;
        assertTrue(wire < 150_000 / 3, "150 kB of prose took " + wire + " bytes on the wire");
        Await.get("close", ws.close(1000, "done"));
        assertEquals("closed", rec.awaitEnd().kind());
    }

    @Test
    void bigAndIncompressibleMessagesRoundTrip() {
        NettyWebSocketServer server = deflateServer(b -> b);
        MessageRecorder rec = new MessageRecorder();
        WebSocketConnection ws = connect(server, rec, b -> b);
        byte[] random = new byte[3 * 1024 * 1024 + 17];
        new Random(3).nextBytes(random);
        String big = prose(8 * 1024 * 1024, 4);
        Await.get("random sent", ws.sendBinary(random));
        Await.get("prose sent", ws.sendText(big));
        assertArrayEquals(random, rec.await("binary", 1).get(0).bytes());
        assertEquals(big, rec.await("text", 1).get(0).text());
        Await.get("close", ws.close(1000, null));
    }

    @Test
    void manyMessagesWithContextTakeoverStayInOrderAndIntact() {
        NettyWebSocketServer server = deflateServer(b -> b);
        MessageRecorder rec = new MessageRecorder();
        WebSocketConnection ws = connect(server, rec, b -> b);
        int count = 2_000;
        List<String> sent = new ArrayList<>();
        CompletableFuture<Void> last = null;
        for (int i = 0; i < count; i++) {
            String message = i + ": " + prose(20 + i % 300, i);
            sent.add(message);
            last = ws.sendText(message);
        }
        Await.get("last sent", last);
        List<MessageRecorder.Call> texts = rec.await("text", count);
        for (int i = 0; i < count; i++) {
            assertEquals(sent.get(i), texts.get(i).text(), "message " + i);
        }
        Await.get("close", ws.close(1000, null));
    }

    @Test
    void concurrentSendersShareTheCompressorWithoutCorruptingIt() throws Exception {
        NettyWebSocketServer server = deflateServer(b -> b);
        MessageRecorder rec = new MessageRecorder();
        WebSocketConnection ws = connect(server, rec, b -> b);
        int threads = 4;
        int perThread = 250;
        List<Thread> senders = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int id = t;
            senders.add(new Thread(() -> {
                for (int i = 0; i < perThread; i++) {
                    ws.sendText(id + "/" + i + " " + prose(40 + i, id * 1000 + i));
                }
            }));
        }
        senders.forEach(Thread::start);
        for (Thread sender : senders) {
            sender.join(30_000);
        }
        List<MessageRecorder.Call> texts = rec.await("text", threads * perThread);
        int[] next = new int[threads];
        for (MessageRecorder.Call call : texts) {
            String[] head = call.text().split(" ", 2)[0].split("/");
            int id = Integer.parseInt(head[0]);
            int i = Integer.parseInt(head[1]);
            assertEquals(next[id]++, i, "each sender's messages in its order");
            assertEquals(id + "/" + i + " " + prose(40 + i, id * 1000 + i), call.text());
        }
        Await.get("close", ws.close(1000, null));
    }

    @Test
    void inPartialModeACompressedMessageArrivesInInflatedPiecesEndingWithTheLastOne() {
        NettyWebSocketServer server = deflateServer(b -> b.echo(false));
        MessageRecorder rec = new MessageRecorder();
        connect(server, rec, b -> b.partialMessages(true).maxMessageSize(1 << 20));
        String text = prose(200_000, 12);
        server.awaitConnection().sendText(text);
        Await.until("the last text piece", () -> rec.calls().stream()
                .anyMatch(c -> c.kind().equals("textPiece") && c.code() == 1));
        List<MessageRecorder.Call> pieces = rec.calls().stream().filter(c -> c.kind().equals("textPiece")).toList();
        StringBuilder joined = new StringBuilder();
        pieces.forEach(p -> joined.append(p.text()));
        assertEquals(text, joined.toString());
        assertTrue(pieces.size() > 1, "inflated in pieces: " + pieces.size());
        assertEquals(1, pieces.get(pieces.size() - 1).code(), "only the last piece is marked last");
        assertEquals(1, pieces.stream().filter(p -> p.code() == 1).count());
    }

    @Test
    void noContextTakeoverIsNegotiatedBothWaysWhenAsked() {
        NettyWebSocketServer server = testbed.nettyServer(b -> b.deflate(
                new PerMessageDeflateServerExtensionHandshaker(6, false, 15, true, false, 0)));
        MessageRecorder rec = new MessageRecorder();
        WebSocketConnection ws = connect(server, rec, b -> b.compression(CompressionOptions.DEFAULT
                .withClientNoContextTakeover(true).withServerNoContextTakeover(true)));
        assertEquals("permessage-deflate; server_no_context_takeover; client_no_context_takeover", ws.extensions());
        for (int i = 0; i < 200; i++) {
            ws.sendText("again " + prose(200, 7));
        }
        List<MessageRecorder.Call> texts = rec.await("text", 200);
        assertTrue(texts.stream().allMatch(c -> c.text().equals("again " + prose(200, 7))));
        Await.get("close", ws.close(1000, null));
    }

    @Test
    void serverMaxWindowBitsIsRequestedAndAnsweredOrTheOfferDeclined() {
        // Netty on the JDK's zlib cannot limit its own window, so it declines an offer that requires it:
        // the connection then runs uncompressed.
        NettyWebSocketServer server = deflateServer(b -> b);
        MessageRecorder rec = new MessageRecorder();
        WebSocketConnection ws = connect(server, rec, b -> b.compression(CompressionOptions.DEFAULT
                .withServerMaxWindowBits(10)));
        assertEquals("permessage-deflate; client_max_window_bits; server_max_window_bits=10",
                server.awaitConnection().requestHeader("Sec-WebSocket-Extensions"));
        assertNull(ws.extensions());
        assertFalse(ws.compressionNegotiated());
        Await.get("sent", ws.sendText("plain"));
        assertEquals("plain", rec.await("text", 1).get(0).text());
        Await.get("close", ws.close(1000, null));
    }

    @Test
    void aServerLimitingTheClientWindowIsHonoured() {
        NettyWebSocketServer server = testbed.nettyServer(b -> b.deflate(
                new PerMessageDeflateServerExtensionHandshaker(6, false, 9, false, false, 0)));
        MessageRecorder rec = new MessageRecorder();
        WebSocketConnection ws = connect(server, rec, b -> b);
        assertEquals("permessage-deflate; client_max_window_bits=9", ws.extensions());
        String text = prose(300_000, 9);
        Await.get("sent", ws.sendText(text));
        assertEquals(text, rec.await("text", 1).get(0).text());
        Await.get("close", ws.close(1000, null));
    }

    @Test
    void aCompressedMessageInflatingPastTheMaximumFailsWith1009() {
        NettyWebSocketServer server = deflateServer(b -> b.echo(false));
        MessageRecorder rec = new MessageRecorder();
        connect(server, rec, b -> b.maxMessageSize(64 * 1024));
        NettyWebSocketServer.Connection conn = server.awaitConnection();
        conn.sendText("x".repeat(64 * 1024)); // exactly the maximum: delivered
        assertEquals(64 * 1024, rec.await("text", 1).get(0).text().length());
        conn.sendText(prose(4 * 1024 * 1024, 11)); // a few kB on the wire, 4 MiB inflated
        assertEquals("WSCRT_ERROR_WEBSOCKET_MESSAGE_TOO_BIG", rec.awaitError());
        assertEquals(1009, closeCode(conn.awaitClose()));
        assertEquals(List.of("open", "text", "error"), rec.kinds());
    }

    @Test
    void compressionIsOffByDefaultAndNotOffered() {
        NettyWebSocketServer server = deflateServer(b -> b);
        MessageRecorder rec = new MessageRecorder();
        WebSocketConnection ws = Await.get("connect", WebSocketConnection.builder(
                URI.create("ws://" + server.authority() + "/")).bootstrap(testbed.bootstrap()).connect(rec));
        assertNull(server.awaitConnection().requestHeader("Sec-WebSocket-Extensions"));
        assertFalse(ws.compressionNegotiated());
        assertNull(ws.extensions());
        Await.get("sent", ws.sendText("plain"));
        assertEquals("plain", rec.await("text", 1).get(0).text());
        Await.get("close", ws.close(1000, null));
        WebSocketConnection off = connect(server, new MessageRecorder(), b -> b.compression(false));
        assertNull(server.awaitConnections(2).get(1).requestHeader("Sec-WebSocket-Extensions"));
        Await.get("close", off.close(1000, null));
    }

    @Test
    void nativeMemoryReturnsToItsBaselineAfterCompressedTraffic() {
        NettyWebSocketServer server = deflateServer(b -> b);
        NativeMemory.Snapshot baseline = NativeMemory.snapshot();
        for (int round = 0; round < 3; round++) {
            MessageRecorder rec = new MessageRecorder();
            WebSocketConnection ws = connect(server, rec, b -> b);
            for (int i = 0; i < 20; i++) {
                ws.sendText(prose(10_000 * (i + 1), i));
            }
            rec.await("text", 20);
            Await.get("close", ws.close(1000, null));
        }
        NativeMemory.assertBackTo(baseline);
    }

    @Test
    void anExtensionsHeaderAddedByHandIsRefusedWhileCompressionIsOn() {
        NettyWebSocketServer server = deflateServer(b -> b);
        WebSocketConnection.Builder builder = WebSocketConnection.builder(
                URI.create("ws://" + server.authority() + "/")).compression(true)
                .header("Sec-WebSocket-Extensions", "x-custom");
        assertThrows(IllegalArgumentException.class, () -> builder.connect(new MessageRecorder()));
    }

    // ---- against the scripted raw server -------------------------------------------------------------

    /** A connection attempt to the scripted server, and the server's side of it. */
    private record Scripted(CompletableFuture<WebSocketConnection> connecting, ScriptedServer.Conn conn) {
        WebSocketConnection open() {
            return Await.get("connect", connecting);
        }

        WebSocketHandshakeException refusal() {
            CompletionException e = assertThrows(CompletionException.class, connecting::join);
            return assertInstanceOf(WebSocketHandshakeException.class, e.getCause());
        }
    }

    /** Compress every message, however short, so that the RFC 7692 examples apply. */
    private static final CompressionOptions ALL = CompressionOptions.DEFAULT.withThreshold(0);

    /**
     * Connects offering {@code compression} (null: no offer), reads the request and answers 101 with this
     * Sec-WebSocket-Extensions value (null: none).
     */
    private static Scripted connectScripted(ScriptedServer server, MessageRecorder rec, CompressionOptions compression,
                                            String extensionsAnswer, long maxMessageSize) {
        WebSocketConnection.Builder builder = WebSocketConnection.builder(
                URI.create("ws://" + server.authority() + "/")).bootstrap(testbed.bootstrap())
                .maxMessageSize(maxMessageSize);
        CompletableFuture<WebSocketConnection> connecting =
                (compression == null ? builder.compression(false) : builder.compression(compression)).connect(rec);
        ScriptedServer.Conn conn = server.awaitConnection();
        conn.readRequest();
        conn.writeAscii("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Accept: " + conn.expectedAccept() + "\r\n"
                + (extensionsAnswer == null ? "" : "Sec-WebSocket-Extensions: " + extensionsAnswer + "\r\n")
                + "\r\n");
        return new Scripted(connecting, conn);
    }

    @Test
    void anExtensionAnswerThatWasNotOfferedFailsTheSetup() {
        ScriptedServer server = testbed.scriptedServer();
        WebSocketHandshakeException e = connectScripted(server, new MessageRecorder(), null, "permessage-deflate",
                1 << 20).refusal();
        assertEquals("WSCRT_ERROR_WEBSOCKET_UNEXPECTED_EXTENSION", e.errorName());
        assertEquals(101, e.status());
        assertTrue(e.headers().stream().anyMatch(h -> h.name().equals("Sec-WebSocket-Extensions")));
    }

    @Test
    void badAnswerParametersFailTheSetupWithNamedErrors() {
        String[][] cases = {
            {"permessage-deflate; server_max_window_bits=16", "WSCRT_ERROR_WEBSOCKET_BAD_EXTENSION_PARAMETER"},
            {"permessage-deflate; server_max_window_bits=010", "WSCRT_ERROR_WEBSOCKET_BAD_EXTENSION_PARAMETER"},
            {"permessage-deflate; mystery=1", "WSCRT_ERROR_WEBSOCKET_UNKNOWN_EXTENSION_PARAMETER"},
            {"permessage-deflate; server_no_context_takeover; server_no_context_takeover",
                "WSCRT_ERROR_WEBSOCKET_DUPLICATE_EXTENSION_PARAMETER"},
            {"permessage-deflate, permessage-deflate", "WSCRT_ERROR_WEBSOCKET_MULTIPLE_EXTENSIONS"},
            {"x-webkit-deflate-frame", "WSCRT_ERROR_WEBSOCKET_UNEXPECTED_EXTENSION"},
            {"permessage-deflate; server_max_window_bits", "WSCRT_ERROR_WEBSOCKET_BAD_EXTENSION_PARAMETER"},
            {"permessage-deflate;", "WSCRT_ERROR_WEBSOCKET_MALFORMED_EXTENSION_HEADER"},
        };
        ScriptedServer server = testbed.scriptedServer();
        for (String[] c : cases) {
            WebSocketHandshakeException e = connectScripted(server, new MessageRecorder(), ALL, c[0], 1 << 20)
                    .refusal();
            assertEquals(c[1], e.errorName(), c[0]);
            assertEquals(101, e.status(), c[0]);
        }
    }

    @Test
    void aServerMaxWindowBitsAnswerIsAcceptedAndItsMessagesInflated() {
        ScriptedServer server = testbed.scriptedServer();
        MessageRecorder rec = new MessageRecorder();
        Scripted scripted = connectScripted(server, rec, ALL, "permessage-deflate; server_max_window_bits=10", 1 << 20);
        WebSocketConnection ws = scripted.open();
        assertEquals("permessage-deflate; server_max_window_bits=10", ws.extensions());
        ScriptedServer.Conn conn = scripted.conn();
        conn.write(Hex.bytes("c1 07 f2 48 cd c9 c9 07 00 c1 05 f2 00 11 00 00")); // RFC 7692 7.2.3.2
        List<MessageRecorder.Call> texts = rec.await("text", 2);
        assertEquals("Hello", texts.get(0).text());
        assertEquals("Hello", texts.get(1).text());
        ws.sendText("Hello");
        ReceivedFrame sent = conn.readFrame();
        assertEquals(4, sent.rsv(), "RSV1 (and only it) on a compressed message");
        assertEquals("f2 48 cd c9 c9 07 00", Hex.format(sent.payload()));
    }

    @Test
    void aServerDemandingNoClientContextTakeoverGetsMessagesCompressedAlone() {
        ScriptedServer server = testbed.scriptedServer();
        Scripted scripted = connectScripted(server, new MessageRecorder(), ALL,
                "permessage-deflate; client_no_context_takeover", 1 << 20);
        WebSocketConnection ws = scripted.open();
        ws.sendText("Hello Hello Hello");
        ws.sendText("Hello Hello Hello");
        for (int i = 0; i < 2; i++) {
            ReceivedFrame sent = scripted.conn().readFrame();
            assertEquals(4, sent.rsv());
            assertEquals("f2 48 cd c9 c9 57 f0 40 90 00 00", Hex.format(sent.payload()));
        }
    }

    @Test
    void rsv1OnAContinuationFailsWith1002() {
        ScriptedServer server = testbed.scriptedServer();
        MessageRecorder rec = new MessageRecorder();
        Scripted scripted = connectScripted(server, rec, ALL, "permessage-deflate", 1 << 20);
        assertEquals("permessage-deflate", scripted.open().extensions());
        ScriptedServer.Conn conn = scripted.conn();
        conn.write(Hex.bytes("41 03 f2 48 cd c0 04 c9 c9 07 00"));
        assertEquals("WSCRT_ERROR_WEBSOCKET_MISPLACED_RSV1", rec.awaitError());
        assertEquals(1002, conn.awaitClose().closeCode());
        assertEquals(List.of("open", "error"), rec.kinds());
    }

    @Test
    void invalidCompressedDataFailsWith1007() {
        ScriptedServer server = testbed.scriptedServer();
        MessageRecorder rec = new MessageRecorder();
        Scripted scripted = connectScripted(server, rec, ALL, "permessage-deflate", 1 << 20);
        scripted.open();
        ScriptedServer.Conn conn = scripted.conn();
        conn.write(Hex.bytes("c1 07 f2 48 cd c9 c9 07 00 c2 01 07"));
        assertEquals("Hello", rec.await("text", 1).get(0).text());
        assertEquals("WSCRT_ERROR_WEBSOCKET_INVALID_COMPRESSED_DATA", rec.awaitError());
        assertEquals(1007, conn.awaitClose().closeCode());
    }

    /** {@code zeros} zero bytes as one compressed BINARY frame (RSV1), tail removed. */
    private static byte[] bomb(long zeros) {
        Deflater deflater = new Deflater(9, true);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] input = new byte[1 << 20];
        byte[] buffer = new byte[1 << 16];
        for (long left = zeros; left > 0; left -= input.length) {
            deflater.setInput(input, 0, (int) Math.min(input.length, left));
            int mode = left <= input.length ? Deflater.SYNC_FLUSH : Deflater.NO_FLUSH;
            int n;
            while ((n = deflater.deflate(buffer, 0, buffer.length, mode)) > 0 || !deflater.needsInput()) {
                out.write(buffer, 0, n);
            }
        }
        deflater.end();
        byte[] compressed = out.toByteArray();
        byte[] payload = java.util.Arrays.copyOf(compressed, compressed.length - 4);
        return ScriptedServer.frame(0xC2, payload);
    }

    @Test
    void aCompressionBombIsRefusedAtTheMaximumWithMemoryNearIt() throws Exception {
        // Made before connecting: compressing 1 GiB takes long enough under emulation (qemu) for an open
        // connection to reach its keepalive PING, which this server does not answer.
        byte[] frame = bomb(1L << 30); // 1 GiB of zeros
        assertTrue(frame.length < 1_100_000, "bomb of " + frame.length + " bytes");
        ScriptedServer server = testbed.scriptedServer();
        MessageRecorder rec = new MessageRecorder();
        long max = 4L * 1024 * 1024;
        Scripted scripted = connectScripted(server, rec, ALL, "permessage-deflate", max);
        scripted.open();
        ScriptedServer.Conn conn = scripted.conn();
        long before = Crt.nativeMemoryInUse();
        AtomicLong peak = new AtomicLong(before);
        Thread sampler = new Thread(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                peak.accumulateAndGet(Crt.nativeMemoryInUse(), Math::max);
                Thread.onSpinWait();
            }
        });
        sampler.setDaemon(true);
        sampler.start();
        // Read the client's CLOSE while writing: it stops reading at the maximum and closes before all of
        // the bomb is written.
        CompletableFuture<Integer> closeCode = CompletableFuture.supplyAsync(() -> conn.awaitClose().closeCode());
        conn.tryWrite(frame);
        assertEquals("WSCRT_ERROR_WEBSOCKET_MESSAGE_TOO_BIG", rec.awaitError());
        sampler.interrupt();
        sampler.join(1000);
        long grown = peak.get() - before;
        assertTrue(grown < 2 * max + 1024 * 1024, "native memory grew by " + grown + " for a maximum of " + max);
        assertEquals(1009, Await.get("the client's CLOSE", closeCode));
    }
}
