package dev.wscrt.websocket;

import dev.wscrt.CrtRuntimeException;
import java.util.ArrayDeque;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.function.Consumer;

/**
 * The completion callbacks of one connection's sends in flight, in the order their frames were queued.
 * Native code holds no reference per send: it counts the sends that ended (they end in send order) and
 * {@link #complete} runs that many callbacks from the front, on the event-loop thread. A sender queues the
 * callback and the frame together under this object's monitor, so that the two orders agree; the event-loop
 * thread takes callbacks without the monitor, so a sender (which may be compressing a large message) never
 * holds it up. Also the connection's {@link SendQueueWaiters}, made by the first wait.
 */
final class SendCompletions {
    private static final OnSendFrameCompleteData WRITTEN = new OnSendFrameCompleteData(null);

    // Made by the first send (under the monitor), so that a connection that never sends holds no queue; read by
    // the event-loop thread only after a send was counted, so it sees the queue that send's callback joined.
    private volatile ConcurrentLinkedDeque<Consumer<OnSendFrameCompleteData>> pending;
    // Event-loop thread only: set while callbacks run; runs reported meanwhile (count << 32 | error code) wait,
    // in a queue made the first time that happens (rare: a callback that fails the connection).
    private boolean delivering;
    private ArrayDeque<Long> runsReportedMeanwhile;
    // Made by the first whenQueuedBytesAtMost that has to wait, under the monitor; ended with the connection.
    private volatile SendQueueWaiters waiters;
    private boolean ended; // guarded by this

    /** The connection's waiters for room in its send queue, made on first use (ended already if it has). */
    SendQueueWaiters waiters() {
        SendQueueWaiters w = waiters;
        if (w == null) {
            synchronized (this) {
                w = waiters;
                if (w == null) {
                    w = new SendQueueWaiters();
                    if (ended) {
                        w.end();
                    }
                    waiters = w;
                }
            }
        }
        return w;
    }

    /**
     * Upcall: the send queue came down to the mark armed and holds {@code queuedBytes}; returns the next mark
     * to arm, -1 for none (see {@link SendQueueWaiters#drained}).
     */
    long queueDrained(long queuedBytes) {
        SendQueueWaiters w = waiters;
        return w == null ? -1 : w.drained(queuedBytes);
    }

    /** The connection shut down (event-loop thread, before the shutdown callback): every wait ends. */
    void end() {
        SendQueueWaiters w;
        synchronized (this) {
            ended = true;
            w = waiters;
        }
        if (w != null) {
            w.end();
        }
    }

    /** Queues the callback of a frame about to be queued; the caller holds this object's monitor. */
    void add(Consumer<OnSendFrameCompleteData> callback) {
        ConcurrentLinkedDeque<Consumer<OnSendFrameCompleteData>> queue = pending;
        if (queue == null) {
            queue = new ConcurrentLinkedDeque<>();
            pending = queue;
        }
        queue.addLast(callback);
    }

    /** Takes back the callback just added when its frame was refused; the caller holds the monitor. */
    void removeLast() {
        pending.pollLast(); // made by the add() this undoes
    }

    /**
     * Upcall: the next {@code count} sends ended, with {@code errorCode} (0 = written). A callback that throws
     * is logged; the connection goes on (as in awscrt, only setup and frame callbacks fail it). Sends that end
     * while these callbacks run (a callback that fails the connection) are reported after them, in order.
     */
    void complete(int count, int errorCode) {
        if (delivering) {
            if (runsReportedMeanwhile == null) {
                runsReportedMeanwhile = new ArrayDeque<>();
            }
            runsReportedMeanwhile.add((long) count << 32 | (errorCode & 0xFFFF_FFFFL));
            return;
        }
        delivering = true;
        try {
            run(count, errorCode);
            Long next;
            while (runsReportedMeanwhile != null && (next = runsReportedMeanwhile.poll()) != null) {
                run((int) (next >>> 32), next.intValue());
            }
        } finally {
            delivering = false;
        }
    }

    private void run(int count, int errorCode) {
        ConcurrentLinkedDeque<Consumer<OnSendFrameCompleteData>> queue = pending;
        for (int i = 0; i < count && queue != null; i++) {
            Consumer<OnSendFrameCompleteData> callback = queue.pollFirst();
            if (callback == null) {
                return; // not reached: only sends whose callback was queued are counted
            }
            OnSendFrameCompleteData data =
                    errorCode == 0 ? WRITTEN : new OnSendFrameCompleteData(new CrtRuntimeException(errorCode));
            WebSocketCallbacks.runQuietly(callback, data);
        }
    }
}
