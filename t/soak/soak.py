#!/usr/bin/python3
"""make soak: both h2x servers under a long mixed load, for leaks and
failures.

nginx-h2x and apache-h2x (TLS and h2c) get, round after round until
SOAK_TIME seconds have passed:

  small    h2load, many short connections (-m 1, few requests each):
           connections opening and closing, small responses
  long     h2load, few connections, many multiplexed small requests
  1m       h2load, 1 MiB responses
  post     h2load, 64 KiB POST bodies (read whole by the server)
  resets   a raw client (t/soak/resetclient.py) that cancels 1 MiB
           responses mid-way (RST_STREAM CANCEL) and checks that the
           connection still serves a complete response afterwards

The run fails if any request fails (h2load's failed, errored or timed out
requests, a non-2xx status, an unexpected error of the reset client), if a
server dies, or if a server's RSS (the sum over its processes, from /proc)
grows after the warm-up round by more than SOAK_RSS_PCT percent plus
SOAK_RSS_SLACK_KIB.

Environment: SOAK_TIME (seconds in total, default 600), SOAK_WARMUP
(seconds of it before the RSS baseline, default a fifth, at least one
round), SOAK_SERVERS (default nginx,apache; nginx-builtin and
apache-builtin run the same load on the builtin HTTP/2, for comparison), SOAK_RSS_PCT (10),
SOAK_RSS_SLACK_KIB (6144), H2X_KEEP_TMP=1 keeps the servers' temp dir.  Prints progress lines and, per server,
`RESULT soak_<server>_rss_growth_kib N` and `RESULT soak_<server>_requests
N`.
"""

import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
sys.path.insert(0, HERE)

import h2xservers as hs          # noqa: E402
import resetclient               # noqa: E402

POST_SIZE = 64 * 1024
WIDE = 48                       # connections at once in the warm-up
PAGE = os.sysconf("SC_PAGE_SIZE")

NGINX_POST = """location = /post {
    # mirror makes nginx read the whole body first; the file lookup then
    # fails and error_page answers 204
    mirror /_soak_drop;
    mirror_request_body on;
    log_not_found off;
    error_page 404 405 = @soak_ok;
}
location = /_soak_drop { internal; return 204; }
location @soak_ok { return 204; }"""

# LuaScope once: a Lua state per request, freed with it; with a state per
# thread each of the ~100 threads keeps its own garbage of 64 KiB bodies
# until its collector runs, megabytes that look like growth.
APACHE_LUA = """-- reads the whole request body, answers 204
function handle(r)
    local body = r:requestbody()
    r.status = 204
    return apache2.OK
end
"""

# One process with a fixed thread count: Apache does not start or retire
# children during the run, so the RSS sum compares like with like.
APACHE_GLOBAL = """ServerLimit 1
StartServers 1
ThreadsPerChild 64
MaxRequestWorkers 64
MinSpareThreads 1
MaxSpareThreads 64
MaxConnectionsPerChild 0
MaxKeepAliveRequests 0"""


def target_name(kind):
    """nginx, apache: their h2x targets; nginx-builtin, apache-builtin (for
    comparison) as they are."""
    return kind if "-" in kind else kind + "-h2x"


def env_num(name, default):
    v = os.environ.get(name, "")
    return float(v) if v else default


def rss_kib(pids):
    total = 0
    for pid in pids:
        try:
            with open("/proc/%d/statm" % pid) as f:
                total += int(f.read().split()[1]) * PAGE
        except OSError:
            continue
    return total // 1024


H2LOAD_RE = re.compile(
    r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, "
    r"(\d+) failed, (\d+) errored, (\d+) timeout")
STATUS_RE = re.compile(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, "
                       r"(\d+) 5xx")


def h2load(url, n, c, m, extra=(), timeout=120):
    """Run h2load; returns (requests ok, error text or None)."""
    cmd = ["h2load", "-n", str(n), "-c", str(c), "-m", str(m)] + \
        list(extra) + [url]
    try:
        res = subprocess.run(cmd, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True,
                             timeout=timeout)
    except subprocess.TimeoutExpired:
        return 0, "h2load timed out after %ds: %s" % (timeout, " ".join(cmd))
    out = res.stdout
    m1 = H2LOAD_RE.search(out)
    m2 = STATUS_RE.search(out)
    if not m1 or not m2:
        return 0, "h2load output not understood:\n%s" % out[-2000:]
    total, _, done, ok, failed, errored, tmo = map(int, m1.groups())
    s2xx = int(m2.group(1))
    if failed or errored or tmo or ok != n or s2xx != n or done != n:
        return ok, ("%s: %d succeeded, %d failed, %d errored, %d timeout, "
                    "%d 2xx of %d\n%s" % (" ".join(cmd), ok, failed, errored,
                                          tmo, s2xx, n, out[-1500:]))
    return ok, None


class Soak:
    def __init__(self):
        self.duration = env_num("SOAK_TIME", 600)
        self.pct = env_num("SOAK_RSS_PCT", 10)
        self.slack = env_num("SOAK_RSS_SLACK_KIB", 6144)
        self.warmup = env_num("SOAK_WARMUP", self.duration / 5)
        names = os.environ.get("SOAK_SERVERS", "") or "nginx,apache"
        self.kinds = [k.strip() for k in names.split(",") if k.strip()]
        for k in self.kinds:
            if k not in ("nginx", "apache", "nginx-builtin",
                         "apache-builtin"):
                raise SystemExit("SOAK_SERVERS: unknown server %r" % k)
        self.site = hs.Site()
        self.post_file = os.path.join(self.site.root, "post64k.bin")
        with open(self.post_file, "wb") as f:
            f.write(hs.doc_bytes("post", POST_SIZE))
        self.servers = {}
        self.requests = {}
        self.errors = []
        self.start = time.monotonic()

    # -- servers
    def start_servers(self):
        hs.install_cleanup()
        lua = os.path.join(self.site.root, "post.lua")
        with open(lua, "w") as f:
            f.write(APACHE_LUA)
        os.chmod(lua, 0o644)
        for kind in self.kinds:
            name = target_name(kind)
            if kind.startswith("nginx"):
                srv = self.site.nginx((name,), server_extra=NGINX_POST,
                                      http_extra="client_max_body_size 1m;\n"
                                      "client_body_buffer_size 128k;\n"
                                      "keepalive_requests 100000000;")
                srv.log_requests = False
                self.servers[kind] = srv
                continue
            srv = self.site.apache(
                (name,), extra_modules=["lua"],
                global_extra=APACHE_GLOBAL,
                vhost_extra='LuaScope once\n'
                            'LuaMapHandler "^/post$" "%s" handle' % lua)
            srv.log_requests = False
            self.servers[kind] = srv
        for srv in self.servers.values():
            srv.start()
            self.requests[srv] = 0

    def stop_servers(self):
        for srv in self.servers.values():
            srv.stop()
        if not os.environ.get("H2X_KEEP_TMP"):
            self.site.remove()
        else:
            print("soak: kept %s" % self.site.root)

    def elapsed(self):
        return time.monotonic() - self.start

    # -- one round on one server and transport
    def round(self, kind, srv, scheme):
        t = srv.target(target_name(kind))
        url = t.url("/", scheme)
        tls = scheme == "https"
        port = t.tls_port if tls else t.h2c_port
        done = 0
        runs = [
            ("small", url + "index.html", 400, 40, 1, ()),
            ("long", url + "10k.bin", 2000, 4, 20, ()),
            ("1m", url + "1m.bin", 24, 4, 2, ()),
            ("post", url + "post", 200, 4, 8, ("-d", self.post_file)),
        ]
        parts = []
        for label, u, n, c, m, extra in runs:
            ok, err = h2load(u, n, c, m, extra)
            done += ok
            parts.append("%s %d" % (label, ok))
            if err:
                self.errors.append("%s %s %s: %s" % (kind, scheme, label,
                                                     err))
        rc = resetclient.run("127.0.0.1", port, tls, "/1m.bin",
                             hs.DOC_FILES["1m.bin"], conns=4, resets=6)
        done += rc.completed
        parts.append("resets %d/%d" % (rc.resets, rc.completed))
        for e in rc.errors:
            self.errors.append("%s %s resets: %s" % (kind, scheme, e))
        if not srv.running():
            self.errors.append("%s died:\n%s" % (kind, srv.logs()))
        self.requests[srv] += done
        return ", ".join(parts)

    def wide(self):
        """Warm-up: many threads and connection slots used at once (a round
        uses a few at a time; threads first used later would count as
        growth: their stacks, their malloc arenas).  WIDE connections, not
        64: with as many connections as MaxRequestWorkers the event MPM
        closes connections it sees idle, and requests h2load sent just then
        fail (with h2x's GOAWAY and with mod_http2 alike)."""
        for kind, srv in self.servers.items():
            t = srv.target(target_name(kind))
            for scheme in ("https", "h2c"):
                base = t.url("/", scheme)
                for path, n, m, extra in (
                        ("10k.bin", 1280, 4, ()),
                        ("post", 640, 2, ("-d", self.post_file))):
                    ok, err = h2load(base + path, n, WIDE, m, extra)
                    self.requests[srv] += ok
                    if err and "builtin" in kind:
                        # only compared, not tested here
                        print("soak: %s %s warm-up: %s" % (
                            kind, scheme, err.splitlines()[0]))
                    elif err:
                        self.errors.append("%s %s warm-up: %s"
                                           % (kind, scheme, err))
            print("[%5.0fs] warm-up %-6s %d connections at once; rss %d KiB"
                  % (self.elapsed(), kind, WIDE, rss_kib(srv.pids())),
                  flush=True)

    def all_rounds(self, label):
        for kind, srv in self.servers.items():
            for scheme in ("https", "h2c"):
                if self.errors:
                    return
                text = self.round(kind, srv, scheme)
                print("[%5.0fs] %-7s %-6s %-5s %s; rss %d KiB" % (
                    self.elapsed(), label, kind, "tls" if scheme == "https"
                    else "h2c", text, rss_kib(srv.pids())), flush=True)

    def run(self):
        self.start_servers()
        try:
            # warm-up: every kind of request, so that pools, caches,
            # thread arenas and TLS state exist before the baseline; malloc
            # fragmentation still settles for a while (Apache's 64 + h2x
            # worker threads each with their share), hence SOAK_WARMUP
            self.wide()
            self.all_rounds("warm-up")
            while not self.errors and self.elapsed() < self.warmup:
                self.all_rounds("warm-up")
            time.sleep(1)
            base = {k: rss_kib(s.pids()) for k, s in self.servers.items()}
            print("soak: baseline RSS %s after %.0fs warm-up" % (
                ", ".join("%s %d KiB" % kv for kv in base.items()),
                self.elapsed()), flush=True)
            while not self.errors and self.elapsed() < self.duration:
                self.all_rounds("soak")
            time.sleep(1)
            final = {k: rss_kib(s.pids()) for k, s in self.servers.items()}
        finally:
            self.stop_servers()
        return self.report(base, final)

    def report(self, base, final):
        status = 0
        print("soak: %.0fs" % self.elapsed())
        for kind, srv in self.servers.items():
            growth = final[kind] - base[kind]
            bound = base[kind] * self.pct / 100 + self.slack
            verdict = "ok" if growth <= bound else "TOO MUCH"
            if growth > bound:
                status = 1
            print("soak: %s %d requests, RSS %d -> %d KiB (growth %d "
                  "KiB, bound %d KiB): %s" % (
                      target_name(kind), self.requests[srv], base[kind],
                      final[kind],
                      growth, bound, verdict))
        for e in self.errors:
            status = 1
            print("soak: FAILED: %s" % e)
        for kind, srv in self.servers.items():
            key = kind.replace("-", "_")
            print("RESULT soak_%s_rss_growth_kib %d"
                  % (key, final[kind] - base[kind]))
            print("RESULT soak_%s_requests %d" % (key, self.requests[srv]))
        print("soak: %s" % ("ok" if status == 0 else "FAILED"))
        return status


def main():
    for tool in ("h2load",):
        if subprocess.run(["which", tool], stdout=subprocess.DEVNULL)\
                .returncode:
            raise SystemExit("soak: %s not installed (make deps)" % tool)
    sys.exit(Soak().run())


if __name__ == "__main__":
    main()
