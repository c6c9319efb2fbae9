package dev.wscrt.websocket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.wscrt.testing.Await;
import dev.wscrt.testing.ScriptedServer;
import dev.wscrt.testing.Testbed;
import java.net.URI;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** RFC 6455 4.1: a 101 may only select what the client offered; each rule fails setup with its own name. */
class WebSocketHandshakeRulesTest {
    @RegisterExtension
    static final Testbed testbed = Testbed.withLoopThreads(1);

    /** Connects with the message API offering {@code offered} (none if empty); the server answers 101 + extra. */
    private static CompletableFuture<WebSocketConnection> connectAnswering(String extraHeaders, String... offered) {
        ScriptedServer server = testbed.scriptedServer();
        WebSocketConnection.Builder builder = WebSocketConnection.builder(URI.create("ws://" + server.authority() + "/"))
                .bootstrap(testbed.bootstrap());
        if (offered.length > 0) {
            builder.subprotocols(offered);
        }
        CompletableFuture<WebSocketConnection> connecting = builder.connect(new MessageRecorder());
        ScriptedServer.Conn conn = server.awaitConnection();
        ScriptedServer.RequestHead request = conn.readRequest();
        if (offered.length > 0) {
            assertEquals(String.join(", ", offered), request.header("Sec-WebSocket-Protocol"));
        }
        conn.writeAscii("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Accept: " + conn.expectedAccept() + "\r\n" + extraHeaders + "\r\n");
        return connecting;
    }

    private static void assertSetupFails(String name, CompletableFuture<WebSocketConnection> connecting) {
        CompletionException e = assertThrows(CompletionException.class, connecting::join);
        WebSocketHandshakeException refused = assertInstanceOf(WebSocketHandshakeException.class, e.getCause());
        assertEquals(name, refused.errorName());
        assertEquals(101, refused.status());
    }

    @Test
    void theServersChoiceAmongTheOfferedSubprotocolsIsExposed() {
        WebSocketConnection ws = Await.get("connect",
                connectAnswering("Sec-WebSocket-Protocol: chat\r\n", "mqtt", "chat"));
        assertEquals("chat", ws.subprotocol());
        ws.abort();
    }

    @Test
    void noSubprotocolAnswerMeansNoneWasSelected() {
        WebSocketConnection ws = Await.get("connect", connectAnswering("", "mqtt"));
        assertNull(ws.subprotocol());
        ws.abort();
    }

    @Test
    void aSubprotocolThatWasNotOfferedFailsSetup() {
        assertSetupFails("WSCRT_ERROR_WEBSOCKET_UNEXPECTED_SUBPROTOCOL",
                connectAnswering("Sec-WebSocket-Protocol: other\r\n", "mqtt"));
        assertSetupFails("WSCRT_ERROR_WEBSOCKET_UNEXPECTED_SUBPROTOCOL",
                connectAnswering("Sec-WebSocket-Protocol: mqtt\r\n"));
    }

    @Test
    void moreThanOneSubprotocolFailsSetup() {
        assertSetupFails("WSCRT_ERROR_WEBSOCKET_MULTIPLE_SUBPROTOCOLS",
                connectAnswering("Sec-WebSocket-Protocol: mqtt, chat\r\n", "mqtt", "chat"));
    }

    @Test
    void anExtensionThatWasNotOfferedFailsSetup() {
        assertSetupFails("WSCRT_ERROR_WEBSOCKET_UNEXPECTED_EXTENSION",
                connectAnswering("Sec-WebSocket-Extensions: permessage-deflate\r\n"));
    }

    @Test
    void subprotocolNamesMustBeTokens() {
        WebSocketConnection.Builder builder = WebSocketConnection.builder(URI.create("ws://127.0.0.1:1/"));
        assertThrows(IllegalArgumentException.class, () -> builder.subprotocols("a b"));
        assertThrows(IllegalArgumentException.class, () -> builder.subprotocols("x,y"));
    }
}
