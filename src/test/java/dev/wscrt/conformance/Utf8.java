package dev.wscrt.conformance;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * The suite's own UTF-8 reference (RFC 3629, Unicode table 3-7), independent of the library's
 * validator: it says not only whether bytes are valid but where they stop being a prefix of valid
 * UTF-8, which is the earliest point a fail-fast client can fail.
 */
final class Utf8 {
    /** Returned by {@link #invalidAt} for valid UTF-8. */
    static final int VALID = -1;

    private Utf8() {
    }

    /**
     * {@link #VALID}; or the index of the first byte after which no continuation can make the bytes
     * valid; or {@code bytes.length} when the bytes are a valid prefix cut off inside a code point.
     */
    static int invalidAt(byte[] bytes) {
        int need = 0;
        int lo = 0x80;
        int hi = 0xBF;
        for (int i = 0; i < bytes.length; i++) {
            int c = bytes[i] & 0xFF;
            if (need == 0) {
                if (c <= 0x7F) {
                    continue;
                }
                lo = 0x80;
                hi = 0xBF;
                if (c >= 0xC2 && c <= 0xDF) {
                    need = 1;
                } else if (c == 0xE0) {
                    need = 2;
                    lo = 0xA0; // below: overlong
                } else if (c == 0xED) {
                    need = 2;
                    hi = 0x9F; // above: UTF-16 surrogates
                } else if (c >= 0xE1 && c <= 0xEF) {
                    need = 2;
                } else if (c == 0xF0) {
                    need = 3;
                    lo = 0x90; // below: overlong
                } else if (c >= 0xF1 && c <= 0xF3) {
                    need = 3;
                } else if (c == 0xF4) {
                    need = 3;
                    hi = 0x8F; // above: beyond U+10FFFF
                } else {
                    return i; // 80-C1 (continuation or overlong lead) and F5-FF never start a code point
                }
            } else {
                if (c < lo || c > hi) {
                    return i;
                }
                need--;
                lo = 0x80;
                hi = 0xBF;
            }
        }
        return need == 0 ? VALID : bytes.length;
    }

    /** The JDK's strict decoder's opinion, used to cross-check the reference and the vector tables. */
    static boolean jdkAccepts(byte[] bytes) {
        try {
            StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes));
            return true;
        } catch (CharacterCodingException e) {
            return false;
        }
    }
}
