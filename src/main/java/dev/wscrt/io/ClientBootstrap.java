package dev.wscrt.io;

import dev.wscrt.CrtResource;

/**
 * What a client connection needs to get a socket: an {@link EventLoopGroup} and a {@link HostResolver}.
 * The native bootstrap keeps both alive while it exists, so closing them first is safe.
 *
 * <p>Thread-safe and shareable by any number of connections; each connection keeps the bootstrap alive
 * until it has shut down, so closing the bootstrap while connections run is safe too.
 */
public final class ClientBootstrap extends CrtResource {
    private static ClientBootstrap staticDefault;

    /**
     * A bootstrap over {@code group} and {@code resolver}; it holds references to both.
     *
     * @param group    the event loops connections will run on
     * @param resolver the resolver for host names
     * @throws IllegalArgumentException if either is null
     * @throws IllegalStateException if either is already closed
     */
    public ClientBootstrap(EventLoopGroup group, HostResolver resolver) {
        if (group == null || resolver == null) {
            throw new IllegalArgumentException("group and resolver must not be null");
        }
        acquireNativeHandle(nativeNew(group.handle(), resolver.handle()), ClientBootstrap::nativeRelease);
    }

    /**
     * The process-wide default bootstrap (one event-loop thread per available processor, as
     * {@link EventLoopGroup#EventLoopGroup()} counts them, and a 16-entry resolver), created on first use and
     * released when the JVM exits. Do not close it.
     *
     * @return the shared bootstrap
     */
    public static synchronized ClientBootstrap getOrCreateStaticDefault() {
        if (staticDefault == null) {
            try (EventLoopGroup group = new EventLoopGroup(0); HostResolver resolver = new HostResolver(group, 16)) {
                staticDefault = new ClientBootstrap(group, resolver);
            }
            ClientBootstrap created = staticDefault;
            Runtime.getRuntime().addShutdownHook(new Thread(created::close, "wscrt-default-bootstrap-cleanup"));
        }
        return staticDefault;
    }

    private static native long nativeNew(long groupHandle, long resolverHandle);

    private static native void nativeRelease(long handle);
}
