package dev.wscrt.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The request head that carries the WebSocket handshake. Pure Java: no native code involved. */
class HttpRequestTest {

    private static HttpRequest request() {
        return new HttpRequest("GET", "/a", List.of(new HttpHeader("Host", "h"), new HttpHeader("X-Multi", "1"),
                new HttpHeader("Accept", "*/*"), new HttpHeader("x-multi", "2")));
    }

    @Test
    void keepsMethodPathAndHeadersInOrder() {
        HttpRequest r = request();
        assertEquals("GET", r.getMethod());
        assertEquals("/a", r.getPath());
        assertEquals(List.of(new HttpHeader("Host", "h"), new HttpHeader("X-Multi", "1"),
                new HttpHeader("Accept", "*/*"), new HttpHeader("x-multi", "2")), r.getHeaders());
    }

    @Test
    void setPathReplacesThePath() {
        HttpRequest r = request();
        r.setPath("/b?q=1");
        assertEquals("/b?q=1", r.getPath());
    }

    @Test
    void getHeadersReturnsACopy() {
        HttpRequest r = request();
        List<HttpHeader> copy = r.getHeaders();
        try {
            copy.clear();
        } catch (UnsupportedOperationException immutable) {
            // an immutable copy is fine too
        }
        assertEquals(4, r.getHeaders().size());
    }

    @Test
    void constructorCopiesTheHeaderList() {
        List<HttpHeader> headers = new ArrayList<>(List.of(new HttpHeader("A", "1")));
        HttpRequest r = new HttpRequest("GET", "/", headers);
        headers.add(new HttpHeader("B", "2"));
        assertEquals(1, r.getHeaders().size());
    }

    @Test
    void addHeaderKeepsExistingHeadersOfTheSameName() {
        HttpRequest r = request();
        r.addHeader("X-Multi", "3");
        r.addHeader(new HttpHeader("X-Other", "o"));
        assertEquals(List.of("1", "2", "3"), r.getHeaders().stream()
                .filter(h -> h.name().equalsIgnoreCase("x-multi")).map(HttpHeader::value).toList());
        assertEquals(new HttpHeader("X-Other", "o"), r.getHeaders().get(5));
    }

    @Test
    void setHeaderReplacesEveryHeaderOfThatNameCaseInsensitively() {
        HttpRequest r = request();
        r.setHeader("X-MULTI", "only");
        List<HttpHeader> multi = r.getHeaders().stream().filter(h -> h.name().equalsIgnoreCase("x-multi")).toList();
        assertEquals(List.of(new HttpHeader("X-MULTI", "only")), multi);
        assertEquals(3, r.getHeaders().size());
    }

    @Test
    void setHeaderAddsAHeaderThatWasAbsent() {
        HttpRequest r = request();
        r.setHeader("X-New", "v");
        assertEquals("v", r.getHeader("x-new"));
    }

    @Test
    void removeHeaderRemovesEveryHeaderOfThatNameCaseInsensitively() {
        HttpRequest r = request();
        r.removeHeader("x-MULTI");
        assertEquals(List.of(new HttpHeader("Host", "h"), new HttpHeader("Accept", "*/*")), r.getHeaders());
        assertNull(r.getHeader("X-Multi"));
        r.removeHeader("Not-There");
        assertEquals(2, r.getHeaders().size());
    }

    @Test
    void nullMethodOrPathIsRejected() {
        assertThrows(RuntimeException.class, () -> new HttpRequest(null, "/", List.of()));
        assertThrows(RuntimeException.class, () -> new HttpRequest("GET", null, List.of()));
    }
}
