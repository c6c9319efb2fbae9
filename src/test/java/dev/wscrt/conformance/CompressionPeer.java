package dev.wscrt.conformance;

import dev.wscrt.testing.Sockets;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Base64;
import java.util.Locale;
import java.util.zip.DataFormatException;
import java.util.zip.Deflater;
import java.util.zip.Inflater;

/**
 * The server side of a compression case (families 12 and 13): answers the upgrade accepting
 * permessage-deflate as the case's policy says, compresses each message it sends (java.util.zip's raw
 * DEFLATE with a sync flush, the 00 00 ff ff tail removed, RFC 7692 7.2.1) and cuts it into frames of the
 * case's auto-fragment size (RSV1 on the first only), and reads the client's echo: every frame masked,
 * RSV1 only on a message's first frame, RSV2/RSV3 never, then inflated with the window and context rules
 * that were negotiated for the client.
 *
 * <p>With a server window below 15 bits the compressor uses Huffman coding only (no back-references), so
 * it never reaches beyond the window it agreed to; java.util.zip has no window-size setting.
 *
 * <p>Threads: one case thread; every read is bounded by the socket's timeout.
 */
final class CompressionPeer implements AutoCloseable {
    /** What a server answers to the client's offer. */
    record Accept(boolean clientNoContextTakeover, int clientMaxWindowBits) {
        static final Accept PLAIN = new Accept(false, 0);
    }

    /** A message the client sent back, and how it arrived. */
    record Echo(int opcode, byte[] payload, boolean compressed, int frames, long wireBytes) {
    }

    private static final String GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    /** Larger than any echo a case expects (128 KiB messages). */
    private static final int MAX_MESSAGE = 4 << 20;

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    private String offer = "";
    private String answer = "";
    private boolean serverNoContextTakeover;
    private int serverWindowBits = 15;
    private boolean clientNoContextTakeover;
    private Deflater deflater;
    private Inflater inflater;
    private long wireBytesSent;

    CompressionPeer(Socket socket, int readTimeoutMs) throws IOException {
        this.socket = socket;
        socket.setSoTimeout(readTimeoutMs);
        socket.setTcpNoDelay(true);
        this.in = new java.io.BufferedInputStream(socket.getInputStream(), 1 << 16);
        this.out = socket.getOutputStream();
    }

    /** The client's Sec-WebSocket-Extensions offer, as sent. */
    String offer() {
        return offer;
    }

    /** The server's answer, as sent. */
    String answer() {
        return answer;
    }

    long wireBytesSent() {
        return wireBytesSent;
    }

    /**
     * Reads the upgrade request and answers 101, accepting the client's permessage-deflate offer with
     * {@code accept} (echoing the server parameters the client requested, as RFC 7692 requires).
     *
     * @throws IOException when the request is not a WebSocket upgrade offering permessage-deflate
     */
    void handshake(Accept accept) throws IOException {
        String head = readHead();
        String key = header(head, "Sec-WebSocket-Key");
        offer = header(head, "Sec-WebSocket-Extensions");
        if (key == null || offer == null || !offer.toLowerCase(Locale.ROOT).startsWith("permessage-deflate")) {
            throw new IOException("no permessage-deflate offer in:\n" + head);
        }
        StringBuilder reply = new StringBuilder("permessage-deflate");
        for (String raw : offer.split(";")) {
            String param = raw.trim().toLowerCase(Locale.ROOT);
            if (param.equals("server_no_context_takeover")) {
                serverNoContextTakeover = true;
                reply.append("; server_no_context_takeover");
            } else if (param.startsWith("server_max_window_bits=")) {
                serverWindowBits = Integer.parseInt(param.substring(param.indexOf('=') + 1));
                reply.append("; server_max_window_bits=").append(serverWindowBits);
            } else if (param.equals("client_no_context_takeover")) {
                clientNoContextTakeover = true;
            }
        }
        if (accept.clientNoContextTakeover()) {
            clientNoContextTakeover = true;
            reply.append("; client_no_context_takeover");
        }
        if (accept.clientMaxWindowBits() != 0) {
            reply.append("; client_max_window_bits=").append(accept.clientMaxWindowBits());
        }
        answer = reply.toString();
        write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Accept: " + acceptFor(key) + "\r\nSec-WebSocket-Extensions: " + answer
                + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        deflater = new Deflater(6, true);
        if (serverWindowBits < 15) {
            deflater.setStrategy(Deflater.HUFFMAN_ONLY);
        }
        inflater = new Inflater(true);
    }

    /** Compresses {@code payload} as one message and writes it in frames of at most {@code fragment} bytes. */
    void sendCompressed(int opcode, byte[] payload, int fragment) throws IOException {
        if (serverNoContextTakeover) {
            deflater.reset();
        }
        byte[] compressed = deflate(payload);
        int step = fragment > 0 ? fragment : Math.max(compressed.length, 1);
        ByteArrayOutputStream frames = new ByteArrayOutputStream(compressed.length + 64);
        int at = 0;
        do {
            int n = Math.min(step, compressed.length - at);
            boolean first = at == 0;
            boolean fin = at + n == compressed.length;
            writeHeader(frames, (fin ? 0x80 : 0) | (first ? 0x40 | opcode : 0), n);
            frames.write(compressed, at, n);
            at += n;
        } while (at < compressed.length);
        write(frames.toByteArray());
    }

    private byte[] deflate(byte[] payload) {
        deflater.setInput(payload);
        ByteArrayOutputStream compressed = new ByteArrayOutputStream(payload.length / 2 + 64);
        byte[] buffer = new byte[64 * 1024];
        int n;
        do {
            n = deflater.deflate(buffer, 0, buffer.length, Deflater.SYNC_FLUSH);
            compressed.write(buffer, 0, n);
        } while (n == buffer.length || !deflater.needsInput());
        byte[] bytes = compressed.toByteArray();
        int len = bytes.length;
        if (len >= 4 && bytes[len - 4] == 0 && bytes[len - 3] == 0 && bytes[len - 2] == (byte) 0xff
                && bytes[len - 1] == (byte) 0xff) {
            len -= 4;
        }
        return Arrays.copyOf(bytes, len);
    }

    /**
     * Reads the client's next message (control frames in between are not expected and fail it).
     *
     * @throws IOException for a broken frame, naming the rule, or a timeout
     */
    Echo readEcho() throws IOException, DataFormatException {
        ByteArrayOutputStream payload = new ByteArrayOutputStream();
        int opcode = -1;
        boolean compressed = false;
        int frames = 0;
        long wire = 0;
        while (true) {
            int b0 = readByte();
            int b1 = readByte();
            wire += 2;
            int frameOpcode = b0 & 0x0F;
            boolean fin = (b0 & 0x80) != 0;
            if ((b1 & 0x80) == 0) {
                throw new IOException("an unmasked client frame");
            }
            if ((b0 & 0x30) != 0) {
                throw new IOException("RSV2 or RSV3 set");
            }
            if (frameOpcode >= 0x8) {
                throw new IOException("a control frame (opcode " + frameOpcode + ") where an echo was expected");
            }
            boolean rsv1 = (b0 & 0x40) != 0;
            if (frames == 0) {
                if (frameOpcode == 0) {
                    throw new IOException("a CONTINUATION with no message open");
                }
                opcode = frameOpcode;
                compressed = rsv1;
            } else if (frameOpcode != 0) {
                throw new IOException("a new message before the echo ended");
            } else if (rsv1) {
                throw new IOException("RSV1 on a CONTINUATION frame");
            }
            long len = b1 & 0x7F;
            if (len == 126) {
                len = (readByte() << 8) | readByte();
                wire += 2;
            } else if (len == 127) {
                len = 0;
                for (int i = 0; i < 8; i++) {
                    len = (len << 8) | readByte();
                }
                wire += 8;
            }
            if (len > MAX_MESSAGE || payload.size() + len > MAX_MESSAGE) {
                throw new IOException("an echo of more than " + MAX_MESSAGE + " bytes");
            }
            byte[] mask = readFully(4);
            byte[] data = readFully((int) len);
            for (int i = 0; i < data.length; i++) {
                data[i] ^= mask[i & 3];
            }
            wire += 4 + len;
            payload.write(data, 0, data.length);
            frames++;
            if (fin) {
                break;
            }
        }
        byte[] bytes = payload.toByteArray();
        return new Echo(opcode, compressed ? inflate(bytes) : bytes, compressed, frames, wire);
    }

    private byte[] inflate(byte[] compressed) throws DataFormatException {
        if (clientNoContextTakeover) {
            inflater.reset();
        }
        byte[] input = Arrays.copyOf(compressed, compressed.length + 4);
        input[compressed.length + 2] = (byte) 0xff;
        input[compressed.length + 3] = (byte) 0xff;
        inflater.setInput(input);
        ByteArrayOutputStream out = new ByteArrayOutputStream(compressed.length * 4 + 64);
        byte[] buffer = new byte[64 * 1024];
        while (true) {
            int n = inflater.inflate(buffer);
            out.write(buffer, 0, n);
            if (n == 0) {
                break; // needs input (all inflated), finished, or stuck: the comparison judges
            }
            if (out.size() > MAX_MESSAGE) {
                throw new DataFormatException("the echo inflates past " + MAX_MESSAGE + " bytes");
            }
        }
        return out.toByteArray();
    }

    /** Sends CLOSE 1000 and reads the client's CLOSE; returns its status code (-1: none, 1005: empty). */
    int closeHandshake() throws IOException {
        write(new byte[] {(byte) 0x88, 2, 0x03, (byte) 0xE8});
        int b0 = readByte();
        int b1 = readByte();
        int len = b1 & 0x7F;
        if ((b0 & 0x0F) != 0x8 || len > 125) {
            return -1;
        }
        byte[] mask = readFully(4);
        byte[] data = readFully(len);
        for (int i = 0; i < data.length; i++) {
            data[i] ^= mask[i & 3];
        }
        return len >= 2 ? ((data[0] & 0xFF) << 8) | (data[1] & 0xFF) : 1005;
    }

    private static void writeHeader(ByteArrayOutputStream out, int b0, int len) {
        out.write(b0);
        if (len < 126) {
            out.write(len);
        } else if (len < 65536) {
            out.write(126);
            out.write(len >>> 8);
            out.write(len);
        } else {
            out.write(127);
            for (int shift = 56; shift >= 0; shift -= 8) {
                out.write((int) ((long) len >>> shift));
            }
        }
    }

    private void write(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
        wireBytesSent += bytes.length;
    }

    private int readByte() throws IOException {
        int b = in.read();
        if (b < 0) {
            throw new IOException("the client closed the connection");
        }
        return b;
    }

    private byte[] readFully(int n) throws IOException {
        byte[] b = in.readNBytes(n);
        if (b.length != n) {
            throw new IOException("the client closed the connection mid-frame");
        }
        return b;
    }

    private String readHead() throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (head.size() < 8192) {
            head.write(readByte());
            byte[] b = head.toByteArray();
            int n = b.length;
            if (n >= 4 && b[n - 4] == '\r' && b[n - 3] == '\n' && b[n - 2] == '\r' && b[n - 1] == '\n') {
                return head.toString(StandardCharsets.ISO_8859_1);
            }
        }
        throw new IOException("request head over 8 KiB");
    }

    private static String header(String head, String name) {
        for (String line : head.split("\r\n")) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).trim().equalsIgnoreCase(name)) {
                return line.substring(colon + 1).trim();
            }
        }
        return null;
    }

    private static String acceptFor(String key) {
        try {
            MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
            return Base64.getEncoder().encodeToString(sha1.digest((key + GUID).getBytes(StandardCharsets.US_ASCII)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        if (deflater != null) {
            deflater.end();
        }
        if (inflater != null) {
            inflater.end();
        }
        Sockets.closeQuietly(socket);
    }
}
