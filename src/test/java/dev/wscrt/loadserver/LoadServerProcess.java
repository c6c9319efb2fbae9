package dev.wscrt.loadserver;

import dev.wscrt.testing.Await;
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
 * A {@link LoadServer} in a child JVM (same java, same class path), so that the client JVM's RSS, heap
 * and file descriptors are the client's alone and the client's GC pauses do not stall the server;
 * optionally pinned to some CPUs with {@code taskset}. The child's standard error goes to ours; closing
 * its standard input ends it.
 *
 * <p>Its methods are called from one thread at a time.
 */
public final class LoadServerProcess implements AutoCloseable {
    /** A child JVM's start and its answers; stretched by the tests' time scale (a JVM under qemu starts slowly). */
    private static final Duration REPLY_TIMEOUT = Await.scaled(Duration.ofSeconds(30));

    private final Process process;
    private final OutputStream commands;
    /** Lines from the child's standard output, filled by a daemon reader thread. */
    private final BlockingQueue<String> replies;
    private final Map<String, String> ready;
    private final String cpus;

    private LoadServerProcess(Process process, BlockingQueue<String> replies, Map<String, String> ready,
                              String cpus) {
        this.process = process;
        this.commands = process.getOutputStream();
        this.replies = replies;
        this.ready = ready;
        this.cpus = cpus;
    }

    /**
     * Starts the child and waits (at most 30 s, times {@link Await#TIME_SCALE}) for its {@code READY} line.
     *
     * @param jvmOptions  options of the child JVM (heap size)
     * @param serverArgs  {@link LoadServer.Options} arguments
     * @param cpus        CPU list for {@code taskset -c}, or null for no pinning
     */
    public static LoadServerProcess start(List<String> jvmOptions, List<String> serverArgs, String cpus)
            throws IOException {
        List<String> cmd = new ArrayList<>();
        if (cpus != null) {
            cmd.addAll(List.of("taskset", "-c", cpus));
        }
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), LoadServer.class.getName()));
        cmd.addAll(serverArgs);
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
                // the child is gone; ask() times out and says so
            }
        }, "load-server-stdout");
        reader.setDaemon(true);
        reader.start();
        String first;
        try {
            first = lines.poll(REPLY_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            first = null;
        }
        if (first == null || !first.startsWith("READY ")) {
            process.destroyForcibly();
            throw new IOException("the server process said '" + first + "' instead of 'READY ws=.. wss=.. raw=..'"
                    + (first == null ? " within " + REPLY_TIMEOUT.toSeconds() + " s" : ""));
        }
        return new LoadServerProcess(process, lines, fields(first.substring(6)), cpus);
    }

    private static Map<String, String> fields(String text) {
        Map<String, String> map = new LinkedHashMap<>();
        for (String field : text.trim().split(" ")) {
            int eq = field.indexOf('=');
            map.put(field.substring(0, eq), field.substring(eq + 1));
        }
        return map;
    }

    /** The ws:// port. */
    public int port() {
        return Integer.parseInt(ready.get("ws"));
    }

    /** The wss:// port (0 when the server has no certificate). */
    public int tlsPort() {
        return Integer.parseInt(ready.get("wss"));
    }

    /** The wss:// port of that kind (0 when the server has no certificate). */
    public int tlsPort(TlsPort port) {
        return Integer.parseInt(ready.getOrDefault(port.key(), "0"));
    }

    /** The TLS implementation of the {@link TlsPort#DATA} port: "BoringSSL", "JDK" or "none". */
    public String dataTlsProvider() {
        return ready.getOrDefault("data-tls", "none").replace('_', ' ');
    }

    /** The plain TCP port (0 unless started with {@code --raw}). */
    public int rawPort() {
        return Integer.parseInt(ready.get("raw"));
    }

    /** "Netty epoll in a child JVM (pid N, CPU 1)". */
    public String description() {
        return "Netty " + ready.get("transport") + " in a child JVM (pid " + process.pid()
                + (cpus != null ? ", pinned to CPU " + cpus : "") + ")";
    }

    /** The server's counters by name (accepted, open, upgraded, echoed, closes, errors). */
    public Map<String, Long> stats() {
        Map<String, Long> stats = new LinkedHashMap<>();
        fields(ask("stats", "STATS ")).forEach((k, v) -> stats.put(k, Long.parseLong(v)));
        return stats;
    }

    /** The distinct exceptions the server saw on connections, with counts ("none" if none). */
    public String errors() {
        return ask("errors", "ERRORS ");
    }

    /** TLS version and cipher suite of the last wss handshake ("none" before one). */
    public String cipher() {
        return ask("cipher", "CIPHER ");
    }

    /** Waits (bounded) until the server counts {@code open} TCP connections; returns the last stats. */
    public Map<String, Long> awaitOpen(long expected, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        Map<String, Long> stats = stats();
        while (stats.get("open") != expected && System.nanoTime() - deadline < 0) {
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            stats = stats();
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
            throw new IllegalStateException("interrupted asking the server for " + command, e);
        }
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
