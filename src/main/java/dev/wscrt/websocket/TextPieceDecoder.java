package dev.wscrt.websocket;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * The characters of a TEXT message delivered in pieces: the bytes of a character cut at the end of one
 * piece are kept for the next. Native code checked the whole message is UTF-8, so only the end of a piece
 * can hold a partial character; a piece of ASCII alone with nothing carried into it needs no decoder. Used by
 * one thread at a time (the connection's event-loop thread).
 */
final class TextPieceDecoder {
    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.nativeOrder());
    private static final long HIGH_BITS = 0x8080808080808080L;

    private final CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    private final byte[] carry = new byte[4];
    private int carryLength;
    private int decodedBytes;

    /**
     * The characters of the piece, the {@code length} bytes at {@code offset} in {@code source}, that are whole,
     * after those completed by the bytes carried from the piece before; at the message's {@code last} piece,
     * all of them. Does not move {@code source}.
     */
    String decode(ByteBuffer source, int offset, int length, boolean last) {
        if (carryLength == 0) {
            byte[] bytes = new byte[length];
            source.get(offset, bytes);
            if (isAscii(bytes)) {
                // Whole characters of a byte each (the common case): no decoder, no character buffer.
                if (last) {
                    decoder.reset();
                }
                decodedBytes = length;
                return new String(bytes, StandardCharsets.ISO_8859_1);
            }
            return decodeCarrying(ByteBuffer.wrap(bytes), last);
        }
        ByteBuffer in = ByteBuffer.allocate(carryLength + length);
        in.put(carry, 0, carryLength).put(source.slice(offset, length)).flip();
        return decodeCarrying(in, last);
    }

    /**
     * The UTF-8 bytes behind the characters the last {@link #decode} returned: those carried into it and the
     * piece's own, less those it carried on.
     */
    int decodedBytes() {
        return decodedBytes;
    }

    /** Decodes {@code in}, keeping the bytes of a character it ends inside of for the next piece. */
    private String decodeCarrying(ByteBuffer in, boolean last) {
        CharBuffer out = CharBuffer.allocate(in.remaining());
        CoderResult result = decoder.decode(in, out, last);
        if (last && !result.isError()) {
            result = decoder.flush(out);
        }
        if (result.isError()) {
            throw new IllegalStateException("TEXT piece not UTF-8 after the native check: " + result);
        }
        decodedBytes = in.position();
        carryLength = in.remaining();
        in.get(carry, 0, carryLength);
        if (last) {
            decoder.reset();
        }
        return out.flip().toString();
    }

    /** Whether every byte is below 0x80, looked at eight at a time. */
    private static boolean isAscii(byte[] bytes) {
        long any = 0;
        int i = 0;
        for (; i + Long.BYTES <= bytes.length; i += Long.BYTES) {
            any |= (long) LONGS.get(bytes, i);
        }
        for (; i < bytes.length; i++) {
            any |= bytes[i] & 0xFF;
        }
        return (any & HIGH_BITS) == 0;
    }
}
