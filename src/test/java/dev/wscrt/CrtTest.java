package dev.wscrt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wscrt.io.EventLoopGroup;
import dev.wscrt.testing.Await;
import dev.wscrt.testing.NativeMemory;
import dev.wscrt.testing.NativeMemoryCheck;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The library as a whole: version, native memory accounting, logging, the resource debug list. */
class CrtTest {

    @RegisterExtension
    static final NativeMemoryCheck nativeMemory = new NativeMemoryCheck();

    /** Runs before the native memory check: the logger is back to silent. */
    @AfterAll
    static void stopLogging() {
        Crt.logToStderr(Crt.LogLevel.NONE);
    }

    private static void startAndStopAGroup() {
        EventLoopGroup group = new EventLoopGroup(1);
        group.close();
        Await.get("group shutdown", group.shutdownCompleteFuture());
    }

    @Test
    void versionIsAVersionString() {
        String v = Crt.version();
        assertNotNull(v);
        assertTrue(v.matches("\\d+\\.\\d+.*"), "version '" + v + "'");
    }

    @Test
    void nativeMemoryRisesWithAResourceAndFallsBackAfterItsRelease() {
        NativeMemory.Snapshot before = NativeMemory.snapshot();
        EventLoopGroup group = new EventLoopGroup(1);
        assertTrue(Crt.nativeAllocationCount() > before.allocations(), "a group allocates native memory");
        assertTrue(Crt.nativeMemoryInUse() > before.bytes());
        group.close();
        Await.get("group shutdown", group.shutdownCompleteFuture());
        NativeMemory.assertBackTo(before);
    }

    @Test
    void opensslVersionNamesTheOpenssl3InsideTheLibrary() {
        assertTrue(Crt.opensslVersion().matches("OpenSSL 3\\.\\d+\\.\\d+.*"), Crt.opensslVersion());
    }

    @Test
    void byDefaultNativeLogLinesGoToTheSystemLoggerFromWarnOnly(@TempDir Path dir) throws Exception {
        String output = runGroupInAFreshJvm(dir);
        assertTrue(output.contains("done"), output);
        assertFalse(output.contains("[DEBUG]") || output.contains("[INFO]"), "nothing below WARN: " + output);
    }

    @Test
    void theLogLevelPropertyChoosesTheLevelOfNativeLinesInTheSystemLogger(@TempDir Path dir) throws Exception {
        String output = runGroupInAFreshJvm(dir, "-Dwscrt.log.level=debug");
        assertTrue(output.contains("FINE: [DEBUG]"), "DEBUG lines through java.util.logging: " + output);
        assertFalse(output.contains("[TRACE]"), output);
    }

    @Test
    void anUnknownLogLevelIsReportedAndTheDefaultUsed(@TempDir Path dir) throws Exception {
        String output = runGroupInAFreshJvm(dir, "-Dwscrt.log.level=LOUD");
        assertTrue(output.contains("ignoring -Dwscrt.log.level=LOUD: expected one of [NONE, FATAL, ERROR, WARN, INFO,"
                + " DEBUG, TRACE]; using WARN"), output);
        assertFalse(output.contains("[DEBUG]"), output);
    }

    @Test
    void logLevelNamesAreReadCaseInsensitivelyWithJdkSynonyms() {
        assertEquals(Crt.LogLevel.NONE, Crt.parseLogLevel("off"));
        assertEquals(Crt.LogLevel.WARN, Crt.parseLogLevel("Warning"));
        assertEquals(Crt.LogLevel.TRACE, Crt.parseLogLevel(" trace "));
        assertNull(Crt.parseLogLevel("verbose"));
    }

    @Test
    void nativeLogLinesGoToStderrAtTheChosenLevelOnly() throws Exception {
        try (CrtProbe probe = CrtProbe.start(List.of(), "group", "DEBUG")) {
            String output = probe.awaitExit();
            assertTrue(output.contains("[DEBUG]"), output);
            assertFalse(output.contains("[TRACE]"), output);
        }
    }

    /** Starts and stops a group in a fresh JVM whose java.util.logging shows every level; returns its output. */
    private static String runGroupInAFreshJvm(Path dir, String... options) throws Exception {
        Path config = dir.resolve("logging.properties");
        Files.writeString(config, "handlers=java.util.logging.ConsoleHandler\n"
                + "java.util.logging.ConsoleHandler.level=ALL\n"
                + "dev.wscrt.native.level=ALL\n");
        List<String> jvmOptions = new java.util.ArrayList<>(List.of("-Djava.util.logging.config.file=" + config));
        jvmOptions.addAll(List.of(options));
        try (CrtProbe probe = CrtProbe.start(jvmOptions, "group")) {
            return probe.awaitExit();
        }
    }

    @Test
    void loggingToTheSystemLoggerDeliversNativeLogLines() {
        Logger jul = Logger.getLogger("dev.wscrt.native");
        List<LogRecord> records = new CopyOnWriteArrayList<>();
        Handler handler = new Handler() {
            @Override
            public void publish(LogRecord record) {
                records.add(record);
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        Level oldLevel = jul.getLevel();
        jul.setLevel(Level.ALL);
        jul.addHandler(handler);
        try {
            Crt.logToSystemLogger(Crt.LogLevel.TRACE);
            startAndStopAGroup();
            Await.until("a native log line in the System.Logger", () -> !records.isEmpty());
            Crt.logToSystemLogger(Crt.LogLevel.NONE);
            Await.sleep(100);
            int count = records.size();
            startAndStopAGroup();
            Await.sleep(100);
            assertTrue(records.size() == count, "level NONE logs nothing, got " + records.subList(count,
                    records.size()).stream().map(LogRecord::getMessage).toList());
        } finally {
            Crt.logToSystemLogger(Crt.LogLevel.NONE);
            jul.removeHandler(handler);
            jul.setLevel(oldLevel);
        }
    }

    @Test
    void openResourcesListsAnUnclosedResourceWithItsCreationStack() {
        Assumptions.assumeTrue(Boolean.getBoolean("wscrt.debugResources"), "needs -Dwscrt.debugResources=true");
        EventLoopGroup group = new EventLoopGroup(1);
        try {
            assertTrue(CrtResource.openResources().stream().anyMatch(r -> r.contains("EventLoopGroup")
                    && r.contains("openResourcesListsAnUnclosedResourceWithItsCreationStack")),
                    "listed with class and creation stack: " + CrtResource.openResources());
        } finally {
            group.close();
        }
        assertFalse(CrtResource.openResources().stream()
                .anyMatch(r -> r.contains("openResourcesListsAnUnclosedResourceWithItsCreationStack")),
                "gone from the list once closed");
        Await.get("group shutdown", group.shutdownCompleteFuture());
    }

    @Test
    void nativeLogLinesGoToAFileAtTheChosenLevel(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws java.io.IOException {
        java.nio.file.Path file = dir.resolve("wscrt.log");
        try {
            Crt.logToFile(file.toString(), Crt.LogLevel.DEBUG);
            startAndStopAGroup();
            Await.until("a DEBUG line from the event loop in the file", () -> {
                try {
                    return java.nio.file.Files.readString(file).contains("[DEBUG]");
                } catch (java.io.IOException e) {
                    return false;
                }
            });
            assertFalse(java.nio.file.Files.readString(file).contains("[TRACE]"), "TRACE is above DEBUG");
        } finally {
            Crt.logToStderr(Crt.LogLevel.NONE);
        }
    }
}
