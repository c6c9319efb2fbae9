package dev.wscrt.websocket;

import static dev.wscrt.websocket.ScriptedConnections.assertErrorName;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wscrt.http.HttpHeader;
import dev.wscrt.testing.CallbackRecorder;
import dev.wscrt.testing.Hex;
import dev.wscrt.testing.ScriptedServer;
import dev.wscrt.testing.Testbed;
import java.time.Duration;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The opening handshake against a scripted raw-TCP server that writes exact bytes: the upgrade request the
 * client sends, the answers RFC 6455 allows, and the answers the client must refuse, each failing the setup
 * with its own error name and carrying what the server sent (status, headers, body).
 */
class WebSocketOpeningHandshakeTest {

    @RegisterExtension
    static final Testbed testbed = Testbed.withLoopThreads(1);
    private static final ScriptedConnections scripted = new ScriptedConnections(testbed);

    // ---- the upgrade request the client sends -----------------------------------------------

    @Test
    void handshakeRequestIsAValidUpgradeRequest() {
        ScriptedServer server = testbed.scriptedServer();
        CallbackRecorder rec = new CallbackRecorder();
        ScriptedServer.Conn c = scripted.connect(server, rec, 5000);
        ScriptedServer.RequestHead req = c.readRequest();
        assertEquals("GET / HTTP/1.1", req.requestLine());
        assertEquals(server.authority(), req.header("Host"));
        assertEquals("websocket", req.header("Upgrade").toLowerCase());
        assertTrue(req.header("Connection").toLowerCase().contains("upgrade"));
        assertEquals("13", req.header("Sec-WebSocket-Version"));
        byte[] key = java.util.Base64.getDecoder().decode(req.header("Sec-WebSocket-Key"));
        assertEquals(16, key.length, "Sec-WebSocket-Key is base64 of 16 bytes");
        c.answer101();
        rec.awaitWebSocket();
        c.close();
        rec.awaitShutdown();
    }

    @Test
    void eachConnectionUsesANewKey() {
        ScriptedServer server = testbed.scriptedServer();
        CallbackRecorder recA = new CallbackRecorder();
        CallbackRecorder recB = new CallbackRecorder();
        ScriptedServer.Conn a = scripted.connect(server, recA, 5000);
        String keyA = a.readRequest().header("Sec-WebSocket-Key");
        ScriptedServer.Conn b = scripted.connect(server, recB, 5000);
        String keyB = b.readRequest().header("Sec-WebSocket-Key");
        assertNotEquals(keyA, keyB);
        a.close();
        b.close();
        recA.awaitSetupFailure();
        recB.awaitSetupFailure();
    }

    // ---- handshake answers the client refuses -----------------------------------------------

    private static final String GOOD_UPGRADE = "Upgrade: websocket\r\nConnection: Upgrade\r\n";

    @Test
    void badSecWebSocketAcceptFailsSetup() {
        CallbackRecorder rec = new CallbackRecorder();
        ScriptedServer.Conn c = scripted.upgradeRequested(rec);
        String wrong = ScriptedServer.acceptFor("dGhlIHNhbXBsZSBub25jZQ==");
        c.writeAscii("HTTP/1.1 101 Switching Protocols\r\n" + GOOD_UPGRADE + "Sec-WebSocket-Accept: " + wrong
                + "\r\n\r\n");
        OnConnectionSetupData setup = rec.awaitSetup();
        assertErrorName("WSCRT_ERROR_WEBSOCKET_UPGRADE_BAD_ACCEPT", setup.exception());
        assertEquals(101, setup.handshakeResponseStatus());
        assertTrue(setup.handshakeResponseHeaders().contains(new HttpHeader("Sec-WebSocket-Accept", wrong)),
                "headers carried: " + setup.handshakeResponseHeaders());
        assertNull(setup.websocket());
        c.awaitEof();
        rec.assertNoShutdownWithin(Duration.ofMillis(200));
        rec.assertGrammar();
    }

    static Stream<Arguments> refusedUpgradeHeaders() {
        return Stream.of(
                Arguments.of("missing Sec-WebSocket-Accept", GOOD_UPGRADE, false,
                        "WSCRT_ERROR_WEBSOCKET_UPGRADE_BAD_ACCEPT"),
                Arguments.of("missing Upgrade", "Connection: Upgrade\r\n", true,
                        "WSCRT_ERROR_WEBSOCKET_UPGRADE_INVALID_HEADERS"),
                Arguments.of("Upgrade: h2c", "Upgrade: h2c\r\nConnection: Upgrade\r\n", true,
                        "WSCRT_ERROR_WEBSOCKET_UPGRADE_INVALID_HEADERS"),
                Arguments.of("missing Connection", "Upgrade: websocket\r\n", true,
                        "WSCRT_ERROR_WEBSOCKET_UPGRADE_INVALID_HEADERS"),
                Arguments.of("Connection without the upgrade token", "Upgrade: websocket\r\nConnection: keep-alive\r\n",
                        true, "WSCRT_ERROR_WEBSOCKET_UPGRADE_INVALID_HEADERS"),
                Arguments.of("Connection token only as a substring",
                        "Upgrade: websocket\r\nConnection: upgraded\r\n", true,
                        "WSCRT_ERROR_WEBSOCKET_UPGRADE_INVALID_HEADERS"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("refusedUpgradeHeaders")
    void upgradeResponseWithoutTheRequiredHeadersFailsSetup(String what, String headers, boolean withAccept,
                                                           String errorName) {
        CallbackRecorder rec = new CallbackRecorder();
        ScriptedServer.Conn c = scripted.upgradeRequested(rec);
        c.writeAscii("HTTP/1.1 101 Switching Protocols\r\n" + headers
                + (withAccept ? "Sec-WebSocket-Accept: " + c.expectedAccept() + "\r\n" : "") + "\r\n");
        OnConnectionSetupData setup = rec.awaitSetup();
        assertErrorName(errorName, setup.exception());
        assertEquals(101, setup.handshakeResponseStatus());
        assertNotNull(setup.handshakeResponseHeaders());
        c.awaitEof();
        rec.assertGrammar();
    }

    static Stream<Arguments> acceptedUpgradeHeaders() {
        return Stream.of(
                Arguments.of("Connection as a comma list", "Upgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n"),
                Arguments.of("lower-case names and values", "upgrade: websocket\r\nconnection: upgrade\r\n"),
                Arguments.of("upper-case values", "Upgrade: WebSocket\r\nConnection: UPGRADE\r\n"),
                Arguments.of("extra headers", "Server: scripted\r\nUpgrade: websocket\r\nX-Extra: 1\r\n"
                        + "Connection: Upgrade\r\n"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("acceptedUpgradeHeaders")
    void upgradeResponseVariantsAllowedByTheRfcAreAccepted(String what, String headers) {
        CallbackRecorder rec = new CallbackRecorder();
        ScriptedServer.Conn c = scripted.upgradeRequested(rec);
        c.writeAscii("HTTP/1.1 101 Switching Protocols\r\n" + headers + "sec-websocket-accept: "
                + c.expectedAccept() + "\r\n\r\n");
        rec.awaitWebSocket();
        c.close();
        rec.awaitShutdown();
        rec.assertGrammar();
    }

    @Test
    void rejectionWithAChunkedBodyCarriesStatusAndBody() {
        CallbackRecorder rec = new CallbackRecorder();
        ScriptedServer.Conn c = scripted.upgradeRequested(rec);
        c.writeAscii("HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\nX-Why: test\r\n\r\n"
                + "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
        OnConnectionSetupData setup = rec.awaitSetup();
        assertErrorName("WSCRT_ERROR_WEBSOCKET_UPGRADE_FAILURE", setup.exception());
        assertEquals(400, setup.handshakeResponseStatus());
        assertTrue(setup.handshakeResponseHeaders().contains(new HttpHeader("X-Why", "test")));
        assertArrayEquals(Hex.ascii("hello world"), setup.handshakeResponseBody());
        c.awaitEof();
        rec.assertGrammar();
    }

    @Test
    void rejectionWithAContentLengthBodyCarriesStatusAndBody() {
        CallbackRecorder rec = new CallbackRecorder();
        ScriptedServer.Conn c = scripted.upgradeRequested(rec);
        c.writeAscii("HTTP/1.1 200 OK\r\nContent-Length: 12\r\nContent-Type: text/plain\r\n\r\nnot a socket");
        OnConnectionSetupData setup = rec.awaitSetup();
        assertErrorName("WSCRT_ERROR_WEBSOCKET_UPGRADE_FAILURE", setup.exception());
        assertEquals(200, setup.handshakeResponseStatus());
        assertArrayEquals(Hex.ascii("not a socket"), setup.handshakeResponseBody());
        c.awaitEof();
        rec.assertGrammar();
    }

    @Test
    void rejectionWithoutABodyCarriesStatusAndHeaders() {
        CallbackRecorder rec = new CallbackRecorder();
        ScriptedServer.Conn c = scripted.upgradeRequested(rec);
        c.writeAscii("HTTP/1.1 302 Found\r\nLocation: /elsewhere\r\nContent-Length: 0\r\n\r\n");
        OnConnectionSetupData setup = rec.awaitSetup();
        assertErrorName("WSCRT_ERROR_WEBSOCKET_UPGRADE_FAILURE", setup.exception());
        assertEquals(302, setup.handshakeResponseStatus());
        assertTrue(setup.handshakeResponseHeaders().contains(new HttpHeader("Location", "/elsewhere")));
        byte[] body = setup.handshakeResponseBody();
        assertTrue(body == null || body.length == 0, "no body");
        rec.assertGrammar();
    }

    @Test
    void truncatedResponseThenCloseFailsSetupWithConnectionClosed() {
        CallbackRecorder rec = new CallbackRecorder();
        ScriptedServer.Conn c = scripted.upgradeRequested(rec);
        c.writeAscii("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websoc");
        c.close();
        OnConnectionSetupData setup = rec.awaitSetup();
        assertErrorName("WSCRT_ERROR_HTTP_CONNECTION_CLOSED", setup.exception());
        assertNull(setup.websocket());
        rec.assertNoShutdownWithin(Duration.ofMillis(200));
        rec.assertGrammar();
    }

    @Test
    void closeBeforeAnyResponseFailsSetupWithConnectionClosed() {
        CallbackRecorder rec = new CallbackRecorder();
        ScriptedServer.Conn c = scripted.upgradeRequested(rec);
        c.close();
        OnConnectionSetupData setup = rec.awaitSetup();
        assertErrorName("WSCRT_ERROR_HTTP_CONNECTION_CLOSED", setup.exception());
        assertNull(setup.handshakeResponseStatus(), "no response, no status");
        assertNull(setup.handshakeResponseHeaders(), "no response, no headers");
        rec.assertGrammar();
    }

    @Test
    void malformedStatusLineFailsSetupWithInvalidResponse() {
        ScriptedServer server = testbed.scriptedServer();
        CallbackRecorder rec = new CallbackRecorder();
        ScriptedServer.Conn c = scripted.connect(server, rec, 3000);
        c.readRequest();
        c.writeAscii("HTTP/1.1 abc Nope\r\n\r\n");
        assertErrorName("WSCRT_ERROR_HTTP_INVALID_RESPONSE", rec.awaitSetup().exception());
        c.awaitEof();
        rec.assertGrammar();
    }

    @Test
    void headerBlockOverTheLimitFailsSetup() {
        CallbackRecorder rec = new CallbackRecorder();
        ScriptedServer.Conn c = scripted.upgradeRequested(rec);
        StringBuilder head = new StringBuilder("HTTP/1.1 101 Switching Protocols\r\n");
        IntStream.range(0, 1100).forEach(i -> head.append("X-Filler-").append(i).append(": ")
                .append("f".repeat(50)).append("\r\n"));
        c.tryWrite(Hex.ascii(head.toString())); // ~70 KiB, never finished
        assertErrorName("WSCRT_ERROR_HTTP_HEADER_BLOCK_TOO_LARGE", rec.awaitSetup().exception());
        c.awaitEof();
        rec.assertGrammar();
    }

    @Test
    void serverThatNeverAnswersFailsSetupWithHandshakeTimeout() {
        ScriptedServer server = testbed.scriptedServer();
        CallbackRecorder rec = new CallbackRecorder();
        long start = System.nanoTime();
        ScriptedServer.Conn c = scripted.connect(server, rec, 500);
        c.readRequest(); // and say nothing
        OnConnectionSetupData setup = rec.awaitSetup();
        long elapsedMs = (System.nanoTime() - start) / 1_000_000;
        assertErrorName("WSCRT_ERROR_WEBSOCKET_HANDSHAKE_TIMEOUT", setup.exception());
        assertTrue(elapsedMs >= 450, "the timeout is not early: " + elapsedMs + " ms");
        assertTrue(elapsedMs < 5000, "the timeout is not late: " + elapsedMs + " ms");
        assertNull(setup.handshakeResponseStatus());
        c.awaitEof();
        rec.assertGrammar();
    }
}
