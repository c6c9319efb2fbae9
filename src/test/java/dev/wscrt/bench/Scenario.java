package dev.wscrt.bench;

import dev.wscrt.loadserver.TlsPort;
import java.util.Locale;

/** What the benchmark measures; the same list drives the coordinator and the client processes. */
enum Scenario {
    RECV64("recv64", "receive 64 B", Kind.RECEIVE, 64, false, false, 300_000),
    RECV64_TEXT("recv64-text", "receive 64 B text", Kind.RECEIVE, 64, false, false, 300_000, true),
    RECV64K("recv64k", "receive 64 KiB", Kind.RECEIVE, 64 * 1024, false, false, 3_000),
    RECV1M("recv1m", "receive 1 MiB", Kind.RECEIVE, 1024 * 1024, false, false, 300),
    SEND64("send64", "send 64 B, heap buffer", Kind.SEND, 64, false, false, 100_000),
    SEND64_DIRECT("send64-direct", "send 64 B, direct buffer", Kind.SEND, 64, false, true, 100_000),
    SEND64K("send64k", "send 64 KiB, heap buffer", Kind.SEND, 64 * 1024, false, false, 3_000),
    SEND64K_DIRECT("send64k-direct", "send 64 KiB, direct buffer", Kind.SEND, 64 * 1024, false, true, 3_000),
    SEND1M("send1m", "send 1 MiB, heap buffer", Kind.SEND, 1024 * 1024, false, false, 300),
    ECHO("echo", "32 B echo round trip", Kind.ECHO, 32, false, false, 2_000),
    CONNECT("connect", "connection set-up, ws", Kind.CONNECT, 0, false, false, 300),
    CONNECT_WSS("connect-wss", "connection set-up, wss (full handshake)", Kind.CONNECT, 0, true, false, 100),
    CONNECT_WSS_RESUMED("connect-wss-resumed", "connection set-up, wss (resumed session)", Kind.CONNECT, 0, true,
            false, 300),
    CONNECT_WSS12("connect-wss12", "connection set-up, wss TLS 1.2 (full handshake)", Kind.CONNECT, 0, true, false,
            100),
    CONNECT_WSS12_RESUMED("connect-wss12-resumed", "connection set-up, wss TLS 1.2 (resumed session)", Kind.CONNECT,
            0, true, false, 300),
    IDLE("idle", "idle connection memory, ws", Kind.IDLE, 0, false, false, 50),
    IDLE_WSS("idle-wss", "idle connection memory, wss", Kind.IDLE, 0, true, false, 50),
    WSS_RECV64("wss-recv64", "wss receive 64 B", Kind.RECEIVE, 64, true, false, 100_000),
    WSS_RECV1M("wss-recv1m", "wss receive 1 MiB", Kind.RECEIVE, 1024 * 1024, true, false, 100),
    WSS_SEND64("wss-send64", "wss send 64 B, heap buffer", Kind.SEND, 64, true, false, 50_000),
    WSS_SEND64K("wss-send64k", "wss send 64 KiB, heap buffer", Kind.SEND, 64 * 1024, true, false, 1_000);

    enum Kind { RECEIVE, SEND, ECHO, CONNECT, IDLE }

    final String key;
    final String title;
    final Kind kind;
    final int size;
    final boolean tls;
    final boolean direct;
    /** Message (or connection) count of the first warm-up run, which calibrates the next ones. */
    final long warmupCount;
    /** TEXT messages (ASCII letters) instead of BINARY ones. */
    final boolean text;

    Scenario(String key, String title, Kind kind, int size, boolean tls, boolean direct, long warmupCount) {
        this(key, title, kind, size, tls, direct, warmupCount, false);
    }

    Scenario(String key, String title, Kind kind, int size, boolean tls, boolean direct, long warmupCount,
             boolean text) {
        this.text = text;
        this.key = key;
        this.title = title;
        this.kind = kind;
        this.size = size;
        this.tls = tls;
        this.direct = direct;
        this.warmupCount = warmupCount;
    }

    static Scenario of(String key) {
        for (Scenario s : values()) {
            if (s.key.equalsIgnoreCase(key)) {
                return s;
            }
        }
        throw new IllegalArgumentException("unknown scenario '" + key + "'");
    }

    /**
     * The server's wss port for this scenario: throughput on BoringSSL (see {@link TlsPort#DATA}), resumption
     * and TLS 1.2 on ports of their own; every other wss scenario makes full TLS 1.3 handshakes.
     */
    TlsPort tlsPort() {
        return switch (this) {
            case CONNECT_WSS_RESUMED -> TlsPort.RESUMABLE;
            case CONNECT_WSS12 -> TlsPort.TLS12_FULL;
            case CONNECT_WSS12_RESUMED -> TlsPort.TLS12_RESUMABLE;
            default -> hasCipherLimit() ? TlsPort.DATA : TlsPort.FULL;
        };
    }

    /** Messages per second for small messages, bytes per second for large ones. */
    boolean countsMessages() {
        return size < 1024;
    }

    /** Bytes one message takes on the wire: payload, header, and (client to server) the mask. */
    long wireBytes() {
        long header = size < 126 ? 2 : size <= 0xFFFF ? 4 : 10;
        return size + header + (kind == Kind.SEND ? 4 : 0);
    }

    /** Whether a lower figure is better (latency, memory). */
    boolean lowerIsBetter() {
        return kind == Kind.ECHO || kind == Kind.IDLE;
    }

    /** The plain-socket ceiling applies (ws throughput and latency). */
    boolean hasSocketLimit() {
        return !tls && (kind == Kind.RECEIVE || kind == Kind.SEND || kind == Kind.ECHO);
    }

    /** The cipher ceiling applies (wss throughput). */
    boolean hasCipherLimit() {
        return tls && (kind == Kind.RECEIVE || kind == Kind.SEND);
    }

    String unit() {
        return switch (kind) {
            case RECEIVE, SEND -> countsMessages() ? "M msgs/s" : "GB/s";
            case ECHO -> "µs";
            case CONNECT -> "conn/s";
            case IDLE -> "KiB/conn";
        };
    }

    static String format(double value, String unit) {
        return switch (unit) {
            case "M msgs/s" -> String.format(Locale.ROOT, "%.2f M msgs/s", value / 1e6);
            case "GB/s" -> String.format(Locale.ROOT, "%.2f GB/s", value / 1e9);
            case "µs" -> String.format(Locale.ROOT, "%.1f µs", value / 1e3);
            case "conn/s" -> String.format(Locale.ROOT, "%,.0f conn/s", value);
            case "KiB/conn" -> String.format(Locale.ROOT, "%.1f KiB", value / 1024);
            default -> String.format(Locale.ROOT, "%.3g", value);
        };
    }
}
