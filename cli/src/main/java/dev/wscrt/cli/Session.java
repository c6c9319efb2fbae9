package dev.wscrt.cli;

import dev.wscrt.CrtRuntimeException;
import dev.wscrt.websocket.WebSocketConnection;
import dev.wscrt.websocket.WebSocketHandshakeException;
import dev.wscrt.websocket.WebSocketListener;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * One connection of the command-line client. The main thread connects and then waits for the end; a
 * daemon thread copies standard input to the connection; the listener runs on the connection's
 * event-loop thread and writes what arrives to standard output.
 */
final class Session implements WebSocketListener {
    /** Above this many bytes queued and not yet written, the stdin reader waits for its last send. */
    private static final long SEND_BACKLOG = 4L * 1024 * 1024;

    private final WebSocketConnection.Builder builder;
    private final URI uri;
    private final boolean binary;
    private final boolean hex;
    private final boolean verbose;
    private final InputStream in;
    private final PrintStream out;
    private final PrintStream err;
    /** The exit status, once the connection has ended. */
    private final CompletableFuture<Integer> ended = new CompletableFuture<>();

    Session(WebSocketConnection.Builder builder, URI uri, boolean binary, boolean hex,
            boolean verbose, InputStream in, PrintStream out, PrintStream err) {
        this.builder = builder;
        this.uri = uri;
        this.binary = binary;
        this.hex = hex;
        this.verbose = verbose;
        this.in = in;
        this.out = out;
        this.err = err;
    }

    /** Connects, runs until the connection has ended, and returns the exit status. */
    int run(List<String> headers, List<String> protocols) {
        if (verbose) {
            err.println("* connecting to " + uri);
            err.println("> GET " + uri.getRawPath() + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery()));
            headers.forEach(h -> err.println("> " + h));
            if (!protocols.isEmpty()) {
                err.println("> Sec-WebSocket-Protocol: " + String.join(", ", protocols));
            }
        }
        WebSocketConnection connection;
        try {
            connection = builder.connect(this).get();
        } catch (ExecutionException e) {
            return connectFailure(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Wscrt.EXIT_INTERNAL;
        }
        if (verbose) {
            err.println("< 101 Switching Protocols" + (connection.tlsVersion() == null ? ""
                    : " (" + connection.tlsVersion() + ")"));
            if (connection.extensions() != null) {
                err.println("< Sec-WebSocket-Extensions: " + connection.extensions());
            }
            if (connection.subprotocol() != null) {
                err.println("< Sec-WebSocket-Protocol: " + connection.subprotocol());
            }
        }
        // Ctrl-C or SIGTERM while open: CLOSE 1001 (going away), waiting a moment for the answer.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (!ended.isDone()) {
                try {
                    connection.close(1001, null).get(2, TimeUnit.SECONDS);
                } catch (Exception e) {
                    // The process is ending either way.
                }
            }
        }, "wscrt-going-away"));
        Thread reader = new Thread(() -> copyInput(connection), "wscrt-stdin");
        reader.setDaemon(true);
        reader.start();
        try {
            return ended.join();
        } finally {
            out.flush();
        }
    }

    private int connectFailure(Throwable cause) {
        if (cause instanceof WebSocketHandshakeException refused) {
            // The proxy refusing CONNECT is a connection failure: the server was never reached.
            boolean byProxy = refused.errorName().startsWith("WSCRT_ERROR_HTTP_PROXY_");
            err.println("wscrt: " + (byProxy ? "the proxy refused the connection: " : "handshake refused: ")
                    + refused.getMessage());
            if (verbose && refused.headers() != null) {
                refused.headers().forEach(h -> err.println("< " + h.name() + ": " + h.value()));
            }
            return byProxy ? Wscrt.EXIT_CONNECT : Wscrt.EXIT_HANDSHAKE;
        }
        if (cause instanceof CrtRuntimeException failure) {
            boolean tls = failure.errorName().startsWith("WSCRT_ERROR_TLS_");
            err.println("wscrt: " + (tls ? "TLS failure: " : "connection failed: ") + failure.getMessage());
            return tls ? Wscrt.EXIT_TLS : Wscrt.EXIT_CONNECT;
        }
        err.println("wscrt: connection failed: " + cause);
        return Wscrt.EXIT_CONNECT;
    }

    /** Standard input to messages, one per line; at its end, CLOSE 1000. Runs on the reader thread. */
    private void copyInput(WebSocketConnection connection) {
        try (InputStream input = new BufferedInputStream(in)) {
            byte[] line;
            while ((line = readLine(input)) != null && !ended.isDone()) {
                CompletableFuture<Void> sent = binary ? connection.sendBinary(line)
                        : connection.sendText(new String(line, StandardCharsets.UTF_8));
                if (connection.queuedBytes() > SEND_BACKLOG || sent.isCompletedExceptionally()) {
                    sent.join();
                }
            }
        } catch (IOException e) {
            err.println("wscrt: reading standard input: " + e.getMessage());
        } catch (CompletionException | CrtRuntimeException e) {
            // The connection ended while sending; the listener reports how.
            return;
        }
        if (!ended.isDone()) {
            if (verbose) {
                err.println("> CLOSE 1000");
            }
            try {
                connection.close(1000, null);
            } catch (CrtRuntimeException e) {
                // Already ending; the listener reports how.
            }
        }
    }

    /** The next line without its line ending (LF or CRLF), or null at the end of input. */
    private static byte[] readLine(InputStream input) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int b;
        while ((b = input.read()) != -1 && b != '\n') {
            line.write(b);
        }
        if (b == -1 && line.size() == 0) {
            return null;
        }
        byte[] bytes = line.toByteArray();
        if (bytes.length > 0 && bytes[bytes.length - 1] == '\r') {
            return java.util.Arrays.copyOf(bytes, bytes.length - 1);
        }
        return bytes;
    }

    // ---- WebSocketListener: the connection's event-loop thread ---------------------------------------

    @Override
    public void onText(WebSocketConnection connection, String text) {
        out.print(text);
        out.print('\n');
        out.flush();
    }

    @Override
    public void onBinary(WebSocketConnection connection, ByteBuffer data) {
        byte[] bytes = new byte[data.remaining()];
        data.get(bytes);
        if (hex) {
            out.print(HexFormat.of().formatHex(bytes));
            out.print('\n');
        } else {
            out.write(bytes, 0, bytes.length);
        }
        out.flush();
    }

    @Override
    public void onPong(WebSocketConnection connection, ByteBuffer data) {
        if (verbose) {
            err.println("< PONG");
        }
    }

    @Override
    public void onPing(WebSocketConnection connection, ByteBuffer data) {
        if (verbose) {
            err.println("< PING (answered)");
        }
    }

    @Override
    public void onClosing(WebSocketConnection connection, int code, String reason) {
        if (verbose) {
            err.println("< CLOSE " + code + (reason.isEmpty() ? "" : " " + reason));
        }
    }

    @Override
    public void onClosed(WebSocketConnection connection, int code, String reason) {
        boolean normal = code == 1000 || code == 1001 || code == WebSocketConnection.NO_STATUS_CODE;
        if (!normal) {
            err.println("wscrt: the server closed with code " + code + (reason.isEmpty() ? "" : ": " + reason));
        } else if (verbose) {
            err.println("* closed cleanly (" + code + ")");
        }
        ended.complete(normal ? Wscrt.EXIT_OK : Wscrt.EXIT_ABNORMAL_CLOSE);
    }

    @Override
    public void onError(WebSocketConnection connection, Throwable error) {
        err.println("wscrt: the connection failed: " + error.getMessage());
        ended.complete(Wscrt.EXIT_ABNORMAL_CLOSE);
    }
}
