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

    /** Current native memory; loads the library first so its own setup is not counted as a leak. */
    public static Snapshot snapshot() {
        Crt.version();
        return new Snapshot(Crt.nativeMemoryInUse(), Crt.nativeAllocationCount());
    }

    /** Waits (at most 10 s, with GCs) until native memory is back to {@code baseline}. */
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
