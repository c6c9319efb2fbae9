package dev.wscrt;

/**
 * A failure reported by the native runtime. {@link #errorName()} is stable across releases (for example
 * {@code WSCRT_ERROR_WEBSOCKET_UPGRADE_FAILURE}); match on it rather than on the message, which says
 * what happened in words and may gain detail between releases.
 *
 * <p>Thrown by calls that fail at once, and passed to callbacks (setup, shutdown, send completion) for
 * failures found later on an event-loop thread.
 */
public class CrtRuntimeException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** The native error code. */
    private final int errorCode;
    /** The stable name of {@link #errorCode}. */
    private final String errorName;
    /** Where and why, appended to the native message; null when there is none. */
    private final String detail;

    /**
     * A failure with the native message of {@code errorCode}.
     *
     * @param errorCode a native error code
     */
    public CrtRuntimeException(int errorCode) {
        this(errorCode, (Throwable) null);
    }

    /**
     * A failure with the native message of {@code errorCode} and a cause.
     *
     * @param errorCode a native error code
     * @param cause     what led to it, or null
     */
    public CrtRuntimeException(int errorCode, Throwable cause) {
        this(errorCode, null, cause);
    }

    /**
     * As {@link #CrtRuntimeException(int)}, with a detail appended to the native message.
     *
     * @param errorCode a native error code
     * @param detail    where and why, appended after a colon
     */
    public CrtRuntimeException(int errorCode, String detail) {
        this(errorCode, detail, null);
    }

    /**
     * A failure with the native message of {@code errorCode}, a detail and a cause.
     *
     * @param errorCode a native error code
     * @param detail    where and why, appended after a colon; null for none
     * @param cause     what led to it, or null
     */
    public CrtRuntimeException(int errorCode, String detail, Throwable cause) {
        super(detail == null ? describe(errorCode) : describe(errorCode) + ": " + detail, cause);
        this.errorCode = errorCode;
        this.errorName = Crt.errorName(errorCode);
        this.detail = detail;
    }

    private static String describe(int errorCode) {
        return Crt.errorMessage(errorCode) + " (" + Crt.errorName(errorCode) + ")";
    }

    /**
     * The native error code. Prefer {@link #errorName()}, which is stable.
     *
     * @return the code given to the constructor ({@link #error()} maps it to a {@link CrtError})
     */
    public int errorCode() {
        return errorCode;
    }

    /**
     * The error, from the one table every native error comes from.
     *
     * @return the error ({@link CrtError#UNKNOWN} for a code not in the table)
     */
    public CrtError error() {
        return CrtError.of(errorCode);
    }

    /**
     * Where and why the failure happened, as appended to the message: for a connection, the server and
     * proxy with the stage that failed and what was learnt there.
     *
     * @return the detail, or null when there is none
     */
    public String detail() {
        return detail;
    }

    /**
     * The stable name of the error code.
     *
     * @return the name, for example {@code WSCRT_ERROR_IO_SOCKET_TIMEOUT}
     */
    public String errorName() {
        return errorName;
    }
}
