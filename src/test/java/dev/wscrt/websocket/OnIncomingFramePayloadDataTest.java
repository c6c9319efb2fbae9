package dev.wscrt.websocket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.wscrt.testing.CallbackRecorder;
import dev.wscrt.testing.ClientResources;
import dev.wscrt.testing.NettyWebSocketServer;
import dev.wscrt.testing.Testbed;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A payload handed to onIncomingFramePayload is a view of the loop thread's receive buffer: {@code data()}
 * works only during the callback, and a view kept longer never reads freed memory.
 */
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

    @Test
    void bytesCopiesThePieceAndAfterDataWasReadOnlyWhatRemainsOfIt() {
        NettyWebSocketServer server = testbed.echoServer();
        List<String> seen = new CopyOnWriteArrayList<>();
        CallbackRecorder rec = new CallbackRecorder().onPayload(d -> {
            if (!d.frame().isDataFrame()) {
                return;
            }
            String whole = new String(d.bytes(), StandardCharsets.US_ASCII);
            ByteBuffer view = d.data();
            boolean sameView = view == d.data();
            view.get(new byte[6]); // the reader consumes "piece "
            String rest = new String(d.bytes(), StandardCharsets.US_ASCII);
            seen.add(whole + "|" + rest + "|" + sameView + "|" + view.isReadOnly() + "|" + d);
        });
        WebSocket ws = testbed.connect(server, rec);
        ws.sendFrame(Opcode.TEXT, "piece one");
        rec.awaitFrames(1);
        assertEquals(List.of("piece one|one|true|true|OnIncomingFramePayloadData[frame=" + rec.frames().get(0).frame()
                + ", length=9]"), seen);
        Testbed.closeCleanly(ws, rec);
    }

    /*
     * Before the receive buffer was Java's, such a view pointed into the event loop's native read buffer,
     * freed when the group closed: reading it was a use after free, which crashes only when the allocator
     * has returned the pages to the system (glibc mostly keeps them, so this test passed on that code too;
     * it pins the contract, not the old defect).
     */
    @Test
    void aPayloadViewKeptPastItsCallbackStaysReadableAfterItsEventLoopGroupClosed() {
        NettyWebSocketServer server = testbed.echoServer();
        byte[] sent = new byte[300_000];
        for (int i = 0; i < sent.length; i++) {
            sent[i] = (byte) (i * 31 + 7);
        }
        List<ByteBuffer> keptViews = new CopyOnWriteArrayList<>();
        CallbackRecorder rec = new CallbackRecorder().onPayload(d -> {
            if (d.frame().isDataFrame()) {
                keptViews.add(d.data());
            }
        });
        try (ClientResources own = ClientResources.create(1)) {
            WebSocket.connect(rec.options(server.host(), server.port(), own.bootstrap()).build());
            WebSocket ws = rec.awaitWebSocket();
            ws.sendFrame(Opcode.BINARY, sent);
            rec.awaitFrames(1);
            Testbed.closeCleanly(ws, rec);
        }
        System.gc();
        long viewed = 0;
        for (ByteBuffer view : keptViews) {
            viewed += view.remaining();
            while (view.hasRemaining()) {
                view.get();
            }
        }
        assertEquals(sent.length, viewed, "the kept views still cover every payload byte");
    }
}
