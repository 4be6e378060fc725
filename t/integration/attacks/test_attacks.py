"""The attack suite: one test per row of the security checklist
(docs/security.md).

Each attack runs against nginx-h2x and apache-h2x over TLS and h2c and
asserts the documented defence: the GOAWAY (or reset, 431, close), server
RSS and CPU bounded, a benign client on its own connection answered within
a second throughout, one error log line naming the abuse, the status
counter moved.  The builtins run the same attacks (TLS) as a reference:
recorded in build/attacks/reference.md, never asserted.
"""

import socket
import struct
import time

import hpack
import pytest

from h2xtest import raw
from h2xtest.attack import ROWS, Outcome, flood, outcome_of, repeat, run
from h2xtest.raw import (frame, DATA, HEADERS, PRIORITY, RST_STREAM,
                         SETTINGS, PING, WINDOW_UPDATE, CONTINUATION,
                         END_STREAM, END_HEADERS, ACK)

EYC = raw.ENHANCE_YOUR_CALM
MAX_ID = 2 ** 31 - 1


# --- HPACK blocks that do not touch the dynamic table (reusable) ----------

def block(fields):
    """A header block of literal never-indexed fields: the same bytes may
    be sent any number of times."""
    return hpack.Encoder().encode(
        [hpack.NeverIndexedHeaderTuple(n, v) for n, v in fields])


def req_block(tls, path="/index.html", method="GET"):
    return block([(":method", method), (":scheme", "https" if tls
                                        else "http"),
                  (":authority", "localhost"), (":path", path)])


def headers(sid, blk, end_stream=True, end_headers=True):
    return frame(HEADERS, (END_STREAM if end_stream else 0)
                 | (END_HEADERS if end_headers else 0), sid, blk)


def rst(sid, code=raw.CANCEL):
    return frame(RST_STREAM, 0, sid, struct.pack(">I", code))


def wu(sid, inc):
    return frame(WINDOW_UPDATE, 0, sid, struct.pack(">I", inc))


def hpack_literal_indexed(name, value):
    """Literal with incremental indexing, new name (RFC 7541 6.2.1);
    plain lengths below 127 bytes, else a 7-bit prefix integer."""
    def s(b):
        return _int(len(b), 7, 0) + b
    return b"\x40" + s(name) + s(value)


def _int(n, bits, first):
    top = (1 << bits) - 1
    if n < top:
        return bytes((first | n,))
    out = [first | top]
    n -= top
    while n >= 128:
        out.append((n & 0x7f) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


# --- the attacks -------------------------------------------------------------

def a_rapid_reset(t, tls):
    """HEADERS + RST_STREAM pairs, paced below the per-read stream cap,
    for requests that have no response yet (a reset after the response
    costs the server nothing): the reset budget (1000, 33/s) must end it.
    The requests wait for their body: nginx proxies /slow/ (request
    buffering reads the body first), Apache's handler discards the body
    before answering."""
    path = "/slow/x" if t.kind == "nginx" else "/index.html"
    b = req_block(tls, path)
    c = raw.connect(t, tls)
    t0 = time.monotonic()
    sent, why = 0, "done"
    for i in range(100):
        chunk = b"".join(headers(1 + 2 * (40 * i + j), b, end_stream=False)
                         + rst(1 + 2 * (40 * i + j)) for j in range(40))
        n, why = c.blast([chunk], seconds=5)
        sent += n
        if why != "done":
            break
        time.sleep(0.002)
    return outcome_of(c, t0, sent, why)


def a_rapid_reset_burst(t, tls):
    """30 000 HEADERS at once, far beyond the per-read new-stream cap and
    the concurrency limit: the excess is refused (REFUSED_STREAM).  No
    RST_STREAM is sent, so that the reset budget is untouched whatever the
    read sizes: sustained refusals themselves must end in GOAWAY
    ENHANCE_YOUR_CALM (the refusal side of CVE-2023-44487)."""
    b = req_block(tls)
    chunks = (b"".join(headers(1 + 2 * (300 * i + j), b) for j in range(300))
              for i in range(100))
    return flood(t, tls, chunks)


def _made_you_reset(t, tls, per_stream, path="/index.html", **kw):
    b = req_block(tls, path)
    streams = (headers(1 + 2 * i, b, end_stream=False)
               + per_stream(1 + 2 * i) for i in range(200))
    return flood(t, tls, streams, **kw)


def a_myr_window_update_zero(t, tls):
    return _made_you_reset(t, tls, lambda sid: wu(sid, 0))


def a_myr_window_overflow(t, tls):
    return _made_you_reset(t, tls, lambda sid: wu(sid, MAX_ID))


def a_myr_data_over_window(t, tls):
    """65 536 + 1 body bytes on a 64 KiB stream window.  The responses
    (1 MB, our window 0) cannot finish, so the streams are still open
    when the DATA comes (a server that answered already drops it)."""
    def data(sid):
        return b"".join(frame(DATA, 0, sid, b"x" * 16384) for _ in range(4)) \
            + frame(DATA, 0, sid, b"x")
    return _made_you_reset(t, tls, data, path="/1m.bin", window=0)


def a_continuation_zero(t, tls):
    """HEADERS without END_HEADERS, then empty CONTINUATIONs."""
    b = req_block(tls)
    return flood(t, tls, repeat(frame(CONTINUATION, 0, 1), 100000),
                 setup=[headers(1, b, end_headers=False)])


def a_continuation_large(t, tls):
    """HEADERS without END_HEADERS, then 10 MB of full CONTINUATIONs."""
    b = req_block(tls)
    payload = block([("x-c%04d" % i, "a" * 300) for i in range(48)])[:16384]
    return flood(t, tls, repeat(frame(CONTINUATION, 0, 1, payload), 640, 16),
                 setup=[headers(1, b, end_headers=False)])


def a_hpack_bomb(t, tls):
    """One 4 KB table entry referenced 10 000 times in one block."""
    b = req_block(tls) + hpack_literal_indexed(b"x-bomb", b"a" * 4000) \
        + b"\xbe" * 10000
    return flood(t, tls, [headers(1, b)])


def a_header_count_bomb(t, tls):
    """One cookie crumb in the table, referenced 10 000 times."""
    b = req_block(tls) + hpack_literal_indexed(b"cookie", b"a=b") \
        + b"\xbe" * 10000
    return flood(t, tls, [headers(1, b)])


def a_header_count_soft(t, tls):
    """150 cookie crumbs: over the field limit (100), not far over: 431."""
    b = req_block(tls) + hpack_literal_indexed(b"cookie", b"a=b") \
        + b"\xbe" * 149
    c = raw.connect(t, tls)
    t0 = time.monotonic()
    c.send(headers(1, b))
    return outcome_of(c, t0, until=c.ended(1))


def a_ping_flood(t, tls):
    return flood(t, tls, repeat(frame(PING, 0, 0, b"h2xflood"), 200000))


def a_settings_flood(t, tls):
    return flood(t, tls, repeat(frame(SETTINGS, 0, 0), 200000))


def a_settings_ack_flood(t, tls):
    return flood(t, tls, repeat(frame(SETTINGS, ACK, 0), 200000))


def a_settings_oversized(t, tls):
    entries = raw.settings_payload([(0x4, 65535)] * 2400)
    return flood(t, tls, [frame(SETTINGS, 0, 0, entries)])


def a_priority_flood(t, tls):
    chunks = (b"".join(frame(PRIORITY, 0, 1 + 2 * (1000 * i + j),
                             struct.pack(">IB", 0, 15)) for j in range(1000))
              for i in range(100))
    return flood(t, tls, chunks)


def a_window_update_flood(t, tls):
    """WINDOW_UPDATEs for a stream that has closed (allowed a while, RFC
    9113 5.1, then useless).  The response is read first: on an open
    stream they are legal flow control."""
    c = raw.connect(t, tls)
    t0 = time.monotonic()
    c.send(headers(1, req_block(tls)))
    c.response(1)
    sent, why = c.blast(repeat(wu(1, 1), 200000))
    return outcome_of(c, t0, sent, why)


def a_empty_data_flood(t, tls):
    b = req_block(tls, method="POST")
    return flood(t, tls, repeat(frame(DATA, 0, 1), 200000),
                 setup=[headers(1, b, end_stream=False)])


def a_empty_data_after_reset(t, tls):
    """Empty DATA frames for a stream the server has reset (a malformed
    request): ignored by RFC 9113 5.1, but not for free."""
    b = block([(":method", "POST"), (":scheme", "https" if tls else "http"),
               (":authority", "localhost"), (":path", "/"),
               ("Bad-Name", "x")])
    return flood(t, tls, repeat(frame(DATA, 0, 1), 200000),
                 setup=[headers(1, b, end_stream=False)])


def a_unknown_frame_flood(t, tls):
    return flood(t, tls, repeat(frame(0x20, 0, 0, b"x"), 200000))


def a_window_overflow(t, tls):
    return flood(t, tls, [wu(0, MAX_ID) + wu(0, MAX_ID)])


def a_oversized_frame(t, tls):
    """A DATA frame announcing 1 MiB (max frame size is 16 384)."""
    b = req_block(tls, method="POST")
    return flood(t, tls, [headers(1, b, end_stream=False),
                          frame(DATA, 0, 1, b"x" * 16384, length=1 << 20)])


def a_stream_id_exhaustion(t, tls):
    """Requests on stream ids near 2^31-1: answered, then graceful
    GOAWAY; no id wraps."""
    b = req_block(tls)
    c = raw.connect(t, tls)
    t0 = time.monotonic()
    c.send(headers(MAX_ID - 4, b), headers(MAX_ID - 2, b),
           headers(MAX_ID, b))
    return outcome_of(c, t0, until=lambda fs: c.ended(MAX_ID)(fs)
                      and c.last_goaway() is not None)


def a_zero_window(t, tls):
    """Stream window 0: responses cannot move; the server must give up
    on them (reset) without holding memory."""
    c = raw.connect(t, tls, window=0)
    c.window_updates = False
    t0 = time.monotonic()
    b = req_block(tls, "/1m.bin")
    c.send(*[headers(1 + 2 * i, b) for i in range(20)])
    return outcome_of(c, t0, until=lambda fs: len(c.of(raw.RstStreamFrame))
                      >= 1 or c.last_goaway() is not None, timeout=12)


def a_slow_reader(t, tls):
    """Open windows, 40 x 1 MB requested, the client never reads: output
    back-pressure (the server stops reading and holds its memory), then
    send_timeout / Timeout end the streams or the connection."""
    c = raw.connect(t, tls, window=MAX_ID)
    t0 = time.monotonic()
    c.send(wu(0, MAX_ID - 65535))
    b = req_block(tls, "/1m.bin")
    c.send(*[headers(1 + 2 * i, b) for i in range(40)])
    time.sleep(4)                 # never read: back-pressure
    # then read what is left: resets, GOAWAY, the close
    return outcome_of(c, t0, until=lambda fs: False, timeout=10)


def a_idle_connections(t, tls, n=100):
    """n connections that only send the preface: all are served at once
    (their SETTINGS within 3 s), and each gets GOAWAY after the idle
    timeout (3 s in these servers)."""
    conns = []
    t0 = time.monotonic()
    for _ in range(n):
        conns.append(raw.connect(t, tls, timeout=10))
    t_conn = time.monotonic() - t0
    goaways = 0
    codes = {}
    for c in conns:
        c.window_updates = False
        c.read(c.got_goaway, timeout=max(0.1, t0 + t_conn + 8
                                         - time.monotonic()))
        g = c.last_goaway()
        if g is not None:
            goaways += 1
            codes[g.error_code] = codes.get(g.error_code, 0) + 1
        c.close()
    return Outcome(goaway=max(codes) if codes else None,
                   seconds=time.monotonic() - t0,
                   ok=goaways == n and t_conn < 3,
                   note="%d/%d GOAWAY, all SETTINGS in %.1fs"
                   % (goaways, n, t_conn))


def a_invalid_preface(t, tls):
    """A TLS connection that negotiated h2 and sends no preface."""
    c = raw.connect(t, tls, preface=False)
    t0 = time.monotonic()
    c.send_raw(b"PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n" + b"\0" * 64)
    return outcome_of(c, t0, until=lambda fs: False, timeout=2)


def a_many_connections(t, tls, n=2000):
    """n connections at once, each sending the preface; held open while
    the benign client keeps going, then checked and closed.  Apache: 1000
    (its event MPM with one child of 64 threads accepts about 1100 at
    once, for mod_http2 as for h2x)."""
    if t.kind == "apache":
        n = 500
    t0 = time.monotonic()
    socks = []
    hello = raw.PREFACE + frame(SETTINGS, 0, 0)
    for _ in range(n):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", t.h2c_port))
        socks.append(s)
    time.sleep(0.5)
    for s in socks:
        try:
            s.send(hello)
        except OSError:
            pass
    time.sleep(1.5)
    answered = 0
    for s in socks:
        try:
            if len(s.recv(4096)) >= 9:
                answered += 1
        except OSError:
            pass
        s.close()
    return Outcome(seconds=time.monotonic() - t0, ok=answered == n,
                   note="%d/%d answered SETTINGS" % (answered, n))


# --- the table: attack, expected outcome, counter, log pattern ----------

# frames a glitch flood gets through: the budget (1000), its refill
# (100/s) and the benign client's frames meanwhile
GLITCHES = 1300


class A:
    def __init__(self, name, fn, counter=None, log=None, tls_only=False,
                 h2c_only=False, xfail=None, per_kind=None, **expect):
        self.name, self.fn, self.counter, self.log = name, fn, counter, log
        self.per_kind = per_kind or {}  # kind -> expectations that differ
        self.schemes = ([True] if tls_only else [False] if h2c_only
                        else [True, False])
        self.xfail = xfail or {}
        self.expect = expect


ATTACKS = [
    # budget: 1000 resets + 33/s, plus the streams of the last read
    A("rapid_reset", a_rapid_reset, goaway=EYC, counter="rapid_reset",
      max_responses=1300,
      log=r"client sent too many streams that were reset or refused"),
    A("rapid_reset_burst", a_rapid_reset_burst, goaway=EYC,
      counter="rapid_reset",
      log=r"client sent too many streams that were reset or refused",
      ),
    # budget: h2x_max_stream_errors / H2XMaxStreamErrors (16)
    A("madeyoureset_window_update_0", a_myr_window_update_zero, goaway=EYC,
      reset_count=(raw.PROTOCOL_ERROR, 16),
      counter="stream_errors", log=r"client caused too many stream errors"),
    A("madeyoureset_window_overflow", a_myr_window_overflow, goaway=EYC,
      reset_count=(raw.FLOW_CONTROL_ERROR, 16),
      counter="stream_errors", log=r"client caused too many stream errors"),
    A("madeyoureset_data_over_window", a_myr_data_over_window, goaway=EYC,
      reset_count=(raw.FLOW_CONTROL_ERROR, 16),
      counter="stream_errors", log=r"client caused too many stream errors"),
    A("continuation_flood_empty", a_continuation_zero, goaway=EYC,
      max_frames=("in_continuation", 9),
      counter="continuation_flood",
      log=r"client sent too many .*CONTINUATION"),
    A("continuation_flood_large", a_continuation_large, goaway=EYC,
      max_frames=("in_continuation", 9),
      counter="hpack_bomb", log=r"client sent too large header"),
    A("hpack_bomb", a_hpack_bomb, goaway=EYC, counter="hpack_bomb",
      log=r"client sent too large header"),
    A("header_count_bomb", a_header_count_bomb, goaway=EYC,
      counter="hpack_bomb", log=r"client sent too (large|many)"),
    A("header_count_431", a_header_count_soft, status=431,
      counter="header_too_large", log=r"client sent too (large|many)"),
    A("ping_flood", a_ping_flood, goaway=EYC, counter="ping_flood",
      max_frames=("in_ping", GLITCHES),
      log=r"client sent too many PING frames"),
    A("settings_flood", a_settings_flood, goaway=EYC,
      max_frames=("in_settings", GLITCHES),
      counter="settings_flood", log=r"client sent too many SETTINGS frames"),
    A("settings_ack_flood", a_settings_ack_flood, goaway=EYC,
      max_frames=("in_settings", GLITCHES),
      counter="settings_flood",
      log=r"client sent too many SETTINGS ACK frames"),
    A("settings_oversized", a_settings_oversized, goaway=EYC,
      counter="settings_flood", log=r"client sent SETTINGS frame"),
    A("priority_flood", a_priority_flood, goaway=EYC,
      max_frames=("in_priority", GLITCHES),
      counter="priority_flood", log=r"client sent too many PRIORITY frames"),
    A("window_update_flood", a_window_update_flood, goaway=EYC,
      max_frames=("in_window_update", GLITCHES),
      counter="window_update_flood",
      log=r"client sent too many WINDOW_UPDATE frames"),
    A("empty_data_flood", a_empty_data_flood, goaway=EYC,
      max_frames=("in_data", GLITCHES),
      counter="empty_frame_flood", log=r"client sent too many empty frames"),
    A("empty_data_after_reset", a_empty_data_after_reset, goaway=EYC,
      max_frames=("in_data", GLITCHES),
      counter="empty_frame_flood", log=r"client sent too many empty frames"),
    A("unknown_frame_flood", a_unknown_frame_flood, goaway=EYC,
      max_frames=("in_other", GLITCHES),
      counter="unknown_frame_flood",
      log=r"client sent too many unknown frames"),
    A("window_overflow", a_window_overflow, goaway=raw.FLOW_CONTROL_ERROR,
      counter="goaways_out", log=r"client sent WINDOW_UPDATE frame"),
    A("oversized_frame", a_oversized_frame, goaway=raw.FRAME_SIZE_ERROR,
      counter="goaways_out", log=r"client sent frame with length exceeding"),
    A("stream_id_exhaustion", a_stream_id_exhaustion, goaway=raw.NO_ERROR,
      counter="stream_id_exhausted"),
    # send_timeout on nginx resets with PROTOCOL_ERROR, as the builtin does
    A("zero_window", a_zero_window, resets=raw.INTERNAL_ERROR,
      per_kind={"nginx": {"resets": raw.PROTOCOL_ERROR}},
      counter="resets_out"),
    A("slow_reader", a_slow_reader, closed=True),
    A("idle_connections", a_idle_connections, goaway=raw.NO_ERROR),
    A("invalid_preface", a_invalid_preface, tls_only=True, closed=True,
      goaway=raw.PROTOCOL_ERROR, log=r"client sent invalid connection"),
    A("many_connections", a_many_connections, h2c_only=True),
]


def _params():
    out = []
    for a in ATTACKS:
        for name in ("nginx-h2x", "apache-h2x"):
            for tls in a.schemes:
                marks = []
                if name in a.xfail:
                    marks.append(pytest.mark.xfail(strict=True,
                                                   reason=a.xfail[name]))
                out.append(pytest.param(a, name, tls, marks=marks, id="%s-%s-%s"
                                        % (a.name, name,
                                           "h2" if tls else "h2c")))
        for name in ("nginx-builtin", "apache-builtin"):
            tls = a.schemes[0]
            out.append(pytest.param(a, name, tls, id="%s-%s-%s" % (
                a.name, name, "h2" if tls else "h2c")))
    return out


@pytest.mark.parametrize("attack,atarget,tls", _params(),
                         indirect=["atarget"])
def test_attack(attack, atarget, tls):
    res = run(atarget, tls, attack.name, attack.fn, counter=attack.counter,
              log=attack.log)
    ROWS.append(res.row())
    print(res.summary())
    if atarget.engine != "h2x":
        return                          # the reference: recorded only
    expect = dict(attack.expect, **attack.per_kind.get(atarget.kind, {}))
    res.check(counter=attack.counter, log=attack.log, **expect)
