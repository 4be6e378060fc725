"""Slow headers: a request header block (HEADERS + CONTINUATIONs) must be
complete within the header timeout counted from its HEADERS frame, which
CONTINUATION frames do not extend (nginx: client_header_timeout, Apache:
H2XHeaderTimeout).  Then GOAWAY ENHANCE_YOUR_CALM; other connections go
on."""

import socket
import time

import pytest
from hyperframe.frame import ContinuationFrame, GoAwayFrame

from h2xtest import doc
from h2xtest.ngx_raw import RawH2, Closed

ENHANCE_YOUR_CALM = 0xb

CONFIG = {
    "nginx-h2x": {"http_extra": "client_header_timeout 1s;",
                  "log_level": "info"},
    "apache-h2x": {"vhost_extra": "H2XHeaderTimeout 1"},
}


def _get(t, tls):
    c = RawH2(t.tls_port if tls else t.h2c_port, tls=tls)
    try:
        c.get(1, "/index.html", scheme="https" if tls else "http")
        return c.response(1)
    finally:
        c.close()


@pytest.mark.parametrize("tls", [True, False], ids=["tls", "clear"])
@pytest.mark.parametrize("name", ["nginx-h2x", "apache-h2x"])
def test_header_block_deadline(server_factory, name, tls):
    t = server_factory.target(name, **CONFIG[name])
    port = t.tls_port if tls else t.h2c_port
    sch = "https" if tls else "http"

    slow = RawH2(port, tls=tls)
    try:
        # a first request (nginx times the wait for it on its own), then a
        # HEADERS without END_HEADERS, then a CONTINUATION every 0.4 s: they
        # do not push the deadline back
        slow.get(1, "/index.html", scheme=sch)
        assert slow.response(1)[0] == 200
        block = slow.enc.encode(
            slow.request_headers("/index.html", scheme=sch)
            + [("x-slow", "a" * 40)])
        slow.send(slow.headers_frame(3, [], end_headers=False))
        start = time.monotonic()
        # meanwhile another connection is served
        status, _, body, rst, _ = _get(t, tls)
        assert (status, rst, body) == (200, None, doc("index.html"))
        goaway = None
        sent = 0
        while goaway is None and time.monotonic() - start < 6:
            if sent < len(block) and sent < 6:
                slow.send(ContinuationFrame(3, data=block[sent:sent + 1]))
                sent += 1
            try:
                f = slow.next_frame(0.4)
            except socket.timeout:
                continue
            except Closed:
                break
            if isinstance(f, GoAwayFrame):
                goaway = f
        assert goaway is not None, "no GOAWAY within 6 s"
        assert (goaway.error_code, goaway.last_stream_id) == \
            (ENHANCE_YOUR_CALM, 1)
        # and the connection is closed
        assert slow.closed or slow.eof(3)
    finally:
        slow.close()

    # and after
    status, _, body, rst, _ = _get(t, tls)
    assert (status, rst, body) == (200, None, doc("index.html"))
    with open(t.error_log) as f:
        log = f.read()
    assert "client did not complete a header block in time" in log
