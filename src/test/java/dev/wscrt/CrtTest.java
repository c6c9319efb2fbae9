package dev.wscrt;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wscrt.io.EventLoopGroup;
import dev.wscrt.testing.Await;
import dev.wscrt.testing.NativeMemory;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The library as a whole: version, native memory accounting, logging, the resource debug list. */
class CrtTest {

    private static NativeMemory.Snapshot baseline;

    @BeforeAll
    static void snapshot() {
        baseline = NativeMemory.snapshot();
    }

    @AfterAll
    static void nativeMemoryIsBackToBaseline() {
        Crt.logToStderr(Crt.LogLevel.NONE);
        NativeMemory.assertBackTo(baseline);
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
    void loggingToStderrAtEveryLevelWorks() {
        try {
            for (Crt.LogLevel level : Crt.LogLevel.values()) {
                Crt.logToStderr(level);
                startAndStopAGroup();
            }
        } finally {
            Crt.logToStderr(Crt.LogLevel.NONE);
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
