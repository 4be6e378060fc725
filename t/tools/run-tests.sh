#!/bin/bash
# Run the test suites of h2x and print each runner's summary at the end.
#   t/tools/run-tests.sh [all|unit|fuzz|integration|soak] [pytest args...]
# all = unit, fuzz (FUZZ_SHORT s per target), integration, then a short
# soak (SOAK_SHORT s in total, default 30; SOAK_SHORT=0 skips it), then
# httpd's own HTTP/2 suite against mod_http2 and mod_h2x
# (t/host/httpd-suite.sh; the files in HTTPD_SUITE_CI, default below;
# HTTPD_SUITE_CI=none skips it; make host-tests runs every file).
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
httpd_summary=""
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

# The files of httpd's suite where mod_h2x does what mod_http2 does; the
# others run in make host-tests (docs/compat.md).
HTTPD_SUITE_CI_FILES=${HTTPD_SUITE_CI:-"\
    test_001_httpd_alive.py test_002_curl_basics.py test_003_get.py\
    test_004_post.py test_005_files.py test_006_assets.py\
    test_007_ssi.py test_009_timing.py test_100_conn_reuse.py\
    test_102_require.py test_103_upgrade.py test_104_padding.py\
    test_105_timeout.py test_106_shutdown.py test_201_header_conditional.py\
    test_202_trailer.py test_203_rfc9113.py test_300_interim.py\
    test_500_proxy.py test_501_proxy_serverheader.py test_502_proxy_port.py\
    test_503_proxy_fwd.py test_601_h2proxy_twisted.py test_712_buffering.py"}

run_httpd_suite() {
    local out=$LOGS/httpd-suite.log
    if [ "$HTTPD_SUITE_CI_FILES" = none ]; then
        httpd_summary="skipped (HTTPD_SUITE_CI=none)"
        return
    fi
    echo "httpd-suite: httpd's HTTP/2 suite, mod_http2 and mod_h2x (log $out)"
    if HTTPD_SUITE_FILES="$HTTPD_SUITE_CI_FILES" t/host/httpd-suite.sh \
           > "$out" 2>&1; then
        :
    else
        status=1
        echo "---- httpd-suite failed:"; tail -40 "$out"
    fi
    grep -E '^(test_|total|REGRESSION|httpd-suite:)' "$out"
    httpd_summary=$(sed -n 's/^total p\/f\/s *//p' "$out" \
                    | awk '{ print "builtin " $1 ", h2x " $2 " (p/f/s)" }')
    [ -n "$httpd_summary" ] || httpd_summary="no summary (see $out)"
}

case $mode in
    unit)        run_unit ;;
    fuzz)        run_fuzz ;;
    integration) run_integration "$@" ;;
    soak)        run_soak ;;
    httpd-suite) run_httpd_suite ;;
    all)         run_unit; run_fuzz; run_integration "$@"; run_soak
                 run_httpd_suite ;;
    *)           echo "usage: $0 [all|unit|fuzz|integration|soak|httpd-suite]" >&2
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
if [ "$mode" = all ] || [ "$mode" = httpd-suite ]; then
    echo "httpd-suite: $httpd_summary"
fi
total_pass=$((unit_pass + it_pass + soak_pass))
total_fail=$((unit_fail + it_fail + fuzz_fail + soak_fail))
echo "total: $total_pass passed, $total_fail failed, $it_skip skipped"
exit $status
