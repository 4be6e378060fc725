#!/bin/bash
# CI (make test): Debian 13's nginx source (the "trixie" suite of the
# archive this machine uses, apt-get source; 1.26.x), built statically with
# h2x (make nginx), and the integration suite's nginx tests against it
# (make test-nginx).  apt runs on a private sources list and lists
# directory under build/debian-<suite>/: the system's apt state is left
# alone.  NGINX_DEBIAN_SUITE picks another suite.
set -euo pipefail
cd "$(dirname "$0")/../.."

suite=${NGINX_DEBIAN_SUITE:-trixie}
dir=$PWD/build/debian-$suite
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
mkdir -p "$dir/lists/partial" "$dir/src"

# the main archive's URI from apt's own sources, else deb.debian.org
uri=
for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    uri=$(awk '/^URIs:/ { for (i = 2; i <= NF; i++)
                            if ($i !~ /security/) { print $i; exit } }' "$f")
    [ -n "$uri" ] && break
done
if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
    uri=$(awk '$1 == "deb" && $0 !~ /security/ {
                   for (i = 2; i <= NF; i++)
                       if ($i ~ /^(https?|file):/) { print $i; exit } }' \
          /etc/apt/sources.list)
fi
uri=${uri:-http://deb.debian.org/debian}

echo "deb-src [signed-by=$keyring] $uri $suite main" > "$dir/sources.list"
apt=(-o Dir::Etc::SourceList="$dir/sources.list"
     -o Dir::Etc::SourceParts=/nonexistent
     -o Dir::State::Lists="$dir/lists"
     -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache=)

log=$dir/fetch.log
tree=$(ls -d "$dir"/src/nginx-*/ 2>/dev/null | head -1 || true)
if [ -z "$tree" ]; then
    echo "test-nginx-debian: apt-get source nginx ($uri $suite)"
    apt-get "${apt[@]}" update -qq > "$log" 2>&1 || true
    versions=$(apt-cache "${apt[@]}" showsrc nginx 2>>"$log" \
               | sed -n 's/^Version: //p' | sort -u -r -V)
    for v in $versions; do
        # the newest upload's files are sometimes missing on a mirror
        (cd "$dir/src" && apt-get "${apt[@]}" source -qq "nginx=$v") \
            >> "$log" 2>&1 && break
    done
    tree=$(ls -d "$dir"/src/nginx-*/ 2>/dev/null | head -1 || true)
    orig=$(ls "$dir"/src/nginx_*.orig.tar.gz 2>/dev/null | tail -1 || true)
    if [ -z "$tree" ] && [ -n "$orig" ]; then
        # no .dsc to unpack: the upstream tarball Debian ships, unpatched
        echo "test-nginx-debian: only $(basename "$orig") (no Debian patches)"
        tar -xzf "$orig" -C "$dir/src"
        tree=$(ls -d "$dir"/src/nginx-*/ 2>/dev/null | head -1 || true)
    fi
    if [ -z "$tree" ]; then
        tail -20 "$log" >&2
        echo "test-nginx-debian: FAILED to fetch nginx from $suite" >&2
        exit 1
    fi
fi

echo "test-nginx-debian: $tree, static"
rc=0
NGINX_OUT=$PWD/build/nginx-debian-$suite \
    make --no-print-directory test-nginx NGINX_SRC="$tree" || rc=$?
echo "test-nginx-debian: nginx from $suite ($(basename "$tree")):" \
     "$([ $rc = 0 ] && echo ok || echo FAILED)"
exit $rc
