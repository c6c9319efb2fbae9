#!/usr/bin/env bash
# Checks the packaged jars; `mvn verify` runs it after `package` (skipped with -DskipTests), and it runs by
# hand as `scripts/check-jars.sh [target-dir [java-home]]` after `mvn package`:
# - the main jar holds the classes and every native/<platform>/libwscrt-jni.so that was built;
# - each linux-<arch> classifier jar holds the classes and that platform's library only, and on this
#   machine's platform it loads and connects on its own in a fresh JVM (class path);
# - -sources.jar and -javadoc.jar exist, and the jars carry LICENSE and NOTICE;
# - a modular app (src/test/modular) runs against the main jar on the module path: module dev.wscrt
#   exports exactly its API packages;
# - the OpenSSL inside the library is the version NOTICE names.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
target="${1:-$root/target}"
java_home="${2:-${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")}}"
java="$java_home/bin/java"
javac="$java_home/bin/javac"
lib=libwscrt-jni.so
failures=0
fail() { echo "check-jars: FAIL: $*" >&2; failures=$((failures + 1)); }

version="$(sed -n 's:^  <version>\(.*\)</version>$:\1:p' "$root/pom.xml" | head -1)"
main_jar="$target/wscrt-$version.jar"
[[ -f "$main_jar" ]] || { echo "check-jars: no $main_jar; run mvn package first" >&2; exit 1; }
# NOTICE names the OpenSSL version inside each platform's library: "      <platform>: OpenSSL <version> (...)".
openssl_for() { sed -n "s/^ *$1: OpenSSL \([0-9][0-9.]*[a-z]*\) .*/\1/p" "$root/NOTICE" | head -1; }

case "$(uname -m)" in
    x86_64 | amd64) host=linux-x86_64 ;;
    aarch64 | arm64) host=linux-aarch64 ;;
    *) host="linux-$(uname -m)" ;;
esac
openssl="$(openssl_for "$host")"
[[ -n "$openssl" ]] || fail "NOTICE names no OpenSSL version for $host"

entries() { unzip -Z1 "$1"; }
has() { entries "$1" | grep -Fx "$2" >/dev/null; } # not grep -q: with pipefail, unzip's SIGPIPE would count
libraries() { entries "$1" | grep -E "^native/[^/]+/$lib\$" | sed 's:^native/\([^/]*\)/.*:\1:' | sort; }
classes() { entries "$1" | grep -E '^(module-info|dev/.*)\.class$' | sort; }

built="$(libraries "$main_jar")"
[[ -n "$built" ]] || fail "$main_jar holds no native/<platform>/$lib"
main_classes="$(classes "$main_jar")"
grep -Fx module-info.class <<<"$main_classes" >/dev/null || fail "$main_jar has no module-info.class"
for f in META-INF/LICENSE META-INF/NOTICE; do has "$main_jar" "$f" || fail "$main_jar lacks $f"; done
for kind in sources javadoc; do
    [[ -f "$target/wscrt-$version-$kind.jar" ]] || fail "no wscrt-$version-$kind.jar"
done
has "$target/wscrt-$version-sources.jar" dev/wscrt/Crt.java || fail "sources jar lacks dev/wscrt/Crt.java"
has "$target/wscrt-$version-javadoc.jar" index.html || fail "javadoc jar lacks index.html"

# NOTICE tells what each library bundles and links: OpenSSL statically (checked by the app below), and
# zlib dynamically once permessage-deflate uses it. Checked against each library's NEEDED entries.
for platform in $built; do
    unzip -p "$main_jar" "native/$platform/$lib" >"$target/check-jars-$lib"
    needed="$(readelf -d "$target/check-jars-$lib" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort | tr '\n' ' ')"
    # The version text OpenSSL compiles in ("OpenSSL 3.0.19 27 Jan 2026"), read without loading the library.
    inside="$(strings "$target/check-jars-$lib" | sed -n 's/^OpenSSL \([0-9][0-9.]*[a-z]*\) .*/\1/p' | head -1)"
    named="$(openssl_for "$platform")"
    [[ -n "$inside" && "$inside" == "$named" ]] ||
        fail "the $platform library holds OpenSSL ${inside:-(none found)} but NOTICE names ${named:-nothing} for it"
    rm -f "$target/check-jars-$lib"
    for name in $needed; do
        case "$name" in
            libc.so.* | libm.so.* | libdl.so.* | libpthread.so.* | ld-linux*) ;;
            libz.so.*)
                grep -F "zlib" "$root/NOTICE" >/dev/null ||
                    fail "the $platform library links $name but NOTICE does not say so; add under the OpenSSL entry:
  zlib (libz.so.1), linked dynamically, not bundled: the system's copy is used" ;;
            *) fail "the $platform library needs $name, which NOTICE and README do not cover" ;;
        esac
    done
    if [[ " $needed " != *" libz.so."* ]] && grep -F "zlib" "$root/NOTICE" >/dev/null; then
        fail "NOTICE names zlib but the $platform library does not link it"
    fi
done

# The launcher app, compiled once for the class path (without module-info) and once as a module.
work="$target/check-jars"
rm -rf "$work" && mkdir -p "$work/cp" "$work/mods"
app_src="$root/src/test/modular/dev.wscrt.modulartest"
"$javac" -Xlint:all -Werror -d "$work/cp" -cp "$main_jar" "$app_src/dev/wscrt/modulartest/Main.java"
"$javac" -Xlint:all -Werror -d "$work/mods" --module-path "$main_jar" \
    --module-source-path "$root/src/test/modular" -m dev.wscrt.modulartest

run() { # label, java args...
    local label="$1" out
    shift
    if out="$("$java" -Xss1m "$@" "$openssl" 2>&1)"; then
        echo "check-jars: $label: $(head -1 <<<"$out")"
    else
        fail "$label:"$'\n'"$out"
    fi
}

for platform in $built; do
    jar="$target/wscrt-$version-$platform.jar"
    if [[ ! -f "$jar" ]]; then
        fail "no classifier jar $jar for the $platform library in the main jar"
        continue
    fi
    [[ "$(libraries "$jar")" == "$platform" ]] || fail "$jar holds libraries for [$(libraries "$jar" | tr '\n' ' ')], expected only $platform"
    [[ "$(classes "$jar")" == "$main_classes" ]] || fail "$jar does not hold the same classes as the main jar"
    for f in META-INF/LICENSE META-INF/NOTICE; do has "$jar" "$f" || fail "$jar lacks $f"; done
    if [[ "$platform" == "$host" ]]; then
        run "$platform classifier jar alone on the class path" -cp "$jar:$work/cp" dev.wscrt.modulartest.Main
    else
        echo "check-jars: $platform classifier jar: contents checked; not loaded (this machine is $host)"
    fi
done
for jar in "$target"/wscrt-"$version"-linux-*.jar; do
    platform="${jar##*-$version-}"
    platform="${platform%.jar}"
    grep -Fx "$platform" <<<"$built" >/dev/null || fail "classifier jar $jar has no library in the main jar"
done

run "main jar alone on the class path" -cp "$main_jar:$work/cp" dev.wscrt.modulartest.Main
run "main jar on the module path (modular app)" --module-path "$main_jar:$work/mods" \
    -m dev.wscrt.modulartest/dev.wscrt.modulartest.Main

# JDK 24+ warns when a module loads a native library without native access; the flag README documents
# must silence it. Checked with the newest JDK installed under /usr/lib/jvm, if it is 24 or later.
newer_java="$(ls -d /usr/lib/jvm/*-2[4-9]-* /usr/lib/jvm/*-2[4-9] 2>/dev/null | sort -V | tail -1 || true)"
if [[ -n "$newer_java" && -x "$newer_java/bin/java" ]]; then
    out="$("$newer_java/bin/java" --enable-native-access=dev.wscrt --module-path "$main_jar:$work/mods" \
        -m dev.wscrt.modulartest/dev.wscrt.modulartest.Main "$openssl" 2>&1)" || fail "on $newer_java: $out"
    if grep -F "WARNING: A restricted method" <<<"$out" >/dev/null; then
        fail "--enable-native-access=dev.wscrt does not silence the native-access warning on $newer_java: $out"
    else
        echo "check-jars: module path on $(basename "$newer_java") with --enable-native-access=dev.wscrt: no warning"
    fi
else
    echo "check-jars: no JDK 24+ under /usr/lib/jvm; the native-access flag was not checked"
fi

if (( failures )); then
    echo "check-jars: $failures failure(s)" >&2
    exit 1
fi
echo "check-jars: OK (platforms: $(tr '\n' ' ' <<<"$built"))"
