package dev.wscrt;

/**
 * A failure reported by the native runtime. {@link #errorName()} is stable across releases (for example
 * {@code WSCRT_ERROR_WEBSOCKET_UPGRADE_FAILURE}); match on it rather than on the message.
 */
public class CrtRuntimeException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int errorCode;
    private final String errorName;

    public CrtRuntimeException(int errorCode) {
        this(errorCode, (Throwable) null);
    }

    public CrtRuntimeException(int errorCode, Throwable cause) {
        super(describe(errorCode), cause);
        this.errorCode = errorCode;
        this.errorName = Crt.errorName(errorCode);
    }

    /** As {@link #CrtRuntimeException(int)}, with a detail appended to the native message. */
    public CrtRuntimeException(int errorCode, String detail) {
        super(describe(errorCode) + ": " + detail);
        this.errorCode = errorCode;
        this.errorName = Crt.errorName(errorCode);
    }

    private static String describe(int errorCode) {
        return Crt.errorMessage(errorCode) + " (" + Crt.errorName(errorCode) + ")";
    }

    /** The native error code. */
    public int errorCode() {
        return errorCode;
    }

    /** The stable name of the error code, for example {@code WSCRT_ERROR_IO_SOCKET_TIMEOUT}. */
    public String errorName() {
        return errorName;
    }
}
