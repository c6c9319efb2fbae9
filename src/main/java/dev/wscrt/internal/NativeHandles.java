package dev.wscrt.internal;

import dev.wscrt.CrtResource;
import java.util.function.ToLongFunction;

/**
 * Lets the library's own packages read the native handle of a {@link CrtResource} (to pass it to native
 * code) without a public method that exposes it. {@code CrtResource} installs the accessor when its
 * class initialises.
 *
 * <p>Internal: not part of the API (the module does not export this package).
 */
public final class NativeHandles {
    private static volatile ToLongFunction<CrtResource> access;

    private NativeHandles() {
    }

    /** Called once, by {@code CrtResource}'s static initialiser. */
    public static void setAccess(ToLongFunction<CrtResource> accessor) {
        if (access != null) {
            throw new IllegalStateException("already set");
        }
        access = accessor;
    }

    /** The handle of an open resource; {@link IllegalStateException} once it is closed. */
    public static long of(CrtResource resource) {
        ToLongFunction<CrtResource> accessor = access;
        if (accessor == null) {
            throw new IllegalStateException("CrtResource is not initialised");
        }
        return accessor.applyAsLong(resource);
    }
}
