package dev.wscrt.bench;

import dev.wscrt.io.ClientBootstrap;
import dev.wscrt.io.EventLoopGroup;
import dev.wscrt.io.HostResolver;
import dev.wscrt.io.TlsConnectionOptions;
import dev.wscrt.websocket.OnSendFrameCompleteData;
import dev.wscrt.websocket.Opcode;
import dev.wscrt.websocket.WebSocket;
import dev.wscrt.websocket.WebSocketConnectOptions;
import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * wscrt's frame API as the README teaches it: setup, payload, complete and shutdown callbacks on the native
 * event-loop thread (a message ends at a frame with FIN), {@code sendFrame} with the caller's heap or direct
 * {@code ByteBuffer} and a completion callback per send, waiting for room in the send queue between two marks
 * ({@link SendWindow}).
 */
final class WscrtPeer extends WscrtPeerBase {
    /** Busy poll of the "wscrt-poll" client's event-loop threads: longer than a loopback echo round trip. */
    static final Duration BUSY_POLL = Duration.ofNanos(100_000);

    /** The client's own threads, for the busy-polling client; null: the library's default bootstrap. */
    private final ClientBootstrap bootstrap;
    private final HostResolver resolver;
    private final EventLoopGroup group;

    WscrtPeer(Path caPem) {
        super(caPem, "wscrt");
        bootstrap = null;
        resolver = null;
        group = null;
    }

    /** The frame API on an event-loop group of its own whose threads poll for {@code busyPoll} before they sleep. */
    WscrtPeer(Path caPem, Duration busyPoll) {
        super(caPem, "wscrt-poll");
        group = new EventLoopGroup(0, busyPoll);
        resolver = new HostResolver(group, 16);
        bootstrap = new ClientBootstrap(group, resolver);
    }

    @Override
    public void close() {
        super.close();
        if (bootstrap != null) {
            bootstrap.close();
            resolver.close();
            group.close();
        }
    }

    @Override
    public CompletableFuture<Connection> connect(URI uri, Listener listener) {
        CompletableFuture<Connection> opened = new CompletableFuture<>();
        Conn conn = new Conn();
        StringBuilder text = new StringBuilder();
        String hostPort = uri.getHost() + ":" + uri.getPort();
        String path = uri.getRawPath() + (uri.getRawQuery() != null ? "?" + uri.getRawQuery() : "");
        try {
            WebSocketConnectOptions.Builder options = WebSocketConnectOptions.builder()
                    .host(uri.getHost())
                    .port(uri.getPort())
                    .handshakeRequest(WebSocket.createHandshakeRequest(hostPort, path))
                    .onConnectionSetup(d -> {
                        if (d.exception() != null) {
                            opened.completeExceptionally(d.exception());
                            return;
                        }
                        conn.ws = d.websocket();
                        listener.onOpen(conn);
                        opened.complete(conn);
                    })
                    .onIncomingFramePayload(d -> {
                        Opcode op = d.frame().opcode();
                        if (op == Opcode.BINARY || op == Opcode.CONTINUATION) {
                            listener.onBinary(d.data(), false);
                        } else if (op == Opcode.TEXT) {
                            text.append(StandardCharsets.UTF_8.decode(d.data()));
                        }
                    })
                    .onIncomingFrameComplete(d -> {
                        if (d.exception() != null || !d.frame().fin()) {
                            return;
                        }
                        Opcode op = d.frame().opcode();
                        if (op == Opcode.TEXT) {
                            listener.onText(text.toString());
                            text.setLength(0);
                        } else if (op == Opcode.BINARY || op == Opcode.CONTINUATION) {
                            listener.onBinary(EMPTY, true);
                        }
                    })
                    .onConnectionShutdown(d -> listener.onClosed(d.exception()));
            if (uri.getScheme().equals("wss")) {
                options.tlsConnectionOptions(new TlsConnectionOptions(tls()));
            }
            if (bootstrap != null) {
                options.bootstrap(bootstrap);
            }
            WebSocket.connect(options.build());
        } catch (RuntimeException | IOException e) {
            opened.completeExceptionally(e);
        }
        return opened;
    }

    private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);

    private static final class Conn implements Connection {
        volatile WebSocket ws;
        final SendWindow window = new SendWindow();
        final Consumer<OnSendFrameCompleteData> onSent = d -> window.sent(d.exception());

        @Override
        public void sendBinary(ByteBuffer payload) throws Exception {
            window.awaitRoom(ws.queuedBytes(), ws::whenQueuedBytesAtMost);
            ws.sendFrame(Opcode.BINARY, payload, true, onSent);
        }

        @Override
        public void sendText(String text) {
            ws.sendFrame(Opcode.TEXT, text);
        }

        @Override
        public void close() {
            ws.close();
        }
    }
}
