package dev.wscrt.internal;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * How a set of options crosses to native code: named, typed entries in the first {@link #length()}
 * bytes of {@link #array()}, read by one reader per option set in {@code src/native} (see
 * {@code jni_options.h}). Adding an option means one {@code put} here, in the type that describes the
 * option set, and one name in its C reader.
 *
 * <p>Each entry is: the name (ASCII, then a 0 byte), a type byte, then the value: {@code 'Z'} one byte,
 * {@code 'I'} four bytes, {@code 'J'} eight bytes (little-endian), {@code 'S'} a four-byte length, the
 * UTF-8 bytes and a 0 byte. Null values are left out, so the native side keeps its default.
 *
 * <p>The entries are written straight into one array, which is handed over with its length rather than
 * copied to its exact size: a connect encodes about thirty entries, and it should not leave several
 * times their size behind as garbage.
 *
 * <p>Internal: not part of the API (the module does not export this package).
 */
public final class NativeOptions {
    private byte[] bytes;
    private int length;

    /** @param capacity the bytes the entries are expected to take (the array grows past it if need be) */
    public NativeOptions(int capacity) {
        bytes = new byte[Math.max(16, capacity)];
    }

    public NativeOptions putBoolean(String name, boolean value) {
        header(name, 'Z', 1);
        bytes[length++] = (byte) (value ? 1 : 0);
        return this;
    }

    public NativeOptions putInt(String name, int value) {
        header(name, 'I', 4);
        writeLittleEndian(value, 4);
        return this;
    }

    public NativeOptions putLong(String name, long value) {
        header(name, 'J', 8);
        writeLittleEndian(value, 8);
        return this;
    }

    /** Leaves the entry out when {@code value} is null. */
    public NativeOptions putString(String name, String value) {
        if (value != null) {
            int lengthAt = beginString(name, value.length());
            writeUtf8(value);
            endString(lengthAt);
        }
        return this;
    }

    /**
     * A string entry of {@code first}, {@code separator} (ASCII) and {@code second}, without joining them
     * into another string first.
     */
    public NativeOptions putJoined(String name, String first, char separator, String second) {
        if (separator == 0 || separator >= 0x80) {
            throw new IllegalArgumentException("the separator is ASCII");
        }
        int lengthAt = beginString(name, first.length() + 1 + second.length());
        writeUtf8(first);
        ensure(1);
        bytes[length++] = (byte) separator;
        writeUtf8(second);
        endString(lengthAt);
        return this;
    }

    /** The array holding the entries; only its first {@link #length()} bytes are the encoding. */
    public byte[] array() {
        return bytes;
    }

    /** How many bytes of {@link #array()} the entries take. */
    public int length() {
        return length;
    }

    /** Writes the header and leaves room for the length; returns where the length goes. */
    private int beginString(String name, int expectedBytes) {
        header(name, 'S', 4 + expectedBytes + 1);
        int lengthAt = length;
        length += 4;
        return lengthAt;
    }

    /** Fills in the length of the string written since {@link #beginString} and ends it with its 0 byte. */
    private void endString(int lengthAt) {
        int stringBytes = length - lengthAt - 4;
        for (int i = 0; i < 4; i++) {
            bytes[lengthAt + i] = (byte) (stringBytes >>> (8 * i));
        }
        ensure(1);
        bytes[length++] = 0;
    }

    /** The name, its 0 byte and the type, with room for {@code valueBytes} more. */
    private void header(String name, char type, int valueBytes) {
        int n = name.length();
        ensure(n + 2 + valueBytes);
        for (int i = 0; i < n; i++) {
            char c = name.charAt(i);
            if (c == 0 || c >= 0x80) {
                throw new IllegalArgumentException("option names are ASCII: " + name);
            }
            bytes[length++] = (byte) c;
        }
        bytes[length++] = 0;
        bytes[length++] = (byte) type;
    }

    /** ASCII is written as it is read; from the first other character on, the JDK's encoder takes over. */
    private void writeUtf8(String value) {
        int n = value.length();
        ensure(n);
        for (int i = 0; i < n; i++) {
            char c = value.charAt(i);
            if (c >= 0x80) {
                byte[] rest = value.substring(i).getBytes(StandardCharsets.UTF_8);
                ensure(rest.length);
                System.arraycopy(rest, 0, bytes, length, rest.length);
                length += rest.length;
                return;
            }
            bytes[length++] = (byte) c;
        }
    }

    private void writeLittleEndian(long value, int size) {
        ensure(size);
        for (int i = 0; i < size; i++) {
            bytes[length++] = (byte) (value >>> (8 * i));
        }
    }

    private void ensure(int more) {
        if (bytes.length - length < more) {
            bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, length + more));
        }
    }
}
