package dev.wscrt.websocket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wscrt.testing.Await;
import dev.wscrt.testing.NettyWebSocketServer;
import dev.wscrt.testing.ReceivedFrame;
import dev.wscrt.testing.Testbed;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Parity of {@link JdkWebSocket} with the JDK's own client: every scenario runs once with
 * {@code HttpClient.newWebSocketBuilder()} and once with {@code JdkWebSocket.newWebSocketBuilder()}, against
 * the same Netty server, and expects the same listener calls in the same order and the same futures.
 */
class JdkWebSocketParityTest {
    @RegisterExtension
    static final Testbed testbed = Testbed.withLoopThreads(1);

    private static final HttpClient JDK = HttpClient.newHttpClient();
    private static final Duration QUIET = Duration.ofMillis(300);

    private final List<WebSocket> opened = new ArrayList<>();

    static Stream<Named<Supplier<WebSocket.Builder>>> clients() {
        return Stream.of(Named.of("jdk", JDK::newWebSocketBuilder),
                Named.of("wscrt", () -> JdkWebSocket.newWebSocketBuilder(testbed.bootstrap())));
    }

    @AfterEach
    void abortWhatIsLeft() {
        opened.forEach(WebSocket::abort);
    }

    /**
     * Records listener calls as text; requests one more after each call unless built with demand off, or a
     * fixed demand in onOpen when made by {@link #requestingAtOpen}.
     */
    static final class Recorder implements WebSocket.Listener {
        private final boolean requestEach;
        private long demandAtOpen;
        /** onText throws this after recording, when set. */
        volatile RuntimeException throwOnText;
        private final List<String> calls = new ArrayList<>();
        private final StringBuilder text = new StringBuilder();
        private final java.io.ByteArrayOutputStream binary = new java.io.ByteArrayOutputStream();
        private long binaryLength;
        /** Bytes of every binary message; messages over 64 bytes are counted, not recorded. */
        final java.util.concurrent.atomic.AtomicLong bulkBytes = new java.util.concurrent.atomic.AtomicLong();
        volatile boolean inputClosedInOnClose;

        Recorder(boolean requestEach) {
            this.requestEach = requestEach;
        }

        /** A recorder that requests {@code demand} in onOpen ({@code Long.MAX_VALUE}: unbounded) and nothing after. */
        static Recorder requestingAtOpen(long demand) {
            Recorder recorder = new Recorder(false);
            recorder.demandAtOpen = demand;
            return recorder;
        }

        private synchronized void add(String call) {
            calls.add(call);
        }

        synchronized List<String> calls() {
            return List.copyOf(calls);
        }

        List<String> await(int n) {
            Await.until(n + " listener call(s)", Await.DEFAULT_TIMEOUT, () -> calls().size() >= n, () -> calls().toString());
            return calls();
        }

        void assertQuiet(int n) {
            Await.holdsFalseFor("a listener call after " + calls(), QUIET, () -> calls().size() > n);
        }

        private void next(WebSocket ws) {
            if (requestEach) {
                ws.request(1);
            }
        }

        @Override
        public void onOpen(WebSocket ws) {
            add("open");
            next(ws);
            if (demandAtOpen > 0) {
                ws.request(demandAtOpen);
            }
        }

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            text.append(data); // a message may come in pieces; what is compared is the message
            if (last) {
                add("text " + (text.length() > 64 ? text.length() + " chars" : text));
                text.setLength(0);
            }
            if (throwOnText != null) {
                throw throwOnText;
            }
            next(ws);
            return null;
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
            byte[] bytes = new byte[data.remaining()];
            data.get(bytes);
            bulkBytes.addAndGet(bytes.length);
            binaryLength += bytes.length;
            if (binaryLength <= 64) {
                binary.writeBytes(bytes);
            }
            if (last) { // a message may come in pieces; what is compared is the message
                if (binaryLength <= 64) {
                    add("binary " + HexFormat.of().formatHex(binary.toByteArray()));
                }
                binary.reset();
                binaryLength = 0;
            }
            next(ws);
            return null;
        }

        @Override
        public CompletionStage<?> onPing(WebSocket ws, ByteBuffer message) {
            add("ping " + StandardCharsets.UTF_8.decode(message));
            next(ws);
            return null;
        }

        @Override
        public CompletionStage<?> onPong(WebSocket ws, ByteBuffer message) {
            add("pong " + StandardCharsets.UTF_8.decode(message));
            next(ws);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
            inputClosedInOnClose = ws.isInputClosed();
            add("close " + statusCode + " " + reason);
            return null;
        }

        @Override
        public void onError(WebSocket ws, Throwable error) {
            add("error " + error.getClass().getSimpleName() + " " + error.getMessage());
        }
    }

    /** The test's server, and the recorder (asking for each message) of its echo-server client. */
    private NettyWebSocketServer server;
    private final Recorder rec = new Recorder(true);

    /** Opens a WebSocket of {@code client} on a fresh echo server ({@link #server}), recording in {@link #rec}. */
    private WebSocket openOnEchoServer(Supplier<WebSocket.Builder> client) {
        server = testbed.echoServer();
        return open(client, server, rec);
    }

    private static URI uri(NettyWebSocketServer server) {
        return URI.create("ws://" + server.authority() + "/parity");
    }

    private WebSocket open(Supplier<WebSocket.Builder> client, NettyWebSocketServer server, Recorder rec) {
        return open(client.get(), server, rec);
    }

    private WebSocket open(WebSocket.Builder builder, NettyWebSocketServer server, Recorder rec) {
        WebSocket ws = Await.get("buildAsync", builder.buildAsync(uri(server), rec));
        opened.add(ws);
        return ws;
    }

    private static Throwable failure(CompletableFuture<?> future) {
        try {
            future.get(Await.DEFAULT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            return e.getCause();
        } catch (Exception e) {
            throw new AssertionError("expected a failed future, got " + e, e);
        }
        throw new AssertionError("expected a failed future, it completed normally");
    }

    @ParameterizedTest
    @MethodSource("clients")
    void textAndBinaryEchoAndSendFuturesCompleteWithTheWebSocket(Supplier<WebSocket.Builder> client) {
        WebSocket ws = openOnEchoServer(client);
        assertSame(ws, Await.get("sendText", ws.sendText("héllo", true)));
        rec.await(2);
        ByteBuffer data = ByteBuffer.wrap(new byte[] {1, 2, 3});
        assertSame(ws, Await.get("sendBinary", ws.sendBinary(data, true)));
        assertEquals(0, data.remaining(), "the sent buffer is consumed");
        assertEquals(List.of("open", "text héllo", "binary 010203"), rec.await(3));
        assertSame(ws, Await.get("sendText in two parts", ws.sendText("par", false)));
        assertSame(ws, Await.get("second part", ws.sendText("ts", true)));
        assertEquals("text parts", rec.await(4).get(3));
        assertEquals("", ws.getSubprotocol());
        assertFalse(ws.isInputClosed());
        assertFalse(ws.isOutputClosed());
    }

    @ParameterizedTest
    @MethodSource("clients")
    void aPingIsAnsweredWithAPong(Supplier<WebSocket.Builder> client) {
        WebSocket ws = openOnEchoServer(client);
        assertSame(ws, Await.get("sendPing", ws.sendPing(ByteBuffer.wrap("p1".getBytes(StandardCharsets.UTF_8)))));
        assertEquals(List.of("open", "pong p1"), rec.await(2));
        Throwable tooLong = failure(ws.sendPing(ByteBuffer.allocate(126)));
        assertInstanceOf(IllegalArgumentException.class, tooLong);
    }

    @ParameterizedTest
    @MethodSource("clients")
    void theServersCloseReachesOnCloseAndIsAnsweredWithItsCode(Supplier<WebSocket.Builder> client) {
        WebSocket ws = openOnEchoServer(client);
        NettyWebSocketServer.Connection c = server.awaitConnection();
        c.sendClose(4000, "bye");
        assertEquals(List.of("open", "close 4000 bye"), rec.await(2));
        assertTrue(rec.inputClosedInOnClose, "the input is closed when onClose runs");
        ReceivedFrame answer = c.awaitClose();
        assertEquals(4000, ((answer.payload()[0] & 0xFF) << 8) | (answer.payload()[1] & 0xFF));
        Await.until("output closed", ws::isOutputClosed);
        assertTrue(ws.isInputClosed());
        rec.assertQuiet(2);
    }

    @ParameterizedTest
    @MethodSource("clients")
    void sendCloseClosesTheOutputThenTheServersAnswerReachesOnClose(Supplier<WebSocket.Builder> client) {
        WebSocket ws = openOnEchoServer(client);
        CompletableFuture<WebSocket> close = ws.sendClose(WebSocket.NORMAL_CLOSURE, "done");
        assertTrue(ws.isOutputClosed(), "the output is closed at once");
        assertSame(ws, Await.get("sendClose", close));
        assertEquals(List.of("open", "close 1000 "), rec.await(2));
        assertTrue(ws.isInputClosed());
        assertInstanceOf(IOException.class, failure(ws.sendText("late", true)));
        assertInstanceOf(IOException.class, failure(ws.sendClose(1000, "")));
        ReceivedFrame sent = server.awaitConnection().awaitClose();
        assertEquals("done", new String(sent.payload(), 2, sent.payload().length - 2, StandardCharsets.UTF_8));
    }

    @ParameterizedTest
    @MethodSource("clients")
    void nothingIsDeliveredWithoutDemand(Supplier<WebSocket.Builder> client) {
        server = testbed.nettyServer(b -> b.echo(false).onOpen(c -> {
            c.sendText("1");
            c.sendText("2");
            c.sendText("3");
        }));
        Recorder noDemand = new Recorder(false);
        WebSocket ws = open(client, server, noDemand);
        noDemand.assertQuiet(1);
        ws.request(2);
        assertEquals(List.of("open", "text 1", "text 2"), noDemand.await(3));
        noDemand.assertQuiet(3);
        ws.request(1);
        assertEquals(List.of("open", "text 1", "text 2", "text 3"), noDemand.await(4));
        assertThrows(IllegalArgumentException.class, () -> ws.request(0));
    }

    @ParameterizedTest
    @MethodSource("clients")
    void demandGivenOneAtATimeFromAnotherThreadWhileMessagesArriveDeliversEachOnceInOrder(
            Supplier<WebSocket.Builder> client) {
        int messages = 500;
        server = testbed.nettyServer(b -> b.echo(false).onOpen(c -> {
            for (int i = 0; i < messages; i++) {
                c.sendText(Integer.toString(i));
            }
        }));
        Recorder noDemand = new Recorder(false);
        WebSocket ws = open(client, server, noDemand);
        for (int i = 0; i < messages; i++) {
            ws.request(1);
            if (i % 16 == 0) {
                Thread.yield(); // let deliveries from the event-loop thread and from here interleave
            }
        }
        List<String> calls = noDemand.await(messages + 1);
        for (int i = 0; i < messages; i++) {
            assertEquals("text " + i, calls.get(i + 1));
        }
        noDemand.assertQuiet(messages + 1);
    }

    private static final int BURST = 300;

    /**
     * Texts "0" to "299", a ping "p" after "100", an unsolicited pong "q" after "200" and the server's CLOSE,
     * flushed together (read in few reads).
     */
    private static void sendBurstAndClose(NettyWebSocketServer.Connection c) {
        List<WebSocketFrame> frames = new ArrayList<>();
        for (int i = 0; i < BURST; i++) {
            frames.add(new TextWebSocketFrame(Integer.toString(i)));
            if (i == BURST / 3) {
                frames.add(new PingWebSocketFrame(Unpooled.copiedBuffer("p", StandardCharsets.UTF_8)));
            } else if (i == 2 * BURST / 3) {
                frames.add(new PongWebSocketFrame(Unpooled.copiedBuffer("q", StandardCharsets.UTF_8)));
            }
        }
        frames.add(new CloseWebSocketFrame(1000, "bye"));
        c.sendTogether(frames);
    }

    /** Opens a WebSocket of {@code client}, recording in {@code recorder}, on a fresh server that sends the burst. */
    private WebSocket openOnBurstServer(Supplier<WebSocket.Builder> client, Recorder recorder) {
        server = testbed.nettyServer(b -> b.echo(false).onOpen(JdkWebSocketParityTest::sendBurstAndClose));
        return open(client, server, recorder);
    }

    /** The listener calls of {@link #sendBurstAndClose}, in order. */
    private static List<String> burstCalls() {
        List<String> calls = new ArrayList<>(List.of("open"));
        for (int i = 0; i < BURST; i++) {
            calls.add("text " + i);
            if (i == BURST / 3) {
                calls.add("ping p");
            } else if (i == 2 * BURST / 3) {
                calls.add("pong q");
            }
        }
        calls.add("close 1000 bye");
        return calls;
    }

    @ParameterizedTest
    @MethodSource("clients")
    void messagesControlFramesAndTheServersCloseArrivingTogetherKeepTheirOrder(Supplier<WebSocket.Builder> client) {
        Recorder unbounded = Recorder.requestingAtOpen(Long.MAX_VALUE);
        for (Recorder recorder : List.of(rec, unbounded)) { // demand one at a time, then unbounded
            openOnBurstServer(client, recorder);
            assertEquals(burstCalls(), recorder.await(BURST + 4));
            recorder.assertQuiet(BURST + 4);
        }
    }

    @ParameterizedTest
    @MethodSource("clients")
    void aDemandOfFiveAmongMessagesArrivingTogetherDeliversFiveThenWaits(Supplier<WebSocket.Builder> client) {
        Recorder five = Recorder.requestingAtOpen(5);
        WebSocket ws = openOnBurstServer(client, five);
        assertEquals(burstCalls().subList(0, 6), five.await(6));
        five.assertQuiet(6);
        ws.request(2);
        assertEquals(burstCalls().subList(0, 8), five.await(8));
        five.assertQuiet(8);
    }

    @ParameterizedTest
    @MethodSource("clients")
    void aListenerThatThrowsAmongMessagesArrivingTogetherGetsOnErrorAndNothingMore(
            Supplier<WebSocket.Builder> client) {
        Recorder throwing = Recorder.requestingAtOpen(Long.MAX_VALUE);
        throwing.throwOnText = new IllegalStateException("boom");
        WebSocket ws = openOnBurstServer(client, throwing);
        assertEquals(List.of("open", "text 0", "error IllegalStateException boom"), throwing.await(3));
        assertTrue(ws.isInputClosed());
        throwing.assertQuiet(3);
    }

    @ParameterizedTest
    @MethodSource("clients")
    void withoutDemandTheClientStopsReadingAndTheServersWritesWait(Supplier<WebSocket.Builder> client) {
        server = testbed.nettyServer(b -> b.echo(false));
        Recorder noDemand = new Recorder(false);
        WebSocket ws = open(client, server, noDemand);
        long total = 32L * 1024 * 1024;
        CompletableFuture<Void> written = server.awaitConnection().sendBinaryBytes(total, 64 * 1024);
        Await.holdsFalseFor("the server's 32 MiB written while the client has no demand", Duration.ofMillis(500),
                written::isDone);
        assertEquals(List.of("open"), noDemand.calls());
        assertEquals(0, noDemand.bulkBytes.get());
        ws.request(Long.MAX_VALUE);
        Await.get("the server's writes", written);
        Await.until("32 MiB received", () -> noDemand.bulkBytes.get() == total);
    }

    @ParameterizedTest
    @MethodSource("clients")
    void aConnectionThatEndsWithoutCloseReachesOnCloseWith1006(Supplier<WebSocket.Builder> client) {
        WebSocket ws = openOnEchoServer(client);
        server.awaitConnection().drop();
        assertEquals(List.of("open", "close 1006 "), rec.await(2));
        assertTrue(ws.isInputClosed());
        rec.assertQuiet(2);
    }

    @ParameterizedTest
    @MethodSource("clients")
    void aListenerThatThrowsGetsOnErrorWithItsExceptionAndNothingMore(Supplier<WebSocket.Builder> client) {
        rec.throwOnText = new IllegalStateException("boom");
        WebSocket ws = openOnEchoServer(client);
        ws.sendText("x", true);
        assertEquals(List.of("open", "text x", "error IllegalStateException boom"), rec.await(3));
        assertTrue(ws.isInputClosed());
        assertTrue(ws.isOutputClosed());
        ws.sendText("y", true);
        rec.assertQuiet(3);
    }

    @ParameterizedTest
    @MethodSource("clients")
    void theServersChoiceAmongTheOfferedSubprotocolsIsReported(Supplier<WebSocket.Builder> client) {
        server = testbed.nettyServer(b -> b.subprotocols("chat.v1", "chat.v2"));
        WebSocket ws = open(client.get().subprotocols("chat.v2", "chat.v1"), server, new Recorder(true));
        assertEquals("chat.v2", ws.getSubprotocol());
        assertEquals("chat.v2, chat.v1", server.awaitConnection().requestHeader("Sec-WebSocket-Protocol"));
    }

    @ParameterizedTest
    @MethodSource("clients")
    void aRefusedUpgradeFailsWithTheServersAnswer(Supplier<WebSocket.Builder> client) {
        server = testbed.nettyServer(b -> b.rejectUpgrades(403, "go away"));
        Throwable error = failure(client.get().header("X-Token", "t1").buildAsync(uri(server), rec));
        WebSocketHandshakeException refused = assertInstanceOf(WebSocketHandshakeException.class, error);
        assertEquals(403, refused.getResponse().statusCode());
        assertEquals("go away", refused.getResponse().body());
        assertEquals("netty", refused.getResponse().headers().firstValue("x-test-server").orElse(null));
        assertEquals("t1", server.upgradeRequests().get(0).getValue().stream()
                .filter(h -> h.getKey().equalsIgnoreCase("X-Token")).findFirst().orElseThrow().getValue());
        assertEquals(List.of(), rec.calls());
    }

    @ParameterizedTest
    @MethodSource("clients")
    void abortClosesBothDirectionsAndEndsTheListenerCalls(Supplier<WebSocket.Builder> client) {
        WebSocket ws = openOnEchoServer(client);
        NettyWebSocketServer.Connection c = server.awaitConnection();
        ws.abort();
        assertTrue(ws.isInputClosed());
        assertTrue(ws.isOutputClosed());
        assertInstanceOf(IOException.class, failure(ws.sendText("after", true)));
        c.awaitDisconnect();
        rec.assertQuiet(1);
        assertEquals(List.of("open"), rec.calls());
        assertFalse(c.frames().stream().anyMatch(f -> f.opcode() == ReceivedFrame.CLOSE), "no CLOSE is sent");
    }

    @ParameterizedTest
    @MethodSource("clients")
    void aSecondSendOfTheSameKindWhileOneIsOutstandingFailsWithIllegalStateException(
            Supplier<WebSocket.Builder> client) {
        // The server stops reading, so a text larger than the TCP buffers stays outstanding until it resumes.
        server = testbed.nettyServer(b -> b.echo(false).keepPayloads(false)
                .onOpen(c -> c.pauseReading(true)));
        WebSocket ws = open(client, server, new Recorder(true));
        int size = 12 * 1024 * 1024;
        CompletableFuture<WebSocket> big = ws.sendText("x".repeat(size), true);
        CompletableFuture<WebSocket> text = ws.sendText("second", true);
        CompletableFuture<WebSocket> binary = ws.sendBinary(ByteBuffer.allocate(1), true);
        CompletableFuture<WebSocket> ping = ws.sendPing(ByteBuffer.allocate(1));
        assertInstanceOf(IllegalStateException.class, failure(text));
        assertInstanceOf(IllegalStateException.class, failure(binary));
        assertFalse(big.isDone(), "the big text waits for the server to read");
        server.awaitConnection().pauseReading(false);
        assertSame(ws, Await.get("a ping beside the text", ping));
        assertSame(ws, Await.get("the big text", big));
        assertSame(ws, Await.get("a text after it", ws.sendText("third", true)));
        server.awaitConnection().awaitDataBytes(size + "third".length());
    }

    @ParameterizedTest
    @MethodSource("clients")
    void whatTheJdkRefusesFailsTheFutureWithIllegalArgumentException(Supplier<WebSocket.Builder> client) {
        server = testbed.echoServer();
        List<Function<WebSocket.Builder, CompletableFuture<WebSocket>>> refused = List.of(
                b -> b.header("Sec-WebSocket-Key", "x").buildAsync(uri(server), rec),
                b -> b.header("Host", "example.com").buildAsync(uri(server), rec),
                b -> b.header("Upgrade", "h2c").buildAsync(uri(server), rec),
                b -> b.header("bad name", "v").buildAsync(uri(server), rec),
                b -> b.header("X-Ok", "bad\nvalue").buildAsync(uri(server), rec),
                b -> b.subprotocols("a", "a").buildAsync(uri(server), rec),
                b -> b.subprotocols("a b").buildAsync(uri(server), rec),
                b -> b.connectTimeout(Duration.ZERO).buildAsync(uri(server), rec),
                b -> b.buildAsync(URI.create("http://" + server.authority() + "/"), rec),
                b -> b.buildAsync(URI.create("ws://" + server.authority() + "/#frag"), rec));
        for (int i = 0; i < refused.size(); i++) {
            Throwable error = failure(refused.get(i).apply(client.get()));
            assertInstanceOf(IllegalArgumentException.class, error, "case " + i);
        }
        assertThrows(NullPointerException.class, () -> client.get().buildAsync(null, rec));
        assertThrows(NullPointerException.class, () -> client.get().header("X", null));
        assertEquals(0, server.tcpConnectionCount(), "nothing refused reached the server");
        WebSocket ws = open(client, server, rec);
        assertInstanceOf(IllegalArgumentException.class, failure(ws.sendClose(1005, "")));
        assertInstanceOf(IllegalArgumentException.class, failure(ws.sendClose(1000, "r".repeat(124))));
        assertFalse(ws.isOutputClosed(), "a refused sendClose leaves the output open");
    }
}
