package dev.wscrt.faults;

import dev.wscrt.io.ClientBootstrap;
import dev.wscrt.websocket.OnConnectionSetupData;
import dev.wscrt.websocket.Opcode;
import dev.wscrt.websocket.WebSocket;
import dev.wscrt.websocket.WebSocketConnectOptions;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.CRC32;

/** One connection of a {@link Soak} session: its callbacks, counted; echoes as (opcode, length, CRC-32). */
final class SoakConnection {
    private final SoakTally tally;
    private final ClientBootstrap bootstrap;
    final AtomicInteger setups = new AtomicInteger();
    final AtomicInteger shutdowns = new AtomicInteger();
    final CountDownLatch setupDone = new CountDownLatch(1);
    final CountDownLatch shutdownDone = new CountDownLatch(1);
    final Queue<long[]> echoes = new ConcurrentLinkedQueue<>();
    final CRC32 crc = new CRC32();
    volatile OnConnectionSetupData setup;
    volatile Throwable shutdownError;
    volatile boolean throwInPayload;
    long frameLength;

    SoakConnection(SoakTally tally, ClientBootstrap bootstrap) {
        this.tally = tally;
        this.bootstrap = bootstrap;
    }

    WebSocketConnectOptions.Builder options(String host, int port) {
        return WebSocketConnectOptions.builder().host(host).port(port).bootstrap(bootstrap)
                .handshakeRequest(WebSocket.createHandshakeRequest(host + ":" + port, "/"))
                .onConnectionSetup(d -> {
                    tally.setupCallbacks.incrementAndGet();
                    if (d.exception() == null) {
                        tally.setupsOk.incrementAndGet();
                    }
                    setup = d;
                    if (setups.incrementAndGet() != 1) {
                        tally.unexpected("a second setup callback");
                    }
                    setupDone.countDown();
                })
                .onConnectionShutdown(d -> {
                    tally.shutdownCallbacks.incrementAndGet();
                    shutdownError = d.exception();
                    if (shutdowns.incrementAndGet() != 1) {
                        tally.unexpected("a second shutdown callback");
                    }
                    shutdownDone.countDown();
                })
                .onIncomingFrameBegin(d -> {
                    crc.reset();
                    frameLength = 0;
                })
                .onIncomingFramePayload(d -> {
                    if (throwInPayload) {
                        throw new IllegalStateException("injected by the soak");
                    }
                    byte[] b = new byte[d.data().remaining()];
                    d.data().get(b);
                    crc.update(b);
                    frameLength += b.length;
                })
                .onIncomingFrameComplete(d -> {
                    Opcode op = d.frame().opcode();
                    if (d.exception() == null && (op == Opcode.TEXT || op == Opcode.BINARY)) {
                        echoes.add(new long[] {op.value(), frameLength, crc.getValue()});
                    }
                });
    }

    void connect(WebSocketConnectOptions.Builder options) {
        tally.connects.incrementAndGet();
        WebSocket.connect(options.build());
    }

    OnConnectionSetupData awaitSetup() throws InterruptedException {
        if (!setupDone.await(Soak.SESSION_WAIT_MS, TimeUnit.MILLISECONDS)) {
            throw new IllegalStateException("no setup callback within " + Soak.SESSION_WAIT_MS + " ms");
        }
        return setup;
    }

    Throwable awaitShutdown() throws InterruptedException {
        if (!shutdownDone.await(Soak.SESSION_WAIT_MS, TimeUnit.MILLISECONDS)) {
            throw new IllegalStateException("no shutdown callback within " + Soak.SESSION_WAIT_MS + " ms");
        }
        return shutdownError;
    }
}
