#!/usr/bin/env bash
# Builds and tests the command-line client (cli/, artifactId wscrt-cli) on the library built by the root
# build: installs target/wscrt-<version>.jar (building it first if missing, without tests) to the local
# Maven repository, then runs `mvn verify` in cli/ (the shaded jar cli/target/wscrt-cli.jar and its
# end-to-end tests, which run it as a process against a Netty server). Extra arguments go to the cli build,
# e.g. scripts/cli.sh -o -DskipTests. Launch the client with cli/wscrt.
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(sed -n 's:^  <version>\(.*\)</version>:\1:p' pom.xml | head -1)
jar=target/wscrt-$version.jar
if [[ ! -f $jar ]]; then
    mvn -B -q package -DskipTests -Dmaven.javadoc.skip=true -Dmaven.source.skip=true
fi
mvn -B -q install:install-file -Dfile="$jar" -DpomFile=pom.xml "$@"
mvn -B -f cli/pom.xml verify -Dwscrt.version="$version" "$@"
