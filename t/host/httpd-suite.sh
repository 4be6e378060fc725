#!/bin/bash
# httpd's own HTTP/2 suite (test/modules/http2 + test/pyhttpd of Debian's
# apache2 source) against mod_http2 (the reference) and against mod_h2x,
# in the same run, on Debian's /usr/sbin/apache2.
#
#   t/host/httpd-suite.sh [pytest selection args...]
#
# The h2x run keeps mod_http2 loaded, so that the suite's H2* directives
# parse, and adds `LoadModule h2x_module build/mod_h2x.so` and
# `H2XEngine on`: mod_h2x claims every h2/h2c connection.
#
# Prints per file "builtin p/f/s  h2x p/f/s" and exits non-zero when h2x
# fails a test that mod_http2 passes, except those listed in
# t/host/httpd-suite.exclude (each with its reason; see docs/compat.md).
#
# Environment:
#   HTTPD_SUITE_FILES   space-separated test file names (test_003_get.py
#                       ...) to run instead of the whole suite
#   HTTPD_SUITE_ONLY    "builtin" or "h2x": run one side only (no verdict)
#   HTTPD_SUITE_PORT    first of the 5 ports the suite uses (default 29001, below the ephemeral ports)
#   HTTPD_SUITE_TIMEOUT per-test timeout in seconds (default 120)
#
# The source is fetched with `apt-get source apache2` (a deb-src entry for
# the machine's Debian archive is added when missing, which needs root)
# and cached in build/httpd-suite/; nothing of it enters the repository.
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
WORK=$BUILD/httpd-suite
H2X_SO=$BUILD/mod_h2x.so
EXCLUDE=$ROOT/t/host/httpd-suite.exclude
PORT=${HTTPD_SUITE_PORT:-29001}
TMO=${HTTPD_SUITE_TIMEOUT:-120}
export PATH=/usr/sbin:/usr/bin:/sbin:/bin

say() { echo "httpd-suite: $*"; }

# ---- 1. Debian's apache2 source, cached ---------------------------------
fetch_source() {
    local dl=$WORK/dl
    if [ -d "$WORK/src/test/modules/http2" ]; then
        return 0
    fi
    if ! apt-get source --print-uris -qq apache2 >/dev/null 2>&1 \
       || [ -z "$(apt-cache showsrc apache2 2>/dev/null)" ]; then
        add_deb_src || return 1
    fi
    rm -rf "$dl" "$WORK/src"
    mkdir -p "$dl"
    local v ok=0
    # The newest version first; an archive may list a source it does not
    # serve (security mirrors), so fall back to the older ones.
    for v in "" $(apt-cache showsrc apache2 2>/dev/null \
                  | sed -n 's/^Version: //p' | sort -rV -u); do
        if (cd "$dl" && apt-get source -qq --download-only \
                "apache2${v:+=$v}" >/dev/null 2>&1); then
            ok=1; break
        fi
        rm -f "$dl"/*
    done
    if [ $ok = 0 ]; then
        say "apt-get source apache2 failed"; return 1
    fi
    (cd "$dl" && dpkg-source -q -x ./*.dsc src >/dev/null 2>&1) || {
        say "dpkg-source -x failed"; return 1; }
    mv "$dl/src" "$WORK/src"
    say "source: $(basename "$dl"/*.dsc .dsc)"
}

add_deb_src() {
    local f=/etc/apt/sources.list.d/h2x-deb-src.sources
    if [ "$(id -u)" -ne 0 ]; then
        say "no deb-src entry for apache2 and not root: add one and rerun"
        return 1
    fi
    local codename
    codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
    say "adding $f (deb-src for $codename)"
    cat > "$f" <<EOF
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: $codename $codename-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    apt-get update -qq >/dev/null 2>&1 || { say "apt-get update failed"; return 1; }
}

# ---- 2. one copy of test/ per side, configured for Debian's apache2 ------
prepare_side() {
    local side=$1 dir=$WORK/$1 base=$2
    rm -rf "$dir"
    mkdir -p "$dir"
    cp -r "$WORK/src/test" "$dir/test"
    local t=$dir/test
    local dso mpms
    dso=$(cd /usr/lib/apache2/modules && ls mod_*.so | sed 's/^mod_//; s/\.so$//' \
          | tr '\n' ' ')
    mpms=$(tr ' ' '\n' <<< "$dso" | grep '^mpm_' | tr '\n' ' ')
    cat > "$t/pyhttpd/config.ini" <<EOF
[global]
curl_bin = curl
nghttp = nghttp
h2load = h2load

prefix = /usr
exec_prefix = /usr
bindir = /usr/bin
sbindir = /usr/sbin
libdir = /usr/lib
libexecdir = /usr/lib/apache2/modules

apr_bindir = /usr/bin
apxs = /usr/bin/apxs
apachectl = /usr/sbin/apache2

[httpd]
version = $(apache2 -v | sed -n 's|^Server version: Apache/\([0-9.]*\).*|\1|p')
name = apache2
dso_modules = ${dso% }
mpm_modules = ${mpms% }

[test]
gen_dir = $t/gen
http_port = $((base + 1))
https_port = $base
proxy_port = $((base + 2))
http_port2 = $((base + 3))
ws_port = $((base + 4))
http_tld = tests.httpd.apache.org
test_dir = $t
test_src_dir = $t
EOF
    # the suite builds its websocket client with httpd's build system
    cat > "$t/clients/Makefile" <<'EOF'
h2ws: h2ws.c
	cc -O2 -o $@ h2ws.c -I/usr/include/apr-1.0 -lnghttp2 -lapr-1
EOF
    # Debian's apache2 puts mod_cgid's socket in /var/run/apache2, which
    # only exists once the service ran: keep it in the generated tree.
    # On the h2x side mod_http2 stays loaded (H2* directives parse);
    # mod_h2x, loaded after it, claims every h2/h2c connection.
    local extra=""
    if [ "$side" = h2x ]; then
        extra="'LoadModule h2x_module \"$H2X_SO\"', 'H2XEngine on',"
    fi
    cat >> "$t/modules/http2/env.py" <<EOF


_h2x_suite_init = H2TestEnv.__init__


def _h2x_suite_env_init(self, pytestconfig=None):
    _h2x_suite_init(self, pytestconfig=pytestconfig)
    self.add_httpd_conf([
        "<IfModule cgid_module>",
        'ScriptSock "$t/gen/apache/logs/cgisock"',
        "</IfModule>",
        $extra
    ])
    if "$side" == "h2x":
        self.add_httpd_log_modules(["h2x"])


H2TestEnv.__init__ = _h2x_suite_env_init
EOF
    if [ "$side" = h2x ]; then
        # mod_http2's directives that h2x has under its own name are
        # given to both, as t/host/nginx-retarget.pl does for nginx:
        # H2EarlyHints, H2EarlyHint
        cat >> "$t/modules/http2/env.py" <<'EOF'


import re as _h2x_re  # noqa: E402
from pyhttpd.conf import HttpdConf as _H2xHttpdConf  # noqa: E402

_h2x_conf_add = _H2xHttpdConf.add


def _h2x_retarget(text):
    return _h2x_re.sub(r"(?m)^(\s*)H2(EarlyHints?)(\s.*)$",
                       lambda m: m.group(0) + "\n" + m.group(1) + "H2X"
                       + m.group(2) + m.group(3), text)


def _h2x_suite_add(self, line):
    if isinstance(line, str):
        line = _h2x_retarget(line)
    elif line is not None:
        line = [_h2x_retarget(x) if isinstance(x, str) else x
                for x in line]
    return _h2x_conf_add(self, line)


_H2xHttpdConf.add = _h2x_suite_add
EOF
    fi
}

run_side() {
    local side=$1 t=$WORK/$1/test; shift
    local -a sel=()
    local f
    if [ -n "${HTTPD_SUITE_FILES:-}" ]; then
        for f in $HTTPD_SUITE_FILES; do sel+=("modules/http2/$f"); done
    else
        sel=(modules/http2)
    fi
    say "running $side ($(date -u +%H:%M:%S))"
    local start=$SECONDS
    (cd "$t" && timeout -k 30 3000 /usr/bin/python3 -m pytest \
        -p no:cacheprovider -q -rfE --timeout="$TMO" \
        --junitxml="$WORK/$side.xml" "${sel[@]}" "$@" \
        > "$WORK/$side.log" 2>&1)
    say "$side: $(grep -E '^=* ?[0-9]+ (passed|failed)' "$WORK/$side.log" \
                  | tail -1 | tr -d '=') in $((SECONDS - start)) s" \
        "(log $WORK/$side.log)"
    # leave no server behind
    /usr/sbin/apache2 -d "$t/gen/apache" -f "$t/gen/apache/conf/stop.conf" \
        -k stop >/dev/null 2>&1 || true
}

# ---- 3. compare ----------------------------------------------------------
compare() {
    /usr/bin/python3 - "$WORK" "$EXCLUDE" "${HTTPD_SUITE_ONLY:-}" <<'EOF'
import os, re, sys
import xml.etree.ElementTree as ET

work, exclude_file, only = sys.argv[1:4]

def load(side):
    res = {}
    path = os.path.join(work, side + ".xml")
    if not os.path.exists(path):
        return None
    for tc in ET.parse(path).getroot().iter("testcase"):
        cls = tc.get("classname", "")
        m = re.search(r"(test_\d+[^.]*)", cls)
        fname = (m.group(1) + ".py") if m else cls
        tid = fname + "::" + tc.get("name")
        if tc.find("skipped") is not None:
            st = "s"
        elif tc.find("failure") is not None or tc.find("error") is not None:
            st = "f"
        else:
            st = "p"
        # an error in teardown after a pass counts as a failure
        if tid in res and res[tid] == "f":
            st = "f"
        res[tid] = st
    return res

excl = {}
if os.path.exists(exclude_file):
    for line in open(exclude_file):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        pat, _, why = line.partition(" ")
        excl[pat] = why.strip()

def excluded(tid):
    for pat in excl:
        if tid == pat or tid.startswith(pat + "[") or \
           (pat.endswith(".py") and tid.startswith(pat + "::")):
            return pat
    return None

sides = {s: load(s) for s in ("builtin", "h2x")}
files = sorted({t.split("::")[0] for r in sides.values() if r for t in r})
def counts(res, f):
    if res is None:
        return "-"
    c = {"p": 0, "f": 0, "s": 0}
    for t, st in res.items():
        if t.startswith(f + "::"):
            c[st] += 1
    return "%d/%d/%d" % (c["p"], c["f"], c["s"])

print("%-34s %-12s %-12s" % ("file", "builtin", "h2x"))
tot = {}
for f in files:
    print("%-34s %-12s %-12s" % (f, counts(sides["builtin"], f),
                                 counts(sides["h2x"], f)))
for s in ("builtin", "h2x"):
    r = sides[s]
    if r:
        tot[s] = "%d/%d/%d" % tuple(sum(1 for v in r.values() if v == k)
                                    for k in "pfs")
print("%-34s %-12s %-12s" % ("total p/f/s", tot.get("builtin", "-"),
                             tot.get("h2x", "-")))
if only or not sides["builtin"] or not sides["h2x"]:
    sys.exit(0 if only else 1)
worse, exc = [], []
b, h = sides["builtin"], sides["h2x"]
for tid, st in sorted(b.items()):
    if st != "p" or h.get(tid) == "p":
        continue
    why = excluded(tid)
    (exc if why else worse).append((tid, h.get(tid, "missing"), why))
for tid, st, why in exc:
    print("excluded  %s (h2x %s): %s" % (tid, st, excl[why]))
for tid, st, _ in worse:
    print("REGRESSION %s: builtin passed, h2x %s" % (tid, st))
print("httpd-suite: %d tests h2x fails where mod_http2 passes (%d excluded)"
      % (len(worse), len(exc)))
sys.exit(1 if worse else 0)
EOF
}

main() {
    mkdir -p "$WORK"
    if [ ! -x /usr/sbin/apache2 ] || [ ! -x /usr/bin/apxs ]; then
        say "needs apache2 and apache2-dev (t/tools/install-deps.sh)"; return 1
    fi
    if [ ! -f "$H2X_SO" ]; then
        say "no $H2X_SO: run make first"; return 1
    fi
    fetch_source || return 1
    local side sides="builtin h2x"
    [ -n "${HTTPD_SUITE_ONLY:-}" ] && sides=$HTTPD_SUITE_ONLY
    rm -f "$WORK"/builtin.xml "$WORK"/h2x.xml
    for side in $sides; do
        prepare_side "$side" "$PORT"
        run_side "$side" "$@"
    done
    compare
}

main "$@"
