package dev.wscrt.conformance;

import java.time.Duration;

/**
 * One conformance case: an id in Autobahn|Testsuite's numbering (families 1-7, 9, 10, 12 and 13; ids
 * Autobahn does not have are marked in their description), what it does, its time bound, and its script. The script
 * drives the server side of a fresh connection and states the expectation on the {@link CaseRun}.
 *
 * @param id          "family.group.number", for example {@code 5.19}
 * @param description what the server sends and what the client must do, in one sentence
 * @param timeout     the bound on the whole case, handshake and close included
 * @param script      the server's side of the case, against the frame-API echo client; null for a standalone case
 * @param standalone  a case with its own client and server, or null
 */
record ConformanceCase(String id, String description, Duration timeout, Script script, Standalone standalone) {
    /** Small cases: every step is bounded well below this. */
    static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);

    /** The server's side of one case. Runs on the case thread; may throw for a suite error. */
    @FunctionalInterface
    interface Script {
        void run(CaseRun run) throws Exception;
    }

    /**
     * A case that brings its own client and server (the compression families, which need the message API
     * and a server that speaks permessage-deflate). Runs on the case thread; may throw for a suite error.
     */
    @FunctionalInterface
    interface Standalone {
        Outcome run(dev.wscrt.io.ClientBootstrap bootstrap) throws Exception;
    }

    /** A standalone case's verdict and why. */
    record Outcome(Verdict verdict, String detail) {
        static Outcome ok(String detail) {
            return new Outcome(Verdict.OK, detail);
        }

        static Outcome failed(String detail) {
            return new Outcome(Verdict.FAILED, detail);
        }
    }

    static ConformanceCase of(String id, String description, Script script) {
        return new ConformanceCase(id, description, DEFAULT_TIMEOUT, script, null);
    }

    static ConformanceCase slow(String id, String description, Duration timeout, Script script) {
        return new ConformanceCase(id, description, timeout, script, null);
    }

    static ConformanceCase standalone(String id, String description, Duration timeout, Standalone standalone) {
        return new ConformanceCase(id, description, timeout, null, standalone);
    }
}
