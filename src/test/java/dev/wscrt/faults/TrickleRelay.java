package dev.wscrt.faults;

import dev.wscrt.testing.Sockets;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP relay on 127.0.0.1 in front of a real server: what the client sends goes upstream at once, what
 * the server answers comes back one byte every {@code delayMs}. For one connection; bounded (at most
 * {@code maxBytes} trickled, each wait bounded) and stopped by {@link #close()}.
 */
final class TrickleRelay implements AutoCloseable {

    private final ServerSocket listener;
    private final int upstreamPort;
    private final long delayMs;
    private final int maxBytes;
    private final AtomicInteger trickled = new AtomicInteger();
    private final Thread acceptor;
    private volatile Socket client;
    private volatile Socket upstream;
    private volatile boolean closed;

    TrickleRelay(int upstreamPort, long delayMs, int maxBytes) {
        this.upstreamPort = upstreamPort;
        this.delayMs = delayMs;
        this.maxBytes = maxBytes;
        listener = Loopback.listener(1);
        acceptor = new Thread(this::relayOne, "trickle-relay");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    int port() {
        return listener.getLocalPort();
    }

    /** Bytes of the server's answer passed to the client so far. */
    int trickled() {
        return trickled.get();
    }

    private void relayOne() {
        try {
            client = listener.accept();
            upstream = new Socket();
            upstream.connect(new InetSocketAddress(Loopback.address(), upstreamPort), 5000);
            Thread up = new Thread(() -> pump(client, upstream, 0), "trickle-relay-up");
            up.setDaemon(true);
            up.start();
            pump(upstream, client, delayMs);
        } catch (IOException e) {
            // the client or the test gave up: nothing more to relay
        } finally {
            Sockets.closeQuietly(client);
            Sockets.closeQuietly(upstream);
        }
    }

    private void pump(Socket from, Socket to, long perByteDelayMs) {
        try {
            InputStream in = from.getInputStream();
            OutputStream out = to.getOutputStream();
            byte[] buffer = new byte[perByteDelayMs > 0 ? 1 : 16384];
            while (!closed) {
                int n = in.read(buffer);
                if (n < 0) {
                    to.shutdownOutput();
                    return;
                }
                out.write(buffer, 0, n);
                out.flush();
                if (perByteDelayMs > 0) {
                    if (trickled.incrementAndGet() >= maxBytes) {
                        return;
                    }
                    Thread.sleep(perByteDelayMs);
                }
            }
        } catch (IOException | InterruptedException e) {
            // one side ended
        }
    }

    @Override
    public void close() {
        closed = true;
        Sockets.closeQuietly(listener);
        Sockets.closeQuietly(client);
        Sockets.closeQuietly(upstream);
        try {
            acceptor.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
