package dev.wscrt.stress;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A {@link StressServer} in a child JVM (same java, same class path), so that the client JVM's RSS,
 * heap and file descriptors are the client's alone, and the client's GC pauses do not stall the
 * server. The child's standard error goes to ours; closing its standard input ends it.
 *
 * <p>{@link #stats()} is called from one thread at a time (the run's main thread).
 */
final class ServerProcess implements AutoCloseable {
    /** The child is a plain echo server; 512 MiB holds 10,000 Netty connections with room to spare. */
    private static final List<String> CHILD_HEAP = List.of("-Xms512m", "-Xmx512m");
    private static final Duration REPLY_TIMEOUT = Duration.ofSeconds(30);

    private final Process process;
    private final OutputStream commands;
    /** Lines from the child's standard output, filled by a daemon reader thread. */
    private final BlockingQueue<String> replies;
    private final int port;
    private final String transport;

    private ServerProcess(Process process, BlockingQueue<String> replies, int port, String transport) {
        this.process = process;
        this.commands = process.getOutputStream();
        this.replies = replies;
        this.port = port;
        this.transport = transport;
    }

    /** Starts the child and waits (at most 30 s) for its {@code PORT} line. */
    static ServerProcess start() throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java));
        cmd.addAll(CHILD_HEAP);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), StressServer.class.getName()));
        ProcessBuilder builder = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT);
        // A sanitizer runtime preloaded for the client's native library (scripts/stress.sh --asan) is not for
        // the server, which has no native code of ours.
        builder.environment().remove("LD_PRELOAD");
        builder.environment().remove("ASAN_OPTIONS");
        Process process = builder.start();
        BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        BlockingQueue<String> lines = new ArrayBlockingQueue<>(64);
        Thread reader = new Thread(() -> {
            try {
                String line;
                while ((line = out.readLine()) != null) {
                    lines.put(line);
                }
            } catch (IOException | InterruptedException e) {
                // the child is gone; stats() times out and says so
            }
        }, "stress-server-stdout");
        reader.setDaemon(true);
        reader.start();
        String first;
        try {
            first = lines.poll(REPLY_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            first = null;
        }
        String[] parts = first == null ? new String[0] : first.trim().split(" ");
        if (parts.length != 3 || !parts[0].equals("PORT")) {
            process.destroyForcibly();
            throw new IOException("the server process said '" + first + "' instead of 'PORT <port> <transport>'");
        }
        return new ServerProcess(process, lines, Integer.parseInt(parts[1]), parts[2]);
    }

    int port() {
        return port;
    }

    /** "Netty epoll in a child JVM (pid N)". */
    String description() {
        return "Netty " + transport + " in a child JVM (pid " + process.pid() + ")";
    }

    /** The server's counters by name (accepted, open, upgraded, echoed, closes, errors). */
    Map<String, Long> stats() {
        Map<String, Long> stats = new LinkedHashMap<>();
        for (String field : ask("stats", "STATS ").split(" ")) {
            int eq = field.indexOf('=');
            stats.put(field.substring(0, eq), Long.parseLong(field.substring(eq + 1)));
        }
        return stats;
    }

    /** Sends {@code command}, returns the answer line without {@code prefix}. */
    private String ask(String command, String prefix) {
        try {
            commands.write((command + "\n").getBytes(StandardCharsets.US_ASCII));
            commands.flush();
            String line = replies.poll(REPLY_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            if (line == null || !line.startsWith(prefix)) {
                throw new IllegalStateException("the server process did not answer '" + command + "' (got '" + line
                        + "', alive " + process.isAlive() + ")");
            }
            return line.substring(prefix.length()).trim();
        } catch (IOException e) {
            throw new IllegalStateException("the server process is gone: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted asking the server for stats", e);
        }
    }

    /** The distinct exceptions the server saw on connections, with counts ("none" if none). */
    String errors() {
        return ask("errors", "ERRORS ");
    }

    /** Waits (bounded) until the server counts {@code open} TCP connections; returns the last stats. */
    Map<String, Long> awaitOpen(long expected, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        Map<String, Long> stats = stats();
        while (stats.get("open") != expected && System.nanoTime() - deadline < 0) {
            Probe.sleep(100);
            stats = stats();
        }
        return stats;
    }

    @Override
    public void close() {
        try {
            commands.close();
            if (!process.waitFor(15, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (IOException e) {
            process.destroyForcibly();
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
