"""Raw HTTP/2 frames over TLS (ALPN h2) or cleartext (prior knowledge).

The one raw-frame client of the tests.  Built on Debian's
python3-hyperframe and python3-hpack (not on h2's state machine, which
would refuse to send the invalid frames these tests need).

    c = RawH2(port, tls=True)            # or connect(target, tls=True)
    c.send(c.headers_frame(1, [(":method", "GET"), ...], end_stream=True))
    status, headers, body, reset, trailers = c.response(1)
    frame = c.wait(GoAwayFrame)

Two ways of reading: wait()/response()/goaway()/eof() consume frames one
by one and raise Closed or socket.timeout; read(until) collects frames into
`frames` until a predicate holds and never raises (for the of(), status(),
body(), last_goaway() helpers).  blast() writes many frames without
reading (floods), frame() builds any frame, valid or not, as bytes.
"""

import socket
import ssl
import struct
import time

import hpack
from hyperframe.frame import (Frame, HeadersFrame, SettingsFrame,
                              WindowUpdateFrame, PingFrame, DataFrame,
                              ContinuationFrame, GoAwayFrame, RstStreamFrame)

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

# frame types
DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, \
    GOAWAY, WINDOW_UPDATE, CONTINUATION = range(10)

# flags
END_STREAM, ACK, END_HEADERS, PADDED, PRIORITY_FLAG = 0x1, 0x1, 0x4, 0x8, \
    0x20

# error codes (RFC 9113 7)
NO_ERROR = 0x0
PROTOCOL_ERROR = 0x1
INTERNAL_ERROR = 0x2
FLOW_CONTROL_ERROR = 0x3
SETTINGS_TIMEOUT = 0x4
STREAM_CLOSED = 0x5
FRAME_SIZE_ERROR = 0x6
REFUSED_STREAM = 0x7
CANCEL = 0x8
COMPRESSION_ERROR = 0x9
ENHANCE_YOUR_CALM = 0xb

ERROR_NAMES = {
    0x0: "NO_ERROR", 0x1: "PROTOCOL_ERROR", 0x2: "INTERNAL_ERROR",
    0x3: "FLOW_CONTROL_ERROR", 0x4: "SETTINGS_TIMEOUT",
    0x5: "STREAM_CLOSED", 0x6: "FRAME_SIZE_ERROR", 0x7: "REFUSED_STREAM",
    0x8: "CANCEL", 0x9: "COMPRESSION_ERROR", 0xa: "CONNECT_ERROR",
    0xb: "ENHANCE_YOUR_CALM", 0xc: "INADEQUATE_SECURITY",
    0xd: "HTTP_1_1_REQUIRED",
}


def frame(ftype, flags=0, sid=0, payload=b"", length=None):
    """One frame as bytes; any type, flags, stream and length (a length
    that does not match the payload makes a broken frame on purpose)."""
    n = len(payload) if length is None else length
    return struct.pack(">I", n)[1:] + bytes((ftype, flags)) + \
        struct.pack(">I", sid & 0xffffffff) + payload


def settings_payload(pairs):
    return b"".join(struct.pack(">HI", k, v) for k, v in pairs)


class Closed(Exception):
    pass


_contexts = {}


def _tls_context(alpn):
    """One client context per ALPN list (loading one costs ~50 ms)."""
    ctx = _contexts.get(alpn)
    if ctx is None:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ctx.set_alpn_protocols(list(alpn))
        _contexts[alpn] = ctx
    return ctx


class RawH2:
    def __init__(self, port, tls=False, host="127.0.0.1", preface=True,
                 timeout=5.0, window=None, server_name="localhost",
                 alpn=("h2",), settings=None, wait_settings=True):
        sock = socket.create_connection((host, port), timeout=timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if tls:
            sock = _tls_context(tuple(alpn)).wrap_socket(
                sock, server_hostname=server_name)
            self.alpn = sock.selected_alpn_protocol()
        else:
            self.alpn = None
        self.sock = sock
        self.tls = tls
        self.scheme = "https" if tls else "http"
        self.timeout = timeout
        self.buf = b""
        self.enc = hpack.Encoder()
        self.dec = hpack.Decoder()
        self.frames = []          # everything received, in order
        self.unread = []          # frames not yet taken by response()
        self.window_updates = True
        self.closed = False
        self.send_failed = False
        self.reset_sent = set()   # no frames on streams we reset (5.1)
        self.auto_ack = True
        if preface:
            f = SettingsFrame(0)
            for k, v in (settings or {}).items():
                f.settings[k] = v
            if window is not None:
                f.settings[SettingsFrame.INITIAL_WINDOW_SIZE] = window
            self.send_raw(PREFACE + f.serialize())
            if wait_settings:
                # the server's SETTINGS, acknowledged at once (a busy test
                # client must not run into the server's SETTINGS timeout)
                self.wait(SettingsFrame, pred=lambda f: "ACK" not in f.flags)

    # --- sending -----------------------------------------------------------

    def send_raw(self, data):
        """Sends; a peer that already closed is not an error here (its
        GOAWAY may be waiting in our receive buffer)."""
        try:
            self.sock.sendall(data)
        except (OSError, ssl.SSLError):
            self.send_failed = True

    def send(self, *frames):
        for f in frames:
            if isinstance(f, RstStreamFrame):
                self.reset_sent.add(f.stream_id)
        self.send_raw(b"".join(f if isinstance(f, bytes) else f.serialize()
                               for f in frames))

    def blast(self, chunks, seconds=10.0, stall=1.0):
        """Writes `chunks` (an iterable of bytes) without reading.  Stops
        at the end, when the peer closed, after `seconds`, or when one
        write is blocked for `stall` seconds (the server stopped reading).
        Returns (bytes written, why) with why "done", "closed", "time" or
        "stalled"."""
        sent = 0
        end = time.monotonic() + seconds
        self.sock.settimeout(stall)
        why = "done"
        try:
            for data in chunks:
                if time.monotonic() > end:
                    why = "time"
                    break
                self.sock.sendall(data)
                sent += len(data)
        except (socket.timeout, TimeoutError):
            why = "stalled"
        except (OSError, ssl.SSLError):
            why = "closed"
            self.send_failed = True
        finally:
            self.sock.settimeout(self.timeout)
        return sent, why

    def headers_frame(self, sid, headers, end_stream=True, end_headers=True):
        f = HeadersFrame(sid)
        f.data = self.enc.encode(headers)
        if end_stream:
            f.flags.add("END_STREAM")
        if end_headers:
            f.flags.add("END_HEADERS")
        return f

    def request(self, sid, path="/index.html", method="GET", extra=(),
                end_stream=True, pseudo=None, authority="localhost"):
        """A request's HEADERS frame (`pseudo` replaces the pseudo-header
        fields, to send malformed ones)."""
        fields = pseudo if pseudo is not None else [
            (":method", method), (":scheme", self.scheme),
            (":authority", authority), (":path", path)]
        return self.headers_frame(sid, list(fields) + list(extra),
                                  end_stream=end_stream)

    def header_block(self, sid, headers, end_stream=True, max_frame=16384):
        """HEADERS + CONTINUATION frames for a block of any size."""
        block = self.enc.encode(headers)
        frames = []
        while True:
            part, block = block[:max_frame], block[max_frame:]
            f = HeadersFrame(sid) if not frames else ContinuationFrame(sid)
            f.data = part
            if not frames and end_stream:
                f.flags.add("END_STREAM")
            if not block:
                f.flags.add("END_HEADERS")
            frames.append(f)
            if not block:
                return frames

    def request_headers(self, path, method="GET", authority="localhost",
                        scheme="https", extra=()):
        return [(":method", method), (":scheme", scheme),
                (":authority", authority), (":path", path)] + list(extra)

    def get(self, sid, path, scheme="https", extra=(), end_stream=True,
            method="GET"):
        self.send(self.headers_frame(
            sid, self.request_headers(path, method=method, scheme=scheme,
                                      extra=extra), end_stream=end_stream))

    def data(self, sid, payload, end_stream=False):
        f = DataFrame(sid, payload)
        if end_stream:
            f.flags.add("END_STREAM")
        self.send(f)

    # --- receiving ---------------------------------------------------------

    def _fill(self, deadline):
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise socket.timeout("no frame in time")
            self.sock.settimeout(remaining)
            try:
                data = self.sock.recv(65536)
            except (ConnectionResetError, BrokenPipeError, ssl.SSLError):
                data = b""
            except OSError as e:
                if isinstance(e, (socket.timeout, TimeoutError)):
                    raise
                data = b""
            if not data:
                self.closed = True
                raise Closed()
            self.buf += data
            return

    def next_frame(self, timeout=None):
        """The next frame, or raises Closed / socket.timeout."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while len(self.buf) < 9:
            self._fill(deadline)
        frame, length = Frame.parse_frame_header(memoryview(self.buf[:9]))
        while len(self.buf) < 9 + length:
            self._fill(deadline)
        frame.parse_body(memoryview(self.buf[9:9 + length]))
        self.buf = self.buf[9 + length:]
        self.frames.append(frame)
        self.unread.append(frame)
        if (self.window_updates and isinstance(frame, DataFrame)
                and frame.flow_controlled_length):
            n = frame.flow_controlled_length
            if (frame.stream_id in self.reset_sent
                    or "END_STREAM" in frame.flags):
                self.send(WindowUpdateFrame(0, n))
            else:
                self.send(WindowUpdateFrame(0, n), WindowUpdateFrame(
                    frame.stream_id, n))
        if isinstance(frame, (HeadersFrame, ContinuationFrame)):
            try:
                frame.decoded = self.dec.decode(frame.data, raw=False)
            except Exception:
                frame.decoded = None
        if (self.auto_ack and isinstance(frame, SettingsFrame)
                and "ACK" not in frame.flags):
            self.send(SettingsFrame(0, flags=["ACK"]))
        return frame

    def wait(self, kind, timeout=None, pred=None):
        """Frames up to and including the first of `kind` (and pred)."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            f = self.next_frame(max(0.01, deadline - time.monotonic()))
            if isinstance(f, kind) and (pred is None or pred(f)):
                return f

    def read(self, until=None, timeout=None):
        """Reads frames until until(self.frames) holds, the peer closed or
        timeout; never raises.  Returns until(self.frames) (without a
        predicate: reads to EOF or timeout, returns self.closed)."""
        deadline = time.monotonic() + (timeout or self.timeout)
        pred = until or (lambda fs: False)
        while not pred(self.frames) and not self.closed:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                self.next_frame(left)
            except (Closed, socket.timeout, TimeoutError):
                break
            except Exception:       # garbage from the peer
                self.closed = True
                break
        return pred(self.frames) if until else self.closed

    def response(self, sid, timeout=None):
        """(status, headers, body, rst_code or None, trailers)."""
        deadline = time.monotonic() + (timeout or self.timeout)
        status, headers, body, trailers = None, [], b"", []
        while True:
            mine = [f for f in self.unread if f.stream_id == sid]
            if not mine:
                self.next_frame(max(0.01, deadline - time.monotonic()))
                continue
            f = mine[0]
            self.unread.remove(f)
            if isinstance(f, HeadersFrame):
                hs = f.decoded or []
                st = dict(hs).get(":status")
                if st is not None and not st.startswith("1"):
                    status, headers = int(st), hs
                elif st is None:
                    trailers = hs
                if "END_STREAM" in f.flags:
                    return status, headers, body, None, trailers
            elif isinstance(f, DataFrame):
                body += f.data
                if "END_STREAM" in f.flags:
                    return status, headers, body, None, trailers
            elif isinstance(f, RstStreamFrame):
                return status, headers, body, f.error_code, trailers

    def goaway(self, timeout=None):
        """Waits for the next GOAWAY frame (raises Closed / timeout)."""
        return self.wait(GoAwayFrame, timeout)

    def ping(self, payload=b"h2xping!"):
        self.send(PingFrame(0, payload))
        return self.wait(PingFrame, pred=lambda f: "ACK" in f.flags)

    def eof(self, timeout=None):
        """True once the server closed the connection (frames drained)."""
        deadline = time.monotonic() + (timeout or self.timeout)
        try:
            while time.monotonic() < deadline:
                self.next_frame(max(0.01, deadline - time.monotonic()))
        except Closed:
            return True
        except socket.timeout:
            return False
        return False

    # --- what was received (read() fills self.frames) -------------------

    def of(self, kind, sid=None):
        return [f for f in self.frames if isinstance(f, kind)
                and (sid is None or f.stream_id == sid)]

    def last_goaway(self):
        g = self.of(GoAwayFrame)
        return g[-1] if g else None

    def status(self, sid):
        for f in self.of(HeadersFrame, sid):
            d = dict(f.decoded or [])
            if ":status" in d and not d[":status"].startswith("1"):
                return int(d[":status"])
        return None

    def body(self, sid):
        return b"".join(f.data for f in self.of(DataFrame, sid))

    def ended(self, sid):
        """Predicate for read(): stream sid ended (END_STREAM or reset)."""
        return lambda frames: any(
            f.stream_id == sid and ("END_STREAM" in f.flags
                                    or isinstance(f, RstStreamFrame))
            for f in frames if isinstance(f, (HeadersFrame, DataFrame,
                                              RstStreamFrame)))

    @staticmethod
    def got_goaway(frames):
        """Predicate for read(): a GOAWAY arrived."""
        return any(isinstance(f, GoAwayFrame) for f in frames)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()


def connect(target, tls=True, **kw):
    """A RawH2 to a test Target's TLS or h2c port."""
    c = RawH2(target.tls_port if tls else target.h2c_port, tls=tls, **kw)
    if tls:
        assert c.alpn == "h2", c.alpn
    return c
