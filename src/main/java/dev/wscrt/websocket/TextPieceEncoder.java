package dev.wscrt.websocket;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetEncoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * The UTF-8 bytes of a TEXT message sent in pieces: a high surrogate that ends one piece waits for the low
 * surrogate that starts the next, so that the pair is encoded whole. Used by one sender at a time (the
 * java.net.http adapter's pending-send flag guards it).
 */
final class TextPieceEncoder {
    private final CharsetEncoder encoder = StandardCharsets.UTF_8.newEncoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    private char carriedHighSurrogate;

    /**
     * The bytes of {@code piece}, after a high surrogate carried from the piece before; a high surrogate ending
     * a piece that is not the message's {@code last} is kept for the next one.
     *
     * @throws IOException when the characters are not well-formed UTF-16 (an unpaired surrogate)
     */
    ByteBuffer encode(CharSequence piece, boolean last) throws IOException {
        CharBuffer in;
        if (carriedHighSurrogate != 0) {
            in = CharBuffer.allocate(piece.length() + 1).put(carriedHighSurrogate).put(piece.toString());
            in.flip();
            carriedHighSurrogate = 0;
        } else {
            in = CharBuffer.wrap(piece);
        }
        ByteBuffer out = ByteBuffer.allocate(in.remaining() * 3 + 4);
        CoderResult result = encoder.encode(in, out, last);
        if (!result.isError() && last) {
            result = encoder.flush(out);
        }
        if (result.isError()) {
            encoder.reset();
            throw new IOException("Malformed text message");
        }
        if (in.hasRemaining()) {
            carriedHighSurrogate = in.get();
        }
        if (last) {
            encoder.reset();
        }
        return out.flip();
    }
}
