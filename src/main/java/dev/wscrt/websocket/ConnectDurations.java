package dev.wscrt.websocket;

import java.time.Duration;

/** How the connect builders check the durations they are given and turn them into milliseconds for native code. */
final class ConnectDurations {
    private ConnectDurations() {
    }

    /** A keepalive duration in whole milliseconds; {@link IllegalArgumentException} naming {@code name}. */
    static int keepaliveMillis(Duration value, String name) {
        if (value == null || value.isNegative()) {
            throw new IllegalArgumentException(name + " must be zero (off) or positive: " + value);
        }
        if (!value.isZero() && value.compareTo(Duration.ofMillis(1)) < 0) {
            throw new IllegalArgumentException(name + " must be zero (off) or at least 1 ms: " + value);
        }
        if (value.compareTo(Duration.ofMillis(Integer.MAX_VALUE)) > 0) {
            throw new IllegalArgumentException(name + " must be at most " + Integer.MAX_VALUE + " ms: " + value);
        }
        return (int) value.toMillis();
    }

    /** {@code value}, checked to be positive; {@link IllegalArgumentException} naming {@code name}. */
    static Duration requirePositive(Duration value, String name) {
        if (value == null || value.isNegative() || value.isZero()) {
            throw new IllegalArgumentException(name + " must be positive: " + value);
        }
        return value;
    }

    /** Whole milliseconds, at most {@link Integer#MAX_VALUE}. */
    static int toMillis(Duration value) {
        return (int) Math.min(Integer.MAX_VALUE, value.toMillis());
    }
}
