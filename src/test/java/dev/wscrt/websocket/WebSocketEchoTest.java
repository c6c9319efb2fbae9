package dev.wscrt.websocket;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static dev.wscrt.testing.Testbed.closeCleanly;

import dev.wscrt.CrtRuntimeException;
import dev.wscrt.http.HttpHeader;
import dev.wscrt.http.HttpRequest;
import dev.wscrt.testing.CallbackRecorder;
import dev.wscrt.testing.CallbackRecorder.Frame;
import dev.wscrt.testing.Hex;
import dev.wscrt.testing.NettyWebSocketServer;
import dev.wscrt.testing.ReceivedFrame;
import dev.wscrt.testing.SendRecorder;
import dev.wscrt.testing.Testbed;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * End-to-end traffic against a real third-party server (Netty): echo of every frame kind and size,
 * fragmentation both ways, pipelining, PING/PONG, the close handshake from either side, and a
 * rejected upgrade.
 */
class WebSocketEchoTest {

    @RegisterExtension
    static final Testbed testbed = Testbed.withLoopThreads(1);

    /** The test's server, its client's callbacks and the client: set by {@link #connect} (or by the test). */
    private NettyWebSocketServer server;
    private final CallbackRecorder rec = new CallbackRecorder();
    private WebSocket ws;

    /** Connects {@link #ws} to {@code to} (setup succeeded), recording its callbacks in {@link #rec}. */
    private void connect(NettyWebSocketServer to) {
        server = to;
        ws = testbed.connect(to, rec);
    }

    private static String asciiText(int size) {
        StringBuilder sb = new StringBuilder(size);
        for (int i = 0; i < size; i++) {
            sb.append((char) ('a' + i % 26));
        }
        return sb.toString();
    }

    // ---- echo of every size -----------------------------------------------------------------

    @ParameterizedTest(name = "{0} bytes")
    @ValueSource(ints = {0, 1, 125, 126, 127, 65535, 65536, 16 * 1024 * 1024})
    void binaryFrameOfEverySizeEchoesIntact(int size) {
        byte[] payload = Hex.pattern(size, size);
        connect(testbed.echoServer());
        SendRecorder sends = new SendRecorder();
        ws.sendFrame(Opcode.BINARY, payload, true, sends.callback());

        Frame echo = rec.awaitFrames(1).get(0);
        assertEquals(new IncomingFrame(Opcode.BINARY, size, true), echo.frame());
        assertNull(echo.exception());
        assertArrayEquals(payload, echo.payload(), "echoed payload");
        sends.awaitAllSucceeded();

        ReceivedFrame atServer = server.awaitConnection().awaitFrames(1).get(0);
        assertEquals(ReceivedFrame.BINARY, atServer.opcode());
        assertTrue(atServer.fin());
        assertEquals(0, atServer.rsv());
        assertArrayEquals(payload, atServer.payload(), "payload at the server");
        closeCleanly(ws, rec);
    }

    @ParameterizedTest(name = "{0} bytes")
    @ValueSource(ints = {0, 1, 125, 126, 127, 65535, 65536, 16 * 1024 * 1024})
    void textFrameOfEverySizeEchoesIntact(int size) {
        String text = asciiText(size);
        connect(testbed.echoServer());
        ws.sendFrame(Opcode.TEXT, text);

        Frame echo = rec.awaitFrames(1).get(0);
        assertEquals(new IncomingFrame(Opcode.TEXT, size, true), echo.frame());
        assertEquals(text, echo.text());
        assertEquals(text, server.awaitConnection().awaitFrames(1).get(0).text());
        closeCleanly(ws, rec);
    }

    @Test
    void textWithMultiByteCharactersEchoesIntact() {
        String text = "héllo wörld ✓ 😀 Ελληνικά 日本語";
        connect(testbed.echoServer());
        ws.sendFrame(Opcode.TEXT, text);
        Frame echo = rec.awaitFrames(1).get(0);
        assertEquals(text.getBytes(StandardCharsets.UTF_8).length, echo.frame().payloadLength());
        assertEquals(text, echo.text());
        closeCleanly(ws, rec);
    }

    @Test
    void everySendOverloadDeliversItsPayload() {
        ByteBuffer direct = ByteBuffer.allocateDirect(16);
        direct.put(Hex.ascii("xxdirect-bufferx")).position(2).limit(15);
        ByteBuffer heapSlice = ByteBuffer.wrap(Hex.ascii("..heap-slice..")).position(2).limit(12);
        connect(testbed.echoServer());
        SendRecorder sends = new SendRecorder();
        ws.sendFrame(Opcode.BINARY, Hex.ascii("bytes"));
        ws.sendFrame(Opcode.TEXT, "string");
        ws.sendFrame(Opcode.BINARY, direct);
        ws.sendFrame(Opcode.BINARY, heapSlice, true, sends.callback());
        ws.sendFrame(Opcode.TEXT, "with-callback", true, sends.callback());
        ws.sendFrame(Opcode.BINARY, Hex.ascii("bytes-with-callback"), true, sends.callback());
        ws.sendFrame(Opcode.BINARY, (byte[]) null, true, sends.callback());
        ws.sendFrame(Opcode.TEXT, (String) null, true, sends.callback());
        ws.sendFrame(Opcode.BINARY, (ByteBuffer) null, true, sends.callback());

        List<String> echoed = rec.awaitFrames(9).stream().map(Frame::text).toList();
        assertEquals(List.of("bytes", "string", "direct-buffer", "heap-slice", "with-callback",
                "bytes-with-callback", "", "", ""), echoed);
        sends.awaitAllSucceeded();
        assertEquals(2, direct.position(), "the caller's buffer position is left alone");
        assertEquals(15, direct.limit());
        closeCleanly(ws, rec);
    }

    @Test
    void sendCompletionsRunOnceEachOnTheNetworkingThread() {
        connect(testbed.echoServer());
        SendRecorder sends = new SendRecorder();
        for (int i = 0; i < 100; i++) {
            ws.sendFrame(Opcode.BINARY, new byte[] {(byte) i}, true, sends.callback());
        }
        List<SendRecorder.Completion> done = sends.awaitAll();
        assertEquals(100, done.size());
        String loopThread = ((CallbackRecorder.Setup) rec.events().get(0)).thread();
        for (SendRecorder.Completion c : done) {
            assertNull(c.exception());
            assertEquals(loopThread, c.thread(), "send completion thread");
        }
        rec.awaitFrames(100);
        closeCleanly(ws, rec);
    }

    // ---- fragmentation ----------------------------------------------------------------------

    @Test
    void fragmentedTextMessageEchoesFragmentByFragment() {
        connect(testbed.echoServer());
        SendRecorder sends = new SendRecorder();
        ws.sendFrame(Opcode.TEXT, "Hel", false, sends.callback());
        ws.sendFrame(Opcode.CONTINUATION, "lo, ", false, sends.callback());
        ws.sendFrame(Opcode.CONTINUATION, "world", true, sends.callback());

        List<Frame> frames = rec.awaitFrames(3);
        assertEquals(new IncomingFrame(Opcode.TEXT, 3, false), frames.get(0).frame());
        assertEquals(new IncomingFrame(Opcode.CONTINUATION, 4, false), frames.get(1).frame());
        assertEquals(new IncomingFrame(Opcode.CONTINUATION, 5, true), frames.get(2).frame());
        assertEquals("Hello, world", frames.get(0).text() + frames.get(1).text() + frames.get(2).text());
        sends.awaitAllSucceeded();

        List<ReceivedFrame> atServer = server.awaitConnection().awaitFrames(3);
        assertEquals(List.of(ReceivedFrame.TEXT, ReceivedFrame.CONTINUATION, ReceivedFrame.CONTINUATION),
                atServer.stream().map(ReceivedFrame::opcode).toList());
        assertEquals(List.of(false, false, true), atServer.stream().map(ReceivedFrame::fin).toList());
        closeCleanly(ws, rec);
    }

    @Test
    void fragmentedBinaryMessageEchoesFragmentByFragment() {
        byte[] a = Hex.pattern(70_000, 1);
        byte[] b = Hex.pattern(10, 2);
        byte[] c = Hex.pattern(0, 3);
        connect(testbed.echoServer());
        ws.sendFrame(Opcode.BINARY, a, false, null);
        ws.sendFrame(Opcode.CONTINUATION, b, false, null);
        ws.sendFrame(Opcode.CONTINUATION, c, true, null);

        List<Frame> frames = rec.awaitFrames(3);
        assertEquals(new IncomingFrame(Opcode.BINARY, a.length, false), frames.get(0).frame());
        assertEquals(new IncomingFrame(Opcode.CONTINUATION, b.length, false), frames.get(1).frame());
        assertEquals(new IncomingFrame(Opcode.CONTINUATION, 0, true), frames.get(2).frame());
        assertArrayEquals(Hex.concat(a, b, c),
                Hex.concat(frames.get(0).payload(), frames.get(1).payload(), frames.get(2).payload()));
        closeCleanly(ws, rec);
    }

    @Test
    void textFragmentsSplitInsideAMultiByteCharacterEchoIntact() {
        byte[] euro = "€".getBytes(StandardCharsets.UTF_8); // e2 82 ac
        connect(testbed.echoServer());
        ws.sendFrame(Opcode.TEXT, new byte[] {'x', euro[0]}, false, null);
        ws.sendFrame(Opcode.CONTINUATION, new byte[] {euro[1]}, false, null);
        ws.sendFrame(Opcode.CONTINUATION, new byte[] {euro[2], 'y'}, true, null);

        List<Frame> frames = rec.awaitFrames(3);
        assertEquals("x€y", new String(Hex.concat(frames.get(0).payload(), frames.get(1).payload(),
                frames.get(2).payload()), StandardCharsets.UTF_8));
        assertTrue(server.awaitConnection().errors().isEmpty(), "the server accepted the UTF-8");
        closeCleanly(ws, rec);
    }

    @Test
    void serverFragmentedMessageArrivesFragmentByFragment() {
        connect(testbed.nettyServer(b -> b.echo(false).onOpen(c -> {
            c.sendText("one ", false);
            c.sendContinuation(Hex.ascii("two "), false);
            c.sendContinuation(Hex.ascii("three"), true);
        })));
        List<Frame> frames = rec.awaitFrames(3);
        assertEquals(new IncomingFrame(Opcode.TEXT, 4, false), frames.get(0).frame());
        assertEquals(new IncomingFrame(Opcode.CONTINUATION, 4, false), frames.get(1).frame());
        assertEquals(new IncomingFrame(Opcode.CONTINUATION, 5, true), frames.get(2).frame());
        assertEquals("one two three", frames.get(0).text() + frames.get(1).text() + frames.get(2).text());
        closeCleanly(ws, rec);
    }

    @Test
    void controlFramesBetweenFragmentsAreDeliveredAndAnswered() {
        connect(testbed.nettyServer(b -> b.echo(false).onOpen(c -> {
            c.sendBinary(Hex.ascii("first"), false);
            c.sendPing(Hex.ascii("between"));
            c.sendContinuation(Hex.ascii("last"), true);
        })));
        List<Frame> frames = rec.awaitFrames(3);
        assertEquals(List.of(Opcode.BINARY, Opcode.PING, Opcode.CONTINUATION),
                frames.stream().map(Frame::opcode).toList());
        assertEquals("between", frames.get(1).text());
        assertEquals("between", server.awaitConnection().awaitPong().text());
        closeCleanly(ws, rec);
    }

    @Test
    void clientMayInterleaveAPingBetweenItsFragments() {
        connect(testbed.echoServer());
        ws.sendFrame(Opcode.TEXT, "ab", false, null);
        ws.sendFrame(Opcode.PING, "are you there");
        ws.sendFrame(Opcode.CONTINUATION, "cd", true, null);
        Frame pong = rec.awaitFrame("the server's PONG", f -> f.opcode() == Opcode.PONG);
        assertEquals("are you there", pong.text());
        rec.awaitFrame("the final fragment echoed", f -> f.opcode() == Opcode.CONTINUATION && f.fin());
        assertTrue(server.awaitConnection().errors().isEmpty(), "no protocol error at the server");
        closeCleanly(ws, rec);
    }

    // ---- pipelining -------------------------------------------------------------------------

    @Test
    void tenThousandPipelinedFramesEchoInOrder() {
        int n = 10_000;
        connect(testbed.echoServer());
        SendRecorder sends = new SendRecorder();
        for (int i = 0; i < n; i++) {
            ws.sendFrame(Opcode.BINARY, ByteBuffer.allocate(4).putInt(0, i).array(), true, sends.callback());
        }
        List<Frame> frames = rec.awaitFrames(n);
        for (int i = 0; i < n; i++) {
            assertEquals(i, ByteBuffer.wrap(frames.get(i).payload()).getInt(), "frame " + i + " in order");
        }
        sends.awaitAllSucceeded();
        assertEquals(n, server.awaitConnection().awaitFrames(n).size());
        closeCleanly(ws, rec);
    }

    // ---- PING / PONG ------------------------------------------------------------------------

    @ParameterizedTest(name = "{0} byte payload")
    @ValueSource(ints = {0, 1, 125})
    void serverPingIsAnsweredWithPongOfTheSamePayloadAndStillDelivered(int size) {
        byte[] payload = Hex.pattern(size, 7);
        connect(testbed.nettyServer(b -> b.onOpen(c -> c.sendPing(payload))));
        ReceivedFrame pong = server.awaitConnection().awaitPong();
        assertArrayEquals(payload, pong.payload(), "PONG payload");
        assertTrue(pong.fin());

        Frame ping = rec.awaitFrame("the PING delivered to the callbacks", f -> f.opcode() == Opcode.PING);
        assertEquals(new IncomingFrame(Opcode.PING, size, true), ping.frame());
        assertArrayEquals(payload, ping.payload());
        closeCleanly(ws, rec);
    }

    @Test
    void serverPongIsDeliveredToTheCallbacks() {
        connect(testbed.nettyServer(b -> b
                .onOpen(c -> c.sendPong(Hex.ascii("unsolicited")))));
        Frame pong = rec.awaitFrame("the PONG", f -> f.opcode() == Opcode.PONG);
        assertEquals("unsolicited", pong.text());
        closeCleanly(ws, rec);
    }

    @Test
    void clientPingIsAnsweredByTheServer() {
        connect(testbed.echoServer());
        ws.sendFrame(Opcode.PING, Hex.ascii("ping-1"));
        Frame pong = rec.awaitFrame("the server's PONG", f -> f.opcode() == Opcode.PONG);
        assertEquals("ping-1", pong.text());
        closeCleanly(ws, rec);
    }

    // ---- the close handshake ----------------------------------------------------------------

    @Test
    void serverInitiatedCloseIsEchoedWithTheSameCodeAndShutsDownCleanly() {
        connect(testbed.nettyServer(b -> b
                .onOpen(c -> c.sendClose(4001, "server is done"))));
        Frame close = rec.awaitFrame("the server's CLOSE", f -> f.opcode() == Opcode.CLOSE);
        assertEquals(4001, close.closeCode());
        assertEquals("server is done", close.closeReason());

        NettyWebSocketServer.Connection conn = server.awaitConnection();
        assertEquals(4001, conn.awaitClose().closeCode(), "the client echoes the status code");
        assertNull(rec.awaitShutdown().exception(), "a clean close reports no exception");
        conn.awaitDisconnect();
        ws.close(); // harmless after shutdown
        rec.assertGrammar();
    }

    @Test
    void clientCloseFrameWithCodeAndReasonReachesTheServer() {
        connect(testbed.echoServer());
        SendRecorder sends = new SendRecorder();
        ws.sendFrame(Opcode.CLOSE, WebSocket.closePayload(4002, "client is done"), true, sends.callback());

        ReceivedFrame close = server.awaitConnection().awaitClose();
        assertEquals(4002, close.closeCode());
        assertEquals("client is done", close.closeReason());
        Frame echo = rec.awaitFrame("the server's CLOSE answer", f -> f.opcode() == Opcode.CLOSE);
        assertEquals(4002, echo.closeCode());
        assertNull(rec.awaitShutdown().exception(), "a clean close reports no exception");
        sends.awaitAllSucceeded();
        ws.close(); // harmless after shutdown
        rec.assertGrammar();
    }

    @Test
    void closeSendsNormalClosureAndShutsDown() {
        connect(testbed.echoServer());
        ws.close();
        NettyWebSocketServer.Connection conn = server.awaitConnection();
        assertEquals(1000, conn.awaitClose().closeCode());
        assertNull(rec.awaitShutdown().exception());
        conn.awaitDisconnect();
        assertTrue(ws.isClosed(), "close() marks the resource closed");
        rec.assertGrammar();
    }

    @Test
    void closePayloadEncodesCodeAndUtf8Reason() {
        assertArrayEquals(Hex.bytes("03 e8"), WebSocket.closePayload(1000, ""));
        assertArrayEquals(Hex.concat(Hex.bytes("0f a1"), "bye ✓".getBytes(StandardCharsets.UTF_8)),
                WebSocket.closePayload(4001, "bye ✓"));
    }

    // ---- the handshake ----------------------------------------------------------------------

    @Test
    void handshakeRequestCarriesPathAndCustomHeaders() {
        server = testbed.echoServer();
        HttpRequest request = WebSocket.createHandshakeRequest(server.authority(), "/chat?room=7");
        request.addHeader("X-Custom", "yes");
        WebSocket.connect(testbed.options(server, rec)
                .handshakeRequest(request).build());
        ws = rec.awaitWebSocket();

        NettyWebSocketServer.Connection conn = server.awaitConnection();
        assertEquals("/chat?room=7", conn.requestUri());
        assertEquals("yes", conn.requestHeader("X-Custom"));
        assertEquals("13", conn.requestHeader("Sec-WebSocket-Version"));
        assertEquals(server.authority(), conn.requestHeader("Host"));

        OnConnectionSetupData setup = rec.awaitSetup();
        assertEquals(101, setup.handshakeResponseStatus());
        assertTrue(setup.handshakeResponseHeaders().stream()
                .anyMatch(h -> h.name().equalsIgnoreCase("Sec-WebSocket-Accept")), "101 headers carried");
        closeCleanly(ws, rec);
    }

    @Test
    void handshakeRejectedWith403CarriesStatusHeadersAndBodyAndNoShutdown() {
        server = testbed.nettyServer(b -> b.rejectUpgrades(403, "go away"));
        WebSocket.connect(testbed.options(server, rec).build());

        OnConnectionSetupData setup = rec.awaitSetup();
        CrtRuntimeException e = setup.exception();
        assertNotNull(e, "setup fails");
        assertEquals("WSCRT_ERROR_WEBSOCKET_UPGRADE_FAILURE", e.errorName());
        assertNull(setup.websocket());
        assertEquals(403, setup.handshakeResponseStatus());
        List<HttpHeader> headers = setup.handshakeResponseHeaders();
        assertNotNull(headers);
        assertTrue(headers.contains(new HttpHeader("X-Test-Server", "netty"))
                || headers.stream().anyMatch(h -> h.name().equalsIgnoreCase("x-test-server")
                        && h.value().equals("netty")), "response headers carried: " + headers);
        assertTrue(headers.stream().anyMatch(h -> h.name().equalsIgnoreCase("content-length")
                && h.value().equals("7")), "Content-Length carried: " + headers);
        assertArrayEquals(Hex.ascii("go away"), setup.handshakeResponseBody());

        rec.assertNoShutdownWithin(Duration.ofMillis(300));
        rec.assertGrammar();
    }

    @Test
    void successfulSetupCarriesNoBody() {
        connect(testbed.echoServer());
        OnConnectionSetupData setup = rec.awaitSetup();
        assertNull(setup.exception());
        byte[] body = setup.handshakeResponseBody();
        assertTrue(body == null || body.length == 0, "no body on success");
        closeCleanly(ws, rec);
    }

    @Test
    void twoConnectionsToTheSameServerAreIndependent() {
        server = testbed.echoServer();
        CallbackRecorder recA = new CallbackRecorder();
        CallbackRecorder recB = new CallbackRecorder();
        WebSocket a = testbed.connect(server, recA);
        WebSocket b = testbed.connect(server, recB);
        assertNotEquals(a, b);
        a.sendFrame(Opcode.TEXT, "to a");
        b.sendFrame(Opcode.TEXT, "to b");
        assertEquals("to a", recA.awaitFrames(1).get(0).text());
        assertEquals("to b", recB.awaitFrames(1).get(0).text());
        closeCleanly(a, recA);
        assertFalse(recB.shutdownSeen(), "closing one leaves the other open");
        b.sendFrame(Opcode.TEXT, "still here");
        assertEquals("still here", recB.awaitFrames(2).get(1).text());
        closeCleanly(b, recB);
    }
}
