package dev.wscrt.conformance;

import java.util.ArrayList;
import java.util.List;

/**
 * Follows the bytes the server writes and lists the control frames in them, so that what the client's
 * callbacks delivered can be compared with what was sent. Data payloads are skipped, not stored. It
 * stops at the first frame the client must reject (masked, RSV bits, reserved opcode, fragmented or
 * oversized control frame, non-minimal length): nothing after it reaches the client's callbacks.
 *
 * <p>Threads: fed and read on the case thread.
 */
final class SentFrames {
    private final byte[] header = new byte[10];
    private int headerLength;
    private int headerNeeded = 2;
    private long dataRemaining;
    private int controlOpcode = -1;
    private byte[] control;
    private int controlLength;
    private boolean stopped;
    private final List<ControlFrame> controls = new ArrayList<>();

    /** Follows {@code bytes}, the next bytes written to the client. */
    void feed(byte[] bytes) {
        int i = 0;
        while (i < bytes.length && !stopped) {
            if (dataRemaining > 0) {
                long n = Math.min(dataRemaining, bytes.length - i);
                dataRemaining -= n;
                i += (int) n;
            } else if (control != null) {
                int n = Math.min(control.length - controlLength, bytes.length - i);
                System.arraycopy(bytes, i, control, controlLength, n);
                controlLength += n;
                i += n;
                if (controlLength == control.length) {
                    controlDone();
                }
            } else {
                header[headerLength++] = bytes[i++];
                if (headerLength == headerNeeded) {
                    headerPiece();
                }
            }
        }
    }

    private void headerPiece() {
        int length7 = header[1] & 0x7F;
        if (headerLength == 2) {
            if ((header[1] & 0x80) != 0) {
                stopped = true; // masked
                return;
            }
            if (length7 == 126 || length7 == 127) {
                headerNeeded = length7 == 126 ? 4 : 10;
                return;
            }
        }
        long length = length7;
        if (length7 == 126) {
            length = ((header[2] & 0xFF) << 8) | (header[3] & 0xFF);
            stopped |= length < 126;
        } else if (length7 == 127) {
            length = 0;
            for (int k = 2; k < 10; k++) {
                length = (length << 8) | (header[k] & 0xFF);
            }
            stopped |= length <= 0xFFFF; // also catches the top bit (negative)
        }
        boolean fin = (header[0] & 0x80) != 0;
        int rsv = (header[0] >> 4) & 7;
        int opcode = header[0] & 0x0F;
        boolean control = opcode >= 8;
        stopped |= rsv != 0 || (opcode > 2 && opcode < 8) || opcode > 10 || (control && (!fin || length > 125));
        headerLength = 0;
        headerNeeded = 2;
        if (stopped) {
            return;
        }
        if (control) {
            controlOpcode = opcode;
            this.control = new byte[(int) length];
            controlLength = 0;
            if (length == 0) {
                controlDone();
            }
        } else {
            dataRemaining = length;
        }
    }

    private void controlDone() {
        controls.add(new ControlFrame(controlOpcode, control));
        control = null;
    }

    /** The control frames sent, up to and including the first CLOSE (the client reads nothing after it). */
    List<ControlFrame> controlFrames() {
        List<ControlFrame> upToClose = new ArrayList<>();
        for (ControlFrame c : controls) {
            upToClose.add(c);
            if (c.opcode() == Frames.CLOSE) {
                break;
            }
        }
        return upToClose;
    }
}
