package dev.wscrt.conformance;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Server-to-client frame bytes, built exactly: unmasked, with the minimal length encoding, any
 * FIN/RSV/opcode combination (including the ones RFC 6455 forbids).
 *
 * <pre>
 *   0                   1
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5
 *  +-+-+-+-+-------+-+-------------+-------------------------------+
 *  |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
 *  |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
 *  |N|V|V|V|       |S|             |                               |
 *  | |1|2|3|       |K|             |                               |
 *  +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
 * </pre>
 */
final class Frames {
    static final int CONTINUATION = 0;
    static final int TEXT = 1;
    static final int BINARY = 2;
    static final int CLOSE = 8;
    static final int PING = 9;
    static final int PONG = 10;

    private Frames() {
    }

    /** The header size for a payload of {@code length} bytes (server frames carry no mask). */
    static int headerSize(long length) {
        return length <= 125 ? 2 : length <= 0xFFFF ? 4 : 10;
    }

    /** Writes a header at {@code offset}; returns its size. */
    static int writeHeader(byte[] out, int offset, boolean fin, int rsv, int opcode, long length) {
        out[offset] = (byte) ((fin ? 0x80 : 0) | (rsv << 4) | opcode);
        if (length <= 125) {
            out[offset + 1] = (byte) length;
            return 2;
        }
        if (length <= 0xFFFF) {
            out[offset + 1] = 126;
            out[offset + 2] = (byte) (length >>> 8);
            out[offset + 3] = (byte) length;
            return 4;
        }
        out[offset + 1] = 127;
        for (int i = 0; i < 8; i++) {
            out[offset + 2 + i] = (byte) (length >>> (56 - 8 * i));
        }
        return 10;
    }

    /** One frame with the given FIN, RSV bits (0..7) and opcode (0..15). */
    static byte[] frame(boolean fin, int rsv, int opcode, byte[] payload) {
        byte[] out = new byte[headerSize(payload.length) + payload.length];
        int header = writeHeader(out, 0, fin, rsv, opcode, payload.length);
        System.arraycopy(payload, 0, out, header, payload.length);
        return out;
    }

    static byte[] frame(boolean fin, int opcode, byte[] payload) {
        return frame(fin, 0, opcode, payload);
    }

    static byte[] text(String text) {
        return frame(true, TEXT, utf8(text));
    }

    static byte[] text(byte[] payload) {
        return frame(true, TEXT, payload);
    }

    static byte[] binary(byte[] payload) {
        return frame(true, BINARY, payload);
    }

    static byte[] ping(byte[] payload) {
        return frame(true, PING, payload);
    }

    static byte[] ping(String payload) {
        return ping(utf8(payload));
    }

    static byte[] pong(byte[] payload) {
        return frame(true, PONG, payload);
    }

    /** A CLOSE with a status code and a UTF-8 reason. */
    static byte[] close(int code, String reason) {
        return frame(true, CLOSE, closePayload(code, utf8(reason)));
    }

    /** A CLOSE with a status code and raw reason bytes. */
    static byte[] close(int code, byte[] reason) {
        return frame(true, CLOSE, closePayload(code, reason));
    }

    static byte[] closePayload(int code, byte[] reason) {
        byte[] payload = new byte[2 + reason.length];
        payload[0] = (byte) (code >>> 8);
        payload[1] = (byte) code;
        System.arraycopy(reason, 0, payload, 2, reason.length);
        return payload;
    }

    /**
     * A message as frames of {@code fragmentSize} payload bytes (the last may be shorter; an empty
     * payload is one empty frame): the first with {@code opcode}, the rest CONTINUATION, FIN on the last.
     */
    static List<byte[]> fragments(int opcode, byte[] payload, int fragmentSize) {
        List<byte[]> frames = new ArrayList<>();
        int offset = 0;
        do {
            int n = Math.min(fragmentSize, payload.length - offset);
            byte[] piece = new byte[n];
            System.arraycopy(payload, offset, piece, 0, n);
            offset += n;
            frames.add(frame(offset == payload.length, frames.isEmpty() ? opcode : CONTINUATION, piece));
        } while (offset < payload.length);
        return frames;
    }

    /** As {@link #fragments}, the frames back to back in one array (built without per-frame copies). */
    static byte[] fragmented(int opcode, byte[] payload, int fragmentSize) {
        int frames = Math.max(1, (payload.length + fragmentSize - 1) / fragmentSize);
        byte[] out = new byte[Math.toIntExact(payload.length + 10L * frames)];
        int at = 0;
        int offset = 0;
        for (int i = 0; i < frames; i++) {
            int n = Math.min(fragmentSize, payload.length - offset);
            at += writeHeader(out, at, i == frames - 1, 0, i == 0 ? opcode : CONTINUATION, n);
            System.arraycopy(payload, offset, out, at, n);
            at += n;
            offset += n;
        }
        byte[] exact = new byte[at];
        System.arraycopy(out, 0, exact, 0, at);
        return exact;
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }

    static byte[] concat(List<byte[]> parts) {
        return concat(parts.toArray(new byte[0][]));
    }

    static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    /** {@code n} bytes of a recognisable binary pattern that covers all byte values. */
    static byte[] binaryPayload(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * 7 + (i >>> 8));
        }
        return b;
    }

    /** Exactly {@code n} bytes of valid UTF-8 text mixing 1-, 2-, 3- and 4-byte code points. */
    static byte[] textPayload(int n) {
        byte[] unit = utf8("Hello, κόσμε! €𐍈 ");
        byte[] b = new byte[n];
        int i = 0;
        while (i + unit.length <= n) {
            System.arraycopy(unit, 0, b, i, unit.length);
            i += unit.length;
        }
        while (i < n) {
            b[i++] = '*';
        }
        return b;
    }

    /** {@code n} bytes of ASCII text. */
    static byte[] asciiPayload(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) ('a' + i % 26);
        }
        return b;
    }
}
