"""A small runner for HTTP/2 attacks against a test target.

    res = run(target, tls, attack)        # attack(target, tls) -> Outcome
    res.check(goaway=ENHANCE_YOUR_CALM, counter="ping_flood",
              log=r"client sent too many PING frames")

run() samples the server's processes (RSS, CPU), its h2x status counters
and its error log before and after the attack, and keeps a benign client
(GET /index.html every ~100 ms over its own h2 connection) going meanwhile.
Result.check() asserts what the attack suite promises for h2x targets;
Result.row() is what the reference table records for every target.
"""

import http.client
import json
import os
import re
import threading
import time

from hyperframe.frame import GoAwayFrame, RstStreamFrame, HeadersFrame

from h2xservers import file_size
from h2xtest import raw

# bounds for every attack: generous, but able to fail
MAX_RSS_GROWTH_KB = 64 * 1024
MAX_CPU_S = 10.0
MAX_BENIGN_LATENCY_S = 1.0

CLK_TCK = os.sysconf("SC_CLK_TCK")

# every run's Result.row(), for the reference table
ROWS = []


# --- the server's processes ------------------------------------------------

def _proc_pids(target):
    """Main process and children: by ppid in /proc (Target.pids)."""
    return target.pids


def proc_sample(target):
    """(RSS kB summed, CPU seconds summed, {pid: rss}) of the server."""
    rss_total, ticks, per = 0, 0, {}
    for pid in _proc_pids(target):
        try:
            with open("/proc/%d/status" % pid) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        per[pid] = int(line.split()[1])
                        rss_total += per[pid]
                        break
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])     # utime + stime
        except (OSError, ValueError, IndexError):
            continue
    return rss_total, ticks / CLK_TCK, per


# --- h2x status counters ---------------------------------------------------

STATUS_PATH = {"nginx": "/h2x_status", "apache": "/h2x-status"}


def status(target):
    """Flat counters of the h2x status page ({} for builtin targets):
    the "abuse" names, goaways_out, resets_out, streams_refused and
    frames_in by type as in_ping, in_data, ..., in_other."""
    if target.engine != "h2x":
        return {}
    conn = http.client.HTTPConnection("127.0.0.1", target.http1_port,
                                      timeout=5)
    try:
        conn.request("GET", STATUS_PATH[target.kind])
        r = conn.getresponse()
        body = r.read()
        if r.status != 200:
            return {}
    except OSError:
        return {}
    finally:
        conn.close()
    j = json.loads(body)
    out = dict(j.get("abuse", {}))
    for name, n in j.get("frames_in", {}).items():      # in_PING, ...
        out["in_" + name.lower()] = n
    if "totals" in j:                                   # Apache
        out.update(j["totals"])
    else:                                               # nginx
        out["goaways_out"] = j["goaways"]["sent"]
        out["resets_out"] = j["resets"]["sent"]
        out["streams_refused"] = j["streams"]["refused"]
        out["streams"] = j["streams"]["total"]
    return out


# --- the benign client -----------------------------------------------------

class Benign(threading.Thread):
    """GET /index.html every ~100 ms over its own h2 connection; records
    the latencies and failures (a failed request reconnects).  A request
    the server did not take because it closed the idle connection with
    GOAWAY is retried on a new one, as RFC 9113 6.8 lets clients do
    (counted in reconnects, not failures)."""

    def __init__(self, target, tls=False, interval=0.1):
        super().__init__(daemon=True)
        self.target, self.tls, self.interval = target, tls, interval
        self.stop_ev = threading.Event()
        self.latencies = []
        self.failures = []
        self.conn = None
        self.sid = 1
        self.reconnects = 0       # after a graceful GOAWAY, not failures

    def _connect(self):
        self.conn = raw.connect(self.target, self.tls, timeout=3)
        self.sid = 1

    def start(self):
        self._connect()             # up before the attack begins
        super().start()

    def _get(self):
        sid = self.sid
        self.sid += 2
        self.conn.send(self.conn.request(sid))
        try:
            st, _, _, rst, _ = self.conn.response(sid, timeout=3)
        except raw.Closed:
            g = self.conn.last_goaway()
            if g is None or g.last_stream_id >= sid:
                raise
            # a graceful close of the idle connection (RFC 9113 6.8: the
            # request was not processed): a client retries on a new one
            self.reconnects += 1
            self.conn.close()
            self._connect()
            return self._get()
        if st != 200:
            raise RuntimeError("status %s reset %s" % (st, rst))
        self.conn.unread.clear()
        self.conn.frames.clear()

    def run(self):
        while not self.stop_ev.is_set():
            t0 = time.monotonic()
            try:
                if self.conn is None:
                    self._connect()
                self._get()
                self.latencies.append(time.monotonic() - t0)
            except Exception as e:            # noqa: BLE001 - recorded
                self.failures.append("%.2fs %r" % (time.monotonic() - t0, e))
                if self.conn is not None:
                    self.conn.close()
                self.conn = None
            self.stop_ev.wait(self.interval)

    def stop(self):
        self.stop_ev.set()
        self.join(10)
        if self.conn is not None:
            self.conn.close()

    @property
    def max_latency(self):
        return max(self.latencies) if self.latencies else None


# --- what the attack connection saw ----------------------------------------

class Outcome:
    """What the attacked connection(s) saw."""

    def __init__(self, goaway=None, resets=None, statuses=None,
                 closed=False, seconds=0.0, sent=0, why="", note="",
                 last_stream=None, ok=None):
        self.goaway = goaway          # error code of the first GOAWAY
        self.last_stream = last_stream
        self.resets = resets or {}    # code -> count of RST_STREAM
        self.statuses = statuses or {}    # status -> count
        self.closed = closed          # server closed the connection
        self.seconds = seconds        # attack start to detection/end
        self.sent = sent              # bytes written
        self.why = why                # how the write loop ended
        self.note = note
        self.ok = ok                  # the attack's own verdict, if any

    def describe(self):
        parts = []
        if self.goaway is not None:
            parts.append("GOAWAY %s" % raw.ERROR_NAMES.get(
                self.goaway, hex(self.goaway)))
        if self.resets:
            parts.append(", ".join("RST %s x%d" % (
                raw.ERROR_NAMES.get(c, hex(c)), n)
                for c, n in sorted(self.resets.items())))
        if self.statuses:
            parts.append(", ".join("%s x%d" % (s, n) for s, n in
                                   sorted(self.statuses.items())))
        if self.closed and self.goaway is None:
            parts.append("closed")
        if not parts:
            parts.append("nothing")
        if self.note:
            parts.append(self.note)
        return "; ".join(parts)


def outcome_of(conn, t0, sent=0, why="", until=None, timeout=2.0):
    """Reads the attacked connection until a GOAWAY (or `until`), EOF or
    timeout, and summarizes it."""
    if until is None:
        until = raw.RawH2.got_goaway
    conn.window_updates = False
    conn.read(until, timeout=timeout)
    t1 = time.monotonic()
    if conn.last_goaway() is not None:
        # the close after the GOAWAY, briefly
        conn.read(None, timeout=1.0)
    g = conn.of(GoAwayFrame)
    resets = {}
    for f in conn.of(RstStreamFrame):
        resets[f.error_code] = resets.get(f.error_code, 0) + 1
    statuses = {}
    for f in conn.of(HeadersFrame):
        st = dict(f.decoded or []).get(":status")
        if st is not None:
            statuses[st] = statuses.get(st, 0) + 1
    out = Outcome(goaway=g[0].error_code if g else None,
                  last_stream=g[0].last_stream_id if g else None,
                  resets=resets, statuses=statuses, closed=conn.closed,
                  seconds=t1 - t0, sent=sent, why=why)
    conn.close()
    return out


def flood(target, tls, chunks, setup=(), seconds=10.0, stall=2.0,
          until=None, timeout=2.0, **kw):
    """The common attack: connect, send `setup` frames, write `chunks`
    without reading, then read what the server did (for `timeout`
    seconds: less than the suite's idle timeout, so that an idle GOAWAY
    is not taken for a verdict)."""
    c = raw.connect(target, tls, **kw)
    t0 = time.monotonic()
    if setup:
        c.send(*setup)
    sent, why = c.blast(chunks, seconds=seconds, stall=stall)
    return outcome_of(c, t0, sent, why, until=until, timeout=timeout)


def repeat(data, count, batch=1000):
    """`count` copies of bytes `data`, in writes of `batch` copies."""
    full, rest = divmod(count, batch)
    block = data * batch
    for _ in range(full):
        yield block
    if rest:
        yield data * rest


# --- the run ---------------------------------------------------------------

class Result:
    def __init__(self, target, tls, name):
        self.target, self.tls, self.name = target, tls, name
        self.outcome = None
        self.rss_before = self.rss_after = self.rss_peak = 0
        self.cpu = 0.0
        self.counters_before, self.counters_after = {}, {}
        self.log = ""
        self.benign = None
        self.seconds = 0.0

    @property
    def scheme(self):
        return "h2" if self.tls else "h2c"

    @property
    def rss_growth_kb(self):
        return self.rss_peak - self.rss_before

    def counter(self, name):
        return self.counters_after.get(name, 0) - \
            self.counters_before.get(name, 0)

    def log_lines(self, pattern):
        return [l for l in self.log.splitlines() if re.search(pattern, l)]

    def summary(self):
        b = self.benign
        return ("%s %s %s: %s in %.2fs (sent %d B, %s); RSS +%d kB, CPU "
                "%.2fs; benign max %s, %d failures %s, %s reconnects; "
                "counters %s" % (
                    self.target.name, self.scheme, self.name,
                    self.outcome.describe(), self.outcome.seconds,
                    self.outcome.sent, self.outcome.why, self.rss_growth_kb,
                    self.cpu, b and b.max_latency, b and len(b.failures),
                    b and b.failures[:3], b and b.reconnects,
                    {k: self.counter(k) for k in self.counters_after
                     if self.counter(k)}))

    def check(self, goaway=None, resets=None, status=None, closed=None,
              counter=None, log=None, within=None, reset_count=None,
              max_responses=None, max_frames=None,
              max_rss_kb=MAX_RSS_GROWTH_KB, max_cpu=MAX_CPU_S):
        """Asserts the documented defence.  goaway/resets/status: the
        expected GOAWAY code, RST_STREAM code or response status (any of
        them given must be seen); closed: the connection must be closed;
        counter: the status counter that must have moved; log: a regex
        one error log line must match; within: seconds to detection;
        reset_count: (code, n) exactly n RST_STREAM with code before the
        verdict (a budget); max_responses: at most that many responses
        were started before the verdict; max_frames: (counter, n) the
        server took at most n frames of the flood (all connections)."""
        o, s = self.outcome, self.summary()
        if goaway is not None:
            assert o.goaway == goaway, s
        if resets is not None:
            assert o.resets.get(resets), s
        if status is not None:
            assert o.statuses.get(str(status)), s
        if closed is not None:
            assert o.closed == closed, s
        if within is not None:
            assert o.seconds <= within, s
        assert o.ok is not False, s
        if reset_count is not None:
            assert o.resets.get(reset_count[0], 0) == reset_count[1], s
        if max_responses is not None:
            assert sum(o.statuses.values()) <= max_responses, s
        if max_frames is not None and self.counters_after:
            assert self.counter(max_frames[0]) <= max_frames[1], \
                s + " %s: %d" % (max_frames[0], self.counter(max_frames[0]))
        assert self.rss_growth_kb < max_rss_kb, s
        assert self.cpu < max_cpu, s
        b = self.benign
        assert not b.failures, s
        assert b.latencies, s
        assert b.max_latency < MAX_BENIGN_LATENCY_S, s
        if counter is not None:
            assert self.counter(counter) >= 1, s
        if log is not None:
            assert self.log_lines(log), s + "\nlog:\n" + self.log[-3000:]

    def row(self):
        b = self.benign
        return {
            "attack": self.name, "target": self.target.name,
            "scheme": self.scheme, "outcome": self.outcome.describe(),
            "seconds": round(self.outcome.seconds, 2),
            "rss_kb": self.rss_growth_kb, "cpu": round(self.cpu, 2),
            "benign_max": round(b.max_latency, 3) if b and b.latencies
            else None,
            "benign_failures": len(b.failures) if b else None,
            "benign_reconnects": b.reconnects if b else None,
        }


def run(target, tls, name, attack, counter=None, log=None,
        benign_tls=None, settle=0.3):
    """Runs attack(target, tls) -> Outcome with the probes around it."""
    res = Result(target, tls, name)
    log_offset = file_size(target.error_log)
    res.counters_before = status(target)
    res.rss_before, cpu0, _ = proc_sample(target)
    res.rss_peak = res.rss_before
    res.benign = Benign(target, tls if benign_tls is None else benign_tls)
    res.benign.start()

    done = threading.Event()

    def sampler():
        while not done.wait(0.1):
            rss = proc_sample(target)[0]
            res.rss_peak = max(res.rss_peak, rss)

    th = threading.Thread(target=sampler, daemon=True)
    th.start()
    t0 = time.monotonic()
    try:
        res.outcome = attack(target, tls)
    finally:
        time.sleep(settle)
        done.set()
        th.join()
        res.benign.stop()
    res.seconds = time.monotonic() - t0
    res.rss_after, cpu1, _ = proc_sample(target)
    res.rss_peak = max(res.rss_peak, res.rss_after)
    res.cpu = cpu1 - cpu0

    # Apache counts finished connections only: the attack connection may
    # still be closing; wait (bounded) for the counter and the log line
    deadline = time.monotonic() + 3
    while True:
        res.counters_after = status(target)
        res.log = _read_from(target.error_log, log_offset)
        ok_c = counter is None or res.counter(counter) >= 1 \
            or target.engine != "h2x"
        ok_l = log is None or res.log_lines(log) or target.engine != "h2x"
        if (ok_c and ok_l) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    return res


def _read_from(path, offset):
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def reference_table(rows):
    """Markdown: one line per attack and target (TLS row if both ran)."""
    order = ["nginx-h2x", "apache-h2x", "nginx-builtin", "apache-builtin"]
    seen = {}
    for r in rows:
        key = (r["attack"], r["target"])
        if key not in seen or r["scheme"] == "h2":
            seen[key] = r
    attacks = []
    for r in rows:
        if r["attack"] not in attacks:
            attacks.append(r["attack"])
    out = ["| attack | target | outcome | time s | RSS +kB | CPU s "
           "| benign max s (failures, reconnects) |",
           "|---|---|---|---|---|---|---|"]
    for a in attacks:
        for t in order:
            r = seen.get((a, t))
            if r is None:
                continue
            out.append("| %s | %s (%s) | %s | %s | %s | %s | %s (%s, %s) |"
                       % (a, t, r["scheme"], r["outcome"], r["seconds"],
                          r["rss_kb"], r["cpu"], r["benign_max"],
                          r["benign_failures"], r["benign_reconnects"]))
    return "\n".join(out) + "\n"
