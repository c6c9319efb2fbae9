package dev.wscrt.mqtt;

import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;

/**
 * A byte stream for MQTT carried in binary WebSocket messages with the {@code mqtt} subprotocol
 * (MQTT 3.1.1 section 6): wscrt's {@link WscrtTransport} or the JDK's {@link JdkTransport}, so the same
 * MQTT client, and the same bytes, run over either.
 */
interface MqttTransport {

    /** What the transport delivers, on its receiving thread, one call at a time. */
    interface Receiver {
        /** The payload of one binary message (valid during the call only). */
        void onBytes(ByteBuffer bytes);

        /** The connection ended: {@code error} is null after a clean close handshake. */
        void onEnd(Throwable error);
    }

    /** Sends one binary message holding {@code bytes}; completes when it has been written. */
    CompletableFuture<Void> send(byte[] bytes);

    /** The subprotocol the server selected in its upgrade answer, or null when it selected none. */
    String subprotocol();

    /** Starts the close handshake (1000). */
    CompletableFuture<Void> close();

    /** Ends the connection at once. */
    void abort();
}
