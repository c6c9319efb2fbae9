package dev.wscrt.testing;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Bounded waits. Every wait in the test suite goes through here and fails with a clear message. */
public final class Await {

    /**
     * How many times longer than at native speed this JVM may take: 1, or {@code -Dwscrt.test.timeScale}
     * (1 to 10), which scripts/test-aarch64.sh sets for the arm64 JVM under qemu. The upper bounds of
     * waits scale with it ({@link #scaled}); the periods a condition must stay false do not.
     */
    public static final int TIME_SCALE = Math.max(1, Math.min(10, Integer.getInteger("wscrt.test.timeScale", 1)));

    /** The longest any single wait may take: 10 s at native speed, times {@link #TIME_SCALE}. */
    public static final Duration DEFAULT_TIMEOUT = scaled(Duration.ofSeconds(10));

    private Await() {
    }

    /** A bound on a wait that holds at native speed, times {@link #TIME_SCALE}. */
    public static Duration scaled(Duration atNativeSpeed) {
        return atNativeSpeed.multipliedBy(TIME_SCALE);
    }

    /** Polls {@code condition} until it holds, or fails after {@link #DEFAULT_TIMEOUT}. */
    public static void until(String what, BooleanSupplier condition) {
        until(what, DEFAULT_TIMEOUT, condition, () -> "");
    }

    /** Polls {@code condition} until it holds, or fails with {@code what} and the current {@code state}. */
    public static void until(String what, Duration timeout, BooleanSupplier condition, Supplier<String> state) {
        long deadline = System.nanoTime() + timeout.toNanos();
        long sleepMs = 1;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                String s = state.get();
                throw new AssertionError("Timed out after " + timeout.toMillis() + " ms waiting for " + what
                        + (s.isEmpty() ? "" : "; state: " + s));
            }
            sleep(sleepMs);
            sleepMs = Math.min(sleepMs * 2, 20);
        }
    }

    /** Waits for {@code future}; fails after {@link #DEFAULT_TIMEOUT}; rethrows its failure wrapped. */
    public static <T> T get(String what, CompletableFuture<T> future) {
        return get(what, future, DEFAULT_TIMEOUT);
    }

    public static <T> T get(String what, CompletableFuture<T> future, Duration timeout) {
        try {
            return future.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new AssertionError("Timed out after " + timeout.toMillis() + " ms waiting for " + what);
        } catch (ExecutionException e) {
            throw new AssertionError(what + " failed: " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("Interrupted waiting for " + what, e);
        }
    }

    /** Checks that {@code condition} stays false for the whole of {@code duration}. */
    public static void holdsFalseFor(String what, Duration duration, BooleanSupplier condition) {
        long deadline = System.nanoTime() + duration.toNanos();
        while (System.nanoTime() - deadline < 0) {
            if (condition.getAsBoolean()) {
                throw new AssertionError("Unexpectedly " + what);
            }
            sleep(5);
        }
    }

    public static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }
}
