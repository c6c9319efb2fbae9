#ifndef WSCRT_JNI_JAVA_BUFFERS_H
#define WSCRT_JNI_JAVA_BUFFERS_H
/*
 * Native memory that Java owns: direct ByteBuffers allocated by Java
 * (ByteBuffer.allocateDirect) and held by a global ref. Views of them that a
 * callback hands out keep them reachable, so a payload view kept past its
 * callback reads later bytes but never memory that was freed: the GC frees the
 * buffer once the native side let go of it and no view is left.
 *
 * Two kinds: the upcalls' staging buffers (websocket_jni_upcalls.c), and the
 * event loops' read buffers, which every group the binding creates takes from
 * wscrt_jni_read_buffer_source(), so that payload bytes still in the read
 * buffer cross to Java without a copy.
 */
#include <jni.h>
#include <stddef.h>
#include <stdint.h>

struct wscrt_event_loop_read_buffer_source;

/* A global ref to a new direct buffer of `capacity` bytes and its address in *bytes; NULL (exception cleared)
 * when Java is out of memory. The caller deletes the global ref when done; Java frees the memory. */
jobject wscrt_jni_new_java_direct_buffer(JNIEnv *env, size_t capacity, uint8_t **bytes);

/* For wscrt_event_loop_group_options.read_buffer_source. */
const struct wscrt_event_loop_read_buffer_source *wscrt_jni_read_buffer_source(void);

/* The calling event-loop thread's read buffer, if it came from the source: the Java object (a global ref, valid
 * while the thread's loop exists) and the address range of its bytes. All zero on other threads. */
struct wscrt_jni_read_buffer {
    jobject buffer;
    uintptr_t start;
    uintptr_t end;
};
const struct wscrt_jni_read_buffer *wscrt_jni_thread_read_buffer(void);

#endif
