package dev.wscrt.testing;

/** A test server listening on a loopback address: what a client needs to reach it. */
public interface LocalServer extends AutoCloseable {

    /** The loopback address it listens on, "127.0.0.1" or "::1". */
    String host();

    int port();

    /** Closes the listener and every connection; never throws. */
    @Override
    void close();
}
