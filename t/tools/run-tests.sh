#!/bin/bash
# Run the test suites of h2x and print each runner's summary at the end.
#   t/tools/run-tests.sh [all|unit|fuzz|integration|soak] [pytest args...]
# all = unit, fuzz (FUZZ_SHORT s per target), integration, then a short
# soak (SOAK_SHORT s in total, default 30; SOAK_SHORT=0 skips it).
# Exits non-zero when any test fails.
set -uo pipefail

cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
LOGS=$BUILD/logs
mode=${1:-all}
shift || true
mkdir -p "$LOGS"

unit_pass=0 unit_fail=0
fuzz_runs=0 fuzz_fail=0
it_summary="" it_pass=0 it_fail=0 it_skip=0 it_rc=0
soak_summary="" soak_pass=0 soak_fail=0
status=0

run_unit() {
    local t name out p f
    for t in "$BUILD"/t/unit/test_*; do
        [ -x "$t" ] || continue
        name=$(basename "$t")
        out=$LOGS/unit-$name.log
        if "$t" > "$out" 2>&1; then :; else status=1; fi
        p=$(sed -n 's/.*\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$out" | tail -1)
        f=$(sed -n 's/.*\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$out" | tail -1)
        p=${p:-0} f=${f:-0}
        if [ "$p" = 0 ] && [ "$f" = 0 ]; then
            f=1   # crashed before reporting
            status=1
        fi
        unit_pass=$((unit_pass + p)) unit_fail=$((unit_fail + f))
        if [ "$f" != 0 ]; then
            echo "---- $name failed:"; tail -40 "$out"
        fi
        printf '  unit %-28s %4s passed, %s failed\n' "$name" "$p" "$f"
    done
}

run_fuzz() {
    local t name corpus tmp out
    for t in "$BUILD"/t/fuzz/fuzz_*; do
        [ -x "$t" ] || continue
        name=$(basename "$t")
        corpus=t/fuzz/corpus/$name
        tmp=$(mktemp -d)
        [ -d "$corpus" ] && cp -r "$corpus"/. "$tmp"/ 2>/dev/null
        out=$LOGS/fuzz-$name.log
        fuzz_runs=$((fuzz_runs + 1))
        if "$t" -max_total_time="${FUZZ_SHORT:-15}" -print_final_stats=1 \
               "$tmp" > "$out" 2>&1; then
            printf '  fuzz %-28s ok (%s execs)\n' "$name" \
                "$(sed -n 's/^stat::number_of_executed_units: *//p' "$out")"
        else
            fuzz_fail=$((fuzz_fail + 1)); status=1
            echo "---- $name crashed:"; tail -40 "$out"
        fi
        rm -rf "$tmp"
    done
}

run_integration() {
    local out=$LOGS/pytest.log
    /usr/bin/python3 -m pytest -p no:cacheprovider -rfE t/integration "$@" \
        2>&1 | tee "$out"
    it_rc=${PIPESTATUS[0]}
    it_summary=$(grep -E '^=+ .*(passed|failed|error|skipped|no tests).* =+$' \
                 "$out" | tail -1)
    it_pass=$(grep -oE '[0-9]+ passed' <<< "$it_summary" | grep -oE '[0-9]+')
    it_fail=$(grep -oE '[0-9]+ (failed|errors?)' <<< "$it_summary" \
              | awk '{ s += $1 } END { print s + 0 }')
    it_skip=$(grep -oE '[0-9]+ skipped' <<< "$it_summary" | grep -oE '[0-9]+')
    it_pass=${it_pass:-0} it_fail=${it_fail:-0} it_skip=${it_skip:-0}
    if [ "$it_rc" -ne 0 ]; then
        status=1
        [ "$it_fail" = 0 ] && it_fail=1
    fi
}

run_soak() {
    local out=$LOGS/soak.log secs=${SOAK_SHORT:-30}
    if [ "$secs" = 0 ]; then
        soak_summary="skipped (SOAK_SHORT=0)"
        return
    fi
    echo "soak: ${secs}s against nginx-h2x and apache-h2x (log $out)"
    if SOAK_TIME=$secs /usr/bin/python3 t/soak/soak.py > "$out" 2>&1; then
        soak_pass=1
    else
        status=1 soak_fail=1
        echo "---- soak failed:"; grep -v -e '^\[' -e '^RESULT' "$out" | tail -40
    fi
    soak_summary=$(grep -E '^soak: .*-h2x [0-9]+ requests' "$out" \
                   | sed 's/^soak: //' | paste -sd ';' | sed 's/;/; /g')
    [ -n "$soak_summary" ] || soak_summary="no summary (see $out)"
    grep '^RESULT ' "$out"
}

case $mode in
    unit)        run_unit ;;
    fuzz)        run_fuzz ;;
    integration) run_integration "$@" ;;
    soak)        run_soak ;;
    all)         run_unit; run_fuzz; run_integration "$@"; run_soak ;;
    *)           echo "usage: $0 [all|unit|fuzz|integration|soak]" >&2
                 exit 2 ;;
esac

echo
echo "==================== h2x test summary ===================="
if [ "$mode" = all ] || [ "$mode" = unit ]; then
    echo "cmocka: $unit_pass passed, $unit_fail failed"
fi
if [ "$mode" = all ] || [ "$mode" = fuzz ]; then
    echo "fuzz: $fuzz_runs targets run, $fuzz_fail crashed"
fi
if [ "$mode" = all ] || [ "$mode" = integration ]; then
    echo "pytest: ${it_summary:-no summary (pytest exit $it_rc)}"
fi
if [ "$mode" = all ] || [ "$mode" = soak ]; then
    echo "soak: $([ $soak_fail = 0 ] && echo ok || echo FAILED):" \
         "$soak_summary"
fi
total_pass=$((unit_pass + it_pass + soak_pass))
total_fail=$((unit_fail + it_fail + fuzz_fail + soak_fail))
echo "total: $total_pass passed, $total_fail failed, $it_skip skipped"
exit $status
