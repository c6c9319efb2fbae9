package dev.wscrt.faults;

import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * DNS faults. The process's own name resolution (glibc's getaddrinfo, reading /etc/hosts and
 * /etc/resolv.conf) cannot be pointed at a scripted server from inside the JVM, and the library's
 * {@code HostResolver} takes no user resolver to inject; so the cases run in a child JVM
 * ({@link ChildFaultCases}) inside private mount and network namespaces ({@code unshare --mount --net}, run
 * as root): a loopback-only network, an /etc/hosts with localhost on ::1 and 127.0.0.1, and an
 * /etc/resolv.conf naming a {@link ScriptedDns} on 127.0.0.1. The host's files are untouched (the bind
 * mounts are private to the namespace) and no query can leave the machine.
 *
 * <p>The child checks each case as the other fault classes do (expected callbacks, time bound, a second
 * connection on the loop, native memory back to baseline) and prints a line per case ({@link ChildJvm});
 * each test here asserts its case passed.
 */
class DnsFaultTest {

    private static ChildJvm child;

    @BeforeAll
    static void runTheCasesInPrivateNamespaces() throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory("wscrt-dns-faults");
        Path hosts = dir.resolve("hosts");
        Path resolv = dir.resolve("resolv.conf");
        try {
            Files.writeString(hosts, "::1 localhost\n127.0.0.1 localhost\n", StandardCharsets.US_ASCII);
            Files.writeString(resolv, "nameserver 127.0.0.1\noptions timeout:3 attempts:1\n",
                    StandardCharsets.US_ASCII);
            String script = "set -e; ip link set lo up; mount --bind \"$1\" /etc/hosts; "
                    + "mount --bind \"$2\" /etc/resolv.conf; shift 2; exec \"$@\"";
            child = ChildJvm.run(List.of("unshare", "--mount", "--net", "sh", "-c", script, "sh", hosts.toString(),
                    resolv.toString()), "dns", 120);
        } finally {
            Files.deleteIfExists(hosts);
            Files.deleteIfExists(resolv);
            Files.deleteIfExists(dir);
        }
    }

    @AfterAll
    static void writeTheReport() {
        if (child != null) {
            System.out.println(child.output());
        }
        System.out.println("Fault report written to " + FaultReport.shared().write());
    }

    private static void assertPassed(Fault fault) {
        assertNotNull(child, "the child JVM did not run");
        child.assertPassed(fault);
    }

    @Test
    void nameThatDoesNotResolveFailsSetupWithQueryFailedNamingTheHost() {
        assertPassed(Fault.DNS_NAME_DOES_NOT_RESOLVE);
    }

    @Test
    void slowResolverDelaysTheSetupByItsAnswerTime() {
        assertPassed(Fault.DNS_SLOW_RESOLVER);
    }

    @Test
    void silentResolverFailsSetupWithinTheSystemResolverTimeout() {
        assertPassed(Fault.DNS_SILENT_RESOLVER);
    }

    @Test
    void localhostOnBothFamiliesConnectsToWhicheverListens() {
        assertPassed(Fault.DNS_LOCALHOST_ONE_FAMILY_LISTENING);
    }
}
