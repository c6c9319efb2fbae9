package dev.wscrt.stress;

import dev.wscrt.loadserver.LoadServer;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * The stress runs' echo server as a command of its own (scripts/tsan.sh starts it): the shared
 * {@link LoadServer} with the stress settings ({@link StressServers}), announced as
 * {@code "PORT <port> <transport>"} on standard output; serves until standard input closes.
 * Option: {@code --no-epoll}.
 */
public final class StressServer {
    private StressServer() {
    }

    public static void main(String[] args) throws Exception {
        List<String> options = new ArrayList<>(List.of("--threads=2", "--backlog=" + StressServers.BACKLOG));
        if (List.of(args).contains("--no-epoll")) {
            options.add("--no-epoll");
        }
        try (LoadServer server = LoadServer.start(LoadServer.Options.parse(options))) {
            System.out.println("PORT " + server.port() + " " + server.transport());
            System.out.flush();
            drain(System.in);
        }
        System.exit(0);
    }

    private static void drain(InputStream in) throws IOException {
        byte[] sink = new byte[256];
        while (in.read(sink) >= 0) {
            // wait for EOF: the parent is done or gone
        }
    }
}
