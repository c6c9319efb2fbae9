package dev.wscrt.testing;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/** Runs a body on several threads released together, for tests of what many threads do at once. */
public final class SenderThreads {

    /** The work of one thread, given its number (0 to threads - 1). */
    public interface Body {
        void run(int thread) throws Exception;
    }

    private SenderThreads() {
    }

    /**
     * Runs {@code body(thread)} on {@code threads} threads that start together and waits (at most
     * {@link Await#DEFAULT_TIMEOUT}) until all have returned; the first exception fails the call.
     */
    public static void runTogether(int threads, Body body) {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        CyclicBarrier start = new CyclicBarrier(threads);
        try {
            List<CompletableFuture<Void>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                done.add(CompletableFuture.runAsync(() -> {
                    try {
                        start.await(10, TimeUnit.SECONDS);
                        body.run(thread);
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                }, pool));
            }
            Await.get("all sender threads", CompletableFuture.allOf(done.toArray(new CompletableFuture<?>[0])));
        } finally {
            pool.shutdownNow();
        }
    }
}
