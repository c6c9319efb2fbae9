#ifndef WSCRT_JNI_COMMON_H
#define WSCRT_JNI_COMMON_H
/*
 * Shared JNI plumbing: the process-wide tracking allocator, the cached JavaVM,
 * thread attachment for native threads, exception and string helpers, and the
 * classes every package uses. It knows no Java package's natives: those live
 * in one file per package (crt_jni.c, io_jni.c, websocket_jni*.c), registered
 * from jni_onload.c. JNI code only converts and forwards; protocol logic lives
 * in crt/.
 */
#include <jni.h>
#include <stdbool.h>

#include "common/byte_buf.h"

struct wscrt_allocator;

/* The tracking allocator every native object of the library uses (Crt.nativeMemoryInUse). */
struct wscrt_allocator *wscrt_jni_allocator(void);

/* The JNIEnv of the calling thread, attaching it as a daemon thread if needed
 * (it is detached when the thread exits). NULL if the JVM is gone. */
JNIEnv *wscrt_jni_get_env(void);

/* Throws dev.wscrt.CrtRuntimeException for error_code. */
void wscrt_jni_throw_crt_exception(JNIEnv *env, int error_code);
void wscrt_jni_throw_illegal_argument(JNIEnv *env, const char *message);
/* If a Java exception is pending: clears it and returns true. */
bool wscrt_jni_check_and_clear_exception(JNIEnv *env);

/* A Java string from bytes taken as ISO-8859-1 (HTTP field values). */
jstring wscrt_jni_string_from_latin1(JNIEnv *env, struct wscrt_byte_cursor bytes);
/* Modified-UTF-8 copy of a Java string, allocated from wscrt_jni_allocator(); NULL if s is NULL. */
char *wscrt_jni_string_dup(JNIEnv *env, jstring s);

/* Runs on a native thread just before it detaches from the JVM (frees per-thread JNI state). */
typedef void(wscrt_jni_thread_detach_fn)(JNIEnv *env);

/* From JNI_OnLoad: caches the VM and the common classes, creates the allocator. 0 or -1. */
int wscrt_jni_common_init(JavaVM *vm, JNIEnv *env, wscrt_jni_thread_detach_fn *on_thread_detach);
/* A global ref to the class, or NULL with a pending exception. */
jclass wscrt_jni_find_class(JNIEnv *env, const char *name);
/* RegisterNatives on the named class. 0 or -1. */
int wscrt_jni_register_natives(JNIEnv *env, const char *class_name, const JNINativeMethod *methods, int count);

/* Cached classes and methods (global refs, set up in JNI_OnLoad). */
struct wscrt_jni_cache {
    jclass crt_class;
    jmethodID crt_log_from_native;
    jclass crt_exception_class;
    jmethodID crt_exception_ctor;
    jclass illegal_argument_class;
    jclass completable_future_class;
    jmethodID completable_future_complete;
    jclass string_class;
    jclass byte_buffer_class;  /* java.nio.ByteBuffer */
    jmethodID allocate_direct; /* ByteBuffer.allocateDirect(int), see jni_java_buffers.h */
};

extern struct wscrt_jni_cache wscrt_jni;

#endif
