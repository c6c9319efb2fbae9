package dev.wscrt.cli;

import dev.wscrt.Crt;
import dev.wscrt.CrtRuntimeException;
import dev.wscrt.http.HttpProxyOptions;
import dev.wscrt.io.TlsContext;
import dev.wscrt.io.TlsContextOptions;
import dev.wscrt.websocket.WebSocketConnection;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code wscrt}, a websocat-style command-line WebSocket client: each line of standard input goes out as
 * a message, each message received is written to standard output. The exit statuses are the constants
 * of this class; {@link #main} is the only entry point and runs on the main thread.
 */
@Command(name = "wscrt", mixinStandardHelpOptions = true, versionProvider = Wscrt.Version.class,
        sortOptions = false, usageHelpAutoWidth = true,
        description = "Connects to a ws:// or wss:// URI, sends each line of standard input as a text message "
                + "(without its line ending) and writes each message received to standard output: a text message "
                + "as UTF-8 followed by a newline, a binary message as its bytes unchanged (--hex: as one line of "
                + "hex). At the end of standard input it sends CLOSE 1000 and waits for the server's CLOSE. "
                + "Failures are reported on standard error with their stable WSCRT_ERROR_* name.",
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {
            "0:the close handshake completed with code 1000, 1001 or none",
            "1:an internal error (a bug)",
            "2:usage error (bad option or URI)",
            "3:connection failure (name lookup, TCP connect, proxy refusal, timeout)",
            "4:handshake refused (the server answered the upgrade with a non-101 status)",
            "5:TLS failure (an error named WSCRT_ERROR_TLS_*: certificate, handshake, files)",
            "6:abnormal close (the connection failed after it opened, or the server closed with another code)"})
public final class Wscrt implements Callable<Integer> {
    public static final int EXIT_OK = 0;
    public static final int EXIT_INTERNAL = 1;
    public static final int EXIT_USAGE = 2;
    public static final int EXIT_CONNECT = 3;
    public static final int EXIT_HANDSHAKE = 4;
    public static final int EXIT_TLS = 5;
    public static final int EXIT_ABNORMAL_CLOSE = 6;

    @Parameters(index = "0", paramLabel = "URI", description = "ws://host[:port]/path or wss://...")
    String uri;

    @Option(names = "--binary", description = "Send each line of standard input as a binary message.")
    boolean binary;

    @Option(names = "--hex", description = "Write each binary message received as one line of lowercase hex.")
    boolean hex;

    @Option(names = {"-H", "--header"}, paramLabel = "'Name: value'",
            description = "Add a header to the upgrade request (repeatable).")
    List<String> headers = new ArrayList<>();

    @Option(names = "--protocol", paramLabel = "<name>",
            description = "Offer this subprotocol (repeatable, in order of preference); -v shows the server's choice.")
    List<String> protocols = new ArrayList<>();

    @Option(names = "--proxy", paramLabel = "http://[user:pass@]host:port",
            description = "Connect through this HTTP proxy (CONNECT tunnel).")
    String proxy;

    @Option(names = "--cacert", paramLabel = "<file>",
            description = "Trust the CA certificates of this PEM file instead of the system store.")
    Path caCert;

    @Option(names = "--cert", paramLabel = "<file>", description = "Client certificate (PEM) for mTLS; needs --key.")
    Path cert;

    @Option(names = "--key", paramLabel = "<file>", description = "Private key (PEM) of --cert.")
    Path key;

    @Option(names = "--ping-interval", paramLabel = "<seconds>",
            description = "Keepalive: a PING every so many seconds while connected (default 30, 0 = none); "
                    + "the connection ends if nothing arrives within --pong-timeout of one.")
    Double pingInterval;

    @Option(names = "--pong-timeout", paramLabel = "<seconds>",
            description = "How long the server has to answer a keepalive PING (default 10, or the "
                    + "--ping-interval when that is set; 0 = no deadline).")
    Double pongTimeout;

    @Option(names = "--compress", description = "Offer permessage-deflate (RFC 7692); -v shows what the server agreed.")
    boolean compress;

    @Option(names = "--max-message-size", paramLabel = "<bytes>",
            description = "The largest message accepted (default 16 MiB); a longer one ends the connection "
                    + "with CLOSE 1009.")
    Long maxMessageSize;

    @Option(names = "--connect-timeout", paramLabel = "<seconds>",
            description = "How long the TCP connect, and then the upgrade, may each take (default 10).")
    Double connectTimeout;

    @Option(names = {"-v", "--verbose"}, description = "Handshake, ping and close details on standard error.")
    boolean verbose;

    private final InputStream in;
    private final PrintStream out;
    private final PrintStream err;

    Wscrt(InputStream in, PrintStream out, PrintStream err) {
        this.in = in;
        this.out = out;
        this.err = err;
    }

    public static void main(String[] args) {
        System.exit(run(args, System.in, System.out, System.err));
    }

    static int run(String[] args, InputStream in, PrintStream out, PrintStream err) {
        CommandLine cli = new CommandLine(new Wscrt(in, out, err));
        cli.setOut(new java.io.PrintWriter(out, true));
        cli.setErr(new java.io.PrintWriter(err, true));
        cli.setExecutionExceptionHandler((e, line, parsed) -> {
            if (e instanceof UsageException || e instanceof IllegalArgumentException) {
                err.println("wscrt: " + e.getMessage());
                return EXIT_USAGE;
            }
            err.println("wscrt: internal error: " + e);
            e.printStackTrace(err);
            return EXIT_INTERNAL;
        });
        return cli.execute(args);
    }

    @Override
    public Integer call() {
        URI target = parseUri();
        WebSocketConnection.Builder builder;
        try {
            builder = WebSocketConnection.builder(target);
        } catch (IllegalArgumentException e) {
            throw new UsageException("URI " + uri + ": " + e.getMessage());
        }
        for (String header : headers) {
            int colon = header.indexOf(':');
            if (colon <= 0) {
                throw new UsageException("-H wants 'Name: value', not '" + header + "'");
            }
            builder.header(header.substring(0, colon).trim(), header.substring(colon + 1).trim());
        }
        if (!protocols.isEmpty()) {
            builder.subprotocols(protocols.toArray(String[]::new));
        }
        if (proxy != null) {
            builder.proxy(parseProxy(proxy));
        }
        if (compress) {
            builder.compression(true);
        }
        if (maxMessageSize != null) {
            if (maxMessageSize <= 0) {
                throw new UsageException("--max-message-size must be positive: " + maxMessageSize);
            }
            builder.maxMessageSize(maxMessageSize);
        }
        if (connectTimeout != null) {
            Duration timeout = seconds("--connect-timeout", connectTimeout);
            builder.connectTimeout(timeout).handshakeTimeout(timeout);
        }
        if (pingInterval != null) {
            builder.pingInterval(secondsOrZero("--ping-interval", pingInterval));
        }
        if (pongTimeout != null) {
            if (pingInterval != null && pingInterval == 0) {
                throw new UsageException("--pong-timeout needs keepalive: --ping-interval is 0");
            }
            builder.pongTimeout(secondsOrZero("--pong-timeout", pongTimeout));
        }
        if ((cert == null) != (key == null)) {
            throw new UsageException("--cert and --key go together");
        }
        boolean tlsOptions = caCert != null || cert != null;
        if (tlsOptions && !"wss".equalsIgnoreCase(target.getScheme())) {
            throw new UsageException("--cacert, --cert and --key apply to wss:// URIs only");
        }
        if (tlsOptions) {
            try {
                builder.tlsContext(new TlsContext(tlsContextOptions()));
            } catch (CrtRuntimeException e) {
                err.println("wscrt: TLS setup failed: " + e.getMessage());
                return EXIT_TLS;
            }
        }
        return new Session(builder, target, binary, hex, verbose, in, out, err).run(headers, protocols);
    }

    private TlsContextOptions tlsContextOptions() {
        TlsContextOptions options = TlsContextOptions.createDefaultClient();
        if (caCert != null) {
            options.withCertificateAuthorityFromPath(readable("--cacert", caCert), null);
        }
        if (cert != null) {
            options.withMtlsFromPath(readable("--cert", cert), readable("--key", key));
        }
        return options;
    }

    private static String readable(String option, Path file) {
        if (!Files.isReadable(file) || Files.isDirectory(file)) {
            throw new UsageException(option + " " + file + ": not a readable file");
        }
        return file.toString();
    }

    private URI parseUri() {
        URI target;
        try {
            target = new URI(uri);
        } catch (URISyntaxException e) {
            throw new UsageException("not a URI: " + e.getMessage());
        }
        String scheme = target.getScheme();
        if (!"ws".equalsIgnoreCase(scheme) && !"wss".equalsIgnoreCase(scheme)) {
            throw new UsageException("the URI must start with ws:// or wss://: " + uri);
        }
        if (target.getRawPath() == null || target.getRawPath().isEmpty()) {
            try {
                target = new URI(scheme, target.getRawAuthority(), "/", target.getRawQuery(), null);
            } catch (URISyntaxException e) {
                throw new UsageException("not a URI: " + e.getMessage());
            }
        }
        return target;
    }

    static HttpProxyOptions parseProxy(String text) {
        URI proxyUri;
        try {
            proxyUri = new URI(text);
        } catch (URISyntaxException e) {
            throw new UsageException("--proxy: not a URI: " + e.getMessage());
        }
        if (!"http".equalsIgnoreCase(proxyUri.getScheme()) || proxyUri.getHost() == null) {
            throw new UsageException("--proxy wants http://[user:pass@]host:port, not " + text);
        }
        int port = proxyUri.getPort() == -1 ? 80 : proxyUri.getPort();
        String host = proxyUri.getHost();
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        HttpProxyOptions options = new HttpProxyOptions().withHost(host).withPort(port);
        String userInfo = proxyUri.getRawUserInfo();
        if (userInfo != null) {
            int colon = userInfo.indexOf(':');
            String user = colon < 0 ? userInfo : userInfo.substring(0, colon);
            String password = colon < 0 ? "" : userInfo.substring(colon + 1);
            options.withAuthType(HttpProxyOptions.AuthType.BASIC)
                    .withUsername(URLDecoder.decode(user, StandardCharsets.UTF_8))
                    .withPassword(URLDecoder.decode(password, StandardCharsets.UTF_8));
        }
        return options;
    }

    private static Duration secondsOrZero(String option, double value) {
        return value == 0 ? Duration.ZERO : seconds(option, value);
    }

    private static Duration seconds(String option, double value) {
        if (!(value > 0) || value > 86_400) {
            throw new UsageException(option + " must be between 0 and 86400 seconds: " + value);
        }
        return Duration.ofMillis(Math.max(1, Math.round(value * 1000)));
    }

    /** A usage error found after parsing: exit status {@link #EXIT_USAGE}. */
    static final class UsageException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        UsageException(String message) {
            super(message);
        }
    }

    /** {@code --version}: this client's version, the native runtime's, its OpenSSL, the platform. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() throws IOException {
            Properties properties = new Properties();
            try (InputStream in = Wscrt.class.getResourceAsStream("version.properties")) {
                if (in != null) {
                    properties.load(in);
                }
            }
            return new String[] {
                "wscrt " + properties.getProperty("version", "unknown") + " (native runtime " + Crt.version() + ")",
                Crt.opensslVersion(),
                System.getProperty("os.name") + " " + System.getProperty("os.arch") + ", Java "
                        + System.getProperty("java.version") + " (" + System.getProperty("java.vm.name") + ")"};
        }
    }
}
