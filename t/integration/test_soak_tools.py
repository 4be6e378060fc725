"""The tools of make soak and make test-asan can fail: the soak's h2load
check and reset client, and the harness's H2X_SERVER_ENV / H2X_BUILD_DIR
hooks that test-asan relies on."""

import os
import subprocess
import sys
import time

import pytest

import h2xservers

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "soak"))

import resetclient                # noqa: E402
import soak                       # noqa: E402


@pytest.mark.parametrize("target", ["nginx-h2x"], indirect=True)
def test_soak_h2load_check(target):
    ok, err = soak.h2load(target.url("/10k.bin", "h2c"), 20, 2, 5)
    assert (ok, err) == (20, None)
    # a 404 is a failed request for the soak
    ok, err = soak.h2load(target.url("/no-such-file", "h2c"), 20, 2, 5)
    assert err and "0 2xx of 20" in err, err


def test_soak_reset_client(h2x_target):
    t = h2x_target
    for tls, port in ((True, t.tls_port), (False, t.h2c_port)):
        r = resetclient.run("127.0.0.1", port, tls, "/1m.bin",
                            h2xservers.DOC_FILES["1m.bin"], conns=1,
                            resets=2)
        assert (r.errors, r.resets, r.completed) == ([], 2, 3)
    # an unexpected answer is an error, not a pass
    with pytest.raises(RuntimeError):
        c = resetclient._Conn("127.0.0.1", t.h2c_port, False)
        try:
            sid = c.get("/no-such-file")
            c.pump(lambda: c.streams[sid]["ended"])
            c.check(sid, b"")
        finally:
            c.close()


def test_parse_server_env():
    env = h2xservers.parse_server_env(
        "LD_PRELOAD=/a.so /b.so\n# note\n\nASAN_OPTIONS=a=1:b=2\n")
    assert env == {"LD_PRELOAD": "/a.so /b.so", "ASAN_OPTIONS": "a=1:b=2"}
    with pytest.raises(ValueError):
        h2xservers.parse_server_env("no equals sign")


def _environ(pid):
    with open("/proc/%d/environ" % pid, "rb") as f:
        return dict(item.split(b"=", 1) for item in f.read().split(b"\0")
                    if b"=" in item)


@pytest.mark.parametrize("name", ["nginx-h2x", "apache-h2x"])
def test_server_env_reaches_every_process(server_factory, monkeypatch, name):
    monkeypatch.setitem(h2xservers.SERVER_ENV, "H2X_ENV_PROBE", "on")
    t = server_factory.target(name)
    deadline = time.monotonic() + 15     # Apache forks its child a bit later
    while len(t.pids) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    pids = t.pids
    assert len(pids) >= 2, pids          # nginx's worker, Apache's child
    if name.startswith("nginx"):
        # nginx writes its process titles over the original environment,
        # so /proc shows nothing; `env` keeps the variable for the workers
        assert "env H2X_ENV_PROBE;" in open(t.server.conf_path).read()
    else:
        for pid in pids:
            assert _environ(pid).get(b"H2X_ENV_PROBE") == b"on", pid
    # and config checks see it too
    probe = os.path.join(server_factory.site.root, "probe")
    res = subprocess.run(["sh", "-c", "echo $H2X_ENV_PROBE > %s" % probe],
                         env=h2xservers.server_env(), timeout=10)
    assert res.returncode == 0 and open(probe).read() == "on\n"


def test_build_dir_moves_the_modules():
    code = ("import h2xservers as h; print(h.NGINX_MODULE); "
            "print(h.APACHE_MODULE)")
    env = dict(os.environ, H2X_BUILD_DIR="build/asan",
               PYTHONPATH=os.path.join(h2xservers.REPO, "t", "tools"))
    env.pop("H2X_NGINX_MODULE", None)     # make test-nginx sets it
    out = subprocess.run(["/usr/bin/python3", "-c", code], env=env,
                         cwd="/", stdout=subprocess.PIPE, text=True,
                         timeout=30).stdout.split()
    base = os.path.join(h2xservers.REPO, "build", "asan")
    assert out == [os.path.join(base, "ngx_http_h2x_module.so"),
                   os.path.join(base, "mod_h2x.so")]
