package dev.wscrt.http;

import dev.wscrt.io.TlsConnectionOptions;
import java.util.Objects;

/**
 * An HTTP proxy to tunnel through with CONNECT, for ws:// and wss:// alike. Optionally with basic
 * authentication, and with TLS to the proxy itself.
 */
public final class HttpProxyOptions {
    /** How to authenticate to the proxy. */
    public enum AuthType { NONE, BASIC }

    private String host;
    private int port;
    private AuthType authType = AuthType.NONE;
    private String username;
    private String password;
    private TlsConnectionOptions tlsConnectionOptions;

    public HttpProxyOptions withHost(String value) {
        host = Objects.requireNonNull(value, "host");
        return this;
    }

    public HttpProxyOptions withPort(int value) {
        if (value < 1 || value > 65535) {
            throw new IllegalArgumentException("port must be between 1 and 65535: " + value);
        }
        port = value;
        return this;
    }

    public HttpProxyOptions withAuthType(AuthType value) {
        authType = Objects.requireNonNull(value, "authType");
        return this;
    }

    public HttpProxyOptions withUsername(String value) {
        username = value;
        return this;
    }

    public HttpProxyOptions withPassword(String value) {
        password = value;
        return this;
    }

    /** TLS to the proxy itself (an https proxy); null for a plain-TCP proxy. */
    public HttpProxyOptions withTlsConnectionOptions(TlsConnectionOptions value) {
        tlsConnectionOptions = value;
        return this;
    }

    public String host() {
        return host;
    }

    public int port() {
        return port;
    }

    public AuthType authType() {
        return authType;
    }

    public String username() {
        return username;
    }

    public String password() {
        return password;
    }

    public TlsConnectionOptions tlsConnectionOptions() {
        return tlsConnectionOptions;
    }

    /** Throws {@link IllegalArgumentException} for an incomplete configuration. */
    public void validate() {
        if (host == null || host.isEmpty() || port == 0) {
            throw new IllegalArgumentException("the proxy needs a host and a port");
        }
        if (authType == AuthType.BASIC && username == null) {
            throw new IllegalArgumentException("basic proxy authentication needs a username");
        }
        if (username != null && username.indexOf(':') >= 0) {
            throw new IllegalArgumentException("a basic-auth username must not contain ':'");
        }
    }
}
