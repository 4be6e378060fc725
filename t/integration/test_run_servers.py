"""`make run` (t/tools/run_servers.py) on alternate ports."""

import os
import signal
import subprocess
import time

from h2xtest import REPO, free_ports
from h2xtest.clients import curl

SCRIPT = os.path.join(REPO, "t", "tools", "run_servers.py")


def _gone(pid):
    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_run_servers_serves_and_stops_on_sigint(h2x_site):
    names = ["NGINX_H2X_TLS", "NGINX_H2X_CLEAR", "APACHE_H2X_TLS",
             "APACHE_H2X_CLEAR", "NGINX_BUILTIN_TLS", "NGINX_BUILTIN_H2C",
             "NGINX_BUILTIN_HTTP1", "APACHE_BUILTIN_TLS",
             "APACHE_BUILTIN_CLEAR"]
    ports = dict(zip(names, free_ports(len(names))))
    env = dict(os.environ, H2X_RUN_DIR=h2x_site.workdir("run"))
    env.update({"H2X_RUN_" + k: str(v) for k, v in ports.items()})
    proc = subprocess.Popen(["/usr/bin/python3", SCRIPT], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    out = []
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            out.append(line)
            if line.startswith("Ctrl-C stops"):
                break
        text = "".join(out)
        assert "Ctrl-C stops" in text, text
        pids = [int(p) for p in text.split("nginx ", 1)[1].split(",")[0]
                .split()[:1]]
        pids += [int(p) for p in text.split("Apache ", 1)[1].split(";")[0]
                 .split("/")]
        assert len(pids) == 3, text

        # what it printed is what the ports do
        p = ports
        assert "curl -k --http2 https://localhost:%d/" % \
            p["NGINX_BUILTIN_TLS"] in text
        assert "%-5d TLS        h2 (ALPN), HTTP/1.1" % \
            p["APACHE_BUILTIN_TLS"] in text, text
        r = curl("https://localhost:%d/" % p["NGINX_BUILTIN_TLS"],
                 "-k", "--http2")
        assert (r.status, r.http_version) == (200, "2"), r
        r = curl("http://localhost:%d/" % p["APACHE_BUILTIN_CLEAR"],
                 "--http2-prior-knowledge")
        assert (r.status, r.http_version) == (200, "2"), r
        for port in (p["NGINX_H2X_CLEAR"], p["APACHE_H2X_CLEAR"]):
            r = curl("http://localhost:%d/" % port, "--http1.1")
            assert r.status == 200 and b"h2x demo" in r.body, r
        for port in (p["NGINX_H2X_TLS"], p["APACHE_H2X_TLS"]):
            r = curl("https://localhost:%d/" % port, "-k", "--http1.1")
            assert r.status == 200 and b"h2x demo" in r.body, r

        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=30)
        assert proc.returncode == 0, text + rest
        assert "stopped nginx and Apache." in rest
        for pid in pids:
            assert _gone(pid), "process group %d still there" % pid
        for port in p.values():
            r = curl("http://127.0.0.1:%d/" % port, timeout=2)
            assert r.status == 0, "port %d still answers" % port
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
