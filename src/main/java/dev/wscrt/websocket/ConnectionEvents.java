package dev.wscrt.websocket;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;

/**
 * The events native code reports for one {@link WebSocketConnection}, on its event-loop thread, turned into
 * calls of the connection's {@link WebSocketListener} and the completion of its futures.
 */
final class ConnectionEvents implements WebSocketCallbacks.MessageSink {
    /** The most a joined message's array starts with (it then doubles up to the message's length). */
    private static final int JOIN_START = 1 << 20;
    private final WebSocketConnection connection;
    private final WebSocketListener listener;
    private final boolean partial;
    /** Completes with the connection after {@link WebSocketListener#onOpen}, or fails with why it did not open. */
    final CompletableFuture<WebSocketConnection> opened = new CompletableFuture<>();
    /** Completes when the connection has ended cleanly, or fails with the error it ended with. */
    final CompletableFuture<Void> ended = new CompletableFuture<>();
    // Event-loop thread only: the WebSocket once set up, and the server's CLOSE, once received.
    private WebSocket socket;
    private int closeCode = WebSocketConnection.NO_STATUS_CODE;
    private String closeReason = "";
    // Event-loop thread only, partial mode: made at the first TEXT piece.
    private TextPieceDecoder textPieces;
    // Event-loop thread only, without partial mode: the BINARY message being joined from its pieces, and how
    // many of its bytes arrived so far.
    private byte[] joining;
    private int joined;

    ConnectionEvents(WebSocketConnection connection, WebSocketListener listener, boolean partial) {
        this.connection = connection;
        this.listener = listener;
        this.partial = partial;
    }

    @Override
    public void onSetup(OnConnectionSetupData setup) {
        if (setup.exception() != null) {
            opened.completeExceptionally(setup.handshakeResponseStatus() != null
                    ? new WebSocketHandshakeException(setup.exception(), setup) : setup.exception());
            return;
        }
        socket = setup.websocket();
        connection.opened(socket);
        try {
            listener.onOpen(connection);
        } catch (RuntimeException | Error e) {
            opened.completeExceptionally(e);
            throw e;
        }
        opened.complete(connection);
    }

    /**
     * A message or piece: {@code length} bytes at {@code offset} in {@code source}, which is valid only
     * during this call. Data is copied straight into the listener's own array, with no view made first.
     */
    @Override
    public void onMessage(Opcode opcode, ByteBuffer source, int offset, int length, boolean last,
                          long messageLength) {
        // Whole binary messages first, in a method small enough for the JIT to inline into the batch loop
        // (and the listener into it): the common case of a stream of messages pays no call of its own.
        if (opcode == Opcode.BINARY && !partial && last && joining == null) {
            listener.onBinary(connection, ByteBuffer.wrap(copy(source, offset, length)));
        } else {
            onOtherMessage(opcode, source, offset, length, last, messageLength);
        }
    }

    private void onOtherMessage(Opcode opcode, ByteBuffer source, int offset, int length, boolean last,
                                long messageLength) {
        if (opcode == Opcode.BINARY && !partial) {
            joinPiece(source, offset, length, last, messageLength);
            return;
        }
        switch (opcode) {
            case TEXT -> {
                if (!partial) {
                    listener.onText(connection, new String(copy(source, offset, length), StandardCharsets.UTF_8));
                } else {
                    if (textPieces == null) {
                        textPieces = new TextPieceDecoder();
                    }
                    String text = textPieces.decode(source, offset, length, last);
                    if (last || !text.isEmpty()) {
                        if (listener instanceof JdkWebSocketImpl jdk) {
                            jdk.onText(text, last, textPieces.decodedBytes()); // spares it counting them again
                        } else {
                            listener.onText(connection, text, last);
                        }
                    }
                }
            }
            case BINARY -> listener.onBinary(connection, ByteBuffer.wrap(copy(source, offset, length)), last);
            case PING -> listener.onPing(connection, ByteBuffer.wrap(copy(source, offset, length)));
            case PONG -> listener.onPong(connection, ByteBuffer.wrap(copy(source, offset, length)));
            case CLOSE -> {
                if (length >= 2) {
                    byte[] payload = copy(source, offset, length);
                    closeCode = ((payload[0] & 0xFF) << 8) | (payload[1] & 0xFF);
                    closeReason = new String(payload, 2, length - 2, StandardCharsets.UTF_8);
                }
                listener.onClosing(connection, closeCode, closeReason);
            }
            default -> throw new IllegalStateException("unexpected message opcode " + opcode);
        }
    }

    @Override
    public void onBatchEnd() {
        if (listener instanceof JdkWebSocketImpl jdk) {
            jdk.onBatchEnd();
        }
    }

    @Override
    public void onShutdown(OnConnectionShutdownData shutdown) {
        connection.shuttingDown();
        try {
            if (shutdown.exception() == null) {
                listener.onClosed(connection, closeCode, closeReason);
            } else {
                listener.onError(connection, shutdown.exception());
            }
        } finally {
            // Closed before the future completes, so that a send after close() has completed fails with
            // WSCRT_ERROR_WEBSOCKET_CONNECTION_CLOSED; it also frees the native side now.
            socket.close();
            if (shutdown.exception() == null) {
                ended.complete(null);
            } else {
                ended.completeExceptionally(shutdown.exception());
            }
        }
    }

    /**
     * A piece of a one-frame BINARY message that arrives in pieces (native code does not join these): its bytes
     * go straight into the array handed to the listener at the last piece. The array starts at the message's
     * length up to {@link #JOIN_START}, and grows by doubling to at most that length, so that a peer announcing
     * a large message and sending it slowly costs at most 1 MiB or twice what it sent, not what it announced.
     */
    private void joinPiece(ByteBuffer source, int offset, int length, boolean last, long messageLength) {
        if (joining == null) {
            if (messageLength > WebSocketConnection.LONGEST_WHOLE_MESSAGE) { // the limit given to native code
                throw new IllegalStateException("a message of " + messageLength + " bytes announced past the limit");
            }
            joining = new byte[(int) Math.min(messageLength, JOIN_START)];
            joined = 0;
        }
        int needed = joined + length;
        if (needed > joining.length) {
            if (needed > messageLength) {
                throw new IllegalStateException("pieces of " + needed + " bytes for a message of " + messageLength);
            }
            joining = Arrays.copyOf(joining, (int) Math.min(messageLength,
                    Math.max(needed, 2L * joining.length)));
        }
        source.get(offset, joining, joined, length);
        joined = needed;
        if (last) {
            byte[] message = joining.length == joined ? joining : Arrays.copyOf(joining, joined);
            joining = null;
            listener.onBinary(connection, ByteBuffer.wrap(message));
        }
    }

    private static byte[] copy(ByteBuffer source, int offset, int length) {
        byte[] owned = new byte[length];
        source.get(offset, owned);
        return owned;
    }
}
