package dev.wscrt;

import dev.wscrt.internal.NativeHandles;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.ref.Cleaner;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongConsumer;

/**
 * A Java object that owns a native handle. {@link #close()} releases it (idempotent, any thread). A
 * resource that becomes unreachable without {@code close()} is released by a {@link Cleaner} whose action
 * captures only the handle and a static release function, never the resource itself.
 *
 * <p>Subclasses are thread-safe. Whoever creates a resource owns it and should close it; objects built on
 * a resource (a bootstrap on a group, a connection on a bootstrap) keep what they use alive on the native
 * side, so closing in any order is safe.
 *
 * <p>With {@code -Dwscrt.debugResources=true}, {@link #openResources()} lists every resource still open
 * with the stack that created it, and the list is printed to standard error when the JVM exits.
 */
public abstract class CrtResource implements AutoCloseable {
    private static final Cleaner CLEANER = Cleaner.create(runnable -> {
        Thread thread = new Thread(runnable, "wscrt-cleaner");
        thread.setDaemon(true);
        return thread;
    });
    private static final boolean DEBUG = Boolean.getBoolean("wscrt.debugResources");
    private static final Map<Release, String> OPEN = new ConcurrentHashMap<>();

    static {
        Crt.load();
        NativeHandles.setAccess(CrtResource::nativeHandle);
        if (DEBUG) {
            Runtime.getRuntime().addShutdownHook(new Thread(CrtResource::reportOpenResources, "wscrt-resource-report"));
        }
    }

    private static void reportOpenResources() {
        List<String> open = openResources();
        if (!open.isEmpty()) {
            System.err.println("wscrt: " + open.size() + " native resource(s) still open at shutdown:");
            open.forEach(System.err::println);
        }
    }

    private Release release;
    private Cleaner.Cleanable cleanable;

    /** A resource without a native handle yet; the subclass constructor calls {@link #acquireNativeHandle}. */
    protected CrtResource() {
    }

    /**
     * Takes ownership of {@code handle}; {@code releaser} (a static function: it must not capture this
     * object) frees it exactly once, on {@link #close()} or when this object becomes unreachable.
     *
     * @param handle   the native handle, owned from now on
     * @param releaser frees {@code handle}; called once, on any thread
     * @throws IllegalStateException if a handle was already set
     */
    protected final void acquireNativeHandle(long handle, LongConsumer releaser) {
        if (release != null) {
            throw new IllegalStateException("native handle already set");
        }
        release = new Release(handle, releaser);
        if (DEBUG) {
            OPEN.put(release, describeCreation());
        }
        cleanable = CLEANER.register(this, release);
    }

    private String describeCreation() {
        StringBuilder text = new StringBuilder(getClass().getName()).append(" created at");
        for (StackTraceElement element : new Throwable().getStackTrace()) {
            text.append("\n\tat ").append(element);
        }
        return text.toString();
    }

    /**
     * The native handle.
     *
     * @return the handle given to {@link #acquireNativeHandle}, still owned by this object
     * @throws IllegalStateException once closed
     */
    protected final long nativeHandle() {
        Release current = release;
        if (current == null || current.released) {
            throw new IllegalStateException(getClass().getSimpleName() + " is closed");
        }
        return current.handle;
    }

    /**
     * Whether the native handle was released.
     *
     * @return true once {@link #close()} ran (or the handle was never set)
     */
    public boolean isClosed() {
        Release current = release;
        return current == null || current.released;
    }

    /** Releases the native handle. Idempotent and safe from any thread. */
    @Override
    public void close() {
        if (cleanable != null) {
            cleanable.clean();
        }
    }

    /**
     * Resources still open, each with its class and the stack that created it; only tracked with
     * {@code -Dwscrt.debugResources=true}.
     *
     * @return a snapshot, empty when tracking is off
     */
    public static List<String> openResources() {
        return new ArrayList<>(OPEN.values());
    }

    private static final class Release implements Runnable {
        private static final VarHandle RELEASED;

        static {
            try {
                RELEASED = MethodHandles.lookup().findVarHandle(Release.class, "released", boolean.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        final long handle;
        final LongConsumer releaser;
        // Set once, through RELEASED (an AtomicBoolean would be one more object per resource).
        volatile boolean released;

        Release(long handle, LongConsumer releaser) {
            this.handle = handle;
            this.releaser = releaser;
        }

        @Override
        public void run() {
            if (RELEASED.compareAndSet(this, false, true)) {
                OPEN.remove(this);
                releaser.accept(handle);
            }
        }
    }
}
