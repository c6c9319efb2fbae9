package dev.wscrt.bench;

import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;
import javax.net.ssl.SSLContext;
import org.java_websocket.WebSocketImpl;
import org.java_websocket.client.WebSocketClient;
import org.java_websocket.handshake.ServerHandshake;

/**
 * Java-WebSocket's {@link WebSocketClient}: one client object per connection, with its own read and write
 * threads; {@code send(ByteBuffer)} queues an encoded frame, and a sender waits while more than
 * {@value #MAX_QUEUED} frames are queued (the library's queue itself is unbounded).
 */
final class JavaWebSocketPeer implements Peer {
    static final int MAX_QUEUED = 64;
    private final SSLContext ssl;

    JavaWebSocketPeer(Path caPem) {
        ssl = caPem == null ? null : Trust.of(caPem).context();
    }

    @Override
    public String name() {
        return "Java-WebSocket";
    }

    @Override
    public CompletableFuture<Connection> connect(URI uri, Listener listener) {
        CompletableFuture<Connection> opened = new CompletableFuture<>();
        Conn conn = new Conn();
        WebSocketClient client = new WebSocketClient(uri) {
            private volatile Exception error;

            @Override
            public void onOpen(ServerHandshake handshake) {
                listener.onOpen(conn);
                opened.complete(conn);
            }

            @Override
            public void onMessage(ByteBuffer bytes) {
                listener.onBinary(bytes, true);
            }

            @Override
            public void onMessage(String message) {
                listener.onText(message);
            }

            @Override
            public void onClose(int code, String reason, boolean remote) {
                if (!opened.isDone()) {
                    opened.completeExceptionally(error != null ? error
                            : new IllegalStateException("closed before open: " + code + " " + reason));
                }
                listener.onClosed(error);
            }

            @Override
            public void onError(Exception ex) {
                if (error == null) {
                    error = ex;
                }
            }
        };
        client.setTcpNoDelay(true);
        client.setConnectionLostTimeout(0);
        if (uri.getScheme().equals("wss")) {
            client.setSocketFactory(ssl.getSocketFactory());
        }
        conn.client = client;
        client.connect();
        return opened;
    }

    private static final class Conn implements Connection {
        volatile WebSocketClient client;

        @Override
        public void sendBinary(ByteBuffer payload) throws Exception {
            WebSocketImpl impl = (WebSocketImpl) client.getConnection();
            if (impl.outQueue.size() > MAX_QUEUED) {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (impl.outQueue.size() > MAX_QUEUED && client.isOpen()) {
                    if (System.nanoTime() - deadline > 0) {
                        throw new TimeoutException("send queue full for 30 s");
                    }
                    LockSupport.parkNanos(20_000);
                }
            }
            client.send(payload.duplicate());
        }

        @Override
        public void sendText(String text) {
            client.send(text);
        }

        @Override
        public void close() {
            client.close(1000, "");
        }
    }
}
