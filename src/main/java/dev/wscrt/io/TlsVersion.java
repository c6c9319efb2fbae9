package dev.wscrt.io;

/** TLS protocol versions a client may require as its minimum. */
public enum TlsVersion {
    /** TLS 1.2 (RFC 5246). */
    TLSv1_2,
    /** TLS 1.3 (RFC 8446). */
    TLSv1_3
}
