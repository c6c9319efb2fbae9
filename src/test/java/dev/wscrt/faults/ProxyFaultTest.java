package dev.wscrt.faults;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wscrt.http.HttpHeader;
import dev.wscrt.http.HttpProxyOptions;
import dev.wscrt.testing.Hex;
import dev.wscrt.testing.ReceivedFrame;
import dev.wscrt.testing.ScriptedServer;
import dev.wscrt.websocket.OnConnectionSetupData;
import dev.wscrt.websocket.WebSocket;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * Proxy faults: a scripted HTTP proxy on 127.0.0.1 (a raw socket that reads the client's CONNECT and then
 * misbehaves) in front of a target the client never reaches itself. The well-behaved proxy, tinyproxy, is
 * in {@code dev.wscrt.proxy.ProxyTest}. See {@link Fault} for what each case owes.
 */
class ProxyFaultTest extends FaultTestBase {

    /** Connects ws://127.0.0.1:{target}/ through the scripted proxy; returns the proxy's side, CONNECT read. */
    private static ScriptedServer.Conn connectThrough(FaultCase fc, ScriptedServer proxy, int target,
                                                      int handshakeTimeoutMs) {
        fc.connect(fc.options(target).handshakeTimeoutMs(handshakeTimeoutMs)
                .proxyOptions(new HttpProxyOptions().withHost(proxy.host()).withPort(proxy.port())));
        ScriptedServer.Conn c = proxy.awaitConnection();
        String line = c.readRequest().requestLine();
        assertEquals("CONNECT 127.0.0.1:" + target + " HTTP/1.1", line, "the client asks for a tunnel");
        return c;
    }

    /**
     * Starts {@code fault}'s case, connects through a fresh scripted proxy to a closed target port (handshake
     * timeout {@code handshakeTimeoutMs}) and runs {@code script} against the proxy's side, CONNECT read.
     */
    private void throughScriptedProxy(Fault fault, int handshakeTimeoutMs, Script script) throws Exception {
        try (ScriptedServer proxy = ScriptedServer.start()) {
            FaultCase fc = begin(fault);
            script.run(fc, connectThrough(fc, proxy, Loopback.closedPort(), handshakeTimeoutMs));
        }
    }

    private void throughScriptedProxy(Fault fault, Script script) throws Exception {
        throughScriptedProxy(fault, 10_000, script);
    }

    @Test
    void proxyThatClosesDuringConnectFailsSetupWithConnectionClosed() throws Exception {
        throughScriptedProxy(Fault.PROXY_CLOSES_DURING_CONNECT, (fc, c) -> {
            fc.faultNow();
            c.close();
            fc.verify();
            assertNull(fc.recorder().awaitSetup().handshakeResponseStatus(), "no answer, no status");
            fc.report("");
        });
    }

    @Test
    void proxy407WithoutCredentialsConfiguredCarriesTheStatusAndTheChallenge() throws Exception {
        throughScriptedProxy(Fault.PROXY_407_NO_CREDENTIALS, (fc, c) -> {
            assertNull(c.request().header("Proxy-Authorization"), "no credentials configured, none sent");
            fc.faultNow();
            c.writeAscii("HTTP/1.1 407 Proxy Authentication Required\r\n"
                    + "Proxy-Authenticate: Basic realm=\"wscrt-faults\"\r\n"
                    + "Content-Length: 0\r\n\r\n");
            fc.verify();
            OnConnectionSetupData d = fc.recorder().awaitSetup();
            assertEquals(407, d.handshakeResponseStatus(), "the proxy's status, carried");
            String challenge = d.handshakeResponseHeaders() == null ? null : d.handshakeResponseHeaders().stream()
                    .filter(h -> h.name().equalsIgnoreCase("Proxy-Authenticate")).map(HttpHeader::value)
                    .findFirst().orElse(null);
            assertEquals("Basic realm=\"wscrt-faults\"", challenge, "the challenge, carried");
            fc.report("status " + d.handshakeResponseStatus() + ", Proxy-Authenticate: " + challenge);
        });
    }

    @Test
    void proxy200ThenAnImmediateCloseFailsSetupWithConnectionClosedOrReset() throws Exception {
        throughScriptedProxy(Fault.PROXY_200_THEN_CLOSE, (fc, c) -> {
            fc.faultNow();
            c.write(Hex.ascii("HTTP/1.1 200 Connection established\r\n\r\n"));
            c.close();
            fc.verify();
            fc.report("status carried: " + fc.recorder().awaitSetup().handshakeResponseStatus());
        });
    }

    @Test
    void proxyResponseHeaderBlockOverTheLimitFailsSetupWithHeaderBlockTooLarge() throws Exception {
        throughScriptedProxy(Fault.PROXY_HEADER_BLOCK_OVER_LIMIT, (fc, c) -> {
            byte[] block = FaultInjectionTest.headerBlock("HTTP/1.1 200 Connection established", 256 * 1024);
            fc.faultNow();
            boolean all = c.tryWrite(Arrays.copyOfRange(block, 0, 128 * 1024));
            fc.verify();
            fc.report("128 KiB of a 256 KiB block written" + (all ? "" : " (the client reset the connection first)"));
        });
    }

    @Test
    void proxyThatNeverAnswersFailsSetupAtTheHandshakeTimeout() throws Exception {
        throughScriptedProxy(Fault.PROXY_NEVER_ANSWERS, 300, (fc, c) -> {
            fc.verify();
            c.awaitEof();
            fc.report("");
        });
    }

    @Test
    void proxyAnsweringHttp10With200OpensTheTunnel() throws Exception {
        throughScriptedProxy(Fault.PROXY_HTTP10_200, (fc, c) -> {
            c.writeAscii("HTTP/1.0 200 Connection established\r\n\r\n");
            // From here the scripted proxy plays the target at the other end of the tunnel.
            c.handshake(ScriptedServer.frame(true, ReceivedFrame.TEXT, Hex.ascii("through")));
            assertTrue(c.request().requestLine().startsWith("GET / HTTP/1.1"), c.request().requestLine());
            WebSocket ws = fc.awaitWebSocket();
            assertEquals("through", fc.recorder().awaitFrames(1).get(0).text());
            ws.close();
            assertEquals(1000, c.awaitClose().closeCode());
            c.sendFrame(true, ReceivedFrame.CLOSE, ScriptedServer.closePayload(1000, ""));
            fc.verify();
            fc.report("");
        });
    }

    @Test
    void burstThroughTheTunnelIsDeliveredAsTheManualReadWindowOpens() {
        try (ScriptedServer proxy = ScriptedServer.start()) {
            FaultCase fc = begin(Fault.PROXY_TUNNEL_BURST_SMALL_WINDOW);
            fc.connect(fc.options(Loopback.closedPort()).manageReadWindow(true).initialReadWindow(16 * 1024)
                    .proxyOptions(new HttpProxyOptions().withHost(proxy.host()).withPort(proxy.port())));
            ScriptedServer.Conn c = proxy.awaitConnection();
            c.readRequest();
            c.writeAscii("HTTP/1.1 200 Connection established\r\n\r\n");
            byte[] burst = new byte[0];
            for (int i = 0; i < 64; i++) {
                burst = Hex.concat(burst, ScriptedServer.frame(true, ReceivedFrame.BINARY, Hex.pattern(4096, i)));
            }
            c.handshake(burst); // the 101 and 256 KiB of frames in one write
            WebSocket ws = fc.awaitWebSocket();
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
            int opened = 0;
            while (fc.recorder().frames().size() < 64 && !fc.recorder().shutdownSeen()
                    && System.nanoTime() - deadline < 0) {
                ws.incrementReadWindow(16 * 1024);
                opened++;
                dev.wscrt.testing.Await.sleep(2);
            }
            assertEquals(64, fc.recorder().frames().size(), "every frame, as the window opens: "
                    + fc.recorder().summary());
            for (int i = 0; i < 64; i++) {
                assertArrayEquals(Hex.pattern(4096, i), fc.recorder().frames().get(i).payload(), "frame " + i);
            }
            ws.close();
            assertEquals(1000, c.awaitClose().closeCode());
            c.sendFrame(true, ReceivedFrame.CLOSE, ScriptedServer.closePayload(1000, ""));
            while (!fc.recorder().shutdownSeen() && System.nanoTime() - deadline < 0) {
                ws.incrementReadWindow(16 * 1024); // the server's CLOSE needs room too
                dev.wscrt.testing.Await.sleep(2);
            }
            fc.verify();
            fc.reportAs("setup ok, " + fc.recorder().count(dev.wscrt.testing.CallbackRecorder.Complete.class)
                    + " frames complete ok (64 x BINARY(4096) intact, then the CLOSE), shutdown clean; " + opened
                    + " window increments of 16 KiB", fc.shutdownMs());
        }
    }
}
