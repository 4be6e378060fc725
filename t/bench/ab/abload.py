"""Load and measurement for the A/B harness: h2load runs, idle HTTP/2
connections, server CPU and memory from /proc.  Standard library only."""

import os
import re
import resource
import socket
import ssl
import struct
import subprocess
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


# --- /proc --------------------------------------------------------------------

def cpu_seconds(pids):
    """utime+stime of the processes (all their threads), in seconds."""
    total = 0
    for pid in pids:
        try:
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])    # utime, stime
    return total / CLK_TCK


def rss_bytes(pids):
    """Resident set of the processes, summed (from /proc/<pid>/statm)."""
    total = 0
    for pid in pids:
        try:
            with open("/proc/%d/statm" % pid) as f:
                total += int(f.read().split()[1]) * PAGE
        except OSError:
            continue
    return total


def proc_status(pid, key):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def proc_env(pid, name):
    try:
        with open("/proc/%d/environ" % pid, "rb") as f:
            for item in f.read().split(b"\0"):
                k, _, v = item.partition(b"=")
                if k.decode() == name:
                    return v.decode()
    except OSError:
        return "?"
    return None


def cpu_busy():
    """{cpu index: busy seconds} from /proc/stat (all CPUs' time that was
    not idle or iowait), to see what else ran during a run."""
    out = {}
    try:
        with open("/proc/stat") as f:
            for line in f:
                if not line.startswith("cpu") or line.startswith("cpu "):
                    continue
                parts = line.split()
                vals = [int(v) for v in parts[1:9]]
                out[int(parts[0][3:])] = (sum(vals) - vals[3] - vals[4]) \
                    / CLK_TCK
    except OSError:
        pass
    return out


# --- h2load -------------------------------------------------------------------

class Run:
    """One h2load run and what was measured around it."""

    def __init__(self, cmd):
        self.cmd = cmd
        self.ok = 0            # requests with the expected status
        self.done = 0
        self.failed = 0        # failed (incl. errored, timeout) + non-2xx
        self.duration = 0.0    # measurement period (h2load's "finished in")
        self.rps = 0.0         # ok / duration
        self.mbps = 0.0        # all traffic, MB (10^6) per second
        self.mean_ms = None
        self.p99_ms = None
        self.cpu_s = 0.0       # server CPU seconds during the run
        self.client_cpu_s = 0.0
        self.wall = 0.0
        self.tls = {}          # protocol, cipher, temp key, alpn
        self.other = {}        # cpu -> share of it used by other processes
        self.rss_growth = 0    # server RSS late in the run minus before
        self.error = None      # why the run counts as failed as a whole
        self.output = ""

    @property
    def cpu_per_100k(self):
        return self.cpu_s / self.ok * 1e5 if self.ok else None

    @property
    def server_busy(self):
        return self.cpu_s / self.wall if self.wall else 0.0

    @property
    def client_busy(self):
        return self.client_cpu_s / self.wall if self.wall else 0.0

    @property
    def saturated(self):
        if self.server_busy >= 0.9:
            return "server"
        if self.client_busy >= 0.9:
            return "client"
        return "-"

    def value(self, metric):
        return self.mbps if metric == "MB/s" else self.rps


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def _ms(text):
    m = re.match(r"([\d.]+)(us|ms|s)$", text)
    return float(m.group(1)) * _UNITS[m.group(2)] if m else None


def parse_h2load(run, out, expect_status):
    run.output = out
    m = re.search(r"^finished in ([\d.]+)(us|ms|s),", out, re.M)
    if m:
        run.duration = float(m.group(1)) * _UNITS[m.group(2)] / 1e3
    m = re.search(r"^requests: (\d+) total, (\d+) started, (\d+) done, "
                  r"(\d+) succeeded, (\d+) failed, (\d+) errored, "
                  r"(\d+) timeout", out, re.M)
    if not m:
        run.error = "no summary from h2load"
        return
    total, started, done, succ, failed, errored, tmo = map(int, m.groups())
    run.done = done
    m = re.search(r"^status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, "
                  r"(\d+) 5xx", out, re.M)
    codes = list(map(int, m.groups())) if m else [0, 0, 0, 0]
    run.ok = codes[0]                       # every expected status is 2xx
    unexpected = sum(codes[1:])
    # h2load's "failed" already counts the errored and timed-out ones;
    # a non-2xx answer counts as "succeeded" there, but not here
    run.failed = failed + unexpected
    if expect_status and run.ok == 0 and done:
        run.error = "no %d response" % expect_status
    m = re.search(r"^traffic: .*?\((\d+)\) total", out, re.M)
    traffic = int(m.group(1)) if m else 0
    if run.duration > 0:
        run.rps = run.ok / run.duration
        run.mbps = traffic / run.duration / 1e6
    m = re.search(r"^time for request:\s+(\S+)\s+(\S+)\s+(\S+)", out, re.M)
    if m and run.done:
        run.mean_ms = _ms(m.group(3))
    for key, pat in (("protocol", r"^TLS Protocol: (.*)$"),
                     ("cipher", r"^Cipher: (.*)$"),
                     ("temp_key", r"^Server Temp Key: (.*)$"),
                     ("alpn", r"^Application protocol: (.*)$")):
        m = re.search(pat, out, re.M)
        if m:
            run.tls[key] = m.group(1).strip()


def p99_from_log(path):
    """99th percentile of the request durations in an h2load --log-file."""
    durs = []
    try:
        with open(path) as f:
            for line in f:
                parts = line.split("\t")
                if len(parts) >= 3:
                    durs.append(int(parts[2]))
    except OSError:
        return None
    if not durs:
        return None
    durs.sort()
    k = min(len(durs) - 1, int(len(durs) * 0.99))
    return durs[k] / 1e3


def run_h2load(args, server_pids, server_cpu, client_cpu, tls,
               expect_status, log_path, timeout, duration):
    """h2load with `args` (without the client pinning), measured."""
    cmd = (["taskset", "-c", str(client_cpu)] if client_cpu is not None
           else []) + ["h2load"] + args + ["--log-file", log_path]
    run = Run(cmd)
    try:
        os.unlink(log_path)
    except OSError:
        pass
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu0 = cpu_seconds(server_pids)
    busy0 = cpu_busy()
    rss0 = rss_bytes(server_pids)
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        # server memory late in the run, with every connection open
        time.sleep(max(0.0, duration * 0.8))
        run.rss_growth = rss_bytes(server_pids) - rss0
        out, _ = proc.communicate(timeout=timeout)
        rc = proc.returncode
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        rc = None
    run.wall = time.monotonic() - t0
    busy1 = cpu_busy()
    run.cpu_s = cpu_seconds(server_pids) - cpu0
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    run.client_cpu_s = (ru1.ru_utime - ru0.ru_utime) + \
        (ru1.ru_stime - ru0.ru_stime)
    for cpu in busy1:
        used = busy1[cpu] - busy0.get(cpu, busy1[cpu])
        if cpu == server_cpu:
            used -= run.cpu_s
        if cpu == client_cpu:
            used -= run.client_cpu_s
        run.other[cpu] = max(0.0, used / run.wall) if run.wall else 0.0
    parse_h2load(run, out, expect_status)
    if rc is None:
        run.error = "h2load did not finish within %ds (killed)" % timeout
    elif rc != 0 and not run.error:
        run.error = "h2load exited with status %d" % rc
    if tls and not run.error and run.tls.get("alpn") != "h2":
        run.error = "ALPN did not select h2 (%s)" % run.tls.get("alpn", "none")
    if not run.error and run.ok == 0:
        run.error = "no successful request"
    if not run.error:
        run.p99_ms = p99_from_log(log_path)
    try:
        os.unlink(log_path)
    except OSError:
        pass
    return run


# --- idle HTTP/2 connections ----------------------------------------------------

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def _frame(ftype, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + \
        struct.pack(">I", stream) + payload


def _hpack_literal(index, value):
    """Literal header field without indexing, indexed name, raw value."""
    v = value.encode()
    assert len(v) < 127
    return bytes([index]) + bytes([len(v)]) + v


def request_headers(path, tls, authority):
    block = b"\x82" + (b"\x87" if tls else b"\x86")   # GET, https/http
    block += _hpack_literal(0x04, path)                 # :path
    block += _hpack_literal(0x01, authority)            # :authority
    return block


class IdleConnection:
    """One HTTP/2 connection that completed the handshake and one GET,
    then stays open doing nothing."""

    def __init__(self, port, tls, path, timeout=5.0):
        self.sock = None
        raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        try:
            if tls:
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
                ctx.set_alpn_protocols(["h2"])
                s = ctx.wrap_socket(raw, server_hostname="localhost")
                if s.selected_alpn_protocol() != "h2":
                    raise OSError("ALPN did not select h2")
            else:
                s = raw
            self.sock = s
            s.sendall(PREFACE + _frame(4, 0, 0) + _frame(
                1, 0x5, 1, request_headers(path, tls,
                                           "localhost:%d" % port)))
            self._until_response_end()
        except BaseException:
            raw.close()
            raise

    def _read(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise OSError("connection closed by the server")
            buf += chunk
        return buf

    def _until_response_end(self):
        status = None
        while True:
            hdr = self._read(9)
            length = int.from_bytes(hdr[:3], "big")
            ftype, flags = hdr[3], hdr[4]
            stream = int.from_bytes(hdr[5:9], "big") & 0x7fffffff
            payload = self._read(length) if length else b""
            if ftype == 4 and not flags & 1:          # SETTINGS: ack it
                self.sock.sendall(_frame(4, 1, 0))
            elif ftype == 7:
                raise OSError("GOAWAY from the server")
            elif ftype == 3 and stream == 1:
                raise OSError("stream reset by the server")
            elif ftype == 1 and stream == 1:
                status = payload
            if stream == 1 and ftype in (0, 1) and flags & 1:
                if status is None:
                    raise OSError("no response headers")
                return

    def close(self):
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
            self.sock = None


def open_idle(port, tls, path, n, timeout=5.0):
    """n idle connections; returns (connections, errors).  Bounded: after
    two failures in a row (a server that stops answering new connections,
    e.g. one thread held per idle connection) the rest are not tried."""
    conns, errors = [], []
    deadline = time.monotonic() + 30 + n * 0.1
    streak = 0
    for i in range(n):
        if streak >= 2 or time.monotonic() > deadline:
            errors += ["gave up after %d connections (%s)"
                       % (len(conns), errors[-1] if errors
                          else "time limit")] * (n - i)
            break
        try:
            conns.append(IdleConnection(port, tls, path, timeout))
            streak = 0
        except (OSError, ssl.SSLError) as e:
            errors.append("connection %d: %s" % (i + 1, e or type(e)))
            streak += 1
    return conns, errors


def close_all(conns):
    for c in conns:
        c.close()
