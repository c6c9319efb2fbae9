# Sourced (not run) by the scripts/install-*.sh that install Debian packages.
#
# apt_install NAME PACKAGE...
#   Installs PACKAGE... with apt-get, through `sudo -n` when not root, quietly; runs `apt-get update` only
#   when the first install attempt fails. NAME (the calling script's name) prefixes the messages. On failure
#   it prints why on stderr and exits the calling script with status 1: no apt-get, not root and no
#   password-less sudo, or the install failed after the update (with the last lines apt-get printed).
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
    # `env` inside sudo: sudo's env_reset would drop a DEBIAN_FRONTEND set in front of it.
    local apt=("${APT_SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get)
    if "${apt[@]}" install -y -qq --no-install-recommends "$@" >/dev/null 2>&1; then
        return 0
    fi
    # The package lists may be missing or stale (a fresh machine): update, try once more, and on failure
    # show what apt-get said (an update that fails in part may still let the install through).
    local log
    log=$(mktemp)
    if ! { "${apt[@]}" update -qq || true; "${apt[@]}" install -y -qq --no-install-recommends "$@"; } >"$log" 2>&1; then
        echo "$name: apt-get install $what failed; apt-get said:" >&2
        tail -n 20 "$log" >&2
        rm -f "$log"
        exit 1
    fi
    rm -f "$log"
}
