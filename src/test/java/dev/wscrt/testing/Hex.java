package dev.wscrt.testing;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** Hex byte literals for tests: {@code Hex.bytes("81 05 48 65 6c 6c 6f")}. */
public final class Hex {

    private Hex() {
    }

    /** Parses hex digits; spaces, newlines, ':' and '_' between bytes are ignored. */
    public static byte[] bytes(String hex) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int high = -1;
        for (int i = 0; i < hex.length(); i++) {
            char c = hex.charAt(i);
            if (Character.isWhitespace(c) || c == ':' || c == '_') {
                continue;
            }
            int digit = Character.digit(c, 16);
            if (digit < 0) {
                throw new IllegalArgumentException("not a hex digit '" + c + "' at " + i + " in: " + hex);
            }
            if (high < 0) {
                high = digit;
            } else {
                out.write((high << 4) | digit);
                high = -1;
            }
        }
        if (high >= 0) {
            throw new IllegalArgumentException("odd number of hex digits in: " + hex);
        }
        return out.toByteArray();
    }

    /** Formats bytes as lowercase hex pairs separated by spaces. */
    public static String format(byte[] bytes) {
        StringBuilder sb = new StringBuilder(bytes.length * 3);
        for (int i = 0; i < bytes.length; i++) {
            if (i > 0) {
                sb.append(' ');
            }
            sb.append(Character.forDigit((bytes[i] >> 4) & 0xF, 16)).append(Character.forDigit(bytes[i] & 0xF, 16));
        }
        return sb.toString();
    }

    /** Concatenates byte arrays. */
    public static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    public static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    public static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** n bytes of a recognisable pattern: byte i is (i * 31 + seed) mod 251. */
    public static byte[] pattern(int n, int seed) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) ((i * 31L + seed) % 251);
        }
        return b;
    }
}
