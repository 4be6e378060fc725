"""Servers of the attack suite: their own, so that floods do not touch the
session servers, with what the suite reads: error logs at `info` (nginx
logs client errors there, as the builtin does), the h2x status pages,
one Apache child (its counters are per child), short idle and send
timeouts (so idle and slow-reader attacks end in seconds) and room for
thousands of connections in nginx.
"""

import json
import os

import pytest

from h2xtest import BUILD
from h2xservers import file_size

NGINX_KW = dict(
    log_level="info",
    worker_connections=4096,
    main_extra="worker_rlimit_nofile 8192;",
    # keepalive_requests: with the default (1000) the graceful GOAWAY at
    # 1000 requests comes before the reset budget (1000 tokens) is spent
    http_extra="send_timeout 3s;\nclient_header_timeout 5s;\n"
               "keepalive_requests 100000;",
    # keepalive_timeout is set at http level already
    # /slow/: requests that wait for their body (request buffering) and
    # never reach the (absent) upstream: rapid reset without responses
    server_extra={"nginx-h2x": "keepalive_timeout 3s;\n"
                               "location = /h2x_status { h2x_status; }\n"
                               "location /slow/ { proxy_pass "
                               "http://127.0.0.1:9; }",
                  "nginx-builtin": "keepalive_timeout 3s;\n"
                                   "location /slow/ { proxy_pass "
                                   "http://127.0.0.1:9; }"},
)

APACHE_GLOBAL = "\n".join([
    "ServerLimit 1",              # one child: its counters are the server's
    "MaxRequestWorkers 64",
    # connections per child = threads + factor x idle threads: room for
    # the 2000 of many_connections once connections do not hold threads
    "AsyncRequestWorkerFactor 40",
    "KeepAliveTimeout 3",
    "Timeout 5",
])

APACHE_VHOST = {"apache-h2x": "<Location /h2x-status>\n"
                              "    SetHandler h2x-status\n"
                              "</Location>"}


class _AttackServers:
    def __init__(self, site):
        self.site = site
        self.servers = {}

    def server_for(self, name):
        key = "nginx" if name.startswith("nginx-") else name
        srv = self.servers.get(key)
        if srv is not None and not srv.running():
            srv.stop(graceful=False)        # crashed: a fresh one
            srv = None
        if srv is None:
            if key == "nginx":
                srv = self.site.nginx(**NGINX_KW)
            else:
                srv = self.site.apache((name,), global_extra=APACHE_GLOBAL,
                                       vhost_extra=APACHE_VHOST)
            self.servers[key] = srv
            srv.start()
        return srv

    def stop(self):
        for srv in self.servers.values():
            srv.stop()


@pytest.fixture(scope="session")
def attack_servers(h2x_site):
    servers = _AttackServers(h2x_site)
    yield servers
    servers.stop()


@pytest.fixture
def atarget(request, attack_servers):
    """A target of the attack servers, by indirect parametrization."""
    srv = attack_servers.server_for(request.param)
    # the failure report shows this server's log (as conftest._involve)
    servers = request.node.__dict__.setdefault("h2x_servers", {})
    servers.setdefault(srv, file_size(srv.error_log))
    return srv.target(request.param)


# --- the reference table: every run's row, written at the end -------------

def pytest_sessionfinish(session, exitstatus):
    from h2xtest.attack import ROWS, reference_table
    if not ROWS:
        return
    out = os.path.join(BUILD, "attacks")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(ROWS, f, indent=1)
    with open(os.path.join(out, "reference.md"), "w") as f:
        f.write(reference_table(ROWS))
