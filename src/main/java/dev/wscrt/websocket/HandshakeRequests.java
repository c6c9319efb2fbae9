package dev.wscrt.websocket;

import dev.wscrt.http.HttpHeader;
import dev.wscrt.http.HttpRequest;
import java.util.List;

/** The checks every handshake request passes before it is sent, whoever made it. */
final class HandshakeRequests {
    private HandshakeRequests() {
    }

    /**
     * Rejects a request that cannot open a WebSocket (RFC 6455 section 4.1): not a GET, no path, a missing or
     * wrong Upgrade, Connection or Sec-WebSocket-Version header, or CR, LF or NUL in the path or a header.
     *
     * @throws IllegalArgumentException naming the first problem
     */
    static void validate(HttpRequest request) {
        if (!"GET".equals(request.getMethod())) {
            throw new IllegalArgumentException("the handshake request must be a GET, not " + request.getMethod());
        }
        if (request.getPath().isEmpty()) {
            throw new IllegalArgumentException("the handshake request needs a path");
        }
        for (String required : List.of("Host", "Upgrade", "Connection", "Sec-WebSocket-Key",
                "Sec-WebSocket-Version")) {
            if (request.getHeader(required) == null) {
                throw new IllegalArgumentException("the handshake request lacks the " + required + " header");
            }
        }
        if (!"websocket".equalsIgnoreCase(request.getHeader("Upgrade").trim())) {
            throw new IllegalArgumentException("the Upgrade header must be 'websocket'");
        }
        if (!hasToken(request.getHeader("Connection"), "upgrade")) {
            throw new IllegalArgumentException("the Connection header must hold the 'Upgrade' token");
        }
        if (!"13".equals(request.getHeader("Sec-WebSocket-Version").trim())) {
            throw new IllegalArgumentException("Sec-WebSocket-Version must be 13");
        }
        for (HttpHeader header : request.getHeaders()) {
            if (containsLineBreak(header.name()) || containsLineBreak(header.value())) {
                throw new IllegalArgumentException("header " + header.name() + " contains CR, LF or NUL");
            }
        }
        if (containsLineBreak(request.getPath()) || request.getPath().contains(" ")) {
            throw new IllegalArgumentException("the path contains a space, CR, LF or NUL");
        }
    }

    /**
     * Offers {@code names} in the request's {@code Sec-WebSocket-Protocol} header, most preferred first.
     *
     * @throws IllegalArgumentException for no names, or a name that is not an HTTP token
     */
    static void offerSubprotocols(HttpRequest request, String... names) {
        if (names == null || names.length == 0) {
            throw new IllegalArgumentException("at least one subprotocol is needed");
        }
        for (String name : names) {
            if (name == null || name.isEmpty() || !name.chars().allMatch(c -> c > 0x20 && c < 0x7F
                    && "()<>@,;:\\\"/[]?={}".indexOf(c) < 0)) {
                throw new IllegalArgumentException("not a subprotocol token: '" + name + "'");
            }
        }
        request.setHeader("Sec-WebSocket-Protocol", String.join(", ", names));
    }

    /** Whether the comma-separated {@code list} holds {@code token} (case-insensitive, blanks trimmed). */
    private static boolean hasToken(String list, String token) {
        int start = 0;
        while (start <= list.length()) {
            int end = list.indexOf(',', start);
            if (end < 0) {
                end = list.length();
            }
            int from = start;
            int to = end;
            while (from < to && list.charAt(from) <= ' ') {
                from++;
            }
            while (to > from && list.charAt(to - 1) <= ' ') {
                to--;
            }
            if (to - from == token.length() && list.regionMatches(true, from, token, 0, token.length())) {
                return true;
            }
            start = end + 1;
        }
        return false;
    }

    private static boolean containsLineBreak(String text) {
        return text.indexOf('\r') >= 0 || text.indexOf('\n') >= 0 || text.indexOf('\0') >= 0;
    }
}
