"""A small HTTP/1.1 upstream for the nginx adapter's tests (proxy_pass).

    be = Backend(); be.start(); ... be.port ...; be.stop()

Endpoints:
  /echo        JSON: method, path, headers, body length and sha256 of the
               body (Content-Length or chunked request bodies)
  /big?n=N     N deterministic bytes (Content-Length)
  /chunked?n=N N bytes in chunked encoding
  /slow?ms=M   waits M ms, then answers; records aborted writes
  anything     404
"""

import hashlib
import http.server
import json
import socket
import threading
import time
import urllib.parse


def big_bytes(n):
    out = bytearray()
    i = 0
    while len(out) < n:
        out += hashlib.sha256(b"big" + i.to_bytes(8, "big")).digest()
        i += 1
    return bytes(out[:n])


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def _body(self):
        te = self.headers.get("Transfer-Encoding", "")
        if "chunked" in te.lower():
            data = bytearray()
            while True:
                line = self.rfile.readline()
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                data += self.rfile.read(size)
                self.rfile.readline()
            return bytes(data), "chunked"
        n = int(self.headers.get("Content-Length", "0") or 0)
        return (self.rfile.read(n) if n else b""), "length"

    def _send(self, status, body, ctype="application/octet-stream",
              headers=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _route(self):
        url = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(url.query))
        srv = self.server.backend
        body, framing = self._body()
        srv.requests.append((self.command, self.path, framing, len(body)))
        if url.path.endswith("/echo"):
            out = json.dumps({
                "method": self.command, "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "framing": framing, "length": len(body),
                "sha256": hashlib.sha256(body).hexdigest(),
            }).encode()
            self._send(200, out, "application/json")
        elif url.path.endswith("/big"):
            self._send(200, big_bytes(int(q.get("n", "1000"))))
        elif url.path.endswith("/chunked"):
            data = big_bytes(int(q.get("n", "1000")))
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(0, len(data), 4000):
                part = data[i:i + 4000]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
        elif url.path.endswith("/slow"):
            ms = int(q.get("ms", "1000"))
            deadline = time.monotonic() + ms / 1000.0
            aborted = False
            self.connection.settimeout(0.05)
            while time.monotonic() < deadline:
                try:
                    if self.connection.recv(1, socket.MSG_PEEK) == b"":
                        aborted = True
                        break
                except socket.timeout:
                    pass
                except OSError:
                    aborted = True
                    break
            self.connection.settimeout(None)
            if aborted:
                srv.aborted.append(self.path)
                self.close_connection = True
                return
            self._send(200, b"slow done\n", "text/plain")
        else:
            self._send(404, b"not found\n", "text/plain")

    do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = _route


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class Backend:
    def __init__(self):
        self.requests = []
        self.aborted = []
        self.httpd = _Server(("127.0.0.1", 0), _Handler)
        self.httpd.backend = self
        self.port = self.httpd.server_address[1]
        self.thread = None

    def start(self):
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       kwargs={"poll_interval": 0.1},
                                       daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class FastCGI:
    """A FastCGI responder on 127.0.0.1: answers every request with
    "Content-Type: text/plain" and a body "<method> <uri> <stdin length>"."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.running = True

    def start(self):
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def stop(self):
        self.running = False
        self.sock.close()

    def _accept(self):
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,),
                             daemon=True).start()

    @staticmethod
    def _read(conn, n):
        data = b""
        while len(data) < n:
            part = conn.recv(n - len(data))
            if not part:
                raise EOFError()
            data += part
        return data

    @staticmethod
    def _params(data):
        out, i = {}, 0
        while i < len(data):
            lens = []
            for _ in range(2):
                b = data[i]
                if b >> 7:
                    lens.append(int.from_bytes(data[i:i + 4], "big")
                                & 0x7fffffff)
                    i += 4
                else:
                    lens.append(b)
                    i += 1
            k = data[i:i + lens[0]]
            v = data[i + lens[0]:i + lens[0] + lens[1]]
            i += lens[0] + lens[1]
            out[k.decode()] = v.decode("latin-1")
        return out

    def _serve(self, conn):
        params, stdin, rid = b"", b"", 1
        try:
            while True:
                hdr = self._read(conn, 8)
                ver, typ, rid, clen, plen = hdr[0], hdr[1], \
                    int.from_bytes(hdr[2:4], "big"), \
                    int.from_bytes(hdr[4:6], "big"), hdr[6]
                content = self._read(conn, clen)
                self._read(conn, plen)
                if typ == 4:            # FCGI_PARAMS
                    params += content
                elif typ == 5:          # FCGI_STDIN
                    if not content:
                        break
                    stdin += content
            p = self._params(params)
            body = ("%s %s %d\n" % (p.get("REQUEST_METHOD"),
                                    p.get("REQUEST_URI"),
                                    len(stdin))).encode()
            out = b"Content-Type: text/plain\r\n\r\n" + body
            rec = bytes([1, 6]) + rid.to_bytes(2, "big") + \
                len(out).to_bytes(2, "big") + b"\0\0" + out
            rec += bytes([1, 6]) + rid.to_bytes(2, "big") + b"\0\0\0\0"
            rec += bytes([1, 3]) + rid.to_bytes(2, "big") + \
                (8).to_bytes(2, "big") + b"\0\0" + b"\0" * 8
            conn.sendall(rec)
        except (EOFError, OSError):
            pass
        finally:
            conn.close()
