package dev.wscrt.websocket;

import dev.wscrt.CrtRuntimeException;
import dev.wscrt.http.HttpHeader;
import java.util.List;

/**
 * A connection that failed during setup, with the HTTP answer that ended it when there was one (the
 * server's refusal of the upgrade, or the proxy's refusal of CONNECT). Its {@link #errorName()} is the
 * setup error, for example {@code WSCRT_ERROR_WEBSOCKET_UPGRADE_FAILURE}.
 */
public final class WebSocketHandshakeException extends CrtRuntimeException {
    private static final long serialVersionUID = 1L;

    /** The HTTP status of the answer, or null. */
    private final Integer status;
    private final transient List<HttpHeader> headers;
    /** The body of the refusing answer, or null. */
    private final byte[] body;

    WebSocketHandshakeException(CrtRuntimeException setupError, OnConnectionSetupData setup) {
        super(setupError.errorCode(), setupError.detail() != null ? setupError.detail() : describe(setup));
        for (Throwable suppressed : setupError.getSuppressed()) {
            addSuppressed(suppressed);
        }
        this.status = setup.handshakeResponseStatus();
        this.headers = setup.handshakeResponseHeaders();
        this.body = setup.handshakeResponseBody();
    }

    private static String describe(OnConnectionSetupData setup) {
        if (setup.handshakeResponseStatus() == null) {
            return "no HTTP response";
        }
        StringBuilder text = new StringBuilder("HTTP status ").append(setup.handshakeResponseStatus());
        byte[] body = setup.handshakeResponseBody();
        if (body != null && body.length > 0) {
            int shown = Math.min(body.length, 200);
            text.append(", body: ")
                    .append(new String(body, 0, shown, java.nio.charset.StandardCharsets.ISO_8859_1))
                    .append(body.length > shown ? "..." : "");
        }
        return text.toString();
    }

    /**
     * The HTTP status of the answer, or null when none was received.
     *
     * @return the HTTP status of the answer, or null when none was received
     */
    public Integer status() {
        return status;
    }

    /**
     * The answer's headers (null when none was received).
     *
     * @return the header fields in order, unmodifiable; null when no answer was received
     */
    public List<HttpHeader> headers() {
        return headers;
    }

    /**
     * The body of a refusing answer, or null.
     *
     * @return a copy of the body, or null
     */
    public byte[] body() {
        return body == null ? null : body.clone();
    }
}
