package dev.wscrt.testing;

import dev.wscrt.Crt;
import dev.wscrt.CrtResource;
import java.time.Duration;

/**
 * Native memory accounting for leak checks: take a {@link #snapshot()} before a test class creates
 * anything, and {@link #assertBackTo} after it closed everything. Asynchronous shutdowns and
 * Cleaner actions get a bounded wait, with {@code System.gc()} nudges.
 */
public final class NativeMemory {

    /** Live native bytes and allocations at one moment. */
    public record Snapshot(long bytes, long allocations) {
    }

    private NativeMemory() {
    }

    /**
     * Native memory once it has settled (unchanged over three reads 30 ms apart, with GCs, at most
     * 2 s times {@link Await#TIME_SCALE}), so that releases still in flight from earlier work are not
     * counted. Loads the library first so its own setup is not counted as a leak.
     */
    public static Snapshot snapshot() {
        Crt.version();
        Snapshot last = snapshotNow();
        int stable = 0;
        long deadline = System.nanoTime() + Await.scaled(Duration.ofSeconds(2)).toNanos();
        while (stable < 3 && System.nanoTime() - deadline < 0) {
            System.gc();
            Await.sleep(30);
            Snapshot now = snapshotNow();
            stable = now.equals(last) ? stable + 1 : 0;
            last = now;
        }
        return last;
    }

    /** Waits (at most {@link Await#DEFAULT_TIMEOUT}, with GCs) until native memory is back to {@code baseline}. */
    public static void assertBackTo(Snapshot baseline) {
        assertBackTo(baseline, Await.DEFAULT_TIMEOUT);
    }

    public static void assertBackTo(Snapshot baseline, Duration timeout) {
        Await.until("native memory back to " + baseline, timeout, () -> {
            System.gc();
            return Crt.nativeAllocationCount() == baseline.allocations()
                    && Crt.nativeMemoryInUse() == baseline.bytes();
        }, () -> "now " + snapshotNow() + "; open resources: " + CrtResource.openResources());
    }

    private static Snapshot snapshotNow() {
        return new Snapshot(Crt.nativeMemoryInUse(), Crt.nativeAllocationCount());
    }
}
