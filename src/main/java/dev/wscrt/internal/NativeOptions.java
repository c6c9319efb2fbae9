package dev.wscrt.internal;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * How a set of options crosses to native code: one byte array of named, typed entries, read by one
 * reader per option set in {@code src/native} (see {@code jni_options.h}). Adding an option means one
 * {@code put} here, in the type that describes the option set, and one name in its C reader.
 *
 * <p>Each entry is: the name (UTF-8, then a 0 byte), a type byte, then the value: {@code 'Z'} one byte,
 * {@code 'I'} four bytes, {@code 'J'} eight bytes (little-endian), {@code 'S'} a four-byte length, the
 * UTF-8 bytes and a 0 byte. Null values are left out, so the native side keeps its default.
 *
 * <p>Internal: not part of the API (the module does not export this package).
 */
public final class NativeOptions {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream(256);

    public NativeOptions putBoolean(String name, boolean value) {
        header(name, 'Z');
        out.write(value ? 1 : 0);
        return this;
    }

    public NativeOptions putInt(String name, int value) {
        header(name, 'I');
        writeLittleEndian(value, 4);
        return this;
    }

    public NativeOptions putLong(String name, long value) {
        header(name, 'J');
        writeLittleEndian(value, 8);
        return this;
    }

    /** Leaves the entry out when {@code value} is null. */
    public NativeOptions putString(String name, String value) {
        if (value != null) {
            byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
            header(name, 'S');
            writeLittleEndian(bytes.length, 4);
            out.write(bytes, 0, bytes.length);
            out.write(0);
        }
        return this;
    }

    public byte[] toByteArray() {
        return out.toByteArray();
    }

    private void header(String name, char type) {
        byte[] bytes = name.getBytes(StandardCharsets.US_ASCII);
        out.write(bytes, 0, bytes.length);
        out.write(0);
        out.write(type);
    }

    private void writeLittleEndian(long value, int size) {
        for (int i = 0; i < size; i++) {
            out.write((int) (value >>> (8 * i)));
        }
    }
}
