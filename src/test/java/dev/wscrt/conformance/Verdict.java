package dev.wscrt.conformance;

/**
 * How a case went, judged the way Autobahn|Testsuite judges its cases.
 *
 * <ul>
 *   <li>{@link #OK}: exactly the expected behaviour.</li>
 *   <li>{@link #NON_STRICT}: acceptable under RFC 6455 but not the strict behaviour (for example the
 *       connection was failed later than it could have been, or closed with a different allowed code).</li>
 *   <li>{@link #FAILED}: wrong.</li>
 * </ul>
 */
enum Verdict {
    OK("OK"),
    NON_STRICT("NON-STRICT"),
    FAILED("FAILED");

    private final String label;

    Verdict(String label) {
        this.label = label;
    }

    /** The label used in reports ("NON-STRICT" with a dash, as Autobahn writes it). */
    String label() {
        return label;
    }

    /** The worse of two verdicts (FAILED beats NON-STRICT beats OK). */
    Verdict worst(Verdict other) {
        return ordinal() >= other.ordinal() ? this : other;
    }
}
