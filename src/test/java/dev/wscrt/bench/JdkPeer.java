package dev.wscrt.bench;

import dev.wscrt.io.TlsContext;
import dev.wscrt.io.TlsContextOptions;
import dev.wscrt.websocket.JdkWebSocket;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The JDK's {@link java.net.http.WebSocket} from one shared {@link HttpClient} (its default executor), or
 * the same API on wscrt ({@link JdkWebSocket#newWebSocketBuilder}, the same adapter code),
 * demand requested once as {@code Long.MAX_VALUE}. The JDK allows one outstanding send at a time, so a
 * sender waits for the previous send's future (no wait when it is already complete).
 */
final class JdkPeer implements Peer {
    private final HttpClient http;
    private final TlsContext wscrtTls;
    private final Supplier<WebSocket.Builder> builders;

    /** The JDK's client. */
    JdkPeer(Path caPem) {
        HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10));
        if (caPem != null) {
            b.sslContext(Trust.of(caPem).context());
        }
        http = b.build();
        wscrtTls = null;
        builders = http::newWebSocketBuilder;
    }

    /** The JDK's API on wscrt. */
    JdkPeer(Path caPem, boolean onWscrt) throws IOException {
        if (!onWscrt) {
            throw new IllegalArgumentException("use JdkPeer(Path) for the JDK's client");
        }
        http = null;
        wscrtTls = caPem == null ? null : new TlsContext(TlsContextOptions.createDefaultClient()
                .withCertificateAuthority(Files.readString(caPem)));
        builders = wscrtTls == null ? JdkWebSocket::newWebSocketBuilder : () -> JdkWebSocket.newWebSocketBuilder(wscrtTls);
    }

    @Override
    public String name() {
        return http != null ? "JDK" : "JDK API on wscrt";
    }

    @Override
    public void close() {
        if (wscrtTls != null) {
            wscrtTls.close();
        }
    }

    @Override
    public CompletableFuture<Connection> connect(URI uri, Listener listener) {
        Conn conn = new Conn();
        WebSocket.Listener adapter = new WebSocket.Listener() {
            private final StringBuilder text = new StringBuilder();

            @Override
            public void onOpen(WebSocket ws) {
                conn.ws = ws;
                listener.onOpen(conn);
                ws.request(Long.MAX_VALUE);
            }

            @Override
            public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
                IN_CALLBACK.set(true);
                try {
                    listener.onBinary(data, last);
                } finally {
                    IN_CALLBACK.set(false);
                }
                return null;
            }

            @Override
            public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
                text.append(data);
                if (last) {
                    listener.onText(text.toString());
                    text.setLength(0);
                }
                return null;
            }

            @Override
            public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
                listener.onClosed(null);
                ws.abort();
                return null;
            }

            @Override
            public void onError(WebSocket ws, Throwable error) {
                listener.onClosed(error);
            }
        };
        return builders.get().connectTimeout(Duration.ofSeconds(10))
                .buildAsync(uri, adapter).thenApply(ws -> conn);
    }

    /** Set while a listener method of this adapter runs: a send from there must not wait. */
    private static final ThreadLocal<Boolean> IN_CALLBACK = ThreadLocal.withInitial(() -> false);

    /**
     * One send at a time, as the JDK requires: a send waits for the previous send's future, or, from a
     * listener callback (where waiting could stop the thread that completes it), goes after it. The future is
     * read and stored under the lock, so that a send from a callback sees the future of a send another thread
     * made: the echo of the first message, sent from the main thread, can arrive before that thread has stored
     * the send's future, and a send then found the first one still pending (IllegalStateException) and the
     * round trips stopped.
     */
    private static final class Conn implements Connection {
        volatile WebSocket ws;
        private CompletableFuture<WebSocket> previous = CompletableFuture.completedFuture(null);

        @Override
        public void sendBinary(ByteBuffer payload) throws Exception {
            ByteBuffer data = payload.duplicate();
            send(() -> ws.sendBinary(data, true));
        }

        @Override
        public void sendText(String text) throws Exception {
            send(() -> ws.sendText(text, true));
        }

        private void send(Supplier<CompletableFuture<WebSocket>> sender) throws Exception {
            CompletableFuture<WebSocket> before;
            synchronized (this) {
                before = previous;
            }
            if (!before.isDone() && !IN_CALLBACK.get()) {
                before.get(30, TimeUnit.SECONDS); // outside the lock: a callback may need it to send
            }
            synchronized (this) {
                previous = previous.isDone() ? sender.get() : previous.thenCompose(x -> sender.get());
            }
        }

        @Override
        public void close() {
            CompletableFuture<WebSocket> before;
            synchronized (this) {
                before = previous;
            }
            before.handle((x, e) -> ws.sendClose(WebSocket.NORMAL_CLOSURE, ""));
        }
    }
}
