"""Soak client that cancels responses mid-way (Debian's python3-h2).

On each connection, `resets` times: two streams at once, a 1 MiB response
cancelled with RST_STREAM(CANCEL) once some of it arrived, and a small one
that must complete; then one full 1 MiB response that must arrive intact.
Anything else (a reset or GOAWAY from the server, a wrong status or body,
a stall) is an error."""

import socket
import ssl
import time

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.exceptions
import h2.settings

import h2xservers as hs

TIMEOUT = 20.0
CANCEL_AFTER = 32 * 1024

_docs = {}


def doc(name):
    if name not in _docs:
        _docs[name] = hs.doc_bytes(name, hs.DOC_FILES[name]) \
            if name in hs.DOC_FILES else hs.INDEX_HTML
    return _docs[name]


class Result:
    def __init__(self):
        self.completed = 0
        self.resets = 0
        self.errors = []


class _Conn:
    def __init__(self, host, port, tls):
        sock = socket.create_connection((host, port), timeout=TIMEOUT)
        if tls:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            ctx.set_alpn_protocols(["h2"])
            sock = ctx.wrap_socket(sock, server_hostname="localhost")
            if sock.selected_alpn_protocol() != "h2":
                raise RuntimeError("ALPN chose %r"
                                   % sock.selected_alpn_protocol())
        self.sock = sock
        self.authority = "localhost:%d" % port
        self.scheme = "https" if tls else "http"
        self.h2 = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=True,
                                      header_encoding="utf-8"))
        self.h2.initiate_connection()
        # a large connection window: DATA still in flight on a cancelled
        # stream is never handed to us and so never acknowledged
        self.h2.increment_flow_control_window(1 << 30)
        self.flush()
        self.streams = {}           # id -> {"status", "body", "ended"}

    def flush(self):
        data = self.h2.data_to_send()
        if data:
            self.sock.sendall(data)

    def get(self, path):
        sid = self.h2.get_next_available_stream_id()
        self.h2.send_headers(sid, [(":method", "GET"), (":path", path),
                                   (":scheme", self.scheme),
                                   (":authority", self.authority)],
                             end_stream=True)
        self.streams[sid] = {"status": None, "body": bytearray(),
                             "ended": False}
        self.flush()
        return sid

    def cancel(self, sid):
        self.h2.reset_stream(sid, h2.errors.ErrorCodes.CANCEL)
        self.streams.pop(sid, None)
        self.flush()

    def pump(self, until):
        """Read and handle frames until until() is true."""
        deadline = time.monotonic() + TIMEOUT
        while not until():
            if time.monotonic() > deadline:
                raise RuntimeError("no progress for %.0fs" % TIMEOUT)
            data = self.sock.recv(65536)
            if not data:
                raise RuntimeError("server closed the connection")
            for ev in self.h2.receive_data(data):
                self.event(ev)
            self.flush()

    def event(self, ev):
        if isinstance(ev, h2.events.ResponseReceived):
            st = self.streams.get(ev.stream_id)
            if st is not None:
                st["status"] = dict(ev.headers).get(":status")
        elif isinstance(ev, h2.events.DataReceived):
            self.h2.acknowledge_received_data(
                ev.flow_controlled_length, ev.stream_id)
            st = self.streams.get(ev.stream_id)
            if st is not None:
                st["body"] += ev.data
        elif isinstance(ev, h2.events.StreamEnded):
            st = self.streams.get(ev.stream_id)
            if st is not None:
                st["ended"] = True
        elif isinstance(ev, h2.events.StreamReset):
            if ev.stream_id in self.streams:
                raise RuntimeError("server reset stream %d (code %s)"
                                   % (ev.stream_id, ev.error_code))
        elif isinstance(ev, h2.events.ConnectionTerminated):
            raise RuntimeError("GOAWAY (code %s, last stream %s)"
                               % (ev.error_code, ev.last_stream_id))

    def check(self, sid, expect):
        st = self.streams.pop(sid)
        if st["status"] != "200" or bytes(st["body"]) != expect:
            raise RuntimeError("stream %d: status %s, %d bytes (expected "
                               "200, %d bytes%s)" % (
                                   sid, st["status"], len(st["body"]),
                                   len(expect),
                                   ", other content" if len(st["body"]) ==
                                   len(expect) else ""))

    def close(self):
        try:
            self.h2.close_connection()
            self.flush()
        except Exception:
            pass
        self.sock.close()


def run(host, port, tls, path, size, conns=4, resets=6):
    """`conns` connections one after the other; returns a Result."""
    res = Result()
    big = doc(path.lstrip("/"))
    small = doc("index.html")
    assert len(big) == size
    for _ in range(conns):
        try:
            c = _Conn(host, port, tls)
        except (OSError, RuntimeError) as e:
            res.errors.append("connect: %s" % e)
            continue
        try:
            for _ in range(resets):
                a = c.get(path)
                b = c.get("/index.html")
                st = c.streams[a]
                c.pump(lambda: len(st["body"]) >= CANCEL_AFTER or st["ended"])
                if st["ended"]:
                    raise RuntimeError("1 MiB response ended before the "
                                       "cancel (%d bytes)" % len(st["body"]))
                c.cancel(a)
                res.resets += 1
                c.pump(lambda: c.streams[b]["ended"])
                c.check(b, small)
                res.completed += 1
            a = c.get(path)
            c.pump(lambda: c.streams[a]["ended"])
            c.check(a, big)
            res.completed += 1
        except (OSError, RuntimeError, ssl.SSLError,
                h2.exceptions.ProtocolError) as e:
            res.errors.append("%s: %s" % (type(e).__name__, e))
        finally:
            c.close()
    return res
