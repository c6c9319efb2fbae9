package dev.wscrt.bench;

/** One WebSocket client under test. Every method opens its own connection and closes it again. */
interface BenchClient extends AutoCloseable {

    /** Short name for the report ("wscrt", "JDK"). */
    String name();

    /**
     * Connects to {@code /blast?size=..&count=..} and receives {@code count} BINARY messages of
     * {@code size} bytes and the final TEXT "done", or gives up after {@code timeoutNanos}.
     */
    Run receive(int port, int size, long count, long timeoutNanos) throws Exception;

    /**
     * Connects to {@code /sink}, sends {@code count} BINARY messages of {@code size} bytes, then TEXT
     * "stats", and stops the clock when the server's answer says it has counted every byte.
     */
    Run send(int port, int size, long count, long timeoutNanos) throws Exception;

    /**
     * Connects to {@code /echo} and does {@code warmup + count} sequential round trips of a
     * {@code size}-byte BINARY message; each next message is sent from the callback that received the
     * previous echo. The returned run holds the {@code count} measured round-trip times.
     */
    Run echo(int port, int size, int warmup, int count, long timeoutNanos) throws Exception;

    @Override
    default void close() {
    }

    /**
     * What one measured run produced.
     *
     * @param elapsedNanos wall time from connection established to the last message accounted for
     * @param messages     messages delivered (receive), acknowledged by the server (send) or round trips
     * @param bytes        payload bytes delivered / acknowledged
     * @param latencies    round-trip times in nanoseconds (echo only), else null
     * @param problem      null if the run completed with the expected counts (or, time-limited, made
     *                     progress without errors), else what went wrong
     * @param timeLimited  the run hit the time limit before its count; the figures cover what was done
     */
    record Run(long elapsedNanos, long messages, long bytes, long[] latencies, String problem,
               boolean timeLimited) {
        Run(long elapsedNanos, long messages, long bytes, long[] latencies, String problem) {
            this(elapsedNanos, messages, bytes, latencies, problem, false);
        }

        /** A run stopped by the time limit: valid if it got anywhere, else a failure saying {@code ifNone}. */
        static Run timeLimited(long elapsedNanos, long messages, long bytes, long[] latencies, String ifNone) {
            return messages > 0 ? new Run(elapsedNanos, messages, bytes, latencies, null, true)
                    : new Run(elapsedNanos, 0, 0, null, ifNone, false);
        }

        boolean ok() {
            return problem == null;
        }

        double messagesPerSecond() {
            return messages / (elapsedNanos / 1e9);
        }

        double bytesPerSecond() {
            return bytes / (elapsedNanos / 1e9);
        }
    }
}
