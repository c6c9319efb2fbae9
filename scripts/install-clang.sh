#!/usr/bin/env bash
# Makes sure a clang that can build libFuzzer targets with ASan + UBSan is
# installed, from Debian's own packages, and prints its path on stdout (the
# only line this script writes there; progress goes to stderr).
#
#   CLANG=$(scripts/install-clang.sh)
#
# Idempotent: when a working clang is already there it only runs one test
# link (well under a second). Otherwise it installs `clang` (clang-14 on
# Debian 12) and, if the fuzzer runtime is still missing, the matching
# libclang-rt-N-dev / libfuzzer-N-dev. Needs root (or sudo) only to install.
set -euo pipefail

log() { echo "install-clang: $*" >&2; }

# Candidates, newest first; plain `clang` is whatever the distribution's default is.
candidates() {
    local c
    for c in clang clang-19 clang-18 clang-17 clang-16 clang-15 clang-14 clang-13; do
        command -v "$c" 2>/dev/null || true
    done
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat >"$work/probe.c" <<'EOF'
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    return size > 0 && data[0] == 0x42 ? 0 : 0;
}
EOF

# Prints the first clang that compiles and links the probe with the fuzzer runtime.
find_working_clang() {
    local c
    for c in $(candidates); do
        if "$c" -fsanitize=fuzzer,address,undefined -o "$work/probe" "$work/probe.c" >/dev/null 2>&1; then
            echo "$c"
            return 0
        fi
    done
    return 1
}

if find_working_clang; then
    exit 0
fi

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo -n "$@"
    else
        log "need root to run: $*"
        return 1
    fi
}

export DEBIAN_FRONTEND=noninteractive
# Quiet unless it fails, then the whole apt output is shown.
apt_quiet() {
    local out
    if ! out=$(as_root "$@" 2>&1); then
        echo "$out" >&2
        return 1
    fi
}
apt_install() {
    apt_quiet apt-get install -y -qq --no-install-recommends "$@"
}

log "installing clang from Debian packages"
apt_quiet apt-get update -qq
if ! command -v clang >/dev/null 2>&1; then
    apt_install clang
fi
if find_working_clang; then
    exit 0
fi

# clang is there but cannot link -fsanitize=fuzzer: add the runtime that
# matches its major version (libclang-rt-N-dev holds libclang_rt.fuzzer*.a;
# older layouts ship it as libfuzzer-N-dev).
for c in $(candidates); do
    major=$("$c" -dumpversion 2>/dev/null | cut -d. -f1)
    [ -n "$major" ] || continue
    for pkg in "libclang-rt-$major-dev" "libfuzzer-$major-dev"; do
        if apt-cache show "$pkg" >/dev/null 2>&1; then
            log "installing $pkg"
            apt_install "$pkg" || true
            if find_working_clang; then
                exit 0
            fi
        fi
    done
done

log "no clang on this machine can link -fsanitize=fuzzer,address,undefined"
exit 1
