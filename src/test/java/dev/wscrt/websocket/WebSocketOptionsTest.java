package dev.wscrt.websocket;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wscrt.http.HttpHeader;
import dev.wscrt.http.HttpRequest;
import dev.wscrt.testing.Await;
import dev.wscrt.testing.CallbackRecorder;
import dev.wscrt.testing.NettyWebSocketServer;
import dev.wscrt.testing.SendRecorder;
import dev.wscrt.testing.Testbed;
import java.nio.ByteBuffer;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Invalid options and invalid frames are refused with IllegalArgumentException on the caller's
 * thread, and no callback ever runs for them.
 */
class WebSocketOptionsTest {

    @RegisterExtension
    static final Testbed testbed = Testbed.withLoopThreads(1);
    private static NettyWebSocketServer server;

    @BeforeAll
    static void start() {
        server = NettyWebSocketServer.startEcho();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    /** Valid options to the echo server, recorded by {@code rec}. */
    private static WebSocketConnectOptions.Builder valid(CallbackRecorder rec) {
        return testbed.options(server, rec);
    }

    /** Building or connecting with the customised options throws IAE, and no callback runs. */
    private static void assertRefused(Consumer<WebSocketConnectOptions.Builder> customise) {
        CallbackRecorder rec = new CallbackRecorder();
        WebSocketConnectOptions.Builder b = valid(rec);
        customise.accept(b);
        long before = server.tcpConnectionCount();
        assertThrows(IllegalArgumentException.class, () -> WebSocket.connect(b.build()));
        Await.sleep(200);
        assertEquals(List.of(), rec.events(), "no callback for refused options");
        assertEquals(before, server.tcpConnectionCount(), "no connection attempt for refused options");
    }

    private static HttpRequest requestWith(String header, String value) {
        HttpRequest r = WebSocket.createHandshakeRequest(server.authority(), "/");
        r.setHeader(header, value);
        return r;
    }

    private static HttpRequest requestWithout(String header) {
        HttpRequest r = WebSocket.createHandshakeRequest(server.authority(), "/");
        r.removeHeader(header);
        return r;
    }

    // ---- connect options --------------------------------------------------------------------

    @Test
    void missingHostIsRefused() {
        CallbackRecorder rec = new CallbackRecorder();
        WebSocketConnectOptions.Builder b = rec.applyTo(WebSocketConnectOptions.builder()
                .port(server.port()).bootstrap(testbed.bootstrap())
                .handshakeRequest(WebSocket.createHandshakeRequest(server.authority(), "/")));
        assertThrows(IllegalArgumentException.class, () -> WebSocket.connect(b.build()));
        assertEquals(List.of(), rec.events());
    }

    @Test
    void emptyHostIsRefused() {
        assertRefused(b -> b.host(""));
    }

    @Test
    void missingSetupCallbackIsRefused() {
        assertRefused(b -> b.onConnectionSetup(null));
    }

    @Test
    void manageReadWindowWithoutAnInitialWindowIsRefused() {
        assertRefused(b -> b.manageReadWindow(true));
    }

    @Test
    void negativeInitialReadWindowIsRefused() {
        assertRefused(b -> b.manageReadWindow(true).initialReadWindow(-1));
    }

    @ParameterizedTest
    @ValueSource(ints = {0, -1, 65536, 100_000})
    void portOutOfRangeIsRefused(int port) {
        assertRefused(b -> b.port(port));
    }

    @ParameterizedTest
    @ValueSource(ints = {0, -5})
    void nonPositiveHandshakeTimeoutIsRefused(int timeout) {
        assertRefused(b -> b.handshakeTimeoutMs(timeout));
    }

    @ParameterizedTest
    @ValueSource(strings = {"POST", "PUT", "get", "CONNECT"})
    void handshakeRequestThatIsNotGetIsRefused(String method) {
        HttpRequest good = WebSocket.createHandshakeRequest(server.authority(), "/");
        assertRefused(b -> b.handshakeRequest(new HttpRequest(method, "/", good.getHeaders())));
    }

    @ParameterizedTest
    @ValueSource(strings = {"Host", "Upgrade", "Connection", "Sec-WebSocket-Key", "Sec-WebSocket-Version"})
    void handshakeRequestLackingARequiredHeaderIsRefused(String header) {
        assertRefused(b -> b.handshakeRequest(requestWithout(header)));
    }

    @ParameterizedTest
    @ValueSource(strings = {"Upgrade", "keep-alive, Upgrade", " upgrade ", "UPGRADE,keep-alive", "keep-alive,,\tupgrade"})
    void connectionHeaderHoldingTheUpgradeTokenIsAccepted(String connection) {
        HttpRequest r = requestWith("Connection", connection);
        assertDoesNotThrow(() -> valid(new CallbackRecorder()).handshakeRequest(r).build());
    }

    @ParameterizedTest
    @ValueSource(strings = {"keep-alive", "upgraded", "up grade", "Upgrade-Insecure, close", "", ","})
    void connectionHeaderWithoutTheUpgradeTokenIsRefused(String connection) {
        assertRefused(b -> b.handshakeRequest(requestWith("Connection", connection)));
    }

    @Test
    void connectWithNullOptionsIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> WebSocket.connect(null));
    }

    @Test
    void initialWindowZeroWithManageReadWindowIsValid() {
        CallbackRecorder rec = new CallbackRecorder();
        WebSocket.connect(valid(rec).manageReadWindow(true).initialReadWindow(0).build());
        WebSocket ws = rec.awaitWebSocket();
        ws.close();
        rec.awaitShutdown();
        rec.assertGrammar();
    }

    @Test
    void onlyTheSetupCallbackIsRequired() {
        CompletableFuture<WebSocket> setup = new CompletableFuture<>();
        int before = server.connections().size();
        WebSocket.connect(WebSocketConnectOptions.builder()
                .host(server.host()).port(server.port()).bootstrap(testbed.bootstrap())
                .handshakeRequest(WebSocket.createHandshakeRequest(server.authority(), "/"))
                .onConnectionSetup(d -> {
                    if (d.exception() != null) {
                        setup.completeExceptionally(d.exception());
                    } else {
                        setup.complete(d.websocket());
                    }
                })
                .build());
        WebSocket ws = Await.get("setup with only a setup callback", setup);
        ws.sendFrame(Opcode.TEXT, "no frame callbacks installed");
        NettyWebSocketServer.Connection conn = server.awaitConnections(before + 1).get(before);
        conn.awaitFrame("the text frame", f -> f.text().equals("no frame callbacks installed"));
        ws.close();
        assertEquals(1000, conn.awaitClose().closeCode());
        conn.awaitDisconnect();
    }

    @Test
    void portDefaultsTo80() {
        WebSocketConnectOptions o = WebSocketConnectOptions.builder().host("localhost")
                .handshakeRequest(WebSocket.createHandshakeRequest("localhost", "/")).onConnectionSetup(d -> { })
                .build();
        assertEquals(80, o.port());
    }

    // ---- the handshake request ----------------------------------------------------------------

    @Test
    void createHandshakeRequestHasTheFiveRequiredHeaders() {
        HttpRequest r = WebSocket.createHandshakeRequest("example.test:8080", "/chat?x=1");
        assertEquals("GET", r.getMethod());
        assertEquals("/chat?x=1", r.getPath());
        List<HttpHeader> h = r.getHeaders();
        assertTrue(h.contains(new HttpHeader("Host", "example.test:8080")), h.toString());
        assertTrue(h.contains(new HttpHeader("Upgrade", "websocket")), h.toString());
        assertTrue(h.contains(new HttpHeader("Connection", "Upgrade")), h.toString());
        assertTrue(h.contains(new HttpHeader("Sec-WebSocket-Version", "13")), h.toString());
        String key = h.stream().filter(x -> x.name().equals("Sec-WebSocket-Key")).findFirst().orElseThrow().value();
        assertEquals(16, Base64.getDecoder().decode(key).length, "the key is base64 of 16 bytes");
        assertEquals(5, h.size());
    }

    @Test
    void createHandshakeRequestUsesAFreshKeyEachTime() {
        HttpRequest a = WebSocket.createHandshakeRequest("h", "/");
        HttpRequest b = WebSocket.createHandshakeRequest("h", "/");
        assertNotEquals(a.getHeader("Sec-WebSocket-Key"), b.getHeader("Sec-WebSocket-Key"));
    }

    // ---- invalid frames -------------------------------------------------------------------------

    @Test
    void controlFramesOver125BytesOrNotFinalAreRefusedAndNoCompletionRuns() {
        CallbackRecorder rec = new CallbackRecorder();
        WebSocket.connect(valid(rec).build());
        WebSocket ws = rec.awaitWebSocket();
        SendRecorder sends = new SendRecorder();
        for (Opcode control : List.of(Opcode.PING, Opcode.PONG, Opcode.CLOSE)) {
            assertThrows(IllegalArgumentException.class,
                    () -> ws.sendFrame(control, new byte[126], true, sends.callback()), control + " of 126 bytes");
            assertThrows(IllegalArgumentException.class,
                    () -> ws.sendFrame(control, ByteBuffer.allocateDirect(126), true, sends.callback()));
            assertThrows(IllegalArgumentException.class,
                    () -> ws.sendFrame(control, "x".repeat(126), true, sends.callback()));
            assertThrows(IllegalArgumentException.class,
                    () -> ws.sendFrame(control, new byte[0], false, sends.callback()), control + " without FIN");
        }
        Await.sleep(200);
        assertEquals(List.of(), sends.completions(), "no completion for refused frames");

        ws.sendFrame(Opcode.PING, new byte[125]); // the limit itself is fine
        CallbackRecorder.Frame pong = rec.awaitFrame("the PONG for a 125-byte PING", f -> f.opcode() == Opcode.PONG);
        assertArrayEquals(new byte[125], pong.payload());
        ws.close();
        rec.awaitShutdown();
        rec.assertGrammar();
    }

    @Test
    void nullOpcodeIsRefused() {
        CallbackRecorder rec = new CallbackRecorder();
        WebSocket.connect(valid(rec).build());
        WebSocket ws = rec.awaitWebSocket();
        assertThrows(IllegalArgumentException.class, () -> ws.sendFrame(null, new byte[1]));
        ws.close();
        rec.awaitShutdown();
    }

    // ---- opcodes ----------------------------------------------------------------------------------

    @Test
    void opcodesHaveTheirRfcValuesAndKinds() {
        assertEquals(0, Opcode.CONTINUATION.value());
        assertEquals(1, Opcode.TEXT.value());
        assertEquals(2, Opcode.BINARY.value());
        assertEquals(8, Opcode.CLOSE.value());
        assertEquals(9, Opcode.PING.value());
        assertEquals(10, Opcode.PONG.value());
        for (Opcode o : Opcode.values()) {
            assertEquals(o, Opcode.of(o.value()));
            assertEquals(o.value() < 8, o.isDataFrame(), o.toString());
            assertEquals(o.isDataFrame(), new IncomingFrame(o, 0, true).isDataFrame());
        }
        assertEquals(Long.MAX_VALUE, WebSocket.MAX_PAYLOAD_LENGTH);
    }
}
