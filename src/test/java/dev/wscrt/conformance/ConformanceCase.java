package dev.wscrt.conformance;

import java.time.Duration;

/**
 * One conformance case: an id in Autobahn|Testsuite's numbering (families 1-7 and 9; ids Autobahn does
 * not have are marked in their description), what it does, its time bound, and its script. The script
 * drives the server side of a fresh connection and states the expectation on the {@link CaseRun}.
 *
 * @param id          "family.group.number", for example {@code 5.19}
 * @param description what the server sends and what the client must do, in one sentence
 * @param timeout     the bound on the whole case, handshake and close included
 * @param script      the server's side of the case
 */
record ConformanceCase(String id, String description, Duration timeout, Script script) {
    /** Small cases: every step is bounded well below this. */
    static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);

    /** The server's side of one case. Runs on the case thread; may throw for a suite error. */
    @FunctionalInterface
    interface Script {
        void run(CaseRun run) throws Exception;
    }

    static ConformanceCase of(String id, String description, Script script) {
        return new ConformanceCase(id, description, DEFAULT_TIMEOUT, script);
    }

    static ConformanceCase slow(String id, String description, Duration timeout, Script script) {
        return new ConformanceCase(id, description, timeout, script);
    }
}
