package dev.wscrt.faults;

import java.util.List;

/**
 * The callbacks a fault case owes, stated before the case runs: either one setup failure with one of
 * the named errors and nothing after it, or one successful setup and exactly one shutdown (with a named
 * error, or clean), each within a time bound. Error names are {@code CrtRuntimeException.errorName()}
 * values without their {@code WSCRT_ERROR_} prefix. {@link #text()} is what the report's "expected" column
 * says; {@link FaultCase#verify()} checks the observed callbacks against it.
 *
 * @param outcome which callbacks end the case
 * @param errors the error names allowed (one of them); empty for a clean shutdown
 * @param detail what else the case checks (frames, statuses, memory), in words; may be empty
 * @param atLeastMs the earliest the ending callback may come, from {@link FaultCase#faultNow()} or connect()
 * @param atMostMs the latest it may come
 */
record Expected(Outcome outcome, List<String> errors, String detail, long atLeastMs, long atMostMs) {

    /** Slack on top of a configured timeout before a wait counts as a hang (a loaded 2-core CI box). */
    static final long SCHEDULING_SLACK_MS = 2000;

    /** How the case ends. */
    enum Outcome {
        /** One setup callback with an exception, nothing after it. */
        SETUP_FAILURE,
        /** One successful setup, then exactly one shutdown with an exception. */
        SHUTDOWN_WITH_ERROR,
        /** One successful setup, then exactly one shutdown without an exception. */
        CLEAN_SHUTDOWN,
        /** Checked by the case itself (several connections, say); {@code detail} says what. */
        CHECKED_BY_THE_CASE
    }

    /** One setup failure with one of {@code errors}, within the scheduling slack. */
    static Expected setupFailure(String... errors) {
        return new Expected(Outcome.SETUP_FAILURE, List.of(errors), "", 0, SCHEDULING_SLACK_MS);
    }

    /** Setup ok, then one shutdown with {@code error}, within the scheduling slack. */
    static Expected shutdown(String error) {
        return new Expected(Outcome.SHUTDOWN_WITH_ERROR, List.of(error), "", 0, SCHEDULING_SLACK_MS);
    }

    /** Setup ok, then one shutdown with one of {@code errors}. */
    static Expected shutdownWithOneOf(String... errors) {
        return new Expected(Outcome.SHUTDOWN_WITH_ERROR, List.of(errors), "", 0, SCHEDULING_SLACK_MS);
    }

    /** Setup ok, then one clean shutdown. */
    static Expected cleanShutdown() {
        return new Expected(Outcome.CLEAN_SHUTDOWN, List.of(), "", 0, SCHEDULING_SLACK_MS);
    }

    /** Several connections or no callbacks at all: the case checks {@code what} itself. */
    static Expected checkedByTheCase(String what) {
        return new Expected(Outcome.CHECKED_BY_THE_CASE, List.of(), what, 0, Long.MAX_VALUE);
    }

    /** Adds what else the case checks. */
    Expected with(String moreDetail) {
        return new Expected(outcome, errors, detail.isEmpty() ? moreDetail : detail + "; " + moreDetail, atLeastMs,
                atMostMs);
    }

    /** How early a timer may fire against the test's clock (two clocks read at different moments). */
    static final long EARLY_MARGIN_MS = 50;

    /** The ending callback comes after a configured timeout: not before {@code ms} - 50, not after ms + slack. */
    Expected afterTimeout(long ms) {
        return new Expected(outcome, errors, detail, Math.max(0, ms - EARLY_MARGIN_MS), ms + SCHEDULING_SLACK_MS);
    }

    /** The ending callback comes within {@code ms}. */
    Expected within(long ms) {
        return new Expected(outcome, errors, detail, atLeastMs, ms);
    }

    /** The expectation in words, for the report. */
    String text() {
        String names = String.join(" or ", errors);
        String bound = atLeastMs > 0 ? " after " + (atLeastMs + EARLY_MARGIN_MS) + " ms (< " + (atMostMs / 100) / 10.0 + " s)"
                : atMostMs == Long.MAX_VALUE ? "" : " within " + (atMostMs / 100) / 10.0 + " s";
        return switch (outcome) {
            case SETUP_FAILURE -> "setup failure " + names + bound + (detail.isEmpty() ? "" : "; " + detail)
                    + "; no shutdown";
            case SHUTDOWN_WITH_ERROR -> "setup ok; " + (detail.isEmpty() ? "" : detail + "; ") + "one shutdown "
                    + names + bound;
            case CLEAN_SHUTDOWN -> "setup ok; " + (detail.isEmpty() ? "" : detail + "; ") + "one clean shutdown"
                    + bound;
            case CHECKED_BY_THE_CASE -> detail;
        };
    }
}
