#!/usr/bin/env bash
# ThreadSanitizer run of the C tests: configures target/cmake-tsan with -DWSCRT_TSAN=ON (gcc's
# -fsanitize=thread, Debug), builds every test and runs ctest. Any TSan report fails the test that
# printed it (halt_on_error=1, exitcode=66), so the run passes only with zero reports. No suppressions.
#
#   scripts/tsan.sh               # build and run all C tests under TSan
#   scripts/tsan.sh -R websocket  # extra arguments go to ctest
#
# Environment: CC (compiler, default gcc), TSAN_JOBS (parallel build jobs, default 2).
set -euo pipefail
cd "$(dirname "$0")/.."

dir=target/cmake-tsan
cc=${CC:-gcc}
cmake -S . -B "$dir" -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE=Debug -DWSCRT_TSAN=ON >/dev/null
cmake --build "$dir" -j"${TSAN_JOBS:-2}" >/dev/null

# second_deadlock_stack: both stacks of a lock-order inversion. history_size: longer memory of old
# accesses, so that a race with an access long before is reported with its stack, not missed.
export TSAN_OPTIONS="halt_on_error=1:exitcode=66:second_deadlock_stack=1:history_size=4${TSAN_OPTIONS:+:$TSAN_OPTIONS}"
# Kernels with high ASLR entropy place mappings where TSan's shadow memory cannot cover them
# ("FATAL: ThreadSanitizer: unexpected memory mapping"); setarch -R runs the tests without ASLR.
runner=()
if command -v setarch >/dev/null && setarch "$(uname -m)" -R true 2>/dev/null; then
    runner=(setarch "$(uname -m)" -R)
fi
"${runner[@]}" ctest --test-dir "$dir" --output-on-failure "$@"
