package dev.wscrt.stress;

import dev.wscrt.Crt;
import dev.wscrt.testing.NativeMemory;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * What the runs measure about this process: Java heap used after GC, resident set size, open file
 * descriptors, OS threads, and the native runtime's tracking allocator. Linux only ({@code /proc}).
 */
final class Probe {
    /** Native memory gets this long (with GC nudges) to return to a baseline once everything is closed. */
    static final Duration SETTLE = Duration.ofSeconds(30);

    /** One reading of everything, taken by {@link #take()}. */
    record Reading(long nativeBytes, long nativeAllocations, long heapAfterGc, long rssBytes, long fds,
                   long threads) {
    }

    private Probe() {
    }

    /** Collects garbage first (so the heap figure is live data), then reads everything. */
    static Reading take() {
        long heap = heapUsedAfterGc();
        return new Reading(Crt.nativeMemoryInUse(), Crt.nativeAllocationCount(), heap, rssBytes(), openFds(),
                osThreads());
    }

    /**
     * Java heap in use after three full collections 50 ms apart (the Cleaner and reference processing
     * get to run in between); the lowest of the three readings.
     */
    static long heapUsedAfterGc() {
        long lowest = Long.MAX_VALUE;
        for (int i = 0; i < 3; i++) {
            System.gc();
            sleep(50);
            lowest = Math.min(lowest, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
        }
        return lowest;
    }

    /** Null once native memory is back to {@code base} (bounded wait of {@link #SETTLE}), else what it is. */
    static String nativeNotBackTo(NativeMemory.Snapshot base) {
        try {
            NativeMemory.assertBackTo(base, SETTLE);
            return null;
        } catch (AssertionError e) {
            return e.getMessage();
        }
    }

    /** VmRSS from /proc/self/status, in bytes (-1 if unreadable). */
    static long rssBytes() {
        return statusField("VmRSS:") * 1024;
    }

    /** Threads of this process, from /proc/self/status. */
    static long osThreads() {
        return statusField("Threads:");
    }

    /** Entries in /proc/self/fd (the listing itself holds one of them). */
    static long openFds() {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        } catch (IOException e) {
            return -1;
        }
    }

    /**
     * What the open file descriptors are, counted by kind: "socket", "pipe", "anon_inode:[eventfd]", or
     * the file's path. For explaining a difference in {@link #openFds()}.
     */
    static Map<String, Integer> fdKinds() {
        Map<String, Integer> kinds = new TreeMap<>();
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            for (Path fd : fds.toList()) {
                String target;
                try {
                    target = Files.readSymbolicLink(fd).toString();
                } catch (IOException e) {
                    continue; // closed meanwhile (the listing's own descriptor)
                }
                String kind = target.startsWith("socket:") ? "socket" : target.startsWith("pipe:") ? "pipe" : target;
                kinds.merge(kind, 1, Integer::sum);
            }
        } catch (IOException e) {
            kinds.put("unreadable: " + e, 1);
        }
        return kinds;
    }

    /** The kinds whose count differs between two {@link #fdKinds()} readings: "socket 3 -> 4, ...". */
    static String fdDifference(Map<String, Integer> before, Map<String, Integer> after) {
        Set<String> keys = new TreeSet<>(before.keySet());
        keys.addAll(after.keySet());
        StringBuilder sb = new StringBuilder();
        for (String key : keys) {
            int b = before.getOrDefault(key, 0);
            int a = after.getOrDefault(key, 0);
            if (a != b) {
                sb.append(sb.length() == 0 ? "" : ", ").append(key).append(' ').append(b).append(" -> ").append(a);
            }
        }
        return sb.length() == 0 ? "same kinds" : sb.toString();
    }

    /** The soft limit on open files (from /proc/self/limits), or -1. */
    static long openFileLimit() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
                if (line.startsWith("Max open files")) {
                    return Long.parseLong(line.substring("Max open files".length()).trim().split("\\s+")[0]);
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    private static long statusField(String name) {
        try {
            List<String> lines = Files.readAllLines(Path.of("/proc/self/status"));
            for (String line : lines) {
                if (line.startsWith(name)) {
                    return Long.parseLong(line.substring(name.length()).trim().split("\\s+")[0]);
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** "1,234,567". */
    static String count(long n) {
        return String.format("%,d", n);
    }

    /** Bytes in a human unit: "512 B", "12.3 KiB", "4.50 MiB". */
    static String bytes(long n) {
        long abs = Math.abs(n);
        if (abs < 1024) {
            return n + " B";
        } else if (abs < 1024 * 1024) {
            return String.format("%.1f KiB", n / 1024.0);
        } else if (abs < 1024L * 1024 * 1024) {
            return String.format("%.2f MiB", n / (1024.0 * 1024));
        }
        return String.format("%.2f GiB", n / (1024.0 * 1024 * 1024));
    }

    /** A signed byte delta: "+1.2 KiB", "-512 B", "0 B". */
    static String delta(long n) {
        return (n > 0 ? "+" : "") + bytes(n);
    }
}
