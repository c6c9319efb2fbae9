package dev.wscrt.io;

import dev.wscrt.CrtResource;

/**
 * Resolves host names with getaddrinfo on background threads, keeping up to {@code maxEntries} answers
 * for 30 seconds. Results are delivered on the requesting connection's event loop.
 *
 * <p>Thread-safe and shareable. A name that does not resolve fails the connection's setup with
 * {@code WSCRT_ERROR_IO_DNS_QUERY_FAILED}, {@code WSCRT_ERROR_IO_DNS_INVALID_NAME} or
 * {@code WSCRT_ERROR_IO_DNS_NO_ADDRESS}.
 */
public final class HostResolver extends CrtResource {
    /**
     * A resolver using {@code group}'s threads for callbacks and caching at most {@code maxEntries} hosts.
     *
     * @param group      the event loops that receive results; kept alive by the resolver
     * @param maxEntries how many host names to cache, positive
     * @throws IllegalArgumentException if {@code group} is null or {@code maxEntries} is not positive
     * @throws IllegalStateException if {@code group} is closed
     */
    public HostResolver(EventLoopGroup group, int maxEntries) {
        if (group == null) {
            throw new IllegalArgumentException("group must not be null");
        }
        if (maxEntries <= 0) {
            throw new IllegalArgumentException("maxEntries must be positive: " + maxEntries);
        }
        acquireNativeHandle(nativeNew(group.handle(), maxEntries), HostResolver::nativeRelease);
    }

    long handle() {
        return nativeHandle();
    }

    private static native long nativeNew(long groupHandle, int maxEntries);

    private static native void nativeRelease(long handle);
}
