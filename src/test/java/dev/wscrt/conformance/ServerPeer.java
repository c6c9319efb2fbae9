package dev.wscrt.conformance;

import dev.wscrt.testing.ReceivedFrame;
import dev.wscrt.testing.ScriptedServer;
import dev.wscrt.testing.Sockets;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * The conformance server's side of one case: a raw TCP connection on 127.0.0.1 that answers the HTTP
 * upgrade itself, writes exact bytes cut into TCP writes as the case asks ({@link Chop}), and reads the
 * client's frames on a thread of its own.
 *
 * <p>Every client frame is checked (RFC 6455 5.1-5.5 and 7.4 for a client): masked, RSV bits 0, a
 * known opcode, minimal length encoding, control frames final and at most 125 bytes, CONTINUATION only
 * inside a message, no data frame while a message is open, TEXT messages valid UTF-8, a CLOSE payload
 * empty or a sendable status code with a UTF-8 reason, nothing after CLOSE. Each breach is a
 * {@link #violations() violation}, which fails the case whatever else happened. What the client sends
 * goes to the {@link #trace() trace} (messages reassembled, PONGs, PINGs), except its CLOSE, kept apart.
 *
 * <p>Threads: the case script calls the send, mark and await methods on the case thread; the reader
 * thread appends to the trace. Shared state is guarded by {@code lock}.
 */
final class ServerPeer implements AutoCloseable {
    /** The client sends its request head right after connecting; 5 s bounds a client that does not. */
    private static final int HANDSHAKE_READ_TIMEOUT_MS = 5000;
    /** A request head is a few hundred bytes; refusing more keeps a broken client from filling memory. */
    private static final int MAX_REQUEST_HEAD = 16 * 1024;
    /** The largest client frame the server reads: twice the largest message a case sends. */
    private static final long MAX_CLIENT_FRAME = 64L << 20;

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    private final Thread reader;

    private final Object lock = new Object();
    private final List<TraceEvent> trace = new ArrayList<>(); // guarded by lock
    private final List<String> violations = new ArrayList<>(); // guarded by lock
    private ReceivedFrame clientClose; // guarded by lock
    private long clientCloseNanos; // guarded by lock
    private String end; // guarded by lock: how the client's side ended, null while open
    private long framesReceived; // guarded by lock

    private final SentFrames sent = new SentFrames(); // case thread only
    private volatile Consumer<TraceEvent.Message> messageSink;
    private volatile String writeFailure;
    private volatile boolean serverCloseSent;
    private volatile boolean closing;
    private String requestHead = "";

    ServerPeer(Socket socket) throws IOException {
        this.socket = socket;
        socket.setTcpNoDelay(true);
        this.in = new BufferedInputStream(socket.getInputStream(), 64 * 1024);
        this.out = socket.getOutputStream();
        this.reader = new Thread(this::readLoop, "conformance-reader-" + socket.getPort());
        this.reader.setDaemon(true);
    }

    // ---- the upgrade ------------------------------------------------------------------------

    /**
     * Reads the upgrade request, checks it (RFC 6455 4.1), answers 101 with the right
     * Sec-WebSocket-Accept, and starts reading frames. Problems with the request are violations; a
     * request without a key cannot be answered and throws.
     */
    void handshake() throws IOException {
        socket.setSoTimeout(HANDSHAKE_READ_TIMEOUT_MS);
        requestHead = readRequestHead();
        String[] lines = requestHead.split("\r\n");
        if (!lines[0].matches("GET /\\S* HTTP/1\\.1")) {
            violation("handshake: request line is '" + lines[0] + "', not 'GET <path> HTTP/1.1'");
        }
        String key = header(lines, "Sec-WebSocket-Key");
        String host = header(lines, "Host");
        String upgrade = header(lines, "Upgrade");
        String connection = header(lines, "Connection");
        String version = header(lines, "Sec-WebSocket-Version");
        if (host == null || host.isEmpty()) {
            violation("handshake: no Host header");
        }
        if (upgrade == null || !upgrade.trim().equalsIgnoreCase("websocket")) {
            violation("handshake: Upgrade is '" + upgrade + "', not 'websocket'");
        }
        if (connection == null || List.of(connection.toLowerCase(Locale.ROOT).split(",")).stream()
                .noneMatch(token -> token.trim().equals("upgrade"))) {
            violation("handshake: Connection '" + connection + "' lacks the 'Upgrade' token");
        }
        if (!"13".equals(version == null ? null : version.trim())) {
            violation("handshake: Sec-WebSocket-Version is '" + version + "', not 13");
        }
        if (key == null) {
            throw new IOException("the upgrade request has no Sec-WebSocket-Key:\n" + requestHead);
        }
        try {
            if (Base64.getDecoder().decode(key.trim()).length != 16) {
                violation("handshake: Sec-WebSocket-Key '" + key + "' does not decode to 16 bytes");
            }
        } catch (IllegalArgumentException e) {
            violation("handshake: Sec-WebSocket-Key '" + key + "' is not base64");
        }
        String response = "HTTP/1.1 101 Switching Protocols\r\n"
                + "Upgrade: websocket\r\n"
                + "Connection: Upgrade\r\n"
                + "Sec-WebSocket-Accept: " + ScriptedServer.acceptFor(key.trim()) + "\r\n"
                + "\r\n";
        out.write(response.getBytes(StandardCharsets.US_ASCII));
        out.flush();
        socket.setSoTimeout(0); // from here every wait is bounded on the waiting side
        reader.start();
    }

    private String readRequestHead() throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        byte[] end = {'\r', '\n', '\r', '\n'};
        while (matched < 4) {
            int b = in.read();
            if (b < 0) {
                throw new EOFException("the client closed the connection during its upgrade request");
            }
            head.write(b);
            matched = b == end[matched] ? matched + 1 : (b == '\r' ? 1 : 0);
            if (head.size() > MAX_REQUEST_HEAD) {
                throw new IOException("upgrade request head longer than " + MAX_REQUEST_HEAD + " bytes");
            }
        }
        return head.toString(StandardCharsets.ISO_8859_1);
    }

    private static String header(String[] lines, String name) {
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            if (colon > 0 && lines[i].substring(0, colon).trim().equalsIgnoreCase(name)) {
                return lines[i].substring(colon + 1).trim();
            }
        }
        return null;
    }

    // ---- writing ----------------------------------------------------------------------------

    /**
     * Writes {@code data} cut as {@code chop} says. Returns false, and writes nothing more for the rest
     * of the case, once a write failed (the client has closed the connection: expected after it failed
     * the connection).
     */
    boolean send(byte[] data, Chop chop) {
        if (writeFailure != null) {
            return false;
        }
        sent.feed(data);
        try {
            int offset = 0;
            while (offset < data.length) {
                int n = Math.min(chop.size(), data.length - offset);
                out.write(data, offset, n);
                offset += n;
                if (chop.pauseNanos() > 0 && offset < data.length) {
                    LockSupport.parkNanos(chop.pauseNanos());
                }
            }
            out.flush();
            return true;
        } catch (IOException e) {
            writeFailure = e.toString();
            return false;
        }
    }

    /** Sends a CLOSE from the server (the case's own close, or the one that ends a passing case). */
    void sendClose(byte[] closeFrame) {
        serverCloseSent = true;
        send(closeFrame, Chop.WHOLE);
    }

    boolean serverCloseSent() {
        return serverCloseSent;
    }

    /** The control frames written to the client, up to and including the first CLOSE. */
    List<ControlFrame> sentControlFrames() {
        return sent.controlFrames();
    }

    /** Why a write failed (the client was gone), or null. */
    String writeFailure() {
        return writeFailure;
    }

    // ---- what the client did ----------------------------------------------------------------

    /** Routes messages to {@code sink} instead of the trace (for cases with many thousand messages). */
    void divertMessages(Consumer<TraceEvent.Message> sink) {
        messageSink = sink;
    }

    List<TraceEvent> trace() {
        synchronized (lock) {
            return List.copyOf(trace);
        }
    }

    List<String> violations() {
        synchronized (lock) {
            return List.copyOf(violations);
        }
    }

    /** The client's CLOSE frame, or null. */
    ReceivedFrame clientClose() {
        synchronized (lock) {
            return clientClose;
        }
    }

    /** When the client's CLOSE arrived ({@link System#nanoTime()}), or 0. */
    long clientCloseNanos() {
        synchronized (lock) {
            return clientCloseNanos;
        }
    }

    /** How the client's side of the TCP connection ended ("EOF", "reset: ..."), or null while open. */
    String end() {
        synchronized (lock) {
            return end;
        }
    }

    long framesReceived() {
        synchronized (lock) {
            return framesReceived;
        }
    }

    /** The client sent its CLOSE or ended the TCP connection. */
    boolean clientEnded() {
        synchronized (lock) {
            return clientClose != null || end != null;
        }
    }

    /** Waits up to {@code ms} for the client's CLOSE or the end of its TCP stream; true if it came. */
    boolean awaitClientEnd(long ms) {
        return await(ms, () -> clientClose != null || end != null);
    }

    /** Waits up to {@code ms} for the end of the client's TCP stream; true if it came. */
    boolean awaitEof(long ms) {
        return await(ms, () -> end != null);
    }

    /** Waits up to {@code ms} until the trace holds {@code size} events or the client ended. */
    boolean awaitTrace(int size, long ms) {
        return await(ms, () -> trace.size() >= size || clientClose != null || end != null);
    }

    /**
     * Waits up to {@code ms} for {@code condition} (evaluated under the lock, re-checked on every client
     * frame and at least every 10 ms); true if it held.
     */
    boolean await(long ms, BooleanSupplier condition) {
        long deadline = System.nanoTime() + ms * 1_000_000L;
        synchronized (lock) {
            while (!condition.getAsBoolean()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                try {
                    lock.wait(Math.max(1, Math.min(10, left / 1_000_000L)));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return condition.getAsBoolean();
                }
            }
            return true;
        }
    }

    /**
     * A checkpoint: waits up to {@code ms} for the client to fail the connection; if it has not, adds
     * {@link TraceEvent.Mark} {@code name} to the trace (as Autobahn's "timeout" events).
     */
    void mark(String name, long ms) {
        if (!awaitClientEnd(ms)) {
            synchronized (lock) {
                if (clientClose == null && end == null) {
                    trace.add(new TraceEvent.Mark(name));
                    lock.notifyAll();
                }
            }
        }
    }

    // ---- the reader thread ------------------------------------------------------------------

    private void readLoop() {
        int messageOpcode = -1;
        ByteArrayOutputStream message = null;
        try {
            while (true) {
                int b0 = in.read();
                if (b0 < 0) {
                    ended("EOF");
                    return;
                }
                int b1 = readByte();
                boolean fin = (b0 & 0x80) != 0;
                int rsv = (b0 >> 4) & 7;
                int opcode = b0 & 0x0F;
                boolean masked = (b1 & 0x80) != 0;
                long length = b1 & 0x7F;
                boolean control = opcode >= 8;
                if (length == 126) {
                    length = ((long) readByte() << 8) | readByte();
                    if (length < 126) {
                        violation("16-bit length field for a " + length + "-byte payload (not minimal)");
                    }
                } else if (length == 127) {
                    length = 0;
                    for (int i = 0; i < 8; i++) {
                        length = (length << 8) | readByte();
                    }
                    if (length < 0) {
                        violation("64-bit length with the most significant bit set");
                        ended("stopped reading after an invalid length");
                        return;
                    }
                    if (length <= 0xFFFF) {
                        violation("64-bit length field for a " + length + "-byte payload (not minimal)");
                    }
                }
                String name = ReceivedFrame.opcodeName(opcode);
                if (!masked) {
                    violation(name + " frame not masked");
                }
                if (rsv != 0) {
                    violation(name + " frame with RSV bits " + rsv);
                }
                if (!(opcode <= 2 || (opcode >= 8 && opcode <= 10))) {
                    violation("frame with reserved opcode " + opcode);
                }
                if (control && !fin) {
                    violation(name + " frame without FIN");
                }
                if (control && length > 125) {
                    violation(name + " frame with a " + length + "-byte payload");
                }
                if (length > MAX_CLIENT_FRAME) {
                    violation(name + " frame of " + length + " bytes, more than any case provokes");
                    ended("stopped reading after an oversized frame");
                    return;
                }
                byte[] key = new byte[4];
                if (masked) {
                    readFully(key);
                }
                byte[] payload = new byte[(int) length];
                readFully(payload);
                if (masked) {
                    unmask(payload, key);
                }
                boolean afterClose;
                synchronized (lock) {
                    framesReceived++;
                    afterClose = clientClose != null;
                }
                if (afterClose) {
                    violation(name + " frame after the client's CLOSE");
                    continue;
                }
                switch (opcode) {
                    case Frames.TEXT, Frames.BINARY -> {
                        if (message != null) {
                            violation(name + " frame while a message was open (CONTINUATION expected)");
                        }
                        if (fin) {
                            deliver(opcode, payload);
                            message = null;
                        } else {
                            messageOpcode = opcode;
                            message = new ByteArrayOutputStream(Math.max(64, payload.length * 2));
                            message.writeBytes(payload);
                        }
                    }
                    case Frames.CONTINUATION -> {
                        if (message == null) {
                            violation("CONTINUATION frame with no message open");
                        } else {
                            message.writeBytes(payload);
                            if (fin) {
                                deliver(messageOpcode, message.toByteArray());
                                message = null;
                            }
                        }
                    }
                    case Frames.PING, Frames.PONG -> event(new TraceEvent.Control(opcode, payload));
                    case Frames.CLOSE -> clientClosed(new ReceivedFrame(opcode, fin, rsv, masked, length, payload));
                    default -> {
                        // a reserved opcode: already a violation
                    }
                }
            }
        } catch (IOException e) {
            ended(closing ? "closed by the server" : e instanceof EOFException ? "EOF inside a frame" : "reset ("
                    + e.getMessage() + ")");
        }
    }

    private void deliver(int opcode, byte[] payload) {
        if (opcode == Frames.TEXT && Utf8.invalidAt(payload) != Utf8.VALID) {
            violation("TEXT message that is not valid UTF-8 (" + TraceEvent.describe(payload) + ")");
        }
        TraceEvent.Message m = new TraceEvent.Message(opcode, payload);
        Consumer<TraceEvent.Message> sink = messageSink;
        if (sink != null) {
            sink.accept(m);
            synchronized (lock) {
                lock.notifyAll();
            }
        } else {
            event(m);
        }
    }

    private void clientClosed(ReceivedFrame close) {
        byte[] p = close.payload();
        if (p.length == 1) {
            violation("CLOSE with a 1-byte payload");
        } else if (p.length >= 2) {
            int code = close.closeCode();
            if (!CloseCodes.sendable(code)) {
                violation("CLOSE with status code " + code + ", which must not be sent");
            }
            byte[] reason = new byte[p.length - 2];
            System.arraycopy(p, 2, reason, 0, reason.length);
            if (Utf8.invalidAt(reason) != Utf8.VALID) {
                violation("CLOSE reason that is not valid UTF-8");
            }
        }
        synchronized (lock) {
            clientClose = close;
            clientCloseNanos = System.nanoTime();
            lock.notifyAll();
        }
    }

    private void event(TraceEvent e) {
        synchronized (lock) {
            if (clientClose == null) {
                trace.add(e);
            }
            lock.notifyAll();
        }
    }

    private void violation(String what) {
        synchronized (lock) {
            if (violations.size() < 20) {
                violations.add(what);
            }
            lock.notifyAll();
        }
    }

    private void ended(String how) {
        synchronized (lock) {
            if (end == null) {
                end = how;
            }
            lock.notifyAll();
        }
    }

    private static void unmask(byte[] payload, byte[] key) {
        int k = ((key[0] & 0xFF) << 24) | ((key[1] & 0xFF) << 16) | ((key[2] & 0xFF) << 8) | (key[3] & 0xFF);
        int i = 0;
        for (; i + 4 <= payload.length; i += 4) {
            payload[i] ^= (byte) (k >>> 24);
            payload[i + 1] ^= (byte) (k >>> 16);
            payload[i + 2] ^= (byte) (k >>> 8);
            payload[i + 3] ^= (byte) k;
        }
        for (; i < payload.length; i++) {
            payload[i] ^= key[i & 3];
        }
    }

    private int readByte() throws IOException {
        int b = in.read();
        if (b < 0) {
            throw new EOFException();
        }
        return b;
    }

    private void readFully(byte[] b) throws IOException {
        int off = 0;
        while (off < b.length) {
            int n = in.read(b, off, b.length - off);
            if (n < 0) {
                throw new EOFException();
            }
            off += n;
        }
    }

    /** The upgrade request head as received. */
    String requestHead() {
        return requestHead;
    }

    /** Closes the TCP connection (unblocking any write) and waits briefly for the reader thread. */
    @Override
    public void close() {
        closing = true;
        Sockets.closeQuietly(socket);
        if (reader.isAlive()) {
            try {
                reader.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
