package dev.wscrt.websocket;

import dev.wscrt.http.HttpHeader;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import javax.net.ssl.SSLSession;

/**
 * The server's refusal of the upgrade as the JDK's {@link java.net.http.WebSocketHandshakeException}
 * carries it: an {@link HttpResponse} with the status, the headers and the body as a String (the JDK
 * reads the refusing answer's body as a String too). {@link #request()} is a GET of the http/https form
 * of the WebSocket URI, as the JDK's.
 */
final class JdkHandshakeResponse implements HttpResponse<String> {
    private final int status;
    private final HttpHeaders headers;
    private final String body;
    private final URI uri;
    private final HttpRequest request;

    JdkHandshakeResponse(URI webSocketUri, WebSocketHandshakeException refused) {
        this.status = refused.status();
        Map<String, List<String>> map = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        if (refused.headers() != null) {
            for (HttpHeader header : refused.headers()) {
                map.computeIfAbsent(header.name(), k -> new ArrayList<>()).add(header.value());
            }
        }
        this.headers = HttpHeaders.of(map, (name, value) -> true);
        byte[] bytes = refused.body();
        this.body = bytes == null ? "" : new String(bytes, StandardCharsets.UTF_8);
        this.uri = httpForm(webSocketUri);
        this.request = HttpRequest.newBuilder(uri).GET().version(HttpClient.Version.HTTP_1_1).build();
    }

    private static URI httpForm(URI uri) {
        String text = uri.toString();
        String http = "ws".equalsIgnoreCase(uri.getScheme()) ? "http" + text.substring(2) : "https" + text.substring(3);
        try {
            return new URI(http);
        } catch (URISyntaxException e) {
            throw new IllegalStateException("the http form of a valid WebSocket URI: " + http, e);
        }
    }

    @Override
    public int statusCode() {
        return status;
    }

    @Override
    public HttpRequest request() {
        return request;
    }

    @Override
    public Optional<HttpResponse<String>> previousResponse() {
        return Optional.empty();
    }

    @Override
    public HttpHeaders headers() {
        return headers;
    }

    @Override
    public String body() {
        return body;
    }

    @Override
    public Optional<SSLSession> sslSession() {
        return Optional.empty();
    }

    @Override
    public URI uri() {
        return uri;
    }

    @Override
    public HttpClient.Version version() {
        return HttpClient.Version.HTTP_1_1;
    }

    @Override
    public String toString() {
        return "(GET " + uri + ") " + status;
    }
}
