/* Natives of dev.wscrt.io: EventLoopGroup, HostResolver, ClientBootstrap, TlsContext. */
#include <stdint.h>

#include "common/allocator.h"
#include "common/error.h"
#include "io/client_bootstrap.h"
#include "io/event_loop_group.h"
#include "io/host_resolver.h"
#include "io/tls_context.h"
#include "jni_common.h"
#include "jni_java_buffers.h"
#include "jni_options.h"
#include "jni_registration.h"

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

static jlong JNICALL s_group_new(JNIEnv *env, jclass cls, jint threads, jlong busy_poll_ns, jobject future) {
    (void)cls;
    jobject future_ref = (*env)->NewGlobalRef(env, future);
    struct wscrt_shutdown_callback_options shutdown = {
        .shutdown_callback_fn = s_on_group_shutdown_complete,
        .shutdown_callback_user_data = future_ref,
    };
    struct wscrt_event_loop_group_options options = {
        .thread_count = (uint16_t)threads,
        .shutdown = &shutdown,
        .read_buffer_source = wscrt_jni_read_buffer_source(),
        .busy_poll_ns = busy_poll_ns > 0 ? (uint64_t)busy_poll_ns : 0,
    };
    struct wscrt_event_loop_group *group = wscrt_event_loop_group_new_with_options(wscrt_jni_allocator(), &options);
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

/* The reader of TlsContextOptions.encodeForNative(). Returns false for an unknown option (exception pending). */
static bool s_apply_tls_ctx_option(JNIEnv *env, const struct wscrt_jni_option *o, void *target) {
    struct wscrt_tls_ctx_options *options = target;
    if (wscrt_jni_option_is(env, o, "verify_peer", 'Z')) {
        options->verify_peer = o->boolean;
    } else if (wscrt_jni_option_is(env, o, "ca_pem", 'S')) {
        options->ca_pem = o->string;
    } else if (wscrt_jni_option_is(env, o, "ca_file", 'S')) {
        options->ca_file = o->string;
    } else if (wscrt_jni_option_is(env, o, "ca_dir", 'S')) {
        options->ca_dir = o->string;
    } else if (wscrt_jni_option_is(env, o, "cert_pem", 'S')) {
        options->cert_pem = o->string;
    } else if (wscrt_jni_option_is(env, o, "key_pem", 'S')) {
        options->key_pem = o->string;
    } else if (wscrt_jni_option_is(env, o, "cert_file", 'S')) {
        options->cert_file = o->string;
    } else if (wscrt_jni_option_is(env, o, "key_file", 'S')) {
        options->key_file = o->string;
    } else if (wscrt_jni_option_is(env, o, "minimum_version", 'I')) {
        options->minimum_version = (enum wscrt_tls_version)o->integer;
    } else if (wscrt_jni_option_is(env, o, "maximum_version", 'I')) {
        options->maximum_version = (enum wscrt_tls_version)o->integer;
    } else if (wscrt_jni_option_is(env, o, "alpn", 'S')) {
        options->alpn_list = o->string;
    } else if (wscrt_jni_option_is(env, o, "session_resumption", 'Z')) {
        options->session_resumption = o->boolean;
    } else if (wscrt_jni_option_is(env, o, "session_cache_size", 'I')) {
        options->session_cache_size = (uint32_t)o->integer;
    } else {
        return false;
    }
    return true;
}

static jlong JNICALL s_tls_ctx_new(JNIEnv *env, jclass cls, jbyteArray encoded, jint length) {
    (void)cls;
    struct wscrt_tls_ctx_options options;
    wscrt_tls_ctx_options_init_default_client(&options);
    struct wscrt_jni_options_reader reader;
    struct wscrt_tls_ctx *ctx = NULL;
    if (!wscrt_jni_options_reader_init(&reader, env, encoded, length) ||
        !wscrt_jni_read_options(env, &reader, s_apply_tls_ctx_option, &options)) {
        goto done;
    }
    ctx = wscrt_tls_ctx_new_client(wscrt_jni_allocator(), &options);
    if (!ctx) {
        int error_code = wscrt_last_error();
        if (error_code == WSCRT_ERROR_INVALID_ARGUMENT) {
            wscrt_jni_throw_illegal_argument(env, "invalid TLS context options");
        } else {
            wscrt_jni_throw_crt_exception(env, error_code);
        }
    }
done:
    wscrt_jni_options_reader_clean_up(&reader);
    return (jlong)(intptr_t)ctx;
}

static void JNICALL s_tls_ctx_release(JNIEnv *env, jclass cls, jlong handle) {
    (void)env;
    (void)cls;
    wscrt_tls_ctx_release((struct wscrt_tls_ctx *)(intptr_t)handle);
}

static jstring JNICALL s_tls_trust_store_locations(JNIEnv *env, jclass cls) {
    (void)cls;
    return (*env)->NewStringUTF(env, wscrt_tls_system_trust_store_locations());
}

int wscrt_jni_register_io(JNIEnv *env) {
    static const JNINativeMethod group_methods[] = {
        {"nativeNew", "(IJLjava/util/concurrent/CompletableFuture;)J", (void *)s_group_new},
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
    static const JNINativeMethod tls_ctx_methods[] = {
        {"nativeNew", "([BI)J", (void *)s_tls_ctx_new},
        {"nativeRelease", "(J)V", (void *)s_tls_ctx_release},
        {"nativeTrustStoreLocations", "()Ljava/lang/String;", (void *)s_tls_trust_store_locations},
    };
    if (wscrt_jni_register_natives(env, "dev/wscrt/io/TlsContext", tls_ctx_methods, 3) ||
        wscrt_jni_register_natives(env, "dev/wscrt/io/EventLoopGroup", group_methods, 3) ||
        wscrt_jni_register_natives(env, "dev/wscrt/io/HostResolver", resolver_methods, 2) ||
        wscrt_jni_register_natives(env, "dev/wscrt/io/ClientBootstrap", bootstrap_methods, 2)) {
        return -1;
    }
    return 0;
}
