"""pytest fixtures: real nginx and Apache serving the four targets.

See README.md in this directory.  Configs come from t/tools/h2xservers.py.
"""

import os
import shutil

import pytest

import h2xtest
from h2xtest import (ALL_TARGETS, BUILTIN_TARGETS, H2X_TARGETS,
                     ADAPTER_PENDING)
from h2xservers import file_size, install_cleanup


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "adapter_pending(*targets): xfail(strict) on h2x targets whose "
        "adapter has not landed (default: h2xtest.ADAPTER_PENDING)")
    config.addinivalue_line(
        "markers", "slow: compiles or downloads (the static nginx build)")
    install_cleanup()


def _item_targets(item):
    spec = getattr(item, "callspec", None)
    if spec is None:
        return []
    return [v for v in spec.params.values()
            if isinstance(v, str) and v in ALL_TARGETS]


def pytest_collection_modifyitems(config, items):
    for item in items:
        marker = item.get_closest_marker("adapter_pending")
        if marker is None:
            continue
        pending = set(marker.args) if marker.args else ADAPTER_PENDING
        for name in _item_targets(item):
            if name in pending:
                item.add_marker(pytest.mark.xfail(
                    strict=True, reason="adapter not yet implemented (%s)"
                    % name))


# --- logs of the involved servers in failure reports ----------------------

def _involve(node, server):
    """Remember a server used by this test and where its log stood."""
    servers = node.__dict__.setdefault("h2x_servers", {})
    if server not in servers:
        servers[server] = file_size(server.error_log)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not report.failed:
        return
    for server, offset in getattr(item, "h2x_servers", {}).items():
        report.sections.append((
            "h2x %s error log (%s)" % (server.kind, ",".join(server.targets)),
            server.logs(lines=60, since=offset)))


# --- session: one site, servers started on first use ---------------------

@pytest.fixture(scope="session")
def h2x_site():
    """Temp dir with the certificate and the docroot shared by servers."""
    site = h2xtest.Site()
    yield site
    if not os.environ.get("H2X_KEEP_TMP"):
        shutil.rmtree(site.root, ignore_errors=True)


class _SessionServers:
    """nginx (both nginx targets), Apache builtin, Apache h2x: lazily."""

    def __init__(self, site):
        self.site = site
        self.servers = {}

    def server_for(self, name):
        key = "nginx" if name.startswith("nginx-") else name
        srv = self.servers.get(key)
        if srv is not None and not srv.running():
            # a test killed it, or it crashed: the report of that test
            # showed its log; later tests get a fresh one
            srv.stop(graceful=False)
            srv = None
        if srv is None:
            if key == "nginx":
                srv = self.site.nginx()
            else:
                srv = self.site.apache((name,))
            self.servers[key] = srv
            srv.start()
        return srv

    def stop(self):
        for srv in self.servers.values():
            srv.stop()


@pytest.fixture(scope="session")
def h2x_servers(h2x_site):
    servers = _SessionServers(h2x_site)
    yield servers
    servers.stop()


def _session_target(request, name):
    srv = request.getfixturevalue("h2x_servers").server_for(name)
    _involve(request.node, srv)
    return srv.target(name)


@pytest.fixture
def target(request):
    """A target named by indirect parametrization:
    @pytest.mark.parametrize("target", ["nginx-h2x"], indirect=True)"""
    return _session_target(request, request.param)


@pytest.fixture(params=H2X_TARGETS)
def h2x_target(request):
    """nginx-h2x and apache-h2x."""
    return _session_target(request, request.param)


@pytest.fixture(params=BUILTIN_TARGETS)
def builtin_target(request):
    """nginx-builtin and apache-builtin."""
    return _session_target(request, request.param)


@pytest.fixture(params=ALL_TARGETS)
def any_target(request):
    """All four targets."""
    return _session_target(request, request.param)


# --- fresh servers for one test -------------------------------------------

class ServerFactory:
    """Servers of one test, with custom config; stopped after the test.

        srv = server_factory.nginx(("nginx-h2x",), http_extra="...")
        t = server_factory.target("apache-h2x", vhost_extra="...")
    """

    def __init__(self, site, node):
        self.site = site
        self.node = node
        self.servers = []

    def _add(self, srv, start):
        self.servers.append(srv)
        _involve(self.node, srv)
        return srv.start() if start else srv

    def nginx(self, targets=h2xtest.NGINX_TARGETS, start=True, **kw):
        return self._add(self.site.nginx(targets, **kw), start)

    def apache(self, targets=("apache-builtin",), start=True, **kw):
        return self._add(self.site.apache(targets, **kw), start)

    def target(self, name, **kw):
        """A started fresh server hosting just `name`; returns the Target."""
        if name.startswith("nginx-"):
            return self.nginx((name,), **kw).target(name)
        return self.apache((name,), **kw).target(name)

    def stop(self):
        for srv in self.servers:
            srv.stop()


@pytest.fixture
def server_factory(h2x_site, request):
    factory = ServerFactory(h2x_site, request.node)
    yield factory
    factory.stop()


@pytest.fixture
def check_dir(h2x_site):
    """A fresh directory for `nginx -t` / `apache2 -t` configs."""
    return h2x_site.workdir("check")
