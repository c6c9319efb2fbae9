package dev.wscrt.websocket;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * What a {@code ws://} or {@code wss://} URI means for a connection (RFC 6455 3 and 4.1): the host and
 * port to connect to, the {@code Host} header, the request-target, and whether TLS is used.
 *
 * @param host          the host to connect to (an IPv6 literal without brackets)
 * @param port          the port (80 for ws, 443 for wss unless given)
 * @param hostHeader    the {@code Host} header: the host (IPv6 in brackets), with the port unless it is
 *                      the scheme's default (RFC 9110 7.2)
 * @param requestTarget the path and query exactly as the URI's raw form has them, {@code /} for an empty
 *                      path; characters a request-target may not hold raw are percent-encoded as UTF-8
 * @param secure        true for wss
 */
record WebSocketUri(String host, int port, String hostHeader, String requestTarget, boolean secure) {

    /** @throws IllegalArgumentException naming the part of the URI that cannot be used */
    static WebSocketUri of(URI uri) {
        if (uri == null) {
            throw new IllegalArgumentException("uri must not be null");
        }
        String scheme = uri.getScheme() == null ? null : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!"ws".equals(scheme) && !"wss".equals(scheme)) {
            throw new IllegalArgumentException("scheme must be ws or wss: " + uri);
        }
        if (uri.getRawFragment() != null) {
            throw new IllegalArgumentException("a WebSocket URI must not have a fragment: " + uri);
        }
        if (uri.getRawUserInfo() != null) {
            throw new IllegalArgumentException("a WebSocket URI must not have user-info: " + uri);
        }
        String host = uri.getHost();
        if (host == null || host.isEmpty()) {
            throw new IllegalArgumentException("the URI has no host: " + uri);
        }
        boolean secure = scheme.equals("wss");
        int defaultPort = secure ? 443 : 80;
        int port = uri.getPort() == -1 ? defaultPort : uri.getPort();
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port out of range (1-65535): " + uri);
        }
        String connectHost = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        String hostHeader = port == defaultPort ? host : host + ":" + port;
        String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
        String target = uri.getRawQuery() == null ? path : path + "?" + uri.getRawQuery();
        return new WebSocketUri(connectHost, port, hostHeader, encodeForRequestTarget(target), secure);
    }

    /**
     * Percent-encodes (as UTF-8) every character that may not appear raw in an origin-form request-target
     * (RFC 9112 3.2.1, RFC 3986 3.3 and 3.4); what may (including existing {@code %XX} escapes) is kept.
     */
    static String encodeForRequestTarget(String target) {
        StringBuilder out = null;
        for (int i = 0; i < target.length(); i++) {
            char c = target.charAt(i);
            if (allowedRaw(c)) {
                if (out != null) {
                    out.append(c);
                }
                continue;
            }
            if (out == null) {
                out = new StringBuilder(target.length() + 16).append(target, 0, i);
            }
            int end = Character.isHighSurrogate(c) && i + 1 < target.length() ? i + 2 : i + 1;
            for (byte b : target.substring(i, end).getBytes(StandardCharsets.UTF_8)) {
                out.append('%').append(Character.toUpperCase(Character.forDigit((b >> 4) & 0xF, 16)))
                        .append(Character.toUpperCase(Character.forDigit(b & 0xF, 16)));
            }
            i = end - 1;
        }
        return out == null ? target : out.toString();
    }

    /** unreserved / sub-delims / ":" "@" "/" "?" and "%" (of an escape already in the raw form). */
    private static boolean allowedRaw(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                || "-._~!$&'()*+,;=:@/?%".indexOf(c) >= 0;
    }
}
