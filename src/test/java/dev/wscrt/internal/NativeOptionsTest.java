package dev.wscrt.internal;

import static dev.wscrt.testing.Hex.concat;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.wscrt.testing.Hex;
import dev.wscrt.io.TlsContext;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The encoding native code reads (jni_options.c), byte for byte as NativeOptions documents it. */
class NativeOptionsTest {

    /** The documented layout, written out by hand for one entry. */
    private static byte[] entry(String name, char type, byte[] value) {
        return concat(Hex.ascii(name), new byte[] {0, (byte) type}, value);
    }

    private static byte[] littleEndian(long value, int size) {
        byte[] bytes = new byte[size];
        for (int i = 0; i < size; i++) {
            bytes[i] = (byte) (value >>> (8 * i));
        }
        return bytes;
    }

    private static byte[] stringValue(String value) {
        byte[] utf8 = Hex.utf8(value);
        byte[] bytes = Arrays.copyOf(littleEndian(utf8.length, 4), 4 + utf8.length + 1);
        System.arraycopy(utf8, 0, bytes, 4, utf8.length);
        return bytes;
    }

    private static byte[] encoded(NativeOptions options) {
        return Arrays.copyOf(options.array(), options.length());
    }

    @Test
    void eachTypeIsWrittenAsDocumented() {
        NativeOptions options = new NativeOptions(64)
                .putBoolean("on", true)
                .putInt("port", 8443)
                .putLong("limit", 0x0102030405060708L)
                .putString("host", "localhost")
                .putString("absent", null);
        assertArrayEquals(concat(
                entry("on", 'Z', new byte[] {1}),
                entry("port", 'I', littleEndian(8443, 4)),
                entry("limit", 'J', littleEndian(0x0102030405060708L, 8)),
                entry("host", 'S', stringValue("localhost"))), encoded(options));
    }

    @Test
    void stringsAreUtf8WhateverTheyHold() {
        // ASCII, then two-, three- and four-byte sequences (a surrogate pair), and an unpaired surrogate,
        // which UTF-8 cannot hold: the JDK's encoder writes '?' for it, and so must this.
        String[] values = {"", "plain", "caf\u00e9", "\u2713 done", "clef \uD834\uDD1E", "a\uD800b"};
        for (String value : values) {
            NativeOptions options = new NativeOptions(16).putString("v", value);
            assertArrayEquals(entry("v", 'S', stringValue(value)), encoded(options), value);
        }
    }

    @Test
    void joinedStringsAreTheSameBytesAsTheJoinedString() {
        NativeOptions joined = new NativeOptions(16).putJoined("header", "X-Note", ':', "\u00e9t\u00e9");
        NativeOptions whole = new NativeOptions(16).putString("header", "X-Note:\u00e9t\u00e9");
        assertArrayEquals(encoded(whole), encoded(joined));
    }

    @Test
    void theArrayGrowsPastItsCapacityAndKeepsEveryEntry() {
        NativeOptions grown = new NativeOptions(16);
        List<byte[]> expected = new ArrayList<>();
        String big = "x".repeat(5000) + "\u00e9";
        for (int i = 0; i < 50; i++) {
            grown.putInt("n" + i, i).putString("s" + i, big.substring(i * 100));
            expected.add(entry("n" + i, 'I', littleEndian(i, 4)));
            expected.add(entry("s" + i, 'S', stringValue(big.substring(i * 100))));
        }
        byte[] layout = concat(expected.toArray(new byte[0][]));
        assertEquals(layout.length, grown.length());
        assertArrayEquals(layout, encoded(grown));
    }

    @Test
    void namesMustBeAscii() {
        assertThrows(IllegalArgumentException.class, () -> new NativeOptions(16).putInt("na\u00efve", 1));
        assertThrows(IllegalArgumentException.class, () -> new NativeOptions(16).putInt("a\0b", 1));
    }

    /**
     * The array crosses with its length, and native code reads only that much: bytes past it are never
     * read (here they would be a malformed entry), and a length outside the array is refused.
     */
    @Test
    void nativeCodeReadsTheGivenLengthAndRefusesOneOutsideTheArray() throws Exception {
        Method nativeNew = TlsContext.class.getDeclaredMethod("nativeNew", byte[].class, int.class);
        Method nativeRelease = TlsContext.class.getDeclaredMethod("nativeRelease", long.class);
        nativeNew.setAccessible(true);
        nativeRelease.setAccessible(true);
        NativeOptions options = new NativeOptions(16).putBoolean("verify_peer", false);
        byte[] withJunk = concat(Arrays.copyOf(options.array(), options.length()), Hex.ascii("junk"));

        long handle = (long) nativeNew.invoke(null, withJunk, options.length());
        assertNotEquals(0L, handle);
        nativeRelease.invoke(null, handle);

        for (int length : new int[] {withJunk.length, withJunk.length + 1, -1}) {
            InvocationTargetException refused = assertThrows(InvocationTargetException.class,
                    () -> nativeNew.invoke(null, withJunk, length), "length " + length);
            assertInstanceOf(IllegalArgumentException.class, refused.getCause(), "length " + length);
        }
    }
}
