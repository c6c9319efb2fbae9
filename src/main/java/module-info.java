/**
 * wscrt: a WebSocket client (RFC 6455) whose networking, TLS and protocol run in a native runtime.
 *
 * <p>Only the API packages are exported; everything else, including the native loader, is internal.
 * On JDK 22 and later, run with {@code --enable-native-access=dev.wscrt} (module path) or
 * {@code --enable-native-access=ALL-UNNAMED} (class path) to allow the native library without a warning.
 */
module dev.wscrt {
    requires transitive java.net.http;

    exports dev.wscrt;
    exports dev.wscrt.io;
    exports dev.wscrt.http;
    exports dev.wscrt.websocket;
}
