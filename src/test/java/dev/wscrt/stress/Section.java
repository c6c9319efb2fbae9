package dev.wscrt.stress;

import dev.wscrt.testing.ClientResources;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * One run's part of the Markdown report: text, tables and the checks that failed. A run builds it on
 * its main thread; {@link #write} puts it in {@code target/stress/<run>.md}, which scripts/stress.sh
 * joins into the report. Also echoes every line to standard output as it is added, so a run that
 * dies half way still leaves its figures in the log.
 */
final class Section {
    private final StringBuilder md = new StringBuilder();
    private final List<String> failures = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();
    private final List<String> observations = new ArrayList<>();

    /** Appended to every title, e.g. " (ASan + UBSan native build)"; set once by {@link Stress#main}. */
    static volatile String titleSuffix = "";

    Section(String title) {
        line("## " + title + titleSuffix);
        line("");
    }

    /** A paragraph (or any Markdown block), followed by a blank line. */
    Section text(String paragraph) {
        line(paragraph);
        line("");
        return this;
    }

    /** A table: the header cells, then rows of cells. */
    Section table(List<String> header, List<List<String>> rows) {
        line("| " + String.join(" | ", header) + " |");
        line("|" + "---|".repeat(header.size()));
        for (List<String> row : rows) {
            line("| " + String.join(" | ", row.stream().map(Section::cell).toList()) + " |");
        }
        line("");
        return this;
    }

    /** Records a failed check; the run then exits 1. */
    void fail(String what) {
        failures.add(what);
        System.out.println("FAILED: " + what);
    }

    /**
     * Closes the run's {@code resources}; a close that fails (it waits, bounded, for the event loop group to
     * shut down) is a failure of this section, said as {@code what} and the reason.
     */
    void closeResources(ClientResources resources, String what) {
        try {
            resources.close();
        } catch (AssertionError e) {
            fail(what + ": " + e.getMessage());
        }
    }

    /** Records a check; fails with {@code what} unless {@code ok}. */
    void check(boolean ok, String what) {
        if (!ok) {
            fail(what);
        }
    }

    /**
     * Unless {@code ok}, records {@code what} as an observation: behaviour worth a reader's attention
     * that the run does not fail on (for example a documented design choice with visible effects).
     */
    void observe(boolean ok, String what) {
        if (!ok) {
            observations.add(what);
            System.out.println("observed: " + what);
        }
    }

    /** A remark for the report's notes list (not a failure). */
    void note(String what) {
        notes.add(what);
        System.out.println("note: " + what);
    }

    boolean failed() {
        return !failures.isEmpty();
    }

    /** The section with its verdict and notes at the end. */
    String markdown() {
        StringBuilder out = new StringBuilder(md);
        if (!observations.isEmpty()) {
            out.append("Observations (reported, not failed):\n\n");
            observations.forEach(o -> out.append("- ").append(o).append('\n'));
            out.append('\n');
        }
        if (!notes.isEmpty()) {
            out.append("Notes:\n\n");
            notes.forEach(n -> out.append("- ").append(n).append('\n'));
            out.append('\n');
        }
        if (failures.isEmpty()) {
            out.append("**Verdict: PASS** (every check above held).\n\n");
        } else {
            out.append("**Verdict: FAIL**\n\n");
            failures.forEach(f -> out.append("- ").append(f).append('\n'));
            out.append('\n');
        }
        return out.toString();
    }

    void write(Path file) throws IOException {
        Files.createDirectories(file.getParent());
        Files.writeString(file, markdown(), StandardCharsets.UTF_8);
    }

    private void line(String text) {
        md.append(text).append('\n');
        System.out.println(text);
    }

    private static String cell(String text) {
        return text.replace("|", "\\|").replace("\n", " ");
    }
}
