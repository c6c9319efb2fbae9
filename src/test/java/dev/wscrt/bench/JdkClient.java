package dev.wscrt.bench;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The JDK side: {@link java.net.http.WebSocket} from one shared {@link HttpClient} (its default
 * executor), demand requested once as {@code Long.MAX_VALUE}. The JDK allows one outstanding data send
 * at a time, so senders wait for the previous send's future (without a thread hop when it is already
 * complete).
 */
final class JdkClient implements BenchClient {
    private static final long SETUP_TIMEOUT_SECONDS = 10;
    private static final long CLOSE_TIMEOUT_SECONDS = 5;

    private final HttpClient http = HttpClient.newHttpClient();

    @Override
    public String name() {
        return "JDK";
    }

    /** Listener base: counts, records the end, never blocks. */
    private abstract static class Base implements WebSocket.Listener {
        final CountDownLatch finished = new CountDownLatch(1);
        final CountDownLatch closed = new CountDownLatch(1);
        volatile String failure;
        volatile boolean closedEarly;
        long t0;
        long t1;
        long messages;
        long bytes;
        final StringBuilder text = new StringBuilder();

        @Override
        public void onOpen(WebSocket ws) {
            t0 = System.nanoTime();
            ws.request(Long.MAX_VALUE);
        }

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            text.append(data);
            if (last) {
                t1 = System.nanoTime();
                finished.countDown();
            }
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
            if (finished.getCount() > 0) {
                closedEarly = true;
            }
            closed.countDown();
            finished.countDown();
            return null;
        }

        @Override
        public void onError(WebSocket ws, Throwable error) {
            if (failure == null) {
                failure = "onError: " + Benchmark.describe(error);
            }
            closed.countDown();
            finished.countDown();
        }
    }

    /** Connects to ws://127.0.0.1:{portAndPath}, e.g. "4711/echo". */
    private WebSocket connect(String portAndPath, Base listener) throws InterruptedException {
        try {
            return http.newWebSocketBuilder()
                    .connectTimeout(java.time.Duration.ofSeconds(SETUP_TIMEOUT_SECONDS))
                    .buildAsync(URI.create("ws://127.0.0.1:" + portAndPath), listener)
                    .get(SETUP_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
            listener.failure = "setup failed: " + (e.getCause() != null ? e.getCause() : e);
            return null;
        }
    }

    private static String close(WebSocket ws, Base listener) throws InterruptedException {
        if (ws == null) {
            return null;
        }
        try {
            if (!ws.isOutputClosed()) {
                ws.sendClose(WebSocket.NORMAL_CLOSURE, "").get(CLOSE_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            }
            if (!listener.closed.await(CLOSE_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                ws.abort();
                return "no close answer within 5 s";
            }
        } catch (ExecutionException | TimeoutException e) {
            ws.abort();
        }
        ws.abort();
        return null;
    }

    private static String describeEnd(Base l) {
        if (l.failure != null) {
            return l.failure;
        }
        if (l.closedEarly) {
            return "connection closed early";
        }
        return null;
    }

    @Override
    public Run receive(int port, int size, long count, long timeoutNanos) throws Exception {
        Base l = new Base() {
            @Override
            public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
                bytes += data.remaining();
                if (last) {
                    messages++;
                }
                return null;
            }
        };
        WebSocket ws = connect(port + "/blast?size=" + size + "&count=" + count, l);
        if (ws == null) {
            return new Run(0, 0, 0, null, l.failure);
        }
        boolean done = l.finished.await(timeoutNanos, TimeUnit.NANOSECONDS);
        long now = System.nanoTime();
        String endProblem = l.t1 != 0 ? null : describeEnd(l);
        if (!done) {
            // The listener thread may still be counting: these reads are a snapshot, good enough for a rate.
            long messages = l.messages;
            long bytes = l.bytes;
            ws.abort();
            String timedOut = "timed out after " + TimeUnit.NANOSECONDS.toSeconds(timeoutNanos) + " s with "
                    + messages + "/" + count + " messages";
            if (l.failure != null) {
                return new Run(now - l.t0, messages, bytes, null, timedOut + "; " + l.failure);
            }
            return Run.timeLimited(now - l.t0, messages, bytes, null, timedOut);
        }
        String closeProblem = close(ws, l);
        if (endProblem != null) {
            return new Run(now - l.t0, l.messages, l.bytes, null, "after " + l.messages + "/" + count
                    + " messages: " + endProblem);
        }
        String problem = closeProblem;
        if (l.messages != count || l.bytes != count * size) {
            problem = "expected " + count + " messages / " + count * size + " bytes, got " + l.messages + " / "
                    + l.bytes;
        }
        return new Run(l.t1 - l.t0, l.messages, l.bytes, null, problem);
    }

    @Override
    public Run send(int port, int size, long count, long timeoutNanos) throws Exception {
        Base l = new Base() {
        };
        WebSocket ws = connect(port + "/sink", l);
        if (ws == null) {
            return new Run(0, 0, 0, null, l.failure);
        }
        ByteBuffer payload = ByteBuffer.allocateDirect(size);
        for (int i = 0; i < size; i++) {
            payload.put(i, (byte) (i * 17 + 3));
        }
        long start = System.nanoTime();
        long deadline = start + timeoutNanos;
        String problem = null;
        boolean timedOut = false;
        long sent = 0;
        CompletableFuture<WebSocket> previous = CompletableFuture.completedFuture(ws);
        try {
            while (sent < count && l.failure == null && !l.closedEarly) {
                if (!previous.isDone()) {
                    previous.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                }
                previous = ws.sendBinary(payload.duplicate(), true);
                sent++;
            }
            previous.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (l.failure == null && !l.closedEarly) {
                ws.sendText("stats", true).get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                if (!l.finished.await(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                    timedOut = true;
                }
            }
        } catch (TimeoutException e) {
            timedOut = true;
        } catch (ExecutionException e) {
            problem = "send failed: " + Benchmark.describe(e.getCause());
        }
        long now = System.nanoTime();
        long written = sent - (previous.isDone() ? 0 : 1);
        if (timedOut) {
            String timedOutText = "timed out after " + TimeUnit.NANOSECONDS.toSeconds(timeoutNanos) + " s with "
                    + sent + "/" + count + " sent, " + written + " written"
                    + (sent == count ? ", no answer to \"stats\"" : "");
            ws.abort();
            if (l.failure == null && !l.closedEarly) {
                return Run.timeLimited(now - start, written, written * size, null, timedOutText);
            }
            problem = timedOutText;
        }
        if (problem == null && l.t1 == 0) {
            problem = describeEnd(l);
        } else if (problem != null && l.failure != null) {
            problem = problem + "; " + l.failure;
        }
        if (problem != null) {
            ws.abort();
            return new Run(now - start, written, written * size, null, problem);
        }
        String closeProblem = close(ws, l);
        long[] stats = WscrtClient.parseStats(l.text.toString());
        if (stats == null || stats[0] != count || stats[1] != count * size) {
            problem = "server counted '" + l.text + "', expected '" + count + " " + count * size + "'";
        } else {
            problem = closeProblem;
        }
        return new Run(l.t1 - start, stats == null ? 0 : stats[0], stats == null ? 0 : stats[1], null, problem);
    }

    @Override
    public Run echo(int port, int size, int warmup, int count, long timeoutNanos) throws Exception {
        byte[] bytesOut = new byte[size];
        for (int i = 0; i < size; i++) {
            bytesOut[i] = (byte) ('a' + i % 26);
        }
        ByteBuffer payload = ByteBuffer.wrap(bytesOut).asReadOnlyBuffer();
        long[] latencies = new long[count];
        int total = warmup + count;
        final class EchoListener extends Base {
            volatile int done;
            volatile long sentAt;
            int received;
            CompletableFuture<WebSocket> lastSend = CompletableFuture.completedFuture(null);

            @Override
            public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
                long now = System.nanoTime();
                received += data.remaining();
                if (!last) {
                    return null;
                }
                if (received != size) {
                    failure = "echo of " + received + " bytes, expected " + size;
                    finished.countDown();
                    return null;
                }
                received = 0;
                int i = done;
                if (i >= warmup) {
                    latencies[i - warmup] = now - sentAt;
                }
                done = ++i;
                if (i < total) {
                    sentAt = System.nanoTime();
                    sendNext(ws);
                } else {
                    t1 = now;
                    finished.countDown();
                }
                return null;
            }

            /**
             * Synchronized because the first call comes from the main thread and the echo may be handled
             * before that call has stored {@code lastSend}: the JDK allows one pending send only.
             */
            synchronized void sendNext(WebSocket ws) {
                if (lastSend.isDone()) {
                    lastSend = ws.sendBinary(payload.duplicate(), true);
                } else {
                    lastSend = lastSend.thenCompose(w -> w.sendBinary(payload.duplicate(), true));
                }
                lastSend.whenComplete((w, t) -> {
                    if (t != null && failure == null) {
                        failure = "send failed: " + t;
                        finished.countDown();
                    }
                });
            }
        }
        EchoListener l = new EchoListener();
        WebSocket ws = connect(port + "/echo", l);
        if (ws == null) {
            return new Run(0, 0, 0, null, l.failure);
        }
        long start = System.nanoTime();
        l.sentAt = start;
        l.sendNext(ws);
        boolean finished = l.finished.await(timeoutNanos, TimeUnit.NANOSECONDS);
        long now = System.nanoTime();
        String problem = null;
        if (!finished) {
            problem = "timed out after " + TimeUnit.NANOSECONDS.toSeconds(timeoutNanos) + " s with " + l.done + "/"
                    + total + " round trips";
        } else if (l.t1 == 0) {
            problem = "after " + l.done + "/" + total + " round trips: " + describeEnd(l);
        }
        String closeProblem = problem == null ? close(ws, l) : null;
        if (problem != null) {
            ws.abort();
        } else {
            problem = closeProblem;
        }
        int measured = Math.max(0, l.done - warmup);
        if (!finished && l.failure == null) {
            return Run.timeLimited(now - start, measured, (long) measured * size,
                    java.util.Arrays.copyOf(latencies, measured), problem);
        }
        return new Run((l.t1 != 0 ? l.t1 : now) - start, measured, (long) measured * size,
                problem == null ? latencies : null, problem);
    }
}
