package dev.wscrt.websocket;

import dev.wscrt.CrtError;
import dev.wscrt.CrtRuntimeException;
import dev.wscrt.http.HttpProxyOptions;
import dev.wscrt.io.TlsConnectionOptions;
import java.nio.charset.StandardCharsets;

/**
 * What one {@link WebSocket#connect} call set out to do, kept so that a failure reported later on an
 * event-loop thread can say where and why: the server and the proxy (with the address the connection
 * went to, as native code reports it), what TLS trusted, the request, and the stack of the connect call
 * itself (added to every exception of the setup as a suppressed exception). Immutable; created on the
 * connecting thread, read on the event-loop thread. Once the connection is open only its
 * {@link ConnectionEndpoints} stay, for its later failures: the stack alone holds about 0.7 KiB of the Java
 * heap (HotSpot's backtrace arrays) per connection, a sixth of what an idle connection costs its process.
 */
final class ConnectAttempt {
    /** How much of a refusing answer's body a message quotes. */
    private static final int BODY_BYTES_SHOWN = 200;

    private final ConnectionEndpoints endpoints;
    private final String request;
    private final String serverTrust;
    private final String serverName;
    private final String proxyTrust;
    private final Throwable connectSite;

    private ConnectAttempt(WebSocketConnectOptions options, Throwable connectSite) {
        HttpProxyOptions proxyOptions = options.proxyOptions();
        this.endpoints = new ConnectionEndpoints(options.host(), options.port(),
                proxyOptions == null ? null : proxyOptions.host(), proxyOptions == null ? 0 : proxyOptions.port());
        this.request = options.handshakeRequest() == null ? "?"
                : options.handshakeRequest().getMethod() + " " + options.handshakeRequest().getPath();
        TlsConnectionOptions tls = options.tlsConnectionOptions();
        this.serverTrust = tls == null ? null : tls.context().trustStore();
        this.serverName = tls == null ? null : tls.serverName() != null ? tls.serverName() : options.host();
        TlsConnectionOptions proxyTls = proxyOptions == null ? null : proxyOptions.tlsConnectionOptions();
        this.proxyTrust = proxyTls == null ? null : proxyTls.context().trustStore();
        this.connectSite = connectSite;
    }

    /** Records a connect call; call on the connecting thread, so the stack is the caller's. */
    static ConnectAttempt of(WebSocketConnectOptions options) {
        return new ConnectAttempt(options, new ConnectSite());
    }

    /**
     * What an open connection keeps for its later failures: where it went ({@code remote}: the address
     * connected to, the proxy's when there is one), without what only a setup failure says (the request,
     * the trust stores, the connect call's stack).
     */
    ConnectionEndpoints opened(String remote) {
        return endpoints.connectedTo(remote);
    }

    /**
     * The exception for a failed setup: the native error with where (server, proxy, the address tried,
     * stage) and why (TLS verify result, trust store, HTTP status and body) appended, and the connect
     * call's stack suppressed. {@code remote}: the address(es) native code connected to or tried (the
     * proxy's when there is one), empty when the name did not resolve.
     */
    CrtRuntimeException setupFailure(int errorCode, Integer status, byte[] body, String remote) {
        String detail = describe(CrtError.of(errorCode).errorName(), status, body, remote);
        return withConnectSite(new CrtRuntimeException(errorCode, detail));
    }

    /** Adds the connect call's stack to {@code exception} as a suppressed exception. */
    <T extends Throwable> T withConnectSite(T exception) {
        exception.addSuppressed(connectSite);
        return exception;
    }

    private String describe(String errorName, Integer status, byte[] body, String remote) {
        String server = endpoints.server(remote);
        String proxy = endpoints.proxy(remote);
        String via = proxy != null ? " through proxy " + proxy : "";
        String stage = errorName.substring("WSCRT_ERROR_".length());
        if (stage.startsWith("IO_DNS_")) {
            return proxy != null ? "resolving the proxy host of " + proxy + " (server " + server + ")"
                    : "resolving the host of " + server;
        }
        if (stage.startsWith("HTTP_PROXY_")) {
            return "proxy " + proxy + " refused CONNECT to server " + server + answer(status, body);
        }
        if (stage.startsWith("IO_")) {
            return proxy != null ? "connecting to proxy " + proxy + " (for server " + server + ")"
                    : "connecting to server " + server;
        }
        if (stage.startsWith("TLS_")) {
            boolean toProxy = serverTrust == null && proxyTrust != null;
            String peer = toProxy ? "proxy " + proxy : "server " + server + via;
            String trust = toProxy ? proxyTrust : serverTrust;
            return "TLS handshake with " + peer + ": " + verifyResult(stage)
                    + (trust != null ? "; trusting " + trust : "");
        }
        if (stage.startsWith("WEBSOCKET_") || stage.startsWith("HTTP_")) {
            return status != null ? "server " + server + via + " answered " + request + answer(status, body)
                    : "server " + server + via + " gave no complete HTTP answer to " + request;
        }
        return "connecting to server " + server + via;
    }

    /** The certificate check's outcome in words, from the stable error. */
    private String verifyResult(String stage) {
        return switch (stage) {
            case "TLS_CERT_EXPIRED" -> "the server's certificate has expired";
            case "TLS_CERT_SELF_SIGNED" -> "the certificate is self-signed and not trusted";
            case "TLS_CERT_UNKNOWN_CA" -> "untrusted issuer: no trusted CA issued the certificate";
            case "TLS_CERT_HOSTNAME_MISMATCH" -> "host-name mismatch: the certificate is not for " + serverName;
            case "TLS_CERT_VERIFY_FAILED" -> "the certificate could not be verified";
            case "TLS_CLIENT_CERT_REQUIRED" -> "the server requires a client certificate and none was given";
            case "TLS_PROTOCOL_VERSION" -> "no TLS version acceptable to both sides";
            case "TLS_HANDSHAKE_TIMEOUT" -> "the handshake did not finish in time";
            case "TLS_PEER_CLOSED_DURING_HANDSHAKE" -> "the peer closed the connection during the handshake";
            case "TLS_ALERT_RECEIVED" -> "the peer ended the handshake with a fatal alert";
            default -> "the handshake failed";
        };
    }

    private static String answer(Integer status, byte[] body) {
        if (status == null) {
            return ": no HTTP response";
        }
        StringBuilder text = new StringBuilder(": HTTP ").append(status);
        if (body != null && body.length > 0) {
            int shown = Math.min(body.length, BODY_BYTES_SHOWN);
            text.append(", body \"")
                    .append(new String(body, 0, shown, StandardCharsets.UTF_8).replaceAll("[\\p{Cntrl}]", " "))
                    .append(body.length > shown ? "...\" (" + body.length + " bytes)" : "\"");
        }
        return text.toString();
    }

    /** The stack of a connect call, shown as a suppressed exception of the setup failures it led to. */
    private static final class ConnectSite extends Exception {
        private static final long serialVersionUID = 1L;

        ConnectSite() {
            super("the connect call that started this connection");
        }
    }
}
