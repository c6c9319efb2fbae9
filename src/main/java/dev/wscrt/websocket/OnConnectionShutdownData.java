package dev.wscrt.websocket;

/**
 * Passed to {@code onConnectionShutdown}, once, after a successful setup.
 *
 * @param exception null if the connection shut down cleanly, else why it did not
 */
public record OnConnectionShutdownData(Throwable exception) {
}
