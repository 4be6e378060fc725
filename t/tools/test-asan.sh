#!/bin/bash
# make test-asan: the unit and integration suites against the ASan/UBSan
# build in build/asan/ (built by `make asan-build`).
#
# Debian's nginx and apache2 are not sanitized: they run with the gcc
# sanitizer runtimes in LD_PRELOAD (H2X_SERVER_ENV, read by
# t/tools/h2xservers.py) and load the modules from build/asan/
# (H2X_BUILD_DIR).  Every report goes to a file in build/asan/reports/;
# the run fails when any appears, and prints them.
#   t/tools/test-asan.sh [pytest args...]
set -uo pipefail

cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
ASAN=$BUILD/asan
REPORTS=$(pwd)/$ASAN/reports
status=0
start=$(date +%s)

for f in "$ASAN"/ngx_http_h2x_module.so "$ASAN"/mod_h2x.so; do
    [ -f "$f" ] || { echo "test-asan: missing $f (make asan-build)" >&2
                     exit 2; }
done
# ASan reserves terabytes of address space for its shadow memory.
if [ "$(ulimit -v)" != unlimited ]; then
    echo "test-asan: ulimit -v is $(ulimit -v): ASan needs it unlimited" >&2
    exit 2
fi

libasan=$(readlink -f "$(gcc -print-file-name=libasan.so)")
libubsan=$(readlink -f "$(gcc -print-file-name=libubsan.so)")
for f in "$libasan" "$libubsan"; do
    [ -f "$f" ] || { echo "test-asan: no sanitizer runtime $f" >&2; exit 2; }
done

rm -rf "$REPORTS"
mkdir -p "$REPORTS"
chmod 1777 "$REPORTS"             # the servers' workers run as www-data

# halt_on_error: a report stops the process (a failing test shows it);
# abort_on_error=0: exit, no core dumps of the servers.
common="halt_on_error=1:abort_on_error=0"
ubsan="halt_on_error=1:print_stacktrace=1"

echo "== test-asan: unit tests (leak checking on)"
ASAN_OPTIONS="$common:detect_leaks=1:log_path=$REPORTS/unit" \
UBSAN_OPTIONS="$ubsan:log_path=$REPORTS/unit" \
    BUILD=$ASAN t/tools/run-tests.sh unit || status=1

echo "== test-asan: integration suite, sanitized modules"
# Leaks off for the hosts: nginx and Apache leave memory to exit by design.
export H2X_BUILD_DIR=$ASAN
export H2X_SERVER_ENV="LD_PRELOAD=$libasan $libubsan
ASAN_OPTIONS=$common:detect_leaks=0:log_path=$REPORTS/server
UBSAN_OPTIONS=$ubsan:log_path=$REPORTS/server"
# Skipped: the static nginx builds (-m "not slow", test_static_build.py)
# compile an unsanitized nginx of their own and test nothing of build/asan;
# test_rss_flat_across_connections and the two *_idle_memory.py measure
# RSS, which ASan's redzones (h2x sanitized, the builtin HTTP/2 not) and
# quarantine of freed memory (up to 256 MiB) change by design; test_ab.py
# runs the A/B benchmark, whose h2load runs have a time bound that servers
# slowed down by ASan miss on a loaded machine (the soak covers that load);
# test_busy_mpm_does_not_cut_clients_between_requests needs the client's
# next request within the 100 ms park grace, which ASan's slowdown breaks.
BUILD=$ASAN t/tools/run-tests.sh integration -m "not slow" \
    --ignore=t/integration/test_static_build.py \
    --ignore=t/integration/test_ab.py \
    --ignore=t/integration/test_nginx_idle_memory.py \
    --ignore=t/integration/test_apache_idle_memory.py \
    --deselect t/integration/test_apache_async.py::test_busy_mpm_does_not_cut_clients_between_requests \
    --deselect t/integration/test_h2_apache_load.py::test_rss_flat_across_connections \
    "$@" || status=1

reports=$(find "$REPORTS" -type f -size +0 | sort)
if [ -n "$reports" ]; then
    status=1
    for f in $reports; do
        echo "---- sanitizer report $f:"
        cat "$f"
    done
fi
n=$(printf '%s' "$reports" | grep -c . || true)
echo
echo "test-asan: $n sanitizer report(s), $(( $(date +%s) - start ))s," \
     "$([ $status = 0 ] && echo ok || echo FAILED)"
echo "RESULT test_asan_reports $n"
exit $status
