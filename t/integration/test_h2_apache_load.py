"""Load on Apache: h2load against mod_h2x, mod_http2 as the reference.

The issue's bar: `h2load -n 20000 -c 10 -m 100` with zero failures on TLS
and h2c; large files; no memory growth across thousands of connections.
"""

import time

import pytest

from h2xtest.clients import h2load

SCHEMES = ["https", "h2c"]


def _check(r, n, proto):
    assert r.returncode == 0, r.output
    assert r.protocol == proto, r.output
    assert (r.total, r.started, r.done, r.succeeded) == (n, n, n, n), \
        r.output
    assert (r.failed, r.errored, r.timeout) == (0, 0, 0), r.output
    assert r.status_2xx == n, r.output


@pytest.mark.parametrize("target", ["apache-h2x", "apache-builtin"],
                         indirect=True)
@pytest.mark.parametrize("scheme", SCHEMES)
def test_h2load_20000(target, scheme):
    r = h2load(target.url("/index.html", scheme), n=20000, c=10, m=100,
               timeout=120)
    _check(r, 20000, "h2" if scheme == "https" else "h2c")


@pytest.mark.parametrize("target", ["apache-h2x"], indirect=True)
@pytest.mark.parametrize("scheme", SCHEMES)
def test_h2load_large_files(target, scheme):
    r = h2load(target.url("/1m.bin", scheme), n=200, c=4, m=10, timeout=120)
    _check(r, 200, "h2" if scheme == "https" else "h2c")


def _rss_kib(pids):
    total = 0
    for pid in pids:
        try:
            with open("/proc/%d/status" % pid) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def test_rss_flat_across_connections(server_factory):
    """2000 connections in rounds: the child's RSS settles."""
    t = server_factory.target("apache-h2x")
    url = t.url("/10k.bin", "https")
    samples = []
    # 50 at a time: each open HTTP/2 connection holds an MPM thread
    for i in range(40):
        r = h2load(url, n=500, c=50, m=10, timeout=60)
        _check(r, 500, "h2")
        if i in (9, 39):
            time.sleep(0.2)
            samples.append(_rss_kib(t.server.pids()[1:]))
    grown = samples[1] - samples[0]
    assert grown < 8 * 1024, "RSS grew by %d KiB (%s)" % (grown, samples)
