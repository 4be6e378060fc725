"""The harness itself: reload, stop, failure reports, no server left over."""

import os
import re
import signal
import subprocess
import sys
import time

import pytest

from h2xtest import ServerError, ADAPTER_PENDING
from h2xtest.clients import curl

HERE = os.path.dirname(os.path.abspath(__file__))


def _gone(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.mark.parametrize("name", ["nginx-h2x", "apache-h2x"])
def test_reload_applies_new_config_and_stop_ends_all(server_factory, name):
    t = server_factory.target(name)
    srv = t.server
    r = curl(t.url("/index.html", "http"), "-I", "--http1.1")
    assert r.status == 200 and b"x-h2x-reload" not in r.body.lower()
    if srv.kind == "nginx":
        srv.location_extra = "add_header X-H2x-Reload yes always;"
    else:
        srv.vhost_extra = "Header always set X-H2x-Reload yes"
    srv.reload()
    r = curl(t.url("/index.html", "http"), "-I", "--http1.1")
    assert r.status == 200 and b"x-h2x-reload: yes" in r.body.lower(), r
    pids = t.pids
    assert len(pids) >= 2
    srv.stop()
    assert all(_gone(p) for p in pids), pids
    for port in t.ports():
        assert curl("http://127.0.0.1:%d/" % port, timeout=2).status == 0


def test_start_failure_shows_the_error_log(server_factory):
    with pytest.raises(ServerError) as e:
        server_factory.nginx(("nginx-h2x",), http_extra="h2x maybe;")
    msg = str(e.value)
    assert "exited with status 1 during start" in msg, msg
    assert 'invalid value "maybe" in "h2x" directive' in msg, msg
    with pytest.raises(ServerError) as e:
        server_factory.apache(("apache-h2x",), global_extra="H2XEngine maybe")
    assert "H2XEngine must be On or Off" in str(e.value), str(e.value)


def test_bad_reload_is_reported(server_factory):
    srv = server_factory.nginx(("nginx-builtin",))
    srv.http_extra = "no_such_directive on;"
    with pytest.raises(ServerError) as e:
        srv.reload()
    assert 'unknown directive "no_such_directive"' in str(e.value)
    assert srv.running()          # nginx keeps the old config


INNER_CONFTEST = """\
import sys
sys.path.insert(0, %(here)r)
exec(compile(open(%(conftest)r).read(), %(conftest)r, "exec"))
"""

INNER_TEST = """\
import os, time
import pytest
from h2xtest.clients import curl

@pytest.mark.parametrize("target", ["nginx-builtin", "apache-builtin"],
                         indirect=True)
def test_inner(target):
    print("PIDS=%%s" %% ",".join(map(str, target.pids)), flush=True)
    curl(target.url("/no-such-file-h2x", "https"), "-k")
    %(body)s
"""


def _inner_pytest(tmp_path, body, site, **popen):
    # the inner session's temp dirs go below ours, removed with it
    env = dict(os.environ, TMPDIR=site.workdir("inner"))
    (tmp_path / "conftest.py").write_text(INNER_CONFTEST % {
        "here": HERE, "conftest": os.path.join(HERE, "conftest.py")})
    (tmp_path / "test_inner.py").write_text(INNER_TEST % {"body": body})
    return subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-s",
         "-rfE", str(tmp_path)], cwd=str(tmp_path), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, env=env,
        preexec_fn=_default_sigint, **popen)


def _default_sigint():
    # A shell that runs us in the background (CI may) starts us with SIGINT
    # ignored, which the child inherits; Python then never raises
    # KeyboardInterrupt.  The inner pytest must see Ctrl-C as a user would.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_failure_report_has_error_log_and_servers_stop(tmp_path, h2x_site):
    proc = _inner_pytest(tmp_path, "assert False, 'inner failure'", h2x_site)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 1, out
    assert "2 failed" in out, out
    # each failure carries the log of its own server, from its own test
    assert "h2x nginx error log (nginx-h2x,nginx-builtin)" in out, out
    assert "h2x apache error log (apache-builtin)" in out, out
    assert re.search(r'open\(\) ".*/no-such-file-h2x" failed', out), out
    assert re.search(r"AH00128: File does not exist: .*/no-such-file-h2x",
                     out), out
    pids = [int(p) for m in re.findall(r"PIDS=([\d,]+)", out)
            for p in m.split(",")]
    # nginx master + worker, Apache's parent (its children may not have
    # forked yet on a loaded machine: the parent accepts into the backlog)
    assert len(pids) >= 3, out
    assert all(_gone(p) for p in pids), pids


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL],
                         ids=["sigint", "sigkill"])
def test_interrupted_pytest_leaves_no_server(tmp_path, h2x_site, sig):
    proc = _inner_pytest(tmp_path, "time.sleep(60)", h2x_site,
                         start_new_session=True)
    pids = []
    deadline = time.monotonic() + 30
    while len(pids) < 2 and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        m = re.search(r"PIDS=([\d,]+)", line)
        if m:
            pids += [int(p) for p in m.group(1).split(",")]
    assert len(pids) >= 2, pids
    proc.send_signal(sig)
    proc.communicate(timeout=30)
    deadline = time.monotonic() + 10
    while not all(_gone(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert all(_gone(p) for p in pids), pids


def test_apache_hosts_both_modules_when_asked(server_factory):
    """load_http2=True: mod_h2x and mod_http2 side by side in one Apache."""
    srv = server_factory.apache(("apache-h2x", "apache-builtin"),
                                load_http2=True, extra_modules=["proxy"])
    conf = open(srv.conf_path).read()
    assert "LoadModule http2_module" in conf
    assert "LoadModule h2x_module" in conf
    assert "LoadModule proxy_module" in conf
    b = srv.target("apache-builtin")
    r = curl(b.url("/", "h2c"), "--http2-prior-knowledge")
    assert (r.status, r.http_version) == (200, "2"), r
    # H2Direct off on the h2x vhosts: mod_http2 does not take their h2c
    h = srv.target("apache-h2x")
    r = curl(h.url("/", "http"), "--http1.1")
    assert (r.status, r.http_version) == (200, "1.1"), r
    if "apache-h2x" in ADAPTER_PENDING:
        r = curl(h.url("/", "h2c"), "--http2-prior-knowledge")
        assert r.http_version != "2", r
