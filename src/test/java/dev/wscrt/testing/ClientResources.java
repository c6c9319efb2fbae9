package dev.wscrt.testing;

import dev.wscrt.io.ClientBootstrap;
import dev.wscrt.io.EventLoopGroup;
import dev.wscrt.io.HostResolver;

/**
 * A test class's own event loop group, resolver and bootstrap, so that what it leaves behind (a
 * resolver cache, loop threads) goes away when it closes, and native memory can be compared with
 * the baseline taken before. Closing waits (bounded) for the group's shutdown to complete.
 */
public final class ClientResources implements AutoCloseable {

    private final EventLoopGroup group;
    private final HostResolver resolver;
    private final ClientBootstrap bootstrap;

    private ClientResources(int threads) {
        group = new EventLoopGroup(threads);
        resolver = new HostResolver(group, 16);
        bootstrap = new ClientBootstrap(group, resolver);
    }

    public static ClientResources create(int threads) {
        return new ClientResources(threads);
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

    @Override
    public void close() {
        bootstrap.close();
        resolver.close();
        group.close();
        Await.get("the event loop group to shut down", group.shutdownCompleteFuture());
    }
}
