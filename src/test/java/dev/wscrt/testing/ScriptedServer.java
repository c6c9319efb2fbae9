package dev.wscrt.testing;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A raw TCP server on 127.0.0.1 that writes exact bytes, for protocol violations and faults that no
 * well-behaved server produces. Scripts run on the test thread:
 *
 * <pre>{@code
 * try (ScriptedServer server = ScriptedServer.start()) {
 *     WebSocket.connect(...port(server.port())...);
 *     ScriptedServer.Conn c = server.awaitConnection();
 *     c.readRequest();
 *     c.answer101();
 *     c.write(Hex.bytes("c1 00"));          // RSV1 set
 *     assertEquals(1002, c.awaitClose().closeCode());
 * }
 * }</pre>
 *
 * Every read is bounded by a socket timeout; a timeout fails the test with a message.
 */
public final class ScriptedServer implements LocalServer {

    /** RFC 6455 4.2.2: appended to the key before hashing. */
    public static final String GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    private static final int READ_TIMEOUT_MS = (int) Await.DEFAULT_TIMEOUT.toMillis();

    private final ServerSocket serverSocket;
    private final Thread acceptThread;
    private final BlockingQueue<Conn> accepted = new LinkedBlockingQueue<>();
    private final List<Conn> all = new CopyOnWriteArrayList<>();
    private volatile boolean closing;

    private ScriptedServer(int backlog) throws IOException {
        serverSocket = new ServerSocket();
        serverSocket.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0), backlog);
        acceptThread = new Thread(this::acceptLoop, "scripted-server-accept-" + port());
        acceptThread.setDaemon(true);
        acceptThread.start();
    }

    /**
     * Writes and flushes {@code bytes} to a raw server socket's stream, tolerating a client that already closed
     * the connection. Returns false if the write failed.
     */
    public static boolean tryWrite(OutputStream out, byte[] bytes) {
        try {
            out.write(bytes);
            out.flush();
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** Starts a server on 127.0.0.1 with an OS-chosen port that accepts every connection. */
    public static ScriptedServer start() {
        try {
            return new ScriptedServer(50);
        } catch (IOException e) {
            throw new AssertionError("cannot bind a scripted server on 127.0.0.1", e);
        }
    }

    @Override
    public String host() {
        return "127.0.0.1";
    }

    @Override
    public int port() {
        return serverSocket.getLocalPort();
    }

    public String authority() {
        return host() + ":" + port();
    }

    /** Waits for the next accepted connection. */
    public Conn awaitConnection() {
        try {
            Conn c = accepted.poll(Await.DEFAULT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            if (c == null) {
                throw new AssertionError("Timed out after " + Await.DEFAULT_TIMEOUT.toMillis()
                        + " ms waiting for a TCP connection to the scripted server on port " + port());
            }
            return c;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /** Number of TCP connections accepted so far. */
    public int acceptedCount() {
        return all.size();
    }

    private void acceptLoop() {
        while (!closing) {
            try {
                Socket s = serverSocket.accept();
                s.setSoTimeout(READ_TIMEOUT_MS);
                s.setTcpNoDelay(true);
                Conn c = new Conn(s);
                all.add(c);
                accepted.add(c);
            } catch (IOException e) {
                if (!closing) {
                    System.err.println("scripted server accept failed: " + e);
                }
                return;
            }
        }
    }

    @Override
    public void close() {
        closing = true;
        Sockets.closeQuietly(serverSocket);
        for (Conn c : all) {
            c.close();
        }
        try {
            acceptThread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** base64(SHA-1(key + GUID)), the Sec-WebSocket-Accept value for a key. */
    public static String acceptFor(String key) {
        try {
            MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
            byte[] digest = sha1.digest((key + GUID).getBytes(StandardCharsets.US_ASCII));
            return Base64.getEncoder().encodeToString(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    /**
     * A server-to-client frame (unmasked) with the minimal length encoding.
     *
     * @param fin the FIN bit
     * @param opcode 0..15
     * @param payload the payload
     */
    public static byte[] frame(boolean fin, int opcode, byte[] payload) {
        return frame((fin ? 0x80 : 0) | opcode, payload);
    }

    /** A frame with an exact first byte (FIN, RSV bits, opcode) and the minimal length encoding. */
    public static byte[] frame(int firstByte, byte[] payload) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(payload.length + 10);
        out.write(firstByte);
        int n = payload.length;
        if (n <= 125) {
            out.write(n);
        } else if (n <= 0xFFFF) {
            out.write(126);
            out.write(n >>> 8);
            out.write(n);
        } else {
            out.write(127);
            long len = n;
            for (int shift = 56; shift >= 0; shift -= 8) {
                out.write((int) (len >>> shift));
            }
        }
        out.writeBytes(payload);
        return out.toByteArray();
    }

    /** A CLOSE payload: 2-byte big-endian status code followed by the UTF-8 reason. */
    public static byte[] closePayload(int code, String reason) {
        byte[] r = reason.getBytes(StandardCharsets.UTF_8);
        byte[] p = new byte[2 + r.length];
        p[0] = (byte) (code >>> 8);
        p[1] = (byte) code;
        System.arraycopy(r, 0, p, 2, r.length);
        return p;
    }

    /** The request line and header fields of an HTTP request head. */
    public record RequestHead(String requestLine, List<Map.Entry<String, String>> headers, String raw) {
        /** The first value of a header (case-insensitive), or null. */
        public String header(String name) {
            return headers.stream().filter(e -> e.getKey().equalsIgnoreCase(name)).map(Map.Entry::getValue)
                    .findFirst().orElse(null);
        }

        /** All values of a header (case-insensitive). */
        public List<String> headerValues(String name) {
            return headers.stream().filter(e -> e.getKey().equalsIgnoreCase(name)).map(Map.Entry::getValue)
                    .toList();
        }
    }

    /** One accepted TCP connection. Used from one test thread. */
    public static final class Conn implements AutoCloseable {
        private final Socket socket;
        private final InputStream in;
        private final OutputStream out;
        private RequestHead request;
        private byte[] lastMaskKey = new byte[0];

        Conn(Socket socket) throws IOException {
            this.socket = socket;
            this.in = new BufferedInputStream(socket.getInputStream());
            this.out = socket.getOutputStream();
        }

        public Socket socket() {
            return socket;
        }

        /** Reads the HTTP request head, up to and including the empty line (at most 64 KiB). */
        public RequestHead readRequest() {
            ByteArrayOutputStream head = new ByteArrayOutputStream();
            int matched = 0;
            byte[] end = {'\r', '\n', '\r', '\n'};
            while (matched < 4) {
                int b = readByte("the HTTP request head");
                head.write(b);
                matched = b == end[matched] ? matched + 1 : (b == '\r' ? 1 : 0);
                if (head.size() > 65536) {
                    throw new AssertionError("request head larger than 64 KiB");
                }
            }
            String raw = head.toString(StandardCharsets.ISO_8859_1);
            String[] lines = raw.substring(0, raw.length() - 4).split("\r\n");
            List<Map.Entry<String, String>> headers = new ArrayList<>();
            for (int i = 1; i < lines.length; i++) {
                int colon = lines[i].indexOf(':');
                if (colon <= 0) {
                    throw new AssertionError("malformed header line '" + lines[i] + "' in:\n" + raw);
                }
                headers.add(Map.entry(lines[i].substring(0, colon).trim(), lines[i].substring(colon + 1).trim()));
            }
            request = new RequestHead(lines[0], List.copyOf(headers), raw);
            return request;
        }

        /** The request read by {@link #readRequest()}. */
        public RequestHead request() {
            if (request == null) {
                throw new IllegalStateException("readRequest() first");
            }
            return request;
        }

        /** The correct Sec-WebSocket-Accept for the request read. */
        public String expectedAccept() {
            String key = request().header("Sec-WebSocket-Key");
            if (key == null) {
                throw new AssertionError("the request has no Sec-WebSocket-Key:\n" + request.raw());
            }
            return acceptFor(key);
        }

        /** Writes a correct 101 Switching Protocols response. */
        public void answer101() {
            writeAscii("HTTP/1.1 101 Switching Protocols\r\n"
                    + "Upgrade: websocket\r\n"
                    + "Connection: Upgrade\r\n"
                    + "Sec-WebSocket-Accept: " + expectedAccept() + "\r\n"
                    + "\r\n");
        }

        /** Reads the request and writes a correct 101 with the given bytes appended in the same write. */
        public void handshake(byte[] thenBytes) {
            readRequest();
            byte[] head = ("HTTP/1.1 101 Switching Protocols\r\n"
                    + "Upgrade: websocket\r\n"
                    + "Connection: Upgrade\r\n"
                    + "Sec-WebSocket-Accept: " + expectedAccept() + "\r\n"
                    + "\r\n").getBytes(StandardCharsets.US_ASCII);
            write(Hex.concat(head, thenBytes));
        }

        /** Reads the request and writes a correct 101. */
        public void handshake() {
            handshake(new byte[0]);
        }

        public void writeAscii(String s) {
            write(s.getBytes(StandardCharsets.ISO_8859_1));
        }

        public void writeHex(String hex) {
            write(Hex.bytes(hex));
        }

        public void write(byte[] bytes) {
            try {
                out.write(bytes);
                out.flush();
            } catch (IOException e) {
                throw new AssertionError("scripted server write failed: " + e, e);
            }
        }

        /**
         * Writes bytes, tolerating a client that already closed the connection (for tests where the
         * client is expected to give up mid-write). Returns false if the write failed.
         */
        public boolean tryWrite(byte[] bytes) {
            return ScriptedServer.tryWrite(out, bytes);
        }

        /** Writes a server frame (unmasked, minimal length). */
        public void sendFrame(boolean fin, int opcode, byte[] payload) {
            write(frame(fin, opcode, payload));
        }

        /**
         * Reads one client frame, checking that it is masked, and returns it unmasked. Fails on EOF
         * or timeout.
         */
        public ReceivedFrame readFrame() {
            int b0 = readByte("a client frame");
            int b1 = readByte("a client frame header");
            boolean masked = (b1 & 0x80) != 0;
            long len = b1 & 0x7F;
            if (len == 126) {
                len = ((long) readByte("length") << 8) | readByte("length");
            } else if (len == 127) {
                len = 0;
                for (int i = 0; i < 8; i++) {
                    len = (len << 8) | readByte("length");
                }
            }
            if (len > Integer.MAX_VALUE - 16) {
                throw new AssertionError("client frame too long for the scripted server: " + len);
            }
            byte[] key = new byte[4];
            if (masked) {
                readFully(key, "mask key");
            }
            lastMaskKey = masked ? key : new byte[0];
            byte[] payload = new byte[(int) len];
            readFully(payload, "payload");
            if (masked) {
                for (int i = 0; i < payload.length; i++) {
                    payload[i] ^= key[i & 3];
                }
            }
            return new ReceivedFrame(b0 & 0x0F, (b0 & 0x80) != 0, (b0 >> 4) & 0x7, masked, len, payload);
        }

        /** The masking key of the last frame read by {@link #readFrame()} (empty when unmasked). */
        public byte[] lastMaskKey() {
            return lastMaskKey.clone();
        }

        /** Reads client frames until one matches; returns it. Earlier frames are returned in skipped. */
        public ReceivedFrame readFrameUntil(String what, Predicate<ReceivedFrame> p, List<ReceivedFrame> skipped) {
            while (true) {
                ReceivedFrame f;
                try {
                    f = readFrame();
                } catch (AssertionError e) {
                    throw new AssertionError("while waiting for " + what + " (frames before it: " + skipped + "): "
                            + e.getMessage(), e);
                }
                if (p.test(f)) {
                    return f;
                }
                skipped.add(f);
            }
        }

        /** Reads client frames until a CLOSE; returns it. */
        public ReceivedFrame awaitClose() {
            return readFrameUntil("the client's CLOSE frame", ReceivedFrame::isClose, new ArrayList<>());
        }

        /**
         * Waits until the client ends the TCP connection (EOF or reset), discarding what it sends.
         * Returns the bytes received before the end.
         */
        public byte[] awaitEof() {
            ByteArrayOutputStream rest = new ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            long deadline = System.nanoTime() + Await.DEFAULT_TIMEOUT.toNanos();
            try {
                while (true) {
                    int n = in.read(buf);
                    if (n < 0) {
                        return rest.toByteArray();
                    }
                    rest.write(buf, 0, n);
                    if (System.nanoTime() - deadline > 0) {
                        throw new AssertionError("client kept sending for 10 s without closing");
                    }
                }
            } catch (SocketTimeoutException e) {
                throw new AssertionError("Timed out after " + READ_TIMEOUT_MS
                        + " ms waiting for the client to end the TCP connection; got "
                        + rest.size() + " more bytes", e);
            } catch (SocketException e) {
                return rest.toByteArray(); // reset by the client: the connection is gone
            } catch (IOException e) {
                throw new AssertionError("read failed: " + e, e);
            }
        }

        /** Checks that the client sends nothing and keeps the connection open for {@code ms}. */
        public void assertSilentFor(long ms) {
            try {
                socket.setSoTimeout((int) ms);
                int b = in.read();
                throw new AssertionError(b < 0 ? "the client closed the connection"
                        : "the client sent a byte: 0x" + Integer.toHexString(b));
            } catch (SocketTimeoutException expected) {
                // silent as required
            } catch (IOException e) {
                throw new AssertionError("read failed: " + e, e);
            } finally {
                try {
                    socket.setSoTimeout(READ_TIMEOUT_MS);
                } catch (SocketException ignored) {
                    // socket gone
                }
            }
        }

        /** Half-closes: sends FIN, keeps reading possible. */
        public void shutdownOutput() {
            try {
                socket.shutdownOutput();
            } catch (IOException e) {
                throw new AssertionError(e);
            }
        }

        /** Aborts the connection with a TCP reset. */
        public void reset() {
            Sockets.reset(socket);
        }

        /** Closes the connection (FIN). Idempotent. */
        @Override
        public void close() {
            Sockets.closeQuietly(socket);
        }

        private int readByte(String what) {
            try {
                int b = in.read();
                if (b < 0) {
                    throw new AssertionError("the client closed the connection while the server expected " + what);
                }
                return b;
            } catch (SocketTimeoutException e) {
                throw new AssertionError("Timed out after " + READ_TIMEOUT_MS + " ms waiting for " + what, e);
            } catch (IOException e) {
                throw new AssertionError("read failed while expecting " + what + ": " + e, e);
            }
        }

        private void readFully(byte[] b, String what) {
            int off = 0;
            try {
                while (off < b.length) {
                    int n = in.read(b, off, b.length - off);
                    if (n < 0) {
                        throw new EOFException();
                    }
                    off += n;
                }
            } catch (SocketTimeoutException e) {
                throw new AssertionError("Timed out after " + READ_TIMEOUT_MS + " ms reading " + what, e);
            } catch (IOException e) {
                throw new AssertionError("connection ended after " + off + " of " + b.length + " bytes of " + what, e);
            }
        }
    }
}
