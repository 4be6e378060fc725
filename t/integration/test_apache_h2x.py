"""mod_h2x in Apache: takeover, request processing, coexistence.

One Apache with mod_h2x *and* mod_http2 loaded serves both apache
targets (h2x vhosts with `H2XEngine on`, the others left to mod_http2),
with mod_cgid, mod_deflate, mod_proxy, mod_rewrite and the h2x status
handler.  CGIs report which implementation ran them (env H2X=on).
Tests that need their own config or a restart start their own server.
"""

import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import threading
import time

import pytest

import h2.config
import h2.connection
import h2.events
import h2.exceptions

import h2xservers
from h2xtest import doc
from h2xtest.clients import (curl, curl_h2_tls, curl_h2c, curl_http1,
                             h2load, nghttp)

TARGETS = ("apache-h2x", "apache-builtin")

CGIS = {
    "env.cgi": "#!/bin/sh\necho 'Content-Type: text/plain'\necho\nenv\n",
    "slow.cgi": "#!/bin/sh\nsleep ${QUERY_STRING:-2}\n"
                "echo 'Content-Type: text/plain'\necho\necho slow\n",
    "md5.cgi": "#!/bin/sh\necho 'Content-Type: text/plain'\necho\n"
               "md5sum | cut -c1-32\n",
    "limited.cgi": "#!/bin/sh\necho 'Content-Type: text/plain'\necho\n"
                   "wc -c\n",
    "drip.cgi": "#!/bin/sh\necho 'Content-Type: application/x-drip'\n"
                "echo\n"
                "i=0; while [ $i -lt 20 ]; do echo line $i; i=$((i+1));"
                " sleep 0.5; done\n",
}

TEXT = b"".join(b"line %06d of a compressible text file\n" % i
                for i in range(4000))


def make_site(root):
    """A docroot with the standard files, CGIs and a text file."""
    docroot = h2xservers.make_docroot(os.path.join(root, "htdocs"))
    cgi = os.path.join(docroot, "cgi")
    os.makedirs(cgi, exist_ok=True)
    for name, text in CGIS.items():
        path = os.path.join(cgi, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o755)
    with open(os.path.join(docroot, "big.txt"), "wb") as f:
        f.write(TEXT)
    with open(os.path.join(docroot, "err.html"), "wb") as f:
        f.write(b"custom error page\n")
    os.makedirs(os.path.join(docroot, "dir"), exist_ok=True)
    with open(os.path.join(docroot, "dir", "index.html"), "wb") as f:
        f.write(b"dir index\n")
    return docroot


def global_config(docroot, proxy_port):
    return """
ScriptSock cgid.sock
<Directory {d}/cgi>
    Options +ExecCGI
    AddHandler cgi-script .cgi
    Require all granted
</Directory>
<Location /cgi/limited.cgi>
    LimitRequestBody 1024
</Location>
<Directory {d}>
    RewriteEngine on
    RewriteRule ^renamed\\.html$ index.html [L]
</Directory>
AddOutputFilterByType DEFLATE text/plain
ErrorDocument 404 /err.html
<Location /h2x-status>
    SetHandler h2x-status
</Location>
ProxyPass /proxy/ http://127.0.0.1:{p}/
ProxyPassReverse /proxy/ http://127.0.0.1:{p}/
Header always set X-Expr-HTTP2 "expr=%{{HTTP2}}"
""".format(d=docroot, p=proxy_port)


EXTRA_MODULES = ["cgid", "deflate", "filter", "proxy", "proxy_http",
                 "rewrite"]


def make_server(site, targets=TARGETS, load_http2=True, global_extra="",
                vhost_extra="", mpm=None, **kw):
    """An ApacheServer on its own docroot (not started)."""
    root = site.workdir("apache-mod")
    docroot = make_site(root)
    srv = _Apache(targets, workdir=os.path.join(root, "srv"),
                  docroot=docroot, cert=site.cert, load_http2=load_http2,
                  extra_modules=EXTRA_MODULES, vhost_extra=vhost_extra,
                  log_level="info ssl:warn h2x:debug", **kw)
    srv.mpm = mpm
    any_t = next(iter(srv.targets.values()))
    srv.global_extra = global_config(docroot, any_t.http1_port) + \
        global_extra
    return srv


class _Apache(h2xservers.ApacheServer):
    """ApacheServer whose MPM can be swapped (mpm_worker, mpm_prefork)."""

    mpm = None

    def modules(self):
        names = super().modules()
        if self.mpm:
            names = [self.mpm if n == "mpm_event" else n for n in names]
        return names

    def render(self):
        text = super().render()
        if self.mpm == "mpm_prefork":
            text = re.sub(r"(?m)^(ThreadsPerChild|MinSpareThreads|"
                          r"MaxSpareThreads) .*\n", "", text)
        return text


SNI_VHOSTS = """
Listen 127.0.0.1:{port}
<VirtualHost 127.0.0.1:{port}>
    ServerName h2x.test
    Protocols h2 http/1.1
    SSLEngine on
    H2XEngine on
    H2Upgrade off
</VirtualHost>
<VirtualHost 127.0.0.1:{port}>
    ServerName std.test
    Protocols h2 http/1.1
    SSLEngine on
</VirtualHost>
"""


@pytest.fixture(scope="module")
def both(h2x_site):
    """mod_h2x and mod_http2 in one Apache, one vhost set each, plus two
    name-based TLS vhosts on one port (h2x.test: h2x, std.test: mod_http2).
    """
    port = h2xservers.free_ports(1)[0]
    srv = make_server(h2x_site, global_extra=SNI_VHOSTS.format(port=port))
    srv.sni_port = port
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def h2x(both, request):
    t = both.target("apache-h2x")
    return t


@pytest.fixture(params=TARGETS)
def each(both, request):
    return both.target(request.param)


def env_of(body):
    return dict(l.split("=", 1) for l in body.decode().splitlines()
                if "=" in l)


# --- a small raw HTTP/2 client ----------------------------------------------

class Raw:
    """python3-h2 over a real socket (TLS with ALPN h2, or h2c)."""

    def __init__(self, port, tls=True, timeout=10):
        s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        if tls:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            ctx.set_alpn_protocols(["h2"])
            s = ctx.wrap_socket(s, server_hostname="localhost")
            assert s.selected_alpn_protocol() == "h2"
        self.sock = s
        self.scheme = "https" if tls else "http"
        self.conn = h2.connection.H2Connection(h2.config.H2Configuration(
            client_side=True, header_encoding="utf-8"))
        self.conn.initiate_connection()
        self.flush()
        self.events = []
        self.closed = False
        self.buf = b""
        self.goaway_seen = False

    def flush(self):
        data = self.conn.data_to_send()
        if data:
            self.sock.sendall(data)

    def request(self, path, method="GET", headers=(), end_stream=True):
        sid = self.conn.get_next_available_stream_id()
        hdrs = [(":method", method), (":scheme", self.scheme),
                (":authority", "localhost"), (":path", path)]
        self.conn.send_headers(sid, hdrs + list(headers),
                               end_stream=end_stream)
        self.flush()
        return sid

    def pump(self, until, timeout=10):
        end = time.monotonic() + timeout
        while not until(self.events) and time.monotonic() < end:
            self.sock.settimeout(max(0.05, end - time.monotonic()))
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                break
            if not data:
                self.closed = True
                break
            self.buf += data
            # frame by frame: python3-h2 refuses every frame after a
            # GOAWAY (even the PING of a graceful shutdown), and raising
            # would lose the events of the frames before it
            while len(self.buf) >= 9:
                n = 9 + int.from_bytes(self.buf[:3], "big")
                if len(self.buf) < n:
                    break
                frame, self.buf = self.buf[:n], self.buf[n:]
                if self.goaway_seen:
                    continue
                try:
                    events = self.conn.receive_data(frame)
                except h2.exceptions.ProtocolError:
                    self.goaway_seen = True
                    continue
                for e in events:
                    self.events.append(e)
                    if isinstance(e, h2.events.ConnectionTerminated):
                        self.goaway_seen = True
                    if isinstance(e, h2.events.DataReceived):
                        self.conn.acknowledge_received_data(
                            e.flow_controlled_length, e.stream_id)
            self.flush()
        return until(self.events)

    def of(self, sid, kind):
        return [e for e in self.events if isinstance(e, kind)
                and getattr(e, "stream_id", None) == sid]

    def ended(self, sid):
        return lambda evs: any(
            isinstance(e, (h2.events.StreamEnded, h2.events.StreamReset))
            and e.stream_id == sid for e in evs)

    def body(self, sid):
        return b"".join(e.data for e in self.of(sid, h2.events.DataReceived))

    def status(self, sid):
        r = self.of(sid, h2.events.ResponseReceived)
        return int(dict(r[0].headers)[":status"]) if r else None

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


# --- takeover and coexistence -----------------------------------------------

@pytest.mark.parametrize("scheme", ["https", "h2c"])
def test_coexistence_which_engine(each, scheme):
    """h2x serves its vhosts, mod_http2 the others, in one server."""
    if scheme == "https":
        r = curl_h2_tls(each, "/cgi/env.cgi")
    else:
        r = curl_h2c(each, "/cgi/env.cgi")
    assert (r.status, r.http_version) == (200, "2"), r.stderr
    env = env_of(r.body)
    assert env.get("HTTP2") == "on"
    assert env.get("SERVER_PROTOCOL") == "HTTP/2.0"
    if each.name == "apache-h2x":
        assert env.get("H2X") == "on"
        assert re.fullmatch(r"\d+", env.get("H2_STREAM_ID", ""))
    else:
        assert "H2X" not in env
    assert env.get("HTTPS") == ("on" if scheme == "https" else None)


def raw_env(target, extra, authority="localhost", sid=1):
    """CGI environment of one raw request on its own connection."""
    from h2xtest.raw import connect
    c = connect(target, tls=True)
    try:
        for s in range(1, sid, 2):
            c.send(c.request(s, "/index.html"))
            c.response(s, timeout=10)
        c.send(c.request(sid, "/cgi/env.cgi", extra=extra,
                         authority=authority))
        status, _, body, rst, _ = c.response(sid, timeout=10)
    finally:
        c.close()
    assert (status, rst) == (200, None)
    return env_of(body)


def test_env_original_host(each):
    """As mod_http2: :authority wins, the Host it replaced is kept in
    H2_ORIGINAL_HOST (docs/compat.md)."""
    env = raw_env(each, [("host", "other.example:8443")])
    assert env.get("HTTP_HOST") == "localhost"
    assert env.get("SERVER_NAME") == "localhost"
    if each.name == "apache-h2x":
        # mod_http2 2.4 sets it on its request too, but it does not reach
        # a CGI's environment
        assert env.get("H2_ORIGINAL_HOST") == "other.example:8443"
    env = raw_env(each, [("host", "localhost")])
    assert "H2_ORIGINAL_HOST" not in env


def test_env_stream_tag(each):
    """H2_STREAM_ID and H2_STREAM_TAG ("<pid>-<connection>-<stream>")."""
    env = raw_env(each, [], sid=5)
    assert env.get("H2_STREAM_ID") == "5"
    assert re.fullmatch(r"\d+-\d+-5", env.get("H2_STREAM_TAG", "")), env


def test_env_value_whitespace_stripped(each):
    """As mod_http2: SP/HTAB around a request field value are stripped."""
    env = raw_env(each, [("x-h2x-test", " \tspaced  value\t ")])
    assert env.get("HTTP_X_H2X_TEST") == "spaced  value"


@pytest.mark.parametrize("host", ["h2x.test", "std.test"])
def test_coexistence_by_sni(both, host):
    """One TLS port, two name-based hosts: SNI decides the engine."""
    port = both.sni_port
    r = curl("https://%s:%d/cgi/env.cgi" % (host, port), "--http2", "-k",
             "--resolve", "%s:%d:127.0.0.1" % (host, port))
    assert (r.status, r.http_version) == (200, "2"), r.stderr
    env = env_of(r.body)
    assert env.get("HTTP2") == "on"
    assert env.get("SERVER_NAME") == host
    assert ("H2X" in env) == (host == "h2x.test")


@pytest.mark.parametrize("tls", [True, False], ids=["tls", "clear"])
def test_http1_unaffected(each, tls):
    r = curl_http1(each, "/cgi/env.cgi", tls=tls)
    assert (r.status, r.http_version) == (200, "1.1")
    env = env_of(r.body)
    assert "H2X" not in env and env.get("HTTP2") != "on"
    r = curl_http1(each, "/1m.bin", tls=tls)
    assert r.body == doc("1m.bin")


def test_upgrade_h2c_stays_http1(h2x):
    """Upgrade: h2c is not offered by h2x: the request stays HTTP/1.1."""
    r = curl(h2x.url("/index.html", "http"), "--http2")
    assert (r.status, r.http_version) == (200, "1.1")
    assert r.body == doc("index.html")


def test_expr_http2(each):
    """%{HTTP2} is "on" for both engines (optional fn chained)."""
    r = curl_h2_tls(each, "/index.html", "-D", "/dev/stderr")
    assert r.status == 200
    assert re.search(r"(?im)^x-expr-http2: on\r?$", r.stderr), r.stderr
    r = curl_http1(each, "/index.html", False, "-D", "/dev/stderr")
    assert re.search(r"(?im)^x-expr-http2: off\r?$", r.stderr), r.stderr


# --- request processing ----------------------------------------------------

@pytest.mark.parametrize("scheme", ["https", "h2c"])
def test_multiplexing_slow_cgi(each, scheme):
    """A slow CGI does not hold up other streams of the connection."""
    urls = [each.url("/cgi/slow.cgi?2", scheme), each.url("/index.html",
            scheme), each.url("/1m.bin", scheme)]
    r = nghttp(urls[0], "-s", *urls[1:], timeout=15)
    assert r.returncode == 0, r.output[-2000:]
    ends = {}
    for m in re.finditer(r"^\s*\d+\s+\+([\d.]+)(us|ms|s)\s+\+\S+\s+\S+\s+"
                         r"(\d+)\s+\S+\s+(\S+)$", r.output, re.M):
        v, unit, code, path = m.groups()
        ends[path] = float(v) * {"us": 1e-6, "ms": 1e-3, "s": 1}[unit]
        assert code == "200", r.output
    assert set(ends) == {"/cgi/slow.cgi?2", "/index.html", "/1m.bin"}, \
        r.output
    assert ends["/index.html"] < 1.0 and ends["/1m.bin"] < 1.0, r.output
    assert ends["/cgi/slow.cgi?2"] >= 1.9, r.output


@pytest.mark.parametrize("tls", [True, False], ids=["tls", "clear"])
@pytest.mark.parametrize("length", [True, False], ids=["cl", "no-cl"])
def test_request_body(each, tls, length):
    """Bodies with and without content-length reach the handler whole."""
    import hashlib
    body = os.urandom(700 * 1024 + 17)
    raw = Raw(each.tls_port if tls else each.h2c_port, tls)
    try:
        hdrs = [("content-length", str(len(body)))] if length else []
        sid = raw.request("/cgi/md5.cgi", "POST", hdrs, end_stream=False)
        sent = 0
        while sent < len(body):
            window = min(raw.conn.local_flow_control_window(sid),
                         raw.conn.max_outbound_frame_size)
            if window <= 0:
                raw.pump(lambda evs: raw.conn.local_flow_control_window(
                    sid) > 0, timeout=10)
                assert raw.conn.local_flow_control_window(sid) > 0, \
                    "flow-control window never reopened"
                continue
            piece = body[sent:sent + window]
            sent += len(piece)
            raw.conn.send_data(sid, piece, end_stream=sent == len(body))
            raw.flush()
        assert raw.pump(raw.ended(sid), timeout=20)
        assert raw.status(sid) == 200
        assert raw.body(sid).strip().decode() == \
            hashlib.md5(body).hexdigest()
    finally:
        raw.close()


@pytest.mark.parametrize("length", [True, False], ids=["cl", "no-cl"])
def test_limit_request_body_413(each, length):
    raw = Raw(each.tls_port, True)
    try:
        body = b"x" * 5000
        hdrs = [("content-length", str(len(body)))] if length else []
        sid = raw.request("/cgi/limited.cgi", "POST", hdrs,
                          end_stream=False)
        raw.conn.send_data(sid, body, end_stream=True)
        raw.flush()
        raw.pump(raw.ended(sid))
        assert raw.status(sid) == 413
        # the connection stays usable
        sid2 = raw.request("/index.html")
        assert raw.pump(raw.ended(sid2))
        assert raw.status(sid2) == 200
        assert raw.body(sid2) == doc("index.html")
    finally:
        raw.close()


@pytest.mark.parametrize("tls", [True, False], ids=["tls", "clear"])
def test_expect_100_continue(each, tls):
    """The interim 100 arrives before the client sends the body."""
    raw = Raw(each.tls_port if tls else each.h2c_port, tls)
    try:
        sid = raw.request("/cgi/md5.cgi", "POST",
                          [("expect", "100-continue")], end_stream=False)
        assert raw.pump(lambda evs: raw.of(
            sid, h2.events.InformationalResponseReceived))
        info = raw.of(sid, h2.events.InformationalResponseReceived)[0]
        assert dict(info.headers)[":status"] == "100"
        raw.conn.send_data(sid, b"hello world", end_stream=True)
        raw.flush()
        assert raw.pump(raw.ended(sid))
        assert raw.status(sid) == 200
        assert raw.body(sid).strip() == b"5eb63bbbe01eeed093cb22bb8f5acdc3"
    finally:
        raw.close()


def test_request_trailers(each):
    """A body ended by trailers (no content-length) arrives whole."""
    raw = Raw(each.tls_port, True)
    try:
        sid = raw.request("/cgi/md5.cgi", "POST", end_stream=False)
        raw.conn.send_data(sid, b"hello ")
        raw.conn.send_data(sid, b"world")
        raw.conn.send_headers(sid, [("x-checksum", "none")],
                              end_stream=True)
        raw.flush()
        assert raw.pump(raw.ended(sid))
        assert raw.status(sid) == 200
        assert raw.body(sid).strip() == b"5eb63bbbe01eeed093cb22bb8f5acdc3"
    finally:
        raw.close()


class _TrailerBackend(threading.Thread):
    """HTTP/1.1 origin answering chunked with a trailer field."""

    def __init__(self):
        super().__init__(daemon=True)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]

    def run(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            with c:
                c.settimeout(5)
                data = b""
                while b"\r\n\r\n" not in data:
                    piece = c.recv(4096)
                    if not piece:
                        break
                    data += piece
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                          b"Transfer-Encoding: chunked\r\n"
                          b"Trailer: x-digest\r\nConnection: close\r\n\r\n"
                          b"5\r\nhello\r\n0\r\nx-digest: abc123\r\n\r\n")


def test_response_trailers(h2x_site, request):
    """r->trailers_out (here: mod_proxy_http forwarding an origin's
    trailers) goes out as a trailing HEADERS frame."""
    backend = _TrailerBackend()
    backend.start()
    request.addfinalizer(backend.sock.close)
    srv = make_server(h2x_site, ("apache-h2x",), load_http2=False,
                      global_extra="ProxyPass /trl/ http://127.0.0.1:%d/\n"
                      % backend.port)
    srv.start()
    request.addfinalizer(srv.stop)
    t = srv.target("apache-h2x")
    raw = Raw(t.tls_port, True)
    try:
        sid = raw.request("/trl/x")
        assert raw.pump(raw.ended(sid))
        assert raw.status(sid) == 200
        assert raw.body(sid) == b"hello"
        tr = raw.of(sid, h2.events.TrailersReceived)
        assert tr and dict(tr[0].headers).get("x-digest") == "abc123", \
            raw.events
    finally:
        raw.close()


def test_data_beyond_stream_window(each):
    """DATA past the stream window while the handler has not read:
    FLOW_CONTROL_ERROR (the window is credited on consumption only)."""
    from hyperframe import frame as hf
    from h2xtest.raw import connect
    w = connect(each, False)
    try:
        w.send(w.request(1, "/cgi/slow.cgi?2", "POST",
                               end_stream=False))
        try:
            w.send(*[hf.DataFrame(1, b"x" * 16384) for _ in range(6)])
        except OSError:
            pass
        w.read(lambda fs: w.last_goaway() is not None
               or w.of(hf.RstStreamFrame, 1))
        errs = [f.error_code for f in w.of(hf.RstStreamFrame, 1)]
        if w.last_goaway() is not None:
            errs.append(w.last_goaway().error_code)
        assert 0x3 in errs, errs
    finally:
        w.close()


def test_head(each):
    r = curl_h2_tls(each, "/10k.bin", "-I")
    assert (r.status, r.http_version) == (200, "2")
    assert r.body.startswith(b"HTTP/2 200")
    assert re.search(rb"(?im)^content-length: 10240\r?$", r.body)
    r = curl_h2_tls(each, "/cgi/env.cgi", "-I")
    assert r.status == 200


def test_error_document(each):
    r = curl_h2_tls(each, "/missing.html")
    assert r.status == 404
    assert r.body == b"custom error page\n"


def test_rewrite_and_directory_index(each):
    r = curl_h2_tls(each, "/renamed.html")
    assert (r.status, r.body) == (200, doc("index.html"))
    r = curl_h2_tls(each, "/dir/")
    assert (r.status, r.body) == (200, b"dir index\n")
    r = curl_h2_tls(each, "/dir")
    assert r.status == 301


def test_deflate(each):
    r = curl_h2_tls(each, "/big.txt", "--compressed", "-D", "/dev/stderr")
    assert r.status == 200
    assert re.search(r"(?im)^content-encoding: gzip\r?$", r.stderr)
    assert r.body == TEXT


def test_proxy(each):
    r = curl_h2_tls(each, "/proxy/1m.bin")
    assert r.status == 200
    assert r.body == doc("1m.bin")


def test_streaming_cgi_is_not_buffered(h2x):
    """Output a CGI flushes reaches the client before the CGI ends."""
    proc = subprocess.Popen(
        ["curl", "-sSkN", "--http2", "--max-time", "20",
         h2x.url("/cgi/drip.cgi", "https")], stdout=subprocess.PIPE)
    try:
        t0 = time.monotonic()
        line = proc.stdout.readline()
        first = time.monotonic() - t0
        assert line == b"line 0\n"
        assert first < 3.0
    finally:
        proc.kill()
        proc.wait()


def test_client_reset_keeps_connection(h2x):
    """RST_STREAM on a running CGI: the others and the connection go on."""
    raw = Raw(h2x.tls_port, True)
    try:
        slow = raw.request("/cgi/slow.cgi?3")
        time.sleep(0.3)
        raw.conn.reset_stream(slow, 8)
        raw.flush()
        sids = [raw.request("/10k.bin") for _ in range(5)]
        for sid in sids:
            assert raw.pump(raw.ended(sid))
            assert raw.status(sid) == 200
            assert raw.body(sid) == doc("10k.bin")
        assert not raw.closed
    finally:
        raw.close()


def test_many_streams_one_connection(h2x):
    raw = Raw(h2x.h2c_port, False)
    try:
        sids = [raw.request("/10k.bin") for _ in range(60)]
        assert raw.pump(lambda evs: all(raw.ended(s)(evs) for s in sids),
                        timeout=20)
        for sid in sids:
            assert raw.status(sid) == 200
            assert raw.body(sid) == doc("10k.bin")
    finally:
        raw.close()


def test_status_json(h2x):
    for _ in range(3):
        assert curl_h2c(h2x, "/index.html").status == 200
    r = curl_h2c(h2x, "/h2x-status")
    assert r.status == 200
    st = json.loads(r.body)
    assert st["server"] == "apache"
    assert st["totals"]["streams"] >= 3
    assert st["frames_in"]["headers"] >= 3
    assert st["connections"]["total"] >= 4
    assert st["workers"]["threads"] >= 1
    for k in ("rapid_reset", "hpack_bomb", "settings_flood", "ping_flood"):
        assert k in st["abuse"]


# --- lifecycle and MPMs (own servers) --------------------------------------

def test_idle_timeout(h2x_site, request):
    srv = make_server(h2x_site, ("apache-h2x",), load_http2=False,
                      global_extra="KeepAliveTimeout 1\n")
    srv.start()
    request.addfinalizer(srv.stop)
    t = srv.target("apache-h2x")
    raw = Raw(t.h2c_port, False)
    try:
        sid = raw.request("/index.html")
        assert raw.pump(raw.ended(sid))
        t0 = time.monotonic()
        raw.pump(lambda evs: raw.closed or any(
            isinstance(e, h2.events.ConnectionTerminated) for e in evs),
            timeout=8)
        gone = [e for e in raw.events
                if isinstance(e, h2.events.ConnectionTerminated)]
        assert gone and gone[0].error_code == 0
        assert 0.5 < time.monotonic() - t0 < 5
    finally:
        raw.close()


@pytest.mark.parametrize("mpm", ["mpm_event", "mpm_worker"])
def test_graceful_stop_sends_goaway(h2x_site, request, mpm):
    """apachectl graceful-stop: open connections get a graceful GOAWAY."""
    srv = make_server(h2x_site, ("apache-h2x",), load_http2=False,
                      mpm=None if mpm == "mpm_event" else mpm)
    srv.start()
    request.addfinalizer(srv.stop)
    t = srv.target("apache-h2x")
    raw = Raw(t.h2c_port, False)
    try:
        sid = raw.request("/index.html")
        assert raw.pump(raw.ended(sid))
        srv.proc.send_signal(signal.SIGWINCH)
        raw.pump(lambda evs: any(isinstance(
            e, h2.events.ConnectionTerminated) for e in evs), timeout=5)
        gone = [e for e in raw.events
                if isinstance(e, h2.events.ConnectionTerminated)]
        assert gone and gone[0].error_code == 0, raw.events
    finally:
        raw.close()


def test_stream_timeout_zero_window(h2x_site, request):
    """A client that never opens its window: after H2XStreamTimeout the
    stream is reset, the worker is free and the connection lives on."""
    from h2.settings import SettingCodes
    srv = make_server(h2x_site, ("apache-h2x",), load_http2=False,
                      vhost_extra="H2XStreamTimeout 1\n")
    srv.start()
    request.addfinalizer(srv.stop)
    t = srv.target("apache-h2x")
    raw = Raw(t.h2c_port, False)
    try:
        raw.conn.update_settings({SettingCodes.INITIAL_WINDOW_SIZE: 0})
        raw.flush()
        t0 = time.monotonic()
        sid = raw.request("/1m.bin")
        assert raw.pump(raw.ended(sid), timeout=10)
        assert raw.of(sid, h2.events.StreamReset)
        assert 0.8 < time.monotonic() - t0 < 6
        sid2 = raw.request("/10k.bin", "HEAD")
        assert raw.pump(raw.ended(sid2))
        assert raw.status(sid2) == 200
    finally:
        raw.close()


def test_max_requests(h2x_site, request):
    """H2XMaxRequests: graceful GOAWAY after that many streams."""
    srv = make_server(h2x_site, ("apache-h2x",), load_http2=False,
                      vhost_extra="H2XMaxRequests 5\n")
    srv.start()
    request.addfinalizer(srv.stop)
    t = srv.target("apache-h2x")
    urls = [t.url("/index.html?%d" % i, "https") for i in range(7)]
    r = nghttp(urls[0], *urls[1:])
    assert r.statuses.count(200) == 5, r.output[-3000:]
    goaways = r.frames("recv", "GOAWAY")
    assert goaways, r.output[-3000:]
    assert "processed=5" in r.output, r.output[-3000:]


def test_mpm_worker(h2x_site, request):
    srv = make_server(h2x_site, ("apache-h2x",), load_http2=False,
                      mpm="mpm_worker")
    srv.start()
    request.addfinalizer(srv.stop)
    t = srv.target("apache-h2x")
    for scheme in ("https", "h2c"):
        r = nghttp(t.url("/cgi/slow.cgi?1", scheme), "-s",
                   t.url("/1m.bin", scheme))
        assert r.returncode == 0, r.output[-1500:]
        assert r.statuses == [200, 200], r.output[-1500:]
    r = curl_h2_tls(t, "/cgi/env.cgi")
    assert env_of(r.body).get("H2X") == "on"


def test_prefork_refuses(h2x_site, request):
    """On prefork h2x offers no HTTP/2 and says why; HTTP/1.1 works."""
    srv = make_server(h2x_site, ("apache-h2x",), load_http2=False,
                      mpm="mpm_prefork")
    srv.start()
    request.addfinalizer(srv.stop)
    t = srv.target("apache-h2x")
    r = curl_h2_tls(t, "/index.html")
    assert (r.status, r.http_version) == (200, "1.1")
    assert r.body == doc("index.html")
    with open(srv.error_log) as f:
        assert "AH10705" in f.read()


def test_graceful_restart_under_load(h2x_site, request):
    """apachectl graceful while h2load keeps requests in flight: every
    request the server accepted gets its whole response.

    h2load does not reconnect after GOAWAY, so a run ends at a restart and
    the next one starts; and it counts as "started" requests it had queued
    but not yet sent when GOAWAY arrived (the client library then refuses
    them), so the server's access log is the reference: every request it
    logged is one h2load received whole."""
    srv = make_server(h2x_site, ("apache-h2x",), load_http2=False)
    srv.start()
    request.addfinalizer(srv.stop)
    t = srv.target("apache-h2x")
    stop = threading.Event()
    runs = []

    def load():
        while not stop.is_set():
            runs.append(h2load(t.url("/10k.bin", "https"), n=20000, c=4,
                               m=10, timeout=60))

    th = threading.Thread(target=load)
    th.start()
    try:
        time.sleep(1.0)
        srv.reload()
        time.sleep(1.0)
        srv.reload()
        time.sleep(1.0)
    finally:
        stop.set()
        th.join(90)
    assert len(runs) >= 2, [r.output for r in runs]
    for r in runs:
        assert r.started > 0, r.output
        assert r.succeeded == r.status_2xx, r.output
        assert r.started - r.succeeded <= 4 * 10, r.output
    with open(srv.access_log) as f:
        lines = [l for l in f if "/10k.bin " in l]
    assert all('HTTP/2.0" 200 ' in l for l in lines), \
        [l for l in lines if 'HTTP/2.0" 200 ' not in l][:5]
    assert len(lines) == sum(r.succeeded for r in runs), \
        (len(lines), [r.output for r in runs])
    assert len(lines) > 1000


# --- Debian packaging ----------------------------------------------------

def test_a2enmod_enables_h2x(tmp_path):
    """mod_apache/h2x.load and h2x.conf work with Debian's a2enmod (and
    pull in no other module), and the pair passes `apache2 -t`."""
    a2enmod = shutil.which("a2enmod") or "/usr/sbin/a2enmod"
    if not os.path.exists(a2enmod):
        pytest.skip("a2enmod not installed")
    conf = tmp_path / "conf"
    (conf / "mods-available").mkdir(parents=True)
    (conf / "mods-enabled").mkdir()
    for name in ("h2x.load", "h2x.conf"):
        shutil.copy(os.path.join(h2xservers.REPO, "mod_apache", name),
                    conf / "mods-available" / name)
    env = dict(os.environ, APACHE_CONFDIR=str(conf),
               APACHE_ENVVARS="/dev/null")
    res = subprocess.run([a2enmod, "-q", "h2x"], env=env, text=True,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         timeout=30)
    assert res.returncode == 0, res.stdout
    assert sorted(os.listdir(conf / "mods-enabled")) == ["h2x.conf",
                                                         "h2x.load"]
    with open(conf / "mods-available" / "h2x.load") as f:
        load = f.read()
    assert re.search(r"(?m)^LoadModule h2x_module "
                     r"/usr/lib/apache2/modules/mod_h2x\.so$", load)
    # the pair, pointed at the built module, is valid configuration
    check = load.replace("/usr/lib/apache2/modules/mod_h2x.so",
                         h2xservers.APACHE_MODULE)
    with open(conf / "mods-available" / "h2x.conf") as f:
        check += f.read()
    check = ("LoadModule mpm_event_module %s/mod_mpm_event.so\n"
             "ServerName localhost\nPidFile {workdir}/x.pid\n"
             "ErrorLog {workdir}/error.log\n" % h2xservers.APACHE_MODULE_DIR
             ) + check.replace("{", "{{").replace("}", "}}")
    rc, out, _ = h2xservers.apache_check(check, str(tmp_path / "check"))
    assert rc == 0, out


# --- httpd's LimitRequest* govern h2x requests (docs/compat.md) -------------

@pytest.fixture(scope="module")
def limited(h2x_site):
    """Both engines with httpd's request limits changed: h2x must answer
    as mod_http2 does (414 / 431 / 200), not by its own defaults."""
    srv = make_server(h2x_site, global_extra="""
LimitRequestLine 1024
LimitRequestFieldSize 12000
LimitRequestFields 20
H2EarlyHints on
H2XEarlyHints on
<Location /10k.bin>
    H2EarlyHint Link "</style.css>;rel=preload;as=style"
    H2XEarlyHint Link "</style.css>;rel=preload;as=style"
</Location>
""")
    srv.start()
    yield srv
    srv.stop()


def raw_status(target, path="/index.html", extra=()):
    from h2xtest.raw import connect
    c = connect(target, tls=True)
    try:
        c.send(c.request(1, path, extra=list(extra)))
        status, _, _, rst, _ = c.response(1, timeout=10)
    finally:
        c.close()
    return status, rst


@pytest.mark.parametrize("name", TARGETS)
def test_limit_request_line(limited, name):
    t = limited.target(name)
    base = "/index.html?"
    assert raw_status(t, base + "x" * (1024 - len(base))) == (200, None)
    assert raw_status(t, base + "x" * (1025 - len(base))) == (414, None)


@pytest.mark.parametrize("name", TARGETS)
def test_limit_request_fields(limited, name):
    t = limited.target(name)
    fields = [("x%d" % i, "1") for i in range(20)]
    assert raw_status(t, extra=fields) == (200, None)
    assert raw_status(t, extra=fields + [("y", "2")]) == (431, None)


@pytest.mark.parametrize("name", TARGETS)
def test_limit_request_field_size(limited, name):
    """Above h2x's own 8192 default, up to LimitRequestFieldSize; fields
    of one name count joined with ", ", as in HTTP/1.1."""
    t = limited.target(name)
    assert raw_status(t, extra=[("x", "v" * 11000)]) == (200, None)
    assert raw_status(t, extra=[("x", "v" * 6000),
                                ("x", "v" * 5995)]) == (200, None)
    assert raw_status(t, extra=[("x", "v" * 6000),
                                ("x", "v" * 5996)]) == (431, None)


@pytest.mark.parametrize("name", TARGETS)
def test_early_hints(limited, name):
    """H2XEarlyHints / H2XEarlyHint as mod_http2's H2EarlyHints /
    H2EarlyHint: a 103 HEADERS frame (no END_STREAM) with the Link field
    before the final response."""
    from hyperframe.frame import HeadersFrame
    from h2xtest.raw import connect
    t = limited.target(name)
    c = connect(t, tls=True)
    try:
        c.send(c.request(1, "/10k.bin"))
        status, headers, body, rst, _ = c.response(1, timeout=10)
        heads = [f for f in c.of(HeadersFrame, 1)]
    finally:
        c.close()
    assert (status, rst) == (200, None)
    first = dict(heads[0].decoded)
    assert first[":status"] == "103"
    assert "END_STREAM" not in heads[0].flags
    assert first["link"] == "</style.css>;rel=preload;as=style"
    # httpd clears the response fields an interim response sent
    assert "link" not in dict(headers)
    # no hints where none are configured
    assert raw_status(t, "/index.html") == (200, None)
