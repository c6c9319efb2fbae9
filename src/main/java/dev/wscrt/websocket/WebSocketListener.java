package dev.wscrt.websocket;

import java.nio.ByteBuffer;

/**
 * Receives what happens on a {@link WebSocketConnection}: whole messages, pings and pongs, and the end of
 * the connection. Every method has an empty default, so a listener overrides only what it needs.
 *
 * <p>All methods run on the connection's event-loop thread, one at a time and in the order the events
 * happened; they must not block (a blocked listener stalls every connection of that event loop). A method
 * that throws fails the connection: it shuts down with {@code WSCRT_ERROR_CALLBACK_EXCEPTION}, the
 * Throwable as its cause, and {@link #onError} reports it.
 *
 * <p>For each connection that opened: {@code onOpen} first, then messages, then exactly one of
 * {@link #onClosed} (a completed close handshake) or {@link #onError}. A connection that never opened
 * calls none of these; its connect future fails instead.
 */
public interface WebSocketListener {

    /**
     * The connection is open; called before the connect future completes.
     *
     * @param connection the connection the event is for
     */
    default void onOpen(WebSocketConnection connection) {
    }

    /**
     * A whole TEXT message (valid UTF-8, checked before delivery).
     *
     * @param connection the connection the event is for
     * @param text the whole message, decoded from UTF-8
     */
    default void onText(WebSocketConnection connection, String text) {
    }

    /**
     * A whole BINARY message. The buffer is the listener's own: it may be kept and changed.
     *
     * @param connection the connection the event is for
     * @param data the message's bytes, in a heap buffer from position 0 to its limit
     */
    default void onBinary(WebSocketConnection connection, ByteBuffer data) {
    }

    /**
     * A piece of a TEXT message, in partial mode only ({@link WebSocketConnection.Builder#partialMessages});
     * {@code last} is true on the message's last piece (which may be empty). Each piece holds whole
     * characters.
     *
     * @param connection the connection the event is for
     * @param text the next piece of the message, whole characters only; empty only on the last piece, if at all
     * @param last whether this is the message's last piece
     */
    default void onText(WebSocketConnection connection, String text, boolean last) {
    }

    /**
     * A piece of a BINARY message, in partial mode only ({@link WebSocketConnection.Builder#partialMessages});
     * {@code last} is true on the message's last piece (which may be empty). The buffer is the listener's own.
     *
     * @param connection the connection the event is for
     * @param data the next piece's bytes, in a heap buffer from position 0 to its limit
     * @param last whether this is the message's last piece
     */
    default void onBinary(WebSocketConnection connection, ByteBuffer data, boolean last) {
    }

    /**
     * A PING; the PONG answer is sent automatically. The buffer is the listener's own.
     *
     * @param connection the connection the event is for
     * @param data the PING's payload (at most 125 bytes), from position 0 to its limit
     */
    default void onPing(WebSocketConnection connection, ByteBuffer data) {
    }

    /**
     * A PONG. The buffer is the listener's own.
     *
     * @param connection the connection the event is for
     * @param data the PONG's payload (at most 125 bytes), from position 0 to its limit
     */
    default void onPong(WebSocketConnection connection, ByteBuffer data) {
    }

    /**
     * The server sent CLOSE ({@code code} 1005 when it carried none). The connection answers it (unless
     * it already sent its own CLOSE) and then ends; {@link #onClosed} follows.
     *
     * @param connection the connection the event is for
     * @param code the status code the CLOSE carried, or {@link WebSocketConnection#NO_STATUS_CODE} (1005) for none
     * @param reason the reason the CLOSE carried, decoded from UTF-8; empty for none
     */
    default void onClosing(WebSocketConnection connection, int code, String reason) {
    }

    /**
     * The close handshake completed: the connection has ended cleanly. {@code code} and {@code reason}
     * are the server's (1005 and "" when its CLOSE carried none).
     *
     * @param connection the connection the event is for
     * @param code the status code of the server's CLOSE, or {@link WebSocketConnection#NO_STATUS_CODE} (1005)
     * @param reason the reason of the server's CLOSE, decoded from UTF-8; empty for none
     */
    default void onClosed(WebSocketConnection connection, int code, String reason) {
    }

    /**
     * The connection ended with an error, a {@link dev.wscrt.CrtRuntimeException} whose
     * {@code errorName()} says why (for example {@code WSCRT_ERROR_WEBSOCKET_CLOSE_TIMEOUT},
     * {@code WSCRT_ERROR_WEBSOCKET_MESSAGE_TOO_BIG}, {@code WSCRT_ERROR_IO_SOCKET_CONNECTION_RESET}).
     *
     * @param connection the connection the event is for
     * @param error a {@link dev.wscrt.CrtRuntimeException} naming why; when a listener method threw, that
     *              Throwable is its cause
     */
    default void onError(WebSocketConnection connection, Throwable error) {
    }
}
