package dev.wscrt.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wscrt.cli.WscrtProcess.Result;
import dev.wscrt.proxy.TinyProxy;
import dev.wscrt.testing.Await;
import dev.wscrt.testing.NettyWebSocketServer;
import dev.wscrt.testing.ReceivedFrame;
import dev.wscrt.tls.ServerTls;
import dev.wscrt.tls.TestCertificates;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code wscrt} command line, end to end: the shaded jar run as a process against the Netty server of
 * the library's tests, over ws:// and wss:// with certificates made at test time.
 */
class WscrtCommandLineTest {
    @TempDir
    Path dir;

    private static String ws(NettyWebSocketServer server, String path) {
        return "ws://127.0.0.1:" + server.port() + path;
    }

    private static String wss(NettyWebSocketServer server, String path) {
        return "wss://localhost:" + server.port() + path;
    }

    private Path pem(String name, String text) throws IOException {
        return Files.writeString(dir.resolve(name), text);
    }

    private static int closeCode(ReceivedFrame close) {
        return ((close.payload()[0] & 0xFF) << 8) | (close.payload()[1] & 0xFF);
    }

    @Test
    void echoesEachLineOfStdinAndClosesWith1000AtItsEnd() {
        try (NettyWebSocketServer server = NettyWebSocketServer.startEcho()) {
            Result result = WscrtProcess.run(dir, "hello\nwörld\r\n\nlast line without newline", ws(server, "/echo"));

            assertEquals(Wscrt.EXIT_OK, result.exitStatus(), result::toString);
            assertEquals("hello\nwörld\n\nlast line without newline\n", result.stdout());
            NettyWebSocketServer.Connection connection = server.awaitConnection();
            assertEquals("/echo", connection.requestUri());
            List<ReceivedFrame> frames = connection.frames();
            assertEquals(List.of("hello", "wörld", "", "last line without newline"),
                    frames.stream().filter(f -> f.opcode() == ReceivedFrame.TEXT).map(ReceivedFrame::text).toList());
            assertEquals(1000, closeCode(connection.awaitClose()));
        }
    }

    @Test
    void echoesOverWssTrustingTheCaGivenWithCacert() throws IOException {
        TestCertificates certs = TestCertificates.get();
        ServerTls tls = ServerTls.forCertificate(certs.server()).build();
        try (NettyWebSocketServer server = NettyWebSocketServer.builder().sslContext(tls.sslContext()).start()) {
            Path ca = pem("ca.pem", certs.ca().certificatePem());

            Result result = WscrtProcess.run(dir, "over tls\n", "-v", "--cacert", ca.toString(), wss(server, "/"));

            assertEquals(Wscrt.EXIT_OK, result.exitStatus(), result::toString);
            assertEquals("over tls\n", result.stdout());
            assertTrue(result.stderr().contains("< 101 Switching Protocols (TLSv1."), result::toString);
            assertTrue(result.stderr().contains("< CLOSE 1000"), result::toString);
        }
    }

    @Test
    void presentsTheClientCertificateGivenWithCertAndKey() throws IOException {
        TestCertificates certs = TestCertificates.get();
        ServerTls tls = ServerTls.forCertificate(certs.server()).requireClientCertificate().build();
        try (NettyWebSocketServer server = NettyWebSocketServer.builder().sslContext(tls.sslContext()).start()) {
            Path ca = pem("ca.pem", certs.ca().certificatePem());
            Path cert = pem("client.pem", certs.client().certificatePem());
            Path key = pem("client.key", certs.client().privateKeyPem());

            Result result = WscrtProcess.run(dir, "mutual\n", "--cacert", ca.toString(), "--cert", cert.toString(),
                    "--key", key.toString(), wss(server, "/"));

            assertEquals(Wscrt.EXIT_OK, result.exitStatus(), result::toString);
            assertEquals("mutual\n", result.stdout());
            assertEquals(certs.client().certificate(), tls.awaitHandshake(0).clientCertificates().get(0));
        }
    }

    @Test
    void echoesThroughAnHttpProxyWithBasicAuthenticationAndExits3WhenTheProxyRefuses() {
        assertTrue(TinyProxy.ensureInstalled().isPresent(), TinyProxy::missingMessage);
        try (NettyWebSocketServer server = NettyWebSocketServer.startEcho();
             TinyProxy proxy = TinyProxy.builder().connectPorts(server.port()).basicAuth("user", "s3cret").start()) {
            Result result = WscrtProcess.run(dir, "via proxy\n",
                    "--proxy", "http://user:s3cr%65t@127.0.0.1:" + proxy.port(), ws(server, "/"));
            Result wrongPassword = WscrtProcess.run(dir, "",
                    "--proxy", "http://user:wrong@127.0.0.1:" + proxy.port(), ws(server, "/"));

            assertEquals(Wscrt.EXIT_OK, result.exitStatus(), result::toString);
            assertEquals("via proxy\n", result.stdout());
            assertEquals(Wscrt.EXIT_CONNECT, wrongPassword.exitStatus(), wrongPassword::toString);
            assertTrue(wrongPassword.stderr().contains("WSCRT_ERROR_HTTP_PROXY_CONNECT_FAILED"), wrongPassword::toString);
        }
    }

    @Test
    void binaryLinesGoOutAsBinaryMessagesAndBinaryMessagesPrintAsTheirBytesOrAsHex() {
        try (NettyWebSocketServer server = NettyWebSocketServer.startEcho()) {
            Result raw = WscrtProcess.run(dir, "ab\ncd\n", "--binary", ws(server, "/"));
            Result hex = WscrtProcess.run(dir, "ab\ncd\n", "--binary", "--hex", ws(server, "/"));

            assertEquals(Wscrt.EXIT_OK, raw.exitStatus(), raw::toString);
            assertArrayEquals("abcd".getBytes(StandardCharsets.US_ASCII), raw.stdoutBytes());
            assertEquals(Wscrt.EXIT_OK, hex.exitStatus(), hex::toString);
            assertEquals("6162\n6364\n", hex.stdout());
            assertTrue(server.awaitConnection().frames().stream().filter(ReceivedFrame::isDataFrame)
                    .allMatch(f -> f.opcode() == ReceivedFrame.BINARY));
        }
    }

    @Test
    void headersAndTheProtocolReachTheServer() {
        try (NettyWebSocketServer server = NettyWebSocketServer.startEcho()) {
            Result result = WscrtProcess.run(dir, "", "-H", "X-Test: forty two", "--header", "Authorization: Bearer t",
                    "--protocol", "chat", ws(server, "/"));

            assertEquals(Wscrt.EXIT_OK, result.exitStatus(), result::toString);
            NettyWebSocketServer.Connection connection = server.awaitConnection();
            assertEquals("forty two", connection.requestHeader("X-Test"));
            assertEquals("Bearer t", connection.requestHeader("Authorization"));
            assertEquals("chat", connection.requestHeader("Sec-WebSocket-Protocol"));
        }
    }

    @Test
    void compressOffersPermessageDeflateAndTheMessagesTravelCompressed() {
        try (NettyWebSocketServer server = NettyWebSocketServer.builder().deflate().start()) {
            String line = "compress me ".repeat(200);
            Result result = WscrtProcess.run(dir, line + "\n", "--compress", "-v", ws(server, "/"));

            assertEquals(Wscrt.EXIT_OK, result.exitStatus(), result::toString);
            assertEquals(line + "\n", result.stdout(), "the echo, inflated");
            assertTrue(result.stderr().contains("< Sec-WebSocket-Extensions: permessage-deflate"), result::toString);
            assertTrue(server.awaitConnection().requestHeader("Sec-WebSocket-Extensions").startsWith("permessage-deflate"));
            assertTrue(server.wireBytesReceived() < line.length() / 2, "compressed on the wire: " + server.wireBytesReceived());
        }
    }

    @Test
    void pingIntervalSetsTheKeepaliveAndItsPongsAreReported() {
        try (NettyWebSocketServer server = NettyWebSocketServer.startEcho()) {
            WscrtProcess client = WscrtProcess.start(dir, "-v", "--ping-interval", "0.2", ws(server, "/"));
            NettyWebSocketServer.Connection connection = server.awaitConnection();
            Await.until("two PONGs reported on stderr", Await.DEFAULT_TIMEOUT,
                    () -> client.stderrSoFar().split("< PONG", -1).length > 2, client::stderrSoFar);
            client.closeStdin();
            Result result = client.await();

            assertEquals(Wscrt.EXIT_OK, result.exitStatus(), result::toString);
            assertTrue(connection.pingsReceived() >= 2, "PINGs the server received: " + connection.pingsReceived());
        }
    }

    @Test
    void sigtermWhileOpenSendsClose1001() {
        try (NettyWebSocketServer server = NettyWebSocketServer.startEcho()) {
            WscrtProcess client = WscrtProcess.start(dir, "-v", ws(server, "/"));
            NettyWebSocketServer.Connection connection = server.awaitConnection();
            Await.until("the client to report the open", Await.DEFAULT_TIMEOUT,
                    () -> client.stderrSoFar().contains("< 101"), client::stderrSoFar);
            client.terminate();

            assertEquals(1001, closeCode(connection.awaitClose()));
            client.await();
        }
    }

    @Test
    void usageErrorsExitWith2() {
        Result noUri = WscrtProcess.run(dir, "");
        Result httpUri = WscrtProcess.run(dir, "", "http://127.0.0.1:1/");
        Result badHeader = WscrtProcess.run(dir, "", "-H", "no colon", "ws://127.0.0.1:1/");
        Result unknownOption = WscrtProcess.run(dir, "", "--no-such-option", "ws://127.0.0.1:1/");
        Result certWithoutKey = WscrtProcess.run(dir, "", "--cert", "x.pem", "wss://127.0.0.1:1/");
        Result pongTimeoutWithoutKeepalive =
                WscrtProcess.run(dir, "", "--ping-interval", "0", "--pong-timeout", "1", "ws://127.0.0.1:1/");

        for (Result r : List.of(noUri, httpUri, badHeader, unknownOption, certWithoutKey, pongTimeoutWithoutKeepalive)) {
            assertEquals(Wscrt.EXIT_USAGE, r.exitStatus(), r::toString);
        }
        assertTrue(httpUri.stderr().contains("ws:// or wss://"), httpUri::toString);
        assertTrue(badHeader.stderr().contains("'Name: value'"), badHeader::toString);
    }

    @Test
    void aRefusedConnectionExitsWith3() throws IOException {
        int port;
        try (ServerSocket closed = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = closed.getLocalPort();
        }
        Result result = WscrtProcess.run(dir, "", "ws://127.0.0.1:" + port + "/");

        assertEquals(Wscrt.EXIT_CONNECT, result.exitStatus(), result::toString);
        assertTrue(result.stderr().contains("WSCRT_ERROR_IO_SOCKET_CONNECTION_REFUSED"), result::toString);
        assertTrue(result.stderr().contains("connecting to server 127.0.0.1:" + port), result::toString);
    }

    @Test
    void aRefusedUpgradeExitsWith4() {
        try (NettyWebSocketServer server = NettyWebSocketServer.builder().rejectUpgrades(403, "go away").start()) {
            Result result = WscrtProcess.run(dir, "", ws(server, "/"));

            assertEquals(Wscrt.EXIT_HANDSHAKE, result.exitStatus(), result::toString);
            assertTrue(result.stderr().contains("403"), result::toString);
            assertTrue(result.stderr().contains("go away"), result::toString);
        }
    }

    @Test
    void aServerCertificateFromAnUnknownCaExitsWith5() throws IOException {
        TestCertificates certs = TestCertificates.get();
        ServerTls tls = ServerTls.forCertificate(certs.server()).build();
        try (NettyWebSocketServer server = NettyWebSocketServer.builder().sslContext(tls.sslContext()).start()) {
            Path otherCa = pem("other-ca.pem", certs.selfSigned().certificatePem());

            Result result = WscrtProcess.run(dir, "", "--cacert", otherCa.toString(), wss(server, "/"));

            assertEquals(Wscrt.EXIT_TLS, result.exitStatus(), result::toString);
            assertTrue(Pattern.compile("WSCRT_ERROR_TLS_CERT_\\w+").matcher(result.stderr()).find(), result::toString);
            assertTrue(result.stderr().contains("TLS handshake with server "), result::toString);
            assertTrue(result.stderr().contains("trusting CA file " + otherCa), result::toString);
        }
    }

    @Test
    void aServerClosingWithAnErrorCodeExitsWith6() {
        try (NettyWebSocketServer server = NettyWebSocketServer.startEcho()) {
            WscrtProcess client = WscrtProcess.start(dir, ws(server, "/"));
            server.awaitConnection().sendClose(1011, "server trouble");
            Result result = client.await();

            assertEquals(Wscrt.EXIT_ABNORMAL_CLOSE, result.exitStatus(), result::toString);
            assertTrue(result.stderr().contains("1011: server trouble"), result::toString);
        }
    }

    @Test
    void aMessageOverMaxMessageSizeEndsTheConnectionWith1009AndExits6() {
        try (NettyWebSocketServer server = NettyWebSocketServer.startEcho()) {
            WscrtProcess client = WscrtProcess.start(dir, "--max-message-size", "16", ws(server, "/"));
            client.write("short\nthis line is longer than sixteen bytes\n"); // stdin stays open
            Result result = client.await();

            assertEquals(Wscrt.EXIT_ABNORMAL_CLOSE, result.exitStatus(), result::toString);
            assertEquals("short\n", result.stdout());
            // The error named is MESSAGE_TOO_BIG, or at times IO_SOCKET_CLOSED when the server's answer to
            // the 1009 CLOSE ends the TCP connection first (reported to the library's owner).
            assertTrue(result.stderr().contains("wscrt: the connection failed: "), result::toString);
            assertEquals(1009, closeCode(server.awaitConnection().awaitClose()));
        }
    }

    @Test
    void versionNamesTheClientOpensslAndThePlatform() {
        Result result = WscrtProcess.run(dir, "", "--version");

        assertEquals(Wscrt.EXIT_OK, result.exitStatus(), result::toString);
        assertTrue(result.stdout().startsWith("wscrt 0."), result::toString);
        assertTrue(result.stdout().contains("OpenSSL 3."), result::toString);
        assertTrue(result.stdout().contains(System.getProperty("os.arch")), result::toString);
    }
}
