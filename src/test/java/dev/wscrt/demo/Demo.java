package dev.wscrt.demo;

import dev.wscrt.Crt;
import dev.wscrt.http.HttpProxyOptions;
import dev.wscrt.io.TlsConnectionOptions;
import dev.wscrt.io.TlsContext;
import dev.wscrt.io.TlsContextOptions;
import dev.wscrt.proxy.TinyProxy;
import dev.wscrt.testing.NettyWebSocketServer;
import dev.wscrt.tls.ServerTls;
import dev.wscrt.tls.TestCertificates;
import dev.wscrt.websocket.IncomingFrame;
import dev.wscrt.websocket.OnConnectionSetupData;
import dev.wscrt.websocket.Opcode;
import dev.wscrt.websocket.WebSocket;
import dev.wscrt.websocket.WebSocketConnectOptions;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The main job: starts an embedded Netty echo server on 127.0.0.1, connects with wscrt, exchanges text,
 * binary and fragmented messages and a ping, closes cleanly, and prints what happened. Exits non-zero if
 * anything did not go as expected.
 *
 * <p>Flags (any combination): {@code --wss} serves TLS (Netty's SslHandler with a certificate made at
 * start-up by {@link TestCertificates}) and the client trusts that CA; {@code --proxy} goes through a
 * tinyproxy started for the run ({@link TinyProxy}) with HTTP CONNECT. {@code scripts/demo.sh --secure-proxy}
 * (the same as {@code --wss --proxy}) runs the same exchange over wss through the proxy.
 */
public final class Demo {
    private static final long TIMEOUT_SECONDS = 10;
    private static final String USAGE = "usage: demo.sh [--wss] [--proxy] [--secure-proxy]\n"
            + "  --wss    TLS to the embedded server (wss://), certificate made at start-up\n"
            + "  --proxy  through tinyproxy (scripts/install-tinyproxy.sh installs it), HTTP CONNECT\n"
            + "  --secure-proxy  both: wss:// through the proxy";

    private record Message(Opcode opcode, byte[] payload) {
    }

    private Demo() {
    }

    public static void main(String[] args) throws Exception {
        boolean wss = false;
        boolean proxy = false;
        for (String arg : args) {
            switch (arg) {
                case "--wss" -> wss = true;
                case "--proxy" -> proxy = true;
                case "--secure-proxy" -> {
                    wss = true;
                    proxy = true;
                }
                case "-h", "--help" -> {
                    System.out.println(USAGE);
                    return;
                }
                default -> {
                    System.err.println("demo: unknown argument '" + arg + "'\n" + USAGE);
                    System.exit(2);
                }
            }
        }
        if (proxy && TinyProxy.ensureInstalled().isEmpty()) {
            System.err.println("demo: --proxy needs tinyproxy: " + TinyProxy.missingMessage());
            System.exit(1);
        }
        System.out.println("wscrt " + Crt.version() + " demo");
        NettyWebSocketServer.Builder serverBuilder = NettyWebSocketServer.builder();
        if (wss) {
            serverBuilder.sslContext(ServerTls.forCertificate(TestCertificates.get().server()).build().sslContext());
        }
        try (NettyWebSocketServer server = serverBuilder.start()) {
            System.out.println("embedded Netty echo server on " + (wss ? "wss" : "ws") + "://" + server.authority()
                    + "/" + (wss ? " (TLS certificate from a CA made at start-up, trusted by the client)" : ""));
            TinyProxy tinyproxy = null;
            TlsContext tlsContext = null;
            try {
                HttpProxyOptions proxyOptions = null;
                if (proxy) {
                    tinyproxy = TinyProxy.builder().connectPorts(server.port()).start();
                    proxyOptions = new HttpProxyOptions().withHost(tinyproxy.host()).withPort(tinyproxy.port());
                    System.out.println("through tinyproxy on " + tinyproxy.host() + ":" + tinyproxy.port()
                            + " (HTTP CONNECT)");
                }
                TlsConnectionOptions tlsOptions = null;
                if (wss) {
                    tlsContext = new TlsContext(TlsContextOptions.createDefaultClient()
                            .withCertificateAuthority(TestCertificates.get().caPem()));
                    tlsOptions = new TlsConnectionOptions(tlsContext);
                }
                run(server, tlsOptions, proxyOptions);
                if (tinyproxy != null) {
                    String connect = "CONNECT " + server.authority();
                    if (!tinyproxy.log().contains(connect)) {
                        throw new IllegalStateException("tinyproxy did not log '" + connect + "':\n" + tinyproxy.log());
                    }
                    System.out.println("tinyproxy tunnelled it: " + connect);
                }
            } finally {
                if (tlsContext != null) {
                    tlsContext.close();
                }
                if (tinyproxy != null) {
                    tinyproxy.close();
                }
            }
        }
        System.out.println("native memory in use after the demo: " + Crt.nativeMemoryInUse() + " bytes");
        System.out.println("demo OK");
    }

    private static void run(NettyWebSocketServer server, TlsConnectionOptions tls, HttpProxyOptions proxy)
            throws Exception {
        CompletableFuture<OnConnectionSetupData> setup = new CompletableFuture<>();
        CompletableFuture<Throwable> shutdown = new CompletableFuture<>();
        BlockingQueue<Message> messages = new LinkedBlockingQueue<>();
        BlockingQueue<IncomingFrame> controlFrames = new LinkedBlockingQueue<>();
        ByteArrayOutputStream message = new ByteArrayOutputStream();
        Opcode[] messageOpcode = new Opcode[1];

        WebSocket.connect(WebSocketConnectOptions.builder()
                .host(server.host())
                .port(server.port())
                .handshakeRequest(WebSocket.createHandshakeRequest(server.authority(), "/demo"))
                .tlsConnectionOptions(tls)
                .proxyOptions(proxy)
                .onConnectionSetup(setup::complete)
                .onConnectionShutdown(data -> shutdown.complete(data.exception()))
                .onIncomingFrameBegin(data -> {
                    if (data.frame().opcode() == Opcode.TEXT || data.frame().opcode() == Opcode.BINARY) {
                        messageOpcode[0] = data.frame().opcode();
                        message.reset();
                    }
                })
                .onIncomingFramePayload(data -> {
                    if (data.frame().isDataFrame()) {
                        message.writeBytes(data.bytes());
                    }
                })
                .onIncomingFrameComplete(data -> {
                    IncomingFrame frame = data.frame();
                    if (!frame.isDataFrame()) {
                        controlFrames.add(frame);
                    } else if (frame.fin()) {
                        messages.add(new Message(messageOpcode[0], message.toByteArray()));
                    }
                })
                .build());

        OnConnectionSetupData setupData = setup.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        if (setupData.exception() != null) {
            throw setupData.exception();
        }
        WebSocket websocket = setupData.websocket();
        System.out.println("connected: HTTP " + setupData.handshakeResponseStatus() + ", "
                + setupData.handshakeResponseHeaders().size() + " response headers");
        if (tls != null) {
            System.out.println("TLS: " + websocket.tlsVersion() + ", server certificate verified");
        }

        websocket.sendFrame(Opcode.TEXT, "hello from wscrt");
        expect(messages, Opcode.TEXT, "hello from wscrt".getBytes(StandardCharsets.UTF_8), "text");

        byte[] binary = new byte[70_000];
        for (int i = 0; i < binary.length; i++) {
            binary[i] = (byte) (i * 31);
        }
        CompletableFuture<Throwable> sent = new CompletableFuture<>();
        websocket.sendFrame(Opcode.BINARY, binary, true, data -> sent.complete(data.exception()));
        if (sent.get(TIMEOUT_SECONDS, TimeUnit.SECONDS) != null) {
            throw new IllegalStateException("binary send failed", sent.get());
        }
        expect(messages, Opcode.BINARY, binary, "binary (70,000 bytes, 64-bit length form)");

        websocket.sendFrame(Opcode.TEXT, "frag", false, null);
        websocket.sendFrame(Opcode.CONTINUATION, "ment", false, null);
        websocket.sendFrame(Opcode.CONTINUATION, "ed", true, null);
        expect(messages, Opcode.TEXT, "fragmented".getBytes(StandardCharsets.UTF_8), "fragmented text (3 frames)");

        websocket.sendFrame(Opcode.PING, "are you there?");
        IncomingFrame pong = controlFrames.poll(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        if (pong == null || pong.opcode() != Opcode.PONG) {
            throw new IllegalStateException("expected a PONG, got " + pong);
        }
        System.out.println("ping answered: " + pong);

        websocket.sendFrame(Opcode.CLOSE, WebSocket.closePayload(1000, "demo done"));
        Throwable shutdownException = shutdown.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        IncomingFrame close = controlFrames.poll(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        System.out.println("server answered " + close + "; shutdown "
                + (shutdownException == null ? "clean" : "with " + shutdownException));
        if (shutdownException != null) {
            throw new IllegalStateException("unclean shutdown", shutdownException);
        }
        websocket.close();
    }

    private static void expect(BlockingQueue<Message> messages, Opcode opcode, byte[] payload, String what)
            throws InterruptedException {
        Message received = messages.poll(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        if (received == null) {
            throw new IllegalStateException("no echo for the " + what + " message");
        }
        if (received.opcode() != opcode || !java.util.Arrays.equals(received.payload(), payload)) {
            throw new IllegalStateException("wrong echo for the " + what + " message: " + received.opcode() + ", "
                    + received.payload().length + " bytes");
        }
        System.out.println("echoed " + what + ": " + payload.length + " bytes");
    }
}
