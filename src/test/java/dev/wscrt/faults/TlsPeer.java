package dev.wscrt.faults;

import dev.wscrt.testing.Await;
import dev.wscrt.testing.Hex;
import dev.wscrt.testing.ScriptedServer;
import dev.wscrt.testing.Sockets;
import dev.wscrt.tls.TestCertificates;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLException;

/**
 * A scripted TLS server on 127.0.0.1: the JDK's own TLS ({@link SSLEngine}) over a blocking socket that
 * the test thread drives, so that a script can do what no well-behaved server does: drop the TCP
 * connection without close_notify in the middle of a message, write bytes after close_notify, tamper
 * with a record, ask for a renegotiation, or write raw bytes at any moment. Certificates are made at
 * test time ({@link TestCertificates}). Every read is bounded by a socket timeout.
 *
 * <pre>{@code
 * try (TlsPeer peer = TlsPeer.start(TlsPeer.context(certs.server(), certs.ca()), "TLSv1.3")) {
 *     ... connect wss to peer.port() ...
 *     TlsPeer.Conn c = peer.accept();
 *     c.handshake();
 *     c.answerUpgrade();
 *     c.writePlain(frameBytes);
 *     c.finWithoutCloseNotify();
 * }
 * }</pre>
 */
final class TlsPeer implements AutoCloseable {

    private static final int READ_TIMEOUT_MS = (int) Await.DEFAULT_TIMEOUT.toMillis();
    private static final char[] PASSWORD = "test".toCharArray();

    private final ServerSocket listener;
    private final SSLContext context;
    private final String[] protocols;

    private TlsPeer(SSLContext context, String[] protocols) throws IOException {
        this.context = context;
        this.protocols = protocols;
        listener = new ServerSocket();
        listener.bind(new InetSocketAddress(Loopback.address(), 0), 50);
        listener.setSoTimeout(READ_TIMEOUT_MS);
    }

    /** Listens on 127.0.0.1 with {@code context}, offering only {@code protocols} (e.g. "TLSv1.2"). */
    static TlsPeer start(SSLContext context, String... protocols) {
        try {
            return new TlsPeer(context, protocols);
        } catch (IOException e) {
            throw new AssertionError("cannot listen on 127.0.0.1", e);
        }
    }

    /** A server context presenting {@code leaf} and then {@code chain} (each signed by the next). */
    static SSLContext context(TestCertificates.Issued leaf, X509Certificate... chain) {
        try {
            X509Certificate[] certificates = new X509Certificate[chain.length + 1];
            certificates[0] = leaf.certificate();
            System.arraycopy(chain, 0, certificates, 1, chain.length);
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setKeyEntry("server", leaf.privateKey(), PASSWORD, certificates);
            KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            keys.init(store, PASSWORD);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(keys.getKeyManagers(), null, null);
            return context;
        } catch (Exception e) {
            throw new AssertionError("cannot make a server TLS context", e);
        }
    }

    int port() {
        return listener.getLocalPort();
    }

    /** Accepts the next TCP connection (bounded wait); no TLS yet. */
    Conn accept() {
        try {
            Socket s = listener.accept();
            s.setSoTimeout(READ_TIMEOUT_MS);
            s.setTcpNoDelay(true);
            SSLEngine engine = context.createSSLEngine();
            engine.setUseClientMode(false);
            engine.setEnabledProtocols(protocols);
            return new Conn(s, engine);
        } catch (SocketTimeoutException e) {
            throw new AssertionError("no TCP connection to the TLS peer within " + READ_TIMEOUT_MS + " ms", e);
        } catch (IOException e) {
            throw new AssertionError("accept failed: " + e, e);
        }
    }

    @Override
    public void close() {
        Sockets.closeQuietly(listener);
    }

    /** One TLS connection, driven from the test thread. */
    static final class Conn implements AutoCloseable {
        private final Socket socket;
        private final SSLEngine engine;
        private final InputStream in;
        private final OutputStream out;
        private ByteBuffer netIn = ByteBuffer.allocate(64 * 1024).flip(); // ciphertext read, not yet unwrapped
        private final ByteArrayOutputStream plain = new ByteArrayOutputStream(); // plaintext not yet consumed
        private String secWebSocketKey;

        Conn(Socket socket, SSLEngine engine) throws IOException {
            this.socket = socket;
            this.engine = engine;
            this.in = socket.getInputStream();
            this.out = socket.getOutputStream();
        }

        SSLEngine engine() {
            return engine;
        }

        /** Runs the server side of the handshake to its end (or fails with what the engine said). */
        void handshake() {
            try {
                engine.beginHandshake();
                drive();
            } catch (IOException e) {
                throw new AssertionError("server TLS handshake failed: " + e, e);
            }
        }

        /** Asks for a new handshake on an established TLS 1.2 connection (sends HelloRequest). */
        void requestRenegotiation() {
            try {
                engine.beginHandshake();
                wrapAndSend(ByteBuffer.allocate(0));
            } catch (IOException e) {
                throw new AssertionError("cannot ask for a renegotiation: " + e, e);
            }
        }

        private void drive() throws IOException {
            for (int step = 0; step < 1000; step++) {
                switch (engine.getHandshakeStatus()) {
                    case NEED_WRAP -> wrapAndSend(ByteBuffer.allocate(0));
                    case NEED_UNWRAP, NEED_UNWRAP_AGAIN -> unwrapSome();
                    case NEED_TASK -> {
                        Runnable task;
                        while ((task = engine.getDelegatedTask()) != null) {
                            task.run();
                        }
                    }
                    case FINISHED, NOT_HANDSHAKING -> {
                        return;
                    }
                    default -> throw new AssertionError(engine.getHandshakeStatus());
                }
            }
            throw new AssertionError("the server handshake did not finish in 1000 steps");
        }

        /** Wraps {@code data} (or a handshake message) into records and writes them; returns what was written. */
        byte[] wrapAndSend(ByteBuffer data) throws IOException {
            byte[] records = wrap(data);
            out.write(records);
            out.flush();
            return records;
        }

        /** Wraps {@code data} into records without sending them. */
        byte[] wrap(ByteBuffer data) throws SSLException {
            ByteArrayOutputStream records = new ByteArrayOutputStream();
            ByteBuffer netOut = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
            do {
                netOut.clear();
                SSLEngineResult r = engine.wrap(data, netOut);
                if (r.getStatus() == SSLEngineResult.Status.BUFFER_OVERFLOW) {
                    netOut = ByteBuffer.allocate(netOut.capacity() * 2);
                    continue;
                }
                records.write(netOut.array(), 0, netOut.position());
                if (r.getStatus() == SSLEngineResult.Status.CLOSED || r.bytesProduced() == 0) {
                    break;
                }
                if (r.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NEED_TASK) {
                    Runnable task;
                    while ((task = engine.getDelegatedTask()) != null) {
                        task.run();
                    }
                }
            } while (data.hasRemaining() || engine.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NEED_WRAP);
            return records.toByteArray();
        }

        /** Unwraps at least one record, reading from the socket when needed; plaintext goes to the buffer. */
        private void unwrapSome() throws IOException {
            ByteBuffer app = ByteBuffer.allocate(engine.getSession().getApplicationBufferSize());
            while (true) {
                SSLEngineResult r = engine.unwrap(netIn, app);
                switch (r.getStatus()) {
                    case OK, CLOSED -> {
                        plain.write(app.array(), 0, app.position());
                        return;
                    }
                    case BUFFER_UNDERFLOW -> readMoreCiphertext();
                    case BUFFER_OVERFLOW -> app = ByteBuffer.allocate(app.capacity() * 2);
                    default -> throw new AssertionError(r);
                }
            }
        }

        private void readMoreCiphertext() throws IOException {
            byte[] chunk = new byte[16 * 1024 + 512];
            int n = in.read(chunk);
            if (n < 0) {
                throw new java.io.EOFException("the client closed the TCP connection");
            }
            appendCiphertext(Arrays.copyOf(chunk, n));
        }

        private void appendCiphertext(byte[] bytes) {
            ByteBuffer grown = ByteBuffer.allocate(netIn.remaining() + bytes.length);
            grown.put(netIn).put(bytes).flip();
            netIn = grown;
        }

        /** Reads one whole TLS record from the socket without decrypting it (header included). */
        byte[] readRawRecord() {
            try {
                byte[] header = in.readNBytes(5);
                if (header.length < 5) {
                    throw new AssertionError("the client closed the connection instead of sending a record");
                }
                int length = ((header[3] & 0xff) << 8) | (header[4] & 0xff);
                byte[] body = in.readNBytes(length);
                return Hex.concat(header, body);
            } catch (IOException e) {
                throw new AssertionError("reading a record failed: " + e, e);
            }
        }

        /** Feeds a record (maybe tampered with) to the engine as if it had come from the socket. */
        void unwrapRecord(byte[] record) throws IOException {
            appendCiphertext(record);
            unwrapSome();
        }

        /** Reads plaintext until the HTTP request head is complete; answers nothing. */
        String readRequest() {
            try {
                for (int i = 0; i < 100 && !plainText().contains("\r\n\r\n"); i++) {
                    unwrapSome();
                }
            } catch (IOException e) {
                throw new AssertionError("reading the upgrade request failed: " + e, e);
            }
            String head = plainText();
            if (!head.contains("\r\n\r\n")) {
                throw new AssertionError("no complete request head: " + head);
            }
            for (String line : head.split("\r\n")) {
                if (line.regionMatches(true, 0, "Sec-WebSocket-Key:", 0, 18)) {
                    secWebSocketKey = line.substring(18).trim();
                }
            }
            plain.reset();
            return head;
        }

        /** Reads the upgrade request and answers 101, with {@code thenBytes} in the same records. */
        void answerUpgrade(byte[] thenBytes) {
            readRequest();
            String head = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Accept: " + ScriptedServer.acceptFor(secWebSocketKey) + "\r\n\r\n";
            writePlain(Hex.concat(head.getBytes(StandardCharsets.US_ASCII), thenBytes));
        }

        void answerUpgrade() {
            answerUpgrade(new byte[0]);
        }

        /** Reads (decrypting) one masked client frame of at most 65535 payload bytes. */
        dev.wscrt.testing.ReceivedFrame readClientFrame() {
            byte[] head = readPlain(2);
            int len = head[1] & 0x7f;
            byte[] ext = len == 126 ? readPlain(2) : new byte[0];
            if (len == 127) {
                throw new AssertionError("client frame too long for the TLS peer");
            }
            if (len == 126) {
                len = ((ext[0] & 0xff) << 8) | (ext[1] & 0xff);
            }
            byte[] mask = (head[1] & 0x80) != 0 ? readPlain(4) : new byte[0];
            byte[] payload = readPlain(len);
            for (int i = 0; i < payload.length && mask.length == 4; i++) {
                payload[i] ^= mask[i & 3];
            }
            return new dev.wscrt.testing.ReceivedFrame(head[0] & 0x0f, (head[0] & 0x80) != 0, (head[0] >> 4) & 7,
                    mask.length == 4, len, payload);
        }

        /** The next {@code n} plaintext bytes, decrypting records as needed. */
        private byte[] readPlain(int n) {
            try {
                for (int i = 0; i < 1000 && plain.size() < n; i++) {
                    unwrapSome();
                }
            } catch (IOException e) {
                throw new AssertionError("reading from the client failed: " + e, e);
            }
            byte[] all = plain.toByteArray();
            if (all.length < n) {
                throw new AssertionError("only " + all.length + " of " + n + " plaintext bytes arrived");
            }
            plain.reset();
            plain.write(all, n, all.length - n);
            return Arrays.copyOf(all, n);
        }

        /** Encrypts and writes {@code bytes}. */
        void writePlain(byte[] bytes) {
            try {
                wrapAndSend(ByteBuffer.wrap(bytes));
            } catch (IOException e) {
                throw new AssertionError("writing over TLS failed: " + e, e);
            }
        }

        /** Writes bytes as they are, outside TLS. */
        boolean writeRaw(byte[] bytes) {
            return ScriptedServer.tryWrite(out, bytes);
        }

        /** Sends close_notify (and nothing else). */
        void closeNotify() {
            engine.closeOutbound();
            try {
                wrapAndSend(ByteBuffer.allocate(0));
            } catch (IOException e) {
                throw new AssertionError("sending close_notify failed: " + e, e);
            }
        }

        /** Ends the TCP stream (FIN) without close_notify. */
        void finWithoutCloseNotify() {
            try {
                socket.shutdownOutput();
            } catch (IOException e) {
                throw new AssertionError(e);
            }
        }

        /** Aborts the TCP connection with a reset. */
        void reset() {
            Sockets.reset(socket);
        }

        /** Reads the client's raw bytes until it ends the TCP connection (bounded); returns how many. */
        int awaitEof() {
            byte[] sink = new byte[8192];
            int total = 0;
            long deadline = System.nanoTime() + Await.DEFAULT_TIMEOUT.toNanos();
            try {
                while (System.nanoTime() - deadline < 0) {
                    int n = in.read(sink);
                    if (n < 0) {
                        return total;
                    }
                    total += n;
                }
                throw new AssertionError("the client kept the connection open for 10 s");
            } catch (SocketTimeoutException e) {
                throw new AssertionError("the client did not end the TCP connection within " + READ_TIMEOUT_MS
                        + " ms", e);
            } catch (IOException reset) {
                return total;
            }
        }

        private String plainText() {
            return plain.toString(StandardCharsets.ISO_8859_1);
        }

        @Override
        public void close() {
            Sockets.closeQuietly(socket);
        }
    }
}
