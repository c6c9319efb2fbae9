package dev.wscrt.conformance;

/**
 * The report line of one case.
 *
 * @param id          the case id, for example {@code 6.4.1}
 * @param description what the server sends and what it expects, in one sentence
 * @param verdict     how the client did
 * @param detail      why (what was observed, and for NON-STRICT or FAILED what was expected instead)
 * @param millis      how long the case took, handshake and closing included
 */
record CaseResult(String id, String description, Verdict verdict, String detail, long millis) {

    /** The case family: the id up to the first dot ("6" for "6.4.1"). */
    String family() {
        int dot = id.indexOf('.');
        return dot < 0 ? id : id.substring(0, dot);
    }

    /** One plain-text line: id, verdict, description, detail. */
    String line() {
        return String.format("%-10s %-10s %s -- %s", id, verdict.label(), description, detail);
    }
}
