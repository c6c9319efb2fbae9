package dev.wscrt.io;

import dev.wscrt.internal.NativeOptions;
import java.util.List;
import java.util.Objects;

/**
 * How TLS client connections verify servers and identify themselves. Start from
 * {@link #createDefaultClient()}: peer and host-name verification on, the system's CA bundle, TLS 1.2 or
 * newer, TLS session resumption on. Each {@code with} method returns this object. Build a {@link TlsContext} from it.
 */
public final class TlsContextOptions {
    private boolean verifyPeer = true;
    private String caPem;
    private String caFile;
    private String caDir;
    private String certPem;
    private String keyPem;
    private String certFile;
    private String keyFile;
    private TlsVersion minimumVersion = TlsVersion.TLSv1_2;
    private TlsVersion maximumVersion;
    private List<String> alpn = List.of();
    private boolean sessionResumption = true;
    private int sessionCacheSize;

    private TlsContextOptions() {
    }

    /**
     * Verification on, the system trust store, TLS 1.2 minimum, no client certificate, no ALPN.
     *
     * @return new options with these defaults, and session resumption on
     */
    public static TlsContextOptions createDefaultClient() {
        return new TlsContextOptions();
    }

    /**
     * Whether to verify the server's certificate chain and host name (default true).
     *
     * @param value true to verify (the default); false to accept any certificate for any name
     * @return this
     */
    public TlsContextOptions withVerifyPeer(boolean value) {
        verifyPeer = value;
        return this;
    }

    /**
     * Trust these PEM certificates instead of the system store.
     *
     * @param pem one or more PEM certificates
     * @return this
     */
    public TlsContextOptions withCertificateAuthority(String pem) {
        caPem = Objects.requireNonNull(pem, "pem");
        return this;
    }

    /**
     * Trust a PEM bundle file and/or a hashed certificate directory instead of the system store.
     *
     * @param file a PEM bundle file, or null
     * @param dir a directory of hashed certificates (c_rehash), or null
     * @return this
     * @throws IllegalArgumentException if both are null
     */
    public TlsContextOptions withCertificateAuthorityFromPath(String file, String dir) {
        if (file == null && dir == null) {
            throw new IllegalArgumentException("a file or a directory is required");
        }
        caFile = file;
        caDir = dir;
        return this;
    }

    /**
     * Present this client certificate (PEM, optionally followed by its chain) and private key (mTLS).
     *
     * @param certificatePem the client certificate in PEM, optionally followed by its chain; not null
     * @param privateKeyPem the certificate's private key in PEM, not null
     * @return this
     */
    public TlsContextOptions withMtls(String certificatePem, String privateKeyPem) {
        certPem = Objects.requireNonNull(certificatePem, "certificatePem");
        keyPem = Objects.requireNonNull(privateKeyPem, "privateKeyPem");
        certFile = null;
        keyFile = null;
        return this;
    }

    /**
     * As {@link #withMtls} with PEM files.
     *
     * @param certificateFile the path of a PEM file with the certificate (and optionally its chain), not null
     * @param privateKeyFile the path of a PEM file with the certificate's private key, not null
     * @return this
     */
    public TlsContextOptions withMtlsFromPath(String certificateFile, String privateKeyFile) {
        certFile = Objects.requireNonNull(certificateFile, "certificateFile");
        keyFile = Objects.requireNonNull(privateKeyFile, "privateKeyFile");
        certPem = null;
        keyPem = null;
        return this;
    }

    /**
     * The oldest TLS version to accept (default TLS 1.2).
     *
     * @param version {@link TlsVersion#TLSv1_2} or {@link TlsVersion#TLSv1_3}, not null
     * @return this
     */
    public TlsContextOptions withMinimumTlsVersion(TlsVersion version) {
        minimumVersion = Objects.requireNonNull(version, "version");
        return this;
    }

    /**
     * The newest TLS version to offer (default: the newest known); mainly to force TLS 1.2.
     *
     * @param version {@link TlsVersion#TLSv1_2} or {@link TlsVersion#TLSv1_3}; null for the newest known
     * @return this
     */
    public TlsContextOptions withMaximumTlsVersion(TlsVersion version) {
        maximumVersion = version;
        return this;
    }

    /**
     * ALPN protocol names to offer, in preference order.
     *
     * @param protocols protocol names, most preferred first: each 1 to 255 characters, without {@code ;}
     * @return this
     * @throws IllegalArgumentException for a name that is empty, longer than 255 characters or holds {@code ;}
     */
    public TlsContextOptions withAlpnList(String... protocols) {
        alpn = TlsConnectionOptions.checkAlpn(protocols);
        return this;
    }

    /**
     * Whether connections made with the context resume TLS sessions (default true). The context keeps
     * the last session each server gave it (a TLS 1.3 ticket, a TLS 1.2 session id or ticket) and offers
     * it on the next handshake with that server, which then skips the certificate and its check (TLS 1.2
     * also skips the key exchange; TLS 1.3 still makes one, as only key exchanges with forward secrecy are
     * offered). A server is one server name at one host and port: a session never crosses to another, nor
     * to another context. False: every connection makes a full handshake.
     *
     * @param value true to resume sessions (the default); false for a full handshake every time
     * @return this
     */
    public TlsContextOptions withSessionResumption(boolean value) {
        sessionResumption = value;
        return this;
    }

    /**
     * How many servers' sessions the context keeps (default 64); when full, the least recently used
     * one goes.
     *
     * @param size the number of servers, 1 to 65536
     * @return this
     * @throws IllegalArgumentException if {@code size} is out of range
     */
    public TlsContextOptions withSessionCacheSize(int size) {
        if (size < 1 || size > 65536) {
            throw new IllegalArgumentException("the session cache size must be 1 to 65536: " + size);
        }
        sessionCacheSize = size;
        return this;
    }

    /** These options as {@code src/native/io_jni.c} reads them (see {@link NativeOptions}). */
    NativeOptions encodeForNative() {
        NativeOptions out = new NativeOptions(512)
                .putBoolean("verify_peer", verifyPeer)
                .putString("ca_pem", caPem)
                .putString("ca_file", caFile)
                .putString("ca_dir", caDir)
                .putString("cert_pem", certPem)
                .putString("key_pem", keyPem)
                .putString("cert_file", certFile)
                .putString("key_file", keyFile)
                .putInt("minimum_version", versionCode(minimumVersion))
                .putInt("maximum_version", versionCode(maximumVersion))
                .putBoolean("session_resumption", sessionResumption)
                .putInt("session_cache_size", sessionCacheSize);
        if (!alpn.isEmpty()) {
            out.putString("alpn", String.join(";", alpn));
        }
        return out;
    }

    /** The values of the C enum wscrt_tls_version. */
    private static int versionCode(TlsVersion version) {
        if (version == null) {
            return 0;
        }
        return version == TlsVersion.TLSv1_2 ? 1 : 2;
    }

    /**
     * The trust anchors a context made from these options verifies peers with, in words, for error
     * messages: the CA PEM, file or directory given, else the system trust store the native side will
     * pick (the first readable of {@code locations}, the native probe order), else "no trust store".
     */
    String describeTrust(String locations) {
        if (!verifyPeer) {
            return "nothing (peer verification is off)";
        }
        java.util.List<String> given = new java.util.ArrayList<>();
        if (caPem != null) {
            given.add("the CA certificates given in PEM");
        }
        if (caFile != null) {
            given.add("CA file " + caFile);
        }
        if (caDir != null) {
            given.add("CA directory " + caDir);
        }
        if (!given.isEmpty()) {
            return String.join(" and ", given);
        }
        String envFile = System.getenv("SSL_CERT_FILE");
        String envDir = System.getenv("SSL_CERT_DIR");
        if ((envFile != null && !envFile.isEmpty()) || (envDir != null && !envDir.isEmpty())) {
            return "the system trust store from SSL_CERT_FILE=" + envFile + ", SSL_CERT_DIR=" + envDir;
        }
        for (String location : locations.split(", ")) {
            boolean directory = location.endsWith(" (directory)");
            java.nio.file.Path path = java.nio.file.Path.of(location.replace(" (directory)", ""));
            if (directory ? java.nio.file.Files.isDirectory(path)
                    : java.nio.file.Files.isRegularFile(path) && java.nio.file.Files.isReadable(path)) {
                return "the system trust store " + path + (directory ? " (directory)" : "");
            }
        }
        return "no trust store (tried " + locations + ")";
    }
}
