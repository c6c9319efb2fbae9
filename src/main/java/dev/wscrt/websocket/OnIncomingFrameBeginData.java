package dev.wscrt.websocket;

/**
 * Passed to {@code onIncomingFrameBegin}. It is followed by zero or more payload callbacks and exactly
 * one complete callback for the same frame, all on the connection's event-loop thread.
 *
 * @param frame the frame starting to arrive
 */
public record OnIncomingFrameBeginData(IncomingFrame frame) {
}
