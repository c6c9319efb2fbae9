#!/usr/bin/env bash
# Installs Debian's mosquitto-clients (mosquitto_pub, mosquitto_sub): the MQTT clients no one here wrote,
# used by scripts/mqtt-interop.sh over the broker's plain TCP port. Idempotent and quiet: does nothing
# when both are on the PATH; runs `apt-get update` only when the first install attempt fails. Exits
# non-zero if it could not install them. mvn never runs it; .ci/run does (through mqtt-interop.sh).
set -euo pipefail

if command -v mosquitto_pub >/dev/null 2>&1 && command -v mosquitto_sub >/dev/null 2>&1; then
    exit 0
fi

# shellcheck source=lib/apt.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/apt.sh"
apt_install install-mosquitto-clients.sh mosquitto-clients

command -v mosquitto_pub >/dev/null 2>&1 && command -v mosquitto_sub >/dev/null 2>&1
