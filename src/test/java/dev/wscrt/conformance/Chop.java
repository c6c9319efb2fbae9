package dev.wscrt.conformance;

import java.util.concurrent.TimeUnit;

/**
 * How the conformance server cuts the bytes it writes into TCP writes. Each piece is one
 * {@code write} on a socket with TCP_NODELAY (an unbuffered socket stream, so each write is one
 * {@code send}); with a pause between pieces the client's event loop sees them as separate reads.
 *
 * @param size       bytes per write; {@link Integer#MAX_VALUE} for one write
 * @param pauseNanos pause after each piece but the last
 */
record Chop(int size, long pauseNanos) {
    /** Everything in one write. */
    static final Chop WHOLE = new Chop(Integer.MAX_VALUE, 0);

    /**
     * One byte per write with a pause after each, so that the client reads them one at a time. 0.1 ms is
     * several times what the idle event loop needs to wake up and read, yet keeps a 1000-byte write under
     * a quarter of a second.
     */
    static final Chop BYTEWISE = new Chop(1, TimeUnit.MICROSECONDS.toNanos(100));

    Chop {
        if (size <= 0 || pauseNanos < 0) {
            throw new IllegalArgumentException("bad chop " + size + "/" + pauseNanos);
        }
    }

    /** Writes of {@code size} bytes, back to back. */
    static Chop of(int size) {
        return new Chop(size, 0);
    }

    @Override
    public String toString() {
        if (size == Integer.MAX_VALUE) {
            return "one write";
        }
        return size + "-byte writes" + (pauseNanos > 0 ? " with " + pauseNanos / 1000 + " us pauses" : "");
    }
}
