package dev.wscrt.conformance;

import dev.wscrt.io.ClientBootstrap;
import dev.wscrt.testing.Sockets;
import dev.wscrt.websocket.OnConnectionSetupData;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Runs conformance cases one at a time, each on a fresh listening socket on 127.0.0.1 (so that a
 * connection left over from an earlier case can never be taken for this one's), with the case's script
 * on a worker thread bounded by the case's timeout.
 *
 * <p>Threads: {@link #run} is called from one thread (the test's); the script runs on the worker.
 */
final class ConformanceRunner implements AutoCloseable {
    /** Connecting and upgrading on loopback takes milliseconds; 5 s means the client is stuck. */
    private static final int CONNECT_WAIT_MS = 5000;
    /** After the case, the client gets this long to report its shutdown once released. */
    private static final long RELEASE_WAIT_MS = 3000;

    private final ClientBootstrap bootstrap;
    private final ExecutorService worker = Executors.newSingleThreadExecutor(runnable -> {
        Thread t = new Thread(runnable, "conformance-case");
        t.setDaemon(true);
        return t;
    });

    ConformanceRunner(ClientBootstrap bootstrap) {
        this.bootstrap = bootstrap;
    }

    /** Runs one case and returns its report line; never throws. */
    CaseResult run(ConformanceCase spec) {
        long start = System.nanoTime();
        AtomicReference<ServerPeer> peer = new AtomicReference<>();
        AtomicReference<EchoClient> client = new AtomicReference<>();
        AtomicReference<ServerSocket> listener = new AtomicReference<>();
        Future<CaseResult> result = worker.submit(() -> runOnWorker(spec, start, peer, client, listener));
        try {
            return result.get(spec.timeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            abort(listener.get(), peer.get());
            result.cancel(true);
            String state = peer.get() == null ? "no connection"
                    : "trace " + peer.get().trace().size() + " events, client CLOSE " + peer.get().clientClose()
                    + ", TCP " + (peer.get().end() == null ? "open" : peer.get().end());
            return new CaseResult(spec.id(), spec.description(), Verdict.FAILED,
                    "case did not finish within " + spec.timeout().toMillis() + " ms (" + state + ")", millis(start));
        } catch (ExecutionException e) {
            return suiteError(spec, start, e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return suiteError(spec, start, e);
        } finally {
            abort(listener.get(), peer.get());
            EchoClient c = client.get();
            if (c != null) {
                c.release();
                c.awaitShutdown(RELEASE_WAIT_MS);
            }
        }
    }

    private CaseResult runOnWorker(ConformanceCase spec, long start, AtomicReference<ServerPeer> peerRef,
                                   AtomicReference<EchoClient> clientRef, AtomicReference<ServerSocket> listenerRef)
            throws Exception {
        if (spec.standalone() != null) {
            ConformanceCase.Outcome outcome = spec.standalone().run(bootstrap);
            return new CaseResult(spec.id(), spec.description(), outcome.verdict(), outcome.detail(), millis(start));
        }
        try (ServerSocket listener = new ServerSocket()) {
            listenerRef.set(listener);
            listener.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0), 1);
            listener.setSoTimeout(CONNECT_WAIT_MS);
            EchoClient client = EchoClient.connect(bootstrap, listener.getLocalPort(), CONNECT_WAIT_MS);
            clientRef.set(client);
            Socket socket;
            try {
                socket = listener.accept();
            } catch (SocketTimeoutException e) {
                return failed(spec, start, "the client did not connect within " + CONNECT_WAIT_MS + " ms");
            }
            ServerPeer peer = new ServerPeer(socket);
            peerRef.set(peer);
            peer.handshake();
            OnConnectionSetupData setup = client.awaitSetup(CONNECT_WAIT_MS);
            if (setup == null) {
                return failed(spec, start, "no setup callback within " + CONNECT_WAIT_MS + " ms of the 101");
            }
            if (setup.exception() != null) {
                return failed(spec, start, "setup failed: " + EchoClient.errorName(setup.exception()));
            }
            CaseRun run = new CaseRun(spec, peer, client);
            spec.script().run(run);
            run.finish();
            return run.judge(millis(start));
        }
    }

    private static CaseResult failed(ConformanceCase spec, long start, String why) {
        return new CaseResult(spec.id(), spec.description(), Verdict.FAILED, why, millis(start));
    }

    private static CaseResult suiteError(ConformanceCase spec, long start, Throwable t) {
        return new CaseResult(spec.id(), spec.description(), Verdict.FAILED, "suite error (not a client verdict): " + t,
                millis(start));
    }

    private static void abort(ServerSocket listener, ServerPeer peer) {
        Sockets.closeQuietly(listener);
        if (peer != null) {
            peer.close();
        }
    }

    private static long millis(long start) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    }

    @Override
    public void close() {
        worker.shutdownNow();
        try {
            worker.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
