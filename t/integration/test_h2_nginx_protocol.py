"""HTTP/2 protocol cases with raw frames against nginx-h2x, and against
nginx-builtin as the reference where RFC 9113 leaves it no choice.

Connection errors must come as GOAWAY with the RFC's code, stream errors
as RST_STREAM; abuse as GOAWAY ENHANCE_YOUR_CALM with a counter in
h2x_status and a "client sent ..." line in the error log."""

import json
import os
import re
import socket
import struct
import time

import pytest

from h2xtest import doc, NGINX_TARGETS
from h2xtest.clients import curl
from h2xtest.ngx_raw import RawH2, Closed, PREFACE
from hyperframe.frame import (DataFrame, GoAwayFrame, HeadersFrame,
                              PingFrame, RstStreamFrame, SettingsFrame,
                              WindowUpdateFrame, ContinuationFrame,
                              PushPromiseFrame)

PROTOCOL_ERROR, FLOW_CONTROL_ERROR, STREAM_CLOSED = 0x1, 0x3, 0x5
FRAME_SIZE_ERROR, REFUSED_STREAM, CANCEL = 0x6, 0x7, 0x8
COMPRESSION_ERROR, ENHANCE_YOUR_CALM = 0x9, 0xb


@pytest.fixture(scope="module")
def srv(h2x_site):
    s = h2x_site.nginx(NGINX_TARGETS, log_level="info",
                       server_extra={"nginx-h2x": "location = /h2x_status "
                                     "{ h2x_status; }\n"
                                     "keepalive_requests 100000;"})
    s.start()
    yield s
    s.stop()


@pytest.fixture(params=["h2", "h2c"])
def conn(request, srv):
    """A factory of raw connections to nginx-h2x over TLS or h2c."""
    t = srv.target("nginx-h2x")
    made = []

    def make(target=t, **kw):
        tls = request.param == "h2"
        c = RawH2(target.tls_port if tls else target.h2c_port, tls=tls, **kw)
        c.scheme = "https" if tls else "http"
        made.append(c)
        return c
    make.tls = request.param == "h2"
    yield make
    for c in made:
        c.close()


@pytest.fixture(params=NGINX_TARGETS)
def both(request, srv):
    t = srv.target(request.param)

    def make(**kw):
        c = RawH2(t.tls_port, tls=True, **kw)
        c.scheme = "https"
        return c
    make.target = t
    return make


def status(srv):
    t = srv.target("nginx-h2x")
    r = curl(t.url("h2x_status", "http"), "--http1.1")
    return json.loads(r.body)


def error_log(srv):
    with open(srv.error_log) as f:
        return f.read()


def goaway_code(c, timeout=5):
    g = c.goaway(timeout)
    return g.error_code


# --- the basics, both implementations -------------------------------------

def test_settings_and_ping(both):
    c = both()
    c.get(1, "/index.html")
    st, headers, body, rst, _ = c.response(1)
    assert (st, body) == (200, doc("index.html"))
    settings = [f for f in c.frames if isinstance(f, SettingsFrame)]
    assert any("ACK" not in f.flags for f in settings)
    assert any("ACK" in f.flags for f in settings)
    pong = c.ping(b"12345678")
    assert pong.opaque_data == b"12345678"
    c.close()


@pytest.mark.parametrize("case", ["data-stream-0", "even-stream",
                                  "window-update-0", "push-promise"])
def test_connection_errors(both, case):
    c = both()
    if case == "data-stream-0":
        c.send_raw(struct.pack(">I", 4)[1:] + b"\x00\x00" +
                   struct.pack(">I", 0) + b"abcd")
    elif case == "even-stream":
        c.get(2, "/index.html")
    elif case == "window-update-0":
        c.send_raw(b"\x00\x00\x04\x08\x00\x00\x00\x00\x00\x00\x00\x00\x00")
    elif case == "push-promise":
        c.get(1, "/index.html", end_stream=False)
        pp = PushPromiseFrame(1, promised_stream_id=2)
        pp.data = c.enc.encode([(":method", "GET"), (":path", "/"),
                                (":scheme", "https"),
                                (":authority", "localhost")])
        pp.flags.add("END_HEADERS")
        c.send(pp)
    assert goaway_code(c) == PROTOCOL_ERROR
    assert c.eof(5)
    c.close()


def test_frame_too_large(both):
    c = both()
    # a HEADERS frame above our SETTINGS_MAX_FRAME_SIZE (16384)
    c.send_raw(b"\x00\x50\x00\x01\x05\x00\x00\x00\x01" + b"x" * 0x5000)
    assert goaway_code(c) == FRAME_SIZE_ERROR
    c.close()


def test_unknown_frame_ignored(both):
    c = both()
    c.send_raw(b"\x00\x00\x04\xfa\x00\x00\x00\x00\x00abcd")
    c.get(1, "/10k.bin")
    st, _, body, rst, _ = c.response(1)
    assert (st, body) == (200, doc("10k.bin"))
    c.close()


# --- h2x: stream errors and request validation ----------------------------

@pytest.mark.parametrize("headers", [
    [("X-Upper", "1")],
    [("connection", "keep-alive")],
    [("transfer-encoding", "chunked")],
    [("te", "gzip")],
    [(":bogus", "1")],
], ids=["uppercase", "connection", "transfer-encoding", "te", "pseudo"])
def test_malformed_request_is_stream_error(conn, srv, headers):
    c = conn()
    c.send(c.headers_frame(1, c.request_headers("/index.html",
                                                scheme=c.scheme) + headers))
    st, _, _, rst, _ = c.response(1)
    assert rst == PROTOCOL_ERROR
    # the connection goes on
    c.get(3, "/index.html", scheme=c.scheme)
    assert c.response(3)[0] == 200


def test_content_length_mismatch(conn):
    c = conn()
    data = DataFrame(1, b"x" * 20)
    data.flags.add("END_STREAM")
    c.send(c.headers_frame(1, c.request_headers(
        "/index.html", method="POST", scheme=c.scheme,
        extra=[("content-length", "10")]), end_stream=False), data)
    st, _, _, rst, _ = c.response(1)
    assert rst == PROTOCOL_ERROR


def test_data_on_closed_stream(conn):
    c = conn()
    c.get(1, "/index.html", scheme=c.scheme)
    assert c.response(1)[0] == 200
    c.data(1, b"late", end_stream=True)
    # STREAM_CLOSED, as a stream error or a connection error
    f = c.wait((RstStreamFrame, GoAwayFrame))
    assert f.error_code == STREAM_CLOSED


def test_window_overflow(conn):
    c = conn()
    c.get(1, "/index.html", scheme=c.scheme, end_stream=False,
          method="POST")
    c.send(WindowUpdateFrame(1, 0x7fffffff))
    f = c.wait((RstStreamFrame, GoAwayFrame))
    assert f.error_code == FLOW_CONTROL_ERROR


def test_bad_hpack_is_compression_error(conn):
    c = conn()
    f = HeadersFrame(1)
    f.data = b"\xff\xff\xff\xff\xff\xff"       # index out of any table
    f.flags.add("END_HEADERS")
    f.flags.add("END_STREAM")
    c.send(f)
    assert goaway_code(c) == COMPRESSION_ERROR


def test_big_header_block(conn, srv):
    c = conn()
    c.send(*c.header_block(1, c.request_headers(
        "/index.html", scheme=c.scheme) + [("x-big", "a" * 40000)]))
    st, _, _, rst, _ = c.response(1, timeout=5)
    assert st == 431 or rst is not None
    c.get(3, "/index.html", scheme=c.scheme)
    assert c.response(3)[0] == 200


# --- h2x: abuse ------------------------------------------------------------

def test_settings_flood_entries(conn, srv):
    c = conn()
    payload = b"".join(struct.pack(">HI", 0x3, 100) for _ in range(100))
    c.send_raw(struct.pack(">I", len(payload))[1:] + b"\x04\x00" +
               b"\x00\x00\x00\x00" + payload)
    assert goaway_code(c) == ENHANCE_YOUR_CALM


def test_continuation_flood(conn, srv):
    before = status(srv)["abuse"]["continuation_flood"]
    c = conn()
    c.send(c.headers_frame(1, c.request_headers("/", scheme=c.scheme),
                           end_headers=False))
    for _ in range(50):
        c.send(ContinuationFrame(1, data=c.enc.encode([("x-a", "b")])))
    assert goaway_code(c) == ENHANCE_YOUR_CALM
    assert status(srv)["abuse"]["continuation_flood"] > before
    assert re.search(r"\[info\].*client sent .*CONTINUATION",
                     error_log(srv), re.I)


def test_rapid_reset(conn, srv):
    """HEADERS + RST_STREAM pairs (CVE-2023-44487): of 6000, at most
    the reset budget's burst (1000, plus its refill) reaches nginx; an
    exhausted budget ends the connection with GOAWAY ENHANCE_YOUR_CALM."""
    before = status(srv)
    c = conn()
    sid = 1
    ended = False
    for burst in range(6):
        out = []
        for i in range(1000):
            out.append(c.headers_frame(sid, c.request_headers(
                "/index.html", scheme=c.scheme)).serialize())
            out.append(RstStreamFrame(sid, error_code=CANCEL).serialize())
            sid += 2
        c.send_raw(b"".join(out))
        time.sleep(0.05)
    c.eof(3)
    goaways = [f for f in c.frames if isinstance(f, GoAwayFrame)]
    assert all(f.error_code == ENHANCE_YOUR_CALM for f in goaways)
    after = status(srv)
    assert after["abuse"]["rapid_reset"] > before["abuse"]["rapid_reset"]
    # the budget is 1000 resets; a few more stream per read may start
    assert after["streams"]["total"] - before["streams"]["total"] < 1300


def test_ping_flood_without_reading(conn, srv):
    c = conn()
    data = PingFrame(0, b"floodfl!").serialize() * 20000
    try:
        c.send_raw(data)
    except OSError:
        pass
    # GOAWAY, or a close: never an unbounded queue of PING ACKs
    try:
        f = c.wait(GoAwayFrame, timeout=10)
        assert f.error_code == ENHANCE_YOUR_CALM
    except Closed:
        pass


# --- the preface on cleartext ---------------------------------------------

def test_not_a_preface_goes_to_http1(srv):
    t = srv.target("nginx-h2x")
    s = socket.create_connection(("127.0.0.1", t.h2c_port), timeout=5)
    s.sendall(b"PRI * HTTP/1.1\r\n\r\n")
    assert s.recv(100).startswith(b"HTTP/1.1 400")
    s.close()
    # a preface split in pieces still is one
    s = socket.create_connection(("127.0.0.1", t.h2c_port), timeout=5)
    for piece in (PREFACE[:3], PREFACE[3:10], PREFACE[10:]):
        s.sendall(piece)
        time.sleep(0.05)
    s.sendall(SettingsFrame(0).serialize())
    data = s.recv(9)
    assert data[3] == 0x4        # the server's SETTINGS
    s.close()
