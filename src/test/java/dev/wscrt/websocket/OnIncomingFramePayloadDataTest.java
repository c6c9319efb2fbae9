package dev.wscrt.websocket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.wscrt.testing.CallbackRecorder;
import dev.wscrt.testing.NettyWebSocketServer;
import dev.wscrt.testing.Testbed;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** A payload handed to onIncomingFramePayload is a view of native memory, usable only during the callback. */
class OnIncomingFramePayloadDataTest {
    @RegisterExtension
    static final Testbed testbed = Testbed.withLoopThreads(1);

    @Test
    void dataAndBytesAfterTheCallbackReturnedThrowIllegalStateException() {
        NettyWebSocketServer server = testbed.echoServer();
        AtomicReference<OnIncomingFramePayloadData> kept = new AtomicReference<>();
        AtomicReference<String> readInside = new AtomicReference<>();
        CallbackRecorder rec = new CallbackRecorder().onPayload(d -> {
            readInside.set(new String(d.bytes()));
            kept.set(d);
        });
        WebSocket ws = testbed.connect(server, rec);
        ws.sendFrame(Opcode.TEXT, "kept too long");
        rec.awaitFrames(1);
        assertEquals("kept too long", readInside.get());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> kept.get().data());
        assertEquals(true, e.getMessage().contains("only during its callback"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> kept.get().bytes());
        Testbed.closeCleanly(ws, rec);
    }
}
