package dev.wscrt.websocket;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * The characters of a TEXT message delivered in pieces: the bytes of a character cut at the end of one
 * piece are kept for the next. Native code checked the whole message is UTF-8, so only the end of a piece
 * can hold a partial character. Used by one thread at a time (the connection's event-loop thread).
 */
final class TextPieceDecoder {
    private final CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    private final byte[] carry = new byte[4];
    private int carryLength;

    /**
     * The characters of {@code piece} that are whole, after those completed by the bytes carried from the
     * piece before; at the message's {@code last} piece, all of them. Does not move {@code piece}.
     */
    String decode(ByteBuffer piece, boolean last) {
        ByteBuffer in = piece.duplicate();
        if (carryLength > 0) {
            in = ByteBuffer.allocate(carryLength + piece.remaining());
            in.put(carry, 0, carryLength).put(piece.duplicate()).flip();
        }
        CharBuffer out = CharBuffer.allocate(in.remaining());
        CoderResult result = decoder.decode(in, out, last);
        if (last && !result.isError()) {
            result = decoder.flush(out);
        }
        if (result.isError()) {
            throw new IllegalStateException("TEXT piece not UTF-8 after the native check: " + result);
        }
        carryLength = in.remaining();
        in.get(carry, 0, carryLength);
        if (last) {
            decoder.reset();
        }
        return out.flip().toString();
    }
}
