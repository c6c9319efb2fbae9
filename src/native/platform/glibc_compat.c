/*
 * The glibc floor (docs/porting.md): libwscrt-jni.so is built on a recent
 * glibc but must load on glibc 2.28 (Debian 10, RHEL 8, Amazon Linux 2023).
 *
 * glibc 2.34 moved libpthread and libdl into libc and gave the moved functions
 * a new symbol version; 2.33 made stat/fstat/lstat real symbols instead of
 * inline wrappers of __xstat. A library linked today therefore needs
 * GLIBC_2.34, mostly through the static OpenSSL, whose references the linker
 * binds, not our sources. So the link wraps each of those names
 * (-Wl,--wrap=NAME, CMakeLists.txt: WSCRT_GLIBC_COMPAT_SYMBOLS) and every
 * reference, OpenSSL's included, lands here, where it is bound to the symbol
 * version that glibc has exported since the architecture's first release
 * (x86-64: GLIBC_2.2.5, 2.12 for the thread names; aarch64: GLIBC_2.17).
 * New glibc keeps exporting those versions for old binaries, so the same
 * calls reach the same functions there; on glibc before 2.34 the dynamic
 * linker finds them in libpthread.so.0 and libdl.so.2, which the library
 * lists as needed for that reason.
 *
 * Not in the TSan build of the JNI library (scripts/tsan.sh --jni): its
 * interceptors catch the default versions, and would miss these calls.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include <sys/stat.h>

#if defined(__x86_64__)
#    define WSCRT_GLIBC_BASE "GLIBC_2.2.5"
#    define WSCRT_GLIBC_THREAD_NAMES "GLIBC_2.12"
#    define WSCRT_STAT_VER 1 /* _STAT_VER_LINUX */
#elif defined(__aarch64__)
#    define WSCRT_GLIBC_BASE "GLIBC_2.17"
#    define WSCRT_GLIBC_THREAD_NAMES "GLIBC_2.17"
#    define WSCRT_STAT_VER 0 /* _STAT_VER_KERNEL: the generic layout */
#else
#    error "glibc_compat.c: add the first glibc symbol version of this architecture"
#endif

/* Binds calls of `compat` to `name` at `version`. Top-level asm: this file is compiled without LTO. */
#define WSCRT_BIND_VERSION(compat, name, version) __asm__(".symver " #compat "," #name "@" version)

/* ---- libpthread ---- */

int wscrt_compat_pthread_create(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
int wscrt_compat_pthread_join(pthread_t, void **);
int wscrt_compat_pthread_once(pthread_once_t *, void (*)(void));
int wscrt_compat_pthread_key_create(pthread_key_t *, void (*)(void *));
int wscrt_compat_pthread_key_delete(pthread_key_t);
void *wscrt_compat_pthread_getspecific(pthread_key_t);
int wscrt_compat_pthread_setspecific(pthread_key_t, const void *);
int wscrt_compat_pthread_rwlock_init(pthread_rwlock_t *, const pthread_rwlockattr_t *);
int wscrt_compat_pthread_rwlock_destroy(pthread_rwlock_t *);
int wscrt_compat_pthread_rwlock_rdlock(pthread_rwlock_t *);
int wscrt_compat_pthread_rwlock_wrlock(pthread_rwlock_t *);
int wscrt_compat_pthread_rwlock_unlock(pthread_rwlock_t *);
int wscrt_compat_pthread_setname_np(pthread_t, const char *);
int wscrt_compat_pthread_getname_np(pthread_t, char *, size_t);
WSCRT_BIND_VERSION(wscrt_compat_pthread_create, pthread_create, WSCRT_GLIBC_BASE);
WSCRT_BIND_VERSION(wscrt_compat_pthread_join, pthread_join, WSCRT_GLIBC_BASE);
WSCRT_BIND_VERSION(wscrt_compat_pthread_once, pthread_once, WSCRT_GLIBC_BASE);
WSCRT_BIND_VERSION(wscrt_compat_pthread_key_create, pthread_key_create, WSCRT_GLIBC_BASE);
WSCRT_BIND_VERSION(wscrt_compat_pthread_key_delete, pthread_key_delete, WSCRT_GLIBC_BASE);
WSCRT_BIND_VERSION(wscrt_compat_pthread_getspecific, pthread_getspecific, WSCRT_GLIBC_BASE);
WSCRT_BIND_VERSION(wscrt_compat_pthread_setspecific, pthread_setspecific, WSCRT_GLIBC_BASE);
WSCRT_BIND_VERSION(wscrt_compat_pthread_rwlock_init, pthread_rwlock_init, WSCRT_GLIBC_BASE);
WSCRT_BIND_VERSION(wscrt_compat_pthread_rwlock_destroy, pthread_rwlock_destroy, WSCRT_GLIBC_BASE);
WSCRT_BIND_VERSION(wscrt_compat_pthread_rwlock_rdlock, pthread_rwlock_rdlock, WSCRT_GLIBC_BASE);
WSCRT_BIND_VERSION(wscrt_compat_pthread_rwlock_wrlock, pthread_rwlock_wrlock, WSCRT_GLIBC_BASE);
WSCRT_BIND_VERSION(wscrt_compat_pthread_rwlock_unlock, pthread_rwlock_unlock, WSCRT_GLIBC_BASE);
WSCRT_BIND_VERSION(wscrt_compat_pthread_setname_np, pthread_setname_np, WSCRT_GLIBC_THREAD_NAMES);
WSCRT_BIND_VERSION(wscrt_compat_pthread_getname_np, pthread_getname_np, WSCRT_GLIBC_THREAD_NAMES);

int __wrap_pthread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*start)(void *), void *arg) {
    return wscrt_compat_pthread_create(thread, attr, start, arg);
}
int __wrap_pthread_join(pthread_t thread, void **result) {
    return wscrt_compat_pthread_join(thread, result);
}
int __wrap_pthread_once(pthread_once_t *once, void (*init)(void)) {
    return wscrt_compat_pthread_once(once, init);
}
int __wrap_pthread_key_create(pthread_key_t *key, void (*destructor)(void *)) {
    return wscrt_compat_pthread_key_create(key, destructor);
}
int __wrap_pthread_key_delete(pthread_key_t key) {
    return wscrt_compat_pthread_key_delete(key);
}
void *__wrap_pthread_getspecific(pthread_key_t key) {
    return wscrt_compat_pthread_getspecific(key);
}
int __wrap_pthread_setspecific(pthread_key_t key, const void *value) {
    return wscrt_compat_pthread_setspecific(key, value);
}
int __wrap_pthread_rwlock_init(pthread_rwlock_t *lock, const pthread_rwlockattr_t *attr) {
    return wscrt_compat_pthread_rwlock_init(lock, attr);
}
int __wrap_pthread_rwlock_destroy(pthread_rwlock_t *lock) {
    return wscrt_compat_pthread_rwlock_destroy(lock);
}
int __wrap_pthread_rwlock_rdlock(pthread_rwlock_t *lock) {
    return wscrt_compat_pthread_rwlock_rdlock(lock);
}
int __wrap_pthread_rwlock_wrlock(pthread_rwlock_t *lock) {
    return wscrt_compat_pthread_rwlock_wrlock(lock);
}
int __wrap_pthread_rwlock_unlock(pthread_rwlock_t *lock) {
    return wscrt_compat_pthread_rwlock_unlock(lock);
}
int __wrap_pthread_setname_np(pthread_t thread, const char *name) {
    return wscrt_compat_pthread_setname_np(thread, name);
}
int __wrap_pthread_getname_np(pthread_t thread, char *name, size_t len) {
    return wscrt_compat_pthread_getname_np(thread, name, len);
}

/* ---- libdl ---- */

void *wscrt_compat_dlopen(const char *, int);
void *wscrt_compat_dlsym(void *, const char *);
int wscrt_compat_dlclose(void *);
char *wscrt_compat_dlerror(void);
int wscrt_compat_dladdr(const void *, Dl_info *);
WSCRT_BIND_VERSION(wscrt_compat_dlopen, dlopen, WSCRT_GLIBC_BASE);
WSCRT_BIND_VERSION(wscrt_compat_dlsym, dlsym, WSCRT_GLIBC_BASE);
WSCRT_BIND_VERSION(wscrt_compat_dlclose, dlclose, WSCRT_GLIBC_BASE);
WSCRT_BIND_VERSION(wscrt_compat_dlerror, dlerror, WSCRT_GLIBC_BASE);
WSCRT_BIND_VERSION(wscrt_compat_dladdr, dladdr, WSCRT_GLIBC_BASE);

void *__wrap_dlopen(const char *file, int mode) {
    return wscrt_compat_dlopen(file, mode);
}
void *__wrap_dlsym(void *handle, const char *name) {
    return wscrt_compat_dlsym(handle, name);
}
int __wrap_dlclose(void *handle) {
    return wscrt_compat_dlclose(handle);
}
char *__wrap_dlerror(void) {
    return wscrt_compat_dlerror();
}
int __wrap_dladdr(const void *address, Dl_info *info) {
    return wscrt_compat_dladdr(address, info);
}

/* ---- stat: before 2.33 these were inline calls of __xstat and friends, with the layout's version ---- */

int wscrt_compat_xstat(int, const char *, struct stat *);
int wscrt_compat_fxstat(int, int, struct stat *);
int wscrt_compat_lxstat(int, const char *, struct stat *);
WSCRT_BIND_VERSION(wscrt_compat_xstat, __xstat, WSCRT_GLIBC_BASE);
WSCRT_BIND_VERSION(wscrt_compat_fxstat, __fxstat, WSCRT_GLIBC_BASE);
WSCRT_BIND_VERSION(wscrt_compat_lxstat, __lxstat, WSCRT_GLIBC_BASE);

int __wrap_stat(const char *path, struct stat *buf) {
    return wscrt_compat_xstat(WSCRT_STAT_VER, path, buf);
}
int __wrap_fstat(int fd, struct stat *buf) {
    return wscrt_compat_fxstat(WSCRT_STAT_VER, fd, buf);
}
int __wrap_lstat(const char *path, struct stat *buf) {
    return wscrt_compat_lxstat(WSCRT_STAT_VER, path, buf);
}
