package dev.wscrt.modulartest;

import dev.wscrt.Crt;
import dev.wscrt.CrtRuntimeException;
import dev.wscrt.websocket.OnConnectionSetupData;
import dev.wscrt.websocket.WebSocket;
import dev.wscrt.websocket.WebSocketConnectOptions;
import java.lang.module.ModuleDescriptor;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Loads the library from whatever jar is on the class path or module path, in a fresh JVM, and uses it:
 * prints the versions, checks the module's exports when it is a named module, and makes one connection
 * attempt to a closed loopback port, whose failure arrives through a native upcall on an event-loop
 * thread. Exits non-zero, saying why, on any mismatch. Argument: the expected OpenSSL version, or "-".
 */
public final class Main {
    private static final Set<String> API_PACKAGES =
            Set.of("dev.wscrt", "dev.wscrt.http", "dev.wscrt.io", "dev.wscrt.websocket");

    private Main() {
    }

    public static void main(String[] args) throws Exception {
        String expectedOpenssl = args.length > 0 ? args[0] : "-";
        Module module = Crt.class.getModule();
        System.out.println("wscrt " + Crt.version() + ", " + Crt.opensslVersion() + ", "
                + (module.isNamed() ? "module " + module.getName() : "class path"));
        if (!"-".equals(expectedOpenssl) && !Crt.opensslVersion().startsWith("OpenSSL " + expectedOpenssl + " ")) {
            fail("the library holds " + Crt.opensslVersion() + " but NOTICE names OpenSSL " + expectedOpenssl);
        }
        if (module.isNamed()) {
            checkExports(module);
        }
        checkRefusedConnect();
        System.out.println("OK");
    }

    private static void checkExports(Module module) {
        ModuleDescriptor descriptor = module.getDescriptor();
        Set<String> exported = new TreeSet<>();
        for (ModuleDescriptor.Exports export : descriptor.exports()) {
            if (export.isQualified()) {
                fail("qualified export of " + export.source() + " to " + export.targets());
            }
            exported.add(export.source());
        }
        if (!exported.equals(API_PACKAGES)) {
            fail("module dev.wscrt exports " + exported + ", expected exactly " + new TreeSet<>(API_PACKAGES));
        }
        if (!descriptor.opens().isEmpty() || descriptor.isOpen()) {
            fail("module dev.wscrt opens packages: " + descriptor.opens());
        }
        Set<String> hidden = new TreeSet<>(module.getPackages());
        hidden.removeAll(API_PACKAGES);
        for (String name : hidden) {
            if (module.isExported(name, Main.class.getModule())) {
                fail("internal package " + name + " is visible to a consumer");
            }
        }
        if (!descriptor.requires().stream().allMatch(r -> r.name().startsWith("java."))) {
            fail("module dev.wscrt requires more than the JDK: " + descriptor.requires());
        }
        System.out.println("exports " + exported + "; hidden " + hidden);
    }

    private static void checkRefusedConnect() throws Exception {
        int port;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = probe.getLocalPort();
        }
        CompletableFuture<OnConnectionSetupData> setup = new CompletableFuture<>();
        WebSocket.connect(WebSocketConnectOptions.builder()
                .host("127.0.0.1").port(port)
                .handshakeRequest(WebSocket.createHandshakeRequest("127.0.0.1:" + port, "/"))
                .onConnectionSetup(setup::complete)
                .build());
        OnConnectionSetupData data = setup.get(10, TimeUnit.SECONDS);
        CrtRuntimeException failure = data.exception();
        if (failure == null || !"WSCRT_ERROR_IO_SOCKET_CONNECTION_REFUSED".equals(failure.errorName())) {
            fail("a connect to closed port " + port + " reported " + failure + " instead of a refusal");
        }
        System.out.println("refused connect reported: " + failure.getMessage());
    }

    private static void fail(String why) {
        System.err.println("FAIL: " + why);
        System.exit(1);
    }
}
