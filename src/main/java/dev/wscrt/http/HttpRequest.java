package dev.wscrt.http;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * An HTTP/1.1 request head: method, path (with query) and headers in order. Not thread-safe; the
 * connect call copies it, so later changes do not affect a connection in progress.
 */
public final class HttpRequest {
    private final String method;
    private String path;
    private final List<HttpHeader> headers;

    public HttpRequest(String method, String path, List<HttpHeader> headers) {
        this.method = Objects.requireNonNull(method, "method");
        this.path = Objects.requireNonNull(path, "path");
        this.headers = new ArrayList<>(headers == null ? List.of() : headers);
    }

    public String getMethod() {
        return method;
    }

    public String getPath() {
        return path;
    }

    public void setPath(String path) {
        this.path = Objects.requireNonNull(path, "path");
    }

    /** A copy of the headers, in order. */
    public List<HttpHeader> getHeaders() {
        return List.copyOf(headers);
    }

    /** The first value of the header {@code name} (case-insensitive), or null. */
    public String getHeader(String name) {
        for (HttpHeader header : headers) {
            if (header.name().equalsIgnoreCase(name)) {
                return header.value();
            }
        }
        return null;
    }

    /** Adds a header, keeping any others of the same name. */
    public void addHeader(String name, String value) {
        headers.add(new HttpHeader(name, value));
    }

    public void addHeader(HttpHeader header) {
        headers.add(Objects.requireNonNull(header, "header"));
    }

    /** Replaces every header named {@code name} (case-insensitive) with one holding {@code value}. */
    public void setHeader(String name, String value) {
        HttpHeader replacement = new HttpHeader(name, value);
        int index = indexOf(name);
        removeHeader(name);
        headers.add(index < 0 ? headers.size() : index, replacement);
    }

    /** Removes every header named {@code name} (case-insensitive). */
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

    @Override
    public String toString() {
        return method + " " + path + " " + headers;
    }
}
