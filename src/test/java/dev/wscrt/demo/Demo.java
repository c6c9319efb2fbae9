package dev.wscrt.demo;

import dev.wscrt.Crt;
import dev.wscrt.testing.NettyWebSocketServer;
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
 */
public final class Demo {
    private static final long TIMEOUT_SECONDS = 10;

    private record Message(Opcode opcode, byte[] payload) {
    }

    private Demo() {
    }

    public static void main(String[] args) throws Exception {
        System.out.println("wscrt " + Crt.version() + " demo");
        try (NettyWebSocketServer server = NettyWebSocketServer.startEcho()) {
            System.out.println("embedded Netty echo server on ws://" + server.authority() + "/");
            run(server);
        }
        System.out.println("native memory in use after the demo: " + Crt.nativeMemoryInUse() + " bytes");
        System.out.println("demo OK");
    }

    private static void run(NettyWebSocketServer server) throws Exception {
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
