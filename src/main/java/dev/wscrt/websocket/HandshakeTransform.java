package dev.wscrt.websocket;

import dev.wscrt.http.HttpRequest;
import java.util.concurrent.CompletionStage;

/**
 * Changes the upgrade request just before a connection attempt starts, for example to sign it with a
 * secret (a signature header over method, path, host and a timestamp, as AWS SigV4 signs a WebSocket
 * URL). Set it with {@link WebSocketConnectOptions.Builder#handshakeTransform} or
 * {@link WebSocketConnection.Builder#handshakeTransform}.
 *
 * <p><b>When and on which thread.</b> {@link #transform} is called once per connect, on the thread that
 * called {@code connect}, before anything else happens: no name is looked up and no socket is opened
 * until the returned stage completes. The connection attempt then starts on the thread that completes
 * the stage (starting it never blocks, so that may be any thread, an event-loop thread included). A
 * transform that needs slow work (a clock service, a key store, a remote signer) returns an incomplete
 * stage at once and completes it from another thread; it must not block the calling thread for long.
 *
 * <p><b>What it may change.</b> It receives a copy of the prepared request (method {@code GET}, the
 * path and query, and every header, {@code Host} and the {@code Sec-WebSocket-*} ones included) and
 * completes with that copy changed or with another request. The result is checked like any handshake
 * request: a {@code GET}, a path that starts with {@code /} and holds only visible ASCII, the headers
 * the upgrade needs, header names that are HTTP tokens and values of visible ASCII, spaces and tabs.
 * Host, port, TLS and proxy stay those of the connect options; only the request changes.
 *
 * <p><b>Failures.</b> The setup fails, and nothing is sent, when the transform throws, returns null,
 * completes exceptionally, or completes with null or an invalid request: the error is
 * {@code WSCRT_ERROR_WEBSOCKET_HANDSHAKE_TRANSFORM_FAILED} with the transform's exception (or an
 * {@link IllegalArgumentException} naming what is invalid) as its cause. When the stage has not
 * completed within the handshake timeout ({@link WebSocketConnectOptions.Builder#handshakeTimeoutMs},
 * {@link WebSocketConnection.Builder#handshakeTimeout}; 10 s by default), the setup fails with
 * {@code WSCRT_ERROR_WEBSOCKET_HANDSHAKE_TRANSFORM_TIMEOUT} and a later completion is ignored. That
 * timeout counts the transform alone: the connection attempt that follows has its own connect and
 * handshake timeouts. On the frame API the failure reaches {@code onConnectionSetup} exactly once, on an
 * event-loop thread, and no {@code onConnectionShutdown} follows, as for any failed setup; on the message
 * API the future returned by {@code connect} fails with it.
 */
@FunctionalInterface
public interface HandshakeTransform {

    /**
     * Transforms the upgrade request.
     *
     * @param request a copy of the prepared upgrade request, the transform's to change
     * @return a stage completed with the request to send (this one or another), or failed to fail the
     *         connection
     */
    CompletionStage<HttpRequest> transform(HttpRequest request);
}
