package dev.wscrt.websocket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * A TEXT message in pieces cut anywhere, even inside a character, decodes to the message's characters, and the
 * bytes behind each piece's characters are counted.
 */
class TextPieceDecoderTest {
    // One, two, three and four UTF-8 bytes per character.
    private static final String TEXT = "a\u00e9\u20ac\ud83d\ude00z";

    @Test
    void everyCutOfTheMessageIntoTwoPiecesGivesItsCharactersInOrder() {
        byte[] bytes = TEXT.getBytes(StandardCharsets.UTF_8);
        TextPieceDecoder decoder = new TextPieceDecoder();
        for (int cut = 0; cut <= bytes.length; cut++) {
            String first = decode(decoder, ByteBuffer.wrap(bytes, 0, cut), false);
            int firstBytes = decoder.decodedBytes();
            String second = decode(decoder, ByteBuffer.wrap(bytes, cut, bytes.length - cut), true);
            assertEquals(TEXT, first + second, "cut at byte " + cut);
            assertEquals(first.getBytes(StandardCharsets.UTF_8).length, firstBytes, "bytes behind the first part");
            assertEquals(second.getBytes(StandardCharsets.UTF_8).length, decoder.decodedBytes(),
                    "bytes behind the second part, the carried ones included");
        }
    }

    @Test
    void aCharacterCutAtEveryByteArrivesWholeWithItsLastByte() {
        byte[] bytes = "\ud83d\ude00".getBytes(StandardCharsets.UTF_8);
        TextPieceDecoder decoder = new TextPieceDecoder();
        assertEquals("", decode(decoder, ByteBuffer.wrap(bytes, 0, 1), false));
        assertEquals("", decode(decoder, ByteBuffer.wrap(bytes, 1, 1), false));
        assertEquals("", decode(decoder, ByteBuffer.wrap(bytes, 2, 1), false));
        assertEquals("\ud83d\ude00", decode(decoder, ByteBuffer.wrap(bytes, 3, 1), true));
    }

    @Test
    void asciiPiecesAmongOthersAndTheNextMessageDecodeToTheirCharacters() {
        TextPieceDecoder decoder = new TextPieceDecoder();
        byte[] euro = "\u20ac".getBytes(StandardCharsets.UTF_8);
        assertEquals("ab", decode(decoder, ByteBuffer.wrap("ab".getBytes(StandardCharsets.UTF_8)), false));
        assertEquals("", decode(decoder, ByteBuffer.wrap(euro, 0, 2), false));
        assertEquals("\u20acc", decode(decoder, ByteBuffer.wrap(new byte[] {euro[2], 'c'}), false));
        assertEquals("de", decode(decoder, ByteBuffer.wrap("de".getBytes(StandardCharsets.UTF_8)), true));
        assertEquals("\u00e9", decode(decoder, ByteBuffer.wrap("\u00e9".getBytes(StandardCharsets.UTF_8)), true),
                "the next message");
    }

    @Test
    void decodingLeavesThePieceUnmoved() {
        ByteBuffer piece = ByteBuffer.wrap("abc".getBytes(StandardCharsets.UTF_8));
        decode(new TextPieceDecoder(), piece, true);
        assertEquals(0, piece.position());
        assertEquals(3, piece.remaining());
    }

    @Test
    void bytesThatAreNotUtf8AreRefusedNotReplaced() {
        TextPieceDecoder decoder = new TextPieceDecoder();
        ByteBuffer invalid = ByteBuffer.wrap(new byte[] {'a', (byte) 0xC3, 'b'});
        assertThrows(IllegalStateException.class, () -> decode(decoder, invalid, true));
    }

    @Test
    void aMessageEndingInsideACharacterIsRefused() {
        TextPieceDecoder decoder = new TextPieceDecoder();
        ByteBuffer truncated = ByteBuffer.wrap(new byte[] {'a', (byte) 0xE2, (byte) 0x82});
        assertThrows(IllegalStateException.class, () -> decode(decoder, truncated, true));
    }

    /** The piece's remaining bytes, as the library hands them over: a buffer, an offset and a length. */
    private static String decode(TextPieceDecoder decoder, ByteBuffer piece, boolean last) {
        return decoder.decode(piece, piece.position(), piece.remaining(), last);
    }
}
