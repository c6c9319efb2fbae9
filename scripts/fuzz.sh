#!/usr/bin/env bash
# Builds and runs the libFuzzer targets in crt/tests/fuzz (ASan + UBSan).
#
#   scripts/fuzz.sh                 fuzz every target for 60 s (what CI runs)
#   scripts/fuzz.sh 3600            a longer run: one hour per target
#   scripts/fuzz.sh 600 utf8        only the named targets
#   scripts/fuzz.sh --regressions   run every seed and every saved reproducer once, no fuzzing
#
# Targets: websocket_decoder, http_response_parser, utf8, websocket_extensions, websocket_inflate
# (crt/tests/fuzz/<target>_fuzz.c; websocket_decoder also websocket_decoder_fuzz_reference.c).
# Each fuzzes a fresh copy of crt/tests/fuzz/corpus/<target> plus
# crt/tests/fuzz/regressions/<target> in target/fuzz/<target>/corpus, so the
# repository's corpus is never touched (FUZZ_KEEP_CORPUS=1 keeps the grown copy
# from the previous run instead, to resume a long run). Results go to
# target/fuzz/report.md. Exit status is non-zero if any target crashed, leaked,
# timed out or broke an invariant; the reproducer stays in
# target/fuzz/<target>/artifacts/ and its path is printed.
#
# Environment: FUZZ_CFLAGS adds compiler flags (e.g. -DFUZZ_TOLERATE_...),
# FUZZ_ARGS adds libFuzzer flags (e.g. -jobs=2 -workers=2).
set -euo pipefail
cd "$(dirname "$0")/.."

ALL_TARGETS=(websocket_decoder http_response_parser utf8 websocket_extensions websocket_inflate tls_records)
FUZZ_DIR=crt/tests/fuzz
OUT=target/fuzz

usage() {
    sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'
    exit "${1:-0}"
}

mode=fuzz
seconds=60
targets=()
for arg in "$@"; do
    case "$arg" in
        --regressions) mode=regressions ;;
        -h | --help) usage 0 ;;
        '' | *[!0-9]*)
            if [[ " ${ALL_TARGETS[*]} " == *" $arg "* ]]; then
                targets+=("$arg")
            else
                echo "fuzz.sh: unknown argument '$arg'" >&2
                usage 2 >&2
            fi
            ;;
        *) seconds=$arg ;;
    esac
done
[ ${#targets[@]} -gt 0 ] || targets=("${ALL_TARGETS[@]}")

# The harness files of a target: <target>_fuzz.c, and the other files of a harness written in several.
harness_for() {
    case "$1" in
        websocket_decoder) echo "$FUZZ_DIR/websocket_decoder_fuzz.c $FUZZ_DIR/websocket_decoder_fuzz_reference.c" ;;
        *) echo "$FUZZ_DIR/$1_fuzz.c" ;;
    esac
}

# The sources each target links: the code under test and what it calls, nothing more.
COMMON_SRC="crt/common/allocator.c crt/common/byte_buf.c crt/common/error.c"
sources_for() {
    case "$1" in
        utf8) echo "$COMMON_SRC crt/common/utf8.c" ;;
        websocket_decoder)
            echo "$COMMON_SRC crt/common/utf8.c crt/common/logging.c crt/http/websocket_decoder.c crt/http/websocket_frame.c"
            ;;
        http_response_parser) echo "$COMMON_SRC crt/common/logging.c crt/http/http_response_parser.c crt/http/http_syntax.c" ;;
        websocket_extensions) echo "$COMMON_SRC crt/http/websocket_extensions.c" ;;
        websocket_inflate)
            echo "$COMMON_SRC crt/common/utf8.c crt/common/logging.c crt/http/websocket_decoder.c" \
                "crt/http/websocket_frame.c crt/http/websocket_encoder.c crt/http/websocket_deflate.c"
            ;;
        tls_records) echo "$COMMON_SRC crt/common/logging.c crt/io/tls_records.c" ;;
    esac
}

# Libraries a target links (zlib for permessage-deflate, as the runtime does: dynamically).
libs_for() {
    case "$1" in
        websocket_inflate) echo "-lz" ;;
        tls_records) echo "-lssl -lcrypto" ;;
    esac
}

# The file each target is about, for the source coverage figures.
file_under_test() {
    case "$1" in
        utf8) echo crt/common/utf8.c ;;
        websocket_decoder) echo crt/http/websocket_decoder.c ;;
        http_response_parser) echo crt/http/http_response_parser.c ;;
        websocket_extensions) echo crt/http/websocket_extensions.c ;;
        websocket_inflate) echo crt/http/websocket_deflate.c ;;
        tls_records) echo crt/io/tls_records.c ;;
    esac
}

CLANG=$(scripts/install-clang.sh)
CFLAGS=(-std=c11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer -Wall -Wextra
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -I crt)
# shellcheck disable=SC2206 # FUZZ_CFLAGS is a list of flags
[ -z "${FUZZ_CFLAGS:-}" ] || CFLAGS+=(${FUZZ_CFLAGS})
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

# Builds target/fuzz/<target>/<target>_fuzz unless it is newer than every input.
build() {
    local target=$1 dir=$OUT/$1 srcs
    srcs="$(harness_for "$target") $(sources_for "$target")"
    local bin=$dir/${target}_fuzz stamp=$dir/.cflags
    mkdir -p "$dir"
    for f in $srcs; do
        if [ ! -f "$f" ]; then
            echo "fuzz.sh: $target needs $f, which does not exist yet" >&2
            return 1
        fi
    done
    if [ -x "$bin" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$CLANG ${CFLAGS[*]}" ] &&
        [ -z "$(find $srcs $FUZZ_DIR/*.h crt/common/*.h crt/http/*.h crt/io/*.h -newer "$bin" 2>/dev/null)" ]; then
        return 0
    fi
    # shellcheck disable=SC2046 # word splitting of the source list is intended
    "$CLANG" "${CFLAGS[@]}" $(harness_for "$target") $(sources_for "$target") -o "$bin" $(libs_for "$target")
    echo "$CLANG ${CFLAGS[*]}" >"$stamp"
}

# Seeds and saved reproducers of a target, one path a line.
inputs_of() {
    local dir
    for dir in "$FUZZ_DIR/corpus/$1" "$FUZZ_DIR/regressions/$1"; do
        [ -d "$dir" ] && find "$dir" -type f ! -name '*.md' | sort
    done
    return 0
}

# ---- --regressions: every input once ----
if [ "$mode" = regressions ]; then
    failed=0
    for target in "${targets[@]}"; do
        build "$target"
        mapfile -t inputs < <(inputs_of "$target")
        log=$OUT/$target/regressions.log
        if "$OUT/$target/${target}_fuzz" -artifact_prefix="$OUT/$target/regression-" -runs=1 "${inputs[@]}" \
            >"$log" 2>&1; then
            echo "fuzz.sh: $target: ${#inputs[@]} inputs OK"
        else
            failed=1
            bad=$(grep -o 'Running: .*' "$log" | tail -1 | cut -d' ' -f2-)
            echo "fuzz.sh: $target: FAILED on ${bad:-an input} (log: $log)" >&2
            grep -E 'FUZZ INVARIANT VIOLATED|^  |ERROR: |SUMMARY' "$log" | head -8 >&2 || true
        fi
    done
    exit "$failed"
fi

# ---- fuzzing ----

# Source coverage of the file under test reached by the final corpus, from a
# second build with clang's profile instrumentation (no sanitizers). Prints
# "lines% branches% uncovered-line-numbers", or nothing if llvm-cov is missing.
llvm_tool() {
    local major
    major=$("$CLANG" -dumpversion | cut -d. -f1)
    command -v "$1-$major" 2>/dev/null || command -v "$1" 2>/dev/null || true
}
source_coverage() {
    local target=$1 dir=$OUT/$1 file profdata cov
    profdata=$(llvm_tool llvm-profdata)
    cov=$(llvm_tool llvm-cov)
    [ -n "$profdata" ] && [ -n "$cov" ] || return 0
    file=$(file_under_test "$target")
    # shellcheck disable=SC2046,SC2086 # word splitting of the source list and FUZZ_CFLAGS is intended
    "$CLANG" -std=c11 -D_GNU_SOURCE -O0 -g -fsanitize=fuzzer -fprofile-instr-generate -fcoverage-mapping -I crt \
        ${FUZZ_CFLAGS:-} $(harness_for "$target") $(sources_for "$target") -o "$dir/${target}_cov" \
        $(libs_for "$target") || return 0
    rm -f "$dir/cov.profraw"
    LLVM_PROFILE_FILE="$dir/cov.profraw" "$dir/${target}_cov" -runs=0 -artifact_prefix="$dir/cov-" "$dir/corpus" \
        >/dev/null 2>&1 || return 0
    "$profdata" merge -sparse "$dir/cov.profraw" -o "$dir/cov.profdata" || return 0
    # TOTAL row: regions, missed, cover, functions, missed, executed, lines, missed, cover, branches, missed, cover.
    local total uncovered
    total=$("$cov" report "$dir/${target}_cov" -instr-profile="$dir/cov.profdata" "$file" | grep '^TOTAL')
    uncovered=$("$cov" show "$dir/${target}_cov" -instr-profile="$dir/cov.profdata" "$file" |
        awk -F'|' '$2 ~ /^ *0$/ { gsub(/ /, "", $1); printf "%s%s", sep, $1; sep = "," }')
    echo "$(echo "$total" | awk '{print $10, $13}') ${uncovered:--}"
}
field() { # field <log> <stat name>: a stat::name value from -print_final_stats, or n/a
    grep -o "stat::$2: *[0-9]*" "$1" | tail -1 | grep -o '[0-9]*$' || echo n/a
}

report=$OUT/report.md
mkdir -p "$OUT"
{
    echo "# Fuzz report"
    echo
    echo "$(date -u +%Y-%m-%dT%H:%M:%SZ), $seconds s per target, $("$CLANG" --version | head -1)," \
        "flags: \`${CFLAGS[*]}\`, commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)" \
        "$(git diff --quiet HEAD -- crt 2>/dev/null || echo '(with uncommitted changes in crt/)')"
    echo
    echo "| target | result | executions | exec/s | cov | ft | corpus (seeds → end) | peak RSS MB | lines of file under test | branches |"
    echo "|---|---|---:|---:|---:|---:|---|---:|---:|---:|"
} >"$report"

failed=0
crash_notes=()
uncovered_notes=()
slow_notes=()
for target in "${targets[@]}"; do
    dir=$OUT/$target
    build "$target"
    if [ "${FUZZ_KEEP_CORPUS:-0}" != 1 ]; then
        rm -rf "$dir/corpus"
    fi
    rm -rf "$dir/artifacts"
    mkdir -p "$dir/corpus" "$dir/artifacts"
    mapfile -t seeds < <(inputs_of "$target")
    [ ${#seeds[@]} -eq 0 ] || cp "${seeds[@]}" "$dir/corpus/"
    seed_count=$(find "$dir/corpus" -type f | wc -l)
    dict=()
    [ -f "$FUZZ_DIR/$target.dict" ] && dict=(-dict="$FUZZ_DIR/$target.dict")
    echo "fuzz.sh: $target: fuzzing for $seconds s from $seed_count inputs" >&2
    log=$dir/fuzz.log
    rc=0
    # shellcheck disable=SC2086 # FUZZ_ARGS is a list of flags
    "$dir/${target}_fuzz" "$dir/corpus" "${dict[@]}" -max_total_time="$seconds" -print_final_stats=1 \
        -artifact_prefix="$dir/artifacts/" -timeout=25 -rss_limit_mb=2048 -max_len=4096 ${FUZZ_ARGS:-} \
        >"$log" 2>&1 || rc=$?

    execs=$(field "$log" number_of_executed_units)
    speed=$(field "$log" average_exec_per_sec)
    rss=$(field "$log" peak_rss_mb)
    last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -1 || true)
    cov=$(echo "$last" | grep -o 'cov: [0-9]*' | grep -o '[0-9]*' || echo n/a)
    ft=$(echo "$last" | grep -o 'ft: [0-9]*' | grep -o '[0-9]*' || echo n/a)
    corp_end=$(find "$dir/corpus" -type f | wc -l)

    # libFuzzer saves an input that took over 10 s as slow-unit-* and goes on (exit status 0). On a loaded
    # machine that is usually the scheduler, not the input: replay it once, and count it as a failure only
    # when it is slow again (over the 25 s timeout). Inputs that replay fast are listed, not failed.
    for slow in "$dir"/artifacts/slow-unit-*; do
        [ -e "$slow" ] || continue
        replay_start=$(date +%s%N)
        if timeout 25 "$dir/${target}_fuzz" "$slow" >/dev/null 2>&1; then
            replay_ms=$((($(date +%s%N) - replay_start) / 1000000))
            mkdir -p "$dir/slow-units"
            mv "$slow" "$dir/slow-units/"
            took="$(field "$log" slowest_unit_time_sec) s during the run and ${replay_ms} ms when replayed alone"
            slow_notes+=("- **$target**: an input took $took: a stall of the machine, not of the code (\`$dir/slow-units/$(basename "$slow")\`).")
        fi
    done
    artifact=$(find "$dir/artifacts" -type f | head -1)
    if [ "$rc" -eq 0 ] && [ -z "$artifact" ]; then
        result=ok
    else
        result=CRASH
        failed=1
        why=$(grep -m1 -E 'FUZZ INVARIANT VIOLATED|ERROR: AddressSanitizer|runtime error|ERROR: libFuzzer|ERROR: LeakSanitizer' "$log" || echo "exit status $rc")
        detail=$(grep -m1 -A1 'FUZZ INVARIANT VIOLATED' "$log" | tail -1 | sed 's/^ *//' || true)
        hex=none
        [ -z "$artifact" ] || hex=$(head -c 96 "$artifact" | od -An -tx1 | tr -d ' \n')
        known=""
        if [ -n "$artifact" ] && [ -d "$FUZZ_DIR/regressions/$target" ]; then
            for f in "$FUZZ_DIR/regressions/$target"/*; do
                if cmp -s "$f" "$artifact"; then known=$f; fi
            done
        fi
        keep="keep it as a regression: \`cp ${artifact:-<file>} $FUZZ_DIR/regressions/$target/<what-it-is>\`"
        if [ -n "$known" ]; then
            why="still failing: known regression $known — $why"
            keep="already kept as $known"
        fi
        crash_notes+=("- **$target**: $why ${detail:+— $detail}; reproducer \`${artifact:-none}\`" \
            "(first bytes, hex: \`$hex\`), log \`$log\`." \
            "Replay: \`$dir/${target}_fuzz ${artifact:-<file>}\`; $keep.")
        echo "fuzz.sh: $target CRASHED: $why" >&2
        [ -z "$detail" ] || echo "  $detail" >&2
        echo "  reproducer: ${artifact:-none}   log: $log" >&2
    fi
    read -r src_lines src_branches src_uncovered <<<"$(source_coverage "$target")" || true
    file=$(file_under_test "$target")
    echo "| $target | $result | $execs | $speed | $cov | $ft | $seed_count → $corp_end | $rss |" \
        "${src_lines:-n/a} of \`$file\` | ${src_branches:-n/a} |" >>"$report"
    [ -z "${src_uncovered:-}" ] || uncovered_notes+=("- \`$file\`: ${src_uncovered}")
    echo "fuzz.sh: $target: $result, $execs executions ($speed/s), cov: $cov ft: $ft," \
        "corpus $seed_count -> $corp_end, $file: lines ${src_lines:-n/a} branches ${src_branches:-n/a}" >&2
done

{
    echo
    echo "cov = code edges reached, ft = features (edges with hit-count buckets), as libFuzzer counts them"
    echo "(harness included). Lines and branches: llvm-cov source coverage of the file under test by the"
    echo "final corpus."
    if [ ${#uncovered_notes[@]} -gt 0 ]; then
        echo
        echo "Lines never executed (line numbers; - = none):"
        echo
        printf '%s\n' "${uncovered_notes[@]}"
    fi
    if [ ${#slow_notes[@]} -gt 0 ]; then
        echo
        echo "Slow inputs (not failures):"
        echo
        printf '%s\n' "${slow_notes[@]}"
    fi
    if [ ${#crash_notes[@]} -gt 0 ]; then
        echo
        echo "## Crashes"
        echo
        printf '%s\n' "${crash_notes[@]}"
    fi
} >>"$report"
echo "fuzz.sh: report in $report" >&2
cat "$report"
exit "$failed"
