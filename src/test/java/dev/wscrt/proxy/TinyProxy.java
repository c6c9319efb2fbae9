package dev.wscrt.proxy;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real HTTP proxy for the tests and the demo: Debian's tinyproxy, run in the foreground
 * ({@code tinyproxy -d -c <conf>}) on 127.0.0.1 with a free port, its configuration, log and pid file
 * in a temporary directory of its own. It allows CONNECT only to the ports given
 * ({@link Builder#connectPorts}), optionally requires basic authentication, and is stopped (process
 * destroyed, directory removed) by {@link #close()}. Every wait is bounded.
 *
 * <pre>{@code
 * try (TinyProxy proxy = TinyProxy.builder().connectPorts(server.port()).basicAuth("user", "pass").start()) {
 *     ... new HttpProxyOptions().withHost(proxy.host()).withPort(proxy.port()) ...
 * }
 * }</pre>
 *
 * {@link #ensureInstalled()} finds the executable, running {@value #INSTALL_SCRIPT} once when it is
 * not on the PATH. Thread-safe for the test thread that owns it; not shared.
 */
public final class TinyProxy implements AutoCloseable {

    /** The project's install script, relative to the repository root. */
    public static final String INSTALL_SCRIPT = "scripts/install-tinyproxy.sh";

    private static final long START_TIMEOUT_MS = 10_000;
    private static final long STOP_TIMEOUT_MS = 5_000;
    private static final long INSTALL_TIMEOUT_MS = 300_000;
    private static final int START_ATTEMPTS = 3;

    private static Optional<Path> installed; // guarded by TinyProxy.class
    private static String installFailure = ""; // guarded by TinyProxy.class

    private final Path directory;
    private final Process process;
    private final int port;

    private TinyProxy(Path directory, Process process, int port) {
        this.directory = directory;
        this.process = process;
        this.port = port;
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * The tinyproxy executable: from the PATH (or /usr/bin, /usr/sbin), else after running
     * {@value #INSTALL_SCRIPT} once per JVM. Empty when it is still not there.
     */
    public static synchronized Optional<Path> ensureInstalled() {
        if (installed != null) {
            return installed;
        }
        Optional<Path> found = find();
        if (found.isEmpty()) {
            installFailure = runInstallScript();
            found = find();
        }
        installed = found;
        return found;
    }

    /** Why the last install attempt failed ("" when it did not run or did not fail). */
    public static synchronized String installFailure() {
        return installFailure;
    }

    /** The message for a missing tinyproxy, naming the script. */
    public static String missingMessage() {
        return "tinyproxy is not installed and " + INSTALL_SCRIPT + " could not install it"
                + (installFailure().isEmpty() ? "" : " (" + installFailure() + ")")
                + "; run " + INSTALL_SCRIPT + " (needs apt-get and root) to enable the proxy tests";
    }

    private static Optional<Path> find() {
        List<String> dirs = new ArrayList<>();
        String path = System.getenv("PATH");
        if (path != null) {
            dirs.addAll(List.of(path.split(File.pathSeparator)));
        }
        dirs.addAll(List.of("/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin"));
        for (String dir : dirs) {
            if (dir.isEmpty()) {
                continue;
            }
            Path candidate = Paths.get(dir, "tinyproxy");
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    /** Runs the install script; returns "" on success, else what went wrong. */
    private static String runInstallScript() {
        Optional<Path> script = locateScript();
        if (script.isEmpty()) {
            return INSTALL_SCRIPT + " not found above " + Paths.get("").toAbsolutePath();
        }
        try {
            Path output = Files.createTempFile("install-tinyproxy", ".log");
            try {
                Process p = new ProcessBuilder("bash", script.get().toString())
                        .redirectErrorStream(true)
                        .redirectOutput(output.toFile())
                        .start();
                if (!p.waitFor(INSTALL_TIMEOUT_MS, TimeUnit.MILLISECONDS)) {
                    p.destroyForcibly();
                    return INSTALL_SCRIPT + " did not finish within " + INSTALL_TIMEOUT_MS / 1000 + " s";
                }
                String text = Files.readString(output, StandardCharsets.UTF_8).trim();
                return p.exitValue() == 0 ? "" : INSTALL_SCRIPT + " exited with " + p.exitValue()
                        + (text.isEmpty() ? "" : ": " + text);
            } finally {
                Files.deleteIfExists(output);
            }
        } catch (IOException e) {
            return "cannot run " + INSTALL_SCRIPT + ": " + e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted while running " + INSTALL_SCRIPT;
        }
    }

    private static Optional<Path> locateScript() {
        for (Path dir = Paths.get("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve(INSTALL_SCRIPT);
            if (Files.isRegularFile(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    public String host() {
        return "127.0.0.1";
    }

    public int port() {
        return port;
    }

    /** tinyproxy's log so far (its LogFile plus what it printed), for assertions and failure messages. */
    public String log() {
        StringBuilder sb = new StringBuilder();
        for (String name : List.of("tinyproxy.log", "stdout.txt")) {
            Path file = directory.resolve(name);
            try {
                if (Files.exists(file)) {
                    sb.append(Files.readString(file, StandardCharsets.UTF_8));
                }
            } catch (IOException e) {
                sb.append("(cannot read ").append(file).append(": ").append(e).append(")\n");
            }
        }
        return sb.toString();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** Stops tinyproxy (SIGTERM, then SIGKILL after 5 s) and removes its directory. */
    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(STOP_TIMEOUT_MS, TimeUnit.MILLISECONDS)) {
                process.destroyForcibly().waitFor(STOP_TIMEOUT_MS, TimeUnit.MILLISECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        deleteRecursively(directory);
    }

    private static void deleteRecursively(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException e) {
            // A leftover temp directory is harmless.
        }
    }

    @Override
    public String toString() {
        return "tinyproxy on " + host() + ":" + port;
    }

    /** The proxy's configuration. */
    public static final class Builder {
        private final List<Integer> connectPorts = new ArrayList<>();
        private String user;
        private String password;
        private int maxClients = 64;
        private int timeoutSeconds = 60;

        private Builder() {
        }

        /** Ports CONNECT may reach; CONNECT to any other port is refused with 403. At least one. */
        public Builder connectPorts(int... ports) {
            for (int p : ports) {
                connectPorts.add(p);
            }
            return this;
        }

        /** Require basic authentication with this user and password (no spaces). */
        public Builder basicAuth(String user, String password) {
            if (user.isEmpty() || password.isEmpty() || (user + password).matches(".*\\s.*")) {
                throw new IllegalArgumentException("tinyproxy's BasicAuth needs a user and password without spaces");
            }
            this.user = user;
            this.password = password;
            return this;
        }

        public Builder maxClients(int value) {
            maxClients = value;
            return this;
        }

        /** tinyproxy's idle timeout of a connection. */
        public Builder timeoutSeconds(int value) {
            timeoutSeconds = value;
            return this;
        }

        /**
         * Starts tinyproxy and waits (at most 10 s) until it accepts connections. Throws
         * {@link IllegalStateException} when it is not installed (see {@link #ensureInstalled()}) or
         * does not come up (with its log).
         */
        public TinyProxy start() {
            if (connectPorts.isEmpty()) {
                throw new IllegalArgumentException("give the ports CONNECT may reach");
            }
            Path executable = ensureInstalled().orElseThrow(() -> new IllegalStateException(missingMessage()));
            String lastLog = "";
            for (int attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
                Path dir = createDirectory();
                int port = freePort();
                try {
                    Files.writeString(dir.resolve("tinyproxy.conf"), config(dir, port), StandardCharsets.UTF_8);
                    Process p = new ProcessBuilder(executable.toString(), "-d", "-c",
                            dir.resolve("tinyproxy.conf").toString())
                            .directory(dir.toFile())
                            .redirectErrorStream(true)
                            .redirectOutput(dir.resolve("stdout.txt").toFile())
                            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                            .start();
                    TinyProxy proxy = new TinyProxy(dir, p, port);
                    if (awaitAccepting(proxy)) {
                        return proxy;
                    }
                    lastLog = proxy.log();
                    proxy.close();
                } catch (IOException e) {
                    deleteRecursively(dir);
                    throw new UncheckedIOException("cannot start " + executable, e);
                }
            }
            throw new IllegalStateException("tinyproxy did not accept connections within " + START_TIMEOUT_MS
                    + " ms (" + START_ATTEMPTS + " attempts); last log:\n" + lastLog);
        }

        private String config(Path dir, int port) {
            StringBuilder c = new StringBuilder();
            c.append("# written by dev.wscrt.proxy.TinyProxy\n");
            c.append("Listen 127.0.0.1\n");
            c.append("Port ").append(port).append('\n');
            c.append("Allow 127.0.0.1\n");
            c.append("Timeout ").append(timeoutSeconds).append('\n');
            c.append("MaxClients ").append(maxClients).append('\n');
            c.append("Syslog Off\n");
            c.append("LogLevel Info\n");
            c.append("LogFile \"").append(dir.resolve("tinyproxy.log")).append("\"\n");
            c.append("PidFile \"").append(dir.resolve("tinyproxy.pid")).append("\"\n");
            c.append("DisableViaHeader Yes\n");
            for (int p : connectPorts) {
                c.append("ConnectPort ").append(p).append('\n');
            }
            if (user != null) {
                c.append("BasicAuth ").append(user).append(' ').append(password).append('\n');
            }
            return c.toString();
        }

        private static Path createDirectory() {
            try {
                return Files.createTempDirectory("wscrt-tinyproxy");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        private static int freePort() {
            try (ServerSocket s = new ServerSocket()) {
                s.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0));
                return s.getLocalPort();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot find a free port on 127.0.0.1", e);
            }
        }

        /** Polls a TCP connect until it succeeds; false when the process died or the time ran out. */
        private static boolean awaitAccepting(TinyProxy proxy) {
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(START_TIMEOUT_MS);
            while (System.nanoTime() - deadline < 0) {
                if (!proxy.isAlive()) {
                    return false;
                }
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress(proxy.host(), proxy.port), 200);
                    return true;
                } catch (IOException e) {
                    try {
                        Thread.sleep(20);
                    } catch (InterruptedException ie) {
                        Thread.currentThread().interrupt();
                        return false;
                    }
                }
            }
            return false;
        }
    }
}
