package dev.wscrt.mqtt;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import javax.net.ssl.SSLContext;

/**
 * The same MQTT bytes over the JDK's {@code java.net.http.WebSocket}, for comparison. The JDK allows one
 * outstanding send at a time, so sends are chained; partial binary messages are passed on as they come
 * (the MQTT decoder joins them).
 */
final class JdkTransport implements MqttTransport {

    private final WebSocket socket;
    private CompletableFuture<?> lastSend = CompletableFuture.completedFuture(null); // guarded by this

    private JdkTransport(WebSocket socket) {
        this.socket = socket;
    }

    static CompletableFuture<MqttTransport> connect(URI uri, SSLContext tls, Receiver receiver) {
        HttpClient client = HttpClient.newBuilder().sslContext(tls).build();
        return client.newWebSocketBuilder().subprotocols("mqtt").buildAsync(uri, new WebSocket.Listener() {
            @Override
            public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
                receiver.onBytes(data);
                ws.request(1);
                return null;
            }

            @Override
            public CompletionStage<?> onClose(WebSocket ws, int code, String reason) {
                receiver.onEnd(null);
                return null;
            }

            @Override
            public void onError(WebSocket ws, Throwable error) {
                receiver.onEnd(error);
            }
        }).thenApply(JdkTransport::new);
    }

    @Override
    public synchronized CompletableFuture<Void> send(byte[] bytes) {
        CompletableFuture<Void> sent = lastSend
                .handle((v, e) -> null)
                .thenCompose(v -> socket.sendBinary(ByteBuffer.wrap(bytes), true))
                .thenApply(ws -> null);
        lastSend = sent;
        return sent;
    }

    @Override
    public String subprotocol() {
        return socket.getSubprotocol().isEmpty() ? null : socket.getSubprotocol();
    }

    @Override
    public CompletableFuture<Void> close() {
        return socket.sendClose(WebSocket.NORMAL_CLOSURE, "").thenApply(ws -> null);
    }

    @Override
    public void abort() {
        socket.abort();
    }
}
