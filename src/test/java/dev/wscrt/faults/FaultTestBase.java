package dev.wscrt.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.wscrt.Crt;
import dev.wscrt.testing.CallbackRecorder;
import dev.wscrt.testing.ClientResources;
import dev.wscrt.testing.Hex;
import dev.wscrt.testing.NativeMemory;
import dev.wscrt.testing.ReceivedFrame;
import dev.wscrt.testing.ScriptedServer;
import dev.wscrt.websocket.WebSocket;
import dev.wscrt.websocket.WebSocketConnectOptions;
import java.io.IOException;
import java.nio.channels.Pipe;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;

/**
 * The shared fixture of the fault test classes: one client (event loop group of ONE thread, resolver,
 * bootstrap) per class, and around every case the checks every fault owes (issue 16):
 * <ul>
 *   <li>before: a native memory baseline;</li>
 *   <li>after: a second connection on the same event-loop thread connects, exchanges a frame and closes
 *       cleanly (the loop survived the fault), and native memory is back to the baseline;</li>
 *   <li>after the class: the client closes and native memory is back to the class's baseline.</li>
 * </ul>
 * A case starts with {@link #begin(Fault)}; the outcome of the checks goes to the {@link FaultReport}.
 */
abstract class FaultTestBase {

    static final FaultReport REPORT = FaultReport.shared();
    static ClientResources client;
    private static NativeMemory.Snapshot classBaseline;
    private static String loopThread;

    private NativeMemory.Snapshot testBaseline;
    private FaultCase current;

    @BeforeAll
    static void createTheClient() throws IOException {
        classBaseline = NativeMemory.snapshot();
        client = ClientResources.create(1);
        loopThread = null;
        loopThread = secondConnectionWorks();
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
                WebSocket.connect(rec.options("127.0.0.1", server.port(), client.bootstrap()).build());
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
    final void takeNativeMemoryBaseline() {
        current = null;
        testBaseline = NativeMemory.snapshot();
    }

    /** Starts a fault case on this class's client. */
    final FaultCase begin(Fault fault) {
        current = new FaultCase(fault, client.bootstrap(), REPORT);
        return current;
    }

    /** What a case does with the scripted server's side of the client's connection (nothing read yet). */
    @FunctionalInterface
    interface Script {
        void run(FaultCase fc, ScriptedServer.Conn c) throws Exception;
    }

    /** Starts {@code fault}'s case, connects to a fresh scripted server and runs {@code script} against it. */
    final void scripted(Fault fault, Script script) throws Exception {
        scripted(fault, UnaryOperator.identity(), script);
    }

    /** As {@link #scripted(Fault, Script)}, with the connect options changed by {@code options}. */
    final void scripted(Fault fault, UnaryOperator<WebSocketConnectOptions.Builder> options, Script script)
            throws Exception {
        try (ScriptedServer server = ScriptedServer.start()) {
            FaultCase fc = begin(fault);
            script.run(fc, fc.connect(server, options));
        }
    }

    @AfterEach
    final void theLoopServesASecondConnectionAndMemoryIsBack() {
        String loop = "";
        try {
            secondConnectionWorks();
            loop = "a second connection on the loop works; ";
        } catch (AssertionError e) {
            if (current != null) {
                REPORT.memory(current.fault(), "the event loop FAILED a second connection: " + e.getMessage());
            }
            throw e;
        }
        long start = System.nanoTime();
        try {
            NativeMemory.assertBackTo(testBaseline);
        } catch (AssertionError e) {
            if (current != null) {
                REPORT.memory(current.fault(), loop + "native memory NOT back to baseline after "
                        + FaultCase.msSince(start) + " ms: " + (Crt.nativeMemoryInUse() - testBaseline.bytes())
                        + " bytes in " + (Crt.nativeAllocationCount() - testBaseline.allocations())
                        + " allocations more");
            }
            throw e;
        }
        if (current != null) {
            REPORT.memory(current.fault(), loop + "native memory back to baseline in " + FaultCase.msSince(start)
                    + " ms");
        }
    }

    /**
     * A connection on the class's client connects, receives a frame, and closes cleanly, with every callback
     * on the same event-loop thread as before. Returns that thread's name.
     */
    static String secondConnectionWorks() {
        String thread = secondConnectionWorks(client);
        if (loopThread != null) {
            assertEquals(loopThread, thread, "the same event-loop thread serves the second connection");
        }
        return thread;
    }

    /** As {@link #secondConnectionWorks()}, on {@code resources}' loop. */
    static String secondConnectionWorks(ClientResources resources) {
        try (ScriptedServer server = ScriptedServer.start()) {
            CallbackRecorder rec = new CallbackRecorder();
            WebSocket.connect(rec.options("127.0.0.1", server.port(), resources.bootstrap()).build());
            ScriptedServer.Conn c = server.awaitConnection();
            c.handshake(ScriptedServer.frame(true, ReceivedFrame.TEXT, Hex.ascii("alive")));
            WebSocket ws = rec.awaitWebSocket();
            assertEquals("alive", rec.awaitFrames(1).get(0).text(), "a frame on the second connection");
            ws.close();
            assertEquals(1000, c.awaitClose().closeCode());
            c.sendFrame(true, ReceivedFrame.CLOSE, ScriptedServer.closePayload(1000, ""));
            assertNull(rec.awaitShutdown().exception(), "the second connection closes cleanly");
            rec.assertGrammar();
            return ((CallbackRecorder.Setup) rec.events().get(0)).thread();
        }
    }

    @AfterAll
    static void closeTheClientAndWriteTheReport() {
        try {
            client.close();
            NativeMemory.assertBackTo(classBaseline);
        } finally {
            System.out.print(REPORT.text());
            System.out.println("Fault report written to " + REPORT.write());
        }
    }
}
