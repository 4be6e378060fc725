"""Where nginx-tests' HTTP/2 files (t/host/nginx-suite.sh) found h2x
answering differently from nginx's builtin HTTP/2: each case once more,
with our own raw client, against nginx-h2x and nginx-builtin (and the
Apache targets where the behaviour is a host's choice).  docs/compat.md
names the decisions."""

import socket

import pytest

from h2xtest import NGINX_TARGETS
from h2xtest.raw import RawH2, Closed, PREFACE
from hyperframe.frame import (DataFrame, GoAwayFrame, HeadersFrame,
                              PingFrame, SettingsFrame)

PROTOCOL_ERROR = 0x1

CHUNK_LOCATIONS = {
    "nginx-h2x": "location /chunk/ { h2x_chunk_size 100; alias %s/; }",
    "nginx-builtin": "location /chunk/ { http2_chunk_size 100; alias %s/; }",
}


@pytest.fixture(scope="module")
def srv(h2x_site):
    extra = {k: v % h2x_site.docroot for k, v in CHUNK_LOCATIONS.items()}
    s = h2x_site.nginx(NGINX_TARGETS, server_extra=extra)
    s.start()
    yield s
    s.stop()


def connect(t, tls, **kw):
    return RawH2(t.tls_port if tls else t.h2c_port, tls=tls, **kw)


# --- the opening: a SETTINGS ACK before (without) the client's SETTINGS --

def open_without_settings(c):
    """nginx-tests' client: the preface, the server's SETTINGS read, then
    only its ACK: no SETTINGS of the client's own."""
    c.auto_ack = False
    c.send_raw(PREFACE)
    c.wait(SettingsFrame, pred=lambda f: "ACK" not in f.flags)
    c.send(SettingsFrame(0, flags=["ACK"]))


@pytest.mark.parametrize("tls", [True, False], ids=["h2", "h2c"])
@pytest.mark.parametrize("name", NGINX_TARGETS)
def test_nginx_takes_frames_before_client_settings(srv, name, tls):
    c = connect(srv.target(name), tls, preface=False)
    try:
        open_without_settings(c)
        c.send(PingFrame(0, b"h2xping!"))
        c.get(1, "/index.html", scheme=c.scheme)
        r = c.response(1)
        assert c.status(1) == 200, r
        assert any(isinstance(f, PingFrame) and "ACK" in f.flags
                   for f in c.frames)
        assert c.last_goaway() is None
    finally:
        c.close()


def apache_opening(t):
    c = RawH2(t.tls_port, tls=True, preface=False)
    try:
        open_without_settings(c)
        c.get(1, "/index.html")
        c.read(until=RawH2.got_goaway, timeout=3)
        g = c.last_goaway()
        return None if g is None else g.error_code
    except Closed:
        return "closed"
    finally:
        c.close()


@pytest.mark.parametrize("target", ["apache-h2x", "apache-builtin"],
                         indirect=True)
def test_apache_keeps_settings_first(target):
    """mod_http2 (nghttp2) wants SETTINGS first (RFC 9113 3.4); so does
    mod_h2x: the knob is nginx's only."""
    assert apache_opening(target) == PROTOCOL_ERROR


# --- http2_chunk_size / h2x_chunk_size in a location ---------------------

@pytest.mark.parametrize("tls", [True, False], ids=["h2", "h2c"])
@pytest.mark.parametrize("name", NGINX_TARGETS)
def test_chunk_size_per_location(srv, name, tls):
    c = connect(srv.target(name), tls)
    try:
        c.get(1, "/chunk/10k.bin", scheme=c.scheme)
        c.get(3, "/10k.bin", scheme=c.scheme)
        c.response(1)
        c.response(3)
        sizes = {sid: [f.flow_controlled_length for f in c.frames
                       if isinstance(f, DataFrame) and f.stream_id == sid
                       and f.flow_controlled_length]
                 for sid in (1, 3)}
        assert sum(sizes[1]) == 10240 and sum(sizes[3]) == 10240
        assert max(sizes[1]) == 100, sizes[1][:5]
        assert max(sizes[3]) > 100
    finally:
        c.close()


# --- HPACK: no "never indexed" literals, as the builtin ------------------

@pytest.fixture(scope="module")
def cookie_srv(h2x_site):
    s = h2x_site.nginx(NGINX_TARGETS, server_extra=(
        "location = /set-cookie { add_header Set-Cookie a=b; "
        "add_header Set-Cookie c=d; return 200; }"))
    s.start()
    yield s
    s.stop()


@pytest.mark.parametrize("name", NGINX_TARGETS)
def test_set_cookie_not_never_indexed(cookie_srv, name):
    """nginx-tests' HPACK decoder stops at a never-indexed literal (RFC
    7541 6.2.3), which the builtin never sends: nginx-h2x neither."""
    from hpack import NeverIndexedHeaderTuple
    c = connect(cookie_srv.target(name), True)
    try:
        c.get(1, "/set-cookie")
        status, headers, _, rst, _ = c.response(1)
        assert status == 200 and rst is None
        cookies = [h for h in headers if h[0] == "set-cookie"]
        assert [v for _, v in cookies] == ["a=b", "c=d"]
        assert not any(isinstance(h, NeverIndexedHeaderTuple)
                       for h in headers)
    finally:
        c.close()


# --- a stream depending on itself: a connection error, as the builtin ----

@pytest.mark.parametrize("name", NGINX_TARGETS)
def test_self_dependency_is_connection_error(srv, name):
    from hyperframe.frame import PriorityFrame
    c = connect(srv.target(name), True)
    try:
        c.get(1, "/index.html")
        c.response(1)
        c.send(PriorityFrame(1, depends_on=1, stream_weight=16))
        c.read(until=RawH2.got_goaway, timeout=3)
        g = c.last_goaway()
        assert g is not None and g.error_code == PROTOCOL_ERROR
        assert g.last_stream_id == 1
    finally:
        c.close()


# --- GOAWAY in one step, keepalive_time, timeouts, frame size ------------

def goaway_after(c, sid):
    c.read(until=RawH2.got_goaway, timeout=5)
    return c.last_goaway()


@pytest.mark.parametrize("name", NGINX_TARGETS)
def test_reload_goaway_names_the_active_stream(server_factory, name):
    """As the builtin, one GOAWAY with the last stream at once (no 2^31-1
    announcement first); the active stream still completes."""
    t = server_factory.target(name)
    c = connect(t, True, window=1000)
    try:
        c.get(1, "/1m.bin")
        c.wait(DataFrame)
        t.reload()
        g = goaway_after(c, 1)
        assert g is not None and g.last_stream_id == 1
        assert [f.last_stream_id for f in c.frames
                if isinstance(f, GoAwayFrame)] == [1]
    finally:
        c.close()


@pytest.mark.parametrize("name", NGINX_TARGETS)
def test_keepalive_time_goaway(server_factory, name):
    import time
    t = server_factory.target(name, server_extra="keepalive_time 1s;")
    c = connect(t, True)
    try:
        c.get(1, "/index.html")
        assert c.response(1)[0] == 200
        c.read(timeout=0.3)
        assert c.last_goaway() is None
        time.sleep(1.2)
        c.get(3, "/index.html")
        assert c.response(3)[0] == 200
        g = goaway_after(c, 3)
        assert g is not None and g.error_code == 0 and g.last_stream_id == 3
    finally:
        c.close()


@pytest.mark.parametrize("name", NGINX_TARGETS)
def test_client_body_timeout_resets_protocol_error(server_factory, name):
    t = server_factory.target(name, server_extra=(
        "location /body { client_body_timeout 1s; "
        "proxy_pass http://127.0.0.1:9; }"))
    c = connect(t, True)
    try:
        c.get(1, "/body", method="POST", end_stream=False)
        c.send_raw(DataFrame(1, b"TEST").serialize()[:10])   # a part
        status, _, _, rst, _ = c.response(1, timeout=5)
        assert status is None and rst == PROTOCOL_ERROR
    finally:
        c.close()


@pytest.mark.parametrize("name", NGINX_TARGETS)
def test_default_data_frame_size_8k(srv, name):
    """http2_chunk_size's default, 8k, for h2x_chunk_size too."""
    c = connect(srv.target(name), True)
    try:
        c.get(1, "/10k.bin")
        c.response(1)
        sizes = [f.flow_controlled_length for f in c.frames
                 if isinstance(f, DataFrame) and f.stream_id == 1]
        assert sizes == [8192, 2048]
    finally:
        c.close()


def _nginx_version():
    import re
    import subprocess
    from h2xservers import NGINX_BIN
    out = subprocess.run([NGINX_BIN, "-v"], stderr=subprocess.PIPE,
                         text=True, timeout=10).stderr
    return tuple(int(x) for x in
                 re.search(r"nginx/(\d+)\.(\d+)\.(\d+)", out).groups())


@pytest.mark.parametrize("name", NGINX_TARGETS)
def test_cleartext_bad_preface_goaway(srv, name):
    """'PRI * HTTP/2.0\\r\\n\\r\\n' then not 'SM\\r\\n\\r\\n': GOAWAY
    PROTOCOL_ERROR on the cleartext port, as the builtin."""
    if name == "nginx-builtin" and _nginx_version() >= (1, 25, 1):
        pytest.skip("nginx >= 1.25.1: a cleartext http2 port also speaks "
                    "HTTP/1, the builtin answers such bytes as HTTP/1")
    c = connect(srv.target(name), False, preface=False)
    try:
        c.send_raw(b"PRI * HTTP/2.0\r\n\r\nxxxxxxxx")
        c.read(until=RawH2.got_goaway, timeout=3)
        g = c.last_goaway()
        assert g is not None and g.error_code == PROTOCOL_ERROR
    finally:
        c.close()
