package dev.wscrt.websocket;

/**
 * Passed to a {@link WebSocket#sendFrame} completion callback, once per frame, on the connection's
 * event-loop thread, in the order the frames were queued.
 *
 * @param exception null if the frame was written to the socket (it may still be in the kernel's buffer);
 *                  otherwise why it was not sent
 */
public record OnSendFrameCompleteData(Throwable exception) {
}
