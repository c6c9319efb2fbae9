package dev.wscrt.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wscrt.testing.Await;
import dev.wscrt.testing.CallbackRecorder;
import dev.wscrt.testing.ClientResources;
import dev.wscrt.testing.Hex;
import dev.wscrt.testing.ReceivedFrame;
import dev.wscrt.testing.ScriptedServer;
import dev.wscrt.websocket.WebSocket;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * Resource exhaustion: the descriptor limit reached during connect (in a child JVM under
 * {@code prlimit}, see {@link ChildFaultCases}), callbacks that throw {@link OutOfMemoryError} or
 * {@link StackOverflowError} (real ones, made by the JVM on the event-loop thread), and 10,000
 * connections on the single event-loop thread of this class's client. See {@link Fault} for what each
 * case owes.
 */
class ExhaustionFaultTest extends FaultTestBase {

    private static final int MANY = 10_000;

    @Test
    void descriptorLimitDuringConnectFailsSetupWithTooManyFilesAndLaterConnectsWork() throws Exception {
        begin(Fault.DESCRIPTOR_LIMIT_DURING_CONNECT);
        ChildJvm.run(List.of("prlimit", "--nofile=512:512"), "descriptors", 120)
                .assertPassed(Fault.DESCRIPTOR_LIMIT_DURING_CONNECT);
    }

    @Test
    void outOfMemoryErrorInACallbackShutsThatConnectionDownAndTheLoopServesTheOthers() {
        callbackThatThrows(Fault.CALLBACK_OUT_OF_MEMORY, payload -> {
            long[] impossible = new long[Integer.MAX_VALUE]; // the JVM's own OutOfMemoryError
            impossible[0] = payload.length;
        }, OutOfMemoryError.class);
    }

    @Test
    void stackOverflowErrorInACallbackShutsThatConnectionDownAndTheLoopServesTheOthers() {
        callbackThatThrows(Fault.CALLBACK_STACK_OVERFLOW, payload -> recurse(payload.length),
                StackOverflowError.class);
    }

    private static int recurse(int n) {
        return recurse(n + 1) + 1;
    }

    /**
     * Connection A's payload callback runs {@code body}, which throws {@code expected}; connection B shares
     * A's event-loop thread and goes on after A's death.
     */
    private void callbackThatThrows(Fault fault, Consumer<byte[]> body, Class<? extends Throwable> expected) {
        try (ScriptedServer server = ScriptedServer.start()) {
            CallbackRecorder other = new CallbackRecorder();
            WebSocket.connect(other.options("127.0.0.1", server.port(), client.bootstrap()).build());
            ScriptedServer.Conn b = server.awaitConnection();
            b.handshake();
            WebSocket bystander = other.awaitWebSocket();

            FaultCase fc = begin(fault);
            AtomicReference<String> thread = new AtomicReference<>();
            fc.recorder().onPayload(d -> {
                thread.set(Thread.currentThread().getName());
                byte[] bytes = new byte[d.data().remaining()];
                d.data().get(bytes);
                body.accept(bytes);
            });
            ScriptedServer.Conn a = fc.connect(server);
            a.handshake();
            WebSocket failing = fc.awaitWebSocket();
            fc.faultNow();
            a.sendFrame(true, ReceivedFrame.BINARY, Hex.pattern(16, 1));
            fc.verify();
            Throwable cause = fc.recorder().awaitShutdown().exception().getCause();
            assertInstanceOf(expected, cause, "the shutdown exception's cause is what the callback threw");
            int sentBeforeTheEnd = a.awaitEof().length; // the client ends the TCP connection
            failing.close();
            assertEquals(((CallbackRecorder.Setup) other.events().get(0)).thread(), thread.get(),
                    "both connections on one event-loop thread");

            b.sendFrame(true, ReceivedFrame.TEXT, Hex.ascii("still here"));
            assertEquals("still here", other.awaitFrames(1).get(0).text(), "the other connection goes on");
            bystander.close();
            assertEquals(1000, b.awaitClose().closeCode());
            b.sendFrame(true, ReceivedFrame.CLOSE, ScriptedServer.closePayload(1000, ""));
            assertNull(other.awaitShutdown().exception());
            fc.report("cause " + cause.getClass().getSimpleName() + (cause.getMessage() == null ? ""
                    : " (" + cause.getMessage() + ")") + "; the server got " + sentBeforeTheEnd + " bytes, then the "
                    + "end of the connection; the other connection on the loop received a frame afterwards and "
                    + "closed cleanly");
        }
    }

    @Test
    void tenThousandConnectionsOnOneEventLoopThreadEchoAndClose() throws Exception {
        FaultCase fc = begin(Fault.TEN_THOUSAND_ON_ONE_LOOP);
        long limit = openFileLimit();
        assertTrue(limit >= MANY + 1000, "the open file limit " + limit + " is too low for " + MANY
                + " connections; raise it (ulimit -n)");
        // A client of its own: 10,000 descriptors grow the loop's fd-indexed table, which the loop keeps until its
        // group closes; closing this client gives the memory back, so the case's baseline stays exact.
        Process server = startEchoServerProcess();
        try (ClientResources own = ClientResources.create(1)) {
            int port = readPort(server);
            AtomicInteger setups = new AtomicInteger();
            AtomicInteger failures = new AtomicInteger();
            AtomicInteger echoes = new AtomicInteger();
            AtomicInteger shutdowns = new AtomicInteger();
            AtomicInteger cleanShutdowns = new AtomicInteger();
            java.util.Map<String, Integer> shutdownErrors = new java.util.concurrent.ConcurrentSkipListMap<>();
            WebSocket[] sockets = new WebSocket[MANY];
            long start = System.nanoTime();
            for (int i = 0; i < MANY; i++) {
                int index = i;
                WebSocket.connect(dev.wscrt.websocket.WebSocketConnectOptions.builder()
                        .host("127.0.0.1").port(port).bootstrap(own.bootstrap()).handshakeTimeoutMs(60_000)
                        .handshakeRequest(WebSocket.createHandshakeRequest("127.0.0.1:" + port, "/"))
                        .onConnectionSetup(d -> {
                            if (d.exception() == null) {
                                sockets[index] = d.websocket();
                                setups.incrementAndGet();
                                d.websocket().sendFrame(dev.wscrt.websocket.Opcode.TEXT, "n" + index);
                            } else {
                                failures.incrementAndGet();
                            }
                        })
                        .onIncomingFrameComplete(d -> {
                            if (d.exception() == null && d.frame().opcode() == dev.wscrt.websocket.Opcode.TEXT) {
                                echoes.incrementAndGet();
                            }
                        })
                        .onConnectionShutdown(d -> {
                            if (d.exception() == null) {
                                cleanShutdowns.incrementAndGet();
                            } else {
                                shutdownErrors.merge(FaultReport.shortName(d.exception()), 1, Integer::sum);
                            }
                            shutdowns.incrementAndGet();
                        })
                        .build());
                if (i % 500 == 499) {
                    // Bounded pacing: keep the in-flight handshakes below the server's accept backlog.
                    int target = i + 1 - 1000;
                    Await.until("setups to catch up", java.time.Duration.ofSeconds(60),
                            () -> setups.get() + failures.get() >= target, () -> setups + " set up");
                }
            }
            Await.until(MANY + " setups", java.time.Duration.ofSeconds(120),
                    () -> setups.get() + failures.get() == MANY, () -> setups + " ok, " + failures + " failed");
            Await.until(MANY + " echoes", java.time.Duration.ofSeconds(60), () -> echoes.get() == MANY,
                    () -> echoes + " echoes");
            long upMs = FaultCase.msSince(start);
            assertEquals(0, failures.get(), "no setup fails");
            long closeAt = System.nanoTime();
            // In batches of 500: each close() waits (5 s at most) for the server's CLOSE, and a server in a child
            // JVM on a shared 2-core machine does not answer 10,000 at once within that.
            for (int i = 0; i < MANY; i++) {
                sockets[i].close();
                if (i % 500 == 499) {
                    int target = i + 1;
                    Await.until("the batch's shutdowns", java.time.Duration.ofSeconds(60),
                            () -> shutdowns.get() >= target, () -> shutdowns + " shutdowns");
                }
            }
            Await.until(MANY + " shutdowns", java.time.Duration.ofSeconds(120), () -> shutdowns.get() == MANY,
                    () -> shutdowns + " shutdowns");
            long closeMs = FaultCase.msSince(closeAt);
            Await.sleep(200);
            assertEquals(MANY, shutdowns.get(), "one shutdown each");
            assertEquals(MANY, cleanShutdowns.get(), "every close is clean; errors: " + shutdownErrors);
            java.util.Arrays.fill(sockets, null);
            secondConnectionWorks(own);
            fc.reportAs(MANY + " setups ok, " + echoes + " echoes, " + cleanShutdowns + " clean shutdowns on one "
                    + "event-loop thread; connected and echoed in " + upMs + " ms, closed in " + closeMs + " ms",
                    FaultCase.msSince(start));
        } finally {
            server.getOutputStream().close();
            if (!server.waitFor(10, TimeUnit.SECONDS)) {
                server.destroyForcibly();
            }
        }
    }

    /** The soft limit on open files of this process, from /proc/self/limits. */
    private static long openFileLimit() throws IOException {
        for (String line : java.nio.file.Files.readAllLines(Path.of("/proc/self/limits"))) {
            if (line.startsWith("Max open files")) {
                String soft = line.substring("Max open files".length()).trim().split("\\s+")[0];
                return soft.equals("unlimited") ? Long.MAX_VALUE : Long.parseLong(soft);
            }
        }
        throw new AssertionError("no open file limit in /proc/self/limits");
    }

    /** dev.wscrt.stress.StressServer (a Netty echo server) in a child JVM: its descriptors are its own. */
    private static Process startEchoServerProcess() throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        return new ProcessBuilder(java, "-Xms256m", "-Xmx512m", "-cp", System.getProperty("java.class.path"),
                "dev.wscrt.stress.StressServer").redirectError(ProcessBuilder.Redirect.INHERIT).start();
    }

    private static int readPort(Process server) throws Exception {
        BufferedReader out = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
        String line = CompletableFuture.supplyAsync(() -> {
            try {
                return out.readLine(); // the child prints its port first
            } catch (IOException e) {
                return null;
            }
        }).get(30, TimeUnit.SECONDS);
        assertNotNull(line, "the echo server process said nothing");
        String[] parts = line.trim().split(" ");
        assertTrue(parts.length == 3 && parts[0].equals("PORT"), line);
        return Integer.parseInt(parts[1]);
    }
}
