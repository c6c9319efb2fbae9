package dev.wscrt.io;

/**
 * TCP socket options for a connection. Defaults: connect timeout 3000 ms, TCP_NODELAY on, no keep-alive,
 * address family taken from the resolved address.
 */
public final class SocketOptions {
    /** Which address family to connect with. */
    public enum Domain { UNSPEC, IPV4, IPV6 }

    private int connectTimeoutMs = 3000;
    private boolean keepAlive;
    private int keepAliveIntervalSecs;
    private int keepAliveTimeoutSecs;
    private Domain domain = Domain.UNSPEC;
    private boolean noDelay = true;

    public SocketOptions withConnectTimeoutMs(int value) {
        if (value <= 0) {
            throw new IllegalArgumentException("connectTimeoutMs must be positive: " + value);
        }
        connectTimeoutMs = value;
        return this;
    }

    public SocketOptions withKeepAlive(boolean value) {
        keepAlive = value;
        return this;
    }

    /** Seconds between keep-alive probes (0 = system default). */
    public SocketOptions withKeepAliveIntervalSecs(int value) {
        keepAliveIntervalSecs = checkSeconds("keepAliveIntervalSecs", value);
        return this;
    }

    /** Idle seconds before the first keep-alive probe (0 = system default). */
    public SocketOptions withKeepAliveTimeoutSecs(int value) {
        keepAliveTimeoutSecs = checkSeconds("keepAliveTimeoutSecs", value);
        return this;
    }

    public SocketOptions withDomain(Domain value) {
        if (value == null) {
            throw new IllegalArgumentException("domain must not be null");
        }
        domain = value;
        return this;
    }

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

    public int connectTimeoutMs() {
        return connectTimeoutMs;
    }

    public boolean keepAlive() {
        return keepAlive;
    }

    public int keepAliveIntervalSecs() {
        return keepAliveIntervalSecs;
    }

    public int keepAliveTimeoutSecs() {
        return keepAliveTimeoutSecs;
    }

    public Domain domain() {
        return domain;
    }

    public boolean noDelay() {
        return noDelay;
    }
}
