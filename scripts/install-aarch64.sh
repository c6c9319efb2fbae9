#!/usr/bin/env bash
# Installs what the linux-aarch64 build and its emulated tests need, from Debian's packages:
#   gcc-aarch64-linux-gnu, libc6-dev-arm64-cross   the cross compiler and its glibc (/usr/aarch64-linux-gnu);
#                                                  Maven's aarch64 profile turns on when it is on the PATH
#   qemu-user-static                               runs aarch64 programs here (ctest, the arm64 JVM)
# and an arm64 sysroot at $WSCRT_AARCH64_SYSROOT (default /opt/wscrt-aarch64/sysroot) unpacked from
# Debian's arm64 packages: libssl-dev, zlib1g-dev (headers and static/shared libraries to link against),
# and openjdk-17-jre-headless with the few libraries it runs on (the arm64 JVM of scripts/test-aarch64.sh).
#
# Why a sysroot and not `apt-get install libssl-dev:arm64 openjdk-17-jre-headless:arm64`: those packages are
# Multi-Arch: same, so installing them forces the amd64 libssl/zlib/JDK (and, through the JRE's
# dependencies, systemd and dozens more) up to the very same version; on a machine whose amd64 packages are
# not the archive's current ones that upgrades the x86-64 toolchain under every build. Unpacking the arm64
# packages (`apt-get download` + `dpkg-deb -x`) changes nothing of the host's. The arm64 architecture is
# still added to dpkg so that apt can see those packages.
#
# Idempotent: returns at once when everything is in place; runs `apt-get update` only when the arm64
# architecture was just added or a download/install failed (host packages go through scripts/lib/apt.sh).
# Exits non-zero naming what failed.
set -euo pipefail

SYSROOT="${WSCRT_AARCH64_SYSROOT:-/opt/wscrt-aarch64/sysroot}"
HOST_PACKAGES=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static)
# What the sysroot holds; the JRE's other dependencies (cups, alsa, fonts, nss) serve only AWT/sound/PKCS#11.
SYSROOT_PACKAGES=(libc6 libgcc-s1 libstdc++6 zlib1g zlib1g-dev libssl3 libssl-dev openjdk-17-jre-headless)
STAMP="$SYSROOT/.wscrt-sysroot"

s_installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

missing=()
for p in "${HOST_PACKAGES[@]}"; do
    s_installed "$p" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ] && [ -f "$STAMP" ] && [ "$(head -n1 "$STAMP")" = "${SYSROOT_PACKAGES[*]}" ]; then
    exit 0
fi

if ! command -v dpkg >/dev/null 2>&1; then
    echo "install-aarch64.sh: needs a Debian-like system (dpkg, apt-get)" >&2
    exit 1
fi
# shellcheck source=lib/apt.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/apt.sh"
apt_root install-aarch64.sh "the aarch64 cross toolchain and sysroot"
SUDO=("${APT_SUDO[@]}")
export DEBIAN_FRONTEND=noninteractive

updated=0
s_update() {
    if [ "$updated" -eq 0 ]; then
        "${SUDO[@]}" apt-get update -qq >/dev/null
        updated=1
    fi
}

if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    "${SUDO[@]}" dpkg --add-architecture arm64
    s_update
fi

if [ ${#missing[@]} -gt 0 ]; then
    apt_install install-aarch64.sh "${missing[@]}"
fi

# The sysroot: download the arm64 packages (apt's candidate versions) and unpack them.
if ! [ -f "$STAMP" ] || [ "$(head -n1 "$STAMP")" != "${SYSROOT_PACKAGES[*]}" ]; then
    debs=$(mktemp -d)
    trap 'rm -rf "$debs"' EXIT
    # The same version as the host's amd64 package where that is still served (the x86-64 and aarch64
    # libraries then carry the same OpenSSL), else apt's candidate, said aloud.
    arm64=()
    for p in "${SYSROOT_PACKAGES[@]}"; do
        host_version=$(dpkg-query -W -f='${Version}' "$p:amd64" 2>/dev/null || true)
        if [ -n "$host_version" ] && apt-cache madison "$p:arm64" 2>/dev/null | grep -qF "| $host_version |"; then
            arm64+=("$p:arm64=$host_version")
        else
            if [ -n "$host_version" ]; then
                echo "install-aarch64.sh: $p $host_version (amd64) is not served for arm64; taking apt's candidate" >&2
            fi
            arm64+=("$p:arm64")
        fi
    done
    if ! (cd "$debs" && apt-get download -qq "${arm64[@]}" >/dev/null 2>&1); then
        s_update
        for p in "${arm64[@]}"; do
            (cd "$debs" && apt-get download -qq "$p" >/dev/null) \
                || { echo "install-aarch64.sh: apt-get download $p failed (is it served?)" >&2; exit 1; }
        done
    fi
    "${SUDO[@]}" rm -rf "$SYSROOT.tmp"
    "${SUDO[@]}" mkdir -p "$SYSROOT.tmp"
    for d in "$debs"/*.deb; do
        "${SUDO[@]}" dpkg-deb -x "$d" "$SYSROOT.tmp"
    done
    # Absolute symlinks (the JRE's conf/ and jvm.cfg point into /etc/java-17-openjdk) would resolve on the
    # host; point those whose target the sysroot holds into the sysroot instead.
    while IFS= read -r link; do
        target=$(readlink "$link")
        case "$target" in
            /*) if [ -e "$SYSROOT.tmp$target" ] || [ -L "$SYSROOT.tmp$target" ]; then
                    "${SUDO[@]}" ln -sfn "$SYSROOT$target" "$link"
                fi ;;
        esac
    done < <(find "$SYSROOT.tmp" -type l)
    # (the links name $SYSROOT, valid once the directory is renamed below)
    "${SUDO[@]}" rm -rf "$SYSROOT"
    "${SUDO[@]}" mv "$SYSROOT.tmp" "$SYSROOT"
    { echo "${SYSROOT_PACKAGES[*]}"; (cd "$debs" && ls -1 *.deb); } | "${SUDO[@]}" tee "$STAMP" >/dev/null
fi

command -v aarch64-linux-gnu-gcc >/dev/null && command -v qemu-aarch64-static >/dev/null \
    && [ -f "$SYSROOT/usr/lib/aarch64-linux-gnu/libssl.a" ] \
    && [ -x "$SYSROOT/usr/lib/jvm/java-17-openjdk-arm64/bin/java" ] \
    || { echo "install-aarch64.sh: the install did not produce the expected files" >&2; exit 1; }
