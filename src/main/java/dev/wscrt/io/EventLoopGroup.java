package dev.wscrt.io;

import dev.wscrt.CrtResource;
import java.time.Duration;
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
    private static final Duration MAX_BUSY_POLL = Duration.ofSeconds(1);
    private final CompletableFuture<Void> shutdownComplete = new CompletableFuture<>();
    private final int threadCount;
    private final Duration busyPoll;

    /**
     * A group with one thread per available processor: per processor the calling thread may run on (its
     * CPU affinity, as {@code taskset} or a cpuset sets it), not per processor of the machine. Unlike
     * {@link Runtime#availableProcessors()}, a container's CPU quota does not lower the count.
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
     * @param threads the number of threads, 0 to 65535; 0 for one per available processor (see {@link #EventLoopGroup()})
     * @throws IllegalArgumentException if {@code threads} is out of range
     * @throws dev.wscrt.CrtRuntimeException {@code WSCRT_ERROR_THREAD_CREATE_FAILED} if a thread could
     *         not be started
     */
    public EventLoopGroup(int threads) {
        this(threads, Duration.ZERO);
    }

    /**
     * A group with {@code threads} threads that poll for up to {@code busyPoll} before they sleep: after a
     * thread handled events (network, or work handed over by other threads, such as a send), it keeps
     * polling without blocking for that long, or until its next timer is due, so that a reply arriving
     * meanwhile is handled without the wake-up latency of a sleeping thread (tens of microseconds on virtual
     * machines; a quarter off a loopback echo round trip on this project's benchmark machine). The price is
     * CPU: up to {@code busyPoll} per burst of activity and thread (each empty poll yields to other runnable
     * threads, and a thread with nothing to do for longer sleeps as usual). For latency-sensitive services;
     * {@link Duration#ZERO}, the default, sleeps at once.
     *
     * @param threads the number of threads, 0 to 65535; 0 for one per available processor (see {@link #EventLoopGroup()})
     * @param busyPoll how long a thread polls before it sleeps, from zero to one second
     * @throws IllegalArgumentException if {@code threads} or {@code busyPoll} is out of range, or
     *                                  {@code busyPoll} is null
     * @throws dev.wscrt.CrtRuntimeException {@code WSCRT_ERROR_THREAD_CREATE_FAILED} if a thread could
     *         not be started
     */
    public EventLoopGroup(int threads, Duration busyPoll) {
        if (threads < 0 || threads > 0xFFFF) {
            throw new IllegalArgumentException("threads must be between 0 and 65535: " + threads);
        }
        if (busyPoll == null || busyPoll.isNegative() || busyPoll.compareTo(MAX_BUSY_POLL) > 0) {
            throw new IllegalArgumentException("busyPoll must be between 0 and 1 s: " + busyPoll);
        }
        this.busyPoll = busyPoll;
        long handle = nativeNew(threads, busyPoll.toNanos(), shutdownComplete);
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
     * How long each thread polls before it sleeps, as given.
     *
     * @return the busy-poll time; {@link Duration#ZERO} when the threads sleep at once
     */
    public Duration busyPoll() {
        return busyPoll;
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

    private static native long nativeNew(int threads, long busyPollNanos, CompletableFuture<Void> onShutdownComplete);

    private static native int nativeThreadCount(long handle);

    private static native void nativeRelease(long handle);
}
