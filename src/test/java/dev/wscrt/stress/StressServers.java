package dev.wscrt.stress;

import dev.wscrt.loadserver.LoadServerProcess;
import java.io.IOException;
import java.util.List;

/** How the stress runs start the shared {@link dev.wscrt.loadserver.LoadServer}: echo on every path. */
final class StressServers {
    /** Accept queue length asked for; the kernel caps it at net.core.somaxconn (4096 here). */
    static final int BACKLOG = 16_384;
    /** The child is a plain echo server; 512 MiB holds 10,000 Netty connections with room to spare. */
    private static final List<String> CHILD_HEAP = List.of("-Xms512m", "-Xmx512m");

    private StressServers() {
    }

    /**
     * Starts the server in a child JVM with two event-loop threads (the machine has two cores and the client
     * needs its share of them), NIO when {@code STRESS_NO_EPOLL=1}.
     */
    static LoadServerProcess start() throws IOException {
        boolean epoll = !"1".equals(System.getenv("STRESS_NO_EPOLL"));
        return LoadServerProcess.start(CHILD_HEAP, epoll
                ? List.of("--threads=2", "--backlog=" + BACKLOG)
                : List.of("--threads=2", "--backlog=" + BACKLOG, "--no-epoll"), null);
    }
}
