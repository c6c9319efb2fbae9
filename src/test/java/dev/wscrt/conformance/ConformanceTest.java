package dev.wscrt.conformance;

import static org.junit.jupiter.api.Assertions.fail;

import dev.wscrt.Crt;
import dev.wscrt.testing.ClientResources;
import dev.wscrt.testing.NativeMemory;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The RFC 6455 conformance suite: every case of {@link ConformanceSuite} as a dynamic test. A FAILED case
 * fails its test; NON-STRICT passes and is listed with its reason in the report, written to
 * {@code target/conformance/report.md} (and {@code report.txt}, one line per case) when the class ends.
 * The class also fails if native memory is not back to its baseline after the suite.
 *
 * <p>{@code -Dwscrt.conformance.only=6.4,7.1} runs only the cases whose ids start with those prefixes;
 * {@code -Dwscrt.conformance.log=/tmp/wscrt.log} writes the native log (TRACE) there.
 */
class ConformanceTest {
    private static final Path REPORT_DIR = Path.of("target", "conformance");
    private static final List<CaseResult> RESULTS = Collections.synchronizedList(new ArrayList<>());

    private static NativeMemory.Snapshot baseline;
    private static ClientResources resources;
    private static ConformanceRunner runner;
    private static long startNanos;

    @BeforeAll
    static void startClient() {
        String log = System.getProperty("wscrt.conformance.log", "");
        if (!log.isEmpty()) {
            Crt.logToFile(log, Crt.LogLevel.TRACE);
        }
        baseline = NativeMemory.snapshot();
        resources = ClientResources.create(1);
        runner = new ConformanceRunner(resources.bootstrap());
        startNanos = System.nanoTime();
    }

    @TestFactory
    Stream<DynamicNode> conformance() {
        List<String> only = onlyPrefixes();
        return ConformanceSuite.families().stream().map(family -> DynamicContainer.dynamicContainer(
                family.number() + " " + family.title(),
                family.cases().stream()
                        .filter(c -> only.isEmpty() || only.stream().anyMatch(p -> c.id().startsWith(p)))
                        .map(c -> DynamicTest.dynamicTest(c.id() + " " + c.description(), () -> runCase(c)))));
    }

    private static void runCase(ConformanceCase spec) {
        CaseResult result = runner.run(spec);
        RESULTS.add(result);
        System.out.println(result.line());
        if (result.verdict() == Verdict.FAILED) {
            fail(result.id() + " FAILED: " + result.detail());
        }
    }

    @AfterAll
    static void nativeMemoryBackToBaselineAndReport() throws IOException {
        long suiteMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
        runner.close();
        resources.close();
        AssertionError leak = null;
        try {
            NativeMemory.assertBackTo(baseline);
        } catch (AssertionError e) {
            leak = e;
        }
        List<CaseResult> results;
        synchronized (RESULTS) {
            results = List.copyOf(RESULTS);
        }
        Map<Verdict, Integer> counts = ConformanceReport.counts(results);
        List<String> header = new ArrayList<>();
        header.add("Library: wscrt native runtime " + Crt.version() + " built from " + sourceVersion() + "; Java "
                + System.getProperty("java.version") + "; " + Runtime.getRuntime().availableProcessors() + " CPUs.");
        header.add("Cases: " + results.size() + " (" + counts.get(Verdict.OK) + " OK, " + counts.get(Verdict.NON_STRICT)
                + " NON-STRICT, " + counts.get(Verdict.FAILED) + " FAILED)"
                + (onlyPrefixes().isEmpty() ? "" : "; partial run: " + onlyPrefixes()) + ".");
        header.add(String.format("Suite runtime: %.1f s (cases run one at a time; each case bounded, 5 s for all but "
                + "families 9, 12 and 13).", suiteMillis / 1000.0));
        header.add("Native memory after the suite: " + (leak == null ? "back to the baseline (" + baseline.allocations()
                + " allocations, " + baseline.bytes() + " bytes)." : "NOT back to the baseline: " + leak.getMessage()));
        header.add(LimitsCases.SCALE_NOTE);
        header.add(CompressionCases.SCALE_NOTE + " Families 12 and 13 drive the message API with permessage-deflate"
                + " on (the frame API does not offer it) against the suite's own deflate server; their data sets are"
                + " generated (Autobahn ships files), and 13.7 makes Autobahn's first offer alone (wscrt makes one).");
        ConformanceReport.write(REPORT_DIR.resolve("report.md"), REPORT_DIR.resolve("report.txt"),
                ConformanceSuite.families(), results, header);
        if (leak != null) {
            throw leak;
        }
    }

    /** The commit the library was built from, and whether its sources had uncommitted changes (git, 5 s at most). */
    private static String sourceVersion() {
        String commit = git("rev-parse", "--short", "HEAD");
        if (commit.isEmpty()) {
            return "an unknown commit";
        }
        String changes = git("status", "--porcelain", "--", "crt", "src/main", "src/native", "CMakeLists.txt");
        return "git " + commit + (changes.isEmpty() ? "" : " with uncommitted library changes");
    }

    private static String git(String... args) {
        List<String> command = new ArrayList<>(List.of("git"));
        command.addAll(List.of(args));
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                return "";
            }
            String out = new String(process.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            return process.exitValue() == 0 ? out.trim() : "";
        } catch (IOException e) {
            return "";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "";
        }
    }

    private static List<String> onlyPrefixes() {
        String only = System.getProperty("wscrt.conformance.only", "").trim();
        return only.isEmpty() ? List.of() : List.of(only.split("\\s*,\\s*"));
    }
}
