"""Issue 12: response fields by the engine's one set of rules, on both servers.

- connection-specific fields (te, connection, keep-alive, upgrade,
  proxy-connection, transfer-encoding) are left out and the response is
  served, as the builtins serve it (nginx `add_header TE trailers;` was a
  RST_STREAM INTERNAL_ERROR);
- nginx: a field value HTTP/2 cannot carry is left out (logged), the rest
  of the response is served;
- response header blocks larger than a frame go out as HEADERS +
  CONTINUATION (mod_http2 refused them above 64 KiB, h2x up to
  h2x_max_response_header_size / H2XMaxResponseHeaderSize, 2 MiB);
  beyond the bound: a log line naming the directive and a 500.
"""

import os
import tempfile

import pytest

from h2xtest.clients import curl, curl_h2_tls, curl_h2c

HOP = [("TE", "trailers"), ("Connection", "x-foo"), ("Keep-Alive", "timeout=5"),
       ("Upgrade", "h2c"), ("Proxy-Connection", "keep-alive")]
HOP_NAMES = {"te", "connection", "keep-alive", "upgrade", "proxy-connection",
             "transfer-encoding"}

# 30 fields of 4000 bytes: 120 KB, above mod_http2's 64 KiB block
BIG = [("X-Big-%02d" % i, ("%02d" % i) * 2000) for i in range(30)]


def _get(target, path, tls, *args):
    """curl over h2 with the response head dumped: (result, [(name, value)])."""
    fd, hdr = tempfile.mkstemp(prefix="h2x-hdr-")
    os.close(fd)
    try:
        if tls:
            r = curl_h2_tls(target, path, "-D", hdr, *args)
        else:
            r = curl_h2c(target, path, "-D", hdr, *args)
        with open(hdr, "rb") as f:
            lines = f.read().decode("latin-1").split("\r\n")
    finally:
        os.unlink(hdr)
    fields = []
    for line in lines[1:]:
        if ":" in line:
            n, _, v = line.partition(":")
            fields.append((n.strip().lower(), v.strip()))
    return r, fields


def _nginx_headers(fields, always=False):
    return "\n".join('add_header %s "%s"%s;' % (n, v, " always" if always
                                                 else "")
                     for n, v in fields)


def _apache_headers(fields):
    return "\n".join('Header always set %s "%s"' % (n, v) for n, v in fields)


def _log(target):
    with open(target.server.error_log, errors="replace") as f:
        return f.read()


@pytest.fixture(params=["nginx-h2x", "apache-h2x"])
def hop_target(request, server_factory):
    name = request.param
    if name.startswith("nginx"):
        return server_factory.target(name, location_extra=_nginx_headers(
            HOP + [("X-Ok", "yes")]))
    return server_factory.target(name, vhost_extra=_apache_headers(
        HOP + [("X-Ok", "yes")]))


@pytest.mark.parametrize("tls", [True, False], ids=["tls", "h2c"])
def test_connection_specific_fields_dropped(hop_target, tls):
    r, fields = _get(hop_target, "/index.html", tls)
    assert r.returncode == 0, r.stderr
    assert (r.status, r.http_version) == (200, "2")
    assert b"h2x test page" in r.body
    names = {n for n, _ in fields}
    assert "x-ok" in names
    assert not names & HOP_NAMES, fields


@pytest.mark.parametrize("tls", [True, False], ids=["tls", "h2c"])
def test_nginx_invalid_field_value_dropped(server_factory, tls):
    """nginx's builtin sends what it is given; h2x leaves out what HTTP/2
    cannot carry (CR, LF, a control byte) and serves the response."""
    t = server_factory.target("nginx-h2x", location_extra=_nginx_headers(
        [("X-Lf", "a\\nb"), ("X-Cr", "a\\rb"), ("X-Ok", "yes"),
         ("X-Pad", "   padded   ")]))
    r, fields = _get(t, "/index.html", tls)
    assert r.returncode == 0, r.stderr
    assert r.status == 200
    d = dict(fields)
    assert d.get("x-ok") == "yes"
    assert d.get("x-pad") == "padded"
    assert "x-lf" not in d and "x-cr" not in d
    log = _log(t)
    assert 'response header "x-lf" not sent: invalid value' in log
    assert 'response header "x-cr" not sent: invalid value' in log


@pytest.fixture(params=["nginx-h2x", "apache-h2x"])
def big_target(request, server_factory):
    name = request.param
    if name.startswith("nginx"):
        return server_factory.target(name,
                                     location_extra=_nginx_headers(BIG))
    return server_factory.target(name, vhost_extra=_apache_headers(BIG))


@pytest.mark.parametrize("tls", [True, False], ids=["tls", "h2c"])
def test_big_response_header_sent(big_target, tls):
    r, fields = _get(big_target, "/10k.bin", tls)
    assert r.returncode == 0, r.stderr
    assert r.status == 200
    assert len(r.body) == 10 * 1024
    d = dict(fields)
    for n, v in BIG:
        assert d.get(n.lower()) == v


@pytest.fixture(params=["nginx-h2x", "apache-h2x"])
def limited_target(request, server_factory):
    name = request.param
    if name.startswith("nginx"):
        return server_factory.target(
            name, server_extra="h2x_max_response_header_size 32k;\n"
            "location = /10k.bin {\n" + _nginx_headers(BIG) + "\n}")
    return server_factory.target(
        name, vhost_extra="H2XMaxResponseHeaderSize 32768\n"
        + "<Location /10k.bin>\n" + _apache_headers(BIG) + "\n</Location>")


@pytest.mark.parametrize("tls", [True, False], ids=["tls", "h2c"])
def test_response_header_over_bound_is_500(limited_target, tls):
    r, fields = _get(limited_target, "/10k.bin", tls)
    # an answer, not a reset
    assert r.returncode == 0, r.stderr
    assert r.status == 500
    assert not any(n.startswith("x-big") for n, _ in fields)
    log = _log(limited_target)
    assert ("h2x_max_response_header_size" in log
            or "H2XMaxResponseHeaderSize" in log), log[-2000:]
    # the connection and the server go on
    r, _ = _get(limited_target, "/index.html", tls)
    assert r.status == 200
