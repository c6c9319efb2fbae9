package dev.wscrt.websocket;

/**
 * permessage-deflate (RFC 7692) for a {@link WebSocketConnection}: what the client offers in the upgrade
 * request and how it compresses the messages it sends. Immutable; start from {@link #DEFAULT} and change
 * what you need with the {@code with...} methods.
 *
 * <p>The server's answer is checked strictly: an answer naming an extension or parameter that was not
 * offered, a parameter twice, or a bad value fails the connection setup with a
 * {@link WebSocketHandshakeException} naming the rule ({@code WSCRT_ERROR_WEBSOCKET_BAD_EXTENSION_PARAMETER}
 * and its siblings). A server may decline (no extension in its answer): messages then go uncompressed.
 * What was agreed is {@link WebSocketConnection#extensions()}.
 *
 * <p>Once negotiated, each TEXT or BINARY message of at least {@link #threshold()} bytes is compressed as a
 * whole and sent as one frame with RSV1 set; PING, PONG and CLOSE never are. Incoming compressed messages
 * are inflated in native code, and the maximum message size applies to their inflated bytes: inflating
 * stops at the first byte past it and the connection fails with CLOSE 1009 and
 * {@code WSCRT_ERROR_WEBSOCKET_MESSAGE_TOO_BIG}, so a small message that would inflate to gigabytes costs at
 * most that size in memory. Invalid DEFLATE data fails with CLOSE 1007 and
 * {@code WSCRT_ERROR_WEBSOCKET_INVALID_COMPRESSED_DATA}.
 *
 * <p>Memory: zlib state is allocated at the first compressed message in each direction. With context
 * takeover (the default) it stays for the connection's life, about 260 KiB to compress (window 15, memory
 * level 8) and 40 KiB to inflate; without it ({@link #withClientNoContextTakeover},
 * {@link #withServerNoContextTakeover}) it is freed after every message, at some cost in ratio and speed.
 *
 * @param clientMaxWindowBits     8-15: the largest LZ77 window (log2 bytes) this client compresses with;
 *                                offered as {@code client_max_window_bits}, so the server may lower it (15
 *                                is offered without a value). With 8, zlib cannot compress (its smallest
 *                                raw window is 9): messages then go uncompressed, as RFC 7692 allows
 * @param serverMaxWindowBits     0 (no request) or 8-15: asks the server to compress with at most this
 *                                window; an answer without it, or with a larger one, fails the setup
 * @param clientNoContextTakeover promise to compress every message on its own
 * @param serverNoContextTakeover ask the server to compress every message on its own (an answer without it
 *                                fails the setup); the inflater's memory is then freed between messages
 * @param level                   zlib compression level 1 (fastest) to 9 (smallest)
 * @param memoryLevel             zlib memory level 1 to 9 (memory for speed)
 * @param threshold               messages shorter than this many bytes are sent uncompressed
 */
public record CompressionOptions(int clientMaxWindowBits, int serverMaxWindowBits, boolean clientNoContextTakeover,
                                 boolean serverNoContextTakeover, int level, int memoryLevel, int threshold) {
    /**
     * The plain offer ({@code permessage-deflate; client_max_window_bits}): 32 KiB windows, context takeover
     * both ways, zlib level 6 and memory level 8 (its defaults), messages under 32 bytes uncompressed
     * (DEFLATE saves next to nothing on them).
     */
    public static final CompressionOptions DEFAULT = new CompressionOptions(15, 0, false, false, 6, 8, 32);

    /**
     * Checks the values.
     *
     * @param clientMaxWindowBits     8-15
     * @param serverMaxWindowBits     0 or 8-15
     * @param clientNoContextTakeover promise to compress every message on its own
     * @param serverNoContextTakeover ask the server to compress every message on its own
     * @param level                   1-9
     * @param memoryLevel             1-9
     * @param threshold               0 or more bytes
     * @throws IllegalArgumentException naming the first value out of range
     */
    public CompressionOptions {
        check(clientMaxWindowBits >= 8 && clientMaxWindowBits <= 15, "clientMaxWindowBits must be 8-15",
                clientMaxWindowBits);
        check(serverMaxWindowBits == 0 || (serverMaxWindowBits >= 8 && serverMaxWindowBits <= 15),
                "serverMaxWindowBits must be 0 or 8-15", serverMaxWindowBits);
        check(level >= 1 && level <= 9, "level must be 1-9", level);
        check(memoryLevel >= 1 && memoryLevel <= 9, "memoryLevel must be 1-9", memoryLevel);
        check(threshold >= 0, "threshold must not be negative", threshold);
    }

    /**
     * A copy with another clientMaxWindowBits.
     *
     * @param bits the largest window this client compresses with, 8-15
     * @return these options with clientMaxWindowBits changed
     * @throws IllegalArgumentException when the value is out of range
     */
    public CompressionOptions withClientMaxWindowBits(int bits) {
        return new CompressionOptions(bits, serverMaxWindowBits, clientNoContextTakeover, serverNoContextTakeover,
                level, memoryLevel, threshold);
    }

    /**
     * A copy with another serverMaxWindowBits.
     *
     * @param bits the largest window the server may compress with, 0 (no request) or 8-15
     * @return these options with serverMaxWindowBits changed
     * @throws IllegalArgumentException when the value is out of range
     */
    public CompressionOptions withServerMaxWindowBits(int bits) {
        return new CompressionOptions(clientMaxWindowBits, bits, clientNoContextTakeover, serverNoContextTakeover,
                level, memoryLevel, threshold);
    }

    /**
     * A copy with another clientNoContextTakeover.
     *
     * @param value whether this client compresses every message on its own
     * @return these options with clientNoContextTakeover changed
     * @throws IllegalArgumentException when the value is out of range
     */
    public CompressionOptions withClientNoContextTakeover(boolean value) {
        return new CompressionOptions(clientMaxWindowBits, serverMaxWindowBits, value, serverNoContextTakeover,
                level, memoryLevel, threshold);
    }

    /**
     * A copy with another serverNoContextTakeover.
     *
     * @param value whether the server is asked to compress every message on its own
     * @return these options with serverNoContextTakeover changed
     * @throws IllegalArgumentException when the value is out of range
     */
    public CompressionOptions withServerNoContextTakeover(boolean value) {
        return new CompressionOptions(clientMaxWindowBits, serverMaxWindowBits, clientNoContextTakeover, value,
                level, memoryLevel, threshold);
    }

    /**
     * A copy with another level.
     *
     * @param value the zlib compression level, 1-9
     * @return these options with level changed
     * @throws IllegalArgumentException when the value is out of range
     */
    public CompressionOptions withLevel(int value) {
        return new CompressionOptions(clientMaxWindowBits, serverMaxWindowBits, clientNoContextTakeover,
                serverNoContextTakeover, value, memoryLevel, threshold);
    }

    /**
     * A copy with another memoryLevel.
     *
     * @param value the zlib memory level, 1-9
     * @return these options with memoryLevel changed
     * @throws IllegalArgumentException when the value is out of range
     */
    public CompressionOptions withMemoryLevel(int value) {
        return new CompressionOptions(clientMaxWindowBits, serverMaxWindowBits, clientNoContextTakeover,
                serverNoContextTakeover, level, value, threshold);
    }

    /**
     * A copy with another threshold.
     *
     * @param bytes the size below which messages go uncompressed
     * @return these options with threshold changed
     * @throws IllegalArgumentException when the value is out of range
     */
    public CompressionOptions withThreshold(int bytes) {
        return new CompressionOptions(clientMaxWindowBits, serverMaxWindowBits, clientNoContextTakeover,
                serverNoContextTakeover, level, memoryLevel, bytes);
    }

    private static void check(boolean condition, String message, int value) {
        if (!condition) {
            throw new IllegalArgumentException(message + ": " + value);
        }
    }
}
