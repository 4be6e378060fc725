#!/usr/bin/python3
"""`make run`: nginx and Apache with h2x and their builtin HTTP/2, on loopback.

Generates configs and a demo site under build/run/, starts the servers in
the foreground on fixed ports, probes what each port really speaks and
prints it with curl lines to try, then waits.  Ctrl-C (SIGINT) or SIGTERM
stops every server and exits 0.  Builds nothing: make does that first.

Ports (8xxx: h2x, 9xxx: builtin), each overridable from the environment:

  H2X_RUN_NGINX_H2X_TLS=8443       H2X_RUN_NGINX_H2X_CLEAR=8080
  H2X_RUN_APACHE_H2X_TLS=8444      H2X_RUN_APACHE_H2X_CLEAR=8082
  H2X_RUN_NGINX_BUILTIN_TLS=9443   H2X_RUN_NGINX_BUILTIN_H2C=9080
  H2X_RUN_NGINX_BUILTIN_HTTP1=9081
  H2X_RUN_APACHE_BUILTIN_TLS=9444  H2X_RUN_APACHE_BUILTIN_CLEAR=9082

H2X_RUN_DIR moves build/run elsewhere.
"""

import os
import shutil
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import h2xservers as hs  # noqa: E402

DEFAULTS = {
    "nginx-h2x": {"tls": 8443, "clear": 8080},
    "apache-h2x": {"tls": 8444, "clear": 8082},
    "nginx-builtin": {"tls": 9443, "h2c": 9080, "http1": 9081},
    "apache-builtin": {"tls": 9444, "clear": 9082},
}

DEMO_INDEX = b"""<!DOCTYPE html>
<html><head><title>h2x demo</title></head>
<body>
<h1>h2x</h1>
<p>Served by %s.  Files: <a href="10k.bin">10k.bin</a>,
<a href="1m.bin">1m.bin</a>.</p>
</body></html>
"""


def ports_from_env():
    out = {}
    for name, ports in DEFAULTS.items():
        got = {}
        for kind, default in ports.items():
            var = "H2X_RUN_%s_%s" % (name.replace("-", "_").upper(),
                                     kind.upper())
            got[kind] = int(os.environ.get(var, default))
        clear = got.get("clear")
        out[name] = {"tls": got["tls"], "h2c": got.get("h2c", clear),
                     "http1": got.get("http1", clear)}
    return out


def probe(args, url):
    """HTTP version that answered (`2`, `1.1`), or None."""
    return hs.curl_answer(args, url, max_time=3)[1]


def describe(t):
    """Lines saying what each port of target t really serves."""
    tls = "https://localhost:%d/" % t.tls_port
    h2c = "http://localhost:%d/" % t.h2c_port
    h1 = "http://localhost:%d/" % t.http1_port
    lines = []
    h2 = probe(["-k", "--http2"], tls) == "2"
    h1tls = probe(["-k", "--http1.1"], tls) == "1.1"
    lines.append("  %-5d TLS        %s" % (
        t.tls_port, ", ".join(
            (["h2 (ALPN)"] if h2 else []) + (["HTTP/1.1"] if h1tls else []))
        or "nothing answered"))
    lines.append("        curl -k --http2 %s" % tls)
    h2c_ok = probe(["--http2-prior-knowledge"], h2c) == "2"
    h1_ok = probe(["--http1.1"], h1) == "1.1"
    if t.h2c_port == t.http1_port:
        what = (["h2c (prior knowledge)"] if h2c_ok else []) + \
            (["HTTP/1.1"] if h1_ok else [])
        lines.append("  %-5d cleartext  %s" % (
            t.h2c_port, ", ".join(what) or "nothing answered"))
    else:
        lines.append("  %-5d h2c        %s" % (
            t.h2c_port, "h2c (prior knowledge)" if h2c_ok
            else "no h2c answer"))
        lines.append("  %-5d HTTP/1.1   %s" % (
            t.http1_port, "HTTP/1.1" if h1_ok else "no answer"))
    lines.append("        curl --http2-prior-knowledge %s" % h2c)
    if t.http1_port != t.h2c_port or not h2c_ok:
        lines.append("        curl --http1.1 %s" % h1)
    if t.is_h2x and not (h2 and h2c_ok):
        lines.append("        (no HTTP/2 answer from the h2x %s module yet: "
                     "its adapter has not landed; HTTP/1.1 only)" % t.kind)
    return lines


def main():
    root = os.environ.get("H2X_RUN_DIR", os.path.join(hs.BUILD, "run"))
    ports = ports_from_env()
    os.makedirs(root, exist_ok=True)
    os.chmod(root, 0o755)
    for sub in ("nginx", "apache-builtin", "apache-h2x"):
        shutil.rmtree(os.path.join(root, sub), ignore_errors=True)
    cert = hs.make_cert(os.path.join(root, "tls"))
    docroot = hs.make_docroot(os.path.join(root, "htdocs"))
    with open(os.path.join(docroot, "index.html"), "wb") as f:
        f.write(DEMO_INDEX % b"nginx or Apache, with h2x or builtin HTTP/2")

    def make(cls, targets, sub):
        return cls(targets, workdir=os.path.join(root, sub), docroot=docroot,
                   cert=cert, ports={t: ports[t] for t in targets})

    servers = [
        make(hs.NginxServer, hs.NGINX_TARGETS, "nginx"),
        make(hs.ApacheServer, ("apache-h2x",), "apache-h2x"),
        make(hs.ApacheServer, ("apache-builtin",), "apache-builtin"),
    ]
    stopping = []

    def stop(signum=None, frame=None):
        if stopping:
            return
        stopping.append(signum)
        for srv in servers:
            srv.stop()

    def on_signal(signum, frame):
        stop(signum)
        print("\nstopped nginx and Apache.", flush=True)
        sys.exit(0)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    for srv in servers:
        try:
            srv.start()
        except hs.ServerError as e:
            stop()
            print("make run: %s" % e, file=sys.stderr)
            return 1

    print("h2x: nginx %s, Apache %s; configs and logs in %s"
          % (servers[0].proc.pid,
             "/".join(str(s.proc.pid) for s in servers[1:]), root))
    print("Apache runs twice: with mod_h2x (no mod_http2) and with "
          "mod_http2, so an h2 answer on an h2x port is h2x's.\n")
    for srv in servers:
        for name in sorted(srv.targets):
            t = srv.targets[name]
            print("%s (%s)" % (name, srv.conf_path))
            print("\n".join(describe(t)))
            print()
    print("Ctrl-C stops the servers.", flush=True)

    while True:
        for srv in servers:
            if not srv.running():
                print("make run: %s exited (status %s)\n%s" % (
                    srv.kind, srv.proc.returncode, srv.logs()),
                    file=sys.stderr)
                stop()
                return 1
        time.sleep(0.5)


if __name__ == "__main__":
    sys.exit(main())
