package dev.wscrt.http;

import dev.wscrt.io.TlsConnectionOptions;
import java.util.Objects;

/**
 * An HTTP proxy to tunnel through with CONNECT, for ws:// and wss:// alike. Optionally with basic
 * authentication, and with TLS to the proxy itself.
 *
 * <p>A mutable builder: fill it on one thread, then hand it to the connect options, which read it when
 * the connection starts. Failures to reach or pass the proxy are reported by the connection's setup
 * callback, for example {@code WSCRT_ERROR_HTTP_PROXY_CONNECT_FAILED} when the proxy answers CONNECT
 * with a status other than 2xx.
 */
public final class HttpProxyOptions {
    /** How to authenticate to the proxy. */
    public enum AuthType {
        /** No {@code Proxy-Authorization} header. */
        NONE,
        /** {@code Proxy-Authorization: Basic} with the username and password (RFC 7617). */
        BASIC
    }

    private String host;
    private int port;
    private AuthType authType = AuthType.NONE;
    private String username;
    private String password;
    private TlsConnectionOptions tlsConnectionOptions;

    /** Options with no host or port yet, and no authentication. */
    public HttpProxyOptions() {
    }

    /**
     * Sets the proxy's host name or address.
     *
     * @param value a host name or IPv4/IPv6 address literal
     * @return this
     * @throws NullPointerException if {@code value} is null
     */
    public HttpProxyOptions withHost(String value) {
        host = Objects.requireNonNull(value, "host");
        return this;
    }

    /**
     * Sets the proxy's port.
     *
     * @param value the TCP port, 1 to 65535
     * @return this
     * @throws IllegalArgumentException if {@code value} is out of range
     */
    public HttpProxyOptions withPort(int value) {
        if (value < 1 || value > 65535) {
            throw new IllegalArgumentException("port must be between 1 and 65535: " + value);
        }
        port = value;
        return this;
    }

    /**
     * Sets how to authenticate to the proxy.
     *
     * @param value {@link AuthType#NONE} (the default) or {@link AuthType#BASIC}
     * @return this
     * @throws NullPointerException if {@code value} is null
     */
    public HttpProxyOptions withAuthType(AuthType value) {
        authType = Objects.requireNonNull(value, "authType");
        return this;
    }

    /**
     * Sets the username for basic authentication.
     *
     * @param value the username (must not contain {@code ':'}), or null
     * @return this
     */
    public HttpProxyOptions withUsername(String value) {
        username = value;
        return this;
    }

    /**
     * Sets the password for basic authentication.
     *
     * @param value the password, or null for an empty one
     * @return this
     */
    public HttpProxyOptions withPassword(String value) {
        password = value;
        return this;
    }

    /**
     * Sets TLS to the proxy itself (an https proxy). The connection to the server through the tunnel has
     * its own TLS options.
     *
     * @param value the TLS options for the proxy connection, or null for a plain-TCP proxy
     * @return this
     */
    public HttpProxyOptions withTlsConnectionOptions(TlsConnectionOptions value) {
        tlsConnectionOptions = value;
        return this;
    }

    /**
     * The proxy's host.
     *
     * @return the host name or address, or null if not set
     */
    public String host() {
        return host;
    }

    /**
     * The proxy's port.
     *
     * @return the port, or 0 if not set
     */
    public int port() {
        return port;
    }

    /**
     * How to authenticate to the proxy.
     *
     * @return the authentication type, never null
     */
    public AuthType authType() {
        return authType;
    }

    /**
     * The username for basic authentication.
     *
     * @return the username, or null
     */
    public String username() {
        return username;
    }

    /**
     * The password for basic authentication.
     *
     * @return the password, or null
     */
    public String password() {
        return password;
    }

    /**
     * TLS to the proxy itself.
     *
     * @return the TLS options for the proxy connection, or null for a plain-TCP proxy
     */
    public TlsConnectionOptions tlsConnectionOptions() {
        return tlsConnectionOptions;
    }

    /**
     * Checks that the configuration is complete; the connect call runs this too.
     *
     * @throws IllegalArgumentException without a host and port, with basic authentication but no
     *         username, or with a username that contains {@code ':'}
     */
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
