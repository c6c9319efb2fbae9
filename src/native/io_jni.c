/* Natives of dev.wscrt.io: EventLoopGroup, HostResolver, ClientBootstrap. */
#include <stdint.h>

#include "common/error.h"
#include "io/client_bootstrap.h"
#include "io/event_loop_group.h"
#include "io/host_resolver.h"
#include "jni_common.h"

/* Runs on the group's shutdown helper thread: completes the Java future. */
static void s_on_group_shutdown_complete(void *user_data) {
    jobject future = user_data;
    JNIEnv *env = wscrt_jni_get_env();
    if (!env) {
        return;
    }
    (*env)->CallBooleanMethod(env, future, wscrt_jni.completable_future_complete, NULL);
    wscrt_jni_check_and_clear_exception(env);
    (*env)->DeleteGlobalRef(env, future);
}

static jlong JNICALL s_group_new(JNIEnv *env, jclass cls, jint threads, jobject future) {
    (void)cls;
    jobject future_ref = (*env)->NewGlobalRef(env, future);
    struct wscrt_shutdown_callback_options shutdown = {
        .shutdown_callback_fn = s_on_group_shutdown_complete,
        .shutdown_callback_user_data = future_ref,
    };
    struct wscrt_event_loop_group *group =
        wscrt_event_loop_group_new(wscrt_jni_allocator(), (uint16_t)threads, &shutdown);
    if (!group) {
        (*env)->DeleteGlobalRef(env, future_ref);
        wscrt_jni_throw_crt_exception(env, wscrt_last_error());
        return 0;
    }
    return (jlong)(intptr_t)group;
}

static jint JNICALL s_group_thread_count(JNIEnv *env, jclass cls, jlong handle) {
    (void)env;
    (void)cls;
    return (jint)wscrt_event_loop_group_get_loop_count((struct wscrt_event_loop_group *)(intptr_t)handle);
}

static void JNICALL s_group_release(JNIEnv *env, jclass cls, jlong handle) {
    (void)env;
    (void)cls;
    wscrt_event_loop_group_release((struct wscrt_event_loop_group *)(intptr_t)handle);
}

static jlong JNICALL s_resolver_new(JNIEnv *env, jclass cls, jlong group, jint max_entries) {
    (void)cls;
    struct wscrt_host_resolver *resolver = wscrt_host_resolver_new(
        wscrt_jni_allocator(), (struct wscrt_event_loop_group *)(intptr_t)group, (size_t)max_entries);
    if (!resolver) {
        wscrt_jni_throw_crt_exception(env, wscrt_last_error());
        return 0;
    }
    return (jlong)(intptr_t)resolver;
}

static void JNICALL s_resolver_release(JNIEnv *env, jclass cls, jlong handle) {
    (void)env;
    (void)cls;
    wscrt_host_resolver_release((struct wscrt_host_resolver *)(intptr_t)handle);
}

static jlong JNICALL s_bootstrap_new(JNIEnv *env, jclass cls, jlong group, jlong resolver) {
    (void)cls;
    struct wscrt_client_bootstrap_options options = {
        .event_loop_group = (struct wscrt_event_loop_group *)(intptr_t)group,
        .host_resolver = (struct wscrt_host_resolver *)(intptr_t)resolver,
    };
    struct wscrt_client_bootstrap *bootstrap = wscrt_client_bootstrap_new(wscrt_jni_allocator(), &options);
    if (!bootstrap) {
        wscrt_jni_throw_crt_exception(env, wscrt_last_error());
        return 0;
    }
    return (jlong)(intptr_t)bootstrap;
}

static void JNICALL s_bootstrap_release(JNIEnv *env, jclass cls, jlong handle) {
    (void)env;
    (void)cls;
    wscrt_client_bootstrap_release((struct wscrt_client_bootstrap *)(intptr_t)handle);
}

static int s_register(JNIEnv *env, const char *class_name, const JNINativeMethod *methods, jint count) {
    jclass cls = (*env)->FindClass(env, class_name);
    if (!cls) {
        return -1;
    }
    int result = (*env)->RegisterNatives(env, cls, methods, count) == 0 ? 0 : -1;
    (*env)->DeleteLocalRef(env, cls);
    return result;
}

int wscrt_jni_register_io(JNIEnv *env) {
    static const JNINativeMethod group_methods[] = {
        {"nativeNew", "(ILjava/util/concurrent/CompletableFuture;)J", (void *)s_group_new},
        {"nativeThreadCount", "(J)I", (void *)s_group_thread_count},
        {"nativeRelease", "(J)V", (void *)s_group_release},
    };
    static const JNINativeMethod resolver_methods[] = {
        {"nativeNew", "(JI)J", (void *)s_resolver_new},
        {"nativeRelease", "(J)V", (void *)s_resolver_release},
    };
    static const JNINativeMethod bootstrap_methods[] = {
        {"nativeNew", "(JJ)J", (void *)s_bootstrap_new},
        {"nativeRelease", "(J)V", (void *)s_bootstrap_release},
    };
    if (s_register(env, "dev/wscrt/io/EventLoopGroup", group_methods, 3) ||
        s_register(env, "dev/wscrt/io/HostResolver", resolver_methods, 2) ||
        s_register(env, "dev/wscrt/io/ClientBootstrap", bootstrap_methods, 2)) {
        return -1;
    }
    return 0;
}
