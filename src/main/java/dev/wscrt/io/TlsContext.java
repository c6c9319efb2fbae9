package dev.wscrt.io;

import dev.wscrt.CrtResource;
import dev.wscrt.CrtRuntimeException;

/**
 * A TLS client configuration built from {@link TlsContextOptions}: trust anchors loaded, client
 * certificate parsed. Immutable and shareable by any number of connections on any threads; connections
 * keep what they need, so closing the context while they run is safe.
 *
 * @throws dev.wscrt.CrtRuntimeException from the constructor, named
 *         {@code WSCRT_ERROR_TLS_NO_TRUST_STORE} when verification is on, no CA was given and no system CA
 *         bundle exists, or {@code WSCRT_ERROR_TLS_CONTEXT_FAILURE} for an unreadable certificate or key
 */
public final class TlsContext extends CrtResource {
    private final String trustStore;

    public TlsContext(TlsContextOptions options) {
        if (options == null) {
            throw new IllegalArgumentException("options must not be null");
        }
        long handle;
        try {
            handle = nativeNew(options.encodeForNative());
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

    private static native long nativeNew(byte[] options);

    private static native void nativeRelease(long handle);

    private static native String nativeTrustStoreLocations();
}
