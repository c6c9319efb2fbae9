package dev.wscrt.conformance;

import dev.wscrt.CrtRuntimeException;
import dev.wscrt.io.ClientBootstrap;
import dev.wscrt.websocket.IncomingFrame;
import dev.wscrt.websocket.OnConnectionSetupData;
import dev.wscrt.websocket.OnConnectionShutdownData;
import dev.wscrt.websocket.OnIncomingFrameBeginData;
import dev.wscrt.websocket.OnIncomingFrameCompleteData;
import dev.wscrt.websocket.OnIncomingFramePayloadData;
import dev.wscrt.websocket.OnSendFrameCompleteData;
import dev.wscrt.websocket.Opcode;
import dev.wscrt.websocket.WebSocket;
import dev.wscrt.websocket.WebSocketConnectOptions;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * The wscrt client under test, driven as an echo peer (what Autobahn|Testsuite expects of a client):
 * it reassembles each message from the frame callbacks ({@code begin payload* complete}) and sends it
 * back with the same opcode as one unfragmented frame. It never answers a PING itself (the library
 * sends the PONG), never closes on its own, and records what it received: messages, PINGs, PONGs, the
 * CLOSE status code, failed frames, failed echoes and the shutdown exception.
 *
 * <p>Threads: the callbacks run on the connection's event-loop thread, one at a time, and alone touch
 * the reassembly state; the observations are read from the case thread.
 */
final class EchoClient {
    /** What {@link #receivedCloseCode()} returns before any CLOSE arrived. */
    static final int NO_CLOSE = -2;
    /** Reassembly buffers up to this size are kept for the next message; larger ones are dropped. */
    private static final int KEEP_BUFFER = 1 << 20;
    /** Control frames kept for the comparison with what the server sent (no case sends more). */
    private static final int MAX_CONTROL_FRAMES = 200_000;
    /** A frame's announced length is trusted for preallocation up to this much (the largest case message). */
    private static final long MAX_PREALLOCATION = 16 << 20;

    private final CompletableFuture<OnConnectionSetupData> setup = new CompletableFuture<>();
    private final CompletableFuture<OnConnectionShutdownData> shutdown = new CompletableFuture<>();
    private final AtomicLong messagesReceived = new AtomicLong();
    private final AtomicLong echoesWritten = new AtomicLong();
    private final AtomicLong echoesFailed = new AtomicLong();
    private final AtomicLong pings = new AtomicLong();
    private final AtomicLong pongs = new AtomicLong();
    private volatile String firstEchoFailure;
    private volatile Throwable firstFrameFailure;
    private volatile int receivedCloseCode = NO_CLOSE;
    private volatile WebSocket websocket;
    private final List<ControlFrame> controlFrames = new ArrayList<>(); // guarded by itself

    // Event-loop thread only.
    private Opcode messageOpcode;
    private byte[] message = new byte[4096];
    private int messageLength;
    private final byte[] control = new byte[125];
    private int controlLength;

    private final Consumer<OnSendFrameCompleteData> onEchoWritten = data -> {
        if (data.exception() == null) {
            echoesWritten.incrementAndGet();
        } else {
            if (echoesFailed.getAndIncrement() == 0) {
                firstEchoFailure = errorName(data.exception());
            }
        }
    };

    private EchoClient() {
    }

    /** Starts connecting to the conformance server on 127.0.0.1:{@code port}. */
    static EchoClient connect(ClientBootstrap bootstrap, int port, int handshakeTimeoutMs) {
        EchoClient client = new EchoClient();
        WebSocket.connect(WebSocketConnectOptions.builder()
                .host("127.0.0.1")
                .port(port)
                .bootstrap(bootstrap)
                .handshakeTimeoutMs(handshakeTimeoutMs)
                .onConnectionSetup(client::onSetup)
                .onConnectionShutdown(client::onShutdown)
                .onIncomingFrameBegin(client::onBegin)
                .onIncomingFramePayload(client::onPayload)
                .onIncomingFrameComplete(client::onComplete)
                .build());
        return client;
    }

    // ---- callbacks (event-loop thread) --------------------------------------------------------

    private void onSetup(OnConnectionSetupData data) {
        websocket = data.websocket();
        setup.complete(data);
    }

    private void onShutdown(OnConnectionShutdownData data) {
        shutdown.complete(data);
    }

    private void onBegin(OnIncomingFrameBeginData data) {
        IncomingFrame frame = data.frame();
        if (!frame.isDataFrame()) {
            controlLength = 0;
            return;
        }
        if (frame.opcode() != Opcode.CONTINUATION) {
            messageOpcode = frame.opcode();
            messageLength = 0;
        }
        ensureCapacity(messageLength + (int) Math.min(frame.payloadLength(), MAX_PREALLOCATION));
    }

    private void onPayload(OnIncomingFramePayloadData data) {
        ByteBuffer piece = data.data().duplicate();
        int n = piece.remaining();
        if (data.frame().isDataFrame()) {
            ensureCapacity(messageLength + n);
            piece.get(message, messageLength, n);
            messageLength += n;
        } else {
            n = Math.min(n, control.length - controlLength);
            piece.get(control, controlLength, n);
            controlLength += n;
        }
    }

    private void onComplete(OnIncomingFrameCompleteData data) {
        IncomingFrame frame = data.frame();
        if (data.exception() != null) {
            if (firstFrameFailure == null) {
                firstFrameFailure = data.exception();
            }
            return;
        }
        if (!frame.isDataFrame()) {
            synchronized (controlFrames) {
                if (controlFrames.size() < MAX_CONTROL_FRAMES) {
                    controlFrames.add(new ControlFrame(frame.opcode().value(), Arrays.copyOf(control, controlLength)));
                }
            }
        }
        switch (frame.opcode()) {
            case TEXT, BINARY, CONTINUATION -> {
                if (frame.fin() && messageOpcode != null) {
                    messagesReceived.incrementAndGet();
                    echo(messageOpcode, ByteBuffer.wrap(message, 0, messageLength));
                    messageOpcode = null;
                    messageLength = 0;
                    if (message.length > KEEP_BUFFER) {
                        message = new byte[4096];
                    }
                }
            }
            case PING -> pings.incrementAndGet(); // the library answers it
            case PONG -> pongs.incrementAndGet();
            case CLOSE -> receivedCloseCode = controlLength >= 2
                    ? ((control[0] & 0xFF) << 8) | (control[1] & 0xFF) : CloseCodes.NONE;
            default -> throw new IllegalStateException("unknown opcode " + frame.opcode());
        }
    }

    private void echo(Opcode opcode, ByteBuffer payload) {
        WebSocket ws = websocket;
        if (ws != null) {
            ws.sendFrame(opcode, payload, true, onEchoWritten); // the payload is copied before this returns
        }
    }

    private void ensureCapacity(int size) {
        if (size > message.length) {
            message = Arrays.copyOf(message, Math.max(size, Math.min(Integer.MAX_VALUE - 16, message.length * 2)));
        }
    }

    // ---- observations (any thread) ----------------------------------------------------------

    /** Waits for the setup callback; null if it did not come within {@code ms}. */
    OnConnectionSetupData awaitSetup(long ms) {
        return await(setup, ms);
    }

    /** Waits for the shutdown callback; null if it did not come within {@code ms}. */
    OnConnectionShutdownData awaitShutdown(long ms) {
        return await(shutdown, ms);
    }

    boolean isShutDown() {
        return shutdown.isDone();
    }

    private static <T> T await(CompletableFuture<T> future, long ms) {
        try {
            return future.get(ms, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** The PINGs, PONGs and CLOSEs the frame callbacks delivered whole, with their payloads. */
    List<ControlFrame> controlFrames() {
        synchronized (controlFrames) {
            return List.copyOf(controlFrames);
        }
    }

    long messagesReceived() {
        return messagesReceived.get();
    }

    long echoesWritten() {
        return echoesWritten.get();
    }

    long echoesFailed() {
        return echoesFailed.get();
    }

    /** The error of the first echo the library could not send, or null. */
    String firstEchoFailure() {
        return firstEchoFailure;
    }

    long pings() {
        return pings.get();
    }

    long pongs() {
        return pongs.get();
    }

    /** The exception of the first frame completed with one (the frame the connection failed on), or null. */
    Throwable firstFrameFailure() {
        return firstFrameFailure;
    }

    /** The status code of the CLOSE the client received, {@link CloseCodes#NONE} if empty, or {@link #NO_CLOSE}. */
    int receivedCloseCode() {
        return receivedCloseCode;
    }

    /** Closes and releases the WebSocket (idempotent; after a shutdown it only frees the handle). */
    void release() {
        WebSocket ws = websocket;
        if (ws != null) {
            ws.close();
        }
    }

    /** The errorName of a CrtRuntimeException, else the exception's class and message. */
    static String errorName(Throwable t) {
        if (t == null) {
            return "none";
        }
        String name = t instanceof CrtRuntimeException e ? e.errorName() : t.toString();
        return t.getCause() == null ? name : name + " (caused by " + t.getCause() + ")";
    }
}
