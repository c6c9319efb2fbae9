package dev.wscrt.conformance;

import java.util.List;

/** RFC 6455 7.4 status codes, from the suite's side (not the library's table). */
final class CloseCodes {
    /** What a client echoes for a CLOSE without a status code: an empty CLOSE, written as -1. */
    static final int NONE = -1;

    /**
     * Codes a peer may put on the wire: 1000-1003, 1007-1011 (RFC 6455 7.4.1), 1012-1014 (registered
     * with IANA since), 3000-3999 (registered), 4000-4999 (private use).
     */
    static final List<Integer> VALID = List.of(1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013,
            1014, 3000, 3999, 4000, 4999);

    /**
     * Codes that must not be received: unassigned (0, 999, 1016, 1100, 2000, 2999, 5000, 65535),
     * reserved (1004), and the local-only 1005 ("no status"), 1006 ("abnormal") and 1015 ("TLS").
     */
    static final List<Integer> INVALID = List.of(0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000,
            65535);

    private CloseCodes() {
    }

    static boolean sendable(int code) {
        return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
    }

    /** "1000", or "empty" for {@link #NONE}. */
    static String name(int code) {
        return code == NONE ? "empty" : Integer.toString(code);
    }
}
