package dev.wscrt.websocket;

/**
 * Passed to {@code onIncomingFrameComplete}, once for every frame whose begin was delivered, on the connection's
 * event-loop thread.
 *
 * @param frame     the frame that ended: the instance its begin and payload callbacks got
 * @param exception null if the whole frame arrived; otherwise what went wrong (protocol error, connection
 *                  lost mid-frame)
 */
public record OnIncomingFrameCompleteData(IncomingFrame frame, Throwable exception) {
}
