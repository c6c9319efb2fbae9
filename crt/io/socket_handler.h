#ifndef WSCRT_IO_SOCKET_HANDLER_H
#define WSCRT_IO_SOCKET_HANDLER_H
/*
 * The leftmost channel handler. Reads into the event loop's read buffer (never
 * more than the right neighbour's window; at 0 it stops reading and resumes on
 * increment via a scheduled task), sends the bytes up synchronously, and
 * writes queued messages with writev (many messages per syscall), completing
 * them in a scheduled task so completions never run re-entrantly.
 * It takes ownership of the socket.
 */
#include <stddef.h>

struct wscrt_allocator;
struct wscrt_channel_handler;
struct wscrt_channel_slot;
struct wscrt_socket;

struct wscrt_channel_handler *wscrt_socket_handler_new(struct wscrt_allocator *allocator, struct wscrt_socket *socket,
                                                       struct wscrt_channel_slot *slot);

#endif
