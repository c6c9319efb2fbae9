package dev.wscrt.websocket;

import dev.wscrt.CrtError;
import dev.wscrt.CrtRuntimeException;
import dev.wscrt.http.HttpHeader;
import dev.wscrt.http.HttpRequest;
import dev.wscrt.io.ClientBootstrap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Runs a connection's {@link HandshakeTransform} and then starts the connection attempt with its result,
 * or reports why not through the setup callback (see {@link HandshakeTransform} for the contract). The
 * transform is called on the thread of {@code connect}; {@link #finish} runs once, on the thread that
 * completed the transform's stage, or on the JDK's delay thread at the timeout.
 */
final class HandshakeTransformRun {
    private static final int FAILED = CrtError.WEBSOCKET_HANDSHAKE_TRANSFORM_FAILED.code();
    private static final int TIMED_OUT = CrtError.WEBSOCKET_HANDSHAKE_TRANSFORM_TIMEOUT.code();
    /** RFC 9110 5.6.2: the characters of a token (a header name) besides letters and digits. */
    private static final String TOKEN_SYMBOLS = "!#$%&'*+-.^_`|~";

    /** What the transform's stage ended with; the run's own future fails only at the timeout. */
    private record Outcome(HttpRequest request, Throwable failure) {
    }

    private final WebSocketConnectOptions options;
    private final ClientBootstrap bootstrap;
    private final WebSocketCallbacks callbacks;

    private HandshakeTransformRun(WebSocketConnectOptions options, ClientBootstrap bootstrap,
                                  WebSocketCallbacks callbacks) {
        this.options = options;
        this.bootstrap = bootstrap;
        this.callbacks = callbacks;
    }

    /** Calls the transform on this thread; the connection attempt (or the failure) follows when it completes. */
    static void start(WebSocketConnectOptions options, ClientBootstrap bootstrap, WebSocketCallbacks callbacks) {
        HandshakeTransformRun run = new HandshakeTransformRun(options, bootstrap, callbacks);
        CompletableFuture<Outcome> outcome = new CompletableFuture<>();
        outcome.orTimeout(options.handshakeTimeoutMs(), TimeUnit.MILLISECONDS).whenComplete(run::finish);
        try {
            CompletionStage<HttpRequest> stage = options.handshakeTransform().transform(copyOf(options.handshakeRequest()));
            if (stage == null) {
                throw new NullPointerException("the handshake transform returned null instead of a CompletionStage");
            }
            stage.whenComplete((request, failure) -> outcome.complete(new Outcome(request, failure)));
        } catch (Throwable t) {
            outcome.complete(new Outcome(null, t));
        }
    }

    private void finish(Outcome outcome, Throwable timeout) {
        if (timeout != null) {
            fail(TIMED_OUT, new TimeoutException("the handshake transform did not complete within "
                    + options.handshakeTimeoutMs() + " ms"));
            return;
        }
        if (outcome.failure() != null) {
            fail(FAILED, unwrap(outcome.failure()));
            return;
        }
        HttpRequest request;
        try {
            if (outcome.request() == null) {
                throw new IllegalArgumentException("the handshake transform completed with null instead of a request");
            }
            request = copyOf(outcome.request()); // checked and sent as it is now, whatever happens to the original
            check(request);
        } catch (IllegalArgumentException e) {
            fail(FAILED, e);
            return;
        }
        try {
            WebSocket.connectNow(options, request, bootstrap, callbacks);
        } catch (IllegalArgumentException e) {
            fail(FAILED, new IllegalArgumentException("the transformed handshake request is invalid: "
                    + e.getMessage(), e));
        } catch (CrtRuntimeException e) {
            fail(e.errorCode(), e);
        } catch (RuntimeException e) {
            fail(CrtError.INVALID_STATE.code(), e); // for example a bootstrap closed meanwhile
        }
    }

    private void fail(int errorCode, Throwable cause) {
        String server = options.host().indexOf(':') >= 0 ? "[" + options.host() + "]" : options.host();
        callbacks.setSetupFailure(errorCode, "transforming the handshake request " + options.handshakeRequest()
                .getMethod() + " " + options.handshakeRequest().getPath() + " for server " + server + ":"
                + options.port() + ", before connecting", cause);
        WebSocket.failSetup(bootstrap, callbacks, errorCode);
    }

    private static Throwable unwrap(Throwable failure) {
        Throwable t = failure;
        while (t instanceof CompletionException && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    static HttpRequest copyOf(HttpRequest request) {
        return new HttpRequest(request.getMethod(), request.getPath(), request.getHeaders());
    }

    /**
     * The checks of every handshake request, and those the bytes on the wire need: a path of visible ASCII
     * starting with '/', header names that are tokens, values of visible ASCII, spaces and tabs.
     *
     * @throws IllegalArgumentException naming the first problem
     */
    static void check(HttpRequest request) {
        try {
            HandshakeRequests.validate(request);
            String path = request.getPath();
            if (!path.startsWith("/")) {
                throw new IllegalArgumentException("the path must start with '/': '" + path + "'");
            }
            for (int i = 0; i < path.length(); i++) {
                char c = path.charAt(i);
                if (c <= 0x20 || c >= 0x7F) {
                    throw new IllegalArgumentException(String.format("the path holds U+%04X at index %d, which may"
                            + " not be sent raw (percent-encode it)", (int) c, i));
                }
            }
            for (HttpHeader header : request.getHeaders()) {
                checkHeader(header);
            }
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("the transformed handshake request is invalid: " + e.getMessage(), e);
        }
    }

    private static void checkHeader(HttpHeader header) {
        String name = header.name();
        if (name.isEmpty()) {
            throw new IllegalArgumentException("a header has an empty name");
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            boolean token = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || TOKEN_SYMBOLS.indexOf(c) >= 0;
            if (!token) {
                throw new IllegalArgumentException(String.format("header name '%s' holds U+%04X, not allowed in a"
                        + " header name", name, (int) c));
            }
        }
        String value = header.value();
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c != '\t' && (c < 0x20 || c >= 0x7F)) {
                throw new IllegalArgumentException(String.format("the value of header %s holds U+%04X at index %d,"
                        + " not allowed in a header value", name, (int) c, i));
            }
        }
    }
}
