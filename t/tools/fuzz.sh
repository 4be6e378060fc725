#!/bin/bash
# make fuzz: each libFuzzer target for FUZZ_TIME seconds, then the corpus in
# t/fuzz/corpus/<target>/ is minimised (-set_cover_merge=1 into a fresh
# dir) and replaced: commit it.
#   t/tools/fuzz.sh [target...]     (default: every build/t/fuzz/fuzz_*)
# Variables: FUZZ_TIME (seconds per target, 60), FUZZ_ARGS (extra
# libFuzzer flags, e.g. -max_len=8192).
# Prints per target its executions and `RESULT fuzz_<target>_execs N`;
# a crash fails the target and prints the reproducer's path (kept in
# build/fuzz/artifacts/<target>/).  Exits non-zero when any target crashed.
set -uo pipefail

cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
FUZZ_TIME=${FUZZ_TIME:-60}
FUZZ_ARGS=${FUZZ_ARGS:-}
DICT=t/fuzz/h2.dict
status=0

if [ $# -gt 0 ]; then
    targets=("$@")
else
    targets=()
    for t in "$BUILD"/t/fuzz/fuzz_*; do
        [ -x "$t" ] && targets+=("$(basename "$t")")
    done
fi

for name in "${targets[@]}"; do
    bin=$BUILD/t/fuzz/$name
    corpus=t/fuzz/corpus/$name
    work=$BUILD/fuzz/$name
    art=$BUILD/fuzz/artifacts/$name/
    log=$BUILD/fuzz/$name.log
    rm -rf "$work"
    mkdir -p "$corpus" "$work/corpus" "$work/merged" "$art"
    cp -r "$corpus"/. "$work/corpus"/

    dict=()
    # the dictionary helps the targets whose input is header blocks/frames
    [ -f "$DICT" ] && [ "$name" != fuzz_session_api ] && dict=(-dict="$DICT")

    echo "fuzz: $name for ${FUZZ_TIME}s ($(ls "$corpus" | wc -l) inputs in" \
         "$corpus)"
    # shellcheck disable=SC2086
    "$bin" -max_total_time="$FUZZ_TIME" -print_final_stats=1 \
        -artifact_prefix="$art" "${dict[@]}" $FUZZ_ARGS \
        "$work/corpus" > "$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    execs=${execs:-0}
    if [ $rc -ne 0 ]; then
        status=1
        echo "---- $name FAILED (exit $rc), log $log:"
        grep -E 'ERROR|SUMMARY|runtime error|check failed' "$log" | head -10
        repro=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" \
                | tail -1)
        echo "     reproducer: ${repro:-none written (see $log)}"
        [ -n "$repro" ] && echo "     replay: $bin $repro"
        printf 'RESULT fuzz_%s_execs %s\n' "${name#fuzz_}" "$execs"
        continue
    fi

    # Minimise: the checked-in seeds stay (readable names), then a small
    # set of inputs (greedy set cover, fewer files than -merge=1) that
    # adds the coverage of the run, named by hash.
    cp -r "$corpus"/. "$work/merged"/
    if "$bin" -set_cover_merge=1 "$work/merged" "$work/corpus" \
           > "$work/merge.log" 2>&1; then
        before=$(ls "$work/corpus" | wc -l)
        rm -rf "$corpus" && cp -r "$work/merged" "$corpus"
        echo "  $name: $execs execs, corpus $before -> $(ls "$corpus" | wc -l)" \
             "inputs ($(du -sb "$corpus" | cut -f1) bytes)"
    else
        status=1
        echo "---- $name: merge failed, corpus unchanged:"
        tail -20 "$work/merge.log"
    fi
    printf 'RESULT fuzz_%s_execs %s\n' "${name#fuzz_}" "$execs"
done
exit $status
