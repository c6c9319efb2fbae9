package dev.wscrt.faults;

import dev.wscrt.CrtRuntimeException;
import java.time.Instant;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * What a {@link Soak} run counts, from every thread: connects and callbacks, sessions and echoes, the outcome
 * of each kind of session, and the errors seen (the injected ones by name, anything else as text).
 */
final class SoakTally {
    final ConcurrentHashMap<String, LongAdder> outcomes = new ConcurrentHashMap<>();
    final ConcurrentHashMap<String, LongAdder> injectedErrors = new ConcurrentHashMap<>();
    final Queue<String> unexpected = new ConcurrentLinkedQueue<>();
    final AtomicLong unexpectedCount = new AtomicLong();
    final AtomicLong connects = new AtomicLong();
    final AtomicLong setupCallbacks = new AtomicLong();
    final AtomicLong setupsOk = new AtomicLong();
    final AtomicLong shutdownCallbacks = new AtomicLong();
    final AtomicLong sessions = new AtomicLong();
    final AtomicLong messagesEchoed = new AtomicLong();
    final AtomicLong bytesEchoed = new AtomicLong();

    /** Records an error no injected fault explains: counted and printed, the first 50 kept for the report. */
    void unexpected(String what) {
        unexpectedCount.incrementAndGet();
        if (unexpected.size() < 50) {
            unexpected.add(Instant.now() + " " + what);
        }
        System.err.println("UNEXPECTED: " + what);
    }

    /** Counts one session of this kind and outcome. */
    void outcome(String kindAndOutcome) {
        count(outcomes, kindAndOutcome);
    }

    /** Counts a fault's outcome: the error it must produce, or an unexpected one. */
    void injected(String fault, String name, String expected) {
        count(outcomes, "fault " + fault + ": " + name);
        if (name.equals(expected)) {
            count(injectedErrors, expected);
        } else {
            unexpected("fault " + fault + ": " + name + ", expected " + expected);
        }
    }

    /** With every session finished: one setup callback per connect, one shutdown per successful setup. */
    boolean countsExact() {
        return connects.get() == setupCallbacks.get() && setupsOk.get() == shutdownCallbacks.get();
    }

    /** {@link #countsExact()}, or an unexpected error saying {@code when} it was not. */
    void checkCounts(String when) {
        if (!countsExact()) {
            unexpected(when + ": " + connects + " connects, " + setupCallbacks + " setup callbacks, " + setupsOk
                    + " setups ok, " + shutdownCallbacks + " shutdown callbacks");
        }
    }

    private static void count(Map<String, LongAdder> map, String key) {
        map.computeIfAbsent(key, k -> new LongAdder()).increment();
    }

    /** The error's name without {@code WSCRT_ERROR_}, or the class of anything else. */
    static String shortName(Throwable t) {
        return t instanceof CrtRuntimeException e ? e.errorName().replaceFirst("^WSCRT_ERROR_", "")
                : t.getClass().getSimpleName();
    }

    /** {@link #shortName}, or "clean" for no error. */
    static String shortNameOrClean(Throwable t) {
        return t == null ? "clean" : shortName(t);
    }

    /** {@link #shortName} with the message, for the report. */
    static String describe(Throwable t) {
        return t instanceof CrtRuntimeException e ? shortName(e) + " (" + e.getMessage() + ")" : t.toString();
    }
}
