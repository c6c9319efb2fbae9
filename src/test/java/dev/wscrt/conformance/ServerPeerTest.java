package dev.wscrt.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wscrt.testing.Hex;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The conformance server's own checks, driven by a hand-written raw client: every breach of the client
 * rules is a violation, and a well-formed client produces none. (The wscrt client never breaks these
 * rules, so without this test the checks would never be seen to fire.)
 */
class ServerPeerTest {
    private static final byte[] KEY = {1, 2, 3, 4};

    /** A raw client connected and upgraded, and the server side of it. */
    private record Pair(Socket client, ServerPeer peer) implements AutoCloseable {
        void send(String hex) throws IOException {
            OutputStream out = client.getOutputStream();
            out.write(Hex.bytes(hex));
            out.flush();
        }

        void sendMasked(int firstByte, byte[] payload) throws IOException {
            ByteArrayOutputStream frame = new ByteArrayOutputStream();
            frame.write(firstByte);
            frame.write(0x80 | payload.length);
            frame.writeBytes(KEY);
            for (int i = 0; i < payload.length; i++) {
                frame.write(payload[i] ^ KEY[i & 3]);
            }
            client.getOutputStream().write(frame.toByteArray());
        }

        @Override
        public void close() throws IOException {
            client.close();
            peer.close();
        }
    }

    private static Pair connect() throws Exception {
        try (ServerSocket listener = new ServerSocket()) {
            listener.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0));
            Socket client = new Socket("127.0.0.1", listener.getLocalPort());
            client.setSoTimeout(5000);
            client.getOutputStream().write(("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                    + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                    + "Sec-WebSocket-Version: 13\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            ServerPeer peer = new ServerPeer(listener.accept());
            CompletableFuture<Void> upgraded = CompletableFuture.runAsync(() -> {
                try {
                    peer.handshake();
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            });
            String head = readHead(client.getInputStream());
            upgraded.get(5, TimeUnit.SECONDS);
            assertTrue(head.startsWith("HTTP/1.1 101"), head);
            assertTrue(head.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), head); // RFC 6455 1.3
            return new Pair(client, peer);
        }
    }

    private static String readHead(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                break;
            }
            head.append((char) b);
        }
        return head.toString();
    }

    @Test
    void wellFormedClientFramesLeaveNoViolationAndFillTheTrace() throws Exception {
        try (Pair p = connect()) {
            p.sendMasked(0x01, Frames.utf8("frag"));
            p.sendMasked(0x8a, Frames.utf8("pong"));
            p.sendMasked(0x80, Frames.utf8("ment"));
            p.sendMasked(0x82, new byte[] {1, 2});
            p.sendMasked(0x88, Frames.closePayload(1000, Frames.utf8("bye")));
            assertTrue(p.peer().awaitClientEnd(5000));
            assertEquals(List.of(), p.peer().violations());
            assertEquals(List.of(Events.pong("pong"), Events.text("fragment"), Events.binary(new byte[] {1, 2})),
                    p.peer().trace());
            assertEquals(1000, p.peer().clientClose().closeCode());
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "unmasked frame                     | 81 01 61                                   | TEXT frame not masked",
        "RSV bits                           | c1 81 00 00 00 00 61                       | RSV bits 4",
        "reserved opcode                    | 83 80 00 00 00 00                          | reserved opcode 3",
        "fragmented PING                    | 09 80 00 00 00 00                          | PING frame without FIN",
        "control frame over 125 bytes       | 8a fe 00 7e 00 00 00 00                    | 126-byte payload",
        "16-bit length for 5 bytes          | 82 fe 00 05 00 00 00 00 01 02 03 04 05     | not minimal",
        "64-bit length for 5 bytes          | 82 ff 00 00 00 00 00 00 00 05 00 00 00 00 01 02 03 04 05 | not minimal",
        "CONTINUATION with no message       | 80 81 00 00 00 00 61                       | CONTINUATION frame with no message",
        "TEXT inside an open message        | 01 81 00 00 00 00 61 81 81 00 00 00 00 62  | while a message was open",
        "TEXT that is not UTF-8             | 81 82 00 00 00 00 c3 28                    | not valid UTF-8",
        "CLOSE with 1-byte payload          | 88 81 00 00 00 00 03                       | 1-byte payload",
        "CLOSE with code 1005               | 88 82 00 00 00 00 03 ed                    | status code 1005",
        "CLOSE reason not UTF-8             | 88 84 00 00 00 00 03 e8 ff fe              | reason that is not valid UTF-8",
        "frame after CLOSE                  | 88 82 00 00 00 00 03 e8 89 80 00 00 00 00  | PING frame after the client's CLOSE",
    })
    void clientRuleBreachesAreViolations(String what, String hex, String expected) throws Exception {
        try (Pair p = connect()) {
            p.send(hex);
            p.client().shutdownOutput();
            assertTrue(p.peer().awaitEof(5000), "the reader saw the end");
            List<String> violations = p.peer().violations();
            assertTrue(violations.stream().anyMatch(v -> v.contains(expected.trim())),
                    what + ": violations " + violations);
        }
    }
}
