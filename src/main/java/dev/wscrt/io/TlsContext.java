package dev.wscrt.io;

import dev.wscrt.CrtResource;
import dev.wscrt.CrtRuntimeException;
import dev.wscrt.internal.NativeOptions;

/**
 * A TLS client configuration built from {@link TlsContextOptions}: trust anchors loaded, client
 * certificate parsed. Immutable and shareable by any number of connections on any threads; connections
 * keep what they need, so closing the context while they run is safe.
 */
public final class TlsContext extends CrtResource {
    private final String trustStore;

    /**
     * Loads the trust anchors and the client certificate the options name. Runs on the calling thread
     * (it may read files); the options are not kept.
     *
     * @param options what to trust and present, the TLS versions, ALPN and session resumption; not null
     * @throws IllegalArgumentException if {@code options} is null
     * @throws CrtRuntimeException {@link dev.wscrt.CrtError#TLS_NO_TRUST_STORE} when verification is on, no CA
     *         was given and no system CA bundle exists (the message lists the locations tried), or
     *         {@link dev.wscrt.CrtError#TLS_CONTEXT_FAILURE} for an unreadable certificate, key or CA file
     */
    public TlsContext(TlsContextOptions options) {
        if (options == null) {
            throw new IllegalArgumentException("options must not be null");
        }
        long handle;
        try {
            NativeOptions encoded = options.encodeForNative();
            handle = nativeNew(encoded.array(), encoded.length());
        } catch (CrtRuntimeException e) {
            if (!"WSCRT_ERROR_TLS_NO_TRUST_STORE".equals(e.errorName())) {
                throw e;
            }
            throw new CrtRuntimeException(e.errorCode(), "tried " + nativeTrustStoreLocations()
                    + "; set SSL_CERT_FILE / SSL_CERT_DIR or use withCertificateAuthority");
        }
        acquireNativeHandle(handle, TlsContext::nativeRelease);
        trustStore = options.describeTrust(nativeTrustStoreLocations());
    }

    /**
     * What this context verifies peers against, in words, as failures name it: the CA certificates
     * given in PEM, the CA file or directory given, the system trust store found, or nothing when
     * verification is off.
     *
     * @return the description, for example {@code "CA file /etc/myapp/ca.pem"}
     */
    public String trustStore() {
        return trustStore;
    }

    private static native long nativeNew(byte[] options, int length);

    private static native void nativeRelease(long handle);

    private static native String nativeTrustStoreLocations();
}
