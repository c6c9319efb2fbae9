#!/usr/bin/env bash
# Builds wscrt and runs the demo: a client against a local embedded Netty echo server.
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -q -B -DskipTests -Dwscrt.sanitize=false test-compile
mvn -q -B dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/test.classpath
exec java -cp "target/classes:target/test-classes:$(cat target/test.classpath)" dev.wscrt.demo.Demo "$@"
