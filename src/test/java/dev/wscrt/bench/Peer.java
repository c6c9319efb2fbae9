package dev.wscrt.bench;

import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;

/**
 * One WebSocket client library under test, used as its documentation teaches. The benchmark's scenarios
 * ({@link Scenarios}) are written once against this seam; each library has an adapter of its own.
 */
interface Peer extends AutoCloseable {

    /** Name in the report ("wscrt", "JDK", "Netty", ...). */
    String name();

    /**
     * Starts connecting to {@code uri} (ws:// or wss://). The future completes once the connection is open
     * (after {@link Listener#onOpen}), or fails.
     */
    CompletableFuture<Connection> connect(URI uri, Listener listener);

    @Override
    default void close() {
    }

    /** An open connection. Its methods are called from one thread at a time. */
    interface Connection {
        /**
         * Sends {@code payload}'s remaining bytes as one BINARY message, without changing its position; the
         * caller does not change the bytes afterwards. Waits (at most 30 s) while the library's own flow
         * control says it holds enough queued data; never waits when called from a {@link Listener} callback
         * with nothing else queued.
         */
        void sendBinary(ByteBuffer payload) throws Exception;

        /** Sends one TEXT message. */
        void sendText(String text) throws Exception;

        /** Starts the close handshake; {@link Listener#onClosed} follows. */
        void close();
    }

    /** What a connection delivers, on the library's own thread(s); never blocks. */
    interface Listener {
        /** The connection is open: runs before any message. */
        void onOpen(Connection connection);

        /** A piece of a BINARY message ({@code data} valid only during the call); {@code last} ends it. */
        void onBinary(ByteBuffer data, boolean last);

        /** A whole TEXT message. */
        void onText(String text);

        /** The connection is gone: {@code error} null after a clean close. */
        void onClosed(Throwable error);
    }

    /** Where the server is and what a wss:// client trusts. */
    record Endpoint(int wsPort, int wssPort, Path caPem, boolean tls) {
        URI uri(String path) {
            return URI.create((tls ? "wss://127.0.0.1:" + wssPort : "ws://127.0.0.1:" + wsPort) + path);
        }

        Endpoint withTls(boolean value) {
            return new Endpoint(wsPort, wssPort, caPem, value);
        }
    }
}
