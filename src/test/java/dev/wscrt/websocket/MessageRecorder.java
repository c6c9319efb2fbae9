package dev.wscrt.websocket;

import dev.wscrt.CrtRuntimeException;
import dev.wscrt.testing.Await;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** A {@link WebSocketListener} that records every call, in order, for the message API tests. */
final class MessageRecorder implements WebSocketListener {
    /** One listener call: its kind, and the text, bytes, close code and error it carried. */
    record Call(String kind, String text, byte[] bytes, int code, Throwable error, String thread) {
    }

    private final List<Call> calls = new ArrayList<>();
    final CompletableFuture<Call> ended = new CompletableFuture<>();

    private synchronized void add(Call call) {
        calls.add(call);
        notifyAll();
    }

    synchronized List<Call> calls() {
        return new ArrayList<>(calls);
    }

    synchronized List<String> kinds() {
        return calls.stream().map(Call::kind).toList();
    }

    /** Waits until {@code n} calls of {@code kind} were recorded; returns them. */
    List<Call> await(String kind, int n) {
        Await.until(n + " " + kind + " call(s)", () -> calls().stream().filter(c -> c.kind().equals(kind)).count() >= n);
        return calls().stream().filter(c -> c.kind().equals(kind)).toList();
    }

    /** Waits for the end (onClosed or onError) and returns it. */
    Call awaitEnd() {
        return Await.get("the connection to end", ended);
    }

    String awaitError() {
        Call end = awaitEnd();
        if (!(end.error() instanceof CrtRuntimeException crt)) {
            throw new AssertionError("expected an error, got " + end);
        }
        return crt.errorName();
    }

    private static String thread() {
        return Thread.currentThread().getName();
    }

    private static byte[] bytes(ByteBuffer data) {
        byte[] copy = new byte[data.remaining()];
        data.get(copy);
        return copy;
    }

    @Override
    public void onOpen(WebSocketConnection connection) {
        add(new Call("open", null, null, 0, null, thread()));
    }

    @Override
    public void onText(WebSocketConnection connection, String text) {
        add(new Call("text", text, text.getBytes(StandardCharsets.UTF_8), 0, null, thread()));
    }

    @Override
    public void onBinary(WebSocketConnection connection, ByteBuffer data) {
        add(new Call("binary", null, bytes(data), 0, null, thread()));
    }

    /** Partial mode: kind "textPiece", {@code code} 1 on the last piece. */
    @Override
    public void onText(WebSocketConnection connection, String text, boolean last) {
        add(new Call("textPiece", text, text.getBytes(StandardCharsets.UTF_8), last ? 1 : 0, null, thread()));
    }

    /** Partial mode: kind "binaryPiece", {@code code} 1 on the last piece. */
    @Override
    public void onBinary(WebSocketConnection connection, ByteBuffer data, boolean last) {
        add(new Call("binaryPiece", null, bytes(data), last ? 1 : 0, null, thread()));
    }

    @Override
    public void onPing(WebSocketConnection connection, ByteBuffer data) {
        add(new Call("ping", null, bytes(data), 0, null, thread()));
    }

    @Override
    public void onPong(WebSocketConnection connection, ByteBuffer data) {
        add(new Call("pong", null, bytes(data), 0, null, thread()));
    }

    @Override
    public void onClosing(WebSocketConnection connection, int code, String reason) {
        add(new Call("closing", reason, null, code, null, thread()));
    }

    @Override
    public void onClosed(WebSocketConnection connection, int code, String reason) {
        Call call = new Call("closed", reason, null, code, null, thread());
        add(call);
        ended.complete(call);
    }

    @Override
    public void onError(WebSocketConnection connection, Throwable error) {
        Call call = new Call("error", null, null, 0, error, thread());
        add(call);
        ended.complete(call);
    }
}
