#!/bin/bash
# Build an nginx with the h2x module from an nginx source tree, the way
# operators do: make nginx NGINX_SRC=<tree> [DYNAMIC=1].
#   t/tools/build-nginx.sh <nginx source tree> [static|dynamic]
# The tree may be a release tarball or a git checkout (auto/configure).
# Objects, binary and module go to build/nginx-<version>-<link>/; the
# source tree itself gets nothing but what configure always writes
# (nothing with --builddir).  Prints the file of variables that
# `make test-nginx` passes to the suite (H2X_NGINX, H2X_NGINX_MODULE).
set -euo pipefail

src=${1:?usage: $0 <nginx source tree> [static|dynamic]}
link=${2:-static}
repo=$(cd "$(dirname "$0")/../.." && pwd)
src=$(cd "$src" && pwd)
jobs=${JOBS:-2}

[ -f "$src/src/core/nginx.h" ] || { echo "$src: no nginx source" >&2; exit 1; }
ver=$(sed -n 's/^#define NGINX_VERSION *"\(.*\)"/\1/p' "$src/src/core/nginx.h")
# NGINX_OUT: another build directory (make test gives Debian's tree its own)
out=${NGINX_OUT:-$repo/build/nginx-$ver-$link}
mkdir -p "$out"

if [ -x "$src/configure" ]; then
    configure=./configure
else
    configure=auto/configure            # a git checkout
fi

args=(--prefix="$out/prefix" --builddir="$out/objs"
      --with-http_ssl_module --with-http_v2_module --with-compat
      --with-threads --with-http_stub_status_module
      --with-http_auth_request_module)
# HTTP/3 where nginx has it (1.25.0+), so that h3 is built beside h2x
[ -d "$src/src/http/v3" ] && args+=(--with-http_v3_module)
if [ "$link" = dynamic ]; then
    args+=(--add-dynamic-module="$repo")
else
    args+=(--add-module="$repo")
fi
args+=(${NGX_CONFIGURE_EXTRA:-})

# configure again only when the flags, config or the set of files change
stamp=$( { echo "$src ${args[*]}"; cat "$repo/config";
           ls "$repo"/common "$repo"/ngx_module; } | sha256sum | cut -c1-16)
if [ "$(cat "$out/configure.stamp" 2>/dev/null)" != "$stamp" ] \
   || [ ! -f "$out/objs/Makefile" ]; then
    rm -rf "$out/objs"
    if ! (cd "$src" && $configure "${args[@]}") > "$out/configure.log" 2>&1
    then
        tail -30 "$out/configure.log" >&2
        exit 1
    fi
    echo "$stamp" > "$out/configure.stamp"
fi

targets=binary
[ "$link" = dynamic ] && targets="binary modules"
if ! make -C "$src" -f "$out/objs/Makefile" -j"$jobs" $targets \
        > "$out/make.log" 2>&1; then
    grep -E -A6 'error:|\*\*\*' "$out/make.log" | head -60 >&2 || true
    exit 1
fi

mkdir -p "$out/prefix/logs"
{
    echo "H2X_NGINX=$out/objs/nginx"
    if [ "$link" = dynamic ]; then
        echo "H2X_NGINX_MODULE=$out/objs/ngx_http_h2x_module.so"
    else
        echo "H2X_NGINX_MODULE="
    fi
} > "$out/env"
echo "$out/env"
