package dev.wscrt.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The test peers themselves, checked with the JDK's own WebSocket client and RFC 6455's examples, so
 * that a failure elsewhere points at wscrt and not at the harness.
 */
class TestPeersTest {

    @Test
    void acceptValueMatchesTheRfcExample() {
        assertEquals("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", ScriptedServer.acceptFor("dGhlIHNhbXBsZSBub25jZQ=="));
    }

    @Test
    void frameEncodingMatchesTheRfcExamples() {
        assertArrayEquals(Hex.bytes("81 05 48 65 6c 6c 6f"), ScriptedServer.frame(true, 1, Hex.ascii("Hello")));
        assertArrayEquals(Hex.bytes("01 03 48 65 6c"), ScriptedServer.frame(false, 1, Hex.ascii("Hel")));
        assertArrayEquals(Hex.bytes("82 7e 01 00"), java.util.Arrays.copyOf(ScriptedServer.frame(true, 2,
                new byte[256]), 4));
        assertArrayEquals(Hex.bytes("82 7f 00 00 00 00 00 01 00 00"), java.util.Arrays.copyOf(
                ScriptedServer.frame(true, 2, new byte[65536]), 10));
        assertArrayEquals(Hex.bytes("03 e8 62 79 65"), ScriptedServer.closePayload(1000, "bye"));
    }

    @Test
    void hexParsesAndFormats() {
        assertArrayEquals(new byte[] {0x0a, (byte) 0xff, 0x00}, Hex.bytes("0a ff\n00"));
        assertEquals("0a ff 00", Hex.format(new byte[] {0x0a, (byte) 0xff, 0x00}));
        assertThrows(IllegalArgumentException.class, () -> Hex.bytes("abc"));
    }

    /** A JDK WebSocket listener that queues what it receives as strings. */
    private static final class Listener implements WebSocket.Listener {
        final LinkedBlockingQueue<String> events = new LinkedBlockingQueue<>();

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            events.add("text:" + data + ":" + last);
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
            events.add("binary:" + data.remaining() + ":" + last);
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onPing(WebSocket ws, ByteBuffer message) {
            events.add("ping:" + message.remaining());
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
            events.add("close:" + statusCode + ":" + reason);
            return null;
        }

        String next() throws InterruptedException {
            String e = events.poll(10, TimeUnit.SECONDS);
            if (e == null) {
                throw new AssertionError("no event from the JDK client in 10 s");
            }
            return e;
        }
    }

    @Test
    void nettyServerEchoesFragmentsRecordsFramesAndAnswersClose() throws Exception {
        try (NettyWebSocketServer server = NettyWebSocketServer.builder()
                .onOpen(c -> c.sendPing(Hex.ascii("abc"))).start()) {
            Listener listener = new Listener();
            WebSocket ws = HttpClient.newHttpClient().newWebSocketBuilder()
                    .buildAsync(URI.create("ws://" + server.authority() + "/path"), listener).get(10, TimeUnit.SECONDS);
            assertEquals("ping:3", listener.next());
            ws.sendText("hel", false).get(10, TimeUnit.SECONDS);
            ws.sendText("lo", true).get(10, TimeUnit.SECONDS);
            ws.sendBinary(ByteBuffer.wrap(new byte[70_000]), true).get(10, TimeUnit.SECONDS);
            assertEquals("text:hel:false", listener.next());
            assertEquals("text:lo:true", listener.next());
            int binaryBytes = 0;
            String binary;
            do {
                binary = listener.next();
                assertTrue(binary.startsWith("binary:"), binary);
                binaryBytes += Integer.parseInt(binary.split(":")[1]);
            } while (binary.endsWith(":false"));
            assertEquals(70_000, binaryBytes);

            NettyWebSocketServer.Connection conn = server.awaitConnection();
            assertEquals("/path", conn.requestUri());
            assertEquals("abc", conn.awaitPong().text());
            ws.sendClose(4000, "done").get(10, TimeUnit.SECONDS);
            assertEquals("close:4000:", listener.next());
            ReceivedFrame close = conn.awaitClose();
            assertEquals(4000, close.closeCode());
            assertEquals("done", close.closeReason());
            conn.awaitDisconnect();
            assertEquals(70_000, conn.dataBytesReceived() - 5);
        }
    }

    @Test
    void nettyServerRejectsUpgradesWhenToldTo() throws Exception {
        try (NettyWebSocketServer server = NettyWebSocketServer.builder().rejectUpgrades(403, "go away").start()) {
            CompletableFuture<WebSocket> f = HttpClient.newHttpClient().newWebSocketBuilder()
                    .buildAsync(URI.create("ws://" + server.authority() + "/"), new Listener());
            ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(10, TimeUnit.SECONDS));
            WebSocketHandshakeException h = assertInstanceOf(WebSocketHandshakeException.class, e.getCause());
            assertEquals(403, h.getResponse().statusCode());
            assertEquals(1, server.upgradeRequests().size());
        }
    }

    @Test
    void scriptedServerHandshakesAndDecodesMaskedClientFrames() throws Exception {
        try (ScriptedServer server = ScriptedServer.start()) {
            Listener listener = new Listener();
            CompletableFuture<WebSocket> f = HttpClient.newHttpClient().newWebSocketBuilder()
                    .buildAsync(URI.create("ws://" + server.authority() + "/"), listener);
            ScriptedServer.Conn c = server.awaitConnection();
            c.handshake(ScriptedServer.frame(true, 1, Hex.ascii("hi")));
            WebSocket ws = f.get(10, TimeUnit.SECONDS);
            assertEquals("text:hi:true", listener.next());
            ws.sendPing(ByteBuffer.wrap(Hex.bytes("09 08"))).get(10, TimeUnit.SECONDS);
            ReceivedFrame ping = c.readFrame();
            assertEquals(ReceivedFrame.PING, ping.opcode());
            assertTrue(ping.masked());
            assertArrayEquals(Hex.bytes("09 08"), ping.payload());
            assertEquals(4, c.lastMaskKey().length);
            ws.sendClose(1000, "").get(10, TimeUnit.SECONDS);
            assertEquals(1000, c.awaitClose().closeCode());
            ws.abort();
            c.awaitEof();
        }
    }
}
