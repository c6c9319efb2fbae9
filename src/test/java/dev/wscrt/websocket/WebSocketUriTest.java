package dev.wscrt.websocket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import org.junit.jupiter.api.Test;

/** How a ws:// or wss:// URI becomes a host, a port, a Host header and a request-target. */
class WebSocketUriTest {

    @Test
    void wsDefaultsToPort80AndTheHostHeaderOmitsIt() {
        WebSocketUri u = WebSocketUri.of(URI.create("ws://example.test/chat"));
        assertEquals(new WebSocketUri("example.test", 80, "example.test", "/chat", false), u);
    }

    @Test
    void wssDefaultsToPort443WithTls() {
        WebSocketUri u = WebSocketUri.of(URI.create("WSS://example.test"));
        assertEquals(new WebSocketUri("example.test", 443, "example.test", "/", true), u);
    }

    @Test
    void aPortThatIsNotTheDefaultIsInTheHostHeader() {
        assertEquals("example.test:8080", WebSocketUri.of(URI.create("ws://example.test:8080/")).hostHeader());
        assertEquals("example.test:80", WebSocketUri.of(URI.create("wss://example.test:80/")).hostHeader());
        assertEquals("example.test", WebSocketUri.of(URI.create("wss://example.test:443/")).hostHeader());
    }

    @Test
    void ipv6LiteralsConnectWithoutBracketsAndKeepThemInTheHostHeader() {
        WebSocketUri u = WebSocketUri.of(URI.create("ws://[::1]:9000/x"));
        assertEquals("::1", u.host());
        assertEquals("[::1]:9000", u.hostHeader());
    }

    @Test
    void pathAndQueryAreSentAsTheRawFormHas() {
        WebSocketUri u = WebSocketUri.of(URI.create("ws://h/a%20b/c?x=1&y=%2F"));
        assertEquals("/a%20b/c?x=1&y=%2F", u.requestTarget());
        assertEquals("/?q", WebSocketUri.of(URI.create("ws://h?q")).requestTarget());
    }

    @Test
    void charactersARequestTargetMayNotHoldArePercentEncoded() {
        URI withUnicode = URI.create("ws://h/caf\u00e9?n=\u00fc");
        assertEquals("/caf%C3%A9?n=%C3%BC", WebSocketUri.of(withUnicode).requestTarget());
        assertEquals("/%F0%9F%98%80", WebSocketUri.encodeForRequestTarget("/\uD83D\uDE00"));
    }

    @Test
    void unusablePartsAreRefusedByName() {
        assertRefused("http://h/", "scheme");
        assertRefused("ws://h/#frag", "fragment");
        assertRefused("ws://user@h/", "user-info");
        assertRefused("ws:///path", "host");
        assertRefused("ws://h:70000/", "port");
    }

    @Test
    void createHandshakeRequestRefusesAPathThatDoesNotStartWithASlash() {
        assertThrows(IllegalArgumentException.class, () -> WebSocket.createHandshakeRequest("h", "chat"));
        assertEquals("*", WebSocket.createHandshakeRequest("h", "*").getPath());
    }

    private static void assertRefused(String uri, String part) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> WebSocketUri.of(URI.create(uri)));
        assertTrue(e.getMessage().contains(part), e.getMessage());
    }
}
