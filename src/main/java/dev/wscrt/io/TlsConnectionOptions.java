package dev.wscrt.io;

import java.util.List;
import java.util.Objects;

/**
 * Per-connection TLS settings: the {@link TlsContext}, the server name (sent as SNI and checked against
 * the certificate; default: the host being connected to), an ALPN list overriding the context's, and the
 * handshake timeout (default 10 s).
 */
public final class TlsConnectionOptions {
    private final TlsContext context;
    private String serverName;
    private List<String> alpn;
    private int timeoutMs = 10_000;

    /**
     * Options for connections that use {@code context}, which they keep alive while they run.
     *
     * @param context the TLS configuration
     * @throws NullPointerException if {@code context} is null
     */
    public TlsConnectionOptions(TlsContext context) {
        this.context = Objects.requireNonNull(context, "context");
    }

    /**
     * The name to send as SNI and to verify the certificate against (default: the connect host).
     *
     * @param value the server name to send and to verify the certificate against, not null
     * @return this
     */
    public TlsConnectionOptions withServerName(String value) {
        serverName = Objects.requireNonNull(value, "serverName");
        return this;
    }

    /**
     * ALPN protocol names to offer on this connection, in preference order.
     *
     * @param protocols protocol names, most preferred first: each 1 to 255 characters, without {@code ;}
     * @return this
     * @throws IllegalArgumentException for a name that is empty, longer than 255 characters or holds {@code ;}
     */
    public TlsConnectionOptions withAlpnList(String... protocols) {
        alpn = checkAlpn(protocols);
        return this;
    }

    /**
     * The handshake timeout in milliseconds.
     *
     * @param value milliseconds, positive (default 10 000)
     * @return this
     * @throws IllegalArgumentException if {@code value} is not positive
     */
    public TlsConnectionOptions withTimeoutMs(int value) {
        if (value <= 0) {
            throw new IllegalArgumentException("timeoutMs must be positive: " + value);
        }
        timeoutMs = value;
        return this;
    }

    /**
     * The TLS configuration the connections use.
     *
     * @return the context given to the constructor
     */
    public TlsContext context() {
        return context;
    }

    /**
     * The configured server name, or null for the connect host.
     *
     * @return the configured server name, or null for the connect host
     */
    public String serverName() {
        return serverName;
    }

    /**
     * The ALPN override, or null for the context's list.
     *
     * @return the ALPN override, or null for the context's list
     */
    public List<String> alpnList() {
        return alpn;
    }

    /**
     * The handshake timeout.
     *
     * @return the timeout in milliseconds (default 10 000)
     */
    public int timeoutMs() {
        return timeoutMs;
    }

    static List<String> checkAlpn(String... protocols) {
        List<String> list = List.of(protocols);
        for (String protocol : list) {
            if (protocol.isEmpty() || protocol.length() > 255 || protocol.indexOf(';') >= 0) {
                throw new IllegalArgumentException("invalid ALPN protocol name: '" + protocol + "'");
            }
        }
        return list;
    }
}
