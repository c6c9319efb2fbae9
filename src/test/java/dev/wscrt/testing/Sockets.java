package dev.wscrt.testing;

import java.io.Closeable;
import java.io.IOException;
import java.net.Socket;

/**
 * Ending the sockets of the tests' hand-written peers, where an I/O error on the way out changes nothing:
 * the socket is gone either way. Any thread.
 */
public final class Sockets {

    private Sockets() {
    }

    /** Closes a socket, a listener or another closeable; {@code null} is allowed and does nothing. */
    public static void closeQuietly(Closeable closeable) {
        if (closeable == null) {
            return;
        }
        try {
            closeable.close();
        } catch (IOException ignored) {
            // closed anyway
        }
    }

    /** Aborts a TCP connection with a reset (SO_LINGER 0, then close) instead of a FIN. */
    public static void reset(Socket socket) {
        try {
            socket.setSoLinger(true, 0);
            socket.close();
        } catch (IOException ignored) {
            // gone anyway
        }
    }
}
