#!/usr/bin/env bash
# Benchmark: wscrt against the JDK's java.net.http.WebSocket, Netty's client (epoll), Java-WebSocket and
# OkHttp, and against the limits (plain sockets, `openssl speed`), in one run, all against the same local
# Netty epoll WebSocket server in its own JVM (wss throughput over BoringSSL from netty-tcnative, which the
# `bench` Maven profile adds; wss set-up and idle over the JDK's TLS). Prints a Markdown report and writes
# it to target/bench/report.md (or --out=FILE).
#
#   scripts/bench.sh                              # every scenario and client, 3 runs of >= 2 s (about 25 min)
#   scripts/bench.sh --quick                      # smoke check: 1 run of 0.3 s per cell (about 5 min)
#   scripts/bench.sh --out=docs/bench-report.md   # the committed report
#   scripts/bench.sh recv64 echo --clients=wscrt,netty
#   scripts/bench.sh --help                       # every option
#
# Environment: JAVA (java binary, default: java on PATH), BENCH_WORKER_OPTS (JVM options of each client
# process, default -Xms1g -Xmx1g), BENCH_SKIP_BUILD=1 (use what target/ holds).
#
# Profiling a client: the library normally runs from a temporary copy deleted once loaded, which perf cannot
# read. BENCH_WORKER_OPTS="-Xms1g -Xmx1g -Dwscrt.lib.path=$PWD/target/bench/main-classes/native/linux-x86_64/libwscrt-jni.so"
# loads it from that file instead, so `perf record --call-graph dwarf -p <worker pid>` names and unwinds its
# functions (OpenSSL's too: it is linked in); add -XX:+UnlockDiagnosticVMOptions -XX:+DumpPerfMapAtExit for
# the JIT's.
set -euo pipefail

cd "$(dirname "$0")/.."
JAVA=${JAVA:-java}

for arg in "$@"; do
    if [[ "$arg" == "-h" || "$arg" == "--help" ]]; then
        BENCH_SKIP_BUILD=1
    fi
done

# 5,000 idle connections need as many descriptors in the client process and in the server process.
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

if [[ "${BENCH_SKIP_BUILD:-0}" != 1 ]]; then
    # Builds the native library and the main classes (incremental when up to date).
    mvn -q -B -DskipTests -Dwscrt.sanitize=false compile
fi
if [[ ! -s target/bench.cp || pom.xml -nt target/bench.cp ]]; then
    mvn -q -B -Pbench dependency:build-classpath -Dmdep.outputFile=target/bench.cp -Dmdep.includeScope=test
fi
# The benchmark needs only the main classes, the shared servers, the test certificates and the peers'
# jars, so it is compiled on its own, with private copies of the classes: work in progress elsewhere in
# src/test, or another build of this tree, cannot stop or change a run.
OUT=target/bench
if [[ "${BENCH_SKIP_BUILD:-0}" != 1 ]]; then
    rm -rf "$OUT/classes" "$OUT/main-classes"
    mkdir -p "$OUT"
    cp -r target/classes "$OUT/main-classes"
    javac -nowarn -d "$OUT/classes" -cp "$OUT/main-classes:$(cat target/bench.cp)" \
        src/test/java/dev/wscrt/bench/*.java src/test/java/dev/wscrt/loadserver/*.java \
        src/test/java/dev/wscrt/testing/*.java src/test/java/dev/wscrt/tls/TestCertificates.java
fi
CP="$OUT/classes:$OUT/main-classes:$(cat target/bench.cp)"
commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- src/main src/native crt CMakeLists.txt 2>/dev/null || echo ' with uncommitted library changes')"

exec "$JAVA" -Xms256m -Xmx512m -cp "$CP" -Dbench.commit="$commit" -Dbench.args="$*" \
    ${BENCH_WORKER_OPTS:+-Dbench.workerOpts="$BENCH_WORKER_OPTS"} dev.wscrt.bench.Benchmark "$@"
