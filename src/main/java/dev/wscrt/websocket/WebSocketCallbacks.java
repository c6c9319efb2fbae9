package dev.wscrt.websocket;

import dev.wscrt.CrtError;
import dev.wscrt.CrtRuntimeException;
import dev.wscrt.http.HttpHeader;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The object native code calls for one connection, held by native code until the connection's binding is
 * freed (it never references the {@link WebSocket}, so a dropped WebSocket can be collected). Every
 * method runs on the connection's event-loop thread, one at a time. In message mode (a {@link MessageSink}
 * is set) whole messages arrive instead of frame events. A user callback that throws is caught here: the method returns false, native code shuts the
 * connection down with {@code WSCRT_ERROR_CALLBACK_EXCEPTION}, and the Throwable becomes the cause of
 * the shutdown exception. Nothing escapes onto the event-loop thread.
 */
final class WebSocketCallbacks {
    /** Event kinds in the batch written by the native side (see websocket_jni.c). */
    private static final int EVENT_BEGIN = 1;
    private static final int EVENT_PAYLOAD = 2;
    private static final int EVENT_COMPLETE = 3;
    private static final int EVENT_MESSAGE = 4;
    private static final int EVENT_LONGS = 4;
    private static final long EVENT_FLAG_STAGED = 1L << 24;
    /** A BEGIN event that also carries the frame's first payload piece (staged). */
    private static final long EVENT_FLAG_WITH_PAYLOAD = 1L << 25;
    /** A BEGIN or PAYLOAD event after which the frame completed without error. */
    private static final long EVENT_FLAG_COMPLETE = 1L << 26;
    static final int ERROR_CALLBACK_EXCEPTION = CrtError.CALLBACK_EXCEPTION.code();
    static final int ERROR_CONNECTION_CLOSED = CrtError.WEBSOCKET_CONNECTION_CLOSED.code();

    private static final ByteBuffer EMPTY = ByteBuffer.allocate(0).asReadOnlyBuffer();

    private final Consumer<OnConnectionSetupData> onSetup;
    private final Consumer<OnConnectionShutdownData> onShutdown;
    private final Consumer<OnIncomingFrameBeginData> onFrameBegin;
    private final Consumer<OnIncomingFramePayloadData> onFramePayload;
    private final Consumer<OnIncomingFrameCompleteData> onFrameComplete;

    /**
     * Where whole messages go in message mode: an opcode and the payload, {@code length} bytes at absolute
     * {@code offset} in {@code source} (not a view of its own: the sink copies them, so none is made).
     */
    interface MessageSink {
        /** The setup succeeded or failed, as {@link WebSocketConnectOptions#onConnectionSetup()} is told. */
        void onSetup(OnConnectionSetupData setup);

        /** The connection shut down, as {@link WebSocketConnectOptions#onConnectionShutdown()} is told. */
        void onShutdown(OnConnectionShutdownData shutdown);

        /**
         * {@code source} is valid only during the call; {@code last} is false only for a piece of a data
         * message that is not its last: in partial mode, or a piece of a one-frame BINARY message that arrives
         * in pieces (then {@code messageLength} is the whole message's length; else it may be 0).
         */
        void onMessage(Opcode opcode, ByteBuffer source, int offset, int length, boolean last, long messageLength);

        /** The end of a batch of messages (one network read), also when a call in it threw. */
        default void onBatchEnd() {
        }
    }

    private final MessageSink messageSink;
    /** Read by the native binding when it is made (the field's name is part of the JNI contract). */
    final SendCompletions sendCompletions = new SendCompletions();
    /**
     * What the connect call set out to do; set by {@link WebSocket} before the native connect starts, and
     * dropped on the event-loop thread once the connection is open ({@link #endpoints} stay).
     */
    private ConnectAttempt attempt;
    /** Why a setup failed before any connection attempt (the handshake transform's failure), or null. */
    private volatile CrtRuntimeException setupFailure;
    /** Where the open connection went, for its failures; null until the open. */
    private ConnectionEndpoints endpoints;
    private Throwable callbackFailure;
    private IncomingFrame openFrame;
    /** The last frame begun: a stream of frames of one size shares it (records are values). */
    private IncomingFrame lastFrame;

    WebSocketCallbacks(WebSocketConnectOptions options) {
        this.onSetup = options.onConnectionSetup();
        this.onShutdown = options.onConnectionShutdown();
        this.onFrameBegin = options.onIncomingFrameBegin();
        this.onFramePayload = options.onIncomingFramePayload();
        this.onFrameComplete = options.onIncomingFrameComplete();
        this.messageSink = null;
    }

    /**
     * Message mode: setup, shutdown and whole messages to {@code sink}, no frame callbacks (the sink is called
     * directly, so that a connection keeps no callback objects of its own).
     */
    WebSocketCallbacks(MessageSink sink) {
        this.onSetup = null;
        this.onShutdown = null;
        this.onFrameBegin = null;
        this.onFramePayload = null;
        this.onFrameComplete = null;
        this.messageSink = sink;
    }

    /** Called on the connecting thread before the native connect starts (which publishes it to the loop). */
    void attempt(ConnectAttempt value) {
        attempt = value;
    }

    /**
     * Setup succeeded ({@code handle != 0}) or failed ({@code errorCode != 0}); status -1 = no response.
     * {@code remoteAddress}: the address connected to ("127.0.0.1:8080", the proxy's when there is one),
     * or after a failed connect those tried, separated by ", "; empty when the name did not resolve.
     */
    boolean onSetup(long handle, int errorCode, int status, String[] headerFields, byte[] body, String remoteAddress) {
        List<HttpHeader> headers = null;
        if (headerFields != null) {
            headers = new ArrayList<>(headerFields.length / 2);
            for (int i = 0; i + 1 < headerFields.length; i += 2) {
                headers.add(new HttpHeader(headerFields[i], headerFields[i + 1]));
            }
            headers = List.copyOf(headers);
        }
        Integer statusCode = status < 0 ? null : status;
        OnConnectionSetupData data;
        if (handle != 0) {
            endpoints = attempt.opened(remoteAddress);
            attempt = null;
            data = new OnConnectionSetupData(null, new WebSocket(handle, sendCompletions), statusCode, headers, null);
        } else {
            CrtRuntimeException found = setupFailure;
            data = new OnConnectionSetupData(found != null && found.errorCode() == errorCode ? found
                    : attempt.setupFailure(errorCode, statusCode, body, remoteAddress), null,
                    statusCode, headers, body);
        }
        try {
            if (messageSink != null) {
                messageSink.onSetup(data);
            } else {
                onSetup.accept(data);
            }
        } catch (Throwable t) {
            return failed(t);
        }
        return true;
    }

    /**
     * Set before a failure found in Java (the handshake transform's) is reported through {@link #onSetup}:
     * the setup then reports {@code errorCode}, with {@code detail} and {@code cause}.
     */
    void setSetupFailure(int errorCode, String detail, Throwable cause) {
        setupFailure = attempt.withConnectSite(new CrtRuntimeException(errorCode, detail, cause));
    }

    /** The connection shut down; called once, only after a successful setup. */
    void onShutdown(int errorCode) {
        sendCompletions.end();
        Throwable exception = null;
        if (callbackFailure != null) {
            exception = endpoints.failure(ERROR_CALLBACK_EXCEPTION, callbackFailure);
        } else if (errorCode != 0) {
            exception = endpoints.failure(errorCode, null);
        }
        if (openFrame != null && onFrameComplete != null) {
            IncomingFrame frame = openFrame;
            openFrame = null;
            Throwable frameException =
                    exception != null ? exception : endpoints.failure(errorCode, null);
            runQuietly(onFrameComplete, new OnIncomingFrameCompleteData(frame, frameException));
        }
        if (messageSink != null) {
            runQuietly(messageSink::onShutdown, new OnConnectionShutdownData(exception));
        } else if (onShutdown != null) {
            runQuietly(onShutdown, new OnConnectionShutdownData(exception));
        }
    }

    /**
     * A batch of frame events from one network read: {@code count} events of four longs each
     * (kind | opcode << 8 | fin << 16 | staged << 24 | with-payload << 25 | complete << 26, payload length,
     * offset of the payload, payload length or error code). A frame that arrived whole is one BEGIN event
     * with both flags: the native side folds the first payload piece into the BEGIN event and a completion
     * without error into the event before it. A payload is in {@code staged} when its staged flag is set,
     * else in {@code data}. {@code data} is either the event loop's read buffer, a direct buffer Java allocated
     * (payloads still in it cross without a copy), or, for whole data messages in message mode only, a wrapper
     * of native memory valid only during this call and never handed out. {@code staged} is the event-loop
     * thread's Java-allocated staging buffer, where the native side copied every other payload. So the slices
     * handed to frame callbacks always keep a Java-owned buffer reachable: a slice kept too long reads later
     * bytes, never freed memory.
     */
    boolean onFrameEvents(long[] events, int count, ByteBuffer data, ByteBuffer staged) {
        if (callbackFailure != null) {
            return false;
        }
        try {
            return deliverFrameEvents(events, count, data, staged);
        } finally {
            if (messageSink != null) {
                messageSink.onBatchEnd();
            }
        }
    }

    private boolean deliverFrameEvents(long[] events, int count, ByteBuffer data, ByteBuffer staged) {
        ByteBuffer readOnlyData = data == null ? null : data.asReadOnlyBuffer();
        ByteBuffer readOnlyStaged = staged == null ? null : staged.asReadOnlyBuffer();
        for (int i = 0; i < count; i++) {
            int base = i * EVENT_LONGS;
            long header = events[base];
            int kind = (int) (header & 0xFF);
            switch (kind) {
                case EVENT_BEGIN -> {
                    openFrame = frame(Opcode.of((int) ((header >>> 8) & 0xFF)), events[base + 1],
                            ((header >>> 16) & 1) != 0);
                    if (!beginFrame()) {
                        return false;
                    }
                    if ((header & EVENT_FLAG_WITH_PAYLOAD) != 0 && !deliverPayload(
                            (header & EVENT_FLAG_STAGED) != 0 ? readOnlyStaged : readOnlyData,
                            events[base + 2], events[base + 3])) {
                        return false;
                    }
                    if ((header & EVENT_FLAG_COMPLETE) != 0 && !completeFrame(0)) {
                        return false;
                    }
                }
                case EVENT_PAYLOAD -> {
                    ByteBuffer source = (header & EVENT_FLAG_STAGED) != 0 ? readOnlyStaged : readOnlyData;
                    if (!deliverPayload(source, events[base + 2], events[base + 3])) {
                        return false;
                    }
                    if ((header & EVENT_FLAG_COMPLETE) != 0 && !completeFrame(0)) {
                        return false;
                    }
                }
                case EVENT_COMPLETE -> {
                    if (!completeFrame((int) events[base + 3])) {
                        return false;
                    }
                }
                case EVENT_MESSAGE -> {
                    int offset = (int) events[base + 2];
                    int length = (int) events[base + 3];
                    ByteBuffer source = (header & EVENT_FLAG_STAGED) != 0 ? readOnlyStaged : readOnlyData;
                    Opcode opcode = Opcode.of((int) ((header >>> 8) & 0xFF));
                    boolean last = ((header >>> 16) & 1) != 0;
                    try { // in place: a capturing lambda per message would cost an allocation
                        messageSink.onMessage(opcode, length == 0 ? EMPTY : source, offset, length, last,
                                events[base + 1]);
                    } catch (Throwable t) {
                        return failed(t);
                    }
                }
                default -> throw new IllegalStateException("unknown frame event kind " + kind);
            }
        }
        return true;
    }

    /*
     * Each callback is called from a call site of its own, not through one shared helper: a shared site sees
     * every kind of callback, so the JIT cannot inline the callback there, and the event object made for each
     * frame then always goes to the heap. From a site of its own, an application's callback is inlined and
     * the event object can stay off the heap (recv 64 B: 91 instead of 121 bytes allocated per frame).
     */

    /**
     * The frame for a BEGIN event: the previous one when it is equal (a stream of frames of one type and size,
     * the common case, then makes no object per frame), else a new one.
     */
    private IncomingFrame frame(Opcode opcode, long payloadLength, boolean fin) {
        IncomingFrame last = lastFrame;
        if (last != null && last.opcode() == opcode && last.payloadLength() == payloadLength && last.fin() == fin) {
            return last;
        }
        return lastFrame = new IncomingFrame(opcode, payloadLength, fin);
    }

    /** Hands the open frame to the begin callback; false if the callback threw. */
    private boolean beginFrame() {
        if (onFrameBegin == null) {
            return true;
        }
        try {
            onFrameBegin.accept(new OnIncomingFrameBeginData(openFrame));
        } catch (Throwable t) {
            return failed(t);
        }
        return true;
    }

    /** Hands a payload piece of the open frame to the payload callback; false if the callback threw. */
    private boolean deliverPayload(ByteBuffer source, long offset, long length) {
        if (onFramePayload == null || openFrame == null) {
            return true;
        }
        OnIncomingFramePayloadData payload =
                new OnIncomingFramePayloadData(openFrame, source.slice((int) offset, (int) length));
        try {
            onFramePayload.accept(payload);
        } catch (Throwable t) {
            return failed(t);
        } finally {
            payload.expire();
        }
        return true;
    }

    /** Ends the open frame (error 0: complete) at the complete callback; false if the callback threw. */
    private boolean completeFrame(int error) {
        IncomingFrame frame = openFrame;
        openFrame = null;
        if (frame == null || onFrameComplete == null) {
            return true;
        }
        Throwable exception = error == 0 ? null : endpoints.failure(error, null);
        try {
            onFrameComplete.accept(new OnIncomingFrameCompleteData(frame, exception));
        } catch (Throwable t) {
            return failed(t);
        }
        return true;
    }

    /** Keeps the first exception a callback threw (the shutdown reports it); always false. */
    private boolean failed(Throwable t) {
        if (callbackFailure == null) {
            callbackFailure = t;
        }
        return false;
    }

    static <T> void runQuietly(Consumer<T> callback, T data) {
        try {
            callback.accept(data);
        } catch (Throwable t) {
            // Nobody to hand it to: log it rather than let it escape onto the event-loop thread.
            System.getLogger("dev.wscrt.websocket").log(System.Logger.Level.WARNING, "callback threw", t);
        }
    }
}
