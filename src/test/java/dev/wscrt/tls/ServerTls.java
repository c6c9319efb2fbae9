package dev.wscrt.tls;

import dev.wscrt.testing.Await;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.DelegatingSslContext;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * The server side of the TLS tests: a Netty {@link SslContext} (JDK provider) for one of the
 * {@link TestCertificates}, with the protocol versions, client authentication and ALPN a test asks for.
 * It records the {@link SslHandler} of every connection, so that a test can see what the server
 * negotiated (version, ALPN protocol, the client's certificate) even though the client API does not
 * expose it.
 *
 * <pre>{@code
 * ServerTls tls = ServerTls.forCertificate(certs.server()).protocols("TLSv1.3").alpn("x-wscrt-test").build();
 * NettyWebSocketServer server = NettyWebSocketServer.builder().sslContext(tls.sslContext()).start();
 * ...
 * assertEquals("TLSv1.3", tls.awaitHandshake(0).protocol());
 * }</pre>
 */
public final class ServerTls {

    /** What the server saw of one TLS handshake. {@code failure} is null when it succeeded. */
    public record Handshake(String protocol, String applicationProtocol, List<X509Certificate> clientCertificates,
                            Throwable failure) {
    }

    private final RecordingSslContext context;

    private ServerTls(RecordingSslContext context) {
        this.context = context;
    }

    public static Builder forCertificate(TestCertificates.Issued certificate) {
        return new Builder(certificate);
    }

    /** The context to give {@code NettyWebSocketServer.Builder.sslContext}. */
    public SslContext sslContext() {
        return context;
    }

    /** The SslHandlers made so far, one per TCP connection, in order. */
    public List<SslHandler> handlers() {
        return List.copyOf(context.handlers);
    }

    /** Waits until connection {@code index} finished its handshake (either way) and returns what it saw. */
    public Handshake awaitHandshake(int index) {
        Await.until("TLS connection " + index + " at the server", () -> context.handlers.size() > index);
        SslHandler handler = context.handlers.get(index);
        Await.until("the server's TLS handshake " + index + " to finish", () -> handler.handshakeFuture().isDone());
        Throwable failure = handler.handshakeFuture().cause();
        SSLSession session = handler.engine().getSession();
        List<X509Certificate> peer = List.of();
        if (failure == null) {
            try {
                Certificate[] chain = session.getPeerCertificates();
                peer = java.util.Arrays.stream(chain).map(c -> (X509Certificate) c).toList();
            } catch (SSLPeerUnverifiedException e) {
                peer = List.of();
            }
        }
        return new Handshake(session.getProtocol(), handler.applicationProtocol(), peer, failure);
    }

    /** Options for the server context; {@link #build()} makes it. */
    public static final class Builder {
        private final TestCertificates.Issued certificate;
        private String[] protocols = {"TLSv1.3", "TLSv1.2"};
        private boolean requireClientCertificate;
        private String[] alpn;

        private Builder(TestCertificates.Issued certificate) {
            this.certificate = certificate;
        }

        /** The TLS versions the server accepts (default TLSv1.3 and TLSv1.2). */
        public Builder protocols(String... values) {
            protocols = values.clone();
            return this;
        }

        /** Require a client certificate signed by the test CA (mTLS). */
        public Builder requireClientCertificate() {
            requireClientCertificate = true;
            return this;
        }

        /** ALPN protocols the server supports; it selects the first of them the client offers. */
        public Builder alpn(String... values) {
            alpn = values.clone();
            return this;
        }

        public ServerTls build() {
            SslContextBuilder b = SslContextBuilder.forServer(certificate.privateKey(), certificate.certificate())
                    .sslProvider(SslProvider.JDK)
                    .protocols(protocols);
            if (requireClientCertificate) {
                b.clientAuth(ClientAuth.REQUIRE).trustManager(TestCertificates.get().ca().certificate());
            }
            if (alpn != null) {
                b.applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                        ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                        ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, alpn));
            }
            try {
                return new ServerTls(new RecordingSslContext(b.build()));
            } catch (SSLException e) {
                throw new IllegalStateException("cannot build the server SslContext", e);
            }
        }
    }

    /** Hands out the delegate's handlers and remembers each. */
    private static final class RecordingSslContext extends DelegatingSslContext {
        private final List<SslHandler> handlers = new CopyOnWriteArrayList<>();

        RecordingSslContext(SslContext delegate) {
            super(delegate);
        }

        @Override
        protected void initEngine(SSLEngine engine) {
        }

        @Override
        protected void initHandler(SslHandler handler) {
            handler.setHandshakeTimeout(10, TimeUnit.SECONDS);
            handlers.add(handler);
        }
    }
}
