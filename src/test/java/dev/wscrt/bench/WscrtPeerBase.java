package dev.wscrt.bench;

import dev.wscrt.io.TlsContext;
import dev.wscrt.io.TlsContextOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * What the two wscrt peers (frame API and message API) share: the library loaded, one client
 * {@link TlsContext} trusting the benchmark's CA made on the first wss:// connect and closed with the peer,
 * and a {@link SendWindow} per connection.
 */
abstract class WscrtPeerBase implements Peer {
    private final Path caPem;
    private final String name;
    private TlsContext tls;

    WscrtPeerBase(Path caPem, String name) {
        dev.wscrt.Crt.load();
        this.caPem = caPem;
        this.name = name;
    }

    @Override
    public final String name() {
        return name;
    }

    /** The client TLS context for wss:// connections, made once. */
    final synchronized TlsContext tls() throws IOException {
        if (tls == null) {
            tls = new TlsContext(TlsContextOptions.createDefaultClient()
                    .withCertificateAuthority(Files.readString(caPem)));
        }
        return tls;
    }

    @Override
    public void close() {
        if (tls != null) {
            tls.close();
        }
    }

    /**
     * At most {@value WscrtPeer#IN_FLIGHT} sends and {@value #QUEUED_BYTES_BUDGET} bytes outstanding on one
     * connection (the library refuses a send past its send queue limit, 16 MiB by default, rather than
     * buffer without bound): {@link #acquire} before a send (waits at most 30 s, rethrows the first failed
     * send), {@link #release} from its completion. Completions come in send order.
     */
    static final class SendWindow {
        /** Half the default send queue limit. */
        static final int QUEUED_BYTES_BUDGET = 8 * 1024 * 1024;

        private final Semaphore inFlight = new Semaphore(WscrtPeer.IN_FLIGHT);
        private final Semaphore queuedKiB = new Semaphore(QUEUED_BYTES_BUDGET / 1024);
        private final java.util.Queue<Integer> sizes = new java.util.concurrent.ConcurrentLinkedQueue<>();
        private volatile Throwable sendError;

        void acquire(int payloadBytes) throws Exception {
            int kib = Math.min(QUEUED_BYTES_BUDGET / 1024, Math.max(1, (payloadBytes + 14 + 1023) / 1024));
            if (!inFlight.tryAcquire() && !inFlight.tryAcquire(30, TimeUnit.SECONDS)) {
                throw new TimeoutException("no send completed within 30 s");
            }
            if (!queuedKiB.tryAcquire(kib) && !queuedKiB.tryAcquire(kib, 30, TimeUnit.SECONDS)) {
                throw new TimeoutException("no send completed within 30 s");
            }
            sizes.add(kib);
            if (sendError != null) {
                throw new IOException("a send failed: " + sendError, sendError);
            }
        }

        /** A send completed, with {@code error} null when it was written. */
        void release(Throwable error) {
            if (error != null && sendError == null) {
                sendError = error;
            }
            Integer kib = sizes.poll();
            queuedKiB.release(kib == null ? 0 : kib);
            inFlight.release();
        }
    }
}
