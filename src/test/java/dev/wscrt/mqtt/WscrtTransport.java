package dev.wscrt.mqtt;

import dev.wscrt.io.ClientBootstrap;
import dev.wscrt.io.TlsContext;
import dev.wscrt.testing.EndListener;
import dev.wscrt.websocket.WebSocketConnection;
import java.net.URI;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;

/** MQTT bytes over wscrt's message API; the receiver runs on the connection's event-loop thread. */
final class WscrtTransport implements MqttTransport {

    private final WebSocketConnection connection;

    private WscrtTransport(WebSocketConnection connection) {
        this.connection = connection;
    }

    /** Connects to {@code uri} asking for the {@code mqtt} subprotocol. */
    static CompletableFuture<MqttTransport> connect(URI uri, TlsContext tls, ClientBootstrap bootstrap,
                                                    Receiver receiver) {
        WebSocketConnection.Builder builder = WebSocketConnection.builder(uri)
                .subprotocols("mqtt")
                .tlsContext(tls)
                .maxMessageSize(MoquetteBroker.MAX_PACKET);
        if (bootstrap != null) {
            builder.bootstrap(bootstrap);
        }
        return builder.connect(new EndListener() {
            @Override
            public void onBinary(WebSocketConnection c, ByteBuffer data) {
                receiver.onBytes(data);
            }

            @Override
            public void onEnd(WebSocketConnection c, Throwable error) {
                receiver.onEnd(error);
            }
        }).thenApply(WscrtTransport::new);
    }

    @Override
    public CompletableFuture<Void> send(byte[] bytes) {
        return connection.sendBinary(bytes);
    }

    @Override
    public String subprotocol() {
        return connection.subprotocol();
    }

    @Override
    public CompletableFuture<Void> close() {
        return connection.close(1000, null);
    }

    @Override
    public void abort() {
        connection.abort();
    }
}
