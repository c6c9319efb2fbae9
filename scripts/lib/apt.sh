# Sourced (not run) by the scripts/install-*.sh that install Debian packages.
#
# apt_install NAME PACKAGE...
#   Installs PACKAGE... with apt-get, through `sudo -n` when not root, quietly (output discarded); runs
#   `apt-get update` only when the first install attempt fails. NAME (the calling script's name) prefixes
#   the messages. On failure it prints why on stderr and exits the calling script with status 1: no
#   apt-get, not root and no password-less sudo, or the install failed after the update.
#   Callers check first whether what they need is already there, so that an installed system stays quiet.
apt_install() {
    local name="$1"
    shift
    local what="$*"
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "$name: apt-get not found; install $what with this system's package manager" >&2
        exit 1
    fi
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true >/dev/null 2>&1; then
            sudo=(sudo -n)
        else
            echo "$name: installing $what needs root (or password-less sudo)" >&2
            exit 1
        fi
    fi
    if ! DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "$@" >/dev/null 2>&1; then
        "${sudo[@]}" apt-get update -qq >/dev/null 2>&1 || true
        if ! DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "$@" >/dev/null 2>&1; then
            echo "$name: apt-get install $what failed" >&2
            exit 1
        fi
    fi
}
