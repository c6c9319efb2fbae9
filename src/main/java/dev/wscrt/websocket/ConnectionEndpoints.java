package dev.wscrt.websocket;

import dev.wscrt.CrtRuntimeException;

/**
 * Where a connection goes, as its failures name it: the server, the proxy when there is one, and once the
 * connection is open the address it went to when that says more than the host and port given (a name and
 * the address it resolved to; a literal is its own address, so nothing is kept for it). Immutable. This is
 * all an open connection keeps of its connect call for its later failures.
 */
final class ConnectionEndpoints {
    private final String serverHost;
    private final int serverPort;
    /** Null without a proxy. */
    private final String proxyHost;
    private final int proxyPort;
    /** The address connected to (the proxy's when there is one); null when it adds nothing or before the open. */
    private final String remote;

    ConnectionEndpoints(String serverHost, int serverPort, String proxyHost, int proxyPort) {
        this(serverHost, serverPort, proxyHost, proxyPort, null);
    }

    private ConnectionEndpoints(String serverHost, int serverPort, String proxyHost, int proxyPort, String remote) {
        this.serverHost = serverHost;
        this.serverPort = serverPort;
        this.proxyHost = proxyHost;
        this.proxyPort = proxyPort;
        this.remote = remote;
    }

    /**
     * These endpoints with the address the open connection went to ({@code remote}, the proxy's when there
     * is one): this object itself when the address adds nothing to what failures say.
     */
    ConnectionEndpoints connectedTo(String remote) {
        String host = proxyHost != null ? proxyHost : serverHost;
        int port = proxyHost != null ? proxyPort : serverPort;
        // After an open, remote is the one address connected to: nothing more when it is the host and port.
        if (remote == null || remote.isEmpty() || remote.equals(authority(host, port))) {
            return this;
        }
        return new ConnectionEndpoints(serverHost, serverPort, proxyHost, proxyPort, remote);
    }

    /** host:port, with an IPv6 literal in brackets. */
    private static String authority(String host, int port) {
        return (host != null && host.indexOf(':') >= 0 && !host.startsWith("[") ? "[" + host + "]" : host)
                + ":" + port;
    }

    /**
     * A host as failures name it, with the address the connection went to or those it tried when native
     * code reported them: {@code localhost (127.0.0.1:8080)}, {@code 127.0.0.1:8080} (a literal is its own
     * address), {@code localhost:8080 (tried [::1]:8080, 127.0.0.1:8080)}, or {@code host:port} alone
     * when the name did not resolve ({@code remote} empty or null).
     */
    private static String named(String host, int port, String remote) {
        String authority = authority(host, port);
        if (remote == null || remote.isEmpty() || remote.equals(authority)) {
            return authority;
        }
        return remote.contains(", ") ? authority + " (tried " + remote + ")" : host + " (" + remote + ")";
    }

    /**
     * The server, with the address connected to or tried ({@code remote}) when the connection went to it
     * directly.
     */
    String server(String remote) {
        return proxyHost == null ? named(serverHost, serverPort, remote) : authority(serverHost, serverPort);
    }

    /** The proxy (the first hop: {@code remote} is its address), or null without one. */
    String proxy(String remote) {
        return proxyHost == null ? null : named(proxyHost, proxyPort, remote);
    }

    /** The exception for a connection that failed after its open: where it was connected. */
    CrtRuntimeException failure(int errorCode, Throwable cause) {
        String where = "connection to " + server(remote) + (proxyHost != null ? " through proxy " + proxy(remote) : "");
        return new CrtRuntimeException(errorCode, where, cause);
    }
}
