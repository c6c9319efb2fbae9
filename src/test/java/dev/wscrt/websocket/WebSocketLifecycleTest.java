package dev.wscrt.websocket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wscrt.CrtRuntimeException;
import dev.wscrt.io.ClientBootstrap;
import dev.wscrt.io.SocketOptions;
import dev.wscrt.testing.Await;
import dev.wscrt.testing.CallbackRecorder;
import dev.wscrt.testing.ClientResources;
import dev.wscrt.testing.NativeMemory;
import dev.wscrt.testing.NettyWebSocketServer;
import dev.wscrt.testing.ReceivedFrame;
import dev.wscrt.testing.SendRecorder;
import dev.wscrt.testing.Testbed;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The life of a connection: connect failures with their names, close() from anywhere, sends after
 * the end, callbacks that throw, and a WebSocket dropped without close().
 */
class WebSocketLifecycleTest {

    private static final Set<String> SEND_AFTER_END_ERRORS = Set.of("WSCRT_ERROR_WEBSOCKET_CONNECTION_CLOSED",
            "WSCRT_ERROR_WEBSOCKET_CLOSE_FRAME_SENT");

    @RegisterExtension
    static final Testbed testbed = Testbed.withLoopThreads(1);

    private static String errorName(Throwable t) {
        return assertInstanceOf(CrtRuntimeException.class, t, "a CrtRuntimeException").errorName();
    }

    // ---- close() ------------------------------------------------------------------------------

    @Test
    void closeIsIdempotent() {
        NettyWebSocketServer server = testbed.echoServer();
        CallbackRecorder rec = new CallbackRecorder();
        WebSocket ws = testbed.connect(server, rec);
        ws.close();
        ws.close();
        assertNull(rec.awaitShutdown().exception());
        ws.close();
        NettyWebSocketServer.Connection conn = server.awaitConnection();
        conn.awaitDisconnect();
        assertEquals(1, conn.frames().stream().filter(ReceivedFrame::isClose).count(), "one CLOSE frame");
        Await.sleep(100);
        assertEquals(1, rec.count(CallbackRecorder.Shutdown.class));
        assertTrue(ws.isClosed());
        rec.assertGrammar();
    }

    @Test
    void closeFromTheSetupCallbackShutsDownOnce() {
        NettyWebSocketServer server = testbed.echoServer();
        CallbackRecorder rec = new CallbackRecorder().onSetup(d -> d.websocket().close());
        WebSocket.connect(testbed.options(server, rec).build());
        assertNull(rec.awaitShutdown().exception());
        assertEquals(1000, server.awaitConnection().awaitClose().closeCode());
        rec.assertGrammar();
    }

    @Test
    void closeFromAFrameCallbackShutsDownOnce() {
        NettyWebSocketServer server = testbed.nettyServer(b -> b
                .onOpen(c -> c.sendText("close me")));
        AtomicReference<WebSocket> self = new AtomicReference<>();
        CallbackRecorder rec = new CallbackRecorder()
                .onSetup(d -> self.set(d.websocket()))
                .onComplete(d -> self.get().close());
        WebSocket.connect(testbed.options(server, rec).build());
        assertNull(rec.awaitShutdown().exception());
        assertEquals("close me", rec.frames().get(0).text());
        assertEquals(1000, server.awaitConnection().awaitClose().closeCode());
        rec.assertGrammar();
    }

    @Test
    void closeFromTheShutdownCallbackIsHarmless() {
        NettyWebSocketServer server = testbed.nettyServer(b -> b
                .onOpen(c -> c.sendClose(1001, "bye")));
        AtomicReference<WebSocket> self = new AtomicReference<>();
        CallbackRecorder rec = new CallbackRecorder()
                .onSetup(d -> self.set(d.websocket()))
                .onShutdown(d -> self.get().close());
        WebSocket.connect(testbed.options(server, rec).build());
        assertNull(rec.awaitShutdown().exception());
        Await.sleep(100);
        rec.assertGrammar();
        assertEquals(1, rec.count(CallbackRecorder.Shutdown.class));
    }

    @Test
    void closedWebSocketDoesNotHoldUpTheShutdownOfItsEventLoopGroup() {
        NettyWebSocketServer server = testbed.echoServer();
        ClientResources own = ClientResources.create(1);
        CallbackRecorder rec = new CallbackRecorder();
        WebSocket.connect(rec.options(server.host(), server.port(), own.bootstrap()).build());
        WebSocket ws = rec.awaitWebSocket();
        ws.close();
        assertNull(rec.awaitShutdown().exception());
        own.bootstrap().close();
        own.resolver().close();
        own.group().close();
        // No GC here: a closed WebSocket must not need the Cleaner to let its group go.
        Await.get("the group's shutdown while the closed WebSocket is still referenced",
                own.group().shutdownCompleteFuture());
        assertTrue(ws.isClosed(), "a WebSocket closed and shut down reports isClosed()");
        java.lang.ref.Reference.reachabilityFence(ws);
    }

    // ---- sends after the end ------------------------------------------------------------------

    @Test
    void sendAfterShutdownCompletesWithAnExceptionInsteadOfThrowing() {
        NettyWebSocketServer server = testbed.echoServer();
        CallbackRecorder rec = new CallbackRecorder();
        WebSocket ws = testbed.connect(server, rec);
        ws.close();
        rec.awaitShutdown();
        SendRecorder sends = new SendRecorder();
        ws.sendFrame(Opcode.TEXT, "too late", true, sends.callback());
        ws.sendFrame(Opcode.PING, new byte[0], true, sends.callback());
        List<SendRecorder.Completion> done = sends.awaitAll();
        for (SendRecorder.Completion c : done) {
            assertTrue(SEND_AFTER_END_ERRORS.contains(errorName(c.exception())),
                    "named error, got " + CallbackRecorder.describe(c.exception()));
        }
        ws.sendFrame(Opcode.TEXT, "too late, no callback"); // must not throw either
        rec.assertGrammar();
    }

    @Test
    void sendAfterOurCloseFrameCompletesWithCloseFrameSent() {
        NettyWebSocketServer server = testbed.nettyServer(b -> b.answerClose(false));
        CallbackRecorder rec = new CallbackRecorder();
        WebSocket ws = testbed.connect(server, rec);
        SendRecorder sends = new SendRecorder();
        ws.sendFrame(Opcode.CLOSE, WebSocket.closePayload(1000, ""), true, sends.callback());
        server.awaitConnection().awaitClose();
        SendRecorder late = new SendRecorder();
        ws.sendFrame(Opcode.BINARY, new byte[10], true, late.callback());
        SendRecorder.Completion c = late.awaitAll().get(0);
        assertEquals("WSCRT_ERROR_WEBSOCKET_CLOSE_FRAME_SENT", errorName(c.exception()));
        sends.awaitAllSucceeded();
        assertFalse(rec.shutdownSeen(), "still waiting for the server's CLOSE");
        ws.close();
        rec.awaitShutdown();
        rec.assertGrammar();
    }

    @Test
    void sendsQueuedWhenTheServerDropsTheConnectionEachCompleteOnce() {
        NettyWebSocketServer server = testbed.nettyServer(b -> b.echo(false));
        CallbackRecorder rec = new CallbackRecorder();
        WebSocket ws = testbed.connect(server, rec);
        SendRecorder sends = new SendRecorder();
        NettyWebSocketServer.Connection conn = server.awaitConnection();
        for (int i = 0; i < 2000; i++) {
            ws.sendFrame(Opcode.BINARY, new byte[1024], true, sends.callback());
            if (i == 1000) {
                conn.drop();
            }
        }
        assertEquals(2000, sends.awaitAll().size());
        assertNotNull(rec.awaitShutdown().exception(), "a dropped connection is not a clean close");
        rec.assertGrammar();
    }

    // ---- callbacks that throw -------------------------------------------------------------------

    private static final class Boom extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Boom(String where) {
            super("thrown from the " + where + " callback");
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"setup", "begin", "payload", "complete"})
    void callbackThatThrowsShutsDownWithCallbackExceptionAndTheThrowableAsCause(String where) {
        Boom boom = new Boom(where);
        NettyWebSocketServer server = testbed.nettyServer(b -> b
                .onOpen(c -> c.sendText("trigger")));
        CallbackRecorder rec = new CallbackRecorder();
        Consumer<Object> thrower = d -> {
            throw boom;
        };
        switch (where) {
            case "setup" -> rec.onSetup(thrower::accept);
            case "begin" -> rec.onBegin(thrower::accept);
            case "payload" -> rec.onPayload(thrower::accept);
            default -> rec.onComplete(thrower::accept);
        }
        WebSocket.connect(testbed.options(server, rec).build());
        Throwable e = rec.awaitShutdown().exception();
        assertEquals("WSCRT_ERROR_CALLBACK_EXCEPTION", errorName(e));
        assertSame(boom, e.getCause(), "the Throwable is the cause");
        rec.assertGrammar();
        assertEventLoopStillWorks(server);
    }

    @Test
    void callbackThatThrowsAnErrorIsHandledTheSameWay() {
        AssertionError error = new AssertionError("an Error, not an Exception");
        NettyWebSocketServer server = testbed.nettyServer(b -> b
                .onOpen(c -> c.sendText("trigger")));
        CallbackRecorder rec = new CallbackRecorder().onBegin(d -> {
            throw error;
        });
        WebSocket.connect(testbed.options(server, rec).build());
        Throwable e = rec.awaitShutdown().exception();
        assertEquals("WSCRT_ERROR_CALLBACK_EXCEPTION", errorName(e));
        assertSame(error, e.getCause());
        rec.assertGrammar();
        assertEventLoopStillWorks(server);
    }

    @Test
    void throwingShutdownAndSendCallbacksDoNotKillTheEventLoop() {
        NettyWebSocketServer server = testbed.echoServer();
        CallbackRecorder rec = new CallbackRecorder().onShutdown(d -> {
            throw new Boom("shutdown");
        });
        WebSocket ws = testbed.connect(server, rec);
        ws.sendFrame(Opcode.TEXT, "x", true, d -> {
            throw new Boom("send completion");
        });
        rec.awaitFrames(1);
        ws.close();
        rec.awaitShutdown();
        rec.assertGrammar();
        assertEventLoopStillWorks(server);
    }

    /** A fresh connection on the same (single-threaded) client still works end to end. */
    private static void assertEventLoopStillWorks(NettyWebSocketServer server) {
        CallbackRecorder rec = new CallbackRecorder();
        WebSocket ws = testbed.connect(server, rec);
        ws.sendFrame(Opcode.TEXT, "still alive");
        rec.awaitFrame("an echo on a new connection", f -> f.text().equals("still alive"));
        ws.close();
        rec.awaitShutdown();
    }

    // ---- a WebSocket nobody closes ----------------------------------------------------------------

    @Test
    void droppedWebSocketIsClosedByTheCleanerAndItsShutdownCallbackRunsOnce() {
        NativeMemory.Snapshot before = NativeMemory.snapshot();
        try (NettyWebSocketServer server = NettyWebSocketServer.startEcho()) {
            ClientResources own = ClientResources.create(1);
            AtomicInteger shutdowns = new AtomicInteger();
            connectAndForget(server, own.bootstrap(), shutdowns);
            NettyWebSocketServer.Connection conn = server.awaitConnection();

            Await.until("the dropped WebSocket's shutdown callback", () -> {
                System.gc();
                return shutdowns.get() > 0;
            });
            Await.until("the server to see the connection end", () -> !conn.isOpen());
            assertEquals(1, conn.frames().stream().filter(ReceivedFrame::isClose).count(),
                    "the Cleaner closes with the close handshake");
            Await.holdsFalseFor("a second shutdown callback", Duration.ofMillis(200), () -> shutdowns.get() > 1);
            own.close();
        }
        NativeMemory.assertBackTo(before);
    }

    @Test
    void webSocketHeldByItsOwnCallbacksStaysOpenUntilClosedAndIsFreedAfterwards() {
        // The usual handler object keeps the WebSocket it was given (here: the recorder keeps the setup
        // data). The callbacks are the program's, so they keep the connection open, as the JDK's client
        // does; once it is closed, nothing native holds them any more and everything is freed.
        NativeMemory.Snapshot before = NativeMemory.snapshot();
        try (NettyWebSocketServer server = NettyWebSocketServer.startEcho()) {
            ClientResources own = ClientResources.create(1);
            CallbackRecorder rec = connectWithARecorderAndForget(server, own.bootstrap());
            NettyWebSocketServer.Connection conn = server.awaitConnection();
            for (int i = 0; i < 3; i++) {
                System.gc();
                Await.sleep(50);
            }
            assertTrue(conn.isOpen(), "a WebSocket its callbacks reference is not collected while open");
            rec.awaitWebSocket().close();
            assertNull(rec.awaitShutdown().exception());
            rec = null;
            own.close();
        }
        NativeMemory.assertBackTo(before);
    }

    private static CallbackRecorder connectWithARecorderAndForget(NettyWebSocketServer server,
                                                                  ClientBootstrap bootstrap) {
        CallbackRecorder rec = new CallbackRecorder();
        WebSocket.connect(rec.options(server.host(), server.port(), bootstrap).build());
        rec.awaitWebSocket().sendFrame(Opcode.TEXT, "held by my handler");
        rec.awaitFrames(1);
        return rec;
    }

    /** Connects, sends one frame from the setup callback, and keeps no reference to the WebSocket. */
    private static void connectAndForget(NettyWebSocketServer server, ClientBootstrap bootstrap,
                                         AtomicInteger shutdowns) {
        CompletableFuture<Void> setup = new CompletableFuture<>();
        WebSocket.connect(WebSocketConnectOptions.builder()
                .host(server.host()).port(server.port()).bootstrap(bootstrap)
                .handshakeRequest(WebSocket.createHandshakeRequest(server.authority(), "/"))
                .onConnectionSetup(d -> {
                    if (d.exception() != null) {
                        setup.completeExceptionally(d.exception());
                    } else {
                        d.websocket().sendFrame(Opcode.TEXT, "hello from a soon forgotten socket");
                        setup.complete(null);
                    }
                })
                .onConnectionShutdown(d -> shutdowns.incrementAndGet())
                .build());
        Await.get("setup", setup);
        server.awaitConnection().awaitFrames(1);
    }

    // ---- connect failures -------------------------------------------------------------------------

    private static int closedPort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void connectToAClosedPortFailsWithConnectionRefused() {
        CallbackRecorder rec = new CallbackRecorder();
        WebSocket.connect(rec.options("127.0.0.1", closedPort(), testbed.bootstrap()).build());
        OnConnectionSetupData setup = rec.awaitSetup();
        assertEquals("WSCRT_ERROR_IO_SOCKET_CONNECTION_REFUSED", errorName(setup.exception()));
        assertNull(setup.websocket());
        assertNull(setup.handshakeResponseStatus());
        rec.assertNoShutdownWithin(java.time.Duration.ofMillis(200));
        rec.assertGrammar();
    }

    @Test
    void connectToAListenerWithAFullBacklogTimesOut() throws IOException {
        try (ServerSocket listener = new ServerSocket()) {
            listener.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0), 1);
            List<Socket> fillers = new ArrayList<>();
            try {
                // Fill the accept queue (never accepted) until a plain connect stalls.
                for (int i = 0; i < 64; i++) {
                    Socket s = new Socket();
                    fillers.add(s);
                    try {
                        s.connect(listener.getLocalSocketAddress(), 200);
                    } catch (IOException full) {
                        break;
                    }
                }
                CallbackRecorder rec = new CallbackRecorder();
                long start = System.nanoTime();
                WebSocket.connect(rec.options("127.0.0.1", listener.getLocalPort(), testbed.bootstrap())
                        .socketOptions(new SocketOptions().withConnectTimeoutMs(300)).build());
                OnConnectionSetupData setup = rec.awaitSetup();
                long elapsedMs = (System.nanoTime() - start) / 1_000_000;
                assertEquals("WSCRT_ERROR_IO_SOCKET_TIMEOUT", errorName(setup.exception()));
                assertTrue(elapsedMs >= 250 && elapsedMs < 5000, "timed out after " + elapsedMs + " ms");
                rec.assertGrammar();
            } finally {
                for (Socket s : fillers) {
                    s.close();
                }
            }
        }
    }

    @Test
    void hostNameThatCannotBeResolvedFailsWithADnsError() {
        // A 64-character label is invalid: the resolver refuses it locally, no query leaves the machine.
        String invalid = "x".repeat(64) + ".invalid";
        CallbackRecorder rec = new CallbackRecorder();
        WebSocket.connect(rec.options(invalid, 80, testbed.bootstrap()).build());
        String name = errorName(rec.awaitSetupFailure());
        assertTrue(name.startsWith("WSCRT_ERROR_IO_DNS_"), "a DNS error, got " + name);
        rec.assertGrammar();
    }

    @Test
    void localhostIsResolvedAndConnected() {
        NettyWebSocketServer server = testbed.echoServer();
        CallbackRecorder rec = new CallbackRecorder();
        WebSocket.connect(rec.options("localhost", server.port(), testbed.bootstrap())
                .socketOptions(new SocketOptions().withDomain(SocketOptions.Domain.IPV4)).build());
        WebSocket ws = rec.awaitWebSocket();
        ws.sendFrame(Opcode.TEXT, "via localhost");
        assertEquals("via localhost", rec.awaitFrames(1).get(0).text());
        ws.close();
        rec.awaitShutdown();
        rec.assertGrammar();
    }

    @Test
    void ipv6LoopbackWorks() {
        NettyWebSocketServer server = testbed.nettyServer(b -> b.host("::1"));
        CallbackRecorder rec = new CallbackRecorder();
        WebSocket.connect(rec.options("::1", server.port(), testbed.bootstrap())
                .socketOptions(new SocketOptions().withDomain(SocketOptions.Domain.IPV6)).build());
        WebSocket ws = rec.awaitWebSocket();
        ws.sendFrame(Opcode.BINARY, new byte[] {6});
        assertEquals(6, rec.awaitFrames(1).get(0).payload()[0]);
        assertEquals("[::1]:" + server.port(), server.awaitConnection().requestHeader("Host"));
        ws.close();
        rec.awaitShutdown();
        rec.assertGrammar();
    }

    @Test
    void socketOptionsWithKeepAliveAndNoDelayOffStillConnect() {
        NettyWebSocketServer server = testbed.echoServer();
        CallbackRecorder rec = new CallbackRecorder();
        WebSocket.connect(testbed.options(server, rec)
                .socketOptions(new SocketOptions().withKeepAlive(true).withKeepAliveIntervalSecs(5)
                        .withKeepAliveTimeoutSecs(10).withNoDelay(false)).build());
        WebSocket ws = rec.awaitWebSocket();
        ws.sendFrame(Opcode.TEXT, "options");
        assertEquals("options", rec.awaitFrames(1).get(0).text());
        ws.close();
        rec.awaitShutdown();
    }
}
