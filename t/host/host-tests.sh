#!/bin/bash
# make host-tests: the hosts' own HTTP/2 suites against h2x, with the
# builtin HTTP/2 of the same server as the reference, in the same run.
#   t/host/httpd-suite.sh   httpd's test/modules/http2 (Debian's source)
#   t/host/nginx-suite.sh   nginx-tests' HTTP/2 files (NGINX_TESTS=<checkout>)
# Each prints one line per file, "builtin p/f/s  h2x p/f/s", and exits
# non-zero when h2x fails a test that the builtin passes (outside its
# documented exclusion list).  This script runs both and fails if either
# does.
set -uo pipefail
cd "$(dirname "$0")/../.."
status=0
for suite in httpd nginx; do
    script=t/host/$suite-suite.sh
    if [ ! -x "$script" ]; then
        echo "host-tests: $suite: no runner ($script)"
        continue
    fi
    echo "==================== host suite: $suite ===================="
    "$script" || status=1
done
exit $status
