package dev.wscrt.http;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * An HTTP/1.1 request head: method, path (with query) and headers in order.
 *
 * <p>Not thread-safe: fill it on one thread. The connect call copies it, so later changes do not affect a
 * connection in progress. Header names and values are checked when the request is encoded, at connect
 * time: a field HTTP/1.1 does not allow (a control character, a line break) makes the connect call throw.
 */
public final class HttpRequest {
    private final String method;
    private String path;
    private final List<HttpHeader> headers;

    /**
     * A request head.
     *
     * @param method  the method, for an upgrade {@code GET}
     * @param path    the request target: path and query, for example {@code /chat?room=1}
     * @param headers the header fields in order, copied; null for none
     * @throws NullPointerException if {@code method} or {@code path} is null
     */
    public HttpRequest(String method, String path, List<HttpHeader> headers) {
        this.method = Objects.requireNonNull(method, "method");
        this.path = Objects.requireNonNull(path, "path");
        this.headers = new ArrayList<>(headers == null ? List.of() : headers);
    }

    /**
     * The method.
     *
     * @return the method, never null
     */
    public String getMethod() {
        return method;
    }

    /**
     * The request target.
     *
     * @return the path and query, never null
     */
    public String getPath() {
        return path;
    }

    /**
     * Replaces the request target.
     *
     * @param path the path and query
     * @throws NullPointerException if {@code path} is null
     */
    public void setPath(String path) {
        this.path = Objects.requireNonNull(path, "path");
    }

    /**
     * The header fields.
     *
     * @return an unmodifiable copy of the headers, in order
     */
    public List<HttpHeader> getHeaders() {
        return List.copyOf(headers);
    }

    /**
     * The value of a header field.
     *
     * @param name the field name, compared case-insensitively
     * @return the value of the first field of that name, or null if there is none
     */
    public String getHeader(String name) {
        for (HttpHeader header : headers) {
            if (header.name().equalsIgnoreCase(name)) {
                return header.value();
            }
        }
        return null;
    }

    /**
     * Adds a header field after the others, keeping any others of the same name.
     *
     * @param name  the field name
     * @param value the field value
     * @throws NullPointerException if {@code name} or {@code value} is null
     */
    public void addHeader(String name, String value) {
        headers.add(new HttpHeader(name, value));
    }

    /**
     * Adds a header field after the others, keeping any others of the same name.
     *
     * @param header the field to add
     * @throws NullPointerException if {@code header} is null
     */
    public void addHeader(HttpHeader header) {
        headers.add(Objects.requireNonNull(header, "header"));
    }

    /**
     * Replaces every header field named {@code name} (case-insensitive) with one holding {@code value},
     * where the first of them was, or at the end if there was none.
     *
     * @param name  the field name
     * @param value the field value
     * @throws NullPointerException if {@code name} or {@code value} is null
     */
    public void setHeader(String name, String value) {
        HttpHeader replacement = new HttpHeader(name, value);
        int index = indexOf(name);
        removeHeader(name);
        headers.add(index < 0 ? headers.size() : index, replacement);
    }

    /**
     * Removes every header field named {@code name} (case-insensitive).
     *
     * @param name the field name
     */
    public void removeHeader(String name) {
        headers.removeIf(header -> header.name().equalsIgnoreCase(name));
    }

    private int indexOf(String name) {
        for (int i = 0; i < headers.size(); i++) {
            if (headers.get(i).name().equalsIgnoreCase(name)) {
                return i;
            }
        }
        return -1;
    }

    /**
     * The request line parts and headers, for logs and messages.
     *
     * @return method, path and headers
     */
    @Override
    public String toString() {
        return method + " " + path + " " + headers;
    }
}
