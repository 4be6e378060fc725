"""HTTP/2 protocol and abuse cases with raw frames, on the h2x targets.

One engine, one behaviour: these run against both h2x targets and, where
the RFC leaves no choice, against the builtin modules as the reference.  Frames are
written with python3-hyperframe/hpack so that invalid input can be sent.
"""

import pytest

from hyperframe import frame as hf

from h2xtest import doc, raw

PROTOCOL_ERROR = raw.PROTOCOL_ERROR
FLOW_CONTROL_ERROR = raw.FLOW_CONTROL_ERROR
ENHANCE_YOUR_CALM = raw.ENHANCE_YOUR_CALM


goaway_or_eof = raw.RawH2.got_goaway


# both h2x adapters serve these now (h2xtest.ADAPTER_PENDING is empty)
H2X = pytest.mark.adapter_pending()
SCHEMES = pytest.mark.parametrize("tls", [True, False], ids=["tls", "h2c"])


@H2X
@SCHEMES
def test_ping_is_acked(h2x_target, tls):
    w = raw.connect(h2x_target, tls)
    try:
        w.send(hf.PingFrame(0, opaque_data=b"h2xping!"))
        assert w.read(lambda fs: any(isinstance(f, hf.PingFrame)
                                     and "ACK" in f.flags for f in fs))
        ack = [f for f in w.of(hf.PingFrame) if "ACK" in f.flags][0]
        assert ack.opaque_data == b"h2xping!"
    finally:
        w.close()


@H2X
@SCHEMES
def test_get_over_raw_frames(h2x_target, tls):
    w = raw.connect(h2x_target, tls)
    try:
        w.send(w.request(1, "/10k.bin"))
        assert w.read(w.ended(1))
        assert w.status(1) == 200
        assert w.body(1) == doc("10k.bin")
    finally:
        w.close()


@H2X
def test_client_push_promise_is_connection_error(h2x_target):
    w = raw.connect(h2x_target, False)
    try:
        f = hf.PushPromiseFrame(1, promised_stream_id=2,
                                data=w.enc.encode([(":method", "GET")]))
        f.flags.add("END_HEADERS")
        w.send(w.request(1, end_stream=False), f)
        w.read(goaway_or_eof)
        assert w.last_goaway() is not None
        assert w.last_goaway().error_code == PROTOCOL_ERROR
    finally:
        w.close()


@H2X
def test_window_update_zero_on_connection(h2x_target):
    w = raw.connect(h2x_target, False)
    try:
        w.send(hf.WindowUpdateFrame(0, window_increment=0))
        w.read(goaway_or_eof)
        assert w.last_goaway() is not None
        assert w.last_goaway().error_code == PROTOCOL_ERROR
    finally:
        w.close()


@H2X
def test_window_overflow(h2x_target):
    w = raw.connect(h2x_target, False)
    try:
        w.send(hf.WindowUpdateFrame(0, window_increment=2 ** 31 - 1),
               hf.WindowUpdateFrame(0, window_increment=2 ** 31 - 1))
        w.read(goaway_or_eof)
        assert w.last_goaway() is not None
        assert w.last_goaway().error_code == FLOW_CONTROL_ERROR
    finally:
        w.close()


@H2X
@pytest.mark.parametrize("pseudo", [
    [(":method", "GET"), (":path", "/")],                      # no scheme
    [(":method", "GET"), (":scheme", "http"), (":path", "/"),
     (":path", "/")],                                          # twice
    [(":method", "GET"), (":scheme", "http"), (":path", "/"),
     (":bogus", "x")],                                         # unknown
], ids=["missing", "duplicate", "unknown"])
def test_malformed_request_is_reset(h2x_target, pseudo):
    """RFC 9113 8.1.1: malformed requests are stream errors; the
    connection goes on."""
    w = raw.connect(h2x_target, False)
    try:
        w.send(w.request(1, pseudo=pseudo))
        assert w.read(w.ended(1))
        rst = w.of(hf.RstStreamFrame, 1)
        assert rst and rst[0].error_code == PROTOCOL_ERROR
        w.send(w.request(3))
        assert w.read(w.ended(3))
        assert w.status(3) == 200
    finally:
        w.close()


@H2X
def test_connection_specific_header_is_reset(h2x_target):
    w = raw.connect(h2x_target, False)
    try:
        w.send(w.request(1, extra=[("connection", "keep-alive")]))
        assert w.read(w.ended(1))
        rst = w.of(hf.RstStreamFrame, 1)
        assert rst and rst[0].error_code == PROTOCOL_ERROR
    finally:
        w.close()


@H2X
def test_oversized_header_list(h2x_target):
    """Far beyond the header list limit: 431 or a reset, never a crash;
    the connection stays usable unless the engine calls it abuse."""
    w = raw.connect(h2x_target, False)
    try:
        big = [("x-big-%d" % i, "v" * 4000) for i in range(20)]
        w.send(w.request(1, extra=big))
        w.read(lambda fs: w.ended(1)(fs) or goaway_or_eof(fs))
        assert w.status(1) == 431 or w.of(hf.RstStreamFrame, 1) \
            or w.last_goaway() is not None
    finally:
        w.close()


@H2X
def test_continuation_flood_is_stopped(h2x_target):
    w = raw.connect(h2x_target, False)
    try:
        h = hf.HeadersFrame(1, w.enc.encode([(":method", "GET"),
                                             (":scheme", "http")]))
        flood = [h] + [hf.ContinuationFrame(1, b"") for _ in range(5000)]
        try:
            w.send(*flood)
        except OSError:
            pass
        w.read(goaway_or_eof, timeout=5)
        assert w.last_goaway() is not None
        assert w.last_goaway().error_code in (PROTOCOL_ERROR, ENHANCE_YOUR_CALM)
    finally:
        w.close()


@H2X
def test_rapid_reset_bounded(h2x_target):
    """HEADERS + RST_STREAM in bulk (CVE-2023-44487): the server stops it
    with GOAWAY or keeps up, and still answers afterwards."""
    w = raw.connect(h2x_target, False)
    try:
        frames = []
        for i in range(2000):
            sid = 1 + 2 * i
            frames.append(w.request(sid, "/index.html"))
            frames.append(hf.RstStreamFrame(sid, error_code=8))
        try:
            w.send(*frames)
        except OSError:
            pass
        w.read(goaway_or_eof, timeout=3)
        g = w.last_goaway()
        if g is not None:
            assert g.error_code in (0, ENHANCE_YOUR_CALM)
    finally:
        w.close()
    # the server is fine
    w = raw.connect(h2x_target, False)
    try:
        w.send(w.request(1))
        assert w.read(w.ended(1))
        assert w.status(1) == 200
    finally:
        w.close()


@H2X
def test_settings_flood_of_entries(h2x_target):
    w = raw.connect(h2x_target, False)
    try:
        f = hf.SettingsFrame(0)
        f.settings = {0x4: 65535}
        body = b"".join((0x4).to_bytes(2, "big") + (65535).to_bytes(4, "big")
                        for _ in range(2000))
        hdr = len(body).to_bytes(3, "big") + b"\x04\x00" + b"\x00" * 4
        w.sock.sendall(hdr + body)
        w.read(goaway_or_eof)
        assert w.last_goaway() is not None
        assert w.last_goaway().error_code == ENHANCE_YOUR_CALM
    finally:
        w.close()
