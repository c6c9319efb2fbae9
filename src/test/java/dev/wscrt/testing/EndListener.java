package dev.wscrt.testing;

import dev.wscrt.websocket.WebSocketConnection;
import dev.wscrt.websocket.WebSocketListener;

/**
 * A listener that hears how a connection ended as one call, {@link #onEnd}: with {@code null} from
 * {@link #onClosed} (the close handshake finished) and with the error from {@link #onError}. It runs on the
 * connection's event-loop thread, as the callbacks it stands for.
 */
public interface EndListener extends WebSocketListener {

    /** The connection ended: {@code error} is {@code null} after a close handshake. */
    void onEnd(WebSocketConnection connection, Throwable error);

    @Override
    default void onClosed(WebSocketConnection connection, int code, String reason) {
        onEnd(connection, null);
    }

    @Override
    default void onError(WebSocketConnection connection, Throwable error) {
        onEnd(connection, error);
    }
}
