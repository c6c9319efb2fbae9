package dev.wscrt.http;

import java.util.Objects;

/**
 * One HTTP header field, as sent in the upgrade request or received in its response. Immutable.
 *
 * @param name  the field name, sent as given (HTTP compares names case-insensitively)
 * @param value the field value
 */
public record HttpHeader(String name, String value) {
    /**
     * Checks that both parts are present; the native side rejects names and values that HTTP/1.1 does
     * not allow when the request is sent.
     *
     * @param name  the field name
     * @param value the field value
     * @throws NullPointerException if {@code name} or {@code value} is null
     */
    public HttpHeader {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(value, "value");
    }
}
