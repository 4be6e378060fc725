"""What differs between nginx versions (1.22 to the mainline), checked on
whatever nginx the suite runs (H2X_NGINX; `make test-nginx NGINX_SRC=...`).

- The builtin HTTP/2 keeps working beside h2x in the same nginx, in both
  of its configuration styles: `listen ... http2` (every version) and
  `http2 on;` (1.25.1+), on ports of its own and on a port shared with an
  h2x server (chosen by SNI).
- Servers without h2x negotiate by ALPN, and answer HTTP/1.1 on a
  cleartext `http2` port, exactly as the same nginx without h2x does.
- The request checks nginx makes once the headers are in (static since
  1.29.1, redone by the adapter there): no Host/:authority, Content-Length,
  TRACE, $host.
- HTTP/3 (nginx built --with-http_v3_module) is unaffected by `h2x on`.
"""

import os
import re
import socket
import ssl
import subprocess
import time

import pytest

import h2xservers
from h2xservers import NGINX_BIN, free_ports
from h2xtest import doc
from h2xtest.clients import curl
from h2xtest.raw import RawH2


def _nginx_v():
    res = subprocess.run([NGINX_BIN, "-V"], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, timeout=10)
    return res.stdout


NGINX_V = _nginx_v()
NGINX_VERSION = tuple(int(x) for x in
                      re.search(r"nginx/(\d+)\.(\d+)\.(\d+)", NGINX_V).groups())
HAS_HTTP2_ON = NGINX_VERSION >= (1, 25, 1)
HAS_V3 = "--with-http_v3_module" in NGINX_V

needs_http2_on = pytest.mark.skipif(
    not HAS_HTTP2_ON, reason="nginx %d.%d.%d has no \"http2 on;\" (1.25.1+)"
    % NGINX_VERSION)

VAR_LOC = 'location = /v { return 200 "http2=$http2 host=$host\\n"; }'


def _builtin_servers(ports, style, docroot):
    """Builtin-only servers on their own ports: TLS and cleartext."""
    tls, clear = ports
    if style == "listen":
        listens = ["127.0.0.1:%d ssl http2" % tls, "127.0.0.1:%d http2" % clear]
        extra = ""
    else:
        listens = ["127.0.0.1:%d ssl" % tls, "127.0.0.1:%d" % clear]
        extra = "http2 on;"
    return ("server {\n%s\n    server_name localhost;\n    root %s;\n"
            "    %s\n    %s\n}\n"
            % ("\n".join("    listen %s;" % l for l in listens), docroot,
               extra, VAR_LOC))


def _nginx(factory, ports, style, h2x=True):
    """nginx-h2x (with or without `h2x on`) plus builtin-only servers."""
    return factory.nginx(("nginx-h2x",), load_h2x=h2x,
                         http_extra=_builtin_servers(ports, style,
                                                     factory.site.docroot),
                         server_extra=VAR_LOC.replace(
                             "http2=$http2", "h2x=$h2x http2=$http2")
                         if h2x else VAR_LOC)


def alpn(port, offers, sni="localhost"):
    """The protocol the server selects for `offers`, or "alert"."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols(list(offers))
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            with ctx.wrap_socket(s, server_hostname=sni) as ts:
                return ts.selected_alpn_protocol() or "none"
    except (ssl.SSLError, ConnectionError) as e:
        return "alert"


def http1(port):
    """What a cleartext port answers to an HTTP/1.1 request."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"GET /index.html HTTP/1.1\r\nHost: localhost\r\n"
                  b"Connection: close\r\n\r\n")
        data = b""
        s.settimeout(5)
        try:
            while len(data) < 64:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        except (socket.timeout, ConnectionError):
            pass
    if data.startswith(b"HTTP/"):
        return data.split(b"\r\n", 1)[0].decode()
    return "not http: %r" % data[:9]


def _h2(port, tls, path="/v", sni="localhost", host=None):
    if tls:
        args = ["--http2", "-k"]
        url = "https://%s:%d%s" % (sni, port, path)
    else:
        args = ["--http2-prior-knowledge"]
        url = "http://localhost:%d%s" % (port, path)
    args += ["--resolve", "%s:%d:127.0.0.1" % (sni, port)]
    if host:
        args += ["-H", "Host: %s" % host]
    return curl(url, *args)


# --- the builtin beside h2x -------------------------------------------------

@pytest.mark.parametrize("style", [
    "listen", pytest.param("http2_on", marks=needs_http2_on)])
def test_builtin_beside_h2x(server_factory, style):
    """Builtin-only servers in an nginx that also runs h2x."""
    ports = free_ports(2)
    srv = _nginx(server_factory, ports, style)
    h2x = srv.target("nginx-h2x")
    tls, clear = ports
    r = _h2(tls, True)
    assert (r.status, r.http_version, r.body) == \
        (200, "2", b"http2=h2 host=localhost\n"), r
    r = _h2(clear, False)
    assert (r.status, r.http_version, r.body) == \
        (200, "2", b"http2=h2c host=localhost\n"), r
    r = curl("https://localhost:%d/index.html" % tls, "--http1.1", "-k")
    assert (r.status, r.http_version) == (200, "1.1"), r
    if HAS_HTTP2_ON:
        # since 1.25.1 a cleartext http2 port serves HTTP/1.x as well
        assert http1(clear) == "HTTP/1.1 200 OK"
    # and h2x next to it
    r = _h2(h2x.tls_port, True)
    assert (r.status, r.body) == (200, b"h2x=h2 http2= host=localhost\n"), r
    r = _h2(h2x.h2c_port, False)
    assert (r.status, r.body) == (200, b"h2x=h2c http2= host=localhost\n"), r
    assert http1(h2x.h2c_port) == "HTTP/1.1 200 OK"


@pytest.mark.parametrize("style", [
    "listen", pytest.param("http2_on", marks=needs_http2_on)])
def test_builtin_and_h2x_share_a_port(server_factory, style):
    """One TLS port, the builtin server (the default) and the h2x one
    chosen by SNI: each speaks its own HTTP/2."""
    srv = server_factory.nginx(("nginx-h2x",), start=False)
    t = srv.target("nginx-h2x")
    port = t.tls_port
    srv.http_extra = (
        "server {\n    listen 127.0.0.1:%d ssl%s;\n"
        "    server_name builtin.test;\n    %s\n    %s\n}\n"
        % (port, " http2" if style == "listen" else "",
           "http2 on;" if style == "http2_on" else "",
           VAR_LOC.replace("http2=", "builtin http2=")))
    srv.server_extra = VAR_LOC.replace("http2=$http2", "h2x=$h2x http2=$http2")
    srv.start()
    r = _h2(port, True, sni="builtin.test")
    assert (r.status, r.http_version, r.body) == \
        (200, "2", b"builtin http2=h2 host=builtin.test\n"), r
    r = _h2(port, True, sni="localhost")
    assert (r.status, r.http_version, r.body) == \
        (200, "2", b"h2x=h2 http2= host=localhost\n"), r
    for sni in ("builtin.test", "localhost"):
        assert alpn(port, ["h2", "http/1.1"], sni) == "h2"
        assert alpn(port, ["http/1.1"], sni) == "http/1.1"


@pytest.mark.parametrize("style", [
    "listen", pytest.param("http2_on", marks=needs_http2_on)])
def test_alpn_and_http1_as_without_h2x(server_factory, style):
    """Servers without h2x answer as the same nginx without h2x does:
    ALPN per offer, and HTTP/1.1 on a cleartext http2 port (served since
    1.25.1, refused before)."""
    seen = []
    for h2x in (False, True):
        ports = free_ports(2)
        srv = _nginx(server_factory, ports, style, h2x=h2x)
        tls, clear = ports
        seen.append({
            "alpn": [alpn(tls, o) for o in (["h2", "http/1.1"],
                                             ["http/1.1", "h2"],
                                             ["http/1.1"], ["h2"],
                                             ["h3"])],
            "http1": http1(clear),
            "h2c": _h2(clear, False).status,
        })
        srv.stop()
    assert seen[1] == seen[0]
    assert seen[0]["alpn"][0] == "h2"


# --- the request checks (nginx's process_request_header) --------------------

@pytest.fixture(scope="module")
def checks(h2x_site):
    s = h2x_site.nginx(server_extra=VAR_LOC + "\n"
                       "location /small/ { client_max_body_size 4; "
                       "return 200 \"read\\n\"; }")
    s.start()
    yield s
    s.stop()


@pytest.fixture(params=["nginx-h2x", "nginx-builtin"])
def raw(request, checks):
    t = checks.target(request.param)
    made = []

    def make(tls):
        c = RawH2(t.tls_port if tls else t.h2c_port, tls=tls)
        made.append(c)
        return c
    yield make
    for c in made:
        c.close()


@pytest.mark.parametrize("tls", [True, False], ids=["h2", "h2c"])
def test_request_checks(raw, tls):
    c = raw(tls)
    scheme = "https" if tls else "http"
    # neither :authority nor Host
    c.send(c.request(1, "/v", pseudo=[(":method", "GET"), (":scheme", scheme),
                                      (":path", "/v")]))
    assert c.response(1)[0] == 400
    # Host only: $host from it, lowercased, without the port
    c.send(c.request(3, "/v", pseudo=[(":method", "GET"), (":scheme", scheme),
                                      (":path", "/v")],
                     extra=[("host", "Example.ORG:8443")]))
    st, _, body, _, _ = c.response(3)
    assert (st, body.split(b"host=")[1]) == (200, b"example.org\n")
    # :authority
    c.send(c.request(5, "/v", authority="Www.Example.COM"))
    st, _, body, _, _ = c.response(5)
    assert (st, body.split(b"host=")[1]) == (200, b"www.example.com\n")
    # Content-Length parsed into the request: above client_max_body_size
    c.send(c.request(7, "/small/", method="POST", end_stream=False,
                     extra=[("content-length", "5")]))
    assert c.response(7)[0] == 413
    c.send(c.request(9, "/small/", method="POST", end_stream=False,
                     extra=[("content-length", "4")]))
    c.data(9, b"abcd", end_stream=True)
    assert c.response(9)[:3:2] == (200, b"read\n")
    # TRACE
    c.send(c.request(11, "/v", method="TRACE"))
    assert c.response(11)[0] == 405


# --- HTTP/3 beside h2x --------------------------------------------------------

def _quic_version_negotiation(port):
    """A long-header packet of an unknown version: a live QUIC listener
    answers with Version Negotiation (RFC 9000 6)."""
    dcid, scid = os.urandom(8), os.urandom(8)
    pkt = bytes([0xc0]) + b"\x1a\x2a\x3a\x4a" + bytes([8]) + dcid + \
        bytes([8]) + scid
    pkt += b"\x00" * (1200 - len(pkt))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(3)
        s.sendto(pkt, ("127.0.0.1", port))
        try:
            data, _ = s.recvfrom(2048)
        except socket.timeout:
            return None
    # version 0, our scid echoed as its dcid
    return data[1:5] == b"\x00\x00\x00\x00" and data[6:14] == scid


@pytest.mark.skipif(not HAS_V3, reason="nginx built without HTTP/3")
def test_http3_beside_h2x(server_factory):
    """nginx -t and a live QUIC listener on a server with `h2x on`; h2
    over TCP on the same server stays h2x."""
    (udp,) = free_ports(1)
    srv = server_factory.nginx(("nginx-h2x",), start=False)
    srv.server_extra = ("listen 127.0.0.1:%d quic reuseport;\n"
                        "http3 on;\n"
                        "add_header Alt-Svc 'h3=\":%d\"; ma=60';\n%s"
                        % (udp, udp, VAR_LOC.replace(
                            "http2=$http2", "h2x=$h2x http3=$http3")))
    srv.write_config()
    res = subprocess.run(srv.command(test=True), stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, timeout=30,
                         env=h2xservers.server_env())
    assert res.returncode == 0, res.stdout
    srv.start()
    t = srv.target("nginx-h2x")
    assert _quic_version_negotiation(udp), "no QUIC answer"
    r = _h2(t.tls_port, True)
    assert (r.status, r.body) == (200, b"h2x=h2 http3= host=localhost\n"), r
