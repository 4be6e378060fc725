#!/bin/bash
# nginx-suite.sh: nginx-tests' HTTP/2 files against nginx's builtin HTTP/2
# and, in the same run, against h2x (make host-tests NGINX_TESTS=<checkout>).
#
#   NGINX_TESTS        a checkout of github.com/nginx/nginx-tests (never part
#                      of this repository); unset: the suite is skipped
#   NGINX_TESTS_FILES  optional: the files to run (names, default: every
#                      file whose config has "listen ... http2")
#   NGINX_BINARY       default /usr/sbin/nginx
#   NGINX_MODULES      its dynamic modules, default /usr/lib/nginx/modules
#                      (Test::Nginx loads every one "nginx -V" names)
#   NGINX_SUITE_KEEP   1: keep the work directory (TAP output, logs)
#
# The files and lib/ are copied to a temporary directory; one copy runs as
# it is (builtin), the other after t/host/nginx-retarget.pl moved every
# http2 listener to "h2x on;".  Per file it prints "builtin p/f/s  h2x
# p/f/s" (f counts planned subtests that never ran).  It fails when h2x
# fails a subtest that the builtin passes, unless t/host/nginx-suite.exclude
# lists it (docs/compat.md gives the reasons).
set -uo pipefail
cd "$(dirname "$0")/../.."
top=$PWD

if [ -z "${NGINX_TESTS:-}" ]; then
    echo "nginx-suite: SKIPPED: NGINX_TESTS is not set; give a checkout of" \
         "github.com/nginx/nginx-tests: make host-tests NGINX_TESTS=<dir>"
    exit 0
fi
if [ ! -f "$NGINX_TESTS/lib/Test/Nginx.pm" ]; then
    echo "nginx-suite: $NGINX_TESTS is not an nginx-tests checkout" >&2
    exit 2
fi

binary=${NGINX_BINARY:-/usr/sbin/nginx}
modules=${NGINX_MODULES:-/usr/lib/nginx/modules}
module=$top/build/ngx_http_h2x_module.so
exclude=$top/t/host/nginx-suite.exclude
[ -f "$module" ] || { echo "nginx-suite: build $module first" >&2; exit 2; }

# Debian packages the suite needs: IO::Socket::SSL for the TLS files, and
# the perl module, which Test::Nginx loads as "nginx -V" says it is built
need=()
perl -MIO::Socket::SSL -e1 2>/dev/null || need+=(libio-socket-ssl-perl)
if "$binary" -V 2>&1 | grep -q 'http_perl_module=dynamic' &&
   [ ! -f "$modules/ngx_http_perl_module.so" ]; then
    need+=(libnginx-mod-http-perl)
fi
if [ ${#need[@]} -gt 0 ] && [ "$(id -u)" = 0 ]; then
    apt-get install -y -q "${need[@]}" >/dev/null 2>&1 ||
        echo "nginx-suite: could not install ${need[*]}"
fi

if [ -n "${NGINX_TESTS_FILES:-}" ]; then
    files=$NGINX_TESTS_FILES
else
    files=$(cd "$NGINX_TESTS" &&
            grep -l -E '^\s*listen\s+[^;]*\shttp2[ ;]' -- *.t | sort)
fi

work=$(mktemp -d /tmp/h2x-nginx-suite.XXXXXX)
chmod 755 "$work"
[ "${NGINX_SUITE_KEEP:-0}" = 1 ] || trap 'rm -rf "$work"' EXIT

for v in builtin h2x; do
    mkdir -p "$work/$v/tmp" "$work/out/$v"
    cp -r "$NGINX_TESTS/lib" "$work/$v/"
    for f in $files; do
        cp "$NGINX_TESTS/$f" "$work/$v/"
    done
done
(cd "$work/h2x" && perl "$top/t/host/nginx-retarget.pl" $files)

# nginx-tests must not run as root (the workers would not read the test
# directories); run as nobody then
run_as=()
if [ "$(id -u)" = 0 ]; then
    chown -R nobody "$work/builtin" "$work/h2x" "$work/out"
    run_as=(runuser -u nobody --)
fi

run_file() {        # variant file
    local v=$1 f=$2 globals=
    [ "$v" = h2x ] && globals="load_module $module;"
    (cd "$work/$v" &&
     "${run_as[@]}" env TEST_NGINX_BINARY="$binary" \
         TEST_NGINX_GLOBALS="$globals" TEST_NGINX_UNSAFE=1 \
         TEST_NGINX_MODULES="$modules" \
         TMPDIR="$work/$v/tmp" \
         timeout 600 perl "$f" >"$work/out/$v/$f.tap" 2>"$work/out/$v/$f.err")
}

# TAP -> "number<TAB>status<TAB>description", status pass/fail/skip/todo;
# planned subtests that never ran are "fail" with description "(not run)"
parse_tap() {
    awk '
    /^1\.\.[0-9]+/ { plan = substr($1, 4) + 0;
                     if ($0 ~ /# *[Ss][Kk][Ii][Pp]/) skipall = 1; next }
    /^(not )?ok [0-9]+/ {
        notok = ($1 == "not"); n = notok ? $3 : $2; line = $0
        desc = line; sub(/^(not )?ok [0-9]+ *-? */, "", desc)
        st = notok ? "fail" : "pass"
        if (line ~ /# *TODO/) st = "todo"
        else if (line ~ /# *[Ss][Kk][Ii][Pp]/) st = "skip"
        sub(/ *#.*$/, "", desc)
        printf "%d\t%s\t%s\n", n, st, desc
        seen[n] = 1; if (n > max) max = n
    }
    END {
        if (skipall) { print "0\tskipall\t"; exit }
        for (i = 1; i <= plan; i++) if (!(i in seen))
            printf "%d\tfail\t(not run)\n", i
    }' "$1"
}

counts() {          # parsed file -> "p/f/s"
    awk -F'\t' '$2 == "pass" { p++ } $2 == "fail" { f++ }
                $2 == "skip" || $2 == "skipall" { s++ }
                END { printf "%d/%d/%d", p, f, s }' "$1"
}

excluded() {        # file description -> 0 when the exclusion list has it
    local f=$1 d=$2 ef ere
    [ -f "$exclude" ] || return 1
    while IFS=$'\t' read -r ef ere _; do
        case $ef in ''|'#'*) continue ;; esac
        [ "$ef" = "$f" ] || continue
        [ "$ere" = '*' ] && return 0
        printf '%s\n' "$d" | grep -qE -- "$ere" && return 0
    done <"$exclude"
    return 1
}

status=0
regressions=()
tb=(0 0 0) th=(0 0 0)
printf '%-40s %-14s %-14s %s\n' file 'builtin p/f/s' 'h2x p/f/s' ''
for f in $files; do
    for v in builtin h2x; do
        run_file "$v" "$f"
        parse_tap "$work/out/$v/$f.tap" >"$work/out/$v/$f.res"
    done
    cb=$(counts "$work/out/builtin/$f.res")
    ch=$(counts "$work/out/h2x/$f.res")
    IFS=/ read -r a b c <<<"$cb"; tb=($((tb[0]+a)) $((tb[1]+b)) $((tb[2]+c)))
    IFS=/ read -r a b c <<<"$ch"; th=($((th[0]+a)) $((th[1]+b)) $((th[2]+c)))

    mark= nexcl=0
    while IFS=$'\t' read -r n st d; do
        bst=$(awk -F'\t' -v n="$n" '$1 == n { print $2 }' \
              "$work/out/builtin/$f.res")
        [ "$bst" = pass ] || continue
        [ "$st" = fail ] || continue
        if excluded "$f" "$d"; then
            nexcl=$((nexcl + 1))
            continue
        fi
        regressions+=("$f #$n $d")
        mark=' <-- h2x fails where builtin passes'
        status=1
    done <"$work/out/h2x/$f.res"
    [ $nexcl -gt 0 ] && [ -z "$mark" ] && mark=" ($nexcl excluded)"
    printf '%-40s %-14s %-14s %s\n' "$f" "$cb" "$ch" "$mark"
done
printf '%-40s %-14s %-14s\n' TOTAL "${tb[0]}/${tb[1]}/${tb[2]}" \
       "${th[0]}/${th[1]}/${th[2]}"

if [ ${#regressions[@]} -gt 0 ]; then
    echo
    echo "nginx-suite: h2x fails ${#regressions[@]} subtests that the" \
         "builtin passes:"
    printf '%s\n' "${regressions[@]}" | awk '
        { f = $1; if (f != last) { flush(); last = f; n = 0 }
          if (++n <= 12) print "  " $0; else more++ }
        function flush() { if (more) print "  " last " ... and " more \
                           " more"; more = 0 }
        END { flush() }'
fi
[ "${NGINX_SUITE_KEEP:-0}" = 1 ] && echo "nginx-suite: output kept in $work"
exit $status
