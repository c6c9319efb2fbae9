/**
 * The WebSocket client (RFC 6455): {@link dev.wscrt.websocket.WebSocket#connect WebSocket.connect} with
 * {@link dev.wscrt.websocket.WebSocketConnectOptions}, frames in through callbacks
 * (begin, payload*, complete) and out through {@code sendFrame}, byte-precise read windows, and the close
 * handshake.
 *
 * <p>Every callback of a connection runs on that connection's native event-loop thread, one at a time and
 * in order; a callback must not block. The data records passed to callbacks are immutable, except the
 * payload buffer, which is valid only during the callback.
 */
package dev.wscrt.websocket;
