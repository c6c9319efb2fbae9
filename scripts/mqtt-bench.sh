#!/usr/bin/env bash
# MQTT over wss through Moquette (in a child JVM with one Netty worker thread), wscrt against the JDK's
# java.net.http.WebSocket carrying the same MQTT bytes, alternating in one run (dev.wscrt.mqtt.MqttBenchmark).
# Prints a Markdown table (messages/s, client and broker CPU per message); exits 1 if any run lost,
# reordered or changed a message.
#
#   scripts/mqtt-bench.sh [messages] [rounds]     # defaults 10000 and 3; MQTT_BENCH_SKIP_BUILD=1 uses target/
#   MQTT_BENCH_WINDOW=1 scripts/mqtt-bench.sh       # QoS 1 messages awaiting PUBACK (default 64)
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ "${MQTT_BENCH_SKIP_BUILD:-0}" != 1 ]]; then
    mvn -q -B -DskipTests -Dwscrt.sanitize=false test-compile
fi
mvn -q -B dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/test.classpath
exec java -Xms1g -Xmx2g -Dmqtt.window="${MQTT_BENCH_WINDOW:-64}" -cp "target/classes:target/test-classes:$(cat target/test.classpath)" \
    dev.wscrt.mqtt.MqttBenchmark "${1:-10000}" "${2:-3}"
