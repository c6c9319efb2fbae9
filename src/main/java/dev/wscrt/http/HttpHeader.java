package dev.wscrt.http;

import java.util.Objects;

/** One HTTP header field. */
public record HttpHeader(String name, String value) {
    public HttpHeader {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(value, "value");
    }
}
