package dev.wscrt.conformance;

/** Expected trace events, for case scripts: {@code run.expect(text(payload), pong(ping))}. */
final class Events {
    private Events() {
    }

    /** The echo of a TEXT message. */
    static TraceEvent text(byte[] payload) {
        return new TraceEvent.Message(Frames.TEXT, payload);
    }

    static TraceEvent text(String payload) {
        return text(Frames.utf8(payload));
    }

    /** The echo of a BINARY message. */
    static TraceEvent binary(byte[] payload) {
        return new TraceEvent.Message(Frames.BINARY, payload);
    }

    /** The library's automatic PONG to a PING with {@code payload}. */
    static TraceEvent pong(byte[] payload) {
        return new TraceEvent.Control(Frames.PONG, payload);
    }

    static TraceEvent pong(String payload) {
        return pong(Frames.utf8(payload));
    }

    /** The client was still healthy at checkpoint {@code name}. */
    static TraceEvent mark(String name) {
        return new TraceEvent.Mark(name);
    }
}
