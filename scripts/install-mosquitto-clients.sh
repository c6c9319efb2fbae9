#!/usr/bin/env bash
# Installs Debian's mosquitto-clients (mosquitto_pub, mosquitto_sub): the MQTT clients no one here wrote,
# used by scripts/mqtt-interop.sh over the broker's plain TCP port. Idempotent and quiet: does nothing
# when both are on the PATH; runs `apt-get update` only when the first install attempt fails. Exits
# non-zero if it could not install them. mvn never runs it; .ci/run does (through mqtt-interop.sh).
set -euo pipefail

if command -v mosquitto_pub >/dev/null 2>&1 && command -v mosquitto_sub >/dev/null 2>&1; then
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-mosquitto-clients.sh: apt-get not found; install mosquitto-clients with this system's package manager" >&2
    exit 1
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true >/dev/null 2>&1; then
        SUDO=(sudo -n)
    else
        echo "install-mosquitto-clients.sh: installing mosquitto-clients needs root (or password-less sudo)" >&2
        exit 1
    fi
fi

export DEBIAN_FRONTEND=noninteractive
install() {
    "${SUDO[@]}" apt-get install -y -qq --no-install-recommends mosquitto-clients >/dev/null 2>&1
}

if ! install; then
    "${SUDO[@]}" apt-get update -qq >/dev/null 2>&1 || true
    if ! install; then
        echo "install-mosquitto-clients.sh: apt-get install mosquitto-clients failed" >&2
        exit 1
    fi
fi

command -v mosquitto_pub >/dev/null 2>&1 && command -v mosquitto_sub >/dev/null 2>&1
