package dev.wscrt;

/**
 * The native runtime: loads {@code libwscrt-jni.so} once, and exposes its version, the OpenSSL inside it,
 * the tracking allocator's counters and the log configuration.
 *
 * <p>All methods are static and thread-safe. The first use of this class (or of any class with natives)
 * loads the library, which throws {@link UnsatisfiedLinkError} naming the platform found and the platforms
 * supported when the jar has no library for this machine.
 *
 * <p>Native log lines go to the {@link System.Logger} {@value #NATIVE_LOGGER_NAME} from the start, at the
 * level of {@code -Dwscrt.log.level} ({@code WARN} when unset), so SLF4J, Log4j or java.util.logging
 * users see them through their usual bridge; the {@code logTo...} methods choose another sink or level
 * at run time. A sink receives lines from any thread, one at a time.
 */
public final class Crt {
    /** Log levels, most severe first; {@link #NONE} turns logging off. */
    public enum LogLevel {
        /** No native log lines at all. */
        NONE,
        /** Failures the runtime cannot recover from. */
        FATAL,
        /** Failures of an operation (reported to the caller as well). */
        ERROR,
        /** Unexpected conditions that were handled; the default. */
        WARN,
        /** Connection lifecycle events. */
        INFO,
        /** Detail for diagnosing a connection: states, sizes, timings. */
        DEBUG,
        /** Everything, including each I/O event. */
        TRACE
    }

    private static final int SINK_STDERR = 0;
    private static final int SINK_FILE = 1;
    private static final int SINK_SYSTEM_LOGGER = 2;

    /**
     * The system property that sets the level of native log lines sent to the {@code System.Logger}
     * {@value #NATIVE_LOGGER_NAME} from the start: one of the {@link LogLevel} names (or {@code OFF},
     * {@code WARNING}), case-insensitive; {@code WARN} when unset.
     */
    public static final String LOG_LEVEL_PROPERTY = "wscrt.log.level";
    /** The name of the {@code System.Logger} that receives native log lines. */
    public static final String NATIVE_LOGGER_NAME = "dev.wscrt.native";
    private static final LogLevel DEFAULT_LOG_LEVEL = LogLevel.WARN;
    private static final System.Logger LOGGER = System.getLogger(NATIVE_LOGGER_NAME);

    static {
        NativeLoader.load();
        nativeSetLogger(SINK_SYSTEM_LOGGER, null, configuredLogLevel().ordinal());
    }

    /** The level {@link #LOG_LEVEL_PROPERTY} asks for; an unknown value is reported and the default used. */
    private static LogLevel configuredLogLevel() {
        String value = System.getProperty(LOG_LEVEL_PROPERTY);
        if (value == null || value.isBlank()) {
            return DEFAULT_LOG_LEVEL;
        }
        LogLevel level = parseLogLevel(value);
        if (level == null) {
            LOGGER.log(System.Logger.Level.WARNING, "ignoring -D" + LOG_LEVEL_PROPERTY + "=" + value
                    + ": expected one of " + java.util.Arrays.toString(LogLevel.values()) + "; using "
                    + DEFAULT_LOG_LEVEL);
            return DEFAULT_LOG_LEVEL;
        }
        return level;
    }

    /** The level named {@code value} (case-insensitive; OFF and WARNING are accepted too), or null. */
    static LogLevel parseLogLevel(String value) {
        String name = value.trim().toUpperCase(java.util.Locale.ROOT);
        switch (name) {
            case "OFF":
                return LogLevel.NONE;
            case "WARNING":
                return LogLevel.WARN;
            default:
                for (LogLevel level : LogLevel.values()) {
                    if (level.name().equals(name)) {
                        return level;
                    }
                }
                return null;
        }
    }

    private Crt() {
    }

    /**
     * Makes sure the native library is loaded; every class with natives calls this first.
     *
     * @throws UnsatisfiedLinkError if this platform is not supported or the library cannot be loaded
     */
    public static void load() {
        // The static initializer does the work.
    }

    /**
     * The native runtime's version.
     *
     * @return the version, for example {@code 0.1.0}
     */
    public static String version() {
        return nativeVersion();
    }

    /**
     * The OpenSSL inside the native library, as it reports itself, for example
     * {@code "OpenSSL 3.0.19 27 Jan 2026"}. OpenSSL is linked statically with its symbols hidden, so this is
     * the version that serves every wss:// connection, whatever other OpenSSL the process has loaded.
     *
     * @return the OpenSSL version text, never null
     */
    public static String opensslVersion() {
        return nativeOpensslVersion();
    }

    /**
     * Bytes currently allocated by the native runtime (its tracking allocator), OpenSSL's own allocations
     * excepted: the usable size malloc gave each live block ({@code malloc_usable_size}: the request
     * rounded up to malloc's alignment, at most 15 bytes more for blocks of 24 bytes or more). Useful in
     * tests to see that every resource was released.
     *
     * @return the bytes in use now
     */
    public static long nativeMemoryInUse() {
        return nativeMemoryInUse0();
    }

    /**
     * Blocks currently allocated by the native runtime (its tracking allocator).
     *
     * @return the number of live allocations now
     */
    public static long nativeAllocationCount() {
        return nativeAllocationCount0();
    }

    /**
     * Native log lines at {@code level} or more severe go to standard error (file descriptor 2, not
     * {@link System#err}), replacing the current sink.
     *
     * @param level the least severe level written; {@link LogLevel#NONE} turns logging off
     */
    public static void logToStderr(LogLevel level) {
        nativeSetLogger(SINK_STDERR, null, level.ordinal());
    }

    /**
     * Native log lines at {@code level} or more severe are appended to {@code path}, replacing the current
     * sink.
     *
     * @param path  the file to append to, created if missing
     * @param level the least severe level written
     * @throws IllegalArgumentException if {@code path} is null
     * @throws CrtRuntimeException {@code WSCRT_ERROR_FILE_OPEN_FAILURE} if the file cannot be opened
     */
    public static void logToFile(String path, LogLevel level) {
        nativeSetLogger(SINK_FILE, path, level.ordinal());
    }

    /**
     * Native log lines at {@code level} or more severe go to the {@code System.Logger}
     * {@value #NATIVE_LOGGER_NAME} (the default sink), replacing the current sink. Each line is logged at
     * the matching {@link System.Logger.Level}, from the native thread that wrote it.
     *
     * @param level the least severe level passed on
     */
    public static void logToSystemLogger(LogLevel level) {
        nativeSetLogger(SINK_SYSTEM_LOGGER, null, level.ordinal());
    }

    /** Called by the native logger (any thread) when the System.Logger sink is selected. */
    @SuppressWarnings("unused")
    private static void logFromNative(int level, String line) {
        System.Logger.Level javaLevel = switch (level) {
            case 1, 2 -> System.Logger.Level.ERROR;
            case 3 -> System.Logger.Level.WARNING;
            case 4 -> System.Logger.Level.INFO;
            case 5 -> System.Logger.Level.DEBUG;
            default -> System.Logger.Level.TRACE;
        };
        LOGGER.log(javaLevel, line);
    }

    static native String errorName(int errorCode);

    static native String errorMessage(int errorCode);

    private static native String nativeVersion();

    private static native String nativeOpensslVersion();

    private static native long nativeMemoryInUse0();

    private static native long nativeAllocationCount0();

    private static native void nativeSetLogger(int sink, String path, int level);
}
