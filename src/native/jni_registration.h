#ifndef WSCRT_JNI_REGISTRATION_H
#define WSCRT_JNI_REGISTRATION_H
/*
 * What jni_onload.c calls: one registration function per Java package (each
 * binds that package's natives with RegisterNatives and caches its own
 * classes), and the per-thread clean-up the websocket binding needs.
 */
#include <jni.h>

int wscrt_jni_register_crt(JNIEnv *env);       /* dev.wscrt: crt_jni.c */
int wscrt_jni_register_io(JNIEnv *env);        /* dev.wscrt.io: io_jni.c */
int wscrt_jni_register_websocket(JNIEnv *env); /* dev.wscrt.websocket: websocket_jni.c */

/* Frees the calling event-loop thread's frame-event batch (websocket_jni_upcalls.c). */
void wscrt_jni_websocket_thread_exit(JNIEnv *env);

#endif
