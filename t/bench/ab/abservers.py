"""The servers of an A/B run, their content, and the fairness checks.

Configs come from t/tools/h2xservers.py (the generator every test and
`make run` use); this module only adds what an A/B run needs on top of it,
identically for both sides of a server:

nginx   one process (master + 1 worker) with two server blocks: the builtin
        `listen ... http2` and `h2x on;`.  Everything A/B-specific is set at
        the http level or repeated verbatim in both server blocks.
Apache  one process per side, same MPM and thread settings: mod_http2 alone
        in one, mod_h2x alone in the other (with both loaded, mod_http2
        would answer ALPN h2 on the h2x vhost; see h2xservers.py).
backend one more nginx, HTTP/1.1 only, that both servers proxy to.
"""

import hashlib
import os
import re
import socket
import ssl
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools"))

import h2xservers as hs  # noqa: E402

from abload import proc_env, proc_status  # noqa: E402

# glibc malloc: the same tunables for every server process.  A fixed, high
# trim threshold keeps glibc from returning heap to the kernel after each
# burst (which made the same nginx 2x slower or faster depending on what it
# had served before, see docs/ab.md); setting it also freezes the dynamic
# mmap threshold at its default.
GLIBC_TUNABLES = os.environ.get("AB_GLIBC_TUNABLES",
                                "glibc.malloc.trim_threshold=268435456")

APACHE_THREADS = 128          # ThreadsPerChild, MaxRequestWorkers
H2_MIN_WORKERS = 32           # H2MinWorkers / H2XMinWorkers
H2_MAX_WORKERS = 128          # H2MaxWorkers / H2XMaxWorkers
MAX_STREAMS_NGINX = 128       # nginx builtin default, set on both sides
MAX_STREAMS_APACHE = 100      # mod_http2 default, set on both sides

# --- content ---------------------------------------------------------------

# the "page" profile: a page with its stylesheets, scripts, fonts and images
PAGE_FILES = [
    ("page/index.html", 14 * 1024), ("page/css/site.css", 28 * 1024),
    ("page/css/theme.css", 6 * 1024), ("page/js/vendor.js", 96 * 1024),
    ("page/js/app.js", 42 * 1024), ("page/js/analytics.js", 9 * 1024),
    ("page/font/text.woff2", 24 * 1024), ("page/img/hero.jpg", 180 * 1024),
    ("page/img/logo.svg", 3 * 1024), ("page/img/icon1.png", 1200),
    ("page/img/icon2.png", 900), ("page/img/icon3.png", 2100),
    ("page/img/thumb1.jpg", 16 * 1024), ("page/img/thumb2.jpg", 21 * 1024),
    ("page/img/thumb3.jpg", 12 * 1024), ("page/img/thumb4.jpg", 30 * 1024),
    ("page/img/sprite.png", 48 * 1024), ("page/favicon.ico", 600),
]
AB_FILES = [("s100.txt", 100), ("p1k.bin", 1024)] + PAGE_FILES
POST_BODY = 64 * 1024

LUA_POST = """-- reads the whole request body, answers 204 (A/B post64k)
function handle(r)
    local body = r:requestbody()
    r.status = 204
    return apache2.OK
end
"""


def make_content(site):
    """A/B files in the shared docroot, the POST body and the Lua handler."""
    for name, size in AB_FILES:
        path = os.path.join(site.docroot, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        os.chmod(os.path.dirname(path), 0o755)
        with open(path, "wb") as f:
            f.write(hs.doc_bytes(name, size) if name != "s100.txt"
                    else b"h2x A/B: a 100-byte response body.".ljust(99, b".")
                    + b"\n")
        os.chmod(path, 0o644)
    body = os.path.join(site.root, "post64k.bin")
    with open(body, "wb") as f:
        f.write(hs.doc_bytes("post", POST_BODY))
    lua = os.path.join(site.root, "post.lua")
    with open(lua, "w") as f:
        f.write(LUA_POST)
    os.chmod(lua, 0o644)
    return body, lua


# --- config text -------------------------------------------------------------

class Optional:
    """Config lines an older or newer module may not know: a config test
    that fails on one of their directives drops it, and says so."""

    def __init__(self):
        self.dropped = []

    def filter(self, text):
        out = []
        for line in text.splitlines():
            words = line.split()
            if words and words[0].rstrip(";") in self.dropped:
                continue
            out.append(line)
        return "\n".join(out)


def nginx_config(backend_port):
    http = """keepalive_requests 100000000;
client_body_buffer_size 128k;
client_max_body_size 1m;
gzip off;
upstream ab_backend {
    server 127.0.0.1:%d;
    keepalive 32;
}""" % backend_port
    # identical in both server blocks
    common = """location = /post {
    # mirror reads the whole body first; the file lookup then fails and
    # error_page answers 204 (stock nginx has no lighter body reader)
    mirror /_ab_drop;
    mirror_request_body on;
    log_not_found off;
    error_page 404 405 = @ab_ok;
}
location = /_ab_drop { internal; return 204; }
location @ab_ok { return 204; }
location /proxy/ {
    proxy_pass http://ab_backend/;
    proxy_http_version 1.1;
    proxy_set_header Connection "";
}"""
    server = {
        "nginx-builtin": common + "\nhttp2_max_concurrent_streams %d;"
        % MAX_STREAMS_NGINX,
        "nginx-h2x": common + "\nh2x_max_concurrent_streams %d;"
        % MAX_STREAMS_NGINX,
    }
    return "worker_rlimit_nofile 8192;", http, server


def apache_config(backend_port, lua_path):
    g = """ThreadLimit {t}
ServerLimit 1
StartServers 1
ThreadsPerChild {t}
MaxRequestWorkers {t}
MinSpareThreads 1
MaxSpareThreads {t}
AsyncRequestWorkerFactor 4
MaxKeepAliveRequests 0
KeepAliveTimeout 300
Timeout 60
EnableSendfile Off
<IfModule http2_module>
    H2MinWorkers {mn}
    H2MaxWorkers {mx}
    H2MaxSessionStreams {s}
</IfModule>
<IfModule h2x_module>
    H2XMinWorkers {mn}
    H2XMaxWorkers {mx}
    H2XMaxSessionStreams {s}
    H2XMaxRequests 0
</IfModule>""".format(t=APACHE_THREADS, mn=H2_MIN_WORKERS,
                      mx=H2_MAX_WORKERS, s=MAX_STREAMS_APACHE)
    vhost = """ProxyPass "/proxy/" "http://127.0.0.1:{p}/"
LuaScope thread
LuaMapHandler "^/post$" "{lua}" handle""".format(p=backend_port,
                                               lua=lua_path)
    return g, vhost


# --- servers -----------------------------------------------------------------

class Side:
    """One side of an A/B pair: a target on a server."""

    def __init__(self, kind, engine, server):
        self.kind = kind
        self.engine = engine
        self.name = "%s-%s" % (kind, engine)
        self.server = server
        self.target = server.target(self.name)
        self.serves = {}          # transport -> True/False
        self.why_not = {}         # transport -> reason

    def port(self, transport):
        return self.target.tls_port if transport == "tls" \
            else self.target.h2c_port

    def url(self, transport, path):
        scheme = "https" if transport == "tls" else "http"
        return "%s://localhost:%d/%s" % (scheme, self.port(transport),
                                         path.lstrip("/"))

    def pids(self):
        return self.server.pids()


def pin(server, cpu):
    server.wrapper = ["taskset", "-c", str(cpu)] if cpu is not None else []
    server.env = dict(os.environ, GLIBC_TUNABLES=GLIBC_TUNABLES)
    server.log_requests = False


def config_test(server):
    server.write_config()
    server.prepare()
    res = subprocess.run(server.command(test=True), cwd=server.workdir,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, timeout=60,
                         env=hs.server_env(server.env))
    return res.returncode, res.stdout


_UNKNOWN = (r'unknown directive "([^"]+)"',
            r"Invalid command '([^']+)'")


def start_tolerant(server, optional, apply):
    """Start `server`; a config test failing on an unknown directive
    among the optional ones drops that directive (noted) and retries."""
    for _ in range(12):
        apply()
        rc, out = config_test(server)
        if rc == 0:
            break
        name = None
        for pat in _UNKNOWN:
            m = re.search(pat, out)
            if m:
                name = m.group(1)
        if not name or name in optional.dropped:
            raise hs.ServerError("%s config test failed:\n%s"
                                 % (server.kind, out))
        optional.dropped.append(name)
    server.start()


class ABServers:
    def __init__(self, site, kinds, server_cpu):
        self.site = site
        self.kinds = kinds
        self.cpu = server_cpu
        self.post_body, self.lua = make_content(site)
        self.backend = None
        self.nginx = None
        self.apache = {}
        self.sides = {}           # kind -> (builtin Side, h2x Side)
        self.notes = {}           # kind -> [text]

    def start_backend(self):
        be = self.site.nginx(("nginx-builtin",), load_h2x=False,
                             http_extra="keepalive_requests 100000000;")
        pin(be, self.cpu)
        be.start()
        self.backend = be
        return be

    @property
    def backend_port(self):
        return self.backend.target("nginx-builtin").http1_port

    def start(self, kind):
        notes = self.notes.setdefault(kind, [])
        if kind == "nginx":
            main, http, server = nginx_config(self.backend_port)
            srv = self.site.nginx(hs.NGINX_TARGETS)
            pin(srv, self.cpu)
            opt = Optional()

            def apply():
                srv.main_extra = main
                srv.http_extra = http
                srv.server_extra = {k: opt.filter(v)
                                    for k, v in server.items()}
            start_tolerant(srv, opt, apply)
            for d in opt.dropped:
                notes.append("`%s` is not known to this build: left at its "
                             "default on that side" % d)
            self.nginx = srv
            self.sides[kind] = (Side(kind, "builtin", srv),
                                Side(kind, "h2x", srv))
        else:
            g, vhost = apache_config(self.backend_port, self.lua)
            sides = []
            for engine in ("builtin", "h2x"):
                name = "apache-" + engine
                srv = self.site.apache((name,),
                                       extra_modules=["proxy", "proxy_http",
                                                      "lua"])
                pin(srv, self.cpu)
                opt = Optional()

                def apply(srv=srv, opt=opt):
                    srv.global_extra = opt.filter(g)
                    srv.vhost_extra = vhost
                start_tolerant(srv, opt, apply)
                for d in opt.dropped:
                    notes.append("`%s` is not known to this build of %s: "
                                 "left at its default" % (d, name))
                self.apache[engine] = srv
                sides.append(Side(kind, engine, srv))
            self.sides[kind] = tuple(sides)
        return self.sides[kind]

    def stop(self, kind):
        if kind == "nginx" and self.nginx:
            self.nginx.stop()
            self.nginx = None
        elif kind == "apache":
            for srv in self.apache.values():
                srv.stop()
            self.apache = {}

    def stop_all(self):
        for k in ("nginx", "apache"):
            self.stop(k)
        if self.backend:
            self.backend.stop()
            self.backend = None

    def configs(self):
        """(label, path) of every generated config."""
        out = []
        if self.backend:
            out.append(("backend", self.backend.conf_path))
        if self.nginx:
            out.append(("nginx", self.nginx.conf_path))
        for engine, srv in self.apache.items():
            out.append(("apache-" + engine, srv.conf_path))
        return out


# --- probes -------------------------------------------------------------------

def probe(side):
    """Does the side serve HTTP/2 on TLS (ALPN) and h2c (prior knowledge)?"""
    code, v = hs.curl_answer(["-k", "--http2"], side.url("tls", "/s100.txt"))
    side.serves["tls"] = v == "2" and code == "200"
    if not side.serves["tls"]:
        side.why_not["tls"] = (
            "TLS port %d: ALPN did not select h2 (answered HTTP/%s)"
            % (side.port("tls"), v) if v else
            "TLS port %d: no answer" % side.port("tls"))
    code, v = hs.curl_answer(["--http2-prior-knowledge"],
                             side.url("h2c", "/s100.txt"))
    side.serves["h2c"] = v == "2" and code == "200"
    if not side.serves["h2c"]:
        side.why_not["h2c"] = ("cleartext port %d: no HTTP/2 answer to the "
                               "connection preface" % side.port("h2c"))
    return side.serves


def fetch_sha(side, path):
    """sha256 of a file fetched from the side (HTTP/2 or HTTP/1.1, TLS)."""
    try:
        res = subprocess.run(["curl", "-sk", "--max-time", "5",
                              side.url("tls", path)],
                             stdout=subprocess.PIPE, timeout=15)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return hashlib.sha256(res.stdout).hexdigest()[:16] \
        if res.returncode == 0 else None


def tls_info(port):
    """Negotiated TLS version, cipher, ALPN and certificate (Python ssl,
    the system OpenSSL), offering h2 and http/1.1."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols(["h2", "http/1.1"])
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                cert = s.getpeercert(binary_form=True)
                return {"version": s.version(), "cipher": s.cipher()[0],
                        "alpn": s.selected_alpn_protocol() or "none",
                        "cert": hashlib.sha256(cert).hexdigest()[:16]}
    except (OSError, ssl.SSLError) as e:
        return {"error": str(e)}


def h2_settings(url):
    """SETTINGS and connection WINDOW_UPDATE the server sends first
    (`nghttp -nv`), as {name: value}."""
    try:
        out = subprocess.run(["nghttp", "-nv", "--timeout=5", url],
                             stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True,
                             timeout=15).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    settings = {}
    lines = out.splitlines()
    for i, line in enumerate(lines):
        if "recv SETTINGS frame" in line and "flags=0x00" in line:
            for nxt in lines[i + 1:]:
                m = re.match(r"\s+\[(SETTINGS_\w+)\(0x[0-9a-f]+\):(\d+)\]",
                             nxt)
                if m:
                    settings[m.group(1)[9:]] = m.group(2)
                elif nxt.startswith("["):
                    break
            break
    for i, line in enumerate(lines):
        if "recv WINDOW_UPDATE frame" in line and "stream_id=0>" in line:
            m = re.search(r"window_size_increment=(\d+)",
                          " ".join(lines[i:i + 2]))
            if m:
                settings["connection window +"] = m.group(1)
            break
    return settings if settings else None


def fairness(kind, sides, servers, cpus):
    """Rows (check, builtin, h2x, same) describing both sides."""
    b, x = sides
    rows = []

    def row(check, vb, vx, same=None):
        if same is None:
            same = vb == vx
        rows.append((check, str(vb), str(vx), same))

    def children(side):
        return side.pids()[1:]

    if kind == "nginx":
        row("server process", "one nginx: master + %d worker"
            % len(children(b)), "(the same process)", True)
        row("worker_processes / worker_connections", "1 / 1024", "1 / 1024")
    else:
        for s in (b, x):
            s._threads = [proc_status(p, "Threads") for p in children(s)]
        row("processes (parent + children)",
            "1 + %d" % len(children(b)), "1 + %d" % len(children(x)))
        row("threads in the child (MPM + h2 workers)",
            ",".join(t or "?" for t in b._threads),
            ",".join(t or "?" for t in x._threads), True)
        row("ServerLimit / ThreadsPerChild / MaxRequestWorkers",
            "1 / %d / %d" % (APACHE_THREADS, APACHE_THREADS),
            "1 / %d / %d" % (APACHE_THREADS, APACHE_THREADS))
        row("h2 workers min / max", "H2MinWorkers %d / H2MaxWorkers %d"
            % (H2_MIN_WORKERS, H2_MAX_WORKERS),
            "H2XMinWorkers %d / H2XMaxWorkers %d"
            % (H2_MIN_WORKERS, H2_MAX_WORKERS), True)
        row("HTTP/2 module loaded", "mod_http2 (not mod_h2x)",
            "mod_h2x (not mod_http2)", True)
    row("docroot", b.target.docroot, x.target.docroot)
    row("/s100.txt content (sha256)", fetch_sha(b, "/s100.txt"),
        fetch_sha(x, "/s100.txt"))
    row("access log", "off", "off")
    if kind == "nginx":
        row("sendfile", "on (http level)", "on (http level)")
        row("keepalive_requests / keepalive_timeout", "100000000 / 65s",
            "100000000 / 65s")
    else:
        row("EnableSendfile", "Off", "Off")
        row("MaxKeepAliveRequests / KeepAliveTimeout", "0 / 300",
            "0 / 300 (H2XMaxRequests 0)", True)
    tb, tx = tls_info(b.port("tls")), tls_info(x.port("tls"))
    for key in ("version", "cipher", "cert", "alpn"):
        label = {"version": "TLS version", "cipher": "TLS cipher",
                 "cert": "certificate (sha256)",
                 "alpn": "ALPN selected (h2, http/1.1 offered)"}[key]
        vb, vx = tb.get(key, tb.get("error")), tx.get(key, tx.get("error"))
        row(label, vb, vx)
    for s in (b, x):
        s._cpus = sorted({proc_status(p, "Cpus_allowed_list") or "?"
                          for p in s.pids()})
        s._tun = sorted({proc_env(p, "GLIBC_TUNABLES") or "(unset)"
                         for p in s.pids()})
    row("server CPUs (Cpus_allowed_list)", ",".join(b._cpus),
        ",".join(x._cpus))
    row("h2load CPU", cpus[1] if cpus[1] is not None else "any",
        cpus[1] if cpus[1] is not None else "any")
    row("GLIBC_TUNABLES", ";".join(b._tun), ";".join(x._tun))
    for tr in ("tls", "h2c"):
        sb = h2_settings(b.url(tr, "/s100.txt")) if b.serves.get(tr) else None
        sx = h2_settings(x.url(tr, "/s100.txt")) if x.serves.get(tr) else None
        keys = []
        for d in (sb or {}, sx or {}):
            keys += [k for k in d if k not in keys]
        if not keys:
            row("h2 SETTINGS (%s)" % tr, "n/a" if sb is None else "none",
                "n/a (no HTTP/2)" if sx is None else "none", True)
        for k in keys:
            vb = (sb or {}).get(k, "default") if sb is not None else \
                "n/a (no HTTP/2)"
            vx = (sx or {}).get(k, "default") if sx is not None else \
                "n/a (no HTTP/2)"
            row("h2 %s %s" % (tr, k), vb, vx,
                None if (sb is not None and sx is not None) else True)
    return rows
