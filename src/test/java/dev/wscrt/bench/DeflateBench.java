package dev.wscrt.bench;

import dev.wscrt.testing.NettyWebSocketServer;
import dev.wscrt.websocket.WebSocketConnection;
import dev.wscrt.websocket.WebSocketListener;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Whether permessage-deflate pays on loopback: TEXT echo through the Netty fixture with Netty's own
 * deflate, 64 B and 64 KiB messages, compressible (prose) and incompressible (random base64-ish), deflate
 * on versus off, each for a fixed time with 16 messages in flight. Prints one line per scenario.
 *
 * <p>{@code java -cp <test class path> dev.wscrt.bench.DeflateBench [seconds per scenario]}. Figures taken
 * on a shared machine are noisy; compare the rows of one run.
 */
public final class DeflateBench {
    private static final int IN_FLIGHT = 16;
    /** Distinct messages sent in turn, so that context takeover cannot reduce each to a back-reference. */
    private static final int VARIANTS = 64;

    private DeflateBench() {
    }

    public static void main(String[] args) throws Exception {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 3;
        try (NettyWebSocketServer server = NettyWebSocketServer.builder().deflate().keepPayloads(false).start()) {
            System.out.printf("%-22s %-8s %12s %12s %14s%n", "message", "deflate", "msgs/s", "MB/s", "wire B/msg");
            for (int size : new int[] {64, 64 * 1024}) {
                for (boolean compressible : new boolean[] {true, false}) {
                    String[] messages = new String[VARIANTS];
                    for (int i = 0; i < VARIANTS; i++) {
                        messages[i] = compressible ? prose(size, i) : noise(size, i);
                    }
                    String label = (size == 64 ? "64 B" : "64 KiB") + " " + (compressible ? "compressible" : "incompressible");
                    for (boolean deflate : new boolean[] {false, true}) {
                        run(server, messages, deflate, seconds / 3, null); // warm-up
                        run(server, messages, deflate, seconds, label);
                    }
                }
            }
            System.out.printf("%nnative memory per connection (%d connections, Crt.nativeMemoryInUse):%n", CONNECTIONS);
            memory(server, false, false);
            memory(server, true, false);
            memory(server, true, true);
        }
        System.exit(0);
    }

    private static final int CONNECTIONS = 50;

    /** Native bytes per open connection: idle, or after one 1 KiB message each way. */
    private static void memory(NettyWebSocketServer server, boolean deflate, boolean used) throws Exception {
        java.util.List<WebSocketConnection> open = new java.util.ArrayList<>();
        Semaphore echoes = new Semaphore(0);
        long before = dev.wscrt.Crt.nativeMemoryInUse();
        for (int i = 0; i < CONNECTIONS; i++) {
            open.add(WebSocketConnection.builder(URI.create("ws://" + server.authority() + "/"))
                    .compression(deflate).connect(new WebSocketListener() {
                        @Override
                        public void onText(WebSocketConnection c, String text) {
                            echoes.release();
                        }
                    }).get(10, TimeUnit.SECONDS));
            if (used) {
                open.get(i).sendText(prose(1024, i));
            }
        }
        if (used && !echoes.tryAcquire(CONNECTIONS, 10, TimeUnit.SECONDS)) {
            throw new AssertionError("echoes missing");
        }
        long after = dev.wscrt.Crt.nativeMemoryInUse();
        System.out.printf("  deflate %-4s %-40s %8d bytes%n", deflate ? "on" : "off",
                used ? "after one 1 KiB message each way" : deflate ? "negotiated, idle (never used)" : "idle",
                (after - before) / CONNECTIONS);
        for (WebSocketConnection ws : open) {
            ws.close(1000, null).get(10, TimeUnit.SECONDS);
        }
    }

    private static void run(NettyWebSocketServer server, String[] messages, boolean deflate, double seconds,
                            String label) throws Exception {
        Semaphore window = new Semaphore(IN_FLIGHT);
        AtomicLong received = new AtomicLong();
        WebSocketConnection ws = WebSocketConnection.builder(URI.create("ws://" + server.authority() + "/"))
                .compression(deflate)
                .connect(new WebSocketListener() {
                    @Override
                    public void onText(WebSocketConnection c, String text) {
                        received.incrementAndGet();
                        window.release();
                    }
                }).get(10, TimeUnit.SECONDS);
        if (ws.compressionNegotiated() != deflate) {
            throw new AssertionError("deflate " + deflate + " but negotiated " + ws.extensions());
        }
        long wireBefore = server.wireBytesReceived();
        long start = System.nanoTime();
        long deadline = start + (long) (seconds * 1e9);
        long sent = 0;
        while (System.nanoTime() < deadline) {
            if (!window.tryAcquire(5, TimeUnit.SECONDS)) {
                throw new AssertionError("no echo within 5 s");
            }
            ws.sendText(messages[(int) (sent % messages.length)]);
            sent++;
        }
        if (!window.tryAcquire(IN_FLIGHT, 10, TimeUnit.SECONDS)) {
            throw new AssertionError("echoes missing at the end");
        }
        double elapsed = (System.nanoTime() - start) / 1e9;
        long wire = server.wireBytesReceived() - wireBefore;
        ws.close(1000, null).get(10, TimeUnit.SECONDS);
        if (label != null) {
            int size = messages[0].getBytes(StandardCharsets.UTF_8).length;
            System.out.printf("%-22s %-8s %12.0f %12.1f %14.0f%n", label, deflate ? "on" : "off",
                    received.get() / elapsed, received.get() * (double) size / elapsed / 1e6, wire / (double) sent);
        }
    }

    /** ASCII prose (words repeating): compresses well. */
    static String prose(int size, int seed) {
        String[] words = {"deflate ", "window ", "message ", "frame ", "context ", "takeover ", "zlib "};
        Random random = new Random(seed);
        StringBuilder text = new StringBuilder(size + 16);
        while (text.length() < size) {
            text.append(words[random.nextInt(words.length)]);
        }
        text.setLength(size);
        return text.toString();
    }

    /** Random letters and digits (6 bits of entropy per byte): compresses by a quarter at best. */
    static String noise(int size, int seed) {
        String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        Random random = new Random(1000 + seed);
        StringBuilder text = new StringBuilder(size);
        while (text.length() < size) {
            text.append(alphabet.charAt(random.nextInt(alphabet.length())));
        }
        return text.toString();
    }
}
