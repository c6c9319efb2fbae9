package dev.wscrt.faults;

import dev.wscrt.Crt;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Samples {@link Crt#nativeMemoryInUse()} on a daemon thread (about every 100 us) and keeps the largest
 * value seen since {@link #start()}, so that a transient spike between two test-thread reads is caught.
 */
final class NativeMemoryPeak implements AutoCloseable {

    private final AtomicLong peak = new AtomicLong();
    private final Thread sampler;
    private volatile boolean running = true;

    private NativeMemoryPeak() {
        peak.set(Crt.nativeMemoryInUse());
        sampler = new Thread(this::sample, "native-memory-peak");
        sampler.setDaemon(true);
    }

    static NativeMemoryPeak start() {
        NativeMemoryPeak p = new NativeMemoryPeak();
        p.sampler.start();
        return p;
    }

    private void sample() {
        while (running) {
            peak.accumulateAndGet(Crt.nativeMemoryInUse(), Math::max);
            try {
                Thread.sleep(0, 100_000);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** The largest native memory in use seen so far, including now. */
    long peak() {
        return peak.accumulateAndGet(Crt.nativeMemoryInUse(), Math::max);
    }

    @Override
    public void close() {
        running = false;
        try {
            sampler.join(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
