package dev.wscrt.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wscrt.CrtRuntimeException;
import dev.wscrt.io.ClientBootstrap;
import dev.wscrt.testing.CallbackRecorder;
import dev.wscrt.testing.ScriptedServer;
import dev.wscrt.websocket.IncomingFrame;
import dev.wscrt.websocket.OnConnectionSetupData;
import dev.wscrt.websocket.WebSocket;
import dev.wscrt.websocket.WebSocketConnectOptions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.UnaryOperator;

/**
 * One run of a {@link Fault}: the client's connection with a {@link CallbackRecorder} that also notes when
 * its setup and shutdown callbacks ran, the moment of the fault, and the check of the observed callbacks
 * against the fault's {@link Expected} (stated before the case ran). A case reads:
 *
 * <pre>{@code
 * FaultCase fc = begin(Fault.RESET_DURING_HANDSHAKE);
 * ScriptedServer.Conn c = fc.connect(server);
 * c.readRequest();
 * fc.faultNow();
 * c.reset();
 * fc.verify();        // one setup failure IO_SOCKET_CONNECTION_RESET, nothing after it, in time
 * fc.report("");      // the observed callbacks and the time, for the report
 * }</pre>
 *
 * Used from the test thread; the recorder's callbacks run on the event-loop thread.
 */
final class FaultCase {

    /** The client's close timeout: crt/http/websocket.c, WSCRT_WEBSOCKET_DEFAULT_CLOSE_TIMEOUT_MS. */
    static final long CLOSE_TIMEOUT_MS = 5000;
    static final String PREFIX = "WSCRT_ERROR_";

    private final Fault fault;
    private final ClientBootstrap bootstrap;
    private final FaultReport report;
    private final CallbackRecorder rec;
    private final long start = System.nanoTime();
    private final AtomicLong setupAt = new AtomicLong();
    private final AtomicLong shutdownAt = new AtomicLong();
    private long faultAt;

    FaultCase(Fault fault, ClientBootstrap bootstrap, FaultReport report) {
        this.fault = fault;
        this.bootstrap = bootstrap;
        this.report = report;
        this.rec = new CallbackRecorder()
                .onSetup(d -> setupAt.set(System.nanoTime()))
                .onShutdown(d -> shutdownAt.set(System.nanoTime()));
    }

    Fault fault() {
        return fault;
    }

    CallbackRecorder recorder() {
        return rec;
    }

    /** Options for ws://{@code host}:{@code port}/ on the test class's bootstrap with the recording callbacks. */
    WebSocketConnectOptions.Builder options(String host, int port) {
        return rec.options(host, port, bootstrap);
    }

    WebSocketConnectOptions.Builder options(int port) {
        return options("127.0.0.1", port);
    }

    /** Connects with {@code options}. */
    void connect(WebSocketConnectOptions.Builder options) {
        WebSocket.connect(options.build());
    }

    /** Connects to {@code server} and returns the accepted connection. */
    ScriptedServer.Conn connect(ScriptedServer server) {
        return connect(server, UnaryOperator.identity());
    }

    /** Connects to {@code server} with options changed by {@code tweak}; returns the accepted connection. */
    ScriptedServer.Conn connect(ScriptedServer server, UnaryOperator<WebSocketConnectOptions.Builder> tweak) {
        connect(tweak.apply(options(server.port())));
        return server.awaitConnection();
    }

    /** Marks the moment of the fault: the time bound of the expectation counts from here. */
    void faultNow() {
        faultAt = System.nanoTime();
    }

    /** The successful setup's WebSocket. */
    WebSocket awaitWebSocket() {
        return rec.awaitWebSocket();
    }

    /**
     * Checks the observed callbacks against the fault's expectation: the outcome, the error name (one of
     * those allowed) and the time bound. Returns the error name observed (prefix removed), "" when clean.
     */
    String verify() {
        Expected e = fault.expected();
        String name;
        long endAt;
        switch (e.outcome()) {
            case SETUP_FAILURE -> {
                name = assertOnlySetupFailure(e.errors());
                endAt = setupAt.get();
            }
            case SHUTDOWN_WITH_ERROR -> {
                Throwable t = rec.awaitShutdown().exception();
                assertNotNull(t, "shutdown without an exception; expected " + e.errors() + ": " + rec.summary());
                name = shortName(t);
                assertTrue(e.errors().contains(name), "shutdown with " + CallbackRecorder.describe(t)
                        + ", expected " + e.errors());
                assertExactlyOneShutdown();
                endAt = shutdownAt.get();
            }
            case CLEAN_SHUTDOWN -> {
                Throwable t = rec.awaitShutdown().exception();
                assertNull(t, () -> "expected a clean shutdown, got " + CallbackRecorder.describe(t));
                assertExactlyOneShutdown();
                name = "";
                endAt = shutdownAt.get();
            }
            default -> throw new IllegalStateException(fault + " is checked by its case");
        }
        long ms = msBetween(faultAt != 0 ? faultAt : start, endAt);
        String from = faultAt != 0 ? " after the fault" : " after connect()";
        assertTrue(ms >= e.atLeastMs(), fault + " ended " + ms + " ms" + from + ", before " + e.atLeastMs() + " ms");
        assertTrue(ms <= e.atMostMs(), fault + " ended " + ms + " ms" + from + ", later than " + e.atMostMs() + " ms");
        return name;
    }

    /** Records the observed callbacks (and {@code extra}, may be empty) with the time from connect(). */
    void report(String extra) {
        String observed = FaultReport.callbacks(rec);
        if (faultAt != 0 && lastCallbackAt() != 0) {
            observed += " (" + msBetween(faultAt, lastCallbackAt()) + " ms after the fault)";
        }
        report.observed(fault, observed + (extra.isEmpty() ? "" : "; " + extra), msUntilLastCallback());
    }

    /** Records an observation the case composed itself. */
    void reportAs(String observed, long elapsedMs) {
        report.observed(fault, observed, elapsedMs);
    }

    /** Milliseconds from connect() until the setup callback. */
    long setupMs() {
        return msUntil(setupAt);
    }

    /** Milliseconds from connect() until the shutdown callback. */
    long shutdownMs() {
        return msUntil(shutdownAt);
    }

    /** Milliseconds from {@code fromNanos} until the shutdown callback (waiting for it). */
    long shutdownMsAfter(long fromNanos) {
        rec.awaitShutdown();
        return msBetween(fromNanos, shutdownAt.get());
    }

    /** Milliseconds from {@code fromNanos} until the setup callback (waiting for it). */
    long setupMsAfter(long fromNanos) {
        rec.awaitSetup();
        return msBetween(fromNanos, setupAt.get());
    }

    long msSinceStart() {
        return msBetween(start, System.nanoTime());
    }

    private long lastCallbackAt() {
        return Math.max(setupAt.get(), shutdownAt.get());
    }

    private long msUntilLastCallback() {
        long at = lastCallbackAt();
        return at == 0 ? -1 : msBetween(start, at);
    }

    private long msUntil(AtomicLong at) {
        long when = at.get();
        assertTrue(when != 0, "the callback has not run");
        return msBetween(start, when);
    }

    // ---- callback assertions ----------------------------------------------------------------------

    /** The setup failed with one of {@code expected}; nothing else ran, and no shutdown follows within 200 ms. */
    String assertOnlySetupFailure(List<String> expected) {
        OnConnectionSetupData setup = rec.awaitSetup();
        assertNotNull(setup.exception(), "the setup must fail; expected " + expected);
        String name = shortName(setup.exception());
        assertTrue(expected.contains(name), "setup failed with " + CallbackRecorder.describe(setup.exception())
                + ", expected " + expected);
        assertNull(setup.websocket(), "a failed setup has no WebSocket");
        rec.assertNoShutdownWithin(Duration.ofMillis(200));
        assertEquals(1, rec.events().size(), "one setup callback and nothing else: " + rec.summary());
        rec.assertGrammar();
        return name;
    }

    /** One successful setup first, then exactly one shutdown, last, with nothing after it for 200 ms. */
    void assertExactlyOneShutdown() {
        rec.awaitShutdown();
        dev.wscrt.testing.Await.sleep(200);
        List<CallbackRecorder.Event> events = rec.events();
        assertInstanceOf(CallbackRecorder.Setup.class, events.get(0));
        assertNull(((CallbackRecorder.Setup) events.get(0)).data().exception(), "setup succeeded");
        assertEquals(1, rec.count(CallbackRecorder.Setup.class), rec.summary());
        assertEquals(1, rec.count(CallbackRecorder.Shutdown.class), rec.summary());
        assertInstanceOf(CallbackRecorder.Shutdown.class, events.get(events.size() - 1), "shutdown is last");
        rec.assertGrammar();
    }

    /** The only completed frame. */
    CallbackRecorder.Frame onlyFrame() {
        List<CallbackRecorder.Frame> frames = rec.frames();
        assertEquals(1, frames.size(), "one frame: " + rec.summary());
        return frames.get(0);
    }

    /**
     * {@link #verify()}, for a fault in the middle of a frame: the only frame is the one announced as
     * {@code announced}, and its complete carries the shutdown's error. Returns that frame.
     */
    CallbackRecorder.Frame verifyTheOpenFrameCompletesWithTheError(IncomingFrame announced) {
        String error = verify();
        CallbackRecorder.Frame f = onlyFrame();
        assertEquals(announced, f.frame());
        assertEquals(error, shortName(f.exception()), "the open frame's complete carries the error");
        return f;
    }

    /** The error name of a CrtRuntimeException without its prefix (fails for anything else). */
    static String shortName(Throwable t) {
        assertNotNull(t, "an exception");
        return assertInstanceOf(CrtRuntimeException.class, t, "a CrtRuntimeException").errorName()
                .replaceFirst("^" + PREFIX, "");
    }

    static long msBetween(long fromNanos, long toNanos) {
        return (toNanos - fromNanos) / 1_000_000;
    }

    static long msSince(long fromNanos) {
        return msBetween(fromNanos, System.nanoTime());
    }
}
