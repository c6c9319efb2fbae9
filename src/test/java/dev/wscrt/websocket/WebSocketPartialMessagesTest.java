package dev.wscrt.websocket;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wscrt.testing.Await;
import dev.wscrt.testing.NettyWebSocketServer;
import dev.wscrt.testing.Testbed;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The message API's partial mode ({@code Builder.partialMessages(true)}) against the Netty server. */
class WebSocketPartialMessagesTest {
    @RegisterExtension
    static final Testbed testbed = Testbed.withLoopThreads(1);

    private static WebSocketConnection connect(NettyWebSocketServer server, MessageRecorder rec, long maxMessageSize) {
        URI uri = URI.create("ws://" + server.authority() + "/");
        return Await.get("connect", WebSocketConnection.builder(uri).bootstrap(testbed.bootstrap())
                .partialMessages(true).maxMessageSize(maxMessageSize).connect(rec));
    }

    private static List<MessageRecorder.Call> pieces(MessageRecorder rec, String kind) {
        return rec.calls().stream().filter(c -> c.kind().equals(kind)).toList();
    }

    @Test
    void textPiecesAreCutAtCodePointsWhenAFrameEndsInsideACharacter() {
        NettyWebSocketServer server = testbed.nettyServer(b -> b.echo(false));
        MessageRecorder rec = new MessageRecorder();
        WebSocketConnection ws = connect(server, rec, 1024);
        String text = "aé€😀z";
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8); // a, é (2), € (3), 😀 (4), z
        // Frames end inside é, inside €, inside 😀 (after 1, 2 and 3 of its bytes), then the rest.
        int[] cuts = {2, 5, 7, 9, bytes.length};
        NettyWebSocketServer.Connection c = server.awaitConnection();
        int from = 0;
        for (int i = 0; i < cuts.length; i++) {
            byte[] part = Arrays.copyOfRange(bytes, from, cuts[i]);
            boolean fin = i == cuts.length - 1;
            Await.get("frame " + i, c.send(i == 0 ? new TextWebSocketFrame(fin, 0, Unpooled.wrappedBuffer(part))
                    : new ContinuationWebSocketFrame(fin, 0, Unpooled.wrappedBuffer(part))));
            from = cuts[i];
        }
        rec.await("textPiece", 1);
        Await.until("the last text piece", () -> pieces(rec, "textPiece").stream().anyMatch(p -> p.code() == 1));
        List<MessageRecorder.Call> got = pieces(rec, "textPiece");
        StringBuilder joined = new StringBuilder();
        for (int i = 0; i < got.size(); i++) {
            String piece = got.get(i).text();
            assertArrayEquals(piece.getBytes(StandardCharsets.UTF_8), got.get(i).bytes(), "piece " + i + " is whole characters");
            assertEquals(i == got.size() - 1 ? 1 : 0, got.get(i).code(), "only the last piece is last: " + got);
            joined.append(piece);
        }
        assertEquals(text, joined.toString());
        assertEquals(List.of(), pieces(rec, "text"), "the whole-message method is not called in partial mode");
        Await.get("close", ws.close(1000, ""));
    }

    @Test
    void aBinaryMessageAboveTheMaximumSizeArrivesInPiecesWithLastOnTheFinalOne() {
        NettyWebSocketServer server = testbed.echoServer();
        MessageRecorder rec = new MessageRecorder();
        WebSocketConnection ws = connect(server, rec, 64 * 1024);
        byte[] big = new byte[1024 * 1024];
        new Random(3).nextBytes(big);
        Await.get("send", ws.sendBinary(big));
        Await.until("the last binary piece", () -> pieces(rec, "binaryPiece").stream().anyMatch(p -> p.code() == 1));
        List<MessageRecorder.Call> got = pieces(rec, "binaryPiece");
        ByteArrayOutputStream joined = new ByteArrayOutputStream();
        got.forEach(p -> joined.writeBytes(p.bytes()));
        assertArrayEquals(big, joined.toByteArray());
        assertTrue(got.size() > 1, "1 MiB is delivered as it arrives, not joined: " + got.size() + " piece(s)");
        assertTrue(got.subList(0, got.size() - 1).stream().allMatch(p -> p.code() == 0));
        Await.get("close", ws.close(1000, ""));
        assertEquals("closed", rec.awaitEnd().kind(), "no 1009: partial mode has no maximum message size");
    }

    @Test
    void anEmptyFinalFrameEndsTheMessageWithAnEmptyLastPiece() {
        NettyWebSocketServer server = testbed.nettyServer(b -> b.echo(false));
        MessageRecorder rec = new MessageRecorder();
        WebSocketConnection ws = connect(server, rec, 1024);
        NettyWebSocketServer.Connection c = server.awaitConnection();
        Await.get("first", c.sendText("abc", false));
        Await.get("empty final", c.send(new ContinuationWebSocketFrame(true, 0, Unpooled.EMPTY_BUFFER)));
        Await.until("two pieces", () -> pieces(rec, "textPiece").size() == 2);
        List<MessageRecorder.Call> got = pieces(rec, "textPiece");
        assertEquals("abc", got.get(0).text());
        assertEquals(0, got.get(0).code());
        assertEquals("", got.get(1).text());
        assertEquals(1, got.get(1).code());
        Await.get("close", ws.close(1000, ""));
    }
}
