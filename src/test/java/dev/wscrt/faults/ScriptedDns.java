package dev.wscrt.faults;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A scripted DNS server (UDP, RFC 1035 messages) for the DNS faults, run inside a private network
 * namespace whose /etc/resolv.conf names it, so no query leaves the machine:
 * <ul>
 *   <li>{@value #SLOW}: an A record 127.0.0.1 (and no AAAA), answered after {@link #SLOW_MS} ms;</li>
 *   <li>{@value #SILENT}: never answered;</li>
 *   <li>any other name (nonexistent.invalid, say): NXDOMAIN at once.</li>
 * </ul>
 * Records the names it was asked. Bounded: one daemon receive thread, stopped by {@link #close()}.
 */
final class ScriptedDns implements AutoCloseable {

    static final String SLOW = "slow.wscrt.test";
    static final String SILENT = "silent.wscrt.test";
    static final long SLOW_MS = 1500;

    private static final int TYPE_A = 1;

    private final DatagramSocket socket;
    private final ScheduledExecutorService delayed = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "scripted-dns-delayed");
        t.setDaemon(true);
        return t;
    });
    private final List<String> questions = new CopyOnWriteArrayList<>();
    private final Thread receiver;

    ScriptedDns(InetAddress address, int port) throws SocketException {
        socket = new DatagramSocket(new InetSocketAddress(address, port));
        receiver = new Thread(this::serve, "scripted-dns");
        receiver.setDaemon(true);
        receiver.start();
    }

    /** "name/TYPE" for every question received, in order. */
    List<String> questions() {
        return List.copyOf(questions);
    }

    private void serve() {
        byte[] buffer = new byte[1500];
        while (!socket.isClosed()) {
            DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
            try {
                socket.receive(packet);
                answer(java.util.Arrays.copyOf(packet.getData(), packet.getLength()), packet.getSocketAddress());
            } catch (IOException | RuntimeException e) {
                if (socket.isClosed()) {
                    return;
                }
            }
        }
    }

    private void answer(byte[] query, java.net.SocketAddress to) {
        if (query.length < 12) {
            return;
        }
        int offset = 12;
        StringBuilder name = new StringBuilder();
        while (offset < query.length && query[offset] != 0) {
            int len = query[offset] & 0xff;
            if (name.length() > 0) {
                name.append('.');
            }
            name.append(new String(query, offset + 1, len, java.nio.charset.StandardCharsets.US_ASCII));
            offset += len + 1;
        }
        int questionEnd = offset + 5; // the root label, QTYPE, QCLASS
        if (questionEnd > query.length) {
            return;
        }
        int type = ((query[offset + 1] & 0xff) << 8) | (query[offset + 2] & 0xff);
        String qname = name.toString().toLowerCase(Locale.ROOT);
        questions.add(qname + "/" + (type == TYPE_A ? "A" : type == 28 ? "AAAA" : Integer.toString(type)));
        if (qname.equals(SILENT)) {
            return;
        }
        boolean known = qname.equals(SLOW);
        byte[] response = response(query, questionEnd, known ? 0 : 3, known && type == TYPE_A);
        if (known) {
            delayed.schedule(() -> send(response, to), SLOW_MS, TimeUnit.MILLISECONDS);
        } else {
            send(response, to);
        }
    }

    /** The query's header and question, as a response with {@code rcode}, and one A record 127.0.0.1 if asked. */
    private static byte[] response(byte[] query, int questionEnd, int rcode, boolean withA) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(query[0]);
        out.write(query[1]); // the ID
        out.write(0x80 | (query[2] & 0x79)); // QR, the opcode and RD of the query
        out.write(0x80 | rcode); // RA, RCODE
        out.writeBytes(new byte[] {0, 1, 0, (byte) (withA ? 1 : 0), 0, 0, 0, 0}); // QD 1, AN 0/1, NS 0, AR 0
        out.write(query, 12, questionEnd - 12);
        if (withA) {
            // A pointer to the question's name, type A, class IN, TTL 60, 4 bytes: 127.0.0.1.
            out.writeBytes(new byte[] {(byte) 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, 1});
        }
        return out.toByteArray();
    }

    private void send(byte[] response, java.net.SocketAddress to) {
        try {
            socket.send(new DatagramPacket(response, response.length, to));
        } catch (IOException ignored) {
            // the resolver gave up
        }
    }

    @Override
    public void close() {
        socket.close();
        delayed.shutdownNow();
        try {
            receiver.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
