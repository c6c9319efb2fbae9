package dev.wscrt.websocket;

import dev.wscrt.http.HttpHeader;
import dev.wscrt.http.HttpProxyOptions;
import dev.wscrt.http.HttpRequest;
import dev.wscrt.internal.NativeHandles;
import dev.wscrt.internal.NativeOptions;
import dev.wscrt.io.ClientBootstrap;
import dev.wscrt.io.SocketOptions;
import dev.wscrt.io.TlsConnectionOptions;

/**
 * Connect options as {@code src/native/websocket_jni_options.c} reads them (see {@link NativeOptions}): the
 * one place where a connection attempt is described to native code.
 */
final class ConnectEncoding {
    /**
     * Room for a connect's encoding without growing: 556 bytes for ws:// with the five headers
     * {@link WebSocket#createHandshakeRequest} makes, with room for TLS, proxy and a few more headers.
     */
    private static final int CAPACITY = 1024;

    private ConnectEncoding() {
    }

    /**
     * The encoding of one attempt. The caller keeps {@code bootstrap} and {@code options} reachable until the
     * native call returns (the encoding holds their native handles). {@code request} is the handshake request
     * to send: the options' own, or what their {@link HandshakeTransform} made of it.
     */
    static NativeOptions encode(WebSocketConnectOptions options, ClientBootstrap bootstrap, HttpRequest request) {
        NativeOptions out = new NativeOptions(CAPACITY)
                .putString("host", options.host())
                .putInt("port", options.port())
                .putLong("bootstrap", NativeHandles.of(bootstrap))
                .putString("method", request.getMethod())
                .putString("path", request.getPath());
        for (HttpHeader header : request.getHeaders()) {
            out.putJoined("header", header.name(), ':', header.value());
        }
        out.putBoolean("manual_window", options.manageReadWindow())
                .putLong("initial_window", options.initialReadWindow())
                .putInt("handshake_timeout_ms", options.handshakeTimeoutMs())
                .putLong("send_queue_limit", options.sendQueueLimit())
                .putInt("ping_interval_ms", options.pingIntervalMs())
                .putInt("pong_timeout_ms", options.pongTimeoutMs());
        MessageMode messages = options.messageMode();
        if (messages != null) {
            out.putBoolean("messages", true).putLong("max_message_size", messages.maxMessageSize());
            // Joined in Java without partial mode: a one-frame BINARY message that arrives in pieces is joined
            // straight into the listener's array (ConnectionEvents), not first in native memory.
            out.putBoolean(messages.partial() ? "partial_messages" : "binary_frame_pieces", true);
        }
        CompressionOptions compression = messages != null ? messages.compression() : null;
        if (compression != null) {
            out.putInt("deflate.client_max_window_bits", compression.clientMaxWindowBits())
                    .putInt("deflate.server_max_window_bits", compression.serverMaxWindowBits())
                    .putBoolean("deflate.client_no_context_takeover", compression.clientNoContextTakeover())
                    .putBoolean("deflate.server_no_context_takeover", compression.serverNoContextTakeover())
                    .putInt("deflate.level", compression.level())
                    .putInt("deflate.mem_level", compression.memoryLevel())
                    .putLong("deflate.threshold", compression.threshold());
        }
        SocketOptions socket = options.socketOptions() != null ? options.socketOptions() : new SocketOptions();
        out.putInt("socket.connect_timeout_ms", socket.connectTimeoutMs())
                .putBoolean("socket.keep_alive", socket.keepAlive())
                .putInt("socket.keep_alive_interval_s", socket.keepAliveIntervalSecs())
                .putInt("socket.keep_alive_timeout_s", socket.keepAliveTimeoutSecs())
                .putInt("socket.domain", socket.domain().ordinal())
                .putBoolean("socket.no_delay", socket.noDelay());
        putTls(out, "tls.", options.tlsConnectionOptions());
        HttpProxyOptions proxy = options.proxyOptions();
        if (proxy != null) {
            out.putString("proxy.host", proxy.host())
                    .putInt("proxy.port", proxy.port())
                    .putBoolean("proxy.basic_auth", proxy.authType() == HttpProxyOptions.AuthType.BASIC)
                    .putString("proxy.username", proxy.username())
                    .putString("proxy.password", proxy.password());
            putTls(out, "proxy.tls.", proxy.tlsConnectionOptions());
        }
        return out;
    }

    private static void putTls(NativeOptions out, String prefix, TlsConnectionOptions tls) {
        if (tls == null) {
            return;
        }
        out.putLong(prefix + "ctx", NativeHandles.of(tls.context()))
                .putString(prefix + "server_name", tls.serverName())
                .putInt(prefix + "timeout_ms", tls.timeoutMs());
        if (tls.alpnList() != null) {
            out.putString(prefix + "alpn", String.join(";", tls.alpnList()));
        }
    }
}
