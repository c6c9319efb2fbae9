package dev.wscrt.conformance;

import dev.wscrt.CrtRuntimeException;
import dev.wscrt.io.ClientBootstrap;
import dev.wscrt.testing.EndListener;
import dev.wscrt.websocket.CompressionOptions;
import dev.wscrt.websocket.WebSocketConnection;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.zip.DataFormatException;

/**
 * Families 12 and 13, permessage-deflate (RFC 7692), after Autobahn|Testsuite's cases 12.x.x and 13.x.x:
 * the server sends compressed messages of 16 B to 128 KiB, whole or auto-fragmented, one at a time; the
 * client (the message API with compression on, echoing every message) must send each back, and the server
 * inflates and compares it byte for byte. 12.1-12.5 use five kinds of data with the default offer; 13.1-13.7
 * use JSON with each combination of offer and answer Autobahn tests (no context takeover either way, window
 * bits 8 and 15). The frame API does not offer permessage-deflate, so these cases drive
 * {@link WebSocketConnection} and their own server ({@link CompressionPeer}).
 *
 * <p>Adaptations, stated in the report: the data sets are generated here (Autobahn ships files: Goethe's
 * Faust, a bitmap, a PDF, JSON, HTML); the message count per case is scaled (see {@link #SCALE_NOTE}); wscrt
 * makes one offer, so 13.7 (three alternative offers, the server taking the first) offers the first alone.
 */
final class CompressionCases {
    /** Autobahn's (payload size, auto-fragment size) per case number 1-18; every case sends 1000 messages there. */
    private static final int[][] SIZES = {
        {16, 0}, {64, 0}, {256, 0}, {1024, 0}, {4096, 0}, {8192, 0}, {16384, 0}, {32768, 0}, {65536, 0},
        {131072, 0}, {8192, 256}, {16384, 256}, {32768, 256}, {65536, 256}, {131072, 256}, {131072, 1024},
        {131072, 4096}, {131072, 32768},
    };
    /** {@code -Dwscrt.conformance.compression=full}: Autobahn's 1000 messages in every case (about 11 GB deflated). */
    private static final boolean FULL = "full".equals(System.getProperty("wscrt.conformance.compression"));
    /** The scaled default: at most this many payload bytes per case, and 1000 messages at most, 8 at least. */
    private static final int SCALED_BYTES_PER_CASE = 512 * 1024;
    static final String SCALE_NOTE = FULL
            ? "Families 12 and 13 run at Autobahn's scale: 1000 messages per case."
            : "Families 12 and 13 are scaled: each case sends min(1000, max(8, 512 KiB / size)) messages (1000 of"
                    + " up to 256 B, 8 of 64 KiB and 128 KiB) instead of Autobahn's 1000;"
                    + " -Dwscrt.conformance.compression=full runs 1000 in every case.";
    private static final Duration TIMEOUT = Duration.ofSeconds(FULL ? 600 : 60);
    private static final int READ_TIMEOUT_MS = 20_000;

    /** One of Autobahn's test data sets, generated here. */
    private record DataSet(String title, boolean binary, byte[] data) {
    }

    /** A client offer and the server's answer to it (13.x). */
    private record Negotiation(String title, CompressionOptions offer, CompressionPeer.Accept accept) {
    }

    private CompressionCases() {
    }

    static List<ConformanceCase> family12() {
        List<DataSet> sets = List.of(
                new DataSet("Human-readable text (German prose, sent as binary)", true, TestData.prose()),
                new DataSet("A 512x512 greyscale bitmap", true, TestData.bitmap()),
                new DataSet("A PDF-like mix of text and compressed streams", true, TestData.pdfLike()),
                new DataSet("JSON data (text)", false, TestData.json()),
                new DataSet("HTML (text)", false, TestData.html()));
        Negotiation plain = new Negotiation("default offer", base(), CompressionPeer.Accept.PLAIN);
        List<ConformanceCase> cases = new ArrayList<>();
        for (int j = 0; j < sets.size(); j++) {
            addGroup(cases, "12." + (j + 1) + ".", sets.get(j), plain);
        }
        return cases;
    }

    static List<ConformanceCase> family13() {
        CompressionOptions noServerContext = base().withServerNoContextTakeover(true);
        List<Negotiation> negotiations = List.of(
                new Negotiation("client offers the default; server accepts", base(), CompressionPeer.Accept.PLAIN),
                new Negotiation("client asks server_no_context_takeover; server answers client_no_context_takeover",
                        noServerContext, new CompressionPeer.Accept(true, 0)),
                new Negotiation("client asks server_max_window_bits=8; server answers client_max_window_bits=8",
                        base().withServerMaxWindowBits(8), new CompressionPeer.Accept(false, 8)),
                new Negotiation("client asks server_max_window_bits=15; server answers client_max_window_bits=15",
                        base().withServerMaxWindowBits(15), new CompressionPeer.Accept(false, 15)),
                new Negotiation("client asks both, 8 bits; server answers client_no_context_takeover and 8 bits",
                        noServerContext.withServerMaxWindowBits(8), new CompressionPeer.Accept(true, 8)),
                new Negotiation("client asks both, 15 bits; server answers client_no_context_takeover and 15 bits",
                        noServerContext.withServerMaxWindowBits(15), new CompressionPeer.Accept(true, 15)),
                new Negotiation("(one offer) client asks both, 8 bits; server takes it as in 13.5",
                        noServerContext.withServerMaxWindowBits(8), new CompressionPeer.Accept(true, 8)));
        DataSet json = new DataSet("JSON data (text)", false, TestData.json());
        List<ConformanceCase> cases = new ArrayList<>();
        for (int j = 0; j < negotiations.size(); j++) {
            addGroup(cases, "13." + (j + 1) + ".", json, negotiations.get(j));
        }
        return cases;
    }

    /** Compress every message, however short, as Autobahn's client does. */
    private static CompressionOptions base() {
        return CompressionOptions.DEFAULT.withThreshold(0);
    }

    private static void addGroup(List<ConformanceCase> cases, String group, DataSet set, Negotiation negotiation) {
        for (int i = 0; i < SIZES.length; i++) {
            int size = SIZES[i][0];
            int fragment = SIZES[i][1];
            int count = FULL ? 1000 : Math.min(1000, Math.max(8, SCALED_BYTES_PER_CASE / size));
            String description = set.title() + ", " + negotiation.title() + ": send " + count
                    + " compressed messages of " + size + " B" + (fragment > 0 ? " in frames of " + fragment + " B" : "")
                    + ", one at a time; expect each echo";
            cases.add(ConformanceCase.standalone(group + (i + 1), description, TIMEOUT,
                    bootstrap -> run(bootstrap, set, negotiation, size, fragment, count)));
        }
    }

    /** The echo client: every message goes back as it came (the library compresses it). */
    private static final class Echo implements EndListener {
        final CompletableFuture<Throwable> ended = new CompletableFuture<>();

        @Override
        public void onText(WebSocketConnection connection, String text) {
            connection.sendText(text);
        }

        @Override
        public void onBinary(WebSocketConnection connection, ByteBuffer data) {
            connection.sendBinary(data);
        }

        @Override
        public void onEnd(WebSocketConnection connection, Throwable error) {
            ended.complete(error);
        }
    }

    /** Runs one case: the verdict is OK only if every echo matched and the close handshake was clean. */
    private static ConformanceCase.Outcome run(ClientBootstrap bootstrap, DataSet set, Negotiation negotiation, int size,
                                          int fragment, int count) throws IOException, InterruptedException {
        try (ServerSocket listener = new ServerSocket()) {
            listener.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0), 1);
            listener.setSoTimeout(5000);
            Echo echo = new Echo();
            CompletableFuture<WebSocketConnection> connecting = WebSocketConnection.builder(
                            URI.create("ws://127.0.0.1:" + listener.getLocalPort() + "/"))
                    .bootstrap(bootstrap).compression(negotiation.offer()).maxMessageSize(1 << 20).connect(echo);
            Socket socket = listener.accept();
            try (CompressionPeer peer = new CompressionPeer(socket, READ_TIMEOUT_MS)) {
                peer.handshake(negotiation.accept());
                WebSocketConnection ws;
                try {
                    ws = connecting.get(5, TimeUnit.SECONDS);
                } catch (Exception e) {
                    return ConformanceCase.Outcome.failed("the client refused the answer '" + peer.answer() + "': " + e);
                }
                if (!ws.compressionNegotiated()) {
                    return ConformanceCase.Outcome.failed("the client did not take the answer '" + peer.answer() + "'");
                }
                int opcode = set.binary() ? Frames.BINARY : Frames.TEXT;
                int position = 0;
                int compressedEchoes = 0;
                long echoWire = 0;
                long payloadBytes = 0;
                long start = System.nanoTime();
                for (int m = 0; m < count; m++) {
                    byte[] message = slice(set.data(), position, size);
                    position = (position + size) % set.data().length;
                    peer.sendCompressed(opcode, message, fragment);
                    CompressionPeer.Echo back;
                    try {
                        back = peer.readEcho();
                    } catch (IOException | DataFormatException e) {
                        return ConformanceCase.Outcome.failed("echo #" + m + ": " + e.getMessage() + ending(echo));
                    }
                    if (back.opcode() != opcode || !Arrays.equals(back.payload(), message)) {
                        return ConformanceCase.Outcome.failed("echo #" + m + " differs: opcode " + back.opcode() + ", "
                                + back.payload().length + " B, expected opcode " + opcode + ", " + size + " B");
                    }
                    compressedEchoes += back.compressed() ? 1 : 0;
                    echoWire += back.wireBytes();
                    payloadBytes += size;
                }
                long micros = TimeUnit.NANOSECONDS.toMicros(System.nanoTime() - start);
                int closeCode = peer.closeHandshake();
                Throwable end;
                try {
                    end = echo.ended.get(5, TimeUnit.SECONDS);
                } catch (Exception e) {
                    return ConformanceCase.Outcome.failed("the client did not report its shutdown after CLOSE " + closeCode);
                }
                if (closeCode != 1000 || end != null) {
                    return ConformanceCase.Outcome.failed("close handshake 1000 -> " + closeCode + ", client ended with "
                            + (end == null ? "a clean close" : errorName(end)));
                }
                // zlib cannot compress with a 256-byte window: with client_max_window_bits=8 the client sends
                // its messages uncompressed, which RFC 7692 allows per message. Without context takeover it
                // also sends plain a message that compressing alone would not make smaller (short ones).
                boolean clientCompresses = negotiation.accept().clientMaxWindowBits() != 8;
                boolean everyEchoCompressed = clientCompresses && !negotiation.offer().clientNoContextTakeover()
                        && !negotiation.accept().clientNoContextTakeover();
                if ((everyEchoCompressed && compressedEchoes != count) || (!clientCompresses && compressedEchoes > 0)) {
                    return ConformanceCase.Outcome.failed(compressedEchoes + " of " + count + " echoes compressed");
                }
                return ConformanceCase.Outcome.ok(String.format("%d echoes checked, %d compressed (%s); answer '%s'; server"
                                + " sent %.0f%% of the payload on the wire, client %.0f%%; %.1f ms per round trip;"
                                + " close handshake 1000 -> 1000",
                        count, compressedEchoes, !clientCompresses ? "client window 8: sent plain"
                                : everyEchoCompressed ? "window 9-15" : "no client context takeover: plain when not smaller",
                        peer.answer(), 100.0 * peer.wireBytesSent() / Math.max(1, payloadBytes),
                        100.0 * echoWire / Math.max(1, payloadBytes), micros / 1000.0 / count));
            }
        }
    }

    private static String ending(Echo echo) {
        Throwable end = echo.ended.getNow(null);
        return echo.ended.isDone() ? " (client ended: " + (end == null ? "clean close" : errorName(end)) + ")" : "";
    }

    private static String errorName(Throwable t) {
        return t instanceof CrtRuntimeException crt ? crt.errorName() : t.toString();
    }

    /** {@code size} bytes from {@code data} at {@code position}, wrapping around (as Autobahn takes them). */
    private static byte[] slice(byte[] data, int position, int size) {
        byte[] out = new byte[size];
        for (int i = 0; i < size; ) {
            int n = Math.min(size - i, data.length - position);
            System.arraycopy(data, position, out, i, n);
            i += n;
            position = (position + n) % data.length;
        }
        return out;
    }

    /** The five data sets, made deterministically (Autobahn ships files; these have the same character). */
    static final class TestData {
        private TestData() {
        }

        /** German-like prose with umlauts and punctuation, about 200 KB. */
        static byte[] prose() {
            String[] words = {"Habe", "nun,", "ach!", "Philosophie,", "Juristerei", "und", "Medizin,", "leider",
                "auch", "Theologie", "durchaus", "studiert,", "mit", "heißem", "Bemühn.", "Da", "steh", "ich",
                "nun,", "ich", "armer", "Tor!", "Und", "bin", "so", "klug", "als", "wie", "zuvor;", "Geist",
                "Würde", "Erkenntnis", "Natur", "über", "schön", "Gretchen", "Nacht.", "Wald", "Höhle", "Straße"};
            java.util.Random random = new java.util.Random(12);
            StringBuilder text = new StringBuilder();
            int line = 0;
            while (text.length() < 200_000) {
                String word = words[random.nextInt(words.length)];
                text.append(word);
                line += word.length() + 1;
                if (line > 60 || word.endsWith(".")) {
                    text.append('\n');
                    line = 0;
                } else {
                    text.append(' ');
                }
            }
            return text.toString().getBytes(StandardCharsets.UTF_8);
        }

        /** A BMP-style header and 512x512 8-bit pixels: smooth shapes with a little noise. */
        static byte[] bitmap() {
            byte[] image = new byte[1078 + 512 * 512];
            image[0] = 'B';
            image[1] = 'M';
            java.util.Random random = new java.util.Random(13);
            for (int y = 0; y < 512; y++) {
                for (int x = 0; x < 512; x++) {
                    double v = 128 + 60 * Math.sin(x / 37.0) * Math.cos(y / 23.0) + 40 * Math.sin((x + y) / 71.0);
                    image[1078 + y * 512 + x] = (byte) Math.max(0, Math.min(255, v + random.nextInt(9) - 4));
                }
            }
            return image;
        }

        /** PDF-like: object syntax in ASCII between streams of random (already compressed) bytes, about 300 KB. */
        static byte[] pdfLike() {
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            java.util.Random random = new java.util.Random(14);
            int object = 1;
            while (out.size() < 300_000) {
                byte[] stream = new byte[500 + random.nextInt(4000)];
                random.nextBytes(stream);
                String head = object++ + " 0 obj\n<< /Length " + stream.length + " /Filter /FlateDecode >>\nstream\n";
                out.writeBytes(head.getBytes(StandardCharsets.US_ASCII));
                out.writeBytes(stream);
                out.writeBytes("\nendstream\nendobj\n".getBytes(StandardCharsets.US_ASCII));
            }
            return out.toByteArray();
        }

        /** JSON records (ASCII only, so that any slice is UTF-8), about 250 KB. */
        static byte[] json() {
            java.util.Random random = new java.util.Random(15);
            String[] names = {"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"};
            StringBuilder json = new StringBuilder("[\n");
            for (int i = 0; json.length() < 250_000; i++) {
                json.append(String.format("  {\"id\": %d, \"name\": \"%s-%d\", \"active\": %s, \"score\": %.3f,"
                                + " \"tags\": [\"%s\", \"%s\"], \"position\": {\"x\": %d, \"y\": %d}},\n", i,
                        names[random.nextInt(names.length)], random.nextInt(1000), random.nextBoolean(),
                        random.nextDouble() * 100, names[random.nextInt(names.length)],
                        names[random.nextInt(names.length)], random.nextInt(4096), random.nextInt(4096)));
            }
            return json.append("  {}\n]\n").toString().getBytes(StandardCharsets.US_ASCII);
        }

        /** An HTML page of tables and paragraphs (ASCII only), about 250 KB. */
        static byte[] html() {
            java.util.Random random = new java.util.Random(16);
            String[] words = {"window", "frame", "message", "context", "deflate", "server", "client", "table"};
            StringBuilder html = new StringBuilder("<!DOCTYPE html>\n<html><head><title>data</title></head><body>\n");
            for (int i = 0; html.length() < 250_000; i++) {
                html.append("<div class=\"row r").append(i % 7).append("\"><p>");
                for (int w = 0; w < 12; w++) {
                    html.append(words[random.nextInt(words.length)]).append(' ');
                }
                html.append("</p><table><tr><td>").append(random.nextInt(100000)).append("</td><td><a href=\"/item/")
                        .append(i).append("\">item ").append(i).append("</a></td></tr></table></div>\n");
            }
            return html.append("</body></html>\n").toString().getBytes(StandardCharsets.US_ASCII);
        }
    }
}
