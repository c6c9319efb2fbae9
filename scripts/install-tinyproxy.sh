#!/usr/bin/env bash
# Installs tinyproxy (Debian's package), the real HTTP proxy of the proxy tests (dev.wscrt.proxy) and
# of `scripts/demo.sh --proxy`. Idempotent and quiet: does nothing when tinyproxy is on the PATH; runs
# `apt-get update` only when the first install attempt fails. Exits non-zero if it could not install.
set -euo pipefail

if command -v tinyproxy >/dev/null 2>&1; then
    exit 0
fi

# shellcheck source=lib/apt.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/apt.sh"
apt_install install-tinyproxy.sh tinyproxy

command -v tinyproxy >/dev/null 2>&1 || [ -x /usr/bin/tinyproxy ] || [ -x /usr/sbin/tinyproxy ]
