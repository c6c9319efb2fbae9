package dev.wscrt.websocket;

import dev.wscrt.CrtRuntimeException;
import dev.wscrt.http.HttpHeader;
import java.util.List;

/**
 * Passed to {@code onConnectionSetup}, once per {@link WebSocket#connect}, on an event-loop thread.
 * Exactly one of {@code exception} and {@code websocket} is non-null.
 *
 * @param exception                why the connection failed, or null if it succeeded
 * @param websocket                the connection if it succeeded, else null; keep a reference to it, the
 *                                 connection is closed when it is garbage collected
 * @param handshakeResponseStatus  the HTTP status of the upgrade response (101 on success), or null if
 *                                 no response was received
 * @param handshakeResponseHeaders the response headers, or null if no response was received
 * @param handshakeResponseBody    the body of a response that rejected the upgrade, or null
 */
public record OnConnectionSetupData(CrtRuntimeException exception, WebSocket websocket,
                                    Integer handshakeResponseStatus, List<HttpHeader> handshakeResponseHeaders,
                                    byte[] handshakeResponseBody) {
}
