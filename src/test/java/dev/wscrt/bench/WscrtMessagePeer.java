package dev.wscrt.bench;

import dev.wscrt.websocket.WebSocketConnection;
import dev.wscrt.websocket.WebSocketListener;
import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;

/**
 * wscrt's message API as the README teaches it: {@code WebSocketConnection.builder(uri).connect(listener)},
 * whole messages joined in native code (one listener call each, the buffer the listener's own), sends
 * returning futures, waiting for room in the send queue between two marks (as the frame-API peer).
 */
final class WscrtMessagePeer extends WscrtPeerBase {

    WscrtMessagePeer(Path caPem) {
        super(caPem, "wscrt messages");
    }

    @Override
    public CompletableFuture<Connection> connect(URI uri, Listener listener) {
        Conn conn = new Conn();
        try {
            WebSocketConnection.Builder builder = WebSocketConnection.builder(uri);
            if (uri.getScheme().equals("wss")) {
                builder.tlsContext(tls());
            }
            return builder.connect(new WebSocketListener() {
                @Override
                public void onOpen(WebSocketConnection c) {
                    conn.ws = c;
                    listener.onOpen(conn);
                }

                @Override
                public void onText(WebSocketConnection c, String text) {
                    listener.onText(text);
                }

                @Override
                public void onBinary(WebSocketConnection c, ByteBuffer data) {
                    listener.onBinary(data, true);
                }

                @Override
                public void onClosed(WebSocketConnection c, int code, String reason) {
                    listener.onClosed(null);
                }

                @Override
                public void onError(WebSocketConnection c, Throwable error) {
                    listener.onClosed(error);
                }
            }).thenApply(c -> conn);
        } catch (RuntimeException | IOException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    private static final class Conn implements Connection {
        volatile WebSocketConnection ws;
        final SendWindow window = new SendWindow();

        @Override
        public void sendBinary(ByteBuffer payload) throws Exception {
            window.awaitRoom(ws.queuedBytes(), ws::whenQueuedBytesAtMost);
            ws.sendBinary(payload).whenComplete((v, e) -> window.sent(e));
        }

        @Override
        public void sendText(String text) {
            ws.sendText(text);
        }

        @Override
        public void close() {
            ws.close(1000, "");
        }
    }
}
