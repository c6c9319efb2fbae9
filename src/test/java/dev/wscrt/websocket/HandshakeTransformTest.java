package dev.wscrt.websocket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wscrt.CrtRuntimeException;
import dev.wscrt.http.HttpRequest;
import dev.wscrt.testing.Await;
import dev.wscrt.testing.CallbackRecorder;
import dev.wscrt.testing.NettyWebSocketServer;
import dev.wscrt.testing.Testbed;
import io.netty.handler.codec.http.FullHttpRequest;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The handshake transform on both APIs: a signed upgrade accepted by Netty's handshake pipeline behind
 * a signature check, an unsigned or stale one refused with 403; failing, invalid, never-completing and
 * late transforms fail the setup once, with named errors, on an event-loop thread, without a byte sent;
 * native memory back to the baseline at the end of the class (the testbed checks it).
 */
class HandshakeTransformTest {
    @RegisterExtension
    static final Testbed testbed = Testbed.withLoopThreads(2);

    private static final byte[] SECRET = "device-secret-for-tests".getBytes(StandardCharsets.UTF_8);
    private static final Duration FRESHNESS = Duration.ofSeconds(30);

    // ---- the signature: HMAC-SHA256 over method, path, Host and a timestamp --------------------------------

    private static String signature(String method, String path, String host, String date) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(SECRET, "HmacSHA256"));
            String signed = method + "\n" + path + "\n" + host + "\n" + date;
            return HexFormat.of().formatHex(mac.doFinal(signed.getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Signs the request it is given, as a device would, with the time {@code now} gives. */
    private static HandshakeTransform signer(Instant now) {
        return request -> {
            request.setPath(request.getPath() + "?device=thermo-1");
            String date = Long.toString(now.getEpochSecond());
            request.setHeader("X-Signature-Date", date);
            request.setHeader("X-Signature", signature(request.getMethod(), request.getPath(),
                    request.getHeader("Host"), date));
            return CompletableFuture.completedFuture(request);
        };
    }

    /** The server's check, in front of Netty's handshake handler: a valid signature less than 30 s old. */
    private static boolean signedAndFresh(FullHttpRequest request) {
        String date = request.headers().get("X-Signature-Date");
        String given = request.headers().get("X-Signature");
        String host = request.headers().get("Host");
        if (date == null || given == null || host == null) {
            return false;
        }
        long age = Instant.now().getEpochSecond() - Long.parseLong(date);
        String expected = signature(request.method().name(), request.uri(), host, date);
        return Math.abs(age) <= FRESHNESS.toSeconds() && MessageDigest.isEqual(
                expected.getBytes(StandardCharsets.US_ASCII), given.getBytes(StandardCharsets.US_ASCII));
    }

    private static NettyWebSocketServer signatureCheckingServer() {
        return testbed.nettyServer(b -> b.admitUpgradesOnly(HandshakeTransformTest::signedAndFresh));
    }

    private static URI uri(NettyWebSocketServer server, String path) {
        return URI.create("ws://" + server.authority() + path);
    }

    private static WebSocketConnection.Builder messageBuilder(NettyWebSocketServer server, String path) {
        return WebSocketConnection.builder(uri(server, path)).bootstrap(testbed.bootstrap());
    }

    // ---- signing ------------------------------------------------------------------------------------------

    @Test
    void aSignedUpgradeIsAcceptedByTheServersSignatureCheckAndTheTransformSawThePreparedRequest() {
        NettyWebSocketServer server = signatureCheckingServer();
        AtomicReference<HttpRequest> seen = new AtomicReference<>();
        HandshakeTransform sign = signer(Instant.now());
        CallbackRecorder rec = new CallbackRecorder();
        WebSocket ws = testbed.connect(testbed.options(server, rec).handshakeTransform(request -> {
            seen.set(HandshakeTransformRun.copyOf(request));
            return sign.transform(request);
        }), rec);

        HttpRequest prepared = seen.get();
        assertEquals("GET", prepared.getMethod());
        assertEquals("/", prepared.getPath());
        assertEquals(server.authority(), prepared.getHeader("Host"));
        assertEquals("websocket", prepared.getHeader("Upgrade"));
        assertEquals("13", prepared.getHeader("Sec-WebSocket-Version"));
        NettyWebSocketServer.Connection conn = server.awaitConnection();
        assertEquals("/?device=thermo-1", conn.requestUri(), "the transformed path and query were sent");
        assertEquals(64, conn.requestHeader("X-Signature").length());
        ws.sendFrame(Opcode.TEXT, "signed");
        assertEquals("signed", rec.awaitFrames(1).get(0).text(), "the upgraded connection echoes");
        Testbed.closeCleanly(ws, rec);
    }

    @Test
    void theMessageApiSignsItsUpgradeTooAndAnUnsignedOneIsRefusedWith403() {
        NettyWebSocketServer server = signatureCheckingServer();
        WebSocketConnection signed = Await.get("signed connect", messageBuilder(server, "/feed")
                .handshakeTransform(signer(Instant.now())).connect(new MessageRecorder()));
        assertEquals("/feed?device=thermo-1", server.awaitConnection().requestUri());
        Await.get("close", signed.close(1000, null));

        CompletableFuture<WebSocketConnection> unsigned = messageBuilder(server, "/feed").connect(new MessageRecorder());
        CompletionException e = assertThrows(CompletionException.class, unsigned::join);
        WebSocketHandshakeException refused = assertInstanceOf(WebSocketHandshakeException.class, e.getCause());
        assertEquals(403, refused.status());
        assertEquals("forbidden", new String(refused.body(), StandardCharsets.UTF_8));
        assertEquals(1, server.connections().size(), "only the signed request was upgraded");
    }

    @Test
    void aStaleSignatureIsRefusedWith403AndNoShutdownFollows() {
        NettyWebSocketServer server = signatureCheckingServer();
        CallbackRecorder rec = new CallbackRecorder();
        WebSocket.connect(testbed.options(server, rec)
                .handshakeTransform(signer(Instant.now().minus(Duration.ofMinutes(10)))).build());

        CrtRuntimeException e = rec.awaitSetupFailure();
        assertEquals("WSCRT_ERROR_WEBSOCKET_UPGRADE_FAILURE", e.errorName());
        assertEquals(403, rec.awaitSetup().handshakeResponseStatus());
        rec.assertNoShutdownWithin(Duration.ofMillis(300));
        rec.assertGrammar();
        assertEquals(0, server.connections().size());
    }

    // ---- failures -----------------------------------------------------------------------------------------

    /** Connects through the frame API with {@code transform}; expects a setup failure before any TCP connection. */
    private static CrtRuntimeException failedSetup(HandshakeTransform transform,
                                                   UnaryOperator<WebSocketConnectOptions.Builder> more) {
        NettyWebSocketServer server = testbed.echoServer();
        CallbackRecorder rec = new CallbackRecorder();
        WebSocket.connect(more.apply(testbed.options(server, rec).handshakeTransform(transform)).build());
        CrtRuntimeException e = rec.awaitSetupFailure();
        assertNull(rec.awaitSetup().handshakeResponseStatus(), "no response: nothing was sent");
        String thread = ((CallbackRecorder.Setup) rec.events().get(0)).thread();
        assertTrue(thread.startsWith("wscrt-el"), "the setup failure is reported on an event-loop thread: " + thread);
        rec.assertNoShutdownWithin(Duration.ofMillis(200));
        rec.assertGrammar();
        assertEquals(1, rec.count(CallbackRecorder.Setup.class), "setup reported exactly once");
        assertEquals(0, server.tcpConnectionCount(), "no connection attempt reached the server");
        return e;
    }

    @Test
    void aTransformThatFailsFailsTheSetupWithItsExceptionAsTheCause() {
        IllegalStateException why = new IllegalStateException("the key store is locked");
        CrtRuntimeException e = failedSetup(request -> CompletableFuture.failedFuture(why), b -> b);
        assertEquals("WSCRT_ERROR_WEBSOCKET_HANDSHAKE_TRANSFORM_FAILED", e.errorName());
        assertSame(why, e.getCause());
    }

    @Test
    void aTransformThatThrowsFailsTheSetupTheSameWayAndConnectReturnsNormally() {
        IllegalStateException why = new IllegalStateException("no clock");
        CrtRuntimeException e = failedSetup(request -> {
            throw why;
        }, b -> b);
        assertEquals("WSCRT_ERROR_WEBSOCKET_HANDSHAKE_TRANSFORM_FAILED", e.errorName());
        assertSame(why, e.getCause());
    }

    @Test
    void theMessageApiFailsItsConnectFutureWithTheTransformsFailure() {
        NettyWebSocketServer server = testbed.echoServer();
        IllegalStateException why = new IllegalStateException("signer unavailable");
        CompletableFuture<WebSocketConnection> connecting = messageBuilder(server, "/")
                .handshakeTransform(request -> CompletableFuture.failedFuture(why)).connect(new MessageRecorder());
        CompletionException e = assertThrows(CompletionException.class, connecting::join);
        CrtRuntimeException failure = assertInstanceOf(CrtRuntimeException.class, e.getCause());
        assertEquals("WSCRT_ERROR_WEBSOCKET_HANDSHAKE_TRANSFORM_FAILED", failure.errorName());
        assertSame(why, failure.getCause());
        assertEquals(0, server.tcpConnectionCount());
    }

    @Test
    void aTransformThatNeverCompletesFailsTheSetupAtTheHandshakeTimeout() {
        CompletableFuture<HttpRequest> never = new CompletableFuture<>();
        long start = System.nanoTime();
        CrtRuntimeException e = failedSetup(request -> never, b -> b.handshakeTimeoutMs(400));
        long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertEquals("WSCRT_ERROR_WEBSOCKET_HANDSHAKE_TRANSFORM_TIMEOUT", e.errorName());
        assertTrue(elapsedMs >= 400, "not before the timeout: " + elapsedMs + " ms");
        assertTrue(elapsedMs < 5_000, "bounded by the timeout: " + elapsedMs + " ms");
        assertTrue(e.getCause().getMessage().contains("400 ms"), e.getCause().getMessage());
        assertTrue(!never.isDone(), "the transform's own future is left alone");
    }

    @Test
    void aCompletionAfterTheTimeoutIsIgnored() {
        NettyWebSocketServer server = testbed.echoServer();
        CompletableFuture<HttpRequest> late = new CompletableFuture<>();
        AtomicReference<HttpRequest> given = new AtomicReference<>();
        CallbackRecorder rec = new CallbackRecorder();
        WebSocket.connect(testbed.options(server, rec).handshakeTimeoutMs(200).handshakeTransform(request -> {
            given.set(request);
            return late;
        }).build());
        assertEquals("WSCRT_ERROR_WEBSOCKET_HANDSHAKE_TRANSFORM_TIMEOUT", rec.awaitSetupFailure().errorName());
        late.complete(given.get());
        Await.holdsFalseFor("a connection after the timeout", Duration.ofMillis(300),
                () -> server.tcpConnectionCount() > 0 || rec.count(CallbackRecorder.Setup.class) > 1);
    }

    @Test
    void aTransformCompletedOnAnotherThreadAfterADelayConnectsAndConnectDoesNotWaitForIt() throws Exception {
        NettyWebSocketServer server = signatureCheckingServer();
        CountDownLatch connectReturned = new CountDownLatch(1);
        AtomicReference<String> transformThread = new AtomicReference<>();
        AtomicReference<String> completingThread = new AtomicReference<>();
        HandshakeTransform sign = signer(Instant.now());
        ExecutorService signerThread = Executors.newSingleThreadExecutor(r -> new Thread(r, "test-signer"));
        try {
            CallbackRecorder rec = new CallbackRecorder();
            WebSocket.connect(testbed.options(server, rec).handshakeTransform(request -> {
                transformThread.set(Thread.currentThread().getName());
                return CompletableFuture.supplyAsync(() -> {
                    try {
                        // Completes only after connect() has returned, and 200 ms later still.
                        if (!connectReturned.await(10, TimeUnit.SECONDS)) {
                            throw new IllegalStateException("connect() did not return while the transform ran");
                        }
                        Thread.sleep(200);
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                    completingThread.set(Thread.currentThread().getName());
                    return sign.transform(request).toCompletableFuture().join();
                }, signerThread);
            }).build());
            connectReturned.countDown();

            assertEquals(Thread.currentThread().getName(), transformThread.get(), "called on the thread of connect");
            assertEquals(0, server.tcpConnectionCount(), "no connection attempt before the transform completed");
            WebSocket ws = rec.awaitWebSocket();
            assertEquals("test-signer", completingThread.get());
            assertEquals("/?device=thermo-1", server.awaitConnection().requestUri());
            Testbed.closeCleanly(ws, rec);
        } finally {
            signerThread.shutdownNow();
        }
    }

    // ---- the transformed request is checked like any other ----------------------------------------------

    private static void assertRefused(UnaryOperator<HttpRequest> change, String expectedInMessage) {
        CrtRuntimeException e = failedSetup(request -> CompletableFuture.completedFuture(change.apply(request)),
                b -> b);
        assertEquals("WSCRT_ERROR_WEBSOCKET_HANDSHAKE_TRANSFORM_FAILED", e.errorName());
        IllegalArgumentException why = assertInstanceOf(IllegalArgumentException.class, e.getCause());
        assertTrue(why.getMessage().contains(expectedInMessage), why.getMessage());
    }

    @Test
    void anInvalidTransformedRequestIsRefusedWithTheReasonAndNeverSent() {
        assertRefused(r -> {
            r.setPath("feed");
            return r;
        }, "must start with '/'");
        assertRefused(r -> {
            r.setPath("/a b");
            return r;
        }, "the path contains a space");
        assertRefused(r -> {
            r.setHeader("X-Signature", "abc\r\nX-Injected: 1");
            return r;
        }, "X-Signature");
        assertRefused(r -> {
            r.addHeader("Bad Name", "1");
            return r;
        }, "header name 'Bad Name'");
        assertRefused(r -> {
            r.setHeader("X-Note", "caf\u00e9");
            return r;
        }, "U+00E9");
        assertRefused(r -> {
            r.removeHeader("Sec-WebSocket-Key");
            return r;
        }, "lacks the Sec-WebSocket-Key header");
        assertRefused(r -> new HttpRequest("POST", r.getPath(), r.getHeaders()), "must be a GET");
        assertRefused(r -> null, "completed with null");
    }
}
