package dev.wscrt.bench;

import dev.wscrt.io.TlsContext;
import dev.wscrt.io.TlsContextOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.LongFunction;

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
     * A sender's flow control as the README teaches it: past {@link #HIGH_WATER} queued bytes, the next send
     * waits ({@code whenQueuedBytesAtMost}, at most 30 s) until the queue has come down to {@link #LOW_WATER}
     * (below the library's send queue limit, 16 MiB by default); a completion callback per send keeps the
     * first failure, which the next send rethrows.
     */
    static final class SendWindow {
        /**
         * A quarter of the send queue limit (the low mark an eighth), near the 8 MiB budget of the semaphores
         * this replaced. Lower marks suit small messages better (64 B: 1.2 M/s with a 64 KiB high mark against
         * 0.7 M/s with this one, the queued frames staying in the cache) and large ones worse (64 KiB: 0.95
         * against 1.7 GB/s): one pair for every scenario, as a user would pick. {@code -Dbench.highWater=BYTES}
         * tries others.
         */
        static final int HIGH_WATER = Integer.getInteger("bench.highWater", 4 * 1024 * 1024);
        static final int LOW_WATER = HIGH_WATER / 2;

        private volatile Throwable sendError;

        /** Before a send: waits for room if {@code queuedBytes} is past the high mark. */
        void awaitRoom(long queuedBytes, LongFunction<CompletableFuture<Void>> whenQueuedBytesAtMost)
                throws Exception {
            if (queuedBytes > HIGH_WATER) {
                try {
                    whenQueuedBytesAtMost.apply(LOW_WATER).get(30, TimeUnit.SECONDS);
                } catch (TimeoutException e) {
                    throw new TimeoutException("the send queue did not come down in 30 s");
                }
            }
            if (sendError != null) {
                throw new IOException("a send failed: " + sendError, sendError);
            }
        }

        /** A send completed, with {@code error} null when it was written. */
        void sent(Throwable error) {
            if (error != null && sendError == null) {
                sendError = error;
            }
        }
    }
}
