package dev.wscrt.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.wscrt.testing.Hex;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link SentFrames} finds the control frames in what the server writes, however the bytes are cut. */
class SentFramesTest {

    @Test
    void findsControlFramesBetweenDataFramesCutAtEveryByte() {
        byte[] wire = Frames.concat(Frames.frame(false, Frames.TEXT, Frames.textPayload(300)), Frames.ping("a"),
                Frames.frame(true, Frames.CONTINUATION, Frames.binaryPayload(70_000)), Frames.pong(new byte[0]),
                Frames.close(1000, "bye"), Frames.ping("after close"));
        SentFrames sent = new SentFrames();
        for (byte b : wire) {
            sent.feed(new byte[] {b});
        }
        assertEquals(List.of(new ControlFrame(Frames.PING, Frames.utf8("a")), new ControlFrame(Frames.PONG, new byte[0]),
                new ControlFrame(Frames.CLOSE, Frames.closePayload(1000, Frames.utf8("bye")))), sent.controlFrames());
    }

    @Test
    void stopsAtTheFirstFrameTheClientMustReject() {
        SentFrames sent = new SentFrames();
        sent.feed(Frames.concat(Frames.ping("ok"), Hex.bytes("c9 00"), Frames.ping("never delivered")));
        assertEquals(List.of(new ControlFrame(Frames.PING, Frames.utf8("ok"))), sent.controlFrames());
    }
}
