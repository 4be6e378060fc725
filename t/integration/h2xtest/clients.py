"""Real HTTP/2 clients (curl, nghttp, h2load) with bounded run times."""

import re
import subprocess
from dataclasses import dataclass

CURL = "curl"
NGHTTP = "nghttp"
H2LOAD = "h2load"


@dataclass
class CurlResult:
    returncode: int
    status: int
    http_version: str
    body: bytes
    stderr: str


def curl(url, *args, timeout=10):
    """curl `url` with extra `args`; returns status, version and body.

    The body is written to stdout, the -w line to stderr (%{stderr}), so
    binary bodies stay intact."""
    cmd = [CURL, "-sS", "--max-time", str(timeout), "-o", "-",
           "-w", "%{stderr}\n@@h2x %{http_code} %{http_version}\n"]
    cmd += list(args) + [url]
    res = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         timeout=timeout + 5)
    err = res.stderr.decode("utf-8", "replace")
    m = re.search(r"^@@h2x (\d+) (\S+)$", err, re.M)
    status, version = (int(m.group(1)), m.group(2)) if m else (0, "0")
    err = re.sub(r"\n?@@h2x .*\n?", "", err)
    return CurlResult(res.returncode, status, version, res.stdout, err)


def curl_h2_tls(target, path="/", *args, **kw):
    return curl(target.url(path, "https"), "--http2", "-k", *args, **kw)


def curl_h2c(target, path="/", *args, **kw):
    return curl(target.url(path, "h2c"), "--http2-prior-knowledge", *args,
                **kw)


def curl_http1(target, path="/", tls=False, *args, **kw):
    if tls:
        return curl(target.url(path, "https"), "--http1.1", "-k", *args, **kw)
    return curl(target.url(path, "http"), "--http1.1", *args, **kw)


@dataclass
class NghttpResult:
    returncode: int
    output: str

    @property
    def statuses(self):
        return [int(s) for s in re.findall(
            r'recv \(stream_id=\d+\) :status: (\d+)', self.output)]

    def frames(self, direction, kind):
        """Lines like `send SETTINGS frame`, `recv (stream_id=1) ...`."""
        return re.findall(r"\b%s %s frame\b.*" % (direction, kind),
                          self.output)


def nghttp(url, *args, timeout=10):
    """`nghttp -nv URL`: verbose frame log, body discarded."""
    cmd = [NGHTTP, "-nv", "-t", str(timeout)] + list(args) + [url]
    res = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         timeout=timeout + 5)
    return NghttpResult(res.returncode, res.stdout.decode("utf-8", "replace"))


@dataclass
class H2loadResult:
    returncode: int
    output: str
    total: int = -1
    started: int = -1
    done: int = -1
    succeeded: int = -1
    failed: int = -1
    errored: int = -1
    timeout: int = -1
    status_2xx: int = -1
    protocol: str = ""
    req_per_s: float = -1.0


def h2load(url, *args, n=1000, c=10, m=10, timeout=60):
    """Run h2load and parse its summary lines."""
    cmd = [H2LOAD, "-n", str(n), "-c", str(c), "-m", str(m)] + list(args)
    cmd.append(url)
    res = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         timeout=timeout)
    out = res.stdout.decode("utf-8", "replace")
    r = H2loadResult(res.returncode, out)
    m_ = re.search(r"^requests: (\d+) total, (\d+) started, (\d+) done, "
                   r"(\d+) succeeded, (\d+) failed, (\d+) errored, "
                   r"(\d+) timeout", out, re.M)
    if m_:
        (r.total, r.started, r.done, r.succeeded, r.failed, r.errored,
         r.timeout) = map(int, m_.groups())
    m_ = re.search(r"^status codes: (\d+) 2xx", out, re.M)
    if m_:
        r.status_2xx = int(m_.group(1))
    m_ = re.search(r"^Application protocol: (\S+)", out, re.M)
    if m_:
        r.protocol = m_.group(1)
    m_ = re.search(r"finished in [\d.]+m?s, ([\d.]+) req/s", out)
    if m_:
        r.req_per_s = float(m_.group(1))
    return r
