package dev.wscrt.faults;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wscrt.Crt;
import dev.wscrt.io.ClientBootstrap;
import dev.wscrt.io.SocketOptions;
import dev.wscrt.testing.Await;
import dev.wscrt.testing.CallbackRecorder;
import dev.wscrt.testing.CallbackRecorder.Frame;
import dev.wscrt.testing.Hex;
import dev.wscrt.testing.ReceivedFrame;
import dev.wscrt.testing.ScriptedServer;
import dev.wscrt.testing.SendRecorder;
import dev.wscrt.websocket.IncomingFrame;
import dev.wscrt.websocket.Opcode;
import dev.wscrt.websocket.WebSocket;
import dev.wscrt.websocket.WebSocketConnectOptions;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A scripted raw server on 127.0.0.1 misbehaves at every stage of a TCP connection (issue 5, "Fault
 * injection"), and the client must answer each fault with the callbacks its {@link Fault} states: one
 * setup failure and nothing after it, or one setup success and exactly one shutdown with the named
 * error; frames keep the grammar {@code begin payload* complete}, with an exception on the complete of a
 * frame the connection died in. See {@link FaultTestBase} for what every case is checked for afterwards.
 */
class FaultInjectionTest extends FaultTestBase {

    /** Bytes the client may hold beyond the payload the user queued (frame headers, bookkeeping). */
    private static final long SEND_QUEUE_OVERHEAD_LIMIT = 1024 * 1024;
    private static final int MIB = 1024 * 1024;

    // ---- before the handshake -----------------------------------------------------------------

    @Test
    void connectToAClosedPortFailsSetupWithConnectionRefused() {
        FaultCase fc = begin(Fault.REFUSED);
        fc.connect(fc.options(Loopback.closedPort()));
        fc.verify();
        fc.report("");
    }

    @Test
    void connectToAFullAcceptBacklogFailsSetupWithSocketTimeoutAfterTheConnectTimeout() {
        try (Loopback.FullBacklog backlog = new Loopback.FullBacklog()) {
            FaultCase fc = begin(Fault.CONNECT_TIMEOUT_FULL_BACKLOG);
            fc.connect(fc.options(backlog.port()).socketOptions(new SocketOptions().withConnectTimeoutMs(300)));
            fc.verify();
            fc.report(backlog.queued() + " queued fillers");
        }
    }

    @Test
    void serverThatAcceptsThenClosesAtOnceFailsSetupWithConnectionClosedOrReset() throws IOException {
        try (ServerSocket listener = Loopback.listener(50)) {
            FaultCase fc = begin(Fault.ACCEPTS_THEN_CLOSES);
            fc.connect(fc.options(listener.getLocalPort()));
            listener.accept().close();
            fc.verify();
            fc.report("");
        }
    }

    // ---- during the handshake -----------------------------------------------------------------

    @Test
    void resetAfterTheRequestFailsSetupWithConnectionReset() throws Exception {
        scripted(Fault.RESET_DURING_HANDSHAKE, (fc, c) -> {
            c.readRequest();
            fc.faultNow();
            c.reset();
            fc.verify();
            fc.report("");
        });
    }

    @Test
    void resetInTheMiddleOfTheResponseHeaderFailsSetupWithConnectionReset() throws Exception {
        scripted(Fault.RESET_MID_HEADER, (fc, c) -> {
            c.readRequest();
            c.writeAscii("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnec");
            Await.sleep(50); // let the client read the partial head before the reset
            fc.faultNow();
            c.reset();
            fc.verify();
            fc.report("");
        });
    }

    @Test
    void serverThatNeverAnswersFailsSetupWithHandshakeTimeoutAfterTheConfiguredTime() throws Exception {
        scripted(Fault.HANDSHAKE_NEVER_ANSWERED, o -> o.handshakeTimeoutMs(300), (fc, c) -> {
            c.readRequest(); // and say nothing
            fc.verify();
            assertNull(fc.recorder().awaitSetup().handshakeResponseStatus(), "no response, no status");
            c.awaitEof();
            fc.report("");
        });
    }

    @Test
    void serverAnsweringOneByteAtATimeStillConnectsAndDeliversTheFrame() throws Exception {
        scripted(Fault.SLOW_ONE_BYTE, (fc, c) -> {
            c.readRequest();
            byte[] response = Hex.concat(switchingProtocols(c),
                    ScriptedServer.frame(true, ReceivedFrame.TEXT, Hex.ascii("slow")));
            for (byte b : response) {
                c.write(new byte[] {b});
                Await.sleep(5);
            }
            WebSocket ws = fc.awaitWebSocket();
            Frame frame = fc.recorder().awaitFrames(1).get(0);
            assertEquals(new IncomingFrame(Opcode.TEXT, 4, true), frame.frame());
            assertEquals("slow", frame.text());
            assertNull(frame.exception());

            ws.close();
            assertEquals(1000, c.awaitClose().closeCode());
            c.sendFrame(true, ReceivedFrame.CLOSE, ScriptedServer.closePayload(1000, "")); // a valid server answers
            fc.verify();
            fc.report(response.length + " bytes written singly");
        });
    }

    @Test
    void oneMebibyteHeaderBlockFailsSetupWithHeaderBlockTooLargeQuicklyWithoutBufferingIt() throws Exception {
        scripted(Fault.HEADER_BLOCK_1_MIB, (fc, c) -> {
            c.readRequest();
            byte[] block = headerBlock(MIB);
            int firstPart = 128 * 1024; // twice the client's 64 KiB limit
            long before = Crt.nativeMemoryInUse();
            long peak;
            try (NativeMemoryPeak memory = NativeMemoryPeak.start()) {
                fc.faultNow();
                c.tryWrite(Arrays.copyOfRange(block, 0, firstPart));
                // The rest waits: the client must give up on what it has, not on the whole megabyte.
                fc.recorder().awaitSetup();
                peak = memory.peak();
            }
            fc.verify();
            long growth = peak - before;
            assertTrue(growth < 256 * 1024, "the client buffered " + growth + " bytes of a 1 MiB header block");
            long taken = firstPart;
            for (int off = firstPart; off < block.length; off += 8192) {
                if (!c.tryWrite(Arrays.copyOfRange(block, off, Math.min(block.length, off + 8192)))) {
                    break;
                }
                taken += Math.min(8192, block.length - off);
            }
            fc.report("after at most " + firstPart / 1024 + " KiB (sampled native peak +" + growth / 1024
                    + " KiB; of the whole 1 MiB the server's socket took " + taken / 1024
                    + " KiB before the client's reset)");
        });
    }

    @Test
    void garbageInsteadOfHttpFailsSetupWithInvalidResponse() throws Exception {
        scripted(Fault.GARBAGE, (fc, c) -> {
            c.readRequest();
            fc.faultNow();
            c.tryWrite(Hex.concat(Hex.bytes("00 ff 13 37 fe"), Hex.pattern(4096, 17), Hex.ascii("\r\n\r\n")));
            fc.verify();
            c.awaitEof();
            fc.report("");
        });
    }

    // ---- after the handshake --------------------------------------------------------------------

    @Test
    void resetInTheMiddleOfAPayloadCompletesTheFrameAndShutsDownWithConnectionReset() throws Exception {
        opened(Fault.RESET_MID_PAYLOAD, (fc, c, ws) -> {
            c.write(Hex.concat(Hex.bytes("82 7e 01 00"), Hex.pattern(100, 0))); // 256 announced, 100 sent
            fc.recorder().awaitDataBytes(100);
            fc.faultNow();
            c.reset();

            Frame f = fc.verifyTheOpenFrameCompletesWithTheError(new IncomingFrame(Opcode.BINARY, 256, true));
            assertEquals(100, f.deliveredBytes());
            assertArrayEquals(Hex.pattern(100, 0), f.payload());
            ws.close();
            fc.report("");
        });
    }

    @Test
    void resetWhileAwaitingTheServersCloseShutsDownWithConnectionResetBeforeTheCloseTimeout() throws Exception {
        opened(Fault.RESET_AWAITING_CLOSE, (fc, c, ws) -> {
            ws.sendFrame(Opcode.CLOSE, WebSocket.closePayload(1000, "bye"));
            assertEquals(1000, c.awaitClose().closeCode());
            fc.faultNow();
            c.reset();

            fc.verify();
            assertEquals(0, fc.recorder().count(CallbackRecorder.Begin.class), "no frame callbacks");
            ws.close();
            fc.report("");
        });
    }

    @Test
    void resetInsteadOfTheCloseAnswerEndsTheConnectionWithTheResetPromptly() throws Exception {
        opened(Fault.RESET_AFTER_CLOSE_CALL, (fc, c, ws) -> {
            long closeAt = System.nanoTime();
            ws.close();
            assertEquals(1000, c.awaitClose().closeCode());
            fc.faultNow();
            c.reset();

            // close() waits for the server's CLOSE (RFC 6455 7.1.1); a reset instead is what ends it.
            fc.verify();
            fc.report(fc.shutdownMsAfter(closeAt) + " ms after close()");
        });
    }

    @Test
    void resetAfterTheClientEchoedTheServersCloseLeavesOneCleanShutdown() throws Exception {
        scripted(Fault.RESET_AFTER_CLOSE_ECHO, (fc, c) -> {
            // The fault is the whole sequence from the server's CLOSE on: with both CLOSEs exchanged the
            // client may shut down on its own before the RST is sent, which is not "before the fault".
            fc.faultNow();
            c.handshake(ScriptedServer.frame(true, ReceivedFrame.CLOSE, ScriptedServer.closePayload(1001, "bye")));
            WebSocket ws = fc.awaitWebSocket();
            assertEquals(1001, c.awaitClose().closeCode(), "the client echoes the status code");
            c.reset();

            fc.verify();
            Frame close = fc.onlyFrame();
            assertEquals(Opcode.CLOSE, close.opcode());
            assertNull(close.exception());
            ws.close();
            fc.report("");
        });
    }

    @Test
    void frameLengthWithTheTopBitSetFailsWithInvalidPayloadLengthAndCloseCode1002() throws Exception {
        scripted(Fault.LENGTH_2_POW_63, (fc, c) -> {
            c.handshake(Hex.bytes("82 7f 80 00 00 00 00 00 00 00"));
            WebSocket ws = fc.awaitWebSocket();
            assertEquals(1002, c.awaitClose().closeCode(), "the client says why: protocol error");
            fc.verify();
            assertEquals(0, fc.recorder().count(CallbackRecorder.Begin.class), "refused before any frame begins");
            c.awaitEof();
            ws.close();
            fc.report("server got CLOSE 1002");
        });
    }

    @Test
    void largestLengthAnnouncedThenConnectionDroppedCompletesTheFrameWithTheShutdownError() throws Exception {
        scripted(Fault.LENGTH_2_POW_63_MINUS_1_DROPPED, (fc, c) -> {
            c.handshake(Hex.concat(Hex.bytes("82 7f 7f ff ff ff ff ff ff ff"), Hex.pattern(100, 5)));
            WebSocket ws = fc.awaitWebSocket();
            fc.recorder().awaitDataBytes(100);
            fc.faultNow();
            c.close();

            Frame f = fc.verifyTheOpenFrameCompletesWithTheError(
                    new IncomingFrame(Opcode.BINARY, Long.MAX_VALUE, true));
            assertEquals(100, f.deliveredBytes());
            ws.close();
            fc.report("");
        });
    }

    @Test
    void serverThatStopsReadingKeepsTheSendQueueBoundedByWhatWasQueuedAndCloseStillCompletes() throws Exception {
        // Unbounded by explicit choice: this measures what a queue that nothing limits costs.
        scripted(Fault.STOPS_READING_256_MIB, b -> b.sendQueueLimit(0), (fc, c) -> {
            c.handshake(); // and never read again
            WebSocket ws = fc.awaitWebSocket();
            SendRecorder sends = new SendRecorder();
            byte[] payload = Hex.pattern(MIB, 9);
            int frames = 256;
            long before = Crt.nativeMemoryInUse();
            long worstOverhead = Long.MIN_VALUE;
            long peak;
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
                fc.faultNow(); // the close timeout counts from close()
                ws.close();
                // close() waits (bounded) for its CLOSE to be written behind the queued frames; a server that
                // never reads lets that time run out.
                fc.verify();
                peak = memory.peak();
            }
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
                    String name = FaultCase.shortName(done.exception());
                    failures.merge(name, 1, Integer::sum);
                    assertEquals("WEBSOCKET_CLOSE_TIMEOUT", name, "send " + done.index()
                            + " was dropped by the shutdown, with its error");
                    firstFailed = Math.min(firstFailed, done.index());
                }
            }
            assertTrue(written < frames, "not every frame can have been written");
            assertTrue(lastWritten < firstFailed, "frames are written in order: last written " + lastWritten
                    + ", first failed " + firstFailed);
            fc.recorder().assertGrammar();
            fc.report("completions: " + written + " ok, " + failures + "; native peak +" + (peak - before) / 1024
                    + " KiB for " + (long) frames * payload.length / 1024 + " KiB queued (held beyond the queued "
                    + "payload: at most " + Math.max(0, worstOverhead) + " B)");
        });
    }

    // ---- connections nobody closes --------------------------------------------------------------

    @Test
    void droppedWebSocketsAreClosedAndFreedOnceCollected() {
        FaultCase fc = begin(Fault.DROPPED_WITHOUT_CLOSE);
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
            long ms = FaultCase.msSince(dropAt);
            // Their callbacks became unreachable with them: no shutdown callback is owed, none may run twice.
            assertTrue(shutdowns.get() <= n, shutdowns.get() + " shutdown callbacks for " + n + " connections");
            fc.reportAs(n + " setups ok; the server saw " + countTrue(ended) + " of " + n
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

    /** What a case does once the upgrade is answered: the server's side and the client's open WebSocket. */
    @FunctionalInterface
    private interface OpenScript {
        void run(FaultCase fc, ScriptedServer.Conn c, WebSocket ws) throws Exception;
    }

    /** As {@link #scripted(Fault, Script)}, with the upgrade answered (101, nothing after it) first. */
    private void opened(Fault fault, OpenScript script) throws Exception {
        scripted(fault, (fc, c) -> {
            c.handshake();
            script.run(fc, c, fc.awaitWebSocket());
        });
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
    static byte[] headerBlock(int size) {
        return headerBlock("HTTP/1.1 101 Switching Protocols", size);
    }

    /** {@code statusLine} followed by filler header lines, {@code size} bytes in all, ending the block. */
    static byte[] headerBlock(String statusLine, int size) {
        StringBuilder head = new StringBuilder(size + 128).append(statusLine).append("\r\n");
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
            } else if (FaultCase.msSince(stableSince) >= 300) {
                return;
            }
            Await.sleep(20);
        }
    }

    private static int countTrue(boolean[] values) {
        int n = 0;
        for (boolean v : values) {
            n += v ? 1 : 0;
        }
        return n;
    }
}
