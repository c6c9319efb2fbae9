/*
 * JNI_OnLoad / JNI_OnUnload, the library's only exported symbols (see
 * exports.map): set up the common plumbing, then register each package's
 * natives.
 */
#include "common/logging.h"
#include "jni_common.h"
#include "jni_registration.h"

JNIEXPORT jint JNICALL JNI_OnLoad(JavaVM *vm, void *reserved) {
    (void)reserved;
    JNIEnv *env = NULL;
    if ((*vm)->GetEnv(vm, (void **)&env, JNI_VERSION_1_8) != JNI_OK) {
        return JNI_ERR;
    }
    if (wscrt_jni_common_init(vm, env, wscrt_jni_websocket_thread_exit) || wscrt_jni_register_crt(env) ||
        wscrt_jni_register_io(env) || wscrt_jni_register_websocket(env)) {
        return JNI_ERR;
    }
    return JNI_VERSION_1_8;
}

JNIEXPORT void JNICALL JNI_OnUnload(JavaVM *vm, void *reserved) {
    (void)vm;
    (void)reserved;
    wscrt_logger_clean_up();
    /* Native threads may still run at unload (daemon event loops); the
     * allocator and caches are deliberately left in place. */
}
