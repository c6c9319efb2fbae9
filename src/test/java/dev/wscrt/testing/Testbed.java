package dev.wscrt.testing;

import static org.junit.jupiter.api.Assertions.assertNull;

import dev.wscrt.io.ClientBootstrap;
import dev.wscrt.websocket.WebSocket;
import dev.wscrt.websocket.WebSocketConnectOptions;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The shared fixture of the WebSocket tests, a JUnit 5 extension: the test class's own
 * {@link ClientResources} with a native-memory leak check around the whole class, and the local
 * servers a test starts, each closed when that test ends. A test then says only what it checks:
 *
 * <pre>{@code
 * @RegisterExtension
 * static final Testbed testbed = Testbed.withLoopThreads(1);
 *
 * @Test
 * void textEchoes() {
 *     NettyWebSocketServer server = testbed.echoServer();
 *     CallbackRecorder rec = new CallbackRecorder();
 *     WebSocket ws = testbed.connect(server, rec);
 *     ...
 *     Testbed.closeCleanly(ws, rec);
 * }
 * }</pre>
 *
 * <p>Before all tests: a {@link NativeMemory#snapshot() snapshot} of native memory, then the client
 * resources. After each test: the servers it started are closed, newest first. After all tests: the
 * client resources are closed and native memory must be back to the snapshot (a leak fails the class).
 * Tests of one class run one at a time (JUnit's default); the servers list is theirs alone.
 */
public final class Testbed implements BeforeAllCallback, AfterEachCallback, AfterAllCallback {

    private final int loopThreads;
    private final Deque<LocalServer> servers = new ArrayDeque<>();
    private NativeMemory.Snapshot baseline;
    private ClientResources client;

    private Testbed(int loopThreads) {
        this.loopThreads = loopThreads;
    }

    /** A testbed whose client has {@code loopThreads} event-loop threads. */
    public static Testbed withLoopThreads(int loopThreads) {
        return new Testbed(loopThreads);
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        baseline = NativeMemory.snapshot();
        client = ClientResources.create(loopThreads);
    }

    @Override
    public void afterEach(ExtensionContext context) {
        closeServers();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        closeServers();
        client.close();
        NativeMemory.assertBackTo(baseline);
    }

    private synchronized void closeServers() {
        while (!servers.isEmpty()) {
            servers.pop().close();
        }
    }

    // ---- the client ---------------------------------------------------------------------------

    public ClientResources client() {
        return client;
    }

    public ClientBootstrap bootstrap() {
        return client.bootstrap();
    }

    /** Options for ws://host:port/ of {@code server} on this client, recorded by {@code rec}. */
    public WebSocketConnectOptions.Builder options(LocalServer server, CallbackRecorder rec) {
        return rec.options(server.host(), server.port(), client.bootstrap());
    }

    /** Connects to {@code server} with {@link #options} and waits for a successful setup. */
    public WebSocket connect(LocalServer server, CallbackRecorder rec) {
        return connect(options(server, rec), rec);
    }

    /** Connects with {@code options} (made by {@link #options}, then customised) and waits for a successful setup. */
    public WebSocket connect(WebSocketConnectOptions.Builder options, CallbackRecorder rec) {
        WebSocket.connect(options.build());
        return rec.awaitWebSocket();
    }

    /** Closes {@code ws}, expects a shutdown without error, and checks the callback grammar. */
    public static void closeCleanly(WebSocket ws, CallbackRecorder rec) {
        ws.close();
        assertNull(rec.awaitShutdown().exception(), "a clean close reports no exception");
        rec.assertGrammar();
    }

    // ---- servers, closed when the test ends ------------------------------------------------------

    /** A Netty echo server on 127.0.0.1. */
    public NettyWebSocketServer echoServer() {
        return closeAfterTest(NettyWebSocketServer.startEcho());
    }

    /** A Netty server on 127.0.0.1 configured by {@code configure}, e.g. {@code b -> b.echo(false)}. */
    public NettyWebSocketServer nettyServer(UnaryOperator<NettyWebSocketServer.Builder> configure) {
        return closeAfterTest(configure.apply(NettyWebSocketServer.builder()).start());
    }

    /** A scripted raw server on 127.0.0.1 (for faults and protocol violations). */
    public ScriptedServer scriptedServer() {
        return closeAfterTest(ScriptedServer.start());
    }

    /** Closes {@code server} when the current test ends (after its last line, before the next test). */
    public synchronized <S extends LocalServer> S closeAfterTest(S server) {
        servers.push(server);
        return server;
    }
}
