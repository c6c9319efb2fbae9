package dev.wscrt.faults;

import dev.wscrt.http.HttpProxyOptions;
import dev.wscrt.io.ClientBootstrap;
import dev.wscrt.io.TlsConnectionOptions;
import dev.wscrt.io.TlsContext;
import dev.wscrt.testing.Hex;
import dev.wscrt.testing.ScriptedServer;
import dev.wscrt.websocket.OnConnectionSetupData;
import dev.wscrt.websocket.Opcode;
import java.io.InputStream;
import java.util.SplittableRandom;
import javax.net.ssl.SSLContext;

/** The faults a {@link Soak} session injects, each with the one error it must produce. */
final class SoakFaults {
    private final SoakTally tally;
    private final ClientBootstrap bootstrap;
    private final TlsContext localTls; // trusts this JVM's test CA, for the scripted TLS peers
    private final SSLContext peerTls;
    private final int wsPort;

    SoakFaults(SoakTally tally, ClientBootstrap bootstrap, TlsContext localTls, SSLContext peerTls, int wsPort) {
        this.tally = tally;
        this.bootstrap = bootstrap;
        this.localTls = localTls;
        this.peerTls = peerTls;
        this.wsPort = wsPort;
    }

    /** Injects one fault, chosen at random, and counts its outcome. */
    void injectOne(SplittableRandom random) throws Exception {
        switch (random.nextInt(8)) {
            case 0 -> refused();
            case 1 -> silentServer();
            case 2 -> garbage();
            case 3 -> resetMidPayload();
            case 4 -> notAServerHello();
            case 5 -> proxy407();
            case 6 -> finWithoutCloseNotify();
            default -> callbackThrows();
        }
    }

    /** Expects the setup to fail with {@code expected}; counts the outcome. */
    private void expectSetupFailure(String fault, SoakConnection c, String expected) throws InterruptedException {
        OnConnectionSetupData d = c.awaitSetup();
        String name = d.exception() == null ? "setup ok" : SoakTally.shortName(d.exception());
        if (d.exception() == null) {
            d.websocket().close();
            c.awaitShutdown();
        }
        tally.injected(fault, name, expected);
    }

    /** The fault came after a setup ({@code d}): the shutdown names it, unless the setup itself failed. */
    private void expectShutdownAfterSetup(String fault, SoakConnection c, OnConnectionSetupData d, String expected)
            throws InterruptedException {
        String name = d.exception() != null ? "setup failure " + SoakTally.shortName(d.exception())
                : SoakTally.shortNameOrClean(c.awaitShutdown());
        if (d.websocket() != null) {
            d.websocket().close();
        }
        tally.injected(fault, name, expected);
    }

    private void refused() throws InterruptedException {
        SoakConnection c = new SoakConnection(tally, bootstrap);
        c.connect(c.options("127.0.0.1", Loopback.closedPort()));
        expectSetupFailure("refused port", c, "IO_SOCKET_CONNECTION_REFUSED");
    }

    private void silentServer() throws InterruptedException {
        try (ScriptedServer server = ScriptedServer.start()) {
            SoakConnection c = new SoakConnection(tally, bootstrap);
            c.connect(c.options("127.0.0.1", server.port()).handshakeTimeoutMs(300));
            server.awaitConnection().readRequest();
            expectSetupFailure("silent server", c, "WEBSOCKET_HANDSHAKE_TIMEOUT");
        }
    }

    private void garbage() throws InterruptedException {
        try (ScriptedServer server = ScriptedServer.start()) {
            SoakConnection c = new SoakConnection(tally, bootstrap);
            c.connect(c.options("127.0.0.1", server.port()));
            ScriptedServer.Conn s = server.awaitConnection();
            s.readRequest();
            s.tryWrite(Hex.concat(Hex.bytes("00 ff 13 37"), Hex.pattern(512, 3), Hex.ascii("\r\n\r\n")));
            expectSetupFailure("garbage", c, "HTTP_INVALID_RESPONSE");
        }
    }

    private void resetMidPayload() throws InterruptedException {
        try (ScriptedServer server = ScriptedServer.start()) {
            SoakConnection c = new SoakConnection(tally, bootstrap);
            c.connect(c.options("127.0.0.1", server.port()));
            ScriptedServer.Conn s = server.awaitConnection();
            s.handshake(Hex.concat(Hex.bytes("82 7e 01 00"), Hex.pattern(100, 0)));
            OnConnectionSetupData d = c.awaitSetup();
            s.reset();
            expectShutdownAfterSetup("RST mid-payload", c, d, "IO_SOCKET_CONNECTION_RESET");
        }
    }

    private void notAServerHello() throws Exception {
        try (ScriptedServer server = ScriptedServer.start()) {
            SoakConnection c = new SoakConnection(tally, bootstrap);
            c.connect(c.options("127.0.0.1", server.port()).tlsConnectionOptions(new TlsConnectionOptions(localTls)));
            ScriptedServer.Conn s = server.awaitConnection();
            InputStream in = s.socket().getInputStream();
            byte[] header = in.readNBytes(5);
            in.readNBytes(((header[3] & 0xff) << 8) | (header[4] & 0xff));
            s.tryWrite(Hex.ascii("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"));
            expectSetupFailure("not a ServerHello", c, "TLS_HANDSHAKE_FAILURE");
        }
    }

    private void proxy407() throws InterruptedException {
        try (ScriptedServer fakeProxy = ScriptedServer.start()) {
            SoakConnection c = new SoakConnection(tally, bootstrap);
            c.connect(c.options("127.0.0.1", wsPort)
                    .proxyOptions(new HttpProxyOptions().withHost(fakeProxy.host()).withPort(fakeProxy.port())));
            ScriptedServer.Conn s = fakeProxy.awaitConnection();
            s.readRequest();
            s.writeAscii("HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"soak\"\r\n"
                    + "Content-Length: 0\r\n\r\n");
            expectSetupFailure("proxy 407", c, "HTTP_PROXY_AUTH_REQUIRED");
        }
    }

    private void finWithoutCloseNotify() throws InterruptedException {
        try (TlsPeer peer = TlsPeer.start(peerTls, "TLSv1.3")) {
            SoakConnection c = new SoakConnection(tally, bootstrap);
            c.connect(c.options("127.0.0.1", peer.port()).tlsConnectionOptions(new TlsConnectionOptions(localTls)));
            try (TlsPeer.Conn s = peer.accept()) {
                s.handshake();
                s.answerUpgrade(Hex.concat(Hex.bytes("82 7e 01 00"), Hex.pattern(100, 1)));
                OnConnectionSetupData d = c.awaitSetup();
                s.finWithoutCloseNotify();
                expectShutdownAfterSetup("TLS FIN without close_notify", c, d, "IO_SOCKET_CLOSED");
            }
        }
    }

    private void callbackThrows() throws InterruptedException {
        SoakConnection c = new SoakConnection(tally, bootstrap);
        c.throwInPayload = true;
        c.connect(c.options("127.0.0.1", wsPort));
        OnConnectionSetupData d = c.awaitSetup();
        if (d.exception() != null) {
            String failure = "setup failure " + SoakTally.shortName(d.exception());
            tally.injected("callback throws", failure, "CALLBACK_EXCEPTION");
            return;
        }
        d.websocket().sendFrame(Opcode.TEXT, "echo me");
        String name = SoakTally.shortNameOrClean(c.awaitShutdown());
        d.websocket().close();
        tally.injected("callback throws", name, "CALLBACK_EXCEPTION");
    }
}
