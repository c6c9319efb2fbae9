#!/usr/bin/env bash
# Benchmark: wscrt against the JDK's java.net.http.WebSocket, in one run, against the same local
# Netty WebSocket server. Prints a Markdown table and writes it to target/bench/report.md.
#
#   scripts/bench.sh                  # all scenarios, about 1-3 minutes
#   scripts/bench.sh --quick          # about 30 s
#   scripts/bench.sh recv64 echo      # some scenarios only
#   scripts/bench.sh --help           # every option
#
# Environment: JAVA (java binary, default: java on PATH), JAVA_OPTS (JVM options, default -Xms1g -Xmx1g;
# -Dbench.inFlight=N changes how many frames the wscrt sender keeps queued, default 64),
# BENCH_SKIP_BUILD=1 (use what target/ holds), BENCH_NO_EPOLL=1 (do not fetch Netty's epoll transport).
# The server runs in a child JVM; see --help for --pin, --in-process and the other options.
set -euo pipefail

cd "$(dirname "$0")/.."
JAVA=${JAVA:-java}
JAVA_OPTS=${JAVA_OPTS:--Xms1g -Xmx1g}
NETTY_VERSION=4.2.18.Final

for arg in "$@"; do
    if [[ "$arg" == "-h" || "$arg" == "--help" ]]; then
        BENCH_SKIP_BUILD=1
    fi
done

if [[ "${BENCH_SKIP_BUILD:-0}" != 1 ]]; then
    # Builds the native library and the main classes (incremental when up to date).
    mvn -q -DskipTests -Dwscrt.sanitize=false compile
fi
if [[ ! -s target/bench.cp || pom.xml -nt target/bench.cp ]]; then
    mvn -q dependency:build-classpath -Dmdep.outputFile=target/bench.cp -Dmdep.includeScope=test
fi
# The benchmark needs only the main classes and Netty, so it is compiled on its own: work in progress
# elsewhere in src/test cannot stop it from running.
if [[ "${BENCH_SKIP_BUILD:-0}" != 1 ]]; then
    rm -rf target/bench-classes
    javac -d target/bench-classes -cp "target/classes:$(cat target/bench.cp)" \
        src/test/java/dev/wscrt/bench/*.java
fi
CP="target/bench-classes:target/classes:$(cat target/bench.cp)"

# The server uses Netty's epoll transport when it is on the class path (as the reference figures in
# ARCHITECTURE.md were measured), else NIO. It is not a project dependency, so fetch it into the local
# Maven repository once, unless told not to; without it the benchmark still runs (on NIO).
if [[ "${BENCH_NO_EPOLL:-0}" != 1 ]]; then
    repo=${MAVEN_REPO:-$HOME/.m2/repository}/io/netty
    classes_jar=$repo/netty-transport-classes-epoll/$NETTY_VERSION/netty-transport-classes-epoll-$NETTY_VERSION.jar
    native_jar=$repo/netty-transport-native-epoll/$NETTY_VERSION/netty-transport-native-epoll-$NETTY_VERSION-linux-$(uname -m).jar
    if [[ ! -f "$classes_jar" || ! -f "$native_jar" ]]; then
        mvn -q dependency:get -Dtransitive=false \
            -Dartifact=io.netty:netty-transport-classes-epoll:$NETTY_VERSION >/dev/null 2>&1 || true
        mvn -q dependency:get -Dtransitive=false \
            -Dartifact=io.netty:netty-transport-native-epoll:$NETTY_VERSION:jar:linux-$(uname -m) >/dev/null 2>&1 || true
    fi
    if [[ -f "$classes_jar" && -f "$native_jar" ]]; then
        CP="$CP:$classes_jar:$native_jar"
    fi
fi

mkdir -p target/bench
# shellcheck disable=SC2086
exec "$JAVA" $JAVA_OPTS -cp "$CP" dev.wscrt.bench.Benchmark "$@"
