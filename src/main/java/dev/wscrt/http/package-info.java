/**
 * HTTP pieces of the WebSocket handshake: the upgrade {@link dev.wscrt.http.HttpRequest} with its
 * {@link dev.wscrt.http.HttpHeader}s, and {@link dev.wscrt.http.HttpProxyOptions} for reaching the server
 * through an HTTP proxy with CONNECT.
 */
package dev.wscrt.http;
