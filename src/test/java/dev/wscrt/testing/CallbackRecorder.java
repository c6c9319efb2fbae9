package dev.wscrt.testing;

import dev.wscrt.CrtRuntimeException;
import dev.wscrt.io.ClientBootstrap;
import dev.wscrt.websocket.IncomingFrame;
import dev.wscrt.websocket.OnConnectionSetupData;
import dev.wscrt.websocket.OnConnectionShutdownData;
import dev.wscrt.websocket.OnIncomingFrameBeginData;
import dev.wscrt.websocket.OnIncomingFrameCompleteData;
import dev.wscrt.websocket.OnIncomingFramePayloadData;
import dev.wscrt.websocket.Opcode;
import dev.wscrt.websocket.WebSocket;
import dev.wscrt.websocket.WebSocketConnectOptions;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * Records every WebSocket callback, with the name of the thread it ran on, into a thread-safe list,
 * and assembles incoming frames (begin, payload*, complete) into {@link Frame}s. Bounded awaits fail
 * with the events seen so far. {@link #assertGrammar()} checks the call grammar of the spec:
 * setup exactly once and first; after a failed setup nothing else; after a successful one, each
 * frame is {@code begin payload* complete} with consistent frames and lengths, and shutdown comes
 * at most once, last, outside any frame; every callback on one thread that is not the test's.
 *
 * <p>Hooks ({@link #onSetup}, {@link #onBegin}, ...) run on the callback's thread, after the event is
 * recorded (setup and shutdown hooks just before it); an exception they throw propagates out of the
 * callback.
 */
public final class CallbackRecorder {

    /** One recorded callback. */
    public sealed interface Event permits Setup, Shutdown, Begin, Payload, Complete {
        String thread();
    }

    public record Setup(OnConnectionSetupData data, String thread) implements Event {
    }

    public record Shutdown(OnConnectionShutdownData data, String thread) implements Event {
    }

    public record Begin(IncomingFrame frame, String thread) implements Event {
    }

    /**
     * A payload callback: the bytes of {@code bytes()} (empty when payloads are not kept), the
     * length of {@code data()}, and whether {@code data()} was read-only and matched {@code bytes()}.
     */
    public record Payload(IncomingFrame frame, int length, byte[] bytes, boolean dataReadOnly, boolean dataMatchesBytes,
                          String thread) implements Event {
        @Override
        public String toString() {
            return "Payload[frame=" + frame + ", length=" + length + ", thread=" + thread + "]";
        }
    }

    public record Complete(IncomingFrame frame, Throwable exception, String thread) implements Event {
    }

    /** A whole incoming frame: its header, its payload (when kept) and the completion exception. */
    public record Frame(IncomingFrame frame, byte[] payload, long deliveredBytes, Throwable exception) {
        public Opcode opcode() {
            return frame.opcode();
        }

        public boolean fin() {
            return frame.fin();
        }

        public String text() {
            return new String(payload, StandardCharsets.UTF_8);
        }

        /** Status code of a CLOSE frame, -1 when the payload is empty. */
        public int closeCode() {
            return payload.length < 2 ? -1 : ((payload[0] & 0xFF) << 8) | (payload[1] & 0xFF);
        }

        public String closeReason() {
            return payload.length <= 2 ? "" : new String(payload, 2, payload.length - 2, StandardCharsets.UTF_8);
        }

        @Override
        public String toString() {
            return "Frame[" + frame + ", delivered=" + deliveredBytes + (exception == null ? "" : ", exception=" + exception)
                    + "]";
        }
    }

    private final String creatorThread = Thread.currentThread().getName();
    private final List<Event> events = new ArrayList<>(); // guarded by this
    private final List<Frame> frames = new ArrayList<>(); // guarded by this
    private ByteArrayOutputStream current; // guarded by this
    private long currentDelivered; // guarded by this
    private long dataBytes; // guarded by this
    private boolean keepPayloads = true;

    private volatile Consumer<OnConnectionSetupData> setupHook;
    private volatile Consumer<OnConnectionShutdownData> shutdownHook;
    private volatile Consumer<OnIncomingFrameBeginData> beginHook;
    private volatile Consumer<OnIncomingFramePayloadData> payloadHook;
    private volatile Consumer<OnIncomingFrameCompleteData> completeHook;

    // ---- configuration ----------------------------------------------------------------------

    /** Keep payload bytes (default true). Without, only lengths are counted. */
    public CallbackRecorder keepPayloads(boolean keep) {
        this.keepPayloads = keep;
        return this;
    }

    public CallbackRecorder onSetup(Consumer<OnConnectionSetupData> hook) {
        this.setupHook = hook;
        return this;
    }

    public CallbackRecorder onShutdown(Consumer<OnConnectionShutdownData> hook) {
        this.shutdownHook = hook;
        return this;
    }

    public CallbackRecorder onBegin(Consumer<OnIncomingFrameBeginData> hook) {
        this.beginHook = hook;
        return this;
    }

    public CallbackRecorder onPayload(Consumer<OnIncomingFramePayloadData> hook) {
        this.payloadHook = hook;
        return this;
    }

    public CallbackRecorder onComplete(Consumer<OnIncomingFrameCompleteData> hook) {
        this.completeHook = hook;
        return this;
    }

    /** Installs the five recording callbacks on {@code builder}. */
    public WebSocketConnectOptions.Builder applyTo(WebSocketConnectOptions.Builder builder) {
        return builder
                .onConnectionSetup(this::recordSetup)
                .onConnectionShutdown(this::recordShutdown)
                .onIncomingFrameBegin(this::recordBegin)
                .onIncomingFramePayload(this::recordPayload)
                .onIncomingFrameComplete(this::recordComplete);
    }

    /**
     * Options for a plain ws:// connection to {@code host:port} path "/" with a valid handshake
     * request and this recorder's callbacks.
     */
    public WebSocketConnectOptions.Builder options(String host, int port, ClientBootstrap bootstrap) {
        String authority = host.contains(":") ? "[" + host + "]:" + port : host + ":" + port;
        WebSocketConnectOptions.Builder b = WebSocketConnectOptions.builder()
                .host(host)
                .port(port)
                .handshakeRequest(WebSocket.createHandshakeRequest(authority, "/"));
        if (bootstrap != null) {
            b.bootstrap(bootstrap);
        }
        return applyTo(b);
    }

    // ---- the callbacks ----------------------------------------------------------------------

    // The setup and shutdown hooks run before the event is recorded (and so before awaitSetup /
    // awaitShutdown return), so that what a hook stores is there when the test goes on.

    private void recordSetup(OnConnectionSetupData d) {
        try {
            Consumer<OnConnectionSetupData> h = setupHook;
            if (h != null) {
                h.accept(d);
            }
        } finally {
            add(new Setup(d, Thread.currentThread().getName()));
        }
    }

    private void recordShutdown(OnConnectionShutdownData d) {
        try {
            Consumer<OnConnectionShutdownData> h = shutdownHook;
            if (h != null) {
                h.accept(d);
            }
        } finally {
            add(new Shutdown(d, Thread.currentThread().getName()));
        }
    }

    private void recordBegin(OnIncomingFrameBeginData d) {
        synchronized (this) {
            current = new ByteArrayOutputStream();
            currentDelivered = 0;
        }
        add(new Begin(d.frame(), Thread.currentThread().getName()));
        Consumer<OnIncomingFrameBeginData> h = beginHook;
        if (h != null) {
            h.accept(d);
        }
    }

    private void recordPayload(OnIncomingFramePayloadData d) {
        ByteBuffer data = d.data();
        int length = data.remaining();
        boolean readOnly = data.isReadOnly();
        byte[] copy = d.bytes();
        boolean matches = data.equals(ByteBuffer.wrap(copy));
        synchronized (this) {
            if (current != null && keepPayloads) {
                current.write(copy, 0, copy.length);
            }
            currentDelivered += length;
            if (d.frame().isDataFrame()) {
                dataBytes += length;
            }
        }
        add(new Payload(d.frame(), length, keepPayloads ? copy : new byte[0], readOnly, matches,
                Thread.currentThread().getName()));
        Consumer<OnIncomingFramePayloadData> h = payloadHook;
        if (h != null) {
            h.accept(d);
        }
    }

    private void recordComplete(OnIncomingFrameCompleteData d) {
        synchronized (this) {
            byte[] payload = current == null ? new byte[0] : current.toByteArray();
            frames.add(new Frame(d.frame(), payload, currentDelivered, d.exception()));
            current = null;
            currentDelivered = 0;
        }
        add(new Complete(d.frame(), d.exception(), Thread.currentThread().getName()));
        Consumer<OnIncomingFrameCompleteData> h = completeHook;
        if (h != null) {
            h.accept(d);
        }
    }

    private synchronized void add(Event e) {
        events.add(e);
        notifyAll();
    }

    // ---- reading what was recorded ---------------------------------------------------------

    public synchronized List<Event> events() {
        return List.copyOf(events);
    }

    /** Completed incoming frames, in order. */
    public synchronized List<Frame> frames() {
        return List.copyOf(frames);
    }

    /** Data-frame payload bytes delivered so far. */
    public synchronized long dataBytesDelivered() {
        return dataBytes;
    }

    public synchronized boolean setupSeen() {
        return events.stream().anyMatch(e -> e instanceof Setup);
    }

    public synchronized boolean shutdownSeen() {
        return events.stream().anyMatch(e -> e instanceof Shutdown);
    }

    public synchronized int count(Class<? extends Event> type) {
        return (int) events.stream().filter(type::isInstance).count();
    }

    // ---- bounded awaits ---------------------------------------------------------------------

    /** Waits for the setup callback and returns its data. */
    public OnConnectionSetupData awaitSetup() {
        await("the setup callback", this::setupSeen);
        synchronized (this) {
            return events.stream().filter(e -> e instanceof Setup).map(e -> ((Setup) e).data()).findFirst()
                    .orElseThrow();
        }
    }

    /** Waits for a successful setup and returns the WebSocket. */
    public WebSocket awaitWebSocket() {
        OnConnectionSetupData d = awaitSetup();
        if (d.exception() != null) {
            throw new AssertionError("connection setup failed: " + describe(d.exception()) + ", status "
                    + d.handshakeResponseStatus(), d.exception());
        }
        return Objects.requireNonNull(d.websocket(), "setup succeeded but websocket() is null");
    }

    /** Waits for a failed setup and returns its exception. */
    public CrtRuntimeException awaitSetupFailure() {
        OnConnectionSetupData d = awaitSetup();
        if (d.exception() == null) {
            throw new AssertionError("expected the connection setup to fail, but it succeeded");
        }
        return d.exception();
    }

    /** Waits for the shutdown callback and returns its data. */
    public OnConnectionShutdownData awaitShutdown() {
        await("the shutdown callback", this::shutdownSeen);
        synchronized (this) {
            return events.stream().filter(e -> e instanceof Shutdown).map(e -> ((Shutdown) e).data()).findFirst()
                    .orElseThrow();
        }
    }

    /** Waits until at least {@code n} frames completed; returns the first n. */
    public List<Frame> awaitFrames(int n) {
        await(n + " completed frame(s)", () -> frameCount() >= n);
        return frames().subList(0, n);
    }

    /** Waits until a completed frame matches {@code p}; returns the first match. */
    public Frame awaitFrame(String what, Predicate<Frame> p) {
        await(what, () -> frames().stream().anyMatch(p));
        return frames().stream().filter(p).findFirst().orElseThrow();
    }

    /** Waits until at least {@code n} data-frame payload bytes were delivered. */
    public void awaitDataBytes(long n) {
        await(n + " data payload bytes delivered", () -> dataBytesDelivered() >= n);
    }

    /** Waits for {@code condition}, failing with the recorded events. */
    public void await(String what, BooleanSupplier condition) {
        await(what, Await.DEFAULT_TIMEOUT, condition);
    }

    public void await(String what, Duration timeout, BooleanSupplier condition) {
        Await.until(what, timeout, condition, this::summary);
    }

    /** Checks that no shutdown callback arrives during {@code d}. */
    public void assertNoShutdownWithin(Duration d) {
        Await.holdsFalseFor("received a shutdown callback: " + summary(), d, this::shutdownSeen);
    }

    private synchronized int frameCount() {
        return frames.size();
    }

    // ---- the grammar -------------------------------------------------------------------------

    /**
     * Checks the callback grammar over everything recorded so far (see the class comment). Call it
     * when the connection is done (after the shutdown callback, or after a failed setup).
     */
    public synchronized void assertGrammar() {
        if (events.isEmpty()) {
            throw new AssertionError("no callback at all");
        }
        if (!(events.get(0) instanceof Setup setup)) {
            throw new AssertionError("the first callback must be setup: " + summary());
        }
        long setups = events.stream().filter(e -> e instanceof Setup).count();
        if (setups != 1) {
            throw new AssertionError("setup ran " + setups + " times: " + summary());
        }
        OnConnectionSetupData sd = setup.data();
        if (sd.exception() != null) {
            if (sd.websocket() != null) {
                throw new AssertionError("a failed setup must not carry a websocket");
            }
            if (events.size() != 1) {
                throw new AssertionError("callbacks after a failed setup: " + summary());
            }
            return;
        }
        if (sd.websocket() == null) {
            throw new AssertionError("a successful setup must carry a websocket");
        }
        if (!Objects.equals(sd.handshakeResponseStatus(), 101)) {
            throw new AssertionError("a successful setup must report status 101, got " + sd.handshakeResponseStatus());
        }
        String loopThread = setup.thread();
        if (loopThread.equals(creatorThread)) {
            throw new AssertionError("callbacks ran on the test thread " + creatorThread);
        }
        IncomingFrame open = null;
        long delivered = 0;
        for (int i = 1; i < events.size(); i++) {
            Event e = events.get(i);
            if (!e.thread().equals(loopThread)) {
                throw new AssertionError("event " + i + " " + e + " ran on " + e.thread() + ", setup on " + loopThread);
            }
            if (e instanceof Setup) {
                throw new AssertionError("second setup at " + i);
            } else if (e instanceof Begin b) {
                if (open != null) {
                    throw new AssertionError("begin at " + i + " while frame " + open + " is open: " + around(i));
                }
                open = b.frame();
                delivered = 0;
            } else if (e instanceof Payload p) {
                if (open == null) {
                    throw new AssertionError("payload at " + i + " outside a frame: " + around(i));
                }
                if (!p.frame().equals(open)) {
                    throw new AssertionError("payload at " + i + " for " + p.frame() + " inside " + open);
                }
                if (!p.dataReadOnly()) {
                    throw new AssertionError("payload data() at " + i + " is not read-only");
                }
                if (!p.dataMatchesBytes()) {
                    throw new AssertionError("payload bytes() at " + i + " differs from data()");
                }
                delivered += p.length();
                if (delivered > open.payloadLength()) {
                    throw new AssertionError("delivered " + delivered + " bytes for " + open + " at " + i);
                }
            } else if (e instanceof Complete c) {
                if (open == null) {
                    throw new AssertionError("complete at " + i + " outside a frame: " + around(i));
                }
                if (!c.frame().equals(open)) {
                    throw new AssertionError("complete at " + i + " for " + c.frame() + " inside " + open);
                }
                if (c.exception() == null && delivered != open.payloadLength()) {
                    throw new AssertionError("frame " + open + " completed without error after only " + delivered
                            + " bytes at " + i);
                }
                open = null;
            } else if (e instanceof Shutdown) {
                if (open != null) {
                    throw new AssertionError("shutdown at " + i + " while frame " + open + " has no complete: "
                            + around(i));
                }
                if (i != events.size() - 1) {
                    throw new AssertionError("callbacks after shutdown: " + around(i));
                }
            }
        }
    }

    /** A short description of what was recorded, for failure messages. */
    public synchronized String summary() {
        StringBuilder sb = new StringBuilder();
        sb.append(events.size()).append(" events, ").append(frames.size()).append(" frames, ").append(dataBytes)
                .append(" data bytes");
        List<Event> shown = events.size() <= 12 ? events
                : concat(events.subList(0, 4), events.subList(events.size() - 8, events.size()));
        sb.append(events.size() <= 12 ? ": " : ": first 4 and last 8: ").append(shown);
        return sb.toString();
    }

    private String around(int i) {
        return events.subList(Math.max(0, i - 3), Math.min(events.size(), i + 3)).toString();
    }

    private static <T> List<T> concat(List<T> a, List<T> b) {
        List<T> r = new ArrayList<>(a);
        r.addAll(b);
        return r;
    }

    /** "NAME: message" for CrtRuntimeException, toString() otherwise. */
    public static String describe(Throwable t) {
        if (t instanceof CrtRuntimeException c) {
            return c.errorName() + ": " + c.getMessage();
        }
        return String.valueOf(t);
    }
}
