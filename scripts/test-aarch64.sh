#!/usr/bin/env bash
# Tests the linux-aarch64 build on this x86-64 machine, under qemu-aarch64 (user-mode emulation):
#   1. scripts/install-aarch64.sh (cross compiler, qemu, the arm64 sysroot with OpenSSL, zlib and JRE 17)
#      and scripts/install-tinyproxy.sh (the proxy of ProxyTest);
#   2. the build: the Java classes and test classes `mvn -B verify` left in target/ are reused (Maven's
#      test-compile runs only when they are missing or older than a source); the aarch64 library and C
#      tests are cross-built by CMake in target/cmake-aarch64 (cmake/aarch64-linux-gnu.cmake, as the pom's
#      aarch64 profile does) and the library is copied to target/classes/native/linux-aarch64/;
#   3. the aarch64 C tests, run by ctest through qemu (the toolchain file sets CMAKE_CROSSCOMPILING_EMULATOR);
#   4. the JUnit tests in Debian's arm64 JVM under qemu, which loads the aarch64 library the way a user's
#      JVM does (NativeLoader, native/linux-aarch64/ on the class path): surefire's `jvm` is a wrapper
#      (target/aarch64-jvm/bin/java) that starts that JVM through qemu.
# Modes:
#   --smoke    (the default; .ci/run runs it) the smoke suite: load, connect, echo text/binary/fragmented
#              against the Netty server, wss with the test CA, ws through tinyproxy, close, Cleaner (GC)
#              cleanup, native memory back to baseline (every test class checks it after its tests).
#              Every test named below must run and pass: a renamed test fails the run. About 3-4 minutes
#              with a cold aarch64 build on a loaded 2-core machine (docs/aarch64-report.md).
#   --full     the whole JUnit suite; writes docs/aarch64-report.md. Long (tens of minutes).
#   --no-install  skip step 1.
# The emulated JVM runs with -Dwscrt.test.timeScale=$WSCRT_TEST_TIME_SCALE (default 6, at most 10): the
# tests' upper bounds on waits (dev.wscrt.testing.Await) are that many times their native-speed values.
# Each step is bounded (ctest 10 min, the smoke JVM 5 min). Any failure ends the script with a line starting
# "test-aarch64.sh: FAILED". Reports: target/surefire-reports-aarch64/ (the x86-64 reports in
# target/surefire-reports/ are left as they were). Emulated timings say nothing about ARM64 hardware.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

mode=smoke
install=1
for arg in "$@"; do
    case "$arg" in
        --smoke) mode=smoke ;;
        --full) mode=full ;;
        --no-install) install=0 ;;
        *) echo "usage: scripts/test-aarch64.sh [--smoke | --full] [--no-install]" >&2; exit 2 ;;
    esac
done

# Class#method+method...: the methods must exist (checked against the reports after the run).
SMOKE_TESTS=(
    'CrtTest#versionIsAVersionString+opensslVersionNamesTheOpenssl3InsideTheLibrary+nativeMemoryRisesWithAResourceAndFallsBackAfterItsRelease+nativeLogLinesGoToAFileAtTheChosenLevel'
    'WebSocketEchoTest#textWithMultiByteCharactersEchoesIntact+binaryFrameOfEverySizeEchoesIntact+fragmentedTextMessageEchoesFragmentByFragment+fragmentedBinaryMessageEchoesFragmentByFragment+closeSendsNormalClosureAndShutsDown'
    'WssTest#echoOverWssWithTheCustomCa+rejectedByDefaultWithoutTheCustomCa'
    'ProxyTest#wsThroughTheProxyEchoes'
    'WebSocketLifecycleTest#closeIsIdempotent+connectToAClosedPortFailsWithConnectionRefused+droppedWebSocketIsClosedByTheCleanerAndItsShutdownCallbackRunsOnce'
)

sysroot="${WSCRT_AARCH64_SYSROOT:-/opt/wscrt-aarch64/sysroot}"
export WSCRT_AARCH64_SYSROOT="$sysroot"
time_scale="${WSCRT_TEST_TIME_SCALE:-6}"
arm_java_home="$sysroot/usr/lib/jvm/java-17-openjdk-arm64"
toolchain="$root/cmake/aarch64-linux-gnu.cmake"
build="$root/target/cmake-aarch64"
lib="$root/target/classes/native/linux-aarch64/libwscrt-jni.so"
reports="$root/target/surefire-reports-aarch64"
logs="$root/target/test-aarch64-logs"

s_fail() {
    echo "test-aarch64.sh: FAILED: $*" >&2
    exit 1
}
# Runs a command with its output in $logs/<name>.log; on failure shows the log's end and fails.
s_logged() {
    local name="$1"
    shift
    if ! "$@" >"$logs/$name.log" 2>&1; then
        tail -n 60 "$logs/$name.log" >&2
        s_fail "$name (full log: ${logs#"$root"/}/$name.log)"
    fi
}
s_seconds() { echo $(($(date +%s) - $1)); }
mkdir -p "$logs"
t0=$(date +%s)

# 1. Install.
if [ "$install" -eq 1 ]; then
    scripts/install-aarch64.sh || s_fail "scripts/install-aarch64.sh could not set up the aarch64 toolchain"
    scripts/install-tinyproxy.sh || s_fail "scripts/install-tinyproxy.sh could not install tinyproxy"
fi
t_install=$(s_seconds "$t0")
[ -x "$arm_java_home/bin/java" ] || s_fail "no arm64 JRE at $arm_java_home: run scripts/install-aarch64.sh"

# 2. Build. The Java side: what `mvn -B verify` compiled, unless a source is newer than the last test-compile.
t1=$(date +%s)
compiled="$root/target/maven-status/maven-compiler-plugin/testCompile/default-testCompile/inputFiles.lst"
if [ ! -f "$compiled" ] || [ ! -d "$root/target/classes/dev" ] ||
    [ -n "$(find src/main/java src/test/java -name '*.java' -newer "$compiled" -print -quit)" ]; then
    s_logged mvn-test-compile mvn -B -q -DskipTests -Dwscrt.sanitize=false test-compile
fi
# The aarch64 CMake build. A cache made for another source tree, toolchain or sysroot is dropped with its
# directory; one made from other CMake inputs (a changed default of a cached setting such as
# WSCRT_GLIBC_FLOOR stays in an old cache) is reconfigured from scratch, keeping the objects.
s_cached() { realpath -m "$(sed -n "s/^$1:[A-Z]*=//p" "$build/CMakeCache.txt" 2>/dev/null)" 2>/dev/null || true; }
if [ -f "$build/CMakeCache.txt" ] && { [ "$(s_cached CMAKE_HOME_DIRECTORY)" != "$(realpath "$root")" ] ||
    [ "$(s_cached CMAKE_TOOLCHAIN_FILE)" != "$(realpath "$toolchain")" ] ||
    [ "$(s_cached WSCRT_AARCH64_SYSROOT)" != "$(realpath -m "$sysroot")" ]; }; then
    echo "test-aarch64.sh: $build was configured for another tree, toolchain or sysroot; rebuilding it" >&2
    rm -rf "$build"
fi
inputs=$(cat CMakeLists.txt cmake/*.cmake | sha256sum | cut -d' ' -f1)
if [ -f "$build/CMakeCache.txt" ] && [ "$(cat "$build/.wscrt-cmake-inputs" 2>/dev/null)" != "$inputs" ]; then
    rm -f "$build/CMakeCache.txt"
fi
s_logged cmake-aarch64-configure cmake -S "$root" -B "$build" -DCMAKE_TOOLCHAIN_FILE="$toolchain" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo
echo "$inputs" >"$build/.wscrt-cmake-inputs"
s_logged cmake-aarch64-build cmake --build "$build" -j2
mkdir -p "$(dirname "$lib")"
cp "$build/libwscrt-jni.so" "$lib"
t_build=$(s_seconds "$t1")
file "$lib" | grep -q 'ARM aarch64' || s_fail "$lib is not an aarch64 library"

# 3. The aarch64 C tests under qemu.
t2=$(date +%s)
timeout -k 10 600 ctest --test-dir "$build" --output-on-failure -j2 ||
    s_fail "the aarch64 C tests under qemu (ctest --test-dir ${build#"$root"/}; output above)"
t_ctest=$(s_seconds "$t2")

# 4. The arm64 JVM under qemu. jdk.lang.Process.launchMechanism=VFORK: the default posix_spawn goes
# through jspawnhelper, an aarch64 program the host kernel cannot start without binfmt_misc; with vfork
# the JVM execs the child (tinyproxy, x86-64) directly. -XX:TieredStopAtLevel=1 (C1 only): C2's
# compilations, emulated too, cost more than they win in runs this short. Classes run in alphabetical
# order, so the same order every time.
wrapper_home="$root/target/aarch64-jvm"
qemu=$(command -v qemu-aarch64-static || command -v qemu-aarch64) || s_fail "no qemu-aarch64 on the PATH"
# A copy of the arm64 JRE (hard links where possible) whose bin/java is a script that starts the real
# launcher, bin/java-aarch64, under qemu: the JVM takes its java.home from where libjvm.so lies, so tests
# that start a child JVM from ${java.home}/bin/java (CrtProbe, ChildJvm, the stress server) get the
# script too, and their children run emulated as well.
rm -rf "$wrapper_home"
cp -al "$arm_java_home" "$wrapper_home" 2>/dev/null || cp -a "$arm_java_home" "$wrapper_home"
mv "$wrapper_home/bin/java" "$wrapper_home/bin/java-aarch64"
cat >"$wrapper_home/bin/java" <<EOF
#!/bin/sh
# Generated by scripts/test-aarch64.sh: Debian's arm64 JVM under qemu. NativeLoader finds
# native/linux-aarch64/libwscrt-jni.so on the class path (target/classes) as it would in the jar.
exec "$qemu" -L "$sysroot" "$wrapper_home/bin/java-aarch64" \\
    -Djdk.lang.Process.launchMechanism=VFORK -XX:TieredStopAtLevel=1 -Dwscrt.test.timeScale=$time_scale "\$@"
EOF
chmod +x "$wrapper_home/bin/java"
"$wrapper_home/bin/java" -XshowSettings:properties -version 2>&1 | grep -q 'os.arch = aarch64' ||
    s_fail "the arm64 JVM does not start under qemu ($wrapper_home/bin/java -version)"

surefire_args=(-B surefire:test -Djvm="$wrapper_home/bin/java" -Dsurefire.runOrder=alphabetical)
if [ "$mode" = smoke ]; then
    surefire_args+=(-Dtest="$(IFS=,; echo "${SMOKE_TESTS[*]}")" -Dsurefire.timeout=300)
else
    surefire_args+=(-Dsurefire.timeout=5400)
fi
# surefire writes to target/surefire-reports; the x86-64 reports there are set aside meanwhile.
x86_reports="$root/target/surefire-reports"
rm -rf "$x86_reports.x86-64"
if [ -d "$x86_reports" ]; then
    mv "$x86_reports" "$x86_reports.x86-64"
fi
t3=$(date +%s)
rc=0
mvn "${surefire_args[@]}" >"$logs/junit.log" 2>&1 || rc=$?
t_junit=$(s_seconds "$t3")
rm -rf "$reports"
if [ -d "$x86_reports" ]; then
    mv "$x86_reports" "$reports"
fi
if [ -d "$x86_reports.x86-64" ]; then
    mv "$x86_reports.x86-64" "$x86_reports"
fi
grep -E '^\[(INFO|WARNING|ERROR)\] (Tests run:|Failures:|Errors:|  |BUILD)' "$logs/junit.log" | tail -40 || true

echo "test-aarch64.sh: $mode: install ${t_install}s, build ${t_build}s, C tests under qemu ${t_ctest}s," \
    "JUnit in the arm64 JVM under qemu ${t_junit}s (emulated, not figures)"
if [ "$mode" = full ]; then
    python3 scripts/aarch64-report.py "$reports" "$root/docs/aarch64-report.md" \
        "$("$wrapper_home/bin/java" -version 2>&1 | sed -n 2p)" "$t_ctest" "$t_junit"
    [ "$rc" -eq 0 ] || s_fail "JUnit in the arm64 JVM (see docs/aarch64-report.md and ${logs#"$root"/}/junit.log)"
    exit 0
fi

# The smoke run passes only if every named test ran (a renamed one would otherwise drop out silently)
# and nothing failed, errored or was skipped.
[ "$rc" -eq 0 ] || s_fail "the JUnit smoke suite in the arm64 JVM (failures above; ${logs#"$root"/}/junit.log)"
problems=()
for entry in "${SMOKE_TESTS[@]}"; do
    class=${entry%%#*}
    xml=$(ls "$reports"/TEST-*."$class".xml 2>/dev/null | head -n1 || true)
    IFS=+ read -r -a methods <<<"${entry#*#}"
    for m in "${methods[@]}"; do
        if [ -z "$xml" ] || ! grep -qE "<testcase name=\"$m[\"(]" "$xml"; then
            problems+=("$class#$m did not run")
        fi
    done
done
total=0
for xml in "$reports"/TEST-*.xml; do
    [ -f "$xml" ] || continue
    header=$(grep -m1 -o '<testsuite [^>]*>' "$xml" || true)
    for kind in failures errors skipped; do
        n=$(sed -n "s/.* $kind=\"\([0-9]*\)\".*/\1/p" <<<"$header")
        [ "${n:-0}" -eq 0 ] || problems+=("$(basename "$xml" .xml): $n $kind")
    done
    n=$(sed -n 's/.* tests="\([0-9]*\)".*/\1/p' <<<"$header")
    total=$((total + ${n:-0}))
done
if [ ${#problems[@]} -gt 0 ]; then
    printf '  %s\n' "${problems[@]}" >&2
    s_fail "the JUnit smoke suite in the arm64 JVM: a listed test did not run, or one failed or was skipped (above)"
fi
echo "test-aarch64.sh: smoke passed: the aarch64 C tests and $total JUnit tests in the arm64 JVM under qemu" \
    "($(s_seconds "$t0") s in all)"
