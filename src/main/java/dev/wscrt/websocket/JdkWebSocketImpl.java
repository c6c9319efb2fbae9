package dev.wscrt.websocket;

import dev.wscrt.CrtRuntimeException;
import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The {@link WebSocket} of {@link JdkWebSocket}: a message-API connection in partial mode with a read
 * window, turned into the JDK's demand-driven listener calls.
 *
 * <p>Receiving: pieces arrive on the event-loop thread and go to the listener at once when there is demand
 * and nothing waits before them; otherwise they wait in {@link #queue} until there is demand. Data pieces
 * count against a read window of {@link #READ_WINDOW} bytes, given back as the listener is called, so at
 * most that much data waits in Java and the socket stops reading when the listener does not ask for more.
 * {@link #drain} delivers what waits, one call at a time, on whichever thread finds work (the event-loop
 * thread or a thread calling {@link #request}). Within one batch of events (one network read), the event-loop
 * thread keeps the delivering role from one piece to the next and gives it back at the batch's end
 * ({@link #onBatchEnd}), so that a stream of pieces costs one lock per piece, none with unbounded demand.
 *
 * <p>Sending: one text/binary and one ping/pong send at a time, as the JDK; fragments are sent as frames
 * (TEXT/BINARY then CONTINUATION), text encoded with a surrogate pair split between calls kept whole
 * ({@link TextPieceEncoder}).
 */
final class JdkWebSocketImpl implements WebSocket, WebSocketListener {
    /** Bytes of data that may arrive and wait for demand. */
    static final long READ_WINDOW = 256 * 1024;
    /** PINGs and PONGs that may wait for demand; more are dropped (the PING was answered anyway). */
    static final int MAX_QUEUED_CONTROL = 64;
    /**
     * A text, binary, ping or pong send completes as soon as its frame is queued while at most this many
     * bytes wait to be written (the frame copied them, so the buffer may be reused); past it, once the
     * queue has come down to {@link #WRITE_BEHIND_RESUME}. See {@link JdkWebSocket}.
     */
    static final long WRITE_BEHIND_LIMIT = 2 * 1024 * 1024;
    /**
     * Where a send past {@link #WRITE_BEHIND_LIMIT} completes: low enough that the next few sends complete
     * at once (one thread hand-off for several frames), high enough that the socket never waits for them.
     */
    static final long WRITE_BEHIND_RESUME = WRITE_BEHIND_LIMIT / 2;

    private final Listener listener;
    private volatile WebSocketConnection connection;

    // ---- receiving: written under `lock`; the volatile ones are also read without it by
    // continueDirectDelivery -----------------------------------------------------------------------------
    private final Object lock = new Object();
    // Made when a piece first has to wait, dropped when the queue is cleared: most connections never need one.
    private ArrayDeque<Event> queue;
    private volatile int waiting; // queue's size (0 when there is none)
    private volatile long demand; // Long.MAX_VALUE: unbounded, not counted down
    private boolean draining;
    private volatile boolean finished; // onClose or onError delivered, or aborted: no more listener calls
    private volatile Throwable failure; // delivered through onError before anything queued
    private volatile boolean closeQueued;
    private int queuedControl;
    // Only the thread draining (handed over under `lock`): window bytes to give back.
    private long windowToReturn;
    // Event-loop thread only: it kept the delivering role (draining) after a piece of the current batch.
    private boolean keptDelivery;

    private volatile boolean inputClosed;
    private volatile boolean outputClosed; // compare-and-set through OUTPUT_CLOSED

    // ---- sending ------------------------------------------------------------------------------------
    // One send of each kind at a time: set by compare-and-set through PENDING_DATA and PENDING_CONTROL.
    private volatile boolean pendingTextOrBinary;
    private volatile boolean pendingPingOrPong;
    // Guarded by pendingTextOrBinary: the data message being sent (null = none) and the text encoder (made at
    // the first text send).
    private Opcode openMessage;
    private TextPieceEncoder textPieces;

    // Flags as fields with compare-and-set rather than AtomicBoolean objects: three objects fewer per connection.
    private static final VarHandle OUTPUT_CLOSED;
    private static final VarHandle PENDING_DATA;
    private static final VarHandle PENDING_CONTROL;

    static {
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            OUTPUT_CLOSED = lookup.findVarHandle(JdkWebSocketImpl.class, "outputClosed", boolean.class);
            PENDING_DATA = lookup.findVarHandle(JdkWebSocketImpl.class, "pendingTextOrBinary", boolean.class);
            PENDING_CONTROL = lookup.findVarHandle(JdkWebSocketImpl.class, "pendingPingOrPong", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private sealed interface Event {
    }

    private record Text(String text, boolean last, long bytes) implements Event {
    }

    private record Binary(ByteBuffer data, boolean last) implements Event {
    }

    private record Ping(ByteBuffer data) implements Event {
    }

    private record Pong(ByteBuffer data) implements Event {
    }

    private record Close(int code, String reason) implements Event {
    }

    JdkWebSocketImpl(Listener listener) {
        this.listener = listener;
    }

    // ---- WebSocketListener: the connection's events (event-loop thread) -----------------------------

    @Override
    public void onOpen(WebSocketConnection c) {
        connection = c;
        synchronized (lock) {
            draining = true; // nothing is delivered before onOpen has returned
        }
        try {
            listener.onOpen(this);
        } catch (Throwable t) {
            fail(t);
        }
        synchronized (lock) {
            draining = false;
        }
        drain();
    }

    @Override
    public void onText(WebSocketConnection c, String text, boolean last) {
        onText(text, last, Utf16Text.utf8Length(text));
    }

    /** A text piece whose characters took {@code bytes} bytes of UTF-8 (the count its decoder kept). */
    void onText(String text, boolean last, long bytes) {
        if (continueDirectDelivery() || startDirectDelivery()) {
            keptDelivery = true;
            deliverText(text, last, bytes);
        } else {
            enqueue(new Text(text, last, bytes));
        }
    }

    @Override
    public void onBinary(WebSocketConnection c, ByteBuffer data, boolean last) {
        if (continueDirectDelivery() || startDirectDelivery()) {
            keptDelivery = true;
            deliverBinary(data, last);
        } else {
            enqueue(new Binary(data, last));
        }
    }

    /** The end of a batch of events (event-loop thread): gives back the delivering role if it was kept. */
    void onBatchEnd() {
        if (keptDelivery) {
            keptDelivery = false;
            endDirectDelivery();
        }
    }

    @Override
    public void onPing(WebSocketConnection c, ByteBuffer data) {
        enqueue(new Ping(data));
    }

    @Override
    public void onPong(WebSocketConnection c, ByteBuffer data) {
        enqueue(new Pong(data));
    }

    @Override
    public void onClosing(WebSocketConnection c, int code, String reason) {
        enqueue(new Close(code, reason));
    }

    @Override
    public void onClosed(WebSocketConnection c, int code, String reason) {
        synchronized (lock) {
            if (closeQueued || finished) {
                return;
            }
        }
        enqueue(new Close(1006, "")); // ended without the server's CLOSE: as the JDK, "closed abnormally"
    }

    @Override
    public void onError(WebSocketConnection c, Throwable error) {
        boolean endOfStream = error instanceof CrtRuntimeException crt
                && (crt.errorName().equals("WSCRT_ERROR_IO_SOCKET_CLOSED")
                || crt.errorName().equals("WSCRT_ERROR_WEBSOCKET_CONNECTION_LOST"));
        synchronized (lock) {
            if (closeQueued || finished) {
                return; // the server's CLOSE came first; what follows it is not reported (JDK: input closed)
            }
        }
        if (endOfStream) {
            enqueue(new Close(1006, "")); // the JDK reports a stream that ends without CLOSE as onClose(1006)
        } else {
            fail(JdkWebSocket.toIOException(error));
        }
    }

    private void enqueue(Event event) {
        synchronized (lock) {
            if (finished || closeQueued) {
                return;
            }
            if (event instanceof Ping || event instanceof Pong) {
                if (queuedControl == MAX_QUEUED_CONTROL) {
                    return;
                }
                queuedControl++;
            }
            closeQueued = event instanceof Close;
            if (queue == null) {
                queue = new ArrayDeque<>();
            }
            queue.add(event);
            waiting = queue.size();
        }
        drain();
    }

    /** Empties the queue (under `lock`) and lets its memory go. */
    private void dropQueue() {
        queue = null;
        waiting = 0;
    }

    /** Ends the listener's calls with onError(error) (delivered next, whatever the demand). */
    private void fail(Throwable error) {
        inputClosed = true;
        outputClosed = true;
        synchronized (lock) {
            if (finished || failure != null) {
                return;
            }
            failure = error;
            dropQueue();
        }
        WebSocketConnection c = connection;
        if (c != null) {
            c.abort();
        }
        drain();
    }

    // ---- delivery -----------------------------------------------------------------------------------

    /**
     * Whether a piece that just arrived may go to the listener at once, as {@link #drain} would deliver it
     * (nothing waits before it, there is demand, no one else is delivering); if so, takes one demand and the
     * delivering role, which {@link #endDirectDelivery} gives back. The common case of a listener that keeps
     * asking for more then costs no queued event.
     */
    private boolean startDirectDelivery() {
        synchronized (lock) {
            if (draining || finished || failure != null || closeQueued || demand == 0 || waiting > 0) {
                return false;
            }
            takeDemand();
            draining = true;
            return true;
        }
    }

    /**
     * Whether a piece may go to the listener at once under the delivering role kept from the previous piece of
     * this batch, as {@link #startDirectDelivery} decides; if so, takes one demand (none when unbounded: then
     * no lock either). If not, gives the role back (delivering what waits) for the caller to take the usual way.
     */
    private boolean continueDirectDelivery() {
        if (!keptDelivery) {
            return false;
        }
        if (demand == Long.MAX_VALUE && waiting == 0 && failure == null && !finished && !closeQueued) {
            return true;
        }
        synchronized (lock) {
            if (!finished && failure == null && !closeQueued && demand > 0 && waiting == 0) {
                takeDemand();
                return true;
            }
        }
        keptDelivery = false;
        endDirectDelivery();
        return false;
    }

    /** Counts one delivery against the demand (under `lock`; there is some): none when it is unbounded. */
    private void takeDemand() {
        if (demand != Long.MAX_VALUE) {
            demand--;
        }
    }

    private void endDirectDelivery() {
        synchronized (lock) {
            draining = false;
            if (failure == null && (demand == 0 || waiting == 0)) {
                return;
            }
        }
        drain(); // what happened meanwhile: a failure to report, or pieces a request now lets through
    }

    private void drain() {
        synchronized (lock) {
            if (draining) {
                return;
            }
            draining = true;
        }
        while (true) {
            Event next = null;
            Throwable error = null;
            synchronized (lock) {
                if (finished) {
                    dropQueue();
                    draining = false;
                    return;
                }
                if (failure != null) {
                    error = failure;
                    finished = true;
                } else if (demand > 0 && waiting > 0) {
                    next = queue.poll();
                    waiting = queue.size();
                    takeDemand();
                    if (next instanceof Ping || next instanceof Pong) {
                        queuedControl--;
                    }
                    finished = next instanceof Close;
                } else {
                    draining = false;
                    return;
                }
            }
            if (error != null) {
                callOnError(error);
            } else {
                deliver(next);
            }
        }
    }

    private void callOnError(Throwable error) {
        try {
            listener.onError(this, error);
        } catch (Throwable t) {
            System.getLogger("dev.wscrt.websocket").log(System.Logger.Level.WARNING, "onError threw", t);
        }
    }

    private void deliverText(String text, boolean last, long bytes) {
        try {
            listener.onText(this, text, last);
            returnWindow(bytes);
        } catch (Throwable t) {
            fail(t);
        }
    }

    private void deliverBinary(ByteBuffer data, boolean last) {
        try {
            long bytes = data.remaining();
            listener.onBinary(this, data, last);
            returnWindow(bytes);
        } catch (Throwable t) {
            fail(t);
        }
    }

    private void deliver(Event event) {
        if (event instanceof Text text) {
            deliverText(text.text(), text.last(), text.bytes());
            return;
        }
        if (event instanceof Binary binary) {
            deliverBinary(binary.data(), binary.last());
            return;
        }
        try {
            if (event instanceof Ping ping) {
                listener.onPing(this, ping.data());
            } else if (event instanceof Pong pong) {
                listener.onPong(this, pong.data());
            } else if (event instanceof Close close) {
                inputClosed = true;
                CompletionStage<?> stage = listener.onClose(this, close.code(), close.reason());
                if (stage == null) {
                    outputClosed = true;
                } else {
                    stage.whenComplete((r, e) -> outputClosed = true);
                }
            }
        } catch (Throwable t) {
            if (event instanceof Close) {
                // As the JDK: after onClose nothing more is called, not even onError.
                System.getLogger("dev.wscrt.websocket").log(System.Logger.Level.WARNING, "onClose threw", t);
            } else {
                fail(t);
            }
        }
    }

    /** Gives consumed window back in steps of a quarter window (never stalls: see READ_WINDOW). */
    private void returnWindow(long bytes) {
        windowToReturn += bytes;
        if (windowToReturn >= READ_WINDOW / 4) {
            long amount = windowToReturn;
            windowToReturn = 0;
            connection.incrementReadWindow(amount);
        }
    }

    // ---- java.net.http.WebSocket ------------------------------------------------------------------

    @Override
    public void request(long n) {
        if (n <= 0) {
            throw new IllegalArgumentException("non-positive request: " + n);
        }
        synchronized (lock) {
            demand = demand + n < 0 ? Long.MAX_VALUE : demand + n;
        }
        drain();
    }

    @Override
    public CompletableFuture<WebSocket> sendText(CharSequence data, boolean last) {
        Objects.requireNonNull(data);
        if (!PENDING_DATA.compareAndSet(this, false, true)) {
            return CompletableFuture.failedFuture(new IllegalStateException("Send pending"));
        }
        try {
            checkOutputOpen();
            if (openMessage == Opcode.BINARY) {
                throw new IllegalStateException("Unexpected text message");
            }
            if (textPieces == null) {
                textPieces = new TextPieceEncoder();
            }
            ByteBuffer bytes = textPieces.encode(data, last);
            Opcode opcode = openMessage == null ? Opcode.TEXT : Opcode.CONTINUATION;
            CompletableFuture<Void> frame = connection.sendFrame(opcode, bytes, last);
            openMessage = last ? null : Opcode.TEXT;
            return sent(frame, PENDING_DATA, null, true);
        } catch (Throwable t) {
            pendingTextOrBinary = false;
            return CompletableFuture.failedFuture(t);
        }
    }

    @Override
    public CompletableFuture<WebSocket> sendBinary(ByteBuffer data, boolean last) {
        Objects.requireNonNull(data);
        if (!PENDING_DATA.compareAndSet(this, false, true)) {
            return CompletableFuture.failedFuture(new IllegalStateException("Send pending"));
        }
        try {
            checkOutputOpen();
            if (openMessage == Opcode.TEXT) {
                throw new IllegalStateException("Unexpected binary message");
            }
            Opcode opcode = openMessage == null ? Opcode.BINARY : Opcode.CONTINUATION;
            CompletableFuture<Void> frame = connection.sendFrame(opcode, data, last);
            openMessage = last ? null : Opcode.BINARY;
            return sent(frame, PENDING_DATA, data, true);
        } catch (Throwable t) {
            pendingTextOrBinary = false;
            return CompletableFuture.failedFuture(t);
        }
    }

    @Override
    public CompletableFuture<WebSocket> sendPing(ByteBuffer message) {
        return sendControl(Opcode.PING, message);
    }

    @Override
    public CompletableFuture<WebSocket> sendPong(ByteBuffer message) {
        return sendControl(Opcode.PONG, message);
    }

    private CompletableFuture<WebSocket> sendControl(Opcode opcode, ByteBuffer message) {
        Objects.requireNonNull(message);
        if (!PENDING_CONTROL.compareAndSet(this, false, true)) {
            return CompletableFuture.failedFuture(new IllegalStateException("Send pending"));
        }
        try {
            checkOutputOpen();
            if (message.remaining() > 125) {
                throw new IllegalArgumentException("Long message: " + message.remaining());
            }
            return sent(connection.sendFrame(opcode, message, true), PENDING_CONTROL, message, true);
        } catch (Throwable t) {
            pendingPingOrPong = false;
            return CompletableFuture.failedFuture(t);
        }
    }

    @Override
    public CompletableFuture<WebSocket> sendClose(int statusCode, String reason) {
        Objects.requireNonNull(reason);
        if (!isLegalToSend(statusCode)) {
            return CompletableFuture.failedFuture(new IllegalArgumentException("statusCode"));
        }
        if (reason.getBytes(StandardCharsets.UTF_8).length > 123 || !Utf16Text.isWellFormed(reason)) {
            return CompletableFuture.failedFuture(new IllegalArgumentException("reason"));
        }
        if (!OUTPUT_CLOSED.compareAndSet(this, false, true)) {
            return CompletableFuture.failedFuture(new IOException("Output closed"));
        }
        synchronized (lock) {
            if (closeQueued) {
                // The transport answered the server's CLOSE when it arrived: this one is that answer.
                return CompletableFuture.completedFuture(this);
            }
        }
        return sent(connection.sendCloseFrame(statusCode, reason), null, null, false);
    }

    @Override
    public String getSubprotocol() {
        String selected = connection.subprotocol();
        return selected == null ? "" : selected;
    }

    @Override
    public boolean isOutputClosed() {
        return outputClosed;
    }

    @Override
    public boolean isInputClosed() {
        return inputClosed;
    }

    @Override
    public void abort() {
        inputClosed = true;
        outputClosed = true;
        synchronized (lock) {
            finished = true;
            dropQueue();
        }
        connection.abort();
    }

    @Override
    public String toString() {
        return "JdkWebSocket[uri=" + connection.uri() + "]";
    }

    // ---- sending helpers ----------------------------------------------------------------------------

    private void checkOutputOpen() throws IOException {
        if (outputClosed) {
            throw new IOException("Output closed");
        }
    }

    /**
     * The JDK's view of a native send: the pending flag cleared before the future completes (so a send
     * from a dependent stage is allowed), the buffer consumed on success, failures as IOException.
     *
     * <p>With {@code writeBehind}, a frame queued behind at most {@link #WRITE_BEHIND_LIMIT} bytes completes
     * now instead of when the event loop has written it: the JDK allows one outstanding send, so waiting
     * for the write would cost every send a round trip through the loop thread. Past the limit it completes
     * once the queue has come down to {@link #WRITE_BEHIND_RESUME} (or the frame failed first), so that the
     * socket still has bytes to write while the sender makes its next frames. The frame holds its own copy
     * of the bytes; if the connection fails before writing it, the listener's {@code onError} says so.
     */
    private CompletableFuture<WebSocket> sent(CompletableFuture<Void> native_, VarHandle pending,
                                             ByteBuffer consumed, boolean writeBehind) {
        if (writeBehind && !native_.isDone() && connection.queuedBytes() <= WRITE_BEHIND_LIMIT) {
            settled(pending, consumed);
            return CompletableFuture.completedFuture(this);
        }
        // A frame that failed already fails the send; otherwise the first of the two ends it.
        CompletableFuture<Void> done = writeBehind
                ? native_.applyToEither(connection.whenQueuedBytesAtMost(WRITE_BEHIND_RESUME), v -> v)
                : native_;
        CompletableFuture<WebSocket> result = new CompletableFuture<>();
        done.whenComplete((v, error) -> {
            if (error == null) {
                settled(pending, consumed);
                result.complete(this);
            } else {
                settled(pending, null); // the buffer is not consumed
                Throwable cause = error instanceof java.util.concurrent.CompletionException && error.getCause() != null
                        ? error.getCause() : error;
                result.completeExceptionally(JdkWebSocket.toIOException(cause));
            }
        });
        return result;
    }

    /** Bytes of frames that wait to be written (the test of the write-behind rule reads it). */
    long queuedBytes() {
        return connection.queuedBytes();
    }

    /** A send is over (or went behind): another may start, and {@code consumed}, if any, is consumed. */
    private void settled(VarHandle pending, ByteBuffer consumed) {
        if (pending != null) {
            pending.setVolatile(this, false);
        }
        if (consumed != null) {
            consumed.position(consumed.limit());
        }
    }

    /** The close codes the JDK's client lets an application send. */
    private static boolean isLegalToSend(int code) {
        return code == 1000 || code == 1001 || code == 1008 || code == 1011 || (code >= 3000 && code <= 4999);
    }
}
