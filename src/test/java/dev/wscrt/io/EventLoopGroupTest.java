package dev.wscrt.io;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wscrt.testing.Await;
import dev.wscrt.testing.ClientResources;
import dev.wscrt.testing.NativeMemory;
import dev.wscrt.testing.NettyWebSocketServer;
import dev.wscrt.websocket.WebSocket;
import dev.wscrt.websocket.WebSocketConnectOptions;
import dev.wscrt.websocket.WebSocketConnection;
import dev.wscrt.websocket.WebSocketListener;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Event loop groups, resolvers and bootstraps: start and stop (also from one of the group's own
 * threads), and release by the Cleaner when dropped without close().
 */
class EventLoopGroupTest {

    private static NativeMemory.Snapshot baseline;

    @BeforeAll
    static void snapshot() {
        ClientBootstrap.getOrCreateStaticDefault(); // lives for the whole JVM: not a leak of this class
        baseline = NativeMemory.snapshot();
    }

    @AfterAll
    static void nativeMemoryIsBackToBaseline() {
        NativeMemory.assertBackTo(baseline);
    }

    @Test
    void groupStartsAndStops() {
        EventLoopGroup group = new EventLoopGroup(2);
        assertFalse(group.isClosed());
        assertFalse(group.shutdownCompleteFuture().isDone(), "not shut down while open");
        group.close();
        assertTrue(group.isClosed());
        Await.get("group shutdown", group.shutdownCompleteFuture());
        assertDoesNotThrow(group::close, "close is idempotent");
        assertTrue(group.shutdownCompleteFuture().isDone());
    }

    @Test
    void groupWithTheDefaultThreadCountStartsAndStops() {
        EventLoopGroup group = new EventLoopGroup(0);
        group.close();
        Await.get("group shutdown", group.shutdownCompleteFuture());
    }

    @Test
    void manyGroupsStartAndStopWithoutLeaking() {
        NativeMemory.Snapshot before = NativeMemory.snapshot();
        for (int i = 0; i < 20; i++) {
            try (EventLoopGroup group = new EventLoopGroup(1 + i % 3);
                 HostResolver resolver = new HostResolver(group, 8);
                 ClientBootstrap bootstrap = new ClientBootstrap(group, resolver)) {
                assertFalse(bootstrap.isClosed());
            }
        }
        NativeMemory.assertBackTo(before);
    }

    @Test
    void closingTheGroupBeforeItsUsersStillCompletesShutdown() {
        EventLoopGroup group = new EventLoopGroup(1);
        HostResolver resolver = new HostResolver(group, 8);
        ClientBootstrap bootstrap = new ClientBootstrap(group, resolver);
        group.close();
        resolver.close();
        bootstrap.close();
        Await.get("group shutdown", group.shutdownCompleteFuture());
    }

    @Test
    void negativeThreadCountIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new EventLoopGroup(-1));
    }

    @Test
    void busyPollIsZeroByDefaultAndKeptAsGiven() {
        EventLoopGroup plain = new EventLoopGroup(1);
        EventLoopGroup polling = new EventLoopGroup(1, Duration.ofMillis(1));
        EventLoopGroup longest = new EventLoopGroup(1, Duration.ofSeconds(1));
        assertEquals(Duration.ZERO, plain.busyPoll());
        assertEquals(Duration.ofMillis(1), polling.busyPoll());
        for (EventLoopGroup group : new EventLoopGroup[] {plain, polling, longest}) {
            group.close();
            Await.get("group shutdown", group.shutdownCompleteFuture());
        }
    }

    @Test
    void busyPollOutsideZeroToOneSecondIsRefused() {
        for (Duration bad : new Duration[] {null, Duration.ofNanos(-1), Duration.ofSeconds(1).plusNanos(1)}) {
            IllegalArgumentException e =
                    assertThrows(IllegalArgumentException.class, () -> new EventLoopGroup(1, bad), "" + bad);
            assertTrue(e.getMessage().contains("busyPoll"), e.getMessage());
        }
    }

    @Test
    void aBusyPollingGroupCarriesRoundTripsAndShutsDown() {
        try (NettyWebSocketServer server = NettyWebSocketServer.startEcho();
             ClientResources client = ClientResources.create(1, Duration.ofMillis(5))) {
            List<String> echoed = new CopyOnWriteArrayList<>();
            WebSocketConnection ws = connectRecordingEchoes(server, client, echoed, new AtomicLong());
            for (int i = 0; i < 50; i++) { // one at a time: each echo arrives while the loop polls
                Await.get("send", ws.sendText("round trip " + i));
                int expected = i + 1;
                Await.until(expected + " echoes", () -> echoed.size() == expected);
            }
            assertEquals("round trip 49", echoed.get(49));
            Await.get("close", ws.close(1000, ""));
        }
    }

    /**
     * The busy-poll time reaches the native threads: after one round trip, the loop thread of a group that
     * polls for 300 ms spends CPU, and the one of a group that sleeps at once hardly any.
     */
    @Test
    void aPollingLoopThreadSpendsCpuAfterARoundTripAndASleepingOneDoesNot() {
        long sleepingNanos = loopCpuNanosAroundOneRoundTrip(Duration.ZERO);
        long pollingNanos = loopCpuNanosAroundOneRoundTrip(Duration.ofMillis(300));
        assertTrue(sleepingNanos < 20_000_000L, "sleeping loop: " + sleepingNanos + " ns of CPU");
        assertTrue(pollingNanos > 30_000_000L, "polling loop: " + pollingNanos + " ns of CPU");
    }

    /** CPU time of the connection's loop thread from just before one echo until 600 ms later. */
    private static long loopCpuNanosAroundOneRoundTrip(Duration busyPoll) {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        assertTrue(threads.isThreadCpuTimeSupported());
        try (NettyWebSocketServer server = NettyWebSocketServer.startEcho();
             ClientResources client = ClientResources.create(1, busyPoll)) {
            AtomicLong loopThread = new AtomicLong(-1);
            List<String> echoed = new CopyOnWriteArrayList<>();
            WebSocketConnection ws = connectRecordingEchoes(server, client, echoed, loopThread);
            Await.get("send", ws.sendText("first"));
            Await.until("the first echo", () -> echoed.size() == 1);
            Await.sleep(400); // past any poll the first echo started
            long before = threads.getThreadCpuTime(loopThread.get());
            Await.get("send", ws.sendText("second"));
            Await.until("the second echo", () -> echoed.size() == 2);
            Await.sleep(600);
            long after = threads.getThreadCpuTime(loopThread.get());
            Await.get("close", ws.close(1000, ""));
            return after - before;
        }
    }

    /** Connects to {@code server}; each text that arrives is added to {@code echoed}, its thread's id kept. */
    private static WebSocketConnection connectRecordingEchoes(NettyWebSocketServer server, ClientResources client,
                                                              List<String> echoed, AtomicLong loopThread) {
        return Await.get("connect", WebSocketConnection
                .builder(URI.create("ws://" + server.authority() + "/")).bootstrap(client.bootstrap())
                .connect(new WebSocketListener() {
                    @Override
                    public void onText(WebSocketConnection connection, String text) {
                        loopThread.set(Thread.currentThread().getId());
                        echoed.add(text);
                    }
                }));
    }

    @Test
    void closingAGroupFromOneOfItsOwnThreadsCompletesShutdown() {
        try (NettyWebSocketServer server = NettyWebSocketServer.startEcho()) {
            EventLoopGroup group = new EventLoopGroup(1);
            HostResolver resolver = new HostResolver(group, 8);
            ClientBootstrap bootstrap = new ClientBootstrap(group, resolver);
            AtomicReference<String> closedOn = new AtomicReference<>();
            CompletableFuture<Void> closedInCallback = new CompletableFuture<>();
            WebSocket.connect(WebSocketConnectOptions.builder()
                    .host(server.host()).port(server.port()).bootstrap(bootstrap)
                    .handshakeRequest(WebSocket.createHandshakeRequest(server.authority(), "/"))
                    .onConnectionSetup(d -> {
                        // on the group's own event-loop thread
                        try {
                            if (d.websocket() != null) {
                                d.websocket().close();
                            }
                            closedOn.set(Thread.currentThread().getName());
                            bootstrap.close();
                            resolver.close();
                            group.close();
                            closedInCallback.complete(null);
                        } catch (Throwable t) {
                            closedInCallback.completeExceptionally(t);
                        }
                    })
                    .build());
            Await.get("the group closed from its own thread", closedInCallback);
            assertNotEquals(Thread.currentThread().getName(), closedOn.get());
            Await.get("group shutdown requested from its own thread", group.shutdownCompleteFuture());
        }
    }

    @Test
    void droppedGroupIsReleasedByTheCleaner() {
        NativeMemory.Snapshot before = NativeMemory.snapshot();
        createAndDropAGroup();
        NativeMemory.assertBackTo(before);
    }

    @Test
    void droppedGroupResolverAndBootstrapAreReleasedByTheCleaner() {
        NativeMemory.Snapshot before = NativeMemory.snapshot();
        createAndDropAGroupResolverAndBootstrap();
        NativeMemory.assertBackTo(before);
    }

    private static void createAndDropAGroup() {
        EventLoopGroup group = new EventLoopGroup(2);
        assertFalse(group.isClosed());
    }

    private static void createAndDropAGroupResolverAndBootstrap() {
        EventLoopGroup group = new EventLoopGroup(1);
        ClientBootstrap bootstrap = new ClientBootstrap(group, new HostResolver(group, 4));
        assertFalse(bootstrap.isClosed());
    }

    @Test
    void staticDefaultBootstrapIsOneSharedOpenInstance() {
        ClientBootstrap a = ClientBootstrap.getOrCreateStaticDefault();
        ClientBootstrap b = ClientBootstrap.getOrCreateStaticDefault();
        assertSame(a, b);
        assertFalse(a.isClosed());
    }

    @Test
    void nullArgumentsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new HostResolver(null, 4));
        EventLoopGroup group = new EventLoopGroup(1);
        assertThrows(IllegalArgumentException.class, () -> new ClientBootstrap(group, null));
        assertThrows(IllegalArgumentException.class, () -> new ClientBootstrap(null, null));
        group.close();
        Await.get("group shutdown", group.shutdownCompleteFuture());
    }
}
