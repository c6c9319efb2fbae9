package dev.wscrt.faults;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wscrt.Crt;
import dev.wscrt.CrtRuntimeException;
import dev.wscrt.io.ClientBootstrap;
import dev.wscrt.io.SocketOptions;
import dev.wscrt.testing.Await;
import dev.wscrt.testing.CallbackRecorder;
import dev.wscrt.testing.CallbackRecorder.Frame;
import dev.wscrt.testing.ClientResources;
import dev.wscrt.testing.Hex;
import dev.wscrt.testing.NativeMemory;
import dev.wscrt.testing.ReceivedFrame;
import dev.wscrt.testing.ScriptedServer;
import dev.wscrt.testing.SendRecorder;
import dev.wscrt.websocket.IncomingFrame;
import dev.wscrt.websocket.OnConnectionSetupData;
import dev.wscrt.websocket.Opcode;
import dev.wscrt.websocket.WebSocket;
import dev.wscrt.websocket.WebSocketConnectOptions;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.channels.Pipe;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A scripted raw server on 127.0.0.1 misbehaves at every stage of a connection (issue 5, "Fault
 * injection"), and the client must answer each fault with the exact callbacks: one setup failure and
 * nothing after it, or one setup success and exactly one shutdown with the named error; frames keep
 * the grammar {@code begin payload* complete}, with an exception on the complete of a frame the
 * connection died in. No case may take longer than its configured timeout (plus generous scheduling
 * slack), and native memory must be back to its baseline after each case.
 *
 * <p>The observed callbacks and timings are printed as a list and written to
 * {@code target/faults/report.md} (see {@link Fault} for the cases and what each expects).
 */
class FaultInjectionTest {

    /** The client's close timeout: crt/http/websocket.c, WSCRT_WEBSOCKET_DEFAULT_CLOSE_TIMEOUT_MS. */
    private static final long CLOSE_TIMEOUT_MS = 5000;
    /** Slack on top of a configured timeout before a wait counts as a hang (a loaded 2-core CI box). */
    private static final long SCHEDULING_SLACK_MS = 2000;
    /** Bytes the client may hold beyond the payload the user queued (frame headers, bookkeeping). */
    private static final long SEND_QUEUE_OVERHEAD_LIMIT = 1024 * 1024;
    private static final int MIB = 1024 * 1024;

    private static final String CONNECTION_RESET = "WSCRT_ERROR_IO_SOCKET_CONNECTION_RESET";

    private static final FaultReport REPORT = new FaultReport();
    private static NativeMemory.Snapshot classBaseline;
    private static ClientResources client;

    private NativeMemory.Snapshot testBaseline;
    private Fault fault;

    @BeforeAll
    static void createClient() throws IOException {
        classBaseline = NativeMemory.snapshot();
        client = ClientResources.create(1);
        growTheEventLoopsTables();
    }

    /**
     * An event loop allocates its fd-indexed subscription table and its timer heap on first use and
     * grows them with the highest fd and the most concurrent timers it has seen; it keeps them until the
     * group closes (the class baseline checks that). Growing them once here, past anything a case uses
     * (40 concurrent connections on fds above 256 more open files), keeps the per-case baselines exact.
     */
    private static void growTheEventLoopsTables() throws IOException {
        List<Pipe> pipes = new ArrayList<>();
        try (ScriptedServer server = ScriptedServer.start()) {
            for (int i = 0; i < 128; i++) {
                pipes.add(Pipe.open());
            }
            List<CallbackRecorder> recs = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                CallbackRecorder rec = new CallbackRecorder();
                WebSocket.connect(options(rec, server.port()).build());
                recs.add(rec);
            }
            for (int i = 0; i < recs.size(); i++) {
                server.awaitConnection().handshake();
            }
            for (CallbackRecorder rec : recs) {
                rec.awaitWebSocket().close();
            }
            for (CallbackRecorder rec : recs) {
                rec.awaitShutdown();
            }
        } finally {
            for (Pipe pipe : pipes) {
                pipe.sink().close();
                pipe.source().close();
            }
        }
    }

    @BeforeEach
    void takeNativeMemoryBaseline() {
        testBaseline = NativeMemory.snapshot();
    }

    @AfterEach
    void nativeMemoryIsBackToBaseline() {
        long start = System.nanoTime();
        try {
            NativeMemory.assertBackTo(testBaseline);
        } catch (AssertionError e) {
            if (fault != null) {
                REPORT.memory(fault, "NOT back to baseline after " + msSince(start) + " ms: "
                        + (Crt.nativeMemoryInUse() - testBaseline.bytes()) + " bytes in "
                        + (Crt.nativeAllocationCount() - testBaseline.allocations()) + " allocations more");
            }
            throw e;
        }
        if (fault != null) {
            REPORT.memory(fault, "back to baseline in " + msSince(start) + " ms");
        }
    }

    @AfterAll
    static void closeClientAndWriteTheReport() {
        try {
            client.close();
            NativeMemory.assertBackTo(classBaseline);
        } finally {
            System.out.print(REPORT.text());
            System.out.println("Fault report written to " + REPORT.write());
        }
    }

    // ---- before the handshake -----------------------------------------------------------------

    @Test
    void connectToAClosedPortFailsSetupWithConnectionRefused() {
        fault = Fault.REFUSED;
        Timing t = new Timing();
        CallbackRecorder rec = t.recorder();
        WebSocket.connect(options(rec, Loopback.closedPort()).build());
        assertOnlySetupFailure(rec, "WSCRT_ERROR_IO_SOCKET_CONNECTION_REFUSED");
        long ms = t.setupMs();
        assertTrue(ms < SCHEDULING_SLACK_MS, "refused after " + ms + " ms");
        REPORT.observed(fault, FaultReport.callbacks(rec), ms);
    }

    @Test
    void connectToAFullAcceptBacklogFailsSetupWithSocketTimeoutAfterTheConnectTimeout() {
        fault = Fault.CONNECT_TIMEOUT_FULL_BACKLOG;
        try (Loopback.FullBacklog backlog = new Loopback.FullBacklog()) {
            Timing t = new Timing();
            CallbackRecorder rec = t.recorder();
            WebSocket.connect(options(rec, backlog.port())
                    .socketOptions(new SocketOptions().withConnectTimeoutMs(300)).build());
            assertOnlySetupFailure(rec, "WSCRT_ERROR_IO_SOCKET_TIMEOUT");
            long ms = t.setupMs();
            assertTrue(ms >= 250, "the connect timeout is not early: " + ms + " ms");
            assertTrue(ms < 300 + SCHEDULING_SLACK_MS, "the connect timeout is not late: " + ms + " ms");
            REPORT.observed(fault, FaultReport.callbacks(rec) + " (" + backlog.queued() + " queued fillers)", ms);
        }
    }

    @Test
    void serverThatAcceptsThenClosesAtOnceFailsSetupWithConnectionClosedOrReset() throws IOException {
        fault = Fault.ACCEPTS_THEN_CLOSES;
        try (ServerSocket listener = Loopback.listener(50)) {
            Timing t = new Timing();
            CallbackRecorder rec = t.recorder();
            WebSocket.connect(options(rec, listener.getLocalPort()).build());
            listener.accept().close();
            // A FIN if the request had not arrived yet, a RST if it sat unread in the server's buffer.
            assertOnlySetupFailure(rec, Set.of("WSCRT_ERROR_HTTP_CONNECTION_CLOSED", CONNECTION_RESET));
            long ms = t.setupMs();
            assertTrue(ms < SCHEDULING_SLACK_MS, "failed after " + ms + " ms");
            REPORT.observed(fault, FaultReport.callbacks(rec), ms);
        }
    }

    // ---- during the handshake -----------------------------------------------------------------

    @Test
    void resetAfterTheRequestFailsSetupWithConnectionReset() {
        fault = Fault.RESET_DURING_HANDSHAKE;
        try (ScriptedServer server = ScriptedServer.start()) {
            Timing t = new Timing();
            CallbackRecorder rec = t.recorder();
            ScriptedServer.Conn c = connect(server, options(rec, server.port()));
            c.readRequest();
            c.reset();
            assertOnlySetupFailure(rec, CONNECTION_RESET);
            REPORT.observed(fault, FaultReport.callbacks(rec), t.setupMs());
        }
    }

    @Test
    void resetInTheMiddleOfTheResponseHeaderFailsSetupWithConnectionReset() {
        fault = Fault.RESET_MID_HEADER;
        try (ScriptedServer server = ScriptedServer.start()) {
            Timing t = new Timing();
            CallbackRecorder rec = t.recorder();
            ScriptedServer.Conn c = connect(server, options(rec, server.port()));
            c.readRequest();
            c.writeAscii("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnec");
            Await.sleep(50); // let the client read the partial head before the reset
            c.reset();
            assertOnlySetupFailure(rec, CONNECTION_RESET);
            REPORT.observed(fault, FaultReport.callbacks(rec), t.setupMs());
        }
    }

    @Test
    void serverThatNeverAnswersFailsSetupWithHandshakeTimeoutAfterTheConfiguredTime() {
        fault = Fault.HANDSHAKE_NEVER_ANSWERED;
        try (ScriptedServer server = ScriptedServer.start()) {
            Timing t = new Timing();
            CallbackRecorder rec = t.recorder();
            ScriptedServer.Conn c = connect(server, options(rec, server.port()).handshakeTimeoutMs(300));
            c.readRequest(); // and say nothing
            OnConnectionSetupData setup = rec.awaitSetup();
            assertOnlySetupFailure(rec, "WSCRT_ERROR_WEBSOCKET_HANDSHAKE_TIMEOUT");
            assertNull(setup.handshakeResponseStatus(), "no response, no status");
            long ms = t.setupMs();
            assertTrue(ms >= 280, "the handshake timeout is not early: " + ms + " ms");
            assertTrue(ms < 300 + SCHEDULING_SLACK_MS, "the handshake timeout is not late: " + ms + " ms");
            c.awaitEof();
            REPORT.observed(fault, FaultReport.callbacks(rec), ms);
        }
    }

    @Test
    void serverAnsweringOneByteAtATimeStillConnectsAndDeliversTheFrame() {
        fault = Fault.SLOW_ONE_BYTE;
        try (ScriptedServer server = ScriptedServer.start()) {
            Timing t = new Timing();
            CallbackRecorder rec = t.recorder();
            ScriptedServer.Conn c = connect(server, options(rec, server.port()));
            c.readRequest();
            byte[] response = Hex.concat(switchingProtocols(c),
                    ScriptedServer.frame(true, ReceivedFrame.TEXT, Hex.ascii("slow")));
            for (byte b : response) {
                c.write(new byte[] {b});
                Await.sleep(5);
            }
            WebSocket ws = rec.awaitWebSocket();
            Frame frame = rec.awaitFrames(1).get(0);
            long ms = msSince(t.start);
            assertEquals(new IncomingFrame(Opcode.TEXT, 4, true), frame.frame());
            assertEquals("slow", frame.text());
            assertNull(frame.exception());
            assertTrue(ms < Await.DEFAULT_TIMEOUT.toMillis(), "took " + ms + " ms");

            ws.close();
            assertEquals(1000, c.awaitClose().closeCode());
            c.sendFrame(true, ReceivedFrame.CLOSE, ScriptedServer.closePayload(1000, "")); // a valid server answers
            assertNull(rec.awaitShutdown().exception(), "close() after a slow but valid exchange is clean");
            assertExactlyOneShutdown(rec);
            REPORT.observed(fault, FaultReport.callbacks(rec) + " (" + response.length + " bytes written singly)",
                    ms);
        }
    }

    @Test
    void oneMebibyteHeaderBlockFailsSetupWithHeaderBlockTooLargeQuicklyWithoutBufferingIt() throws Exception {
        fault = Fault.HEADER_BLOCK_1_MIB;
        try (ScriptedServer server = ScriptedServer.start()) {
            Timing t = new Timing();
            CallbackRecorder rec = t.recorder();
            ScriptedServer.Conn c = connect(server, options(rec, server.port()));
            c.readRequest();
            byte[] block = headerBlock(MIB);
            int firstPart = 128 * 1024; // twice the client's 64 KiB limit
            long before = Crt.nativeMemoryInUse();
            long peak;
            long writeAt;
            try (NativeMemoryPeak memory = NativeMemoryPeak.start()) {
                writeAt = System.nanoTime();
                c.tryWrite(Arrays.copyOfRange(block, 0, firstPart));
                // The rest waits: the client must give up on what it has, not on the whole megabyte.
                rec.awaitSetup();
                peak = memory.peak();
            }
            long ms = t.msAfter(writeAt, setupAt(rec, t));
            assertOnlySetupFailure(rec, "WSCRT_ERROR_HTTP_HEADER_BLOCK_TOO_LARGE");
            assertTrue(ms < SCHEDULING_SLACK_MS, "failed after " + ms + " ms");
            long growth = peak - before;
            assertTrue(growth < 256 * 1024, "the client buffered " + growth + " bytes of a 1 MiB header block");
            long taken = firstPart;
            for (int off = firstPart; off < block.length; off += 8192) {
                if (!c.tryWrite(Arrays.copyOfRange(block, off, Math.min(block.length, off + 8192)))) {
                    break;
                }
                taken += Math.min(8192, block.length - off);
            }
            REPORT.observed(fault, FaultReport.callbacks(rec) + " after at most " + firstPart / 1024
                    + " KiB (sampled native peak +" + growth / 1024 + " KiB; of the whole 1 MiB the server's "
                    + "socket took " + taken / 1024 + " KiB before the client's reset)", ms);
        }
    }

    @Test
    void garbageInsteadOfHttpFailsSetupWithInvalidResponse() {
        fault = Fault.GARBAGE;
        try (ScriptedServer server = ScriptedServer.start()) {
            Timing t = new Timing();
            CallbackRecorder rec = t.recorder();
            ScriptedServer.Conn c = connect(server, options(rec, server.port()));
            c.readRequest();
            c.tryWrite(Hex.concat(Hex.bytes("00 ff 13 37 fe"), Hex.pattern(4096, 17), Hex.ascii("\r\n\r\n")));
            assertOnlySetupFailure(rec, "WSCRT_ERROR_HTTP_INVALID_RESPONSE");
            long ms = t.setupMs();
            assertTrue(ms < SCHEDULING_SLACK_MS, "failed after " + ms + " ms");
            c.awaitEof();
            REPORT.observed(fault, FaultReport.callbacks(rec), ms);
        }
    }

    // ---- after the handshake --------------------------------------------------------------------

    @Test
    void resetInTheMiddleOfAPayloadCompletesTheFrameAndShutsDownWithConnectionReset() {
        fault = Fault.RESET_MID_PAYLOAD;
        try (ScriptedServer server = ScriptedServer.start()) {
            Timing t = new Timing();
            CallbackRecorder rec = t.recorder();
            ScriptedServer.Conn c = connect(server, options(rec, server.port()));
            c.handshake();
            WebSocket ws = rec.awaitWebSocket();
            c.write(Hex.concat(Hex.bytes("82 7e 01 00"), Hex.pattern(100, 0))); // 256 announced, 100 sent
            rec.awaitDataBytes(100);
            long resetAt = System.nanoTime();
            c.reset();

            assertShutdownError(rec, CONNECTION_RESET);
            Frame f = onlyFrame(rec);
            assertEquals(new IncomingFrame(Opcode.BINARY, 256, true), f.frame());
            assertEquals(100, f.deliveredBytes());
            assertArrayEquals(Hex.pattern(100, 0), f.payload());
            assertEquals(CONNECTION_RESET, errorName(f.exception()), "the open frame's complete carries the error");
            long ms = t.msAfter(resetAt, shutdownAt(rec, t));
            assertTrue(ms < SCHEDULING_SLACK_MS, "shut down " + ms + " ms after the reset");
            ws.close();
            REPORT.observed(fault, FaultReport.callbacks(rec) + " (" + ms + " ms after the RST)", t.shutdownMs());
        }
    }

    @Test
    void resetWhileAwaitingTheServersCloseShutsDownWithConnectionResetBeforeTheCloseTimeout() {
        fault = Fault.RESET_AWAITING_CLOSE;
        try (ScriptedServer server = ScriptedServer.start()) {
            Timing t = new Timing();
            CallbackRecorder rec = t.recorder();
            ScriptedServer.Conn c = connect(server, options(rec, server.port()));
            c.handshake();
            WebSocket ws = rec.awaitWebSocket();
            ws.sendFrame(Opcode.CLOSE, WebSocket.closePayload(1000, "bye"));
            assertEquals(1000, c.awaitClose().closeCode());
            long resetAt = System.nanoTime();
            c.reset();

            assertShutdownError(rec, CONNECTION_RESET);
            assertEquals(0, rec.count(CallbackRecorder.Begin.class), "no frame callbacks");
            long ms = t.msAfter(resetAt, shutdownAt(rec, t));
            assertTrue(ms < CLOSE_TIMEOUT_MS / 2, "shut down " + ms + " ms after the reset, not at the close timeout");
            ws.close();
            REPORT.observed(fault, FaultReport.callbacks(rec) + " (" + ms + " ms after the RST)", t.shutdownMs());
        }
    }

    @Test
    void resetInsteadOfTheCloseAnswerEndsTheConnectionWithTheResetPromptly() {
        fault = Fault.RESET_AFTER_CLOSE_CALL;
        try (ScriptedServer server = ScriptedServer.start()) {
            Timing t = new Timing();
            CallbackRecorder rec = t.recorder();
            ScriptedServer.Conn c = connect(server, options(rec, server.port()));
            c.handshake();
            WebSocket ws = rec.awaitWebSocket();
            long closeAt = System.nanoTime();
            ws.close();
            assertEquals(1000, c.awaitClose().closeCode());
            c.reset();

            // close() waits for the server's CLOSE (RFC 6455 7.1.1); a reset instead is what ends it.
            assertEquals("WSCRT_ERROR_IO_SOCKET_CONNECTION_RESET", errorName(rec.awaitShutdown().exception()));
            assertExactlyOneShutdown(rec);
            long ms = t.msAfter(closeAt, shutdownAt(rec, t));
            assertTrue(ms < CLOSE_TIMEOUT_MS, "shut down " + ms + " ms after close()");
            REPORT.observed(fault, FaultReport.callbacks(rec) + " (" + ms + " ms after close())", t.shutdownMs());
        }
    }

    @Test
    void resetAfterTheClientEchoedTheServersCloseLeavesOneCleanShutdown() {
        fault = Fault.RESET_AFTER_CLOSE_ECHO;
        try (ScriptedServer server = ScriptedServer.start()) {
            Timing t = new Timing();
            CallbackRecorder rec = t.recorder();
            ScriptedServer.Conn c = connect(server, options(rec, server.port()));
            c.handshake(ScriptedServer.frame(true, ReceivedFrame.CLOSE, ScriptedServer.closePayload(1001, "bye")));
            WebSocket ws = rec.awaitWebSocket();
            assertEquals(1001, c.awaitClose().closeCode(), "the client echoes the status code");
            c.reset();

            assertNull(rec.awaitShutdown().exception(), "the close handshake had completed");
            assertExactlyOneShutdown(rec);
            Frame close = onlyFrame(rec);
            assertEquals(Opcode.CLOSE, close.opcode());
            assertNull(close.exception());
            ws.close();
            REPORT.observed(fault, FaultReport.callbacks(rec), t.shutdownMs());
        }
    }

    @Test
    void frameLengthWithTheTopBitSetFailsWithInvalidPayloadLengthAndCloseCode1002() {
        fault = Fault.LENGTH_2_POW_63;
        try (ScriptedServer server = ScriptedServer.start()) {
            Timing t = new Timing();
            CallbackRecorder rec = t.recorder();
            ScriptedServer.Conn c = connect(server, options(rec, server.port()));
            c.handshake(Hex.bytes("82 7f 80 00 00 00 00 00 00 00"));
            WebSocket ws = rec.awaitWebSocket();
            assertEquals(1002, c.awaitClose().closeCode(), "the client says why: protocol error");
            assertShutdownError(rec, "WSCRT_ERROR_WEBSOCKET_INVALID_PAYLOAD_LENGTH");
            assertEquals(0, rec.count(CallbackRecorder.Begin.class), "refused before any frame begins");
            c.awaitEof();
            long ms = t.shutdownMs();
            assertTrue(ms < SCHEDULING_SLACK_MS, "shut down after " + ms + " ms");
            ws.close();
            REPORT.observed(fault, FaultReport.callbacks(rec) + ", server got CLOSE 1002", ms);
        }
    }

    @Test
    void largestLengthAnnouncedThenConnectionDroppedCompletesTheFrameWithTheShutdownError() {
        fault = Fault.LENGTH_2_POW_63_MINUS_1_DROPPED;
        try (ScriptedServer server = ScriptedServer.start()) {
            Timing t = new Timing();
            CallbackRecorder rec = t.recorder();
            ScriptedServer.Conn c = connect(server, options(rec, server.port()));
            c.handshake(Hex.concat(Hex.bytes("82 7f 7f ff ff ff ff ff ff ff"), Hex.pattern(100, 5)));
            WebSocket ws = rec.awaitWebSocket();
            rec.awaitDataBytes(100);
            long dropAt = System.nanoTime();
            c.close();

            assertShutdownError(rec, "WSCRT_ERROR_IO_SOCKET_CLOSED");
            Frame f = onlyFrame(rec);
            assertEquals(new IncomingFrame(Opcode.BINARY, Long.MAX_VALUE, true), f.frame());
            assertEquals(100, f.deliveredBytes());
            assertEquals("WSCRT_ERROR_IO_SOCKET_CLOSED", errorName(f.exception()),
                    "the open frame's complete carries the error");
            long ms = t.msAfter(dropAt, shutdownAt(rec, t));
            assertTrue(ms < SCHEDULING_SLACK_MS, "shut down " + ms + " ms after the drop");
            ws.close();
            REPORT.observed(fault, FaultReport.callbacks(rec) + " (" + ms + " ms after the FIN)", t.shutdownMs());
        }
    }

    @Test
    void serverThatStopsReadingKeepsTheSendQueueBoundedByWhatWasQueuedAndCloseStillCompletes() {
        fault = Fault.STOPS_READING_256_MIB;
        try (ScriptedServer server = ScriptedServer.start()) {
            Timing t = new Timing();
            CallbackRecorder rec = t.recorder();
            ScriptedServer.Conn c = connect(server, options(rec, server.port()));
            c.handshake(); // and never read again
            WebSocket ws = rec.awaitWebSocket();
            SendRecorder sends = new SendRecorder();
            byte[] payload = Hex.pattern(MIB, 9);
            int frames = 256;
            long before = Crt.nativeMemoryInUse();
            long worstOverhead = Long.MIN_VALUE;
            long peak;
            long closeAt;
            try (NativeMemoryPeak memory = NativeMemoryPeak.start()) {
                long queued = 0;
                for (int i = 0; i < frames; i++) {
                    ws.sendFrame(Opcode.BINARY, payload, true, sends.callback());
                    queued += payload.length;
                    long overhead = Crt.nativeMemoryInUse() - before - queued;
                    worstOverhead = Math.max(worstOverhead, overhead);
                    assertTrue(overhead <= SEND_QUEUE_OVERHEAD_LIMIT, "after " + (i + 1) + " frames the client holds "
                            + overhead + " bytes beyond the " + queued + " queued");
                }
                awaitCompletionsSettle(sends);
                assertTrue(sends.completed() < frames, "a server that never reads cannot take 256 MiB: "
                        + sends.completed() + " frames reported written");
                closeAt = System.nanoTime();
                ws.close();
                // close() waits (bounded) for its CLOSE to be written behind the queued frames; a server that
                // never reads lets that time run out.
                assertEquals("WSCRT_ERROR_WEBSOCKET_CLOSE_TIMEOUT", errorName(rec.awaitShutdown().exception()));
                peak = memory.peak();
            }
            long closeMs = t.msAfter(closeAt, shutdownAt(rec, t));
            assertTrue(closeMs < CLOSE_TIMEOUT_MS + SCHEDULING_SLACK_MS, "close() took " + closeMs + " ms");
            assertExactlyOneShutdown(rec);
            long peakOverhead = peak - before - (long) frames * payload.length;
            assertTrue(peakOverhead <= SEND_QUEUE_OVERHEAD_LIMIT,
                    "native memory peaked " + peakOverhead + " bytes above the 256 MiB queued");

            List<SendRecorder.Completion> completions = sends.awaitAll(); // each exactly once
            assertEquals(frames, completions.size());
            Await.sleep(100);
            assertEquals(frames, sends.completed(), "no completion runs twice");
            int written = 0;
            Map<String, Integer> failures = new TreeMap<>();
            int lastWritten = -1;
            int firstFailed = frames;
            for (SendRecorder.Completion done : completions) {
                if (done.exception() == null) {
                    written++;
                    lastWritten = Math.max(lastWritten, done.index());
                } else {
                    failures.merge(FaultReport.shortName(done.exception()), 1, Integer::sum);
                    assertEquals("WSCRT_ERROR_WEBSOCKET_CLOSE_TIMEOUT", errorName(done.exception()),
                            "send " + done.index() + " was dropped by the shutdown, with its error");
                    firstFailed = Math.min(firstFailed, done.index());
                }
            }
            assertTrue(written < frames, "not every frame can have been written");
            assertTrue(lastWritten < firstFailed, "frames are written in order: last written " + lastWritten
                    + ", first failed " + firstFailed);
            rec.assertGrammar();
            REPORT.observed(fault, FaultReport.callbacks(rec) + "; completions: " + written + " ok, " + failures
                    + "; native peak +" + (peak - before) / 1024 + " KiB for " + (long) frames * payload.length / 1024
                    + " KiB queued (held beyond the queued payload: at most " + Math.max(0, worstOverhead)
                    + " B); close() to shutdown " + closeMs + " ms", t.shutdownMs());
        }
    }

    // ---- connections nobody closes --------------------------------------------------------------

    @Test
    void droppedWebSocketsAreClosedAndFreedOnceCollected() {
        fault = Fault.DROPPED_WITHOUT_CLOSE;
        int n = 20;
        try (ScriptedServer server = ScriptedServer.start()) {
            AtomicInteger setups = new AtomicInteger();
            AtomicInteger failures = new AtomicInteger();
            AtomicInteger shutdowns = new AtomicInteger();
            for (int i = 0; i < n; i++) {
                connectAndForget(server.port(), client.bootstrap(), setups, failures, shutdowns);
            }
            List<ScriptedServer.Conn> conns = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                ScriptedServer.Conn c = server.awaitConnection();
                c.handshake();
                conns.add(c);
            }
            Await.until(n + " setups", Await.DEFAULT_TIMEOUT, () -> setups.get() + failures.get() == n,
                    () -> setups.get() + " succeeded, " + failures.get() + " failed");
            assertEquals(n, setups.get(), "every connection was set up");

            long dropAt = System.nanoTime();
            boolean[] ended = new boolean[n];
            Await.until("the server to see all " + n + " dropped connections end", Await.DEFAULT_TIMEOUT, () -> {
                System.gc();
                boolean all = true;
                for (int i = 0; i < n; i++) {
                    ended[i] = ended[i] || Loopback.endedByPeer(conns.get(i).socket());
                    all &= ended[i];
                }
                return all;
            }, () -> countTrue(ended) + " of " + n + " ended");
            long ms = msSince(dropAt);
            // Their callbacks became unreachable with them: no shutdown callback is owed, none may run twice.
            assertTrue(shutdowns.get() <= n, shutdowns.get() + " shutdown callbacks for " + n + " connections");
            REPORT.observed(fault, n + " setups ok; the server saw " + countTrue(ended) + " of " + n
                    + " TCP connections end; " + shutdowns.get() + " shutdown callbacks", ms);
        }
    }

    /** Connects with callbacks that hold nothing but counters, and keeps no reference to the WebSocket. */
    private static void connectAndForget(int port, ClientBootstrap bootstrap, AtomicInteger setups,
                                         AtomicInteger failures, AtomicInteger shutdowns) {
        WebSocket.connect(WebSocketConnectOptions.builder()
                .host("127.0.0.1").port(port).bootstrap(bootstrap)
                .handshakeRequest(WebSocket.createHandshakeRequest("127.0.0.1:" + port, "/"))
                .onConnectionSetup(d -> (d.exception() == null ? setups : failures).incrementAndGet())
                .onConnectionShutdown(d -> shutdowns.incrementAndGet())
                .build());
    }

    // ---- helpers ----------------------------------------------------------------------------------

    private static WebSocketConnectOptions.Builder options(CallbackRecorder rec, int port) {
        return rec.options("127.0.0.1", port, client.bootstrap());
    }

    private static ScriptedServer.Conn connect(ScriptedServer server, WebSocketConnectOptions.Builder options) {
        WebSocket.connect(options.build());
        return server.awaitConnection();
    }

    /** A correct 101 head for the request {@code c} read. */
    private static byte[] switchingProtocols(ScriptedServer.Conn c) {
        return ("HTTP/1.1 101 Switching Protocols\r\n"
                + "Upgrade: websocket\r\n"
                + "Connection: Upgrade\r\n"
                + "Sec-WebSocket-Accept: " + c.expectedAccept() + "\r\n"
                + "\r\n").getBytes(StandardCharsets.US_ASCII);
    }

    /** A 101 status line followed by filler header lines, {@code size} bytes in all, ending the block. */
    private static byte[] headerBlock(int size) {
        StringBuilder head = new StringBuilder(size + 128).append("HTTP/1.1 101 Switching Protocols\r\n");
        for (int i = 0; head.length() < size - 2; i++) {
            head.append("X-Filler-").append(i).append(": ").append("f".repeat(50)).append("\r\n");
        }
        return head.append("\r\n").toString().getBytes(StandardCharsets.US_ASCII);
    }

    /** Waits (at most 5 s) until no send completion has arrived for 300 ms. */
    private static void awaitCompletionsSettle(SendRecorder sends) {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        int last = -1;
        long stableSince = System.nanoTime();
        while (System.nanoTime() - deadline < 0) {
            int now = sends.completed();
            if (now != last) {
                last = now;
                stableSince = System.nanoTime();
            } else if (msSince(stableSince) >= 300) {
                return;
            }
            Await.sleep(20);
        }
    }

    /**
     * The setup failed with {@code expected}; nothing else ran, and no shutdown follows within 200 ms.
     */
    private static String assertOnlySetupFailure(CallbackRecorder rec, String expected) {
        return assertOnlySetupFailure(rec, Set.of(expected));
    }

    private static String assertOnlySetupFailure(CallbackRecorder rec, Set<String> expected) {
        OnConnectionSetupData setup = rec.awaitSetup();
        assertNotNull(setup.exception(), "the setup must fail");
        String name = errorName(setup.exception());
        assertTrue(expected.contains(name), "setup failed with " + CallbackRecorder.describe(setup.exception())
                + ", expected " + expected);
        assertNull(setup.websocket(), "a failed setup has no WebSocket");
        rec.assertNoShutdownWithin(Duration.ofMillis(200));
        assertEquals(1, rec.events().size(), "one setup callback and nothing else: " + rec.summary());
        rec.assertGrammar();
        return name;
    }

    /** The connection was set up and shut down exactly once with {@code expected}. */
    private static void assertShutdownError(CallbackRecorder rec, String expected) {
        Throwable e = rec.awaitShutdown().exception();
        assertNotNull(e, "shutdown without an exception; expected " + expected + ": " + rec.summary());
        assertEquals(expected, errorName(e), "shutdown error: " + CallbackRecorder.describe(e));
        assertExactlyOneShutdown(rec);
    }

    /** One successful setup first, then exactly one shutdown, last, with nothing after it for 200 ms. */
    private static void assertExactlyOneShutdown(CallbackRecorder rec) {
        rec.awaitShutdown();
        Await.sleep(200);
        List<CallbackRecorder.Event> events = rec.events();
        assertInstanceOf(CallbackRecorder.Setup.class, events.get(0));
        assertNull(((CallbackRecorder.Setup) events.get(0)).data().exception(), "setup succeeded");
        assertEquals(1, rec.count(CallbackRecorder.Setup.class), rec.summary());
        assertEquals(1, rec.count(CallbackRecorder.Shutdown.class), rec.summary());
        assertInstanceOf(CallbackRecorder.Shutdown.class, events.get(events.size() - 1), "shutdown is last");
        rec.assertGrammar();
    }

    private static Frame onlyFrame(CallbackRecorder rec) {
        List<Frame> frames = rec.frames();
        assertEquals(1, frames.size(), "one frame: " + rec.summary());
        return frames.get(0);
    }

    private static String errorName(Throwable t) {
        assertNotNull(t, "an exception");
        return assertInstanceOf(CrtRuntimeException.class, t, "a CrtRuntimeException").errorName();
    }

    private static int countTrue(boolean[] values) {
        int n = 0;
        for (boolean v : values) {
            n += v ? 1 : 0;
        }
        return n;
    }

    private static long msSince(long startNanos) {
        return (System.nanoTime() - startNanos) / 1_000_000;
    }

    private static long msBetween(long fromNanos, long toNanos) {
        return (toNanos - fromNanos) / 1_000_000;
    }

    private static AtomicLong setupAt(CallbackRecorder rec, Timing t) {
        rec.awaitSetup();
        return t.setupAt;
    }

    private static AtomicLong shutdownAt(CallbackRecorder rec, Timing t) {
        rec.awaitShutdown();
        return t.shutdownAt;
    }

    /** When a case started and when its setup and shutdown callbacks ran (System.nanoTime()). */
    private static final class Timing {
        final long start = System.nanoTime();
        final AtomicLong setupAt = new AtomicLong();
        final AtomicLong shutdownAt = new AtomicLong();

        /** A recorder that also notes when its setup and shutdown callbacks ran. */
        CallbackRecorder recorder() {
            return new CallbackRecorder()
                    .onSetup(d -> setupAt.set(System.nanoTime()))
                    .onShutdown(d -> shutdownAt.set(System.nanoTime()));
        }

        long msUntil(AtomicLong at) {
            long when = at.get();
            assertTrue(when != 0, "the callback has not run");
            return msBetween(start, when);
        }

        /** Milliseconds from {@code fromNanos} (a moment after the start) until {@code at}. */
        long msAfter(long fromNanos, AtomicLong at) {
            msUntil(at);
            return msBetween(fromNanos, at.get());
        }

        long setupMs() {
            return msUntil(setupAt);
        }

        long shutdownMs() {
            return msUntil(shutdownAt);
        }
    }
}
