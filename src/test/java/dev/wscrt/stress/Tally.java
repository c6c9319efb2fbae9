package dev.wscrt.stress;

import dev.wscrt.CrtRuntimeException;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/** Counts events by name (usually an error name), from any thread. */
final class Tally {
    private final Map<String, LongAdder> counts = new ConcurrentHashMap<>();

    void add(String name) {
        counts.computeIfAbsent(name, k -> new LongAdder()).increment();
    }

    /** Counts {@code error} under its {@link #name}. */
    void add(Throwable error) {
        add(name(error));
    }

    long total() {
        return counts.values().stream().mapToLong(LongAdder::sum).sum();
    }

    long get(String name) {
        LongAdder n = counts.get(name);
        return n == null ? 0 : n.sum();
    }

    /** "none", or "NAME x3, OTHER x1" sorted by name. */
    @Override
    public String toString() {
        if (counts.isEmpty()) {
            return "none";
        }
        StringBuilder sb = new StringBuilder();
        new TreeMap<>(counts).forEach((name, n) -> {
            if (sb.length() > 0) {
                sb.append(", ");
            }
            sb.append(name).append(" x").append(n.sum());
        });
        return sb.toString();
    }

    /** The WSCRT error name of a {@link CrtRuntimeException}, else the class name and message. */
    static String name(Throwable error) {
        if (error instanceof CrtRuntimeException crt) {
            String name = crt.errorName();
            return name.startsWith("WSCRT_ERROR_") ? name.substring("WSCRT_ERROR_".length()) : name;
        }
        return error.getClass().getSimpleName() + (error.getMessage() == null ? "" : ": " + error.getMessage());
    }
}
