package dev.wscrt.io;

/**
 * TCP socket options for a connection. Defaults: connect timeout 3000 ms, TCP_NODELAY on, no keep-alive,
 * address family taken from the resolved address.
 *
 * <p>A mutable builder: fill it on one thread, then hand it to the connect options, which read it when
 * the connection starts. A connect that does not finish in time fails the setup with
 * {@code WSCRT_ERROR_IO_SOCKET_TIMEOUT}.
 */
public final class SocketOptions {
    /** Which address family to connect with. */
    public enum Domain {
        /** The family of the address the host name resolves to (IPv4 or IPv6). */
        UNSPEC,
        /** IPv4 only. */
        IPV4,
        /** IPv6 only. */
        IPV6
    }

    private int connectTimeoutMs = 3000;
    private boolean keepAlive;
    private int keepAliveIntervalSecs;
    private int keepAliveTimeoutSecs;
    private Domain domain = Domain.UNSPEC;
    private boolean noDelay = true;

    /** Options with the defaults above. */
    public SocketOptions() {
    }

    /**
     * Sets how long a TCP connect may take.
     *
     * @param value milliseconds, positive (default 3000)
     * @return this
     * @throws IllegalArgumentException if {@code value} is not positive
     */
    public SocketOptions withConnectTimeoutMs(int value) {
        if (value <= 0) {
            throw new IllegalArgumentException("connectTimeoutMs must be positive: " + value);
        }
        connectTimeoutMs = value;
        return this;
    }

    /**
     * Turns TCP keep-alive (SO_KEEPALIVE) on or off.
     *
     * @param value true to send keep-alive probes on an idle connection (default false)
     * @return this
     */
    public SocketOptions withKeepAlive(boolean value) {
        keepAlive = value;
        return this;
    }

    /**
     * Sets the time between keep-alive probes (TCP_KEEPINTVL).
     *
     * @param value seconds, 0 to 65535; 0 keeps the system default
     * @return this
     * @throws IllegalArgumentException if {@code value} is out of range
     */
    public SocketOptions withKeepAliveIntervalSecs(int value) {
        keepAliveIntervalSecs = checkSeconds("keepAliveIntervalSecs", value);
        return this;
    }

    /**
     * Sets the idle time before the first keep-alive probe (TCP_KEEPIDLE).
     *
     * @param value seconds, 0 to 65535; 0 keeps the system default
     * @return this
     * @throws IllegalArgumentException if {@code value} is out of range
     */
    public SocketOptions withKeepAliveTimeoutSecs(int value) {
        keepAliveTimeoutSecs = checkSeconds("keepAliveTimeoutSecs", value);
        return this;
    }

    /**
     * Sets the address family to connect with.
     *
     * @param value the family (default {@link Domain#UNSPEC})
     * @return this
     * @throws IllegalArgumentException if {@code value} is null
     */
    public SocketOptions withDomain(Domain value) {
        if (value == null) {
            throw new IllegalArgumentException("domain must not be null");
        }
        domain = value;
        return this;
    }

    /**
     * Turns Nagle's algorithm off (TCP_NODELAY on) or on.
     *
     * @param value true to send small frames at once (default true)
     * @return this
     */
    public SocketOptions withNoDelay(boolean value) {
        noDelay = value;
        return this;
    }

    private static int checkSeconds(String name, int value) {
        if (value < 0 || value > 0xFFFF) {
            throw new IllegalArgumentException(name + " must be between 0 and 65535: " + value);
        }
        return value;
    }

    /**
     * The connect timeout.
     *
     * @return milliseconds
     */
    public int connectTimeoutMs() {
        return connectTimeoutMs;
    }

    /**
     * Whether TCP keep-alive is on.
     *
     * @return true if keep-alive probes are sent
     */
    public boolean keepAlive() {
        return keepAlive;
    }

    /**
     * The time between keep-alive probes.
     *
     * @return seconds, 0 for the system default
     */
    public int keepAliveIntervalSecs() {
        return keepAliveIntervalSecs;
    }

    /**
     * The idle time before the first keep-alive probe.
     *
     * @return seconds, 0 for the system default
     */
    public int keepAliveTimeoutSecs() {
        return keepAliveTimeoutSecs;
    }

    /**
     * The address family to connect with.
     *
     * @return the family, never null
     */
    public Domain domain() {
        return domain;
    }

    /**
     * Whether TCP_NODELAY is on.
     *
     * @return true if small frames are sent at once
     */
    public boolean noDelay() {
        return noDelay;
    }
}
