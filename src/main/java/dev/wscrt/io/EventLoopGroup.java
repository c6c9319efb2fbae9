package dev.wscrt.io;

import dev.wscrt.CrtResource;
import java.util.concurrent.CompletableFuture;

/**
 * A group of native event-loop threads; every connection lives on one of them for its whole life and
 * all of its callbacks run there. {@link #close()} starts an asynchronous shutdown that finishes once no
 * connection, resolver or bootstrap uses the group any more; {@link #shutdownCompleteFuture()} completes
 * then. Closing from one of the group's own threads is allowed.
 *
 * <p>Thread-safe. The group's threads are daemon threads named {@code wscrt-el-<n>}.
 */
public final class EventLoopGroup extends CrtResource {
    private final CompletableFuture<Void> shutdownComplete = new CompletableFuture<>();
    private final int threadCount;

    /**
     * A group with one thread per available processor.
     *
     * @throws dev.wscrt.CrtRuntimeException {@code WSCRT_ERROR_THREAD_CREATE_FAILED} if a thread could
     *         not be started
     */
    public EventLoopGroup() {
        this(0);
    }

    /**
     * A group with {@code threads} threads.
     *
     * @param threads the number of threads, 0 to 65535; 0 for one per available processor
     * @throws IllegalArgumentException if {@code threads} is out of range
     * @throws dev.wscrt.CrtRuntimeException {@code WSCRT_ERROR_THREAD_CREATE_FAILED} if a thread could
     *         not be started
     */
    public EventLoopGroup(int threads) {
        if (threads < 0 || threads > 0xFFFF) {
            throw new IllegalArgumentException("threads must be between 0 and 65535: " + threads);
        }
        long handle = nativeNew(threads, shutdownComplete);
        acquireNativeHandle(handle, EventLoopGroup::nativeRelease);
        this.threadCount = nativeThreadCount(handle);
    }

    /**
     * The number of event-loop threads.
     *
     * @return the thread count, at least 1
     */
    public int threadCount() {
        return threadCount;
    }

    /**
     * Completes once every thread of the group has stopped, after {@link #close()} and once no connection,
     * resolver or bootstrap uses the group. It completes on a thread of its own, never exceptionally.
     *
     * @return the future, the same one on every call
     */
    public CompletableFuture<Void> shutdownCompleteFuture() {
        return shutdownComplete;
    }

    long handle() {
        return nativeHandle();
    }

    private static native long nativeNew(int threads, CompletableFuture<Void> onShutdownComplete);

    private static native int nativeThreadCount(long handle);

    private static native void nativeRelease(long handle);
}
