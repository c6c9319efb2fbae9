package dev.wscrt.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;

/** Where and how a benchmark run took place, for the report. */
final class Environment {
    String loadAtStart;
    String loadAtEnd;
    String date;
    String pinning;
    /** The CPU the server is pinned to; -1 when nothing is pinned. The clients have the others. */
    int serverCpu = -1;
    String server;
    String cipher;
    /** The TLS implementation of the server's wss throughput port. */
    String dataTls = "none";
    String serverErrors;
    CipherCeiling cipherCeiling;
    double seconds;
    final int cpus = Runtime.getRuntime().availableProcessors();

    static Environment atStart(Benchmark.Config config) {
        Environment e = new Environment();
        e.loadAtStart = loadAverage();
        e.date = ZonedDateTime.now().format(DateTimeFormatter.RFC_1123_DATE_TIME);
        return e;
    }

    static String loadAverage() {
        try {
            String[] parts = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return parts[0] + " " + parts[1] + " " + parts[2];
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }

    static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).trim();
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux, or not readable
        }
        return System.getProperty("os.arch");
    }

    static String java() {
        return System.getProperty("java.vm.name") + " "
                + System.getProperty("java.runtime.version", System.getProperty("java.version"));
    }
}
