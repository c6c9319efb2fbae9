package dev.wscrt.tls;

import dev.wscrt.io.TlsContextOptions;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Certificates made at test time with BouncyCastle (EC P-256, SHA-256), so nothing secret or expiring
 * lives in the repository:
 *
 * <ul>
 *   <li>{@link #ca()}: the test CA, trusted by the client with {@code withCertificateAuthority(caPem)};
 *   <li>{@link #server()}: for DNS {@code localhost} and IP {@code 127.0.0.1}, signed by the CA;
 *   <li>{@link #expired()}: the same names, signed by the CA, not valid after yesterday;
 *   <li>{@link #wrongName()}: signed by the CA for DNS {@value #WRONG_NAME} only;
 *   <li>{@link #selfSigned()}: for {@code localhost} and {@code 127.0.0.1}, signed by itself;
 *   <li>{@link #client()}: a client certificate (mTLS) signed by the CA.
 * </ul>
 *
 * Made once per JVM on first use; thread-safe. Servers present the leaf alone (no chain), as most do.
 */
public final class TestCertificates {

    /** The only name in {@link #wrongName()}. */
    public static final String WRONG_NAME = "wrong.example";

    /** A certificate with its private key, as Java objects and as PEM text. */
    public record Issued(X509Certificate certificate, PrivateKey privateKey) {
        /** The certificate as PEM ("-----BEGIN CERTIFICATE-----"). */
        public String certificatePem() {
            return pem(certificate);
        }

        /** The private key as unencrypted PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----"). */
        public String privateKeyPem() {
            return pem(privateKey);
        }
    }

    private static final AtomicLong SERIAL = new AtomicLong(System.currentTimeMillis());
    private static final Duration VALIDITY = Duration.ofDays(30);

    private final Issued ca;
    private final Issued server;
    private final Issued expired;
    private final Issued wrongName;
    private final Issued selfSigned;
    private final Issued client;

    private TestCertificates() throws GeneralSecurityException, OperatorCreationException, IOException {
        Instant now = Instant.now();
        Instant start = now.minus(Duration.ofDays(1));
        KeyPair caKeys = newKeyPair();
        X500Name caName = new X500Name("CN=wscrt test CA,O=wscrt tests");
        ca = sign(caName, caKeys, caName, caKeys, start, now.plus(VALIDITY), true, null, List.of());
        server = leaf("CN=localhost", caName, caKeys, start, now.plus(VALIDITY), KeyPurposeId.id_kp_serverAuth,
                List.of(new GeneralName(GeneralName.dNSName, "localhost"),
                        new GeneralName(GeneralName.iPAddress, "127.0.0.1")));
        expired = leaf("CN=localhost expired", caName, caKeys, now.minus(Duration.ofDays(10)),
                now.minus(Duration.ofDays(1)), KeyPurposeId.id_kp_serverAuth,
                List.of(new GeneralName(GeneralName.dNSName, "localhost"),
                        new GeneralName(GeneralName.iPAddress, "127.0.0.1")));
        wrongName = leaf("CN=" + WRONG_NAME, caName, caKeys, start, now.plus(VALIDITY), KeyPurposeId.id_kp_serverAuth,
                List.of(new GeneralName(GeneralName.dNSName, WRONG_NAME)));
        KeyPair selfKeys = newKeyPair();
        X500Name selfName = new X500Name("CN=localhost self-signed");
        selfSigned = sign(selfName, selfKeys, selfName, selfKeys, start, now.plus(VALIDITY), false,
                KeyPurposeId.id_kp_serverAuth,
                List.of(new GeneralName(GeneralName.dNSName, "localhost"),
                        new GeneralName(GeneralName.iPAddress, "127.0.0.1")));
        client = leaf("CN=wscrt test client", caName, caKeys, start, now.plus(VALIDITY), KeyPurposeId.id_kp_clientAuth,
                List.of());
    }

    private static final class Holder {
        static final TestCertificates INSTANCE = create();

        private static TestCertificates create() {
            try {
                return new TestCertificates();
            } catch (GeneralSecurityException | OperatorCreationException | IOException e) {
                throw new IllegalStateException("cannot make the test certificates", e);
            }
        }
    }

    /** The certificates of this JVM (made on the first call, ~100 ms). */
    public static TestCertificates get() {
        return Holder.INSTANCE;
    }

    public Issued ca() {
        return ca;
    }

    public Issued server() {
        return server;
    }

    public Issued expired() {
        return expired;
    }

    public Issued wrongName() {
        return wrongName;
    }

    public Issued selfSigned() {
        return selfSigned;
    }

    public Issued client() {
        return client;
    }

    /** The CA certificate as PEM, for {@code TlsContextOptions.withCertificateAuthority}. */
    public String caPem() {
        return ca.certificatePem();
    }

    /** What a wss:// test client starts from: the default client options, trusting this CA only. */
    public TlsContextOptions clientTrustingTheCa() {
        return TlsContextOptions.createDefaultClient().withCertificateAuthority(caPem());
    }

    // ---- making them -------------------------------------------------------------------------

    private static KeyPair newKeyPair() throws GeneralSecurityException {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"), new SecureRandom());
        return generator.generateKeyPair();
    }

    private static Issued leaf(String subject, X500Name issuer, KeyPair issuerKeys, Instant notBefore, Instant notAfter,
                               KeyPurposeId purpose, List<GeneralName> names)
            throws GeneralSecurityException, OperatorCreationException, IOException {
        return sign(new X500Name(subject), newKeyPair(), issuer, issuerKeys, notBefore, notAfter, false, purpose,
                names);
    }

    private static Issued sign(X500Name subject, KeyPair subjectKeys, X500Name issuer, KeyPair issuerKeys,
                               Instant notBefore, Instant notAfter, boolean isCa, KeyPurposeId purpose,
                               List<GeneralName> names)
            throws GeneralSecurityException, OperatorCreationException, IOException {
        JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
        X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(issuer,
                BigInteger.valueOf(SERIAL.incrementAndGet()), Date.from(notBefore), Date.from(notAfter), subject,
                subjectKeys.getPublic());
        builder.addExtension(Extension.subjectKeyIdentifier, false,
                extensions.createSubjectKeyIdentifier(subjectKeys.getPublic()));
        builder.addExtension(Extension.authorityKeyIdentifier, false,
                extensions.createAuthorityKeyIdentifier(issuerKeys.getPublic()));
        if (isCa) {
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
            builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
        } else {
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
            builder.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purpose));
        }
        if (!names.isEmpty()) {
            builder.addExtension(Extension.subjectAlternativeName, false,
                    new GeneralNames(new ArrayList<>(names).toArray(new GeneralName[0])));
        }
        X509Certificate certificate = new JcaX509CertificateConverter()
                .getCertificate(builder.build(new JcaContentSignerBuilder("SHA256withECDSA")
                        .build(issuerKeys.getPrivate())));
        certificate.verify(issuerKeys.getPublic());
        return new Issued(certificate, subjectKeys.getPrivate());
    }

    private static String pem(Object object) {
        StringWriter text = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(text)) {
            if (object instanceof PrivateKey key) {
                writer.writeObject(new org.bouncycastle.openssl.jcajce.JcaPKCS8Generator(key, null));
            } else {
                writer.writeObject(object);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return text.toString();
    }
}
