package dev.wscrt.bench;

import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;
import okhttp3.Dispatcher;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.WebSocket;
import okhttp3.WebSocketListener;
import okio.ByteString;

/**
 * OkHttp 5 ({@code okhttp-jvm}): one shared {@link OkHttpClient} (its dispatcher allowed as many
 * connections as the benchmark opens), {@code newWebSocket} with a {@link WebSocketListener}; sends are
 * {@code send(ByteString)} of a {@link ByteString} made once per payload (ByteStrings are immutable), and a
 * sender waits while more than {@value #MAX_QUEUED_BYTES} bytes are queued (OkHttp closes a connection whose
 * queue passes 16 MiB).
 */
final class OkHttpPeer implements Peer {
    static final long MAX_QUEUED_BYTES = 1024 * 1024;
    private final OkHttpClient http;

    OkHttpPeer(Path caPem) {
        Dispatcher dispatcher = new Dispatcher();
        dispatcher.setMaxRequests(100_000);
        dispatcher.setMaxRequestsPerHost(100_000);
        OkHttpClient.Builder b = new OkHttpClient.Builder().dispatcher(dispatcher)
                .connectTimeout(10, TimeUnit.SECONDS).readTimeout(0, TimeUnit.SECONDS);
        if (caPem != null) {
            Trust trust = Trust.of(caPem);
            b.sslSocketFactory(trust.context().getSocketFactory(), trust.trustManager());
        }
        http = b.build();
    }

    @Override
    public String name() {
        return "OkHttp";
    }

    @Override
    public CompletableFuture<Connection> connect(URI uri, Listener listener) {
        CompletableFuture<Connection> opened = new CompletableFuture<>();
        Conn conn = new Conn();
        String url = (uri.getScheme().equals("wss") ? "https" : "http") + uri.toString().substring(uri.getScheme().length());
        http.newWebSocket(new Request.Builder().url(url).build(), new WebSocketListener() {
            @Override
            public void onOpen(WebSocket ws, Response response) {
                conn.ws = ws;
                listener.onOpen(conn);
                opened.complete(conn);
            }

            @Override
            public void onMessage(WebSocket ws, ByteString bytes) {
                listener.onBinary(bytes.asByteBuffer(), true);
            }

            @Override
            public void onMessage(WebSocket ws, String text) {
                listener.onText(text);
            }

            @Override
            public void onClosing(WebSocket ws, int code, String reason) {
                ws.close(code, null);
            }

            @Override
            public void onClosed(WebSocket ws, int code, String reason) {
                listener.onClosed(null);
            }

            @Override
            public void onFailure(WebSocket ws, Throwable t, Response response) {
                if (!opened.isDone()) {
                    opened.completeExceptionally(t);
                }
                listener.onClosed(t);
            }
        });
        return opened;
    }

    private static final class Conn implements Connection {
        volatile WebSocket ws;
        private ByteBuffer lastPayload;
        private ByteString lastBytes;

        @Override
        public void sendBinary(ByteBuffer payload) throws Exception {
            if (payload != lastPayload) {
                lastBytes = ByteString.of(payload.duplicate());
                lastPayload = payload;
            }
            if (ws.queueSize() > MAX_QUEUED_BYTES) {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (ws.queueSize() > MAX_QUEUED_BYTES) {
                    if (System.nanoTime() - deadline > 0) {
                        throw new TimeoutException("send queue above 1 MiB for 30 s");
                    }
                    LockSupport.parkNanos(20_000);
                }
            }
            if (!ws.send(lastBytes)) {
                throw new IllegalStateException("OkHttp refused the send (closed or queue full)");
            }
        }

        @Override
        public void sendText(String text) {
            ws.send(text);
        }

        @Override
        public void close() {
            ws.close(1000, null);
        }
    }

    @Override
    public void close() {
        http.dispatcher().executorService().shutdown();
        http.connectionPool().evictAll();
    }
}
