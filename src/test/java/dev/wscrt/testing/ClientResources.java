package dev.wscrt.testing;

import dev.wscrt.io.ClientBootstrap;
import dev.wscrt.io.EventLoopGroup;
import dev.wscrt.io.HostResolver;
import dev.wscrt.websocket.WebSocketConnectOptions;
import java.time.Duration;

/**
 * A test class's own event loop group, resolver and bootstrap, so that what it leaves behind (a
 * resolver cache, loop threads) goes away when it closes, and native memory can be compared with
 * the baseline taken before. Closing waits (bounded, with GC nudges) for the group's shutdown.
 */
public final class ClientResources implements AutoCloseable {

    private final EventLoopGroup group;
    private final HostResolver resolver;
    private final ClientBootstrap bootstrap;

    private ClientResources(int threads, Duration busyPoll) {
        group = new EventLoopGroup(threads, busyPoll);
        resolver = new HostResolver(group, 16);
        bootstrap = new ClientBootstrap(group, resolver);
    }

    public static ClientResources create(int threads) {
        return new ClientResources(threads, Duration.ZERO);
    }

    /** A client whose loop threads poll for up to {@code busyPoll} before they sleep. */
    public static ClientResources create(int threads, Duration busyPoll) {
        return new ClientResources(threads, busyPoll);
    }

    public EventLoopGroup group() {
        return group;
    }

    public HostResolver resolver() {
        return resolver;
    }

    public ClientBootstrap bootstrap() {
        return bootstrap;
    }

    /** Options for a WebSocket to 127.0.0.1:{@code port} on this client's bootstrap; the caller adds the rest. */
    public WebSocketConnectOptions.Builder loopbackOptions(int port) {
        return WebSocketConnectOptions.builder().host("127.0.0.1").port(port).bootstrap(bootstrap);
    }

    @Override
    public void close() {
        bootstrap.close();
        resolver.close();
        group.close();
        // GC nudges: a WebSocket that a test dropped (or a failed one left unreferenced) is released
        // by its Cleaner, and the group's shutdown waits for it. Tests that require shutdown
        // without GC say so themselves.
        Await.until("the event loop group to shut down", Await.DEFAULT_TIMEOUT, () -> {
            System.gc();
            return group.shutdownCompleteFuture().isDone();
        }, () -> "open resources: " + dev.wscrt.CrtResource.openResources());
    }
}
