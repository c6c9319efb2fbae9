package dev.wscrt.websocket;

/** Facts about Java strings (UTF-16) that the java.net.http adapter checks without encoding them. */
final class Utf16Text {
    private Utf16Text() {
    }

    /** The length in UTF-8 of {@code s}, which is well formed (text decoded from UTF-8). */
    static long utf8Length(String s) {
        long n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                n += 1;
            } else if (c < 0x800) {
                n += 2;
            } else if (Character.isHighSurrogate(c)) {
                n += 4;
                i++;
            } else {
                n += 3;
            }
        }
        return n;
    }

    /** Whether every surrogate in {@code s} is half of a pair (so that it can be encoded as UTF-8). */
    static boolean isWellFormed(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c)) {
                if (i + 1 == s.length() || !Character.isLowSurrogate(s.charAt(i + 1))) {
                    return false;
                }
                i++;
            } else if (Character.isLowSurrogate(c)) {
                return false;
            }
        }
        return true;
    }
}
