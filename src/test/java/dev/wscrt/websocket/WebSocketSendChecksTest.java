package dev.wscrt.websocket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.wscrt.CrtRuntimeException;
import dev.wscrt.testing.CallbackRecorder;
import dev.wscrt.testing.NettyWebSocketServer;
import dev.wscrt.testing.ReceivedFrame;
import dev.wscrt.testing.Testbed;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Nothing invalid goes on the wire: the frame API refuses, at the call, what RFC 6455 forbids sending. */
class WebSocketSendChecksTest {
    @RegisterExtension
    static final Testbed testbed = Testbed.withLoopThreads(1);

    private static void assertRefused(String name, Runnable send) {
        CrtRuntimeException e = assertThrows(CrtRuntimeException.class, send::run);
        assertEquals(name, e.errorName());
    }

    @Test
    void fragmentOrderTextUtf8AndClosePayloadsAreCheckedAndOnlyValidFramesReachTheServer() {
        NettyWebSocketServer server = testbed.nettyServer(b -> b.echo(false));
        CallbackRecorder rec = new CallbackRecorder();
        WebSocket ws = testbed.connect(server, rec);
        byte[] euro = "€".getBytes(StandardCharsets.UTF_8); // three bytes

        assertRefused("WSCRT_ERROR_WEBSOCKET_SEND_UNEXPECTED_CONTINUATION",
                () -> ws.sendFrame(Opcode.CONTINUATION, new byte[] {1}, true, null));
        ws.sendFrame(Opcode.TEXT, new byte[] {euro[0]}, false, null); // a code point split across fragments
        assertRefused("WSCRT_ERROR_WEBSOCKET_SEND_EXPECTED_CONTINUATION",
                () -> ws.sendFrame(Opcode.BINARY, new byte[] {1}, true, null));
        assertRefused("WSCRT_ERROR_WEBSOCKET_SEND_INVALID_UTF8",
                () -> ws.sendFrame(Opcode.CONTINUATION, new byte[] {(byte) 0x41}, true, null));
        ws.sendFrame(Opcode.CONTINUATION, new byte[] {euro[1], euro[2]}, true, null);
        assertRefused("WSCRT_ERROR_WEBSOCKET_SEND_INVALID_UTF8",
                () -> ws.sendFrame(Opcode.TEXT, new byte[] {(byte) 0xC0, (byte) 0xAF}, true, null));
        for (byte[] close : new byte[][] {{3}, WebSocket.closePayload(1005, ""), WebSocket.closePayload(1016, ""),
                {0x03, (byte) 0xE8, (byte) 0xFF}}) {
            assertRefused("WSCRT_ERROR_WEBSOCKET_SEND_INVALID_CLOSE", () -> ws.sendFrame(Opcode.CLOSE, close));
        }
        ws.sendFrame(Opcode.TEXT, "after");

        NettyWebSocketServer.Connection conn = server.awaitConnection();
        java.util.List<ReceivedFrame> frames = conn.awaitFrames(3);
        assertEquals(ReceivedFrame.TEXT, frames.get(0).opcode());
        assertEquals(ReceivedFrame.CONTINUATION, frames.get(1).opcode());
        assertEquals("after", frames.get(2).text());
        assertEquals(3, conn.frames().size(), "nothing refused reached the server");
        Testbed.closeCleanly(ws, rec);
    }
}
