package dev.wscrt.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wscrt.testing.ClientResources;
import dev.wscrt.testing.Hex;
import dev.wscrt.testing.NativeMemory;
import dev.wscrt.testing.ReceivedFrame;
import dev.wscrt.testing.ScriptedServer;
import dev.wscrt.websocket.WebSocket;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Fault cases that need a process of their own, run in a child JVM by a test class:
 * <ul>
 *   <li>{@code dns} ({@link DnsFaultTest}): inside private mount and network namespaces
 *       ({@code unshare --mount --net}) whose /etc/hosts maps localhost to both ::1 and 127.0.0.1 and whose
 *       /etc/resolv.conf names {@link ScriptedDns} on 127.0.0.1:53 ({@code options timeout:3 attempts:1}).
 *       Nothing can reach a real DNS server: the namespace has only a loopback interface.</li>
 *   <li>{@code descriptors} ({@link ExhaustionFaultTest}): under {@code prlimit --nofile=N:N}, a limit low
 *       enough to reach within a bounded count of open files.</li>
 * </ul>
 *
 * <p>Each case runs on its own client (an event loop group of one thread, resolver, bootstrap), so that the
 * resolver's cache goes with it: native memory is compared with the baseline taken before the client was
 * made, after a second connection on the same loop worked and the client closed. Prints one line per case,
 * {@code RESULT<TAB>fault<TAB>PASS|FAIL<TAB>elapsed ms<TAB>observed<TAB>after}, and the questions the DNS
 * server saw.
 */
public final class ChildFaultCases {

    private ChildFaultCases() {
    }

    /** A case: runs against {@code fc} and returns the extra observation for the report. */
    private interface Case {
        String run(FaultCase fc) throws Exception;
    }

    /** {@code dns} or {@code descriptors}. */
    public static void main(String[] args) throws Exception {
        switch (args.length == 1 ? args[0] : "") {
            case "dns" -> {
                try (ScriptedDns dns = new ScriptedDns(InetAddress.getByName("127.0.0.1"), 53)) {
                    run(Fault.DNS_NAME_DOES_NOT_RESOLVE, ChildFaultCases::nameThatDoesNotResolve);
                    run(Fault.DNS_SLOW_RESOLVER, ChildFaultCases::slowResolver);
                    run(Fault.DNS_SILENT_RESOLVER, ChildFaultCases::silentResolver);
                    run(Fault.DNS_LOCALHOST_ONE_FAMILY_LISTENING, ChildFaultCases::localhostWithOneFamilyListening);
                    System.out.println("QUESTIONS\t" + dns.questions());
                }
            }
            case "descriptors" -> run(Fault.DESCRIPTOR_LIMIT_DURING_CONNECT, ChildFaultCases::descriptorLimit);
            default -> {
                System.err.println("usage: ChildFaultCases dns|descriptors");
                System.exit(2);
            }
        }
        System.exit(0);
    }

    private static void run(Fault fault, Case c) {
        FaultReport report = new FaultReport();
        String verdict = "PASS";
        String after = "";
        try {
            NativeMemory.Snapshot baseline = NativeMemory.snapshot();
            FaultTestBase.client = ClientResources.create(1);
            try {
                FaultCase fc = new FaultCase(fault, FaultTestBase.client.bootstrap(), report);
                String extra = c.run(fc);
                fc.report(extra);
                FaultTestBase.secondConnectionWorks();
                after = "a second connection on the loop works; ";
            } finally {
                FaultTestBase.client.close();
            }
            long start = System.nanoTime();
            NativeMemory.assertBackTo(baseline);
            after += "native memory back to baseline in " + FaultCase.msSince(start) + " ms (client closed: the "
                    + "resolver's cache goes with it)";
        } catch (Throwable t) {
            verdict = "FAIL";
            after += "FAILED: " + t;
            t.printStackTrace();
        }
        FaultReport.Line line = report.line(fault);
        System.out.println(String.join("\t", "RESULT", fault.name(), verdict,
                Long.toString(line == null ? -1 : line.elapsedMs()),
                oneLine(line == null ? "(failed before recording)" : line.observed()), oneLine(after)));
    }

    // ---- descriptors -------------------------------------------------------------------------------

    private static String descriptorLimit(FaultCase fc) throws IOException, InterruptedException {
        try (ScriptedServer server = ScriptedServer.start()) {
            // Load what the connect path and its callbacks use while nothing can be opened.
            FaultTestBase.secondConnectionWorks();
            FaultCase warmUp = new FaultCase(Fault.REFUSED, FaultTestBase.client.bootstrap(), new FaultReport());
            warmUp.connect(warmUp.options(Loopback.closedPort()));
            warmUp.verify();

            Set<String> fdsBefore = openDescriptors();
            List<java.io.FileInputStream> fillers = new ArrayList<>();
            try {
                fillDescriptors(fillers);
                // A descriptor the warm-up's connections closed only now (a server's side of one closes when its
                // thread gets to it) would let the connect below have a socket after all: take it too.
                Thread.sleep(100); // (no class of ours is loaded here: that would need a descriptor)
                fillDescriptors(fillers);
                fc.faultNow();
                fc.connect(fc.options(server.port()));
                fc.recorder().awaitSetup();
            } finally {
                for (java.io.FileInputStream f : fillers) {
                    f.close();
                }
            }
            fc.verify();
            assertEquals(0, server.acceptedCount(), "the failed connect reached no server");
            // Compared as (number, target) pairs rather than counted: a descriptor of the warm-up's that
            // closes meanwhile (its server's socket) is not a leak, and must not hide one.
            Set<String> opened = openDescriptors();
            opened.removeAll(fdsBefore);
            assertEquals(Set.of(), opened, "descriptors open after the exhaustion that were not open before it");
            return fillers.size() + " files opened to reach the limit; no descriptor left beside the " + fdsBefore.size()
                    + " open before; message: "
                    + fc.recorder().awaitSetup().exception().getMessage();
        }
    }

    /** Opens /dev/null until the process has no descriptor left (at most 65,536 files). */
    private static void fillDescriptors(List<java.io.FileInputStream> fillers) {
        int limit = 65536;
        try {
            for (int i = 0; i < limit; i++) {
                fillers.add(new java.io.FileInputStream("/dev/null"));
            }
            throw new AssertionError("no descriptor limit within " + limit + " open files");
        } catch (java.io.FileNotFoundException full) {
            assertTrue(full.getMessage().contains("Too many open files"), full.getMessage());
        }
    }

    /** Each open descriptor as "number -> target", leaving out the directory listing's own. */
    private static Set<String> openDescriptors() throws IOException {
        Set<String> open = new HashSet<>();
        try (var fds = java.nio.file.Files.newDirectoryStream(java.nio.file.Path.of("/proc/self/fd"))) {
            for (java.nio.file.Path fd : fds) {
                try {
                    String target = java.nio.file.Files.readSymbolicLink(fd).toString();
                    if (!target.matches("/proc/\\d+/fd")) { // the listing's own
                        open.add(fd.getFileName() + " -> " + target);
                    }
                } catch (java.nio.file.NoSuchFileException closedMeanwhile) {
                    // closed while the directory was read
                }
            }
        }
        return open;
    }

    // ---- DNS --------------------------------------------------------------------------------------

    private static String nameThatDoesNotResolve(FaultCase fc) {
        String host = "nonexistent.invalid";
        fc.connect(fc.options(host, 80));
        fc.verify();
        String message = fc.recorder().awaitSetup().exception().getMessage();
        assertTrue(message.contains(host), "the message names the host: " + message);
        return "message: " + message;
    }

    private static String slowResolver(FaultCase fc) {
        try (ScriptedServer server = ScriptedServer.start()) {
            fc.connect(fc.options(ScriptedDns.SLOW, server.port()));
            ScriptedServer.Conn c = server.awaitConnection();
            c.handshake(ScriptedServer.frame(true, ReceivedFrame.TEXT, Hex.ascii("late")));
            WebSocket ws = fc.awaitWebSocket();
            long setupMs = fc.setupMs();
            assertTrue(setupMs >= ScriptedDns.SLOW_MS - Expected.EARLY_MARGIN_MS,
                    "set up after " + setupMs + " ms, before the answer could have come");
            assertEquals("late", fc.recorder().awaitFrames(1).get(0).text());
            ws.close();
            assertEquals(1000, c.awaitClose().closeCode());
            c.sendFrame(true, ReceivedFrame.CLOSE, ScriptedServer.closePayload(1000, ""));
            fc.verify();
            return "set up " + setupMs + " ms after connect()";
        }
    }

    private static String silentResolver(FaultCase fc) {
        fc.connect(fc.options(ScriptedDns.SILENT, 80));
        fc.verify();
        return "message: " + fc.recorder().awaitSetup().exception().getMessage();
    }

    private static String localhostWithOneFamilyListening(FaultCase fc) throws Exception {
        List<String> seen = new ArrayList<>();
        // 127.0.0.1 only: getaddrinfo puts ::1 first (RFC 6724), so this is the fallback after a refusal.
        try (ServerSocket v4 = listen("127.0.0.1")) {
            fc.connect(fc.options("localhost", v4.getLocalPort()));
            seen.add("127.0.0.1 only: " + serveOne(v4, fc));
        }
        // ::1 only: the first address answers.
        FaultCase second = new FaultCase(Fault.DNS_LOCALHOST_ONE_FAMILY_LISTENING, FaultTestBase.client.bootstrap(),
                new FaultReport());
        try (ServerSocket v6 = listen("::1")) {
            second.connect(second.options("localhost", v6.getLocalPort()));
            seen.add("::1 only: " + serveOne(v6, second));
        }
        return String.join("; ", seen);
    }

    private static ServerSocket listen(String address) throws IOException {
        ServerSocket s = new ServerSocket();
        s.bind(new InetSocketAddress(InetAddress.getByName(address), 0), 10);
        s.setSoTimeout(10_000);
        return s;
    }

    /** Accepts one connection, answers the upgrade, lets the client close; returns where it came from. */
    private static String serveOne(ServerSocket listener, FaultCase fc) throws IOException {
        try (Socket s = listener.accept()) {
            s.setSoTimeout(10_000);
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            String head = readHead(in);
            String key = head.lines().filter(l -> l.regionMatches(true, 0, "Sec-WebSocket-Key:", 0, 18))
                    .map(l -> l.substring(18).trim()).findFirst().orElseThrow();
            out.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Accept: " + ScriptedServer.acceptFor(key) + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            WebSocket ws = fc.awaitWebSocket();
            ws.close();
            in.readNBytes(2 + 4 + 2); // the client's CLOSE 1000: header, mask, code
            out.write(ScriptedServer.frame(true, ReceivedFrame.CLOSE, ScriptedServer.closePayload(1000, "")));
            out.flush();
            fc.verify();
            return "setup ok from " + s.getInetAddress().getHostAddress() + " in " + fc.setupMs() + " ms";
        }
    }

    private static String readHead(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0 || head.length() > 65536) {
                throw new IOException("no request head: " + head);
            }
            head.append((char) b);
        }
        return head.toString();
    }

    private static String oneLine(String s) {
        return s.replace('\t', ' ').replace('\n', ' ');
    }
}
