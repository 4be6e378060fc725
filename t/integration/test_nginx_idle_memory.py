"""nginx: an idle h2x connection holds no more memory than an idle builtin
one.

One nginx serves nginx-h2x and nginx-builtin.  For each side and
transport the worker is reloaded (a fresh heap), a few warm connections
are opened, then N more that each finish the handshake and one GET and
stay open; the growth of the worker's RSS per connection is compared.
Memory, not time: RSS is read from /proc after a bounded wait.
"""

import os
import sys
import time

import pytest

from h2xtest import REPO

sys.path.insert(0, os.path.join(REPO, "t", "bench", "ab"))
import abload  # noqa: E402

N = int(os.environ.get("H2X_IDLE_N", 150))
WARM = int(os.environ.get("H2X_IDLE_WARM", 200))
# h2x may hold this much more per idle connection than the builtin: RSS is
# read in pages, and the two sides' heaps do not grow in the same steps
SLACK = 2048


def _worker_rss(srv):
    workers = srv.pids()[1:]
    assert len(workers) == 1, "expected one worker, got %r" % workers
    return abload.rss_bytes(workers)


def _growth_per_conn(srv, target, tls):
    """Bytes of worker RSS per idle connection, on a fresh worker."""
    srv.reload()
    port = target.tls_port if tls else target.h2c_port
    warm, errors = abload.open_idle(port, tls, "/index.html", WARM)
    assert not errors, errors
    conns = []
    try:
        time.sleep(0.3)
        before = _worker_rss(srv)
        conns, errors = abload.open_idle(port, tls, "/index.html", N)
        assert not errors, errors[:3]
        # what the server frees once a connection has gone idle; bounded
        time.sleep(1.5)
        after = _worker_rss(srv)
    finally:
        abload.close_all(warm)
        abload.close_all(conns)
    return (after - before) / N


@pytest.mark.parametrize("tls", [True, False], ids=["tls", "h2c"])
def test_idle_connection_memory(server_factory, tls):
    srv = server_factory.nginx(("nginx-h2x", "nginx-builtin"))
    h2x = _growth_per_conn(srv, srv.target("nginx-h2x"), tls)
    builtin = _growth_per_conn(srv, srv.target("nginx-builtin"), tls)
    print("idle %s: h2x %.0f B/conn, builtin %.0f B/conn"
          % ("tls" if tls else "h2c", h2x, builtin))
    assert h2x <= builtin + SLACK, (
        "idle %s connection: h2x holds %.0f B, the builtin %.0f B"
        % ("TLS" if tls else "h2c", h2x, builtin))
