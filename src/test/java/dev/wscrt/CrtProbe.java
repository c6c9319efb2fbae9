package dev.wscrt;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wscrt.io.EventLoopGroup;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The library in a fresh JVM, for what a running test JVM cannot show: how the library is extracted and
 * loaded, and where native log lines go by default. {@link #start} runs {@link #main} in a child JVM
 * with this class path; the child loads the library, prints {@code loaded <version>}, then in mode
 * {@code wait} blocks until its stdin closes, or in mode {@code group} starts and stops one event loop
 * group (which logs at DEBUG) and exits.
 */
final class CrtProbe implements AutoCloseable {
    private static final long TIMEOUT_SECONDS = 30;
    private final Process process;
    private final ByteArrayOutputStream output = new ByteArrayOutputStream();
    private final Thread reader;

    private CrtProbe(Process process) {
        this.process = process;
        this.reader = new Thread(this::drain, "crt-probe-output");
        reader.setDaemon(true);
        reader.start();
    }

    public static void main(String[] args) throws Exception {
        String mode = args.length > 0 ? args[0] : "wait";
        if (args.length > 1) {
            Crt.logToStderr(Crt.LogLevel.valueOf(args[1]));
        }
        System.out.println("loaded " + Crt.version());
        System.out.flush();
        if (mode.equals("group")) {
            EventLoopGroup group = new EventLoopGroup(1);
            group.close();
            group.shutdownCompleteFuture().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
            System.out.println("done");
            return;
        }
        while (System.in.read() >= 0) {
            // Bounded by the test, which closes stdin or kills this JVM.
        }
    }

    /** Starts a child JVM in {@code mode} ("wait" or "group", then an optional stderr log level). */
    static CrtProbe start(List<String> jvmOptions, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xss1m",
                "-cp", System.getProperty("java.class.path")));
        command.addAll(jvmOptions);
        command.add(CrtProbe.class.getName());
        command.addAll(List.of(args));
        return new CrtProbe(new ProcessBuilder(command).redirectErrorStream(true).start());
    }

    /** Waits (bounded) until the child says it loaded the library. */
    CrtProbe awaitLoaded() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_SECONDS);
        while (!output().contains("loaded ")) {
            if (!process.isAlive() || System.nanoTime() > deadline) {
                throw new AssertionError("the probe JVM did not load the library: " + output());
            }
            Thread.sleep(10);
        }
        return this;
    }

    /** Waits (bounded) for the child to exit; returns everything it printed. */
    String awaitExit() throws InterruptedException {
        assertTrue(process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS), "the probe JVM exits: " + output());
        reader.join(TimeUnit.SECONDS.toMillis(TIMEOUT_SECONDS));
        assertTrue(process.exitValue() == 0, "the probe JVM exits with 0: " + output());
        return output();
    }

    /** The line of the child's /proc/pid/maps that maps the library. */
    String mapsLine() throws IOException {
        return Files.readAllLines(Path.of("/proc", Long.toString(process.pid()), "maps")).stream()
                .filter(l -> l.contains("libwscrt-jni")).findFirst()
                .orElseThrow(() -> new AssertionError("no libwscrt-jni mapped in the probe JVM"));
    }

    /** The path of the mapped library, ending in " (deleted)" when it was unlinked. */
    String mappedLibrary() throws IOException {
        String line = mapsLine();
        return line.substring(line.indexOf('/'));
    }

    /** SIGKILL, then waits (bounded) for the child to be gone. */
    void kill9() throws InterruptedException {
        process.destroyForcibly();
        assertTrue(process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS), "the probe JVM exits on SIGKILL");
    }

    String output() {
        synchronized (output) {
            return output.toString(StandardCharsets.UTF_8);
        }
    }

    private void drain() {
        byte[] buffer = new byte[4096];
        try (InputStream in = process.getInputStream()) {
            for (int n; (n = in.read(buffer)) >= 0; ) {
                synchronized (output) {
                    output.write(buffer, 0, n);
                }
            }
        } catch (IOException e) {
            // The child is gone.
        }
    }

    @Override
    public void close() throws Exception {
        process.getOutputStream().close();
        if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        }
    }
}
