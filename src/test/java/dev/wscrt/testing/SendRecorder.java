package dev.wscrt.testing;

import dev.wscrt.websocket.OnSendFrameCompleteData;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * Collects {@code sendFrame} completions: hand out {@link #callback()} per send, then await them.
 * Each callback must run exactly once; a second run is recorded as an error.
 */
public final class SendRecorder {

    /** One completion: the exception (null on success) and the thread that ran it. */
    public record Completion(int index, Throwable exception, String thread) {
    }

    private final AtomicInteger issued = new AtomicInteger();
    private final List<Completion> completions = new ArrayList<>(); // guarded by this
    private final List<String> errors = new ArrayList<>(); // guarded by this

    /** A fresh completion callback for one send. */
    public Consumer<OnSendFrameCompleteData> callback() {
        int index = issued.getAndIncrement();
        boolean[] ran = new boolean[1];
        return d -> {
            synchronized (SendRecorder.this) {
                if (ran[0]) {
                    errors.add("send " + index + " completed twice");
                }
                ran[0] = true;
                completions.add(new Completion(index, d.exception(), Thread.currentThread().getName()));
                SendRecorder.this.notifyAll();
            }
        };
    }

    public int issued() {
        return issued.get();
    }

    public synchronized List<Completion> completions() {
        return List.copyOf(completions);
    }

    public synchronized int completed() {
        return completions.size();
    }

    public synchronized long failed() {
        return completions.stream().filter(c -> c.exception() != null).count();
    }

    /** Waits until every callback handed out so far has run; checks none ran twice. */
    public List<Completion> awaitAll() {
        int n = issued();
        Await.until(n + " send completion(s)", Await.DEFAULT_TIMEOUT, () -> completed() >= n,
                () -> completed() + " of " + n + " completed, " + failed() + " failed");
        synchronized (this) {
            if (!errors.isEmpty()) {
                throw new AssertionError(errors.toString());
            }
        }
        return completions();
    }

    /** Waits for all and checks that every one succeeded. */
    public void awaitAllSucceeded() {
        for (Completion c : awaitAll()) {
            if (c.exception() != null) {
                throw new AssertionError("send " + c.index() + " failed: " + CallbackRecorder.describe(c.exception()),
                        c.exception());
            }
        }
    }
}
