package dev.wscrt.io;

/** TLS protocol versions a client may require as its minimum. */
public enum TlsVersion {
    TLSv1_2,
    TLSv1_3
}
