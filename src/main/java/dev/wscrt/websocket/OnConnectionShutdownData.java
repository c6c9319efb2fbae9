package dev.wscrt.websocket;

/**
 * Passed to {@code onConnectionShutdown}, once, after a successful setup, on the connection's event-loop
 * thread. Nothing is delivered for the connection after it.
 *
 * @param exception null if the connection shut down cleanly, else why it did not: usually a
 *                  {@link dev.wscrt.CrtRuntimeException} with a stable {@code errorName()}, whose cause is the
 *                  Throwable of a callback that threw ({@code WSCRT_ERROR_CALLBACK_EXCEPTION})
 */
public record OnConnectionShutdownData(Throwable exception) {
}
