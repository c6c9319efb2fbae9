#!/usr/bin/env bash
# Runs the RFC 6455 conformance suite (dev.wscrt.conformance.ConformanceTest: Autobahn|Testsuite's case
# families against a raw-TCP server on 127.0.0.1) and copies its Markdown report to docs/.
#
#   scripts/conformance.sh                      # the whole suite (about two minutes on 2 cores, build included)
#   scripts/conformance.sh -Dwscrt.conformance.only=6.4,7.1   # some cases; the report is not copied
#
# Exit status: Maven's (non-zero if a case FAILED or native memory did not return to its baseline).
# The report is copied whenever the whole suite ran, also when cases failed, so the failures are on record.
set -uo pipefail
cd "$(dirname "$0")/.."
rm -rf target/conformance # never copy a report left over from an earlier run

mvn -B -q -Dwscrt.sanitize=false test -Dtest=ConformanceTest -Dsurefire.failIfNoSpecifiedTests=false "$@"
status=$?

report=target/conformance/report.md
partial=false
for arg in "$@"; do
    [[ "$arg" == -Dwscrt.conformance.only=* ]] && partial=true
done
if [[ -f "$report" && "$partial" == false ]]; then
    mkdir -p docs
    cp "$report" docs/conformance-report.md
    echo "conformance: report copied to docs/conformance-report.md"
elif [[ ! -f "$report" ]]; then
    echo "conformance: no report at $report (the build or the test run did not get that far)" >&2
fi
[[ -f target/conformance/report.txt ]] && grep -E '^\S+\s+(FAILED|NON-STRICT)' target/conformance/report.txt
exit $status
