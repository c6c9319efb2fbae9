package dev.wscrt.websocket;

import dev.wscrt.CrtResource;
import dev.wscrt.CrtRuntimeException;
import dev.wscrt.http.HttpHeader;
import dev.wscrt.http.HttpRequest;
import dev.wscrt.internal.NativeHandles;
import dev.wscrt.internal.NativeOptions;
import dev.wscrt.io.ClientBootstrap;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * A client WebSocket connection (RFC 6455), obtained from {@link #connect}'s setup callback.
 *
 * <p>Every method is thread-safe. Callbacks run on the connection's event-loop thread; see
 * {@link WebSocketConnectOptions} for what they may do. The native side holds the callbacks until the
 * connection has shut down, but never the WebSocket itself: a WebSocket the program no longer references
 * (callbacks that keep it count as a reference) is closed by a {@link java.lang.ref.Cleaner} with the
 * close handshake, and its {@code onConnectionShutdown} still runs, exactly once. Call {@link #close()}
 * when done with a connection rather than relying on the collector.
 */
public final class WebSocket extends CrtResource {
    /** The largest payload RFC 6455 allows in one frame (a 63-bit length). */
    public static final long MAX_PAYLOAD_LENGTH = Long.MAX_VALUE;
    private static final int MAX_CONTROL_PAYLOAD = 125;
    private static final SecureRandom KEY_RANDOM = new SecureRandom();

    /**
     * Guards the native handle against release while another thread uses it: bit 0 is set by close(),
     * and every native call adds {@link #USER} while it runs. The handle is released (binding freed on
     * the native side once the connection has also shut down) when close() was called and no call is in
     * flight; an unreachable WebSocket is released by the Cleaner. A field updated through {@link #USAGE}
     * rather than an AtomicLong: one object less per connection.
     */
    private volatile long usage;
    private static final long CLOSED = 1;
    private static final long USER = 2;
    private static final VarHandle USAGE;

    static {
        try {
            USAGE = MethodHandles.lookup().findVarHandle(WebSocket.class, "usage", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /**
     * What the handshakes settled; null when nothing was (ws:// without a subprotocol or an extension, the
     * common case, which then holds four fields fewer).
     */
    private final Negotiated negotiated;
    private final SendCompletions completions;

    private record Negotiated(String subprotocol, String tlsVersion, String alpnProtocol, boolean tlsSessionResumed,
                              String extensions) {
    }

    /** Created by the native setup upcall with the binding's handle. */
    WebSocket(long handle, SendCompletions completions) {
        this.completions = completions;
        String subprotocol = nativeSubprotocol(handle);
        String tlsVersion = nativeTlsVersion(handle);
        String alpnProtocol = nativeAlpnProtocol(handle);
        boolean tlsSessionResumed = nativeTlsSessionResumed(handle);
        String extensions = nativeExtensions(handle);
        this.negotiated = subprotocol == null && tlsVersion == null && alpnProtocol == null && extensions == null
                ? null
                // A handful of distinct versions: one string each, not one per connection.
                : new Negotiated(subprotocol, tlsVersion == null ? null : tlsVersion.intern(), alpnProtocol,
                        tlsSessionResumed, extensions);
        acquireNativeHandle(handle, WebSocket::nativeRelease);
    }

    /**
     * Starts connecting; {@code onConnectionSetup} reports the outcome exactly once, on an event-loop
     * thread. Invalid options throw {@link IllegalArgumentException} and no callback runs. With a
     * {@link HandshakeTransform}, the transform is called first, on this thread, and the connection
     * attempt starts when its stage completes (see there).
     *
     * @param options where to connect, how, and the callbacks; made by {@link WebSocketConnectOptions.Builder#build()}
     * @throws IllegalArgumentException if {@code options} is null or its handshake request cannot open a WebSocket
     */
    public static void connect(WebSocketConnectOptions options) {
        if (options == null) {
            throw new IllegalArgumentException("options must not be null");
        }
        connect(options, new WebSocketCallbacks(options));
    }

    /** Starts connecting with the given callbacks (the message API passes its own). */
    static void connect(WebSocketConnectOptions options, WebSocketCallbacks callbacks) {
        HandshakeRequests.validate(options.handshakeRequest());
        ClientBootstrap bootstrap =
                options.bootstrap() != null ? options.bootstrap() : ClientBootstrap.getOrCreateStaticDefault();
        callbacks.attempt(ConnectAttempt.of(options));
        if (options.handshakeTransform() != null) {
            HandshakeTransformRun.start(options, bootstrap, callbacks);
            return;
        }
        connectNow(options, options.handshakeRequest(), bootstrap, callbacks);
    }

    /** Starts the connection attempt with {@code request}; returns at once (nothing here blocks). */
    static void connectNow(WebSocketConnectOptions options, HttpRequest request, ClientBootstrap bootstrap,
                           WebSocketCallbacks callbacks) {
        NativeOptions encoded = ConnectEncoding.encode(options, bootstrap, request);
        nativeConnect(callbacks, encoded.array(), encoded.length());
        // The encoding carries native handles: keep their owners reachable until the native side holds them.
        Reference.reachabilityFence(bootstrap);
        Reference.reachabilityFence(options);
    }

    /**
     * Reports a setup failure found before any connection attempt (the handshake transform's) like any
     * other: {@code onSetup} runs once, on an event-loop thread of {@code bootstrap} (of the default
     * bootstrap if that one was closed meanwhile), and no shutdown follows.
     */
    static void failSetup(ClientBootstrap bootstrap, WebSocketCallbacks callbacks, int errorCode) {
        ClientBootstrap loops = bootstrap;
        long handle;
        try {
            handle = NativeHandles.of(loops);
        } catch (IllegalStateException closed) {
            loops = ClientBootstrap.getOrCreateStaticDefault();
            handle = NativeHandles.of(loops);
        }
        nativeFailSetup(callbacks, handle, errorCode);
        Reference.reachabilityFence(loops);
    }

    /**
     * A GET request with the five headers the upgrade needs ({@code Host}, {@code Upgrade: websocket},
     * {@code Connection: Upgrade}, a fresh {@code Sec-WebSocket-Key}, {@code Sec-WebSocket-Version: 13}).
     * Add headers or change the path before passing it to {@link WebSocketConnectOptions}.
     *
     * @param host the {@code Host} header's value (the server's name, and {@code :port} for a non-default port)
     * @param path the request target (path and query, starting with {@code /}); null or empty for {@code /}
     * @return a new request, which the caller may change
     * @throws IllegalArgumentException for a missing host, or a path that does not start with {@code /}
     */
    public static HttpRequest createHandshakeRequest(String host, String path) {
        if (host == null || host.isEmpty()) {
            throw new IllegalArgumentException("host is required");
        }
        if (path != null && !path.isEmpty() && !path.startsWith("/") && !path.equals("*")) {
            throw new IllegalArgumentException("the path must start with '/': " + path);
        }
        byte[] nonce = new byte[16];
        KEY_RANDOM.nextBytes(nonce);
        List<HttpHeader> headers = new ArrayList<>(5);
        headers.add(new HttpHeader("Host", host));
        headers.add(new HttpHeader("Upgrade", "websocket"));
        headers.add(new HttpHeader("Connection", "Upgrade"));
        headers.add(new HttpHeader("Sec-WebSocket-Key", Base64.getEncoder().encodeToString(nonce)));
        headers.add(new HttpHeader("Sec-WebSocket-Version", "13"));
        return new HttpRequest("GET", path == null || path.isEmpty() ? "/" : path, headers);
    }

    /**
     * The payload of a CLOSE frame: a 2-byte status code and a UTF-8 reason (at most 123 bytes).
     *
     * @param statusCode the status code, 0 to 65535; {@link #sendFrame} accepts only 1000-1003, 1007-1014 and
     *                   3000-4999 (RFC 6455 7.4)
     * @param reason the reason, encoded as UTF-8 (at most 123 bytes); null for none
     * @return a new array: the code in network byte order, then the reason's bytes
     * @throws IllegalArgumentException for a code out of range or a reason over 123 bytes
     */
    public static byte[] closePayload(int statusCode, String reason) {
        if (statusCode < 0 || statusCode > 0xFFFF) {
            throw new IllegalArgumentException("status code out of range: " + statusCode);
        }
        byte[] text = reason == null ? new byte[0] : reason.getBytes(StandardCharsets.UTF_8);
        if (text.length > MAX_CONTROL_PAYLOAD - 2) {
            throw new IllegalArgumentException("close reason longer than 123 bytes");
        }
        byte[] payload = new byte[2 + text.length];
        payload[0] = (byte) (statusCode >>> 8);
        payload[1] = (byte) statusCode;
        System.arraycopy(text, 0, payload, 2, text.length);
        return payload;
    }

    /**
     * Queues a frame. Frames go out in call order; the payload is copied before this returns.
     * {@code onComplete} (may be null) runs exactly once, on the event-loop thread: with a null exception
     * once the frame is in the socket, or with the reason it was not sent (connection closed, CLOSE
     * already sent). After {@link #close()} it runs at once on the calling thread, with
     * {@code WSCRT_ERROR_WEBSOCKET_CONNECTION_CLOSED}.
     *
     * @param opcode the frame's type, not null
     * @param payload the payload, copied before this returns; null for none; at most 125 bytes in a control frame
     * @param fin whether this frame ends its message (false: CONTINUATION frames follow); control frames must be final
     * @param onComplete called once, on the event-loop thread (on this thread once {@link #close()} was called),
     *                   when the frame has been written or has failed (its exception then says why); null for none
     * @throws IllegalArgumentException for a null opcode, or a control frame with {@code fin == false} or a payload
     *                                  over 125 bytes
     * @throws CrtRuntimeException       named {@code WSCRT_ERROR_WEBSOCKET_SEND_QUEUE_FULL} when the frame would
     *                                  take the bytes queued and not yet written past the send queue limit;
     *                                  nothing is sent, {@code onComplete} does not run, the connection stays up.
     *                                  Likewise {@code WSCRT_ERROR_WEBSOCKET_SEND_UNEXPECTED_CONTINUATION} or
     *                                  {@code WSCRT_ERROR_WEBSOCKET_SEND_EXPECTED_CONTINUATION} for a frame out of
     *                                  fragment order, {@code WSCRT_ERROR_WEBSOCKET_SEND_INVALID_UTF8} for TEXT
     *                                  that is not UTF-8 (checked across fragments), and
     *                                  {@code WSCRT_ERROR_WEBSOCKET_SEND_INVALID_CLOSE} for a CLOSE payload that may
     *                                  not be sent
     */
    public void sendFrame(Opcode opcode, byte[] payload, boolean fin, Consumer<OnSendFrameCompleteData> onComplete) {
        int length = payload == null ? 0 : payload.length;
        checkFrame(opcode, length, fin);
        if (!enter()) {
            completeClosed(onComplete);
            return;
        }
        try {
            send(opcode, payload, null, 0, length, fin, onComplete);
        } finally {
            exit();
        }
    }

    /**
     * As {@link #sendFrame(Opcode, byte[], boolean, Consumer)}; sends the buffer's remaining bytes without
     * changing its position.
     *
     * @param opcode the frame's type, not null
     * @param payload the payload: the buffer's remaining bytes, copied before this returns; null for none
     * @param fin whether this frame ends its message (false: CONTINUATION frames follow); control frames must be final
     * @param onComplete called once when the frame has been written or has failed, as for a {@code byte[]} payload;
     *                   null for none
     */
    public void sendFrame(Opcode opcode, ByteBuffer payload, boolean fin,
                          Consumer<OnSendFrameCompleteData> onComplete) {
        if (payload == null) {
            sendFrame(opcode, (byte[]) null, fin, onComplete);
            return;
        }
        int length = payload.remaining();
        checkFrame(opcode, length, fin);
        if (!payload.isDirect() && !payload.hasArray()) {
            byte[] copy = new byte[length];
            payload.duplicate().get(copy);
            sendFrame(opcode, copy, fin, onComplete);
            return;
        }
        if (!enter()) {
            completeClosed(onComplete);
            return;
        }
        try {
            if (payload.isDirect()) {
                send(opcode, null, payload, payload.position(), length, fin, onComplete);
            } else {
                send(opcode, payload.array(), null, payload.arrayOffset() + payload.position(), length, fin,
                        onComplete);
            }
        } finally {
            exit();
        }
    }

    /**
     * As {@link #sendFrame(Opcode, byte[], boolean, Consumer)} with the string's UTF-8 bytes.
     *
     * @param opcode the frame's type, not null
     * @param payload the payload, sent as its UTF-8 bytes; null for none
     * @param fin whether this frame ends its message (false: CONTINUATION frames follow); control frames must be final
     * @param onComplete called once when the frame has been written or has failed, as for a {@code byte[]} payload;
     *                   null for none
     */
    public void sendFrame(Opcode opcode, String payload, boolean fin, Consumer<OnSendFrameCompleteData> onComplete) {
        sendFrame(opcode, payload == null ? null : payload.getBytes(StandardCharsets.UTF_8), fin, onComplete);
    }

    /**
     * A final frame without completion callback.
     *
     * @param opcode the frame's type, not null
     * @param payload the payload, copied before this returns; null for none
     */
    public void sendFrame(Opcode opcode, byte[] payload) {
        sendFrame(opcode, payload, true, null);
    }

    /**
     * A final frame without completion callback.
     *
     * @param opcode the frame's type, not null
     * @param payload the payload: the buffer's remaining bytes, copied before this returns; null for none
     */
    public void sendFrame(Opcode opcode, ByteBuffer payload) {
        sendFrame(opcode, payload, true, null);
    }

    /**
     * A final frame without completion callback.
     *
     * @param opcode the frame's type, not null
     * @param payload the payload, sent as its UTF-8 bytes; null for none
     */
    public void sendFrame(Opcode opcode, String payload) {
        sendFrame(opcode, payload, true, null);
    }

    /**
     * A final frame with an empty payload and no completion callback.
     *
     * @param opcode the frame's type, not null
     */
    public void sendFrame(Opcode opcode) {
        sendFrame(opcode, (byte[]) null, true, null);
    }

    private static void checkFrame(Opcode opcode, int length, boolean fin) {
        if (opcode == null) {
            throw new IllegalArgumentException("opcode must not be null");
        }
        if (!opcode.isDataFrame()) {
            if (!fin) {
                throw new IllegalArgumentException("Control frames must be final.");
            }
            if (length > MAX_CONTROL_PAYLOAD) {
                throw new IllegalArgumentException("Control frame payloads must not exceed 125 bytes: " + length);
            }
        }
    }

    /**
     * Bytes of frames sent and not yet written to the socket (see
     * {@link WebSocketConnectOptions.Builder#sendQueueLimit}); 0 once the connection is closed.
     *
     * @return the bytes of those frames, headers included; 0 once {@link #close()} was called
     */
    public long queuedBytes() {
        if (!enter()) {
            return 0;
        }
        try {
            return nativeQueuedBytes(nativeHandle());
        } finally {
            exit();
        }
    }

    /**
     * A future that completes once at most {@code bytes} of sent frames wait in the send queue
     * ({@link #queuedBytes()}): flow control for a sender that keeps the queue between two marks, waking once
     * each time it has come down to the lower one instead of once per send completion. For example:
     * <pre>{@code
     * if (ws.queuedBytes() > 64 * 1024) {
     *     ws.whenQueuedBytesAtMost(32 * 1024).get(); // or thenRun the next sends
     * }
     * ws.sendFrame(Opcode.BINARY, payload);
     * }</pre>
     * The future completes on the connection's event-loop thread, so its dependent actions must not block:
     * right after the write that brought the queue down to {@code bytes}, or when the connection ends (before
     * {@code onConnectionShutdown} runs; its unsent frames failed). It completes at once, on the calling
     * thread, when at most {@code bytes} are queued already, when the connection has ended, or once
     * {@link #close()} was called. It completes normally in every case: a send on an ended connection fails
     * as usual. Thread-safe; any number of futures may wait, with marks of their own.
     *
     * @param bytes the most bytes, headers included, that may still be queued; 0 waits for an empty queue
     * @return the future, completed with {@code null}
     * @throws IllegalArgumentException if {@code bytes} is negative
     */
    public CompletableFuture<Void> whenQueuedBytesAtMost(long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("bytes must not be negative: " + bytes);
        }
        if (!enter()) {
            return CompletableFuture.completedFuture(null);
        }
        try {
            long handle = nativeHandle();
            return completions.waiters().await(bytes, () -> nativeQueuedBytes(handle),
                    mark -> nativeNotifyWhenQueuedAtMost(handle, mark));
        } finally {
            exit();
        }
    }

    /**
     * The subprotocol the server selected from those offered (see
     * {@link WebSocketConnectOptions.Builder#subprotocols}), or null when it selected none. A server that
     * selects one that was not offered, or several, fails the setup with
     * {@code WSCRT_ERROR_WEBSOCKET_UNEXPECTED_SUBPROTOCOL} or {@code WSCRT_ERROR_WEBSOCKET_MULTIPLE_SUBPROTOCOLS}.
     *
     * @return the subprotocol, or null
     */
    public String subprotocol() {
        return negotiated == null ? null : negotiated.subprotocol();
    }

    /**
     * The TLS version negotiated with the server ("TLSv1.3", "TLSv1.2"), or null for ws://.
     *
     * @return {@code "TLSv1.3"} or {@code "TLSv1.2"}, or null for ws://
     */
    public String tlsVersion() {
        return negotiated == null ? null : negotiated.tlsVersion();
    }

    /** The extension negotiated (permessage-deflate, message API only), or null. */
    String extensions() {
        return negotiated == null ? null : negotiated.extensions();
    }

    /**
     * Whether the TLS handshake resumed a session from an earlier connection to the same server (see
     * {@link dev.wscrt.io.TlsContextOptions#withSessionResumption}); false for a full handshake and for
     * ws://.
     *
     * @return whether the TLS handshake resumed an earlier session
     */
    public boolean tlsSessionResumed() {
        return negotiated != null && negotiated.tlsSessionResumed();
    }

    /**
     * The ALPN protocol the server selected, or null when none was negotiated.
     *
     * @return the ALPN protocol the server selected, or null when none was negotiated
     */
    public String alpnProtocol() {
        return negotiated == null ? null : negotiated.alpnProtocol();
    }

    /**
     * Lets {@code size} more bytes of data-frame payload arrive. Thread-safe; does nothing unless the
     * connection was made with {@code manageReadWindow}.
     *
     * @param size bytes of data-frame payload to add to the window, 0 or more (0 does nothing)
     * @throws IllegalArgumentException if {@code size} is negative
     */
    public void incrementReadWindow(long size) {
        if (size < 0) {
            throw new IllegalArgumentException("size must not be negative: " + size);
        }
        if (size > 0 && enter()) {
            try {
                nativeIncrementReadWindow(nativeHandle(), size);
            } finally {
                exit();
            }
        }
    }

    /**
     * Closes the connection asynchronously with the close handshake: CLOSE 1000 is sent behind the frames
     * already queued (unless a CLOSE was already sent), data frames arriving afterwards are dropped, and
     * the connection shuts down when the server's CLOSE arrives, or with
     * {@code WSCRT_ERROR_WEBSOCKET_CLOSE_TIMEOUT} after 5 s without it; {@code onConnectionShutdown}
     * reports the end. Idempotent, safe from any thread and from callbacks. Later sends complete (on the
     * calling thread) with {@code WSCRT_ERROR_WEBSOCKET_CONNECTION_CLOSED}.
     */
    @Override
    public void close() {
        // Set CLOSED and count this call as a user in one step, so no other thread can release in between.
        long previous;
        do {
            previous = usage;
            if ((previous & CLOSED) != 0) {
                return;
            }
        } while (!USAGE.compareAndSet(this, previous, (previous | CLOSED) + USER));
        try {
            nativeClose(nativeHandle());
        } finally {
            exit();
        }
    }

    /**
     * Ends the connection at once, without the close handshake: the socket is closed, queued frames
     * complete with an error, and {@code onConnectionShutdown} reports {@code WSCRT_ERROR_WEBSOCKET_ABORTED}.
     * Thread-safe; does nothing once the connection has ended.
     */
    public void abort() {
        if (enter()) {
            try {
                nativeAbort(nativeHandle());
            } finally {
                exit();
            }
        }
    }

    /** True once {@link #close()} was called or the WebSocket was released. */
    @Override
    public boolean isClosed() {
        return (usage & CLOSED) != 0 || super.isClosed();
    }

    private boolean enter() {
        long previous = (long) USAGE.getAndAdd(this, USER);
        if ((previous & CLOSED) != 0) {
            exit();
            return false;
        }
        return true;
    }

    private void exit() {
        if ((long) USAGE.getAndAdd(this, -USER) - USER == CLOSED) {
            super.close(); // idempotent: whichever of close() and the last user sees this first releases
        }
        Reference.reachabilityFence(this);
    }

    /** Queues a frame from {@code array} or else {@code direct}; its callback, if any, joins the completions. */
    private void send(Opcode opcode, byte[] array, ByteBuffer direct, int offset, int length, boolean fin,
                      Consumer<OnSendFrameCompleteData> onComplete) {
        long handle = nativeHandle();
        if (onComplete == null) {
            sendNative(handle, opcode.value(), array, direct, offset, length, fin, false);
            return;
        }
        synchronized (completions) {
            completions.add(onComplete);
            boolean queued = false;
            try {
                sendNative(handle, opcode.value(), array, direct, offset, length, fin, true);
                queued = true;
            } finally {
                if (!queued) {
                    completions.removeLast();
                }
            }
        }
    }

    private static void sendNative(long handle, int opcode, byte[] array, ByteBuffer direct, int offset, int length,
                                   boolean fin, boolean withCompletion) {
        if (direct != null) {
            nativeSendDirect(handle, opcode, direct, offset, length, fin, withCompletion);
        } else {
            nativeSendArray(handle, opcode, array, offset, length, fin, withCompletion);
        }
    }

    private static void completeClosed(Consumer<OnSendFrameCompleteData> onComplete) {
        if (onComplete != null) {
            onComplete.accept(new OnSendFrameCompleteData(
                    new CrtRuntimeException(WebSocketCallbacks.ERROR_CONNECTION_CLOSED)));
        }
    }

    private static native void nativeConnect(WebSocketCallbacks callbacks, byte[] options, int length);

    private static native void nativeFailSetup(WebSocketCallbacks callbacks, long bootstrap, int errorCode);

    private static native void nativeSendArray(long handle, int opcode, byte[] payload, int offset, int length,
                                               boolean fin, boolean withCompletion);

    private static native void nativeSendDirect(long handle, int opcode, ByteBuffer payload, int offset, int length,
                                                boolean fin, boolean withCompletion);

    private static native void nativeIncrementReadWindow(long handle, long size);

    private static native void nativeClose(long handle);

    private static native void nativeRelease(long handle);

    private static native long nativeQueuedBytes(long handle);

    private static native boolean nativeNotifyWhenQueuedAtMost(long handle, long bytes);

    private static native void nativeAbort(long handle);

    private static native String nativeSubprotocol(long handle);

    private static native String nativeTlsVersion(long handle);

    private static native boolean nativeTlsSessionResumed(long handle);

    private static native String nativeAlpnProtocol(long handle);

    private static native String nativeExtensions(long handle);
}
