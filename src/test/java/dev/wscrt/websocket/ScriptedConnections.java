package dev.wscrt.websocket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import dev.wscrt.CrtRuntimeException;
import dev.wscrt.testing.CallbackRecorder;
import dev.wscrt.testing.ScriptedServer;
import dev.wscrt.testing.Testbed;

/** Connections from the client to scripted raw-TCP servers of a {@link Testbed}, for tests that write every byte. */
final class ScriptedConnections {
    private final Testbed testbed;

    ScriptedConnections(Testbed testbed) {
        this.testbed = testbed;
    }

    /** Connects to the scripted server; the handshake is up to the test. */
    ScriptedServer.Conn connect(ScriptedServer server, CallbackRecorder rec, int handshakeTimeoutMs) {
        WebSocket.connect(testbed.options(server, rec)
                .handshakeTimeoutMs(handshakeTimeoutMs).build());
        return server.awaitConnection();
    }

    /** Connects to a new scripted server and reads the upgrade request; the answer is up to the test. */
    ScriptedServer.Conn upgradeRequested(CallbackRecorder rec) {
        ScriptedServer.Conn c = connect(testbed.scriptedServer(), rec, 5000);
        c.readRequest();
        return c;
    }

    /** Connects to a new scripted server and completes a correct handshake. */
    ScriptedServer.Conn connectAndUpgrade(CallbackRecorder rec) {
        return connectAndUpgrade(testbed.scriptedServer(), rec);
    }

    /** Connects and completes a correct handshake. */
    ScriptedServer.Conn connectAndUpgrade(ScriptedServer server, CallbackRecorder rec) {
        ScriptedServer.Conn c = connect(server, rec, 5000);
        c.handshake();
        rec.awaitWebSocket();
        return c;
    }

    /** Asserts that {@code actual} is a {@link CrtRuntimeException} named {@code expected}. */
    static void assertErrorName(String expected, Throwable actual) {
        assertNotNull(actual, "expected an exception named " + expected);
        CrtRuntimeException e = assertInstanceOf(CrtRuntimeException.class, actual,
                "expected a CrtRuntimeException named " + expected);
        assertEquals(expected, e.errorName(), "error name (message: " + e.getMessage() + ")");
    }
}
