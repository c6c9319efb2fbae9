/**
 * Event loops, name resolution, sockets and TLS: {@link dev.wscrt.io.EventLoopGroup} owns the native
 * threads on which connections run, {@link dev.wscrt.io.ClientBootstrap} ties a group to a
 * {@link dev.wscrt.io.HostResolver}, {@link dev.wscrt.io.SocketOptions} sets timeouts and keep-alive, and
 * {@link dev.wscrt.io.TlsContextOptions} &rarr; {@link dev.wscrt.io.TlsContext} &rarr;
 * {@link dev.wscrt.io.TlsConnectionOptions} configure wss:// connections.
 *
 * <p>Options classes are plain mutable builders confined to the thread that fills them; the resources
 * built from them are immutable, thread-safe and shareable by any number of connections.
 */
package dev.wscrt.io;
