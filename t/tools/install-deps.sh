#!/bin/bash
# Install the Debian packages that building and testing h2x need, when they
# are missing.  Needs root for apt-get; does nothing when all are present.
set -euo pipefail

pkgs=(
    build-essential dpkg-dev clang libclang-rt-14-dev
    nginx-core nginx-dev libpcre3-dev zlib1g-dev libssl-dev
    apache2 apache2-dev
    libcmocka-dev libnghttp2-dev nghttp2-client
    curl openssl
    python3 python3-pytest python3-h2 python3-hyperframe python3-hpack
    # httpd's own HTTP/2 suite (t/host/httpd-suite.sh)
    python3-cryptography python3-requests python3-filelock
    python3-websockets python3-multipart python3-psutil python3-tqdm
    python3-pytest-timeout
)

missing=()
for p in "${pkgs[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null \
         | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "deps: all ${#pkgs[@]} packages present"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "deps: missing packages: ${missing[*]}" >&2
    echo "deps: run as root (apt-get install) or install them first" >&2
    exit 1
fi

echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# Debian's nginx and apache2 packages try to start their services; tests
# start their own servers, so keep invoke-rc.d from starting any.
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "deps: installed ${#missing[@]} packages"
