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
     * At most {@value WscrtPeer#IN_FLIGHT} sends outstanding on one connection: {@link #acquire} before a send
     * (waits at most 30 s, rethrows the first failed send), {@link #release} from its completion.
     */
    static final class SendWindow {
        private final Semaphore inFlight = new Semaphore(WscrtPeer.IN_FLIGHT);
        private volatile Throwable sendError;

        void acquire() throws Exception {
            if (!inFlight.tryAcquire() && !inFlight.tryAcquire(30, TimeUnit.SECONDS)) {
                throw new TimeoutException("no send completed within 30 s");
            }
            if (sendError != null) {
                throw new IOException("a send failed: " + sendError, sendError);
            }
        }

        /** A send completed, with {@code error} null when it was written. */
        void release(Throwable error) {
            if (error != null && sendError == null) {
                sendError = error;
            }
            inFlight.release();
        }
    }
}
