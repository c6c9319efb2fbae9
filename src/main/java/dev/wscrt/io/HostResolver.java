package dev.wscrt.io;

import dev.wscrt.CrtResource;

/**
 * Resolves host names with getaddrinfo on background threads, keeping up to {@code maxEntries} answers
 * for 30 seconds. Results are delivered on the requesting connection's event loop.
 */
public final class HostResolver extends CrtResource {
    /** A resolver using {@code group}'s threads for callbacks and caching at most {@code maxEntries} hosts. */
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
