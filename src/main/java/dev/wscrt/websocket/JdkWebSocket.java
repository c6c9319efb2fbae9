package dev.wscrt.websocket;

import dev.wscrt.CrtRuntimeException;
import dev.wscrt.io.ClientBootstrap;
import dev.wscrt.io.TlsContext;
import java.io.IOException;
import java.net.ConnectException;
import java.net.ProtocolException;
import java.net.URI;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpTimeoutException;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import javax.net.ssl.SSLHandshakeException;

/**
 * {@link java.net.http.WebSocket} on the native transport: code written for the JDK's client runs on wscrt
 * by changing the line that makes the builder,
 *
 * <pre>{@code
 * WebSocket ws = HttpClient.newHttpClient().newWebSocketBuilder()   // the JDK's client
 * WebSocket ws = JdkWebSocket.newWebSocketBuilder()                   // the same API on wscrt
 *         .buildAsync(URI.create("ws://127.0.0.1:8080/chat"), listener).join();
 * }</pre>
 *
 * <p>The builder and the {@link WebSocket} keep the JDK's contract: {@code header} refuses the same
 * names, {@code subprotocols} offers them in order, {@code buildAsync} fails with the same exceptions
 * ({@link IllegalArgumentException} for a bad URI, header or subprotocol, a
 * {@link java.net.http.WebSocketHandshakeException} carrying the server's answer when it refused the
 * upgrade, an {@link IOException} otherwise, with the wscrt {@link CrtRuntimeException} naming the reason
 * as its cause); receiving follows {@link WebSocket#request(long)} (nothing is delivered without demand,
 * and the socket stops reading once a bounded window of data is waiting); one text/binary and one
 * ping/pong send may be outstanding ({@link IllegalStateException} otherwise); {@code onText} and
 * {@code onBinary} get message pieces with {@code last}; {@code sendClose}, {@code onClose} and
 * {@code abort} behave as in the JDK.
 *
 * <p>Threads: listener methods run one at a time, on the connection's event-loop thread or on a thread
 * calling {@link WebSocket#request(long)}; send futures and the {@code buildAsync} future complete on the
 * event-loop thread (do not block in their dependent stages).
 *
 * <p>Differences the JDK's specification leaves room for: a PING is answered at once by the transport
 * (before {@code onPing} is called, whatever the demand), and so is the server's CLOSE (with its status
 * code; the stage returned by {@code onClose} does not delay it), so a send started from {@code onClose}
 * fails with {@link IOException}; at most {@value JdkWebSocketImpl#MAX_QUEUED_CONTROL} PINGs and PONGs
 * wait for demand, later ones are dropped; after {@code sendClose} the transport waits at most 5 s for
 * the server's CLOSE, then calls {@code onError} with an {@link IOException} (cause
 * {@code WSCRT_ERROR_WEBSOCKET_CLOSE_TIMEOUT}); the {@code jdk.httpclient.allowRestrictedHeaders} property is
 * not read.
 *
 * <p>Send completion: the JDK's client writes on the calling thread and completes a send's future once
 * the socket took the bytes. Here the event-loop thread writes, so a text, binary, ping or pong send is
 * complete as soon as its frame is queued, provided at most 2 MiB (frames' bytes and headers) wait to be
 * written with it; otherwise it completes once the frames waiting have come down to 1 MiB (or when the
 * frame fails, exceptionally). Either way the frame has its own copy of the bytes (the buffer may be
 * reused once the future is complete), frames are written in the order they were sent, and a connection
 * that fails before writing a frame reports it through {@code onError}. So the bytes a sender can get
 * ahead of the socket stay bounded (2 MiB and one frame), as with the JDK's client, without a thread
 * hand-off per send, and the socket always has frames to write while the sender makes its next ones.
 * {@code sendClose} completes when the CLOSE is written.
 */
public final class JdkWebSocket {
    private JdkWebSocket() {
    }

    /**
     * A builder using the default bootstrap and, for wss, the system trust store.
     *
     * @return a new builder
     */
    public static WebSocket.Builder newWebSocketBuilder() {
        return new Builder(null, null);
    }

    /**
     * A builder whose connections run on {@code bootstrap}'s event loops.
     *
     * @param bootstrap the event loops and resolver to use
     * @return a new builder
     */
    public static WebSocket.Builder newWebSocketBuilder(ClientBootstrap bootstrap) {
        return new Builder(Objects.requireNonNull(bootstrap, "bootstrap"), null);
    }

    /**
     * A builder whose wss connections use {@code tlsContext} (trust anchors, client certificate).
     *
     * @param tlsContext the TLS context for wss
     * @return a new builder
     */
    public static WebSocket.Builder newWebSocketBuilder(TlsContext tlsContext) {
        return new Builder(null, Objects.requireNonNull(tlsContext, "tlsContext"));
    }

    /**
     * A builder with both a bootstrap and a TLS context.
     *
     * @param bootstrap the event loops and resolver to use
     * @param tlsContext the TLS context for wss
     * @return a new builder
     */
    public static WebSocket.Builder newWebSocketBuilder(ClientBootstrap bootstrap, TlsContext tlsContext) {
        return new Builder(Objects.requireNonNull(bootstrap, "bootstrap"),
                Objects.requireNonNull(tlsContext, "tlsContext"));
    }

    /** Headers the WebSocket handshake sets itself, refused as the JDK refuses them. */
    private static final Set<String> HANDSHAKE_HEADERS = caseInsensitive("Sec-WebSocket-Accept",
            "Sec-WebSocket-Extensions", "Sec-WebSocket-Key", "Sec-WebSocket-Protocol", "Sec-WebSocket-Version");
    /** Headers the JDK's HTTP client never lets a request set. */
    private static final Set<String> RESTRICTED_HEADERS = caseInsensitive("Connection", "Content-Length",
            "Expect", "Host", "Upgrade");

    private static Set<String> caseInsensitive(String... names) {
        Set<String> set = new TreeSet<>(String.CASE_INSENSITIVE_ORDER);
        set.addAll(List.of(names));
        return set;
    }

    /** Not thread-safe, as the JDK's; each {@code buildAsync} takes a snapshot. */
    private static final class Builder implements WebSocket.Builder {
        private final ClientBootstrap bootstrap;
        private final TlsContext tlsContext;
        private final List<Map.Entry<String, String>> headers = new ArrayList<>();
        private final List<String> subprotocols = new ArrayList<>();
        private Duration connectTimeout;

        Builder(ClientBootstrap bootstrap, TlsContext tlsContext) {
            this.bootstrap = bootstrap;
            this.tlsContext = tlsContext;
        }

        @Override
        public WebSocket.Builder header(String name, String value) {
            headers.add(Map.entry(Objects.requireNonNull(name, "name"), Objects.requireNonNull(value, "value")));
            return this;
        }

        @Override
        public WebSocket.Builder connectTimeout(Duration timeout) {
            connectTimeout = Objects.requireNonNull(timeout, "timeout");
            return this;
        }

        @Override
        public WebSocket.Builder subprotocols(String mostPreferred, String... lesserPreferred) {
            Objects.requireNonNull(mostPreferred, "mostPreferred");
            Objects.requireNonNull(lesserPreferred, "lesserPreferred");
            List<String> all = new ArrayList<>(lesserPreferred.length + 1);
            all.add(mostPreferred);
            for (int i = 0; i < lesserPreferred.length; i++) {
                all.add(Objects.requireNonNull(lesserPreferred[i], "lesserPreferred[" + i + "]"));
            }
            subprotocols.clear();
            subprotocols.addAll(all);
            return this;
        }

        /**
         * Connects. As the JDK's, a null argument throws {@link NullPointerException}; everything else,
         * including a URI, header or subprotocol the JDK refuses, completes the future exceptionally.
         */
        @Override
        public CompletableFuture<WebSocket> buildAsync(URI uri, WebSocket.Listener listener) {
            Objects.requireNonNull(uri, "uri");
            Objects.requireNonNull(listener, "listener");
            WebSocketConnection.Builder options;
            try {
                options = configure(uri);
            } catch (IllegalArgumentException e) {
                return CompletableFuture.failedFuture(e);
            }
            JdkWebSocketImpl socket = new JdkWebSocketImpl(listener);
            CompletableFuture<WebSocket> result = new CompletableFuture<>();
            options.connect(socket).whenComplete((connection, error) -> {
                if (error == null) {
                    result.complete(socket);
                } else {
                    result.completeExceptionally(setupFailure(uri, unwrap(error)));
                }
            });
            return result;
        }

        private WebSocketConnection.Builder configure(URI uri) {
            String scheme = uri.getScheme();
            if (!"ws".equalsIgnoreCase(scheme) && !"wss".equalsIgnoreCase(scheme)) {
                throw new IllegalArgumentException("invalid URI scheme: " + scheme);
            }
            if (uri.getHost() == null) {
                throw new IllegalArgumentException("URI must contain a host: " + uri);
            }
            if (uri.getFragment() != null) {
                throw new IllegalArgumentException("URI must not contain a fragment: " + uri);
            }
            if (connectTimeout != null && (connectTimeout.isNegative() || connectTimeout.isZero())) {
                throw new IllegalArgumentException("Invalid duration: " + connectTimeout);
            }
            WebSocketConnection.Builder options = WebSocketConnection.builder(uri)
                    .partialMessages(true)
                    .readWindow(JdkWebSocketImpl.READ_WINDOW)
                    // The JDK's client sends no PINGs of its own, so its listeners see no unsolicited PONGs.
                    .pingInterval(Duration.ZERO);
            for (Map.Entry<String, String> header : headers) {
                String name = header.getKey();
                if (HANDSHAKE_HEADERS.contains(name)) {
                    throw new IllegalArgumentException("Illegal header: " + name);
                }
                if (!isToken(name)) {
                    throw new IllegalArgumentException("invalid header name: \"" + name + "\"");
                }
                if (RESTRICTED_HEADERS.contains(name)) {
                    throw new IllegalArgumentException("restricted header name: \"" + name + "\"");
                }
                if (!isFieldValue(header.getValue())) {
                    throw new IllegalArgumentException("invalid header value: \"" + header.getValue() + "\"");
                }
                options.header(name, header.getValue());
            }
            Set<String> offered = new LinkedHashSet<>();
            for (String protocol : subprotocols) {
                if (protocol.isBlank() || !isToken(protocol)) {
                    throw new IllegalArgumentException("Bad subprotocol syntax: " + protocol);
                }
                if (!offered.add(protocol)) {
                    throw new IllegalArgumentException("Duplicating subprotocol: " + protocol);
                }
            }
            if (!offered.isEmpty()) {
                options.subprotocols(offered.toArray(String[]::new));
            }
            if (connectTimeout != null) {
                options.connectTimeout(connectTimeout).handshakeTimeout(connectTimeout);
            }
            if (bootstrap != null) {
                options.bootstrap(bootstrap);
            }
            if (tlsContext != null) {
                options.tlsContext(tlsContext);
            }
            return options;
        }
    }

    /** RFC 9110 token: the characters a header name or a subprotocol may have. */
    static boolean isToken(String s) {
        if (s.isEmpty()) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
            if (!alnum && "!#$%&'*+-.^_`|~".indexOf(c) < 0) {
                return false;
            }
        }
        return true;
    }

    /** RFC 9110 field-value characters: visible ASCII, obs-text, space and tab. */
    private static boolean isFieldValue(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c > 0xFF || (c < 0x21 && c != ' ' && c != '\t') || c == 0x7F) {
                return false;
            }
        }
        return true;
    }

    private static Throwable unwrap(Throwable error) {
        return error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
    }

    /** What the JDK completes {@code buildAsync} with for a failure of this kind. */
    private static Throwable setupFailure(URI uri, Throwable error) {
        if (error instanceof dev.wscrt.websocket.WebSocketHandshakeException refused && refused.status() != null) {
            return new java.net.http.WebSocketHandshakeException(new JdkHandshakeResponse(uri, refused))
                    .initCause(refused);
        }
        return toIOException(error);
    }

    /** A transport failure as the JDK's client reports it: an {@link IOException} with wscrt's as cause. */
    static Throwable toIOException(Throwable error) {
        if (!(error instanceof CrtRuntimeException crt)) {
            return error instanceof IOException ? error : new IOException(String.valueOf(error.getMessage()), error);
        }
        String name = crt.errorName();
        IOException mapped;
        if (name.equals("WSCRT_ERROR_IO_SOCKET_TIMEOUT")) {
            mapped = new HttpConnectTimeoutException("HTTP connect timed out (" + crt.getMessage() + ")");
        } else if (name.equals("WSCRT_ERROR_WEBSOCKET_HANDSHAKE_TIMEOUT")) {
            mapped = new HttpTimeoutException("request timed out (" + crt.getMessage() + ")");
        } else if (name.equals("WSCRT_ERROR_IO_SOCKET_CONNECTION_REFUSED") || name.startsWith("WSCRT_ERROR_IO_DNS_")
                || name.equals("WSCRT_ERROR_IO_SOCKET_NO_ROUTE")) {
            mapped = new ConnectException(crt.getMessage());
        } else if (name.startsWith("WSCRT_ERROR_TLS_")) {
            mapped = new SSLHandshakeException(crt.getMessage());
        } else if (isProtocolFailure(name)) {
            mapped = new ProtocolException(crt.getMessage());
        } else {
            return new IOException(crt.getMessage(), crt);
        }
        mapped.initCause(crt);
        return mapped;
    }

    /** The server broke RFC 6455 (the connection answered with 1002 or 1007). */
    private static boolean isProtocolFailure(String name) {
        return name.startsWith("WSCRT_ERROR_WEBSOCKET_") && !name.startsWith("WSCRT_ERROR_WEBSOCKET_SEND_")
                && (name.contains("INVALID") || name.contains("RESERVED") || name.contains("UNEXPECTED")
                || name.contains("MASKED") || name.contains("CONTROL_FRAME") || name.contains("EXPECTED_CONTINUATION")
                || name.contains("NON_MINIMAL") || name.equals("WSCRT_ERROR_WEBSOCKET_PROTOCOL_ERROR")
                || name.equals("WSCRT_ERROR_WEBSOCKET_MISPLACED_RSV1"));
    }
}
