package dev.wscrt.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs a group of {@link ChildFaultCases} in a child JVM (this JVM's java and class path) behind a
 * command prefix ({@code unshare ...}, {@code prlimit ...}), bounded in time, and keeps its result lines;
 * each goes to the shared {@link FaultReport}.
 */
final class ChildJvm {

    private final Map<String, String[]> results = new HashMap<>();
    private final String output;

    private ChildJvm(String output) {
        this.output = output;
    }

    /**
     * Runs {@code prefix... java -cp <class path> ChildFaultCases group}; fails when the child does not end
     * within {@code timeoutS} or exits non-zero (with its output).
     */
    static ChildJvm run(List<String> prefix, String group, long timeoutS) throws IOException, InterruptedException {
        Path output = Files.createTempFile("wscrt-child-faults", ".txt");
        try {
            List<String> command = new ArrayList<>(prefix);
            command.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xss1m",
                    "-cp", System.getProperty("java.class.path"), ChildFaultCases.class.getName(), group));
            Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile()).start();
            boolean done = p.waitFor(timeoutS, TimeUnit.SECONDS);
            if (!done) {
                p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
            ChildJvm child = new ChildJvm(Files.readString(output, StandardCharsets.UTF_8));
            for (String line : child.output.split("\n")) {
                String[] fields = line.split("\t", -1);
                if (fields.length == 6 && fields[0].equals("RESULT")) {
                    child.results.put(fields[1], fields);
                    FaultReport.shared().record(Fault.valueOf(fields[1]), fields[4], Long.parseLong(fields[3]),
                            fields[5]);
                }
            }
            assertTrue(done, "the child JVM (" + group + ") did not finish within " + timeoutS + " s:\n"
                    + child.output);
            assertEquals(0, p.exitValue(), "the child JVM failed: " + command + "\n" + child.output);
            return child;
        } finally {
            Files.deleteIfExists(output);
        }
    }

    String output() {
        return output;
    }

    /** Fails unless the child reported {@code fault} as passed. */
    void assertPassed(Fault fault) {
        String[] r = results.get(fault.name());
        assertNotNull(r, fault + " did not report; child output:\n" + output);
        assertEquals("PASS", r[2], fault + ": " + r[4] + " / " + r[5] + "\nchild output:\n" + output);
    }
}
