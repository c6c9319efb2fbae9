package dev.wscrt.websocket;

import static dev.wscrt.websocket.ScriptedConnections.assertErrorName;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wscrt.CrtRuntimeException;
import dev.wscrt.testing.Await;
import dev.wscrt.testing.CallbackRecorder;
import dev.wscrt.testing.CallbackRecorder.Frame;
import dev.wscrt.testing.Hex;
import dev.wscrt.testing.ReceivedFrame;
import dev.wscrt.testing.ScriptedServer;
import dev.wscrt.testing.Testbed;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What no well-behaved server sends once the connection is upgraded, written as exact bytes by a scripted
 * raw-TCP server: every frame the decoder must reject (the client answers CLOSE 1002, or 1007 for bad UTF-8,
 * then shuts down with the named error), the frames it must accept, what the client sends, and connections
 * that break. The opening handshake is specified by {@link WebSocketOpeningHandshakeTest}.
 */
class WebSocketProtocolViolationTest {

    @RegisterExtension
    static final Testbed testbed = Testbed.withLoopThreads(1);
    private static final ScriptedConnections scripted = new ScriptedConnections(testbed);

    private static String repeat(String hexByte, int n) {
        return (hexByte + " ").repeat(n);
    }

    // ---- frames the decoder rejects ---------------------------------------------------------

    static Stream<Arguments> rejectedFrames() {
        return Stream.of(
                Arguments.of("RSV1 set on TEXT", "c1 00", 1002, "WSCRT_ERROR_WEBSOCKET_RESERVED_BITS"),
                Arguments.of("RSV2 set on BINARY", "a2 00", 1002, "WSCRT_ERROR_WEBSOCKET_RESERVED_BITS"),
                Arguments.of("RSV3 set on BINARY", "92 00", 1002, "WSCRT_ERROR_WEBSOCKET_RESERVED_BITS"),
                Arguments.of("RSV1 set on PING", "c9 00", 1002, "WSCRT_ERROR_WEBSOCKET_RESERVED_BITS"),
                Arguments.of("reserved data opcode 3", "83 00", 1002, "WSCRT_ERROR_WEBSOCKET_RESERVED_OPCODE"),
                Arguments.of("reserved data opcode 7", "87 00", 1002, "WSCRT_ERROR_WEBSOCKET_RESERVED_OPCODE"),
                Arguments.of("reserved control opcode 0xB", "8b 00", 1002, "WSCRT_ERROR_WEBSOCKET_RESERVED_OPCODE"),
                Arguments.of("reserved control opcode 0xF", "8f 00", 1002, "WSCRT_ERROR_WEBSOCKET_RESERVED_OPCODE"),
                Arguments.of("masked frame from the server", "81 85 37 fa 21 3d 7f 9f 4d 51 58", 1002,
                        "WSCRT_ERROR_WEBSOCKET_MASKED_FRAME"),
                Arguments.of("masked empty frame", "82 80 01 02 03 04", 1002, "WSCRT_ERROR_WEBSOCKET_MASKED_FRAME"),
                Arguments.of("PING without FIN", "09 00", 1002, "WSCRT_ERROR_WEBSOCKET_CONTROL_FRAME_FRAGMENTED"),
                Arguments.of("CLOSE without FIN", "08 02 03 e8", 1002,
                        "WSCRT_ERROR_WEBSOCKET_CONTROL_FRAME_FRAGMENTED"),
                Arguments.of("PONG without FIN", "0a 00", 1002, "WSCRT_ERROR_WEBSOCKET_CONTROL_FRAME_FRAGMENTED"),
                Arguments.of("PING of 126 bytes", "89 7e 00 7e " + repeat("61", 126), 1002,
                        "WSCRT_ERROR_WEBSOCKET_CONTROL_FRAME_TOO_LONG"),
                Arguments.of("CLOSE of 126 bytes", "88 7e 00 7e 03 e8 " + repeat("61", 124), 1002,
                        "WSCRT_ERROR_WEBSOCKET_CONTROL_FRAME_TOO_LONG"),
                Arguments.of("final CONTINUATION with no message open", "80 00", 1002,
                        "WSCRT_ERROR_WEBSOCKET_UNEXPECTED_CONTINUATION"),
                Arguments.of("non-final CONTINUATION with no message open", "00 01 61", 1002,
                        "WSCRT_ERROR_WEBSOCKET_UNEXPECTED_CONTINUATION"),
                Arguments.of("CONTINUATION after a complete message", "81 01 61 80 01 62", 1002,
                        "WSCRT_ERROR_WEBSOCKET_UNEXPECTED_CONTINUATION"),
                Arguments.of("TEXT while a TEXT message is open", "01 01 61 81 01 62", 1002,
                        "WSCRT_ERROR_WEBSOCKET_EXPECTED_CONTINUATION"),
                Arguments.of("BINARY while a TEXT message is open", "01 01 61 82 00", 1002,
                        "WSCRT_ERROR_WEBSOCKET_EXPECTED_CONTINUATION"),
                Arguments.of("TEXT while a BINARY message is open", "02 01 61 01 01 62", 1002,
                        "WSCRT_ERROR_WEBSOCKET_EXPECTED_CONTINUATION"),
                Arguments.of("64-bit length with the top bit set", "82 7f 80 00 00 00 00 00 00 00", 1002,
                        "WSCRT_ERROR_WEBSOCKET_INVALID_PAYLOAD_LENGTH"),
                Arguments.of("64-bit length of all ones", "82 7f ff ff ff ff ff ff ff ff", 1002,
                        "WSCRT_ERROR_WEBSOCKET_INVALID_PAYLOAD_LENGTH"),
                Arguments.of("16-bit length for 5 bytes", "82 7e 00 05 01 02 03 04 05", 1002,
                        "WSCRT_ERROR_WEBSOCKET_NON_MINIMAL_LENGTH"),
                Arguments.of("16-bit length for 125 bytes", "82 7e 00 7d", 1002,
                        "WSCRT_ERROR_WEBSOCKET_NON_MINIMAL_LENGTH"),
                Arguments.of("64-bit length for 5 bytes", "82 7f 00 00 00 00 00 00 00 05 01 02 03 04 05", 1002,
                        "WSCRT_ERROR_WEBSOCKET_NON_MINIMAL_LENGTH"),
                Arguments.of("64-bit length for 65535 bytes", "82 7f 00 00 00 00 00 00 ff ff", 1002,
                        "WSCRT_ERROR_WEBSOCKET_NON_MINIMAL_LENGTH"),
                Arguments.of("CLOSE with a 1-byte payload", "88 01 03", 1002,
                        "WSCRT_ERROR_WEBSOCKET_INVALID_CLOSE_PAYLOAD"),
                Arguments.of("CLOSE reason that is not UTF-8", "88 04 03 e8 ff fe", 1007,
                        "WSCRT_ERROR_WEBSOCKET_INVALID_UTF8"),
                Arguments.of("TEXT that is not UTF-8", "81 02 c3 28", 1007, "WSCRT_ERROR_WEBSOCKET_INVALID_UTF8"),
                Arguments.of("TEXT with an overlong encoding", "81 02 c0 af", 1007,
                        "WSCRT_ERROR_WEBSOCKET_INVALID_UTF8"),
                Arguments.of("TEXT with a UTF-16 surrogate", "81 03 ed a0 80", 1007,
                        "WSCRT_ERROR_WEBSOCKET_INVALID_UTF8"),
                Arguments.of("TEXT above U+10FFFF", "81 04 f4 90 80 80", 1007, "WSCRT_ERROR_WEBSOCKET_INVALID_UTF8"),
                Arguments.of("TEXT ending inside a character", "81 02 e2 82", 1007,
                        "WSCRT_ERROR_WEBSOCKET_INVALID_UTF8"),
                Arguments.of("fragmented TEXT invalid across fragments", "01 01 e2 80 01 28", 1007,
                        "WSCRT_ERROR_WEBSOCKET_INVALID_UTF8"),
                Arguments.of("fragmented TEXT ending inside a character", "01 01 e2 80 01 82", 1007,
                        "WSCRT_ERROR_WEBSOCKET_INVALID_UTF8"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rejectedFrames")
    void rejectedFrameMakesTheClientSendCloseAndShutDownWithTheNamedError(String what, String hex, int closeCode,
                                                                           String errorName) {
        CallbackRecorder rec = new CallbackRecorder();
        ScriptedServer.Conn c = scripted.connectAndUpgrade(rec);
        c.write(Hex.bytes(hex));

        ReceivedFrame close = c.awaitClose();
        assertTrue(close.masked(), "the client's CLOSE is masked");
        assertEquals(closeCode, close.closeCode(), "status code of the client's CLOSE for " + what);
        assertErrorName(errorName, rec.awaitShutdown().exception());
        c.awaitEof();
        rec.assertGrammar();
    }

    @ParameterizedTest(name = "status {0}")
    @ValueSource(ints = {0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535})
    void closeWithAnInvalidStatusCodeIsAProtocolError(int code) {
        CallbackRecorder rec = new CallbackRecorder();
        ScriptedServer.Conn c = scripted.connectAndUpgrade(rec);
        c.sendFrame(true, ReceivedFrame.CLOSE, ScriptedServer.closePayload(code, "bad"));

        assertEquals(1002, c.awaitClose().closeCode());
        assertErrorName("WSCRT_ERROR_WEBSOCKET_INVALID_CLOSE_CODE", rec.awaitShutdown().exception());
        c.awaitEof();
        rec.assertGrammar();
    }

    @ParameterizedTest(name = "status {0}")
    @ValueSource(ints = {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999})
    void closeWithAValidStatusCodeIsEchoedAndShutsDownCleanly(int code) {
        CallbackRecorder rec = new CallbackRecorder();
        ScriptedServer.Conn c = scripted.connectAndUpgrade(rec);
        c.sendFrame(true, ReceivedFrame.CLOSE, ScriptedServer.closePayload(code, "fine"));

        assertEquals(code, c.awaitClose().closeCode(), "the client echoes the status code");
        c.close();
        assertNull(rec.awaitShutdown().exception(), "a clean close reports no exception");
        Frame close = rec.awaitFrame("the CLOSE delivered", f -> f.opcode() == Opcode.CLOSE);
        assertEquals(code, close.closeCode());
        assertEquals("fine", close.closeReason());
        rec.assertGrammar();
    }

    @Test
    void emptyCloseIsAnsweredWithCloseAndShutsDownCleanly() {
        CallbackRecorder rec = new CallbackRecorder();
        ScriptedServer.Conn c = scripted.connectAndUpgrade(rec);
        c.writeHex("88 00");
        ReceivedFrame answer = c.awaitClose();
        assertTrue(answer.payload().length == 0 || answer.closeCode() == 1000,
                "an empty CLOSE is answered with an empty CLOSE or 1000, got " + answer);
        c.close();
        assertNull(rec.awaitShutdown().exception());
        rec.assertGrammar();
    }

    @Test
    void invalidUtf8FailsFastAtTheFirstBadByteWithoutWaitingForTheRestOfTheFrame() {
        CallbackRecorder rec = new CallbackRecorder();
        ScriptedServer.Conn c = scripted.connectAndUpgrade(rec);
        c.writeHex("81 0a 61 ff"); // TEXT of 10 bytes; only 2 sent, the second is never valid UTF-8
        assertEquals(1007, c.awaitClose().closeCode());
        assertErrorName("WSCRT_ERROR_WEBSOCKET_INVALID_UTF8", rec.awaitShutdown().exception());
        rec.assertGrammar();
        List<Frame> frames = rec.frames();
        assertEquals(1, frames.size(), "the begun frame is completed: " + frames);
        assertNotNull(frames.get(0).exception(), "with an exception");
        assertFalse(new String(frames.get(0).payload(), java.nio.charset.StandardCharsets.ISO_8859_1)
                .contains("\u00ff"), "the invalid byte is never delivered");
    }

    @Test
    void invalidUtf8InALaterFragmentFailsWithoutWaitingForTheFinalFragment() {
        CallbackRecorder rec = new CallbackRecorder();
        ScriptedServer.Conn c = scripted.connectAndUpgrade(rec);
        c.writeHex("01 02 68 69   00 03 21 c0 80"); // "hi", then "!" and an overlong NUL; no final fragment
        assertEquals(1007, c.awaitClose().closeCode());
        assertErrorName("WSCRT_ERROR_WEBSOCKET_INVALID_UTF8", rec.awaitShutdown().exception());
        assertEquals("hi", rec.frames().get(0).text());
        rec.assertGrammar();
    }

    // ---- what the decoder accepts -----------------------------------------------------------

    @Test
    void controlFramesBetweenFragmentsAreAcceptedAndThePingAnswered() {
        CallbackRecorder rec = new CallbackRecorder();
        ScriptedServer.Conn c = scripted.connectAndUpgrade(rec);
        c.writeHex("01 01 61   89 02 68 69   8a 00   80 01 62");
        ReceivedFrame pong = c.readFrame();
        assertEquals(ReceivedFrame.PONG, pong.opcode());
        assertEquals("hi", pong.text());

        List<Frame> frames = rec.awaitFrames(4);
        assertEquals(List.of(new IncomingFrame(Opcode.TEXT, 1, false), new IncomingFrame(Opcode.PING, 2, true),
                new IncomingFrame(Opcode.PONG, 0, true), new IncomingFrame(Opcode.CONTINUATION, 1, true)),
                frames.stream().map(Frame::frame).toList());
        assertFalse(rec.shutdownSeen());
        c.close();
        rec.awaitShutdown();
        rec.assertGrammar();
    }

    @Test
    void frameWrittenOneByteAtATimeIsDecoded() {
        byte[] frame = ScriptedServer.frame(true, ReceivedFrame.BINARY, Hex.pattern(300, 3));
        CallbackRecorder rec = new CallbackRecorder();
        ScriptedServer.Conn c = scripted.connectAndUpgrade(rec);
        for (byte b : frame) {
            c.write(new byte[] {b});
            Await.sleep(1);
        }
        Frame f = rec.awaitFrames(1).get(0);
        assertEquals(new IncomingFrame(Opcode.BINARY, 300, true), f.frame());
        assertArrayEquals(Hex.pattern(300, 3), f.payload());
        c.close();
        rec.awaitShutdown();
        rec.assertGrammar();
    }

    @Test
    void framesInTheSameSegmentAsThe101AreDelivered() {
        ScriptedServer server = testbed.scriptedServer();
        CallbackRecorder rec = new CallbackRecorder();
        ScriptedServer.Conn c = scripted.connect(server, rec, 5000);
        c.handshake(Hex.concat(ScriptedServer.frame(true, ReceivedFrame.TEXT, Hex.ascii("early")),
                ScriptedServer.frame(true, ReceivedFrame.BINARY, Hex.bytes("00 01"))));
        rec.awaitWebSocket();
        List<Frame> frames = rec.awaitFrames(2);
        assertEquals("early", frames.get(0).text());
        assertArrayEquals(Hex.bytes("00 01"), frames.get(1).payload());
        c.close();
        rec.awaitShutdown();
        rec.assertGrammar();
    }

    @Test
    void largestMinimalLengthsAreAccepted() {
        CallbackRecorder rec = new CallbackRecorder();
        ScriptedServer.Conn c = scripted.connectAndUpgrade(rec);
        c.write(ScriptedServer.frame(true, ReceivedFrame.BINARY, new byte[125]));   // 7-bit
        c.write(ScriptedServer.frame(true, ReceivedFrame.BINARY, new byte[126]));   // smallest 16-bit
        c.write(ScriptedServer.frame(true, ReceivedFrame.BINARY, new byte[65535])); // largest 16-bit
        c.write(ScriptedServer.frame(true, ReceivedFrame.BINARY, new byte[65536])); // smallest 64-bit
        List<Long> lengths = rec.awaitFrames(4).stream().map(f -> f.frame().payloadLength()).toList();
        assertEquals(List.of(125L, 126L, 65535L, 65536L), lengths);
        c.close();
        rec.awaitShutdown();
        rec.assertGrammar();
    }

    // ---- what the client sends --------------------------------------------------------------

    @Test
    void serverPingIsAnsweredWithAMaskedPongOfTheSamePayload() {
        CallbackRecorder rec = new CallbackRecorder();
        ScriptedServer.Conn c = scripted.connectAndUpgrade(rec);
        c.sendFrame(true, ReceivedFrame.PING, Hex.ascii("Hello"));
        ReceivedFrame pong = c.readFrame();
        assertEquals(ReceivedFrame.PONG, pong.opcode());
        assertTrue(pong.fin());
        assertTrue(pong.masked());
        assertEquals("Hello", pong.text());
        c.close();
        rec.awaitShutdown();
        rec.assertGrammar();
    }

    @Test
    void clientFramesAreMaskedWithAFreshKeyEach() {
        CallbackRecorder rec = new CallbackRecorder();
        ScriptedServer.Conn c = scripted.connectAndUpgrade(rec);
        WebSocket ws = rec.awaitWebSocket();
        byte[] payload = Hex.pattern(64, 0);
        List<byte[]> keys = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            ws.sendFrame(Opcode.BINARY, payload);
            ReceivedFrame f = c.readFrame();
            assertTrue(f.masked(), "client frames are masked");
            assertEquals(0, f.rsv(), "no RSV bits");
            assertTrue(f.fin());
            assertArrayEquals(payload, f.payload(), "unmasks to the payload");
            keys.add(c.lastMaskKey());
        }
        long distinct = keys.stream().map(Hex::format).distinct().count();
        assertTrue(distinct >= 7, "fresh masking keys, got " + keys.stream().map(Hex::format).toList());
        c.close();
        rec.awaitShutdown();
        rec.assertGrammar();
    }

    // ---- connections that break -------------------------------------------------------------

    @Test
    void connectionDroppedMidFrameCompletesTheFrameWithAnException() {
        CallbackRecorder rec = new CallbackRecorder();
        ScriptedServer.Conn c = scripted.connectAndUpgrade(rec);
        c.write(Hex.concat(Hex.bytes("82 7e 01 00"), Hex.pattern(100, 0))); // 256 announced, 100 sent
        rec.awaitDataBytes(100);
        c.close();

        Throwable shutdown = rec.awaitShutdown().exception();
        assertNotNull(shutdown, "losing the connection is not a clean close");
        List<Frame> frames = rec.frames();
        assertEquals(1, frames.size());
        Frame f = frames.get(0);
        assertEquals(new IncomingFrame(Opcode.BINARY, 256, true), f.frame());
        assertEquals(100, f.deliveredBytes());
        assertArrayEquals(Hex.pattern(100, 0), f.payload());
        CrtRuntimeException e = assertInstanceOf(CrtRuntimeException.class, f.exception(),
                "the frame's completion carries the error");
        assertNotNull(e.errorName());
        assertNotEquals("WSCRT_ERROR_SUCCESS", e.errorName());
        rec.assertGrammar();
    }

    @Test
    void connectionResetMidHeaderShutsDownWithAnException() {
        CallbackRecorder rec = new CallbackRecorder();
        ScriptedServer.Conn c = scripted.connectAndUpgrade(rec);
        c.writeHex("82 7f 00 00"); // half of a 64-bit length
        Await.sleep(50);
        c.reset();
        assertNotNull(rec.awaitShutdown().exception());
        rec.assertGrammar();
    }

    @Test
    void connectionClosedBetweenFramesShutsDownWithAnException() {
        CallbackRecorder rec = new CallbackRecorder();
        ScriptedServer.Conn c = scripted.connectAndUpgrade(rec);
        c.write(ScriptedServer.frame(true, ReceivedFrame.TEXT, Hex.ascii("last words")));
        rec.awaitFrames(1);
        c.close();
        Throwable e = rec.awaitShutdown().exception();
        assertNotNull(e, "a TCP close without a CLOSE frame is not clean");
        assertNull(rec.frames().get(0).exception());
        rec.assertGrammar();
    }

    @Test
    void peerThatNeverAnswersOurCloseIsGivenUpOnAfterTheCloseTimeout() {
        ScriptedServer server = testbed.scriptedServer();
        CallbackRecorder rec = new CallbackRecorder();
        ScriptedServer.Conn c = scripted.connectAndUpgrade(server, rec);
        WebSocket ws = rec.awaitWebSocket();
        ws.sendFrame(Opcode.CLOSE, WebSocket.closePayload(1000, ""));
        assertEquals(1000, c.awaitClose().closeCode());
        // the server says nothing and keeps the connection open
        assertErrorName("WSCRT_ERROR_WEBSOCKET_CLOSE_TIMEOUT", rec.awaitShutdown().exception());
        c.awaitEof();
        rec.assertGrammar();
    }

    @Test
    void framesArrivingAfterOurCloseAreStillDeliveredUntilThePeersClose() {
        CallbackRecorder rec = new CallbackRecorder();
        ScriptedServer.Conn c = scripted.connectAndUpgrade(rec);
        WebSocket ws = rec.awaitWebSocket();
        ws.sendFrame(Opcode.CLOSE, WebSocket.closePayload(1001, "going away"));
        assertEquals(1001, c.awaitClose().closeCode());
        c.write(ScriptedServer.frame(true, ReceivedFrame.TEXT, Hex.ascii("in flight")));
        c.write(ScriptedServer.frame(true, ReceivedFrame.CLOSE, ScriptedServer.closePayload(1001, "")));
        assertNull(rec.awaitShutdown().exception());
        List<Frame> frames = rec.frames();
        assertEquals("in flight", frames.get(0).text());
        assertEquals(Opcode.CLOSE, frames.get(1).opcode());
        assertEquals("", Hex.format(c.awaitEof()), "nothing more after our CLOSE, no second CLOSE");
        rec.assertGrammar();
    }
}
