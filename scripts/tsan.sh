#!/usr/bin/env bash
# ThreadSanitizer runs (gcc's -fsanitize=thread, -DWSCRT_TSAN=ON). Either passes only with zero reports.
#
#   scripts/tsan.sh                    # the C tests: target/cmake-tsan (Debug), ctest; any report fails
#                                      # the test that printed it (halt_on_error=1, exitcode=66)
#   scripts/tsan.sh -R websocket       # extra arguments go to ctest
#   scripts/tsan.sh --jni [SECONDS]    # the JNI race run: libwscrt-jni.so built with TSan in
#                                      # target/cmake-tsan-jni, a JVM with libtsan preloaded running
#                                      # dev.wscrt.stress.RaceRun (several Java threads connecting, sending,
#                                      # closing and dropping shared WebSockets; default 20 s), suppressions
#                                      # scripts/tsan-jvm.supp (JVM frames only); log in target/tsan-jni/
#
# Environment: CC (compiler, default gcc), TSAN_JOBS (parallel build jobs, default 2), JAVA (default: java
# on PATH), TSAN_SKIP_BUILD=1 (--jni: use the classes and library already built).
set -euo pipefail
cd "$(dirname "$0")/.."
cc=${CC:-gcc}

# Kernels with high ASLR entropy place mappings where TSan's shadow memory cannot cover them
# ("FATAL: ThreadSanitizer: unexpected memory mapping"); setarch -R runs without ASLR.
runner=()
if command -v setarch >/dev/null && setarch "$(uname -m)" -R true 2>/dev/null; then
    runner=(setarch "$(uname -m)" -R)
fi

if [[ "${1:-}" != --jni ]]; then
    dir=target/cmake-tsan
    cmake -S . -B "$dir" -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE=Debug -DWSCRT_TSAN=ON -DWSCRT_BUILD_JNI=OFF >/dev/null
    cmake --build "$dir" -j"${TSAN_JOBS:-2}" >/dev/null
    # second_deadlock_stack: both stacks of a lock-order inversion. history_size: longer memory of old
    # accesses, so that a race with an access long before is reported with its stack, not missed.
    export TSAN_OPTIONS="halt_on_error=1:exitcode=66:second_deadlock_stack=1:history_size=4${TSAN_OPTIONS:+:$TSAN_OPTIONS}"
    exec "${runner[@]}" ctest --test-dir "$dir" --output-on-failure "$@"
fi

seconds=${2:-20}
out=target/tsan-jni
dir=target/cmake-tsan-jni
JAVA=${JAVA:-java}
mkdir -p "$out"
if [[ "${TSAN_SKIP_BUILD:-0}" != 1 ]]; then
    mvn -q -B -o -DskipTests -Dwscrt.sanitize=false test-compile >"$out/mvn.log"
    mvn -q -B -o dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/test.classpath >/dev/null
    # RelWithDebInfo: optimised as shipped, with line numbers in the reports.
    cmake -S . -B "$dir" -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWSCRT_TSAN=ON \
        -DWSCRT_BUILD_JNI=ON >"$out/cmake.log"
    cmake --build "$dir" --target wscrt-jni -j"${TSAN_JOBS:-2}" >>"$out/cmake.log"
fi

cp="target/test-classes:target/classes:$(cat target/test.classpath)"
# The echo server in its own JVM, without TSan; it serves until its standard input closes.
coproc SERVER { "$JAVA" -Xms256m -Xmx256m -cp "$cp" dev.wscrt.stress.StressServer 2>"$out/server.log"; }
server_in=${SERVER[1]}
read -r -t 60 word port transport <&"${SERVER[0]}" || true
if [[ "${word:-}" != PORT ]]; then
    echo "the echo server did not start, see $out/server.log" >&2
    exit 1
fi
echo "echo server: Netty $transport on 127.0.0.1:$port"

libtsan=$(readlink -f "$($cc -print-file-name=libtsan.so)")
log=$out/race-run.log
# report_signal_unsafe=0: the JVM calls malloc in its signal handlers by design. exitcode=0: the JVM's
# own exit status is kept (RaceRun's checks); the reports are counted from the log below.
rc=0
env LD_PRELOAD="$libtsan" \
    TSAN_OPTIONS="suppressions=$PWD/scripts/tsan-jvm.supp:report_signal_unsafe=0:exitcode=0:second_deadlock_stack=1:history_size=4:print_suppressions=0" \
    "${runner[@]}" timeout --signal=QUIT --kill-after=30 $((seconds + 240)) \
    "$JAVA" -Xms256m -Xmx512m -XX:ErrorFile="$out/hs_err_pid%p.log" -Dwscrt.lib.path="$dir/libwscrt-jni.so" \
    -cp "$cp" dev.wscrt.stress.RaceRun --port "$port" --seconds "$seconds" >"$log" 2>&1 || rc=$?
exec {server_in}>&-
wait "$SERVER_PID" 2>/dev/null || true
reports=$(grep -c '^WARNING: ThreadSanitizer' "$log" || true)
grep -E '^(connections|RaceRun|failure|wrong|native memory)' "$log" || true
echo "TSan reports: $reports (log: $log), java exit status $rc"
if [[ $reports -gt 0 ]]; then
    grep -E '^SUMMARY: ThreadSanitizer' "$log" | sort | uniq -c | sort -rn | head -20
fi
[[ $rc -eq 0 && $reports -eq 0 ]]
