package dev.wscrt.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The transport ceiling: plain TCP against the server's raw port (same server process, same transport), with
 * the write sizes of the WebSocket scenario, read and written by a blocking {@link SocketChannel} with direct
 * buffers. Every loop is bounded by its byte count and a deadline.
 */
final class SocketLimit {
    private static final int READ_BUFFER = 256 * 1024;

    private SocketLimit() {
    }

    private static SocketChannel open(int port, String command) throws IOException {
        SocketChannel ch = SocketChannel.open(new InetSocketAddress("127.0.0.1", port));
        ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
        ByteBuffer line = ByteBuffer.wrap((command + "\n").getBytes(StandardCharsets.US_ASCII));
        while (line.hasRemaining()) {
            ch.write(line);
        }
        return ch;
    }

    private static void checkDeadline(long deadline, String what) {
        if (System.nanoTime() - deadline > 0) {
            throw new IllegalStateException("timed out: " + what);
        }
    }

    /** The server writes {@code total} bytes in writes of {@code writeSize}; the client reads them all. */
    static Map<String, Double> receive(int port, int writeSize, long total, long timeoutNanos) throws IOException {
        long start = System.nanoTime();
        long deadline = start + timeoutNanos;
        long got = 0;
        try (SocketChannel ch = open(port, "recv " + writeSize + " " + total)) {
            ByteBuffer buf = ByteBuffer.allocateDirect(READ_BUFFER);
            while (got < total) {
                buf.clear();
                int n = ch.read(buf);
                if (n < 0) {
                    throw new IllegalStateException("end of stream after " + got + " of " + total + " bytes");
                }
                got += n;
                checkDeadline(deadline, "plain receive");
            }
        }
        return figures((System.nanoTime() - start) / 1e9, total);
    }

    /** The client writes {@code total} bytes in writes of {@code writeSize}; the server says when it has them. */
    static Map<String, Double> send(int port, int writeSize, long total, long timeoutNanos) throws IOException {
        long start = System.nanoTime();
        long deadline = start + timeoutNanos;
        try (SocketChannel ch = open(port, "send " + total)) {
            ByteBuffer buf = ByteBuffer.allocateDirect(writeSize);
            long sent = 0;
            while (sent < total) {
                buf.clear();
                buf.limit((int) Math.min(writeSize, total - sent));
                while (buf.hasRemaining()) {
                    sent += ch.write(buf);
                }
                if ((sent & 0xFFFF) < writeSize) {
                    checkDeadline(deadline, "plain send");
                }
            }
            ByteBuffer ok = ByteBuffer.allocate(3);
            while (ok.hasRemaining() && ch.read(ok) >= 0) {
                checkDeadline(deadline, "plain send answer");
            }
            if (!new String(ok.array(), StandardCharsets.US_ASCII).equals("ok\n")) {
                throw new IllegalStateException("the server did not confirm " + total + " bytes");
            }
        }
        return figures((System.nanoTime() - start) / 1e9, total);
    }

    /** Sequential round trips of {@code size} bytes: {@code warmup} unmeasured, then for {@code seconds}. */
    static Map<String, Double> echo(int port, int size, int warmup, double seconds, int maxCount, long timeoutNanos)
            throws IOException {
        long deadline = System.nanoTime() + timeoutNanos;
        long[] latencies = new long[maxCount];
        int measured = 0;
        long measureStart = 0;
        try (SocketChannel ch = open(port, "echo")) {
            ByteBuffer out = ByteBuffer.allocateDirect(size);
            ByteBuffer in = ByteBuffer.allocateDirect(size);
            for (int i = 0; measured < maxCount; i++) {
                long sentAt = System.nanoTime();
                if (i == warmup) {
                    measureStart = sentAt;
                }
                out.clear();
                while (out.hasRemaining()) {
                    ch.write(out);
                }
                in.clear();
                while (in.hasRemaining()) {
                    if (ch.read(in) < 0) {
                        throw new IllegalStateException("end of stream in round trip " + i);
                    }
                }
                long now = System.nanoTime();
                if (i >= warmup) {
                    latencies[measured++] = now - sentAt;
                    if (now - measureStart >= seconds * 1e9) {
                        break;
                    }
                }
                checkDeadline(deadline, "plain echo");
            }
        }
        long[] sorted = Arrays.copyOf(latencies, measured);
        Arrays.sort(sorted);
        Map<String, Double> m = figures((System.nanoTime() - measureStart) / 1e9, (long) measured * size);
        m.put("messages", (double) measured);
        m.put("p50", (double) Scenarios.percentile(sorted, 50));
        m.put("p99", (double) Scenarios.percentile(sorted, 99));
        return m;
    }

    private static Map<String, Double> figures(double seconds, long bytes) {
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("seconds", seconds);
        m.put("messages", 0.0);
        m.put("bytes", (double) bytes);
        m.put("setup", 0.0);
        return m;
    }
}
