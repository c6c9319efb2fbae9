package dev.wscrt.cli;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The shaded {@code wscrt-cli.jar} (system property {@code wscrt.cli.jar}) run as a process by
 * {@code java -jar}, as a user runs it; standard output and error go to files in {@code dir}.
 */
final class WscrtProcess {
    /** The longest any run may take; a run that takes longer is killed and fails the test. */
    static final Duration TIMEOUT = Duration.ofSeconds(30);

    /** How a run ended. */
    record Result(int exitStatus, byte[] stdoutBytes, String stderr) {
        String stdout() {
            return new String(stdoutBytes, StandardCharsets.UTF_8);
        }

        @Override
        public String toString() {
            return "exit " + exitStatus + ", stdout [" + stdout() + "], stderr [" + stderr + "]";
        }
    }

    private final Process process;
    private final Path stdout;
    private final Path stderr;

    private WscrtProcess(Process process, Path stdout, Path stderr) {
        this.process = process;
        this.stdout = stdout;
        this.stderr = stderr;
    }

    /** Starts the client with these arguments; its standard input stays open until {@link #closeStdin}. */
    static WscrtProcess start(Path dir, String... args) {
        String jar = System.getProperty("wscrt.cli.jar");
        if (jar == null || !Files.isRegularFile(Paths.get(jar))) {
            fail("the client jar is missing (system property wscrt.cli.jar: " + jar + "); run after package");
        }
        List<String> command = new ArrayList<>();
        command.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-jar");
        command.add(jar);
        command.addAll(List.of(args));
        try {
            Path out = Files.createTempFile(dir, "stdout", ".txt");
            Path err = Files.createTempFile(dir, "stderr", ".txt");
            Process process = new ProcessBuilder(command)
                    .redirectOutput(out.toFile())
                    .redirectError(err.toFile())
                    .start();
            return new WscrtProcess(process, out, err);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Runs the client with {@code stdin} as its whole standard input, to its end. */
    static Result run(Path dir, String stdin, String... args) {
        WscrtProcess p = start(dir, args);
        p.write(stdin);
        p.closeStdin();
        return p.await();
    }

    void write(String text) {
        try {
            OutputStream in = process.getOutputStream();
            in.write(text.getBytes(StandardCharsets.UTF_8));
            in.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    void closeStdin() {
        try {
            process.getOutputStream().close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Asks the process to end (SIGTERM), as Ctrl-C does. Through its handle: {@code Process.destroy()} also
     * closes the pipe to its standard input, which the client would see as the end of input.
     */
    void terminate() {
        process.toHandle().destroy();
    }

    /** What the process has written to standard error so far. */
    String stderrSoFar() {
        try {
            return Files.readString(stderr);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Waits (at most {@link #TIMEOUT}) for the process to end. */
    Result await() {
        try {
            if (!process.waitFor(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                fail("wscrt did not end within " + TIMEOUT + "; stderr: " + Files.readString(stderr));
            }
            return new Result(process.exitValue(), Files.readAllBytes(stdout), Files.readString(stderr));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } finally {
            process.destroyForcibly();
        }
    }
}
