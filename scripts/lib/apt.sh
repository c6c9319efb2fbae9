# Sourced (not run) by the scripts/install-*.sh that install Debian packages.
#
# apt_install NAME PACKAGE...
#   Installs PACKAGE... with apt-get, through `sudo -n` when not root, quietly (output discarded); runs
#   `apt-get update` only when the first install attempt fails. NAME (the calling script's name) prefixes
#   the messages. On failure it prints why on stderr and exits the calling script with status 1: no
#   apt-get, not root and no password-less sudo, or the install failed after the update.
#   Callers check first whether what they need is already there, so that an installed system stays quiet.
#
# apt_root NAME WHAT
#   Sets the array APT_SUDO to what runs a command as root: empty when root, `sudo -n` when password-less
#   sudo works. Otherwise prints that installing WHAT needs root and exits the calling script with status 1.
#   Also fails (status 1) when there is no apt-get. Scripts that run more than apt-get as root use it too.
apt_root() {
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "$1: apt-get not found; install $2 with this system's package manager" >&2
        exit 1
    fi
    APT_SUDO=()
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true >/dev/null 2>&1; then
            APT_SUDO=(sudo -n)
        else
            echo "$1: installing $2 needs root (or password-less sudo)" >&2
            exit 1
        fi
    fi
}

apt_install() {
    local name="$1"
    shift
    local what="$*"
    apt_root "$name" "$what"
    if ! DEBIAN_FRONTEND=noninteractive "${APT_SUDO[@]}" apt-get install -y -qq --no-install-recommends "$@" >/dev/null 2>&1; then
        "${APT_SUDO[@]}" apt-get update -qq >/dev/null 2>&1 || true
        if ! DEBIAN_FRONTEND=noninteractive "${APT_SUDO[@]}" apt-get install -y -qq --no-install-recommends "$@" >/dev/null 2>&1; then
            echo "$name: apt-get install $what failed" >&2
            exit 1
        fi
    fi
}
