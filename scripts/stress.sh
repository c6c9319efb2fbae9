#!/usr/bin/env bash
# Lifetime, load and leak runs (issue 5, section 4), loopback only, bounded in count and time:
#   cycles       100,000 connect -> echo -> close cycles; native memory and Java heap flat at the end
#   connections  10,000 connections held 60 s with PINGs; native bytes, heap and RSS per connection
#   shared       16 threads sending and closing on 8 shared connections for 30 s; every completion once
#   shared-asan  the same against libwscrt-jni.so built with ASan + UBSan (runtime preloaded into java)
#   shared-tsan  the same with TSan (not by default: see the report's note on what TSan can see in a JVM)
# Each run is its own JVM (the echo server is a child JVM of it); the Markdown sections are joined into
# target/stress/report.md.
#
#   scripts/stress.sh                       # cycles connections shared shared-asan, full size (about 4 min)
#   scripts/stress.sh --quick               # 5,000 cycles, 1,000 connections for 10 s, 10 s shared (about 2 min)
#   scripts/stress.sh --quick cycles shared # some runs only
#   scripts/stress.sh --report              # also copy the report to docs/stress-report.md
#
# Environment: JAVA (java binary, default: java on PATH), STRESS_JAVA_OPTS (client JVM options, default
# -Xms1g -Xmx1g -XX:+AlwaysPreTouch), STRESS_SKIP_BUILD=1 (use what target/ holds), STRESS_NO_EPOLL=1
# (serve with Netty NIO instead of epoll).
# Exit status: 0 when every run passed, 1 when one failed or died.
set -uo pipefail

cd "$(dirname "$0")/.."
JAVA=${JAVA:-java}
STRESS_JAVA_OPTS=${STRESS_JAVA_OPTS:--Xms1g -Xmx1g -XX:+AlwaysPreTouch}
OUT=target/stress

quick=()
report=0
runs=()
for arg in "$@"; do
    case "$arg" in
        --quick) quick=(--quick) ;;
        --report) report=1 ;;
        cycles|connections|shared|shared-asan|shared-tsan) runs+=("$arg") ;;
        -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown argument: $arg (see --help)" >&2; exit 2 ;;
    esac
done
if [[ ${#runs[@]} -eq 0 ]]; then
    runs=(cycles connections shared shared-asan)
fi

# 10,000 client sockets need a descriptor limit above 10,000 (the server, a child JVM, has its own
# 10,000). Ask for 65536; where the hard limit is lower, take the hard limit.
requested_fds=65536
if ! ulimit -n "$requested_fds" 2>/dev/null; then
    ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
fi
fd_soft=$(ulimit -Sn)
fd_hard=$(ulimit -Hn)
echo "open file limit: asked for $requested_fds, got $fd_soft (hard limit $fd_hard)"

if [[ "${STRESS_SKIP_BUILD:-0}" != 1 ]]; then
    # Builds the native library, the main classes and the test classes. Other work in progress in src/test
    # may not compile at a given moment; the stress runs then still go ahead (see below) if the main build did.
    if ! build_log=$(mvn -q -B -DskipTests -Dwscrt.sanitize=false test-compile 2>&1); then
        if grep -q "testCompile" <<<"$build_log" && [[ -f target/classes/dev/wscrt/Crt.class ]]; then
            echo "warning: mvn test-compile failed in the test sources; the stress classes are compiled on their own:" >&2
            grep -m 5 "ERROR.*\.java" <<<"$build_log" >&2
        else
            echo "$build_log" >&2
            echo "the build failed" >&2
            exit 1
        fi
    fi
    mvn -q -B dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/test.classpath || exit 1
fi

# The library under test is what was just built: name its commit now, not when the runs are over.
commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- src/main src/native crt CMakeLists.txt 2>/dev/null || echo ' with uncommitted library changes')"
if [[ "${STRESS_SKIP_BUILD:-0}" == 1 ]]; then
    commit="$commit (build skipped: the library is whatever target/classes held)"
fi

# Private copies, so that another `mvn` on this tree (a clean, a half-done compile) cannot change the
# classes or the native library under a running JVM: the main classes (with the .so), and the stress
# classes with the test helpers they use, compiled on their own as scripts/bench.sh does.
rm -rf "$OUT/main-classes" "$OUT/classes"
mkdir -p "$OUT"
cp -r target/classes "$OUT/main-classes"
if ! javac -nowarn -d "$OUT/classes" -cp "$OUT/main-classes:$(cat target/test.classpath)" \
        src/test/java/dev/wscrt/testing/*.java src/test/java/dev/wscrt/loadserver/*.java \
        src/test/java/dev/wscrt/stress/*.java; then
    echo "the stress classes do not compile" >&2
    exit 1
fi
CP="$OUT/classes:$OUT/main-classes:$(cat target/test.classpath)"

# Netty's epoll transport for the server is a test dependency (pom.xml); the server falls back to NIO
# where it does not load, and STRESS_NO_EPOLL=1 asks for NIO.
transport_note="Netty epoll when it loads (each section names the transport used)"
if [[ "${STRESS_NO_EPOLL:-0}" == 1 ]]; then
    transport_note="Netty NIO (STRESS_NO_EPOLL=1)"
fi

# Sanitizer builds of the JNI library for shared-asan / shared-tsan, in private build directories (the
# project's own sanitizer build covers the C tests only). gcc's runtime is preloaded into that java
# process alone; the echo server child does not inherit it.
declare -A san_lib=() san_env=() # empty, not unset: set -u rejects ${#san_lib[@]} on an unset array
for run in "${runs[@]}"; do
    case "$run" in
        shared-asan) kind=asan; flags="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
            lflags="-fsanitize=address,undefined"
            # JVM-friendly: the JVM's own SIGSEGV handling stays, its allocations are not leak-checked.
            options="ASAN_OPTIONS=detect_leaks=0:handle_segv=0:allow_user_segv_handler=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1" ;;
        shared-tsan) kind=tsan; flags="-fsanitize=thread -fno-omit-frame-pointer"; lflags="-fsanitize=thread"
            # The JVM is not instrumented: ignore what its own libraries do (their locks, their memset,
            # the module image reader, thread-local storage freed at thread exit).
            printf '%s\n' called_from_lib:libjvm.so called_from_lib:libjava.so called_from_lib:libnio.so \
                called_from_lib:libnet.so called_from_lib:libzip.so race:libjimage.so race:dl_deallocate_tls \
                >"$OUT/tsan.supp"
            options="TSAN_OPTIONS=suppressions=$OUT/tsan.supp:report_signal_unsafe=0:exitcode=0" ;;
        *) continue ;;
    esac
    dir=$OUT/cmake-$kind
    if ! { cmake -S . -B "$dir" -DCMAKE_C_COMPILER=gcc -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWSCRT_SANITIZE=OFF \
            -DWSCRT_BUILD_JNI=ON -DWSCRT_GLIBC_COMPAT=OFF -DCMAKE_C_FLAGS="$flags" -DCMAKE_SHARED_LINKER_FLAGS="$lflags" \
            -DCMAKE_EXE_LINKER_FLAGS="$lflags" >"$OUT/cmake-$kind.log" 2>&1 &&
           cmake --build "$dir" --target wscrt-jni -j2 >>"$OUT/cmake-$kind.log" 2>&1; }; then
        echo "the $kind build of libwscrt-jni.so failed, see $OUT/cmake-$kind.log" >&2
        exit 1
    fi
    san_lib[$run]=$dir/libwscrt-jni.so
    san_env[$run]="LD_PRELOAD=$(readlink -f "$(gcc -print-file-name=lib$kind.so)") $options"
done

# Outer time limits per run (the runs bound themselves well within these): SIGQUIT first, so that a
# hung JVM prints its thread dump into the log, then SIGKILL 30 s later.
limit_for() {
    case "$1${quick[0]:-}" in
        cycles--quick) echo 240 ;;
        cycles) echo 720 ;;
        connections--quick) echo 240 ;;
        connections) echo 480 ;;
        shared*--quick) echo 180 ;;
        shared*) echo 240 ;;
    esac
}

started_at=$(date -u '+%Y-%m-%d %H:%M:%S UTC')
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
failed=()
for run in "${runs[@]}"; do
    rm -f "$OUT/$run.md" "$OUT/$run.log"
    before_hs=$(ls hs_err_pid*.log "$OUT"/hs_err_pid*.log 2>/dev/null | sort)
    echo "=== $run ${quick[*]:-} ==="
    java_run=(dev.wscrt.stress.Stress "${run%%-*}" "${quick[@]}" --out "$OUT" --name "$run")
    prefix=()
    lib_opt=()
    case "$run" in
        shared-asan) java_run+=(--variant "ASan + UBSan native build") ;;
        shared-tsan) java_run+=(--variant "TSan native build") ;;
    esac
    if [[ -n "${san_lib[$run]:-}" ]]; then
        # shellcheck disable=SC2206
        prefix=(env ${san_env[$run]})
        lib_opt=(-Dwscrt.lib.path="${san_lib[$run]}")
    fi
    # shellcheck disable=SC2086
    timeout --signal=QUIT --kill-after=30 "$(limit_for "$run")" "${prefix[@]}" \
        "$JAVA" $STRESS_JAVA_OPTS -XX:ErrorFile="$OUT/hs_err_pid%p.log" "${lib_opt[@]}" -cp "$CP" \
        "${java_run[@]}" 2>&1 | tee "$OUT/$run.log"
    rc=${PIPESTATUS[0]}
    if [[ $rc -ne 0 ]]; then
        failed+=("$run")
    fi
    if [[ $rc -ne 0 && $rc -ne 1 ]] || [[ ! -s "$OUT/$run.md" ]]; then
        # The JVM died or was killed: no section was written. Say what is known.
        new_hs=$(comm -13 <(echo "$before_hs") <(ls hs_err_pid*.log "$OUT"/hs_err_pid*.log 2>/dev/null | sort))
        {
            echo "## Run '$run' did not finish"
            echo
            echo "The JVM exited with status $rc$([[ $rc -gt 128 ]] && echo " (signal $((rc - 128)))")$([[ $rc -eq 124 ]] && echo " (time limit $(limit_for "$run") s)")."
            echo "Crash logs: ${new_hs:-none}. Last lines of $OUT/$run.log:"
            echo
            echo '```'
            tail -n 30 "$OUT/$run.log"
            echo '```'
            echo
            echo "**Verdict: FAIL**"
            echo
        } >"$OUT/$run.md"
    fi
    if [[ -n "${san_lib[$run]:-}" ]]; then
        # What the sanitizer said, from the run's log (its reports go to standard error).
        reports=$(grep -c -E '^(==[0-9]+==ERROR: AddressSanitizer|WARNING: ThreadSanitizer)|runtime error:' "$OUT/$run.log")
        {
            echo "Sanitizer: \`${san_env[$run]}\`, library \`${san_lib[$run]}\`: **$reports report(s)** in $OUT/$run.log."
            if [[ $reports -gt 0 ]]; then
                echo
                echo "| report summary | count |"
                echo "|---|---|"
                grep -E '^SUMMARY: |runtime error:' "$OUT/$run.log" | sed -E 's/\(pid=[0-9]+\)//; s/\+0x[0-9a-f]+//g; s/\|/\\|/g' \
                    | sort | uniq -c | sort -rn | head -n 15 | awk '{n=$1; $1=""; printf "| %s | %d |\n", substr($0, 2), n}'
            fi
            if [[ $run == shared-tsan ]]; then
                echo
                echo "TSan sees only what is instrumented: this library, not the JVM. Happens-before edges made by"
                echo "Java code (a WebSocket published through a volatile field or a semaphore, the WebSocket's own"
                echo "atomic in-use guard) are invisible to it, so native state created on one thread and used on"
                echo "another after such a hand-off is reported as a race. Reports are listed, not judged; every one"
                echo "needs reading against the Java side before it counts as a finding."
            fi
            echo
        } >>"$OUT/$run.md"
        if [[ $run == shared-asan && $reports -gt 0 ]]; then
            failed+=("$run (sanitizer)")
        fi
    fi
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

{
    echo "# Lifetime, load and leak runs"
    echo
    echo "Generated by \`scripts/stress.sh${quick[*]:+ ${quick[*]}}\` (runs: ${runs[*]}) on $started_at from commit $commit,"
    echo "against a local echo server: $transport_note, in a child JVM of each run, on 127.0.0.1 only."
    echo
    echo "| machine | |"
    echo "|---|---|"
    echo "| CPUs | $(nproc) |"
    echo "| memory | $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo) |"
    echo "| kernel | $(uname -r) |"
    echo "| Java | $("$JAVA" -version 2>&1 | head -n 1) |"
    echo "| client JVM options | \`$STRESS_JAVA_OPTS\` (server child: \`-Xms512m -Xmx512m\`) |"
    echo "| native library | as \`mvn\` builds it (RelWithDebInfo, -O2 -g)$([[ ${#san_lib[@]} -gt 0 ]] && echo "; sanitizer runs use their own builds, named in their sections") |"
    echo "| open file limit | asked for $requested_fds, got **$fd_soft** (hard limit $fd_hard) |"
    echo "| ephemeral ports / somaxconn | $(tr '\t' '-' </proc/sys/net/ipv4/ip_local_port_range) / $(cat /proc/sys/net/core/somaxconn) |"
    echo "| load average before / after | $load_before / $load_after |"
    echo
    echo "Other engineers run builds and tests on this 2-core machine at the same time, so rates and"
    echo "timings are noisy (compare the load averages above); memory and callback counts are exact."
    echo "Connections dropped without \`close()\` and collected by the GC (the third item of the issue's"
    echo "section 4) are covered by \`FaultInjectionTest.droppedWebSocketsAreClosedAndFreedOnceCollected\`"
    echo "(fault DROPPED_WITHOUT_CLOSE in docs/fault-report.md) and"
    echo "\`WebSocketLifecycleTest.droppedWebSocket*\`, not here."
    echo
    for run in "${runs[@]}"; do
        cat "$OUT/$run.md"
    done
} >"$OUT/report.md"

echo
echo "report: $OUT/report.md"
if [[ $report -eq 1 ]]; then
    mkdir -p docs
    cp "$OUT/report.md" docs/stress-report.md
    echo "copied to docs/stress-report.md"
fi
if [[ ${#failed[@]} -gt 0 ]]; then
    echo "FAILED: ${failed[*]}" >&2
    exit 1
fi
