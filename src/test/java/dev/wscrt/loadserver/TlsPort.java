package dev.wscrt.loadserver;

import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.io.File;
import javax.net.ssl.SSLException;

/**
 * The wss:// ports of a {@link LoadServer} with a certificate, each with a TLS server set up for one kind of
 * measurement. The key names the port in the server's READY line.
 */
public enum TlsPort {
    /** TLS 1.3 (JDK TLS), only full handshakes, made sure of as for {@link #TLS12_FULL}. */
    FULL("wss"),
    /** TLS 1.3 (JDK TLS) with the JDK's defaults: it issues tickets, so clients can resume. */
    RESUMABLE("wss-resume"),
    /**
     * For throughput: BoringSSL (netty-tcnative) when it is on the class path, else JDK TLS, so that the
     * server's TLS is not what limits the throughput scenarios.
     */
    DATA("wss-data"),
    /**
     * TLS 1.2 only (JDK TLS), only full handshakes: each connection's session is invalidated once its handshake
     * is done (no resumption by session id), and connections take turns among {@link #FULL_CONTEXTS} TLS
     * contexts, each with its own ticket key, so that the ticket a client offers is from another one. (A
     * session timeout above 7 days, used before, did not stop TLS 1.3 resumption: `openssl s_client -sess_in`
     * resumed.)
     */
    TLS12_FULL("wss12"),
    /** TLS 1.2 only (JDK TLS) with the JDK's defaults: clients can resume (by ticket or session id). */
    TLS12_RESUMABLE("wss12-resume");

    final String key;

    TlsPort(String key) {
        this.key = key;
    }

    /** The name of this port in the READY line ({@code wss-resume=<port>}). */
    public String key() {
        return key;
    }

    /**
     * TLS contexts that {@link #TLS12_FULL} connections take turns among: more than a client has handshakes
     * in flight (the benchmark: 16), so the ticket a client offers was issued by a context that is not the
     * one answering. Each context costs a parse of the key at start-up and a few KiB.
     */
    static final int FULL_CONTEXTS = 64;

    /** How many TLS contexts this port takes turns among. */
    int contexts() {
        return forgetsSessions() ? FULL_CONTEXTS : 1;
    }

    /** Whether the server invalidates each session once its handshake is done: the full-handshake ports. */
    boolean forgetsSessions() {
        return this == FULL || this == TLS12_FULL;
    }

    /** The TLS server of this port for the certificate and key. */
    SslContext context(File certificatePem, File privateKeyPem) throws SSLException {
        SslContextBuilder builder = SslContextBuilder.forServer(certificatePem, privateKeyPem);
        return switch (this) {
            case FULL, RESUMABLE -> builder.build();
            case DATA -> builder.sslProvider(OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK).build();
            case TLS12_FULL, TLS12_RESUMABLE -> builder.protocols("TLSv1.2").build();
        };
    }

    /** What {@link #DATA} runs on in this JVM: BoringSSL's version string, or "JDK". */
    static String dataProvider() {
        return OpenSsl.isAvailable() ? OpenSsl.versionString() : "JDK";
    }
}
