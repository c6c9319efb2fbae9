package dev.wscrt.websocket;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.LongPredicate;
import java.util.function.LongSupplier;

/**
 * The futures of {@link WebSocket#whenQueuedBytesAtMost} on one connection, each with its mark. The native
 * connection holds one mark, the highest waited for; when its send queue comes down to it, the event-loop
 * thread completes every future whose mark the queue is at, and the highest of the others is armed next.
 * The connection's end completes them all.
 */
final class SendQueueWaiters {
    private record Waiter(long bytes, CompletableFuture<Void> future) {
    }

    private final List<Waiter> waiting = new ArrayList<>(2); // guarded by this
    private boolean ended; // guarded by this

    /**
     * Any thread: a future for a queue of at most {@code bytes}. {@code queued} reads the queue's bytes now;
     * {@code arm} arms the native mark and answers true when the queue is at it already (nothing armed).
     */
    CompletableFuture<Void> await(long bytes, LongSupplier queued, LongPredicate arm) {
        CompletableFuture<Void> future = new CompletableFuture<>();
        List<CompletableFuture<Void>> reached;
        synchronized (this) {
            if (ended || queued.getAsLong() <= bytes) {
                future.complete(null);
                return future;
            }
            waiting.add(new Waiter(bytes, future));
            reached = new ArrayList<>(0);
            long highest;
            while ((highest = highestLocked()) >= 0 && arm.test(highest)) {
                takeReachedLocked(queued.getAsLong(), reached);
            }
        }
        completeAll(reached);
        return future;
    }

    /**
     * Event-loop thread (the native drain notice): the queue holds {@code queuedBytes}, at or below the mark
     * armed. Completes the futures it reached; returns the next mark to arm, -1 when none is waited for.
     */
    long drained(long queuedBytes) {
        List<CompletableFuture<Void>> reached = new ArrayList<>(1);
        long next;
        synchronized (this) {
            takeReachedLocked(queuedBytes, reached);
            next = highestLocked();
        }
        completeAll(reached);
        return next;
    }

    /** Event-loop thread: the connection ended, its queue failed; every future completes, and later ones at once. */
    void end() {
        List<CompletableFuture<Void>> all = new ArrayList<>();
        synchronized (this) {
            ended = true;
            for (Waiter w : waiting) {
                all.add(w.future);
            }
            waiting.clear();
        }
        completeAll(all);
    }

    private long highestLocked() {
        long highest = -1;
        for (Waiter w : waiting) {
            highest = Math.max(highest, w.bytes);
        }
        return highest;
    }

    private void takeReachedLocked(long queuedBytes, List<CompletableFuture<Void>> into) {
        waiting.removeIf(w -> w.bytes >= queuedBytes && into.add(w.future));
    }

    /** Outside the monitor: a dependent action may wait again, or send. */
    private static void completeAll(List<CompletableFuture<Void>> futures) {
        for (CompletableFuture<Void> f : futures) {
            f.complete(null);
        }
    }
}
