#!/usr/bin/env bash
# Installs tinyproxy (Debian's package), the real HTTP proxy of the proxy tests (dev.wscrt.proxy) and
# of `scripts/demo.sh --proxy`. Idempotent and quiet: does nothing when tinyproxy is on the PATH; runs
# `apt-get update` only when the first install attempt fails. Exits non-zero if it could not install.
set -euo pipefail

if command -v tinyproxy >/dev/null 2>&1; then
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-tinyproxy.sh: apt-get not found; install tinyproxy with this system's package manager" >&2
    exit 1
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true >/dev/null 2>&1; then
        SUDO=(sudo -n)
    else
        echo "install-tinyproxy.sh: installing tinyproxy needs root (or password-less sudo)" >&2
        exit 1
    fi
fi

export DEBIAN_FRONTEND=noninteractive
install() {
    "${SUDO[@]}" apt-get install -y -qq --no-install-recommends tinyproxy >/dev/null 2>&1
}

if ! install; then
    "${SUDO[@]}" apt-get update -qq >/dev/null 2>&1 || true
    if ! install; then
        echo "install-tinyproxy.sh: apt-get install tinyproxy failed" >&2
        exit 1
    fi
fi

command -v tinyproxy >/dev/null 2>&1 || [ -x /usr/bin/tinyproxy ] || [ -x /usr/sbin/tinyproxy ]
