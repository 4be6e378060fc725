"""Raw HTTP/2 frames over TLS (ALPN h2) or cleartext, for protocol tests.

Built on Debian's python3-hyperframe and python3-hpack (not on h2's state
machine, which would refuse to send the invalid frames these tests need).

    c = RawH2(port, tls=True)
    c.send(c.headers_frame(1, [(":method", "GET"), ...], end_stream=True))
    status, headers, body, reset = c.response(1)
    frame = c.wait(GoAwayFrame)
"""

import socket
import ssl
import time

import hpack
from hyperframe.frame import (Frame, HeadersFrame, SettingsFrame,
                              WindowUpdateFrame, PingFrame, DataFrame,
                              ContinuationFrame,
                              GoAwayFrame, RstStreamFrame)

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


class Closed(Exception):
    pass


class RawH2:
    def __init__(self, port, tls=False, host="127.0.0.1", preface=True,
                 timeout=5.0, window=None, server_name="localhost",
                 alpn=("h2",)):
        sock = socket.create_connection((host, port), timeout=timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if tls:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            ctx.set_alpn_protocols(list(alpn))
            sock = ctx.wrap_socket(sock, server_hostname=server_name)
            self.alpn = sock.selected_alpn_protocol()
        else:
            self.alpn = None
        self.sock = sock
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
            settings = SettingsFrame(0)
            if window is not None:
                settings.settings[SettingsFrame.INITIAL_WINDOW_SIZE] = window
            self.send_raw(PREFACE + settings.serialize())
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
        self.send_raw(b"".join(f.serialize() for f in frames))

    def headers_frame(self, sid, headers, end_stream=True, end_headers=True):
        f = HeadersFrame(sid)
        f.data = self.enc.encode(headers)
        if end_stream:
            f.flags.add("END_STREAM")
        if end_headers:
            f.flags.add("END_HEADERS")
        return f

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
        frame, length = Frame.parse_frame_header(self.buf[:9])
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
        if isinstance(frame, HeadersFrame):
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

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()
