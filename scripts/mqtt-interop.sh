#!/usr/bin/env bash
# MQTT cross-check with Debian's mosquitto_pub / mosquitto_sub over Moquette's TCP port against wscrt over
# wss, in both directions, and the example examples/MqttOverWss.java (dev.wscrt.mqtt.MosquittoInterop).
# Installs mosquitto-clients first (scripts/install-mosquitto-clients.sh); any failure exits non-zero.
# Run by .ci/run after `mvn -B verify`; MQTT_INTEROP_SKIP_BUILD=1 uses what target/ holds.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-mosquitto-clients.sh
if [[ "${MQTT_INTEROP_SKIP_BUILD:-0}" != 1 ]]; then
    mvn -q -B -DskipTests -Dwscrt.sanitize=false test-compile
fi
mvn -q -B dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/test.classpath
exec java -cp "target/classes:target/test-classes:$(cat target/test.classpath)" dev.wscrt.mqtt.MosquittoInterop
