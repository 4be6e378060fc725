"""The nginx adapter's connection lifecycle: client aborts (499), idle
timeout, keepalive_requests, graceful shutdown and reload, stub_status
balance, PROXY protocol, SNI with h2x and the builtin side by side, and
the static (--add-module) build serving h2 and h2c.

Each test runs its own nginx (server_factory or a static binary)."""

import os
import re
import signal
import subprocess
import threading
import time

import pytest

from h2xservers import wait_for
from h2xtest import doc, free_ports, NginxServer
from h2xtest import static_nginx as sn
from h2xtest.clients import curl
from h2xtest.ngx_backend import Backend
from h2xtest.raw import RawH2, Closed
from hyperframe.frame import RstStreamFrame, GoAwayFrame, WindowUpdateFrame

LOG_FORMAT = ("log_format h2x '$status $request_method $request_uri "
              "$server_protocol h2x=$h2x';")


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


@pytest.fixture
def backend():
    be = Backend().start()
    yield be
    be.stop()


def h2x_server(server_factory, server_extra="", http_extra="", **kw):
    srv = server_factory.nginx(("nginx-h2x",), log_level="info",
                               http_extra=LOG_FORMAT + "\n" + http_extra,
                               server_extra=server_extra, start=False, **kw)
    srv.h2x_log = os.path.join(srv.workdir, "access-h2x.log")
    srv.server_extra = "access_log %s h2x;\n%s" % (srv.h2x_log,
                                                    server_extra)
    srv.start()
    return srv, srv.target("nginx-h2x")


# --- client aborts ---------------------------------------------------------------

@pytest.mark.parametrize("tls", [True, False], ids=["h2", "h2c"])
@pytest.mark.parametrize("how", ["rst", "drop"])
def test_client_abort_is_499(server_factory, backend, tls, how):
    srv, t = h2x_server(server_factory, "location /p/ { proxy_pass "
                        "http://127.0.0.1:%d/; }" % backend.port)
    c = RawH2(t.tls_port if tls else t.h2c_port, tls=tls)
    c.get(1, "/p/slow?ms=4000", scheme="https" if tls else "http")
    assert wait_for(lambda: backend.requests, 3)
    if how == "rst":
        c.send(RstStreamFrame(1, error_code=8))
        # the connection stays usable
        c.get(3, "/index.html", scheme="https" if tls else "http")
        status, _, body, rst, _ = c.response(3)
        assert (status, body) == (200, doc("index.html"))
    else:
        c.close()
    # the upstream sees the client go, the access log says 499
    assert wait_for(lambda: backend.aborted, 3), backend.requests
    assert wait_for(lambda: re.search(r"^499 GET /p/slow",
                                      read(srv.h2x_log), re.M), 3), \
        read(srv.h2x_log)
    c.close()


# --- idle timeout, keepalive_requests ----------------------------------------

def test_keepalive_timeout(server_factory):
    srv, t = h2x_server(server_factory, "keepalive_timeout 1s;")
    with RawH2(t.h2c_port) as c:
        c.get(1, "/index.html", scheme="http")
        assert c.response(1)[0] == 200
        start = time.monotonic()
        g = c.goaway(timeout=5)
        assert g.error_code == 0
        assert 0.7 < time.monotonic() - start < 4
        assert c.eof(3)


def test_client_header_timeout_before_preface(server_factory):
    srv, t = h2x_server(server_factory, "client_header_timeout 1s;")
    import socket
    s = socket.create_connection(("127.0.0.1", t.h2c_port))
    s.sendall(b"PRI * HTTP/2.0\r\n")        # half a preface
    s.settimeout(5)
    start = time.monotonic()
    try:
        assert s.recv(100) == b""
    except ConnectionResetError:
        pass       # closed with the unread half preface
    assert time.monotonic() - start < 4
    s.close()


def test_keepalive_requests(server_factory):
    srv, t = h2x_server(server_factory, "keepalive_requests 3;")
    with RawH2(t.tls_port, tls=True) as c:
        for sid in (1, 3, 5):
            c.get(sid, "/index.html")
            assert c.response(sid)[0] == 200
        # one GOAWAY, as the builtin: it may come before the last response
        g = c.last_goaway() or c.goaway(timeout=5)
        assert g.error_code == 0
        assert g.last_stream_id == 5
        assert c.eof(5)


# --- graceful shutdown and reload -----------------------------------------------

def test_quit_lets_streams_finish(server_factory, backend):
    srv, t = h2x_server(server_factory, "location /p/ { proxy_pass "
                        "http://127.0.0.1:%d/; }" % backend.port)
    idle = RawH2(t.h2c_port)
    idle.get(1, "/index.html", scheme="http")
    assert idle.response(1)[0] == 200
    busy = RawH2(t.tls_port, tls=True)
    busy.get(1, "/p/slow?ms=1500")
    assert wait_for(lambda: backend.requests, 3)
    srv.proc.send_signal(signal.SIGQUIT)
    # the idle connection: GOAWAY and close at once
    assert idle.goaway(timeout=3).error_code == 0
    assert idle.eof(3)
    # the busy one: GOAWAY, the response, then close
    status, _, body, rst, _ = busy.response(1, timeout=5)
    assert (status, body, rst) == (200, b"slow done\n", None)
    assert any(isinstance(f, GoAwayFrame) for f in busy.frames)
    assert busy.eof(5)
    srv.proc.wait(10)
    idle.close()
    busy.close()


def _load(port, tls, stop, stats):
    """A client that follows RFC 9113 6.8: after GOAWAY it opens no new
    stream on the connection; streams above the last stream id were not
    processed and are retried on a new connection; every other stream
    must complete."""
    from hyperframe.frame import HeadersFrame, DataFrame
    scheme = "https" if tls else "http"
    while not stop.is_set():
        try:
            c = RawH2(port, tls=tls, timeout=5)
        except OSError:
            stats["connect_errors"] += 1
            time.sleep(0.05)
            continue
        sid, outstanding, last = 1, {}, None
        try:
            while outstanding or (last is None and not stop.is_set()
                                  and sid < 200):
                while last is None and len(outstanding) < 5 \
                        and not stop.is_set() and sid < 200:
                    c.get(sid, "/10k.bin", scheme=scheme)
                    outstanding[sid] = [None, 0]
                    sid += 2
                if not outstanding:
                    break
                f = c.next_frame()
                if isinstance(f, GoAwayFrame):
                    last = f.last_stream_id if last is None \
                        else min(last, f.last_stream_id)
                    continue
                st = outstanding.get(f.stream_id)
                if st is None:
                    continue
                if isinstance(f, HeadersFrame):
                    st[0] = dict(f.decoded or []).get(":status")
                elif isinstance(f, DataFrame):
                    st[1] += len(f.data)
                elif isinstance(f, RstStreamFrame):
                    stats["reset"] += 1
                    del outstanding[f.stream_id]
                    continue
                if "END_STREAM" in getattr(f, "flags", ()):
                    if st == ["200", 10240]:
                        stats["ok"] += 1
                    else:
                        stats["bad"] += 1
                    del outstanding[f.stream_id]
        except (Closed, OSError):
            pass
        for s_ in outstanding:
            if last is not None and s_ > last:
                stats["retried"] += 1
            else:
                stats["lost"] += 1
        c.close()


@pytest.mark.parametrize("name", ["nginx-h2x", "nginx-builtin"])
def test_reload_under_load(server_factory, name):
    srv = server_factory.nginx((name,))
    t = srv.target(name)
    stop = threading.Event()
    stats = {k: 0 for k in ("ok", "bad", "reset", "lost", "retried",
                            "connect_errors")}
    threads = [threading.Thread(target=_load, args=(port, tls, stop, stats))
               for port, tls in [(t.h2c_port, False), (t.tls_port, True)] * 3]
    for th in threads:
        th.start()
    try:
        time.sleep(0.5)
        srv.reload()
        time.sleep(0.5)
        srv.reload()
        time.sleep(0.5)
    finally:
        stop.set()
        for th in threads:
            th.join(30)
    assert stats["ok"] > 30, stats
    assert (stats["bad"], stats["reset"], stats["lost"]) == (0, 0, 0), stats


# --- accounting ----------------------------------------------------------------------

def test_stub_status_balanced(server_factory):
    srv, t = h2x_server(server_factory,
                        "location = /stub { stub_status; }")
    conns = [RawH2(t.h2c_port) for _ in range(3)]
    for c in conns:
        for sid in range(1, 40, 2):
            c.get(sid, "/10k.bin", scheme="http")
        for sid in range(1, 40, 2):
            assert c.response(sid)[0] == 200
    r = curl(t.url("stub", "http"), "--http1.1")
    assert re.search(rb"Active connections: 4 ", r.body), r.body
    for c in conns:
        c.close()

    def balanced():
        r = curl(t.url("stub", "http"), "--http1.1")
        m = re.search(rb"Active connections: (\d+) .*Reading: (\d+) "
                      rb"Writing: (\d+) Waiting: (\d+)", r.body, re.S)
        return m and m.groups() == (b"1", b"0", b"1", b"0")
    assert wait_for(balanced, 3)


# --- PROXY protocol, SNI, side by side ------------------------------------------

def test_proxy_protocol(server_factory):
    clear, tls = free_ports(2)
    extra = ("listen 127.0.0.1:%d proxy_protocol;\n"
             "listen 127.0.0.1:%d ssl proxy_protocol;\n"
             "location = /pp { return 200 \"$proxy_protocol_addr $h2x\\n\"; }"
             % (clear, tls))
    srv, t = h2x_server(server_factory, extra)
    r = curl("http://localhost:%d/pp" % clear, "--haproxy-protocol",
             "--http2-prior-knowledge")
    assert (r.status, r.http_version, r.body) == (200, "2", b"127.0.0.1 h2c\n")
    r = curl("https://localhost:%d/pp" % tls, "--haproxy-protocol",
             "--http2", "-k")
    assert (r.status, r.http_version, r.body) == (200, "2", b"127.0.0.1 h2\n")
    r = curl("http://localhost:%d/pp" % clear, "--haproxy-protocol",
             "--http1.1")
    assert (r.status, r.body) == (200, b"127.0.0.1 \n")


def test_sni_side_by_side(server_factory):
    """One TLS port, two servers: a.test with h2x, b.test with the
    builtin (listen ... http2); and a third with neither (HTTP/1.1)."""
    port, = free_ports(1)
    ret = "location / { return 200 \"$server_name h2x=$h2x http2=$http2\\n\"; }"
    extra = "\n".join([
        "server { listen 127.0.0.1:%d ssl http2; server_name a.test; "
        "h2x on; %s }" % (port, ret),
        "server { listen 127.0.0.1:%d ssl http2; server_name b.test; %s }"
        % (port, ret),
    ])
    port2, = free_ports(1)
    extra += "\nserver { listen 127.0.0.1:%d ssl; server_name c.test; %s }" \
        % (port2, ret)
    srv = server_factory.nginx(("nginx-h2x",), http_extra=extra)
    for name, expect in (("a.test", b"a.test h2x=h2 http2=\n"),
                         ("b.test", b"b.test h2x= http2=h2\n")):
        r = curl("https://%s:%d/" % (name, port), "--http2", "-k",
                 "--resolve", "%s:%d:127.0.0.1" % (name, port))
        assert (r.status, r.http_version, r.body) == (200, "2", expect)
        r = curl("https://%s:%d/" % (name, port), "--http1.1", "-k",
                 "--resolve", "%s:%d:127.0.0.1" % (name, port))
        assert (r.status, r.http_version) == (200, "1.1")
    r = curl("https://c.test:%d/" % port2, "--http2", "-k",
             "--resolve", "c.test:%d:127.0.0.1" % port2)
    assert (r.status, r.http_version, r.body) == \
        (200, "1.1", b"c.test h2x= http2=\n")


def test_h2x_off_server_keeps_builtin(server_factory):
    """h2x on at http level, off in one server: that one stays builtin."""
    port, = free_ports(1)
    extra = ("h2x on;\nserver { listen 127.0.0.1:%d ssl http2; h2x off; "
             "location / { return 200 \"h2x=$h2x http2=$http2\\n\"; } }"
             % port)
    srv = server_factory.nginx(("nginx-h2x",), http_extra=extra)
    r = curl("https://localhost:%d/" % port, "--http2", "-k")
    assert (r.status, r.body) == (200, b"h2x= http2=h2\n")


# --- the static build ----------------------------------------------------------------

class _StaticNginx(NginxServer):
    def command(self, test=False):
        return [self.binary] + super().command(test)[1:]

    def required_files(self):
        return [self.binary]


@pytest.mark.slow
def test_static_build_serves_h2(h2x_site):
    if os.geteuid() != 0 and not sn.have_source():
        pytest.skip("not root and no %s" % sn.ORIG)
    built = sn.build(jobs=2)
    srv = _StaticNginx(("nginx-h2x",), workdir=h2x_site.workdir("static-h2"),
                       docroot=h2x_site.docroot, cert=h2x_site.cert,
                       load_h2x=False, server_extra="h2x on;\n"
                       "location = /v { return 200 \"$h2x\\n\"; }")
    srv.binary = built["binary"]
    try:
        srv.start()
        t = srv.target("nginx-h2x")
        for scheme, flag, proto in (("https", ["--http2", "-k"], b"h2\n"),
                                    ("h2c", ["--http2-prior-knowledge"],
                                     b"h2c\n")):
            r = curl(t.url("1m.bin", scheme), *flag)
            assert (r.status, r.http_version, r.body) == \
                (200, "2", doc("1m.bin"))
            r = curl(t.url("v", scheme), *flag)
            assert r.body == proto
    finally:
        srv.stop()


def _worker_fds(srv):
    pids = srv.pids()[1:]
    return sum(len(os.listdir("/proc/%d/fd" % p)) for p in pids)


def test_no_fd_leak_after_aborts(server_factory):
    """Streams reset or cut off while their file is half written (the
    engine keeps a duplicate of the descriptor until it lets go), then
    the connections dropped: the worker ends with the descriptors it
    had."""
    srv, t = h2x_server(server_factory, "sendfile on;")
    # the worker runs (the master opens the ports) and has served once
    r = curl(t.url("index.html", "h2c"), "--http2-prior-knowledge")
    assert r.status == 200
    assert wait_for(lambda: len(srv.pids()) == 2, 5)
    time.sleep(0.2)
    before = _worker_fds(srv)
    for round_ in range(3):
        conns = []
        for tls in (False, True):
            c = RawH2(t.tls_port if tls else t.h2c_port, tls=tls,
                      window=65535)
            c.window_updates = False
            for sid in range(1, 21, 2):
                c.get(sid, "/1m.bin", scheme="https" if tls else "http")
            conns.append(c)
        time.sleep(0.3)
        for c in conns[:1]:
            for sid in range(1, 11, 2):
                c.send(RstStreamFrame(sid, error_code=8))
        time.sleep(0.2)
        for c in conns:
            c.close()
    if not wait_for(lambda: _worker_fds(srv) == before, 5):
        pid = srv.pids()[1]
        fds = {f: os.readlink("/proc/%d/fd/%s" % (pid, f))
               for f in os.listdir("/proc/%d/fd" % pid)}
        raise AssertionError((before, fds, read(srv.error_log)[-3000:]))
    r = curl(t.url("1m.bin", "h2c"), "--http2-prior-knowledge")
    assert r.body == doc("1m.bin")


def test_stress_random_resets(server_factory, backend):
    """Connections with 100 streams each over static files, proxied
    responses and uploads, about half of them reset at random moments and
    some connections dropped: every stream that is not reset completes,
    the worker never crashes, and stub_status ends balanced."""
    import random
    from hyperframe.frame import HeadersFrame, DataFrame
    rnd = random.Random(4242)
    sink, = free_ports(1)
    srv, t = h2x_server(
        server_factory,
        "location = /stub { stub_status; }\n"
        "location /p/ { proxy_pass http://127.0.0.1:%d/; }\n"
        "location /up/ { client_max_body_size 10m; "
        "client_body_buffer_size 64k; "
        "proxy_pass http://127.0.0.1:%d/; }" % (sink, sink),
        http_extra="server { listen 127.0.0.1:%d; root %s; location = /sink "
        "{ client_max_body_size 10m; return 204; } }"
        % (sink, srv_docroot(server_factory)))
    paths = ["/1m.bin", "/10k.bin", "/p/1m.bin", "/p/index.html"]
    for round_ in range(3):
        conns = []
        for i in range(4):
            tls = bool(i % 2)
            c = RawH2(t.tls_port if tls else t.h2c_port, tls=tls,
                      timeout=10)
            c.scheme = "https" if tls else "http"
            c.reset = set()
            conns.append(c)
            for sid in range(1, 201, 2):
                if sid % 10 == 1:
                    c.get(sid, "/up/sink", method="POST", end_stream=False,
                          scheme=c.scheme)
                    c.data(sid, b"x" * 15000)
                    c.data(sid, b"x" * 15000, end_stream=True)
                else:
                    c.get(sid, rnd.choice(paths), scheme=c.scheme)
                if rnd.random() < 0.5:
                    c.reset.add(sid)
        for c in conns:
            for sid in sorted(c.reset, key=lambda _: rnd.random()):
                c.send(RstStreamFrame(sid, error_code=8))
        dropped = conns[-1] if round_ % 2 else None
        if dropped:
            dropped.close()
        for c in conns:
            if c is dropped:
                continue
            for sid in range(1, 201, 2):
                if sid in c.reset:
                    continue
                try:
                    status, _, body, rst, _ = c.response(sid, timeout=20)
                except (Closed, OSError) as e:
                    notes = [l for l in read(srv.error_log).splitlines()
                             if "buffered to a temporary" not in l
                             and ("[info]" in l or "[alert]" in l
                                  or "[crit]" in l or "[error]" in l)]
                    raise AssertionError((sid, repr(e), notes[-20:]))
                assert rst is None and status in (200, 204), (sid, status)
            c.close()
    r = curl(t.url("1m.bin", "h2c"), "--http2-prior-knowledge")
    assert (r.status, r.body) == (200, doc("1m.bin"))

    def balanced():
        r = curl(t.url("stub", "http"), "--http1.1")
        return re.search(rb"Active connections: 1 ", r.body)
    assert wait_for(balanced, 5)
    log = read(srv.error_log)
    assert "[alert]" not in log and "[crit]" not in log
    assert "exited on signal" not in log


def srv_docroot(server_factory):
    return server_factory.site.docroot


def test_send_timeout(server_factory):
    """send_timeout: a stream stuck on a zero window is reset while its
    connection goes on; a client that stops reading loses its
    connection."""
    import socket
    srv, t = h2x_server(server_factory, "send_timeout 1s;")
    with RawH2(t.h2c_port, timeout=10) as c:
        c.window_updates = False
        c.get(1, "/1m.bin", scheme="http")
        start = time.monotonic()
        c.wait(RstStreamFrame, timeout=8, pred=lambda f: f.stream_id == 1)
        assert 0.8 < time.monotonic() - start < 6
        # the connection window the reset stream used, back
        c.window_updates = True
        c.send(WindowUpdateFrame(0, 65535))
        c.get(3, "/index.html", scheme="http")
        status, _, body, rst, _ = c.response(3)
        assert (status, body, rst) == (200, doc("index.html"), None)
    assert "client timed out" in read(srv.error_log)

    c = RawH2(t.h2c_port, timeout=10, window=0x7fffffff)
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    c.send(WindowUpdateFrame(0, 0x7fffffff - 65535))
    for sid in range(1, 41, 2):
        c.get(sid, "/1m.bin", scheme="http")
    time.sleep(3)          # not reading: the server's writes block
    # what was sent drains, then the connection is closed
    assert c.eof(10)
    c.close()
    assert "client timed out" in read(srv.error_log)
