package dev.wscrt.websocket;

/**
 * What the message API ({@link WebSocketConnection}) asks of a connection beyond the frame API's options.
 *
 * @param maxMessageSize the limit on a whole message (native code joins the frames)
 * @param partial        data pieces as they arrive instead of whole messages (no size limit then)
 * @param compression    the permessage-deflate offer; null when none is made
 */
record MessageMode(long maxMessageSize, boolean partial, CompressionOptions compression) {
}
