"""Real nginx and Apache servers for h2x: configs, certificates, processes.

One place generates every config the project runs: the pytest fixtures
(t/integration/conftest.py) and `make run` (t/tools/run_servers.py) both
use this module.  Python standard library only.

Targets
-------
A *target* is one way of serving HTTP/2 that a test talks to:

  nginx-h2x       nginx + build/ngx_http_h2x_module.so, `h2x on;`
  apache-h2x      Apache + build/mod_h2x.so, `H2XEngine on`
  nginx-builtin   nginx's own ngx_http_v2_module
  apache-builtin  Apache's mod_http2

Each target has a TLS port (h2 via ALPN, and HTTP/1.1), an h2c port
(prior knowledge) and an HTTP/1.1 port.  h2x targets and apache-builtin
serve h2c and HTTP/1.1 on one cleartext port (the preface decides);
nginx-builtin needs its own HTTP/1.1 port, because a 1.22 plaintext
`listen ... http2` socket speaks h2c only.

Servers
-------
NginxServer hosts nginx-h2x and nginx-builtin in one process.  Apache
runs as two processes by default: one with mod_http2 (apache-builtin) and
one with mod_h2x but without mod_http2 (apache-h2x), so that an HTTP/2
answer on an h2x port can only have come from h2x.  ApacheServer takes
any set of targets and `load_http2=True` for tests of the two modules
side by side.
"""

import atexit
import ctypes
import hashlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.path.join(REPO, "build")
NGINX_BIN = os.environ.get("H2X_NGINX", "/usr/sbin/nginx")
APACHE_BIN = os.environ.get("H2X_APACHE", "/usr/sbin/apache2")
# H2X_BUILD_DIR: where the two modules are (make test-asan: build/asan);
# relative to the repository.
MODULE_DIR = os.path.join(REPO, os.environ.get("H2X_BUILD_DIR") or "build")
# H2X_NGINX_MODULE: the .so to load (make test-nginx DYNAMIC=1); set but
# empty for an nginx with the module built in (--add-module): no
# load_module line then, and nginx_check() drops "load_module {module};".
NGINX_MODULE = os.environ.get("H2X_NGINX_MODULE",
                              os.path.join(MODULE_DIR, "ngx_http_h2x_module.so"))
NGINX_STATIC = NGINX_MODULE == ""
APACHE_MODULE = os.path.join(MODULE_DIR, "mod_h2x.so")
APACHE_MODULE_DIR = "/usr/lib/apache2/modules"

NGINX_TARGETS = ("nginx-h2x", "nginx-builtin")
APACHE_TARGETS = ("apache-h2x", "apache-builtin")
ALL_TARGETS = NGINX_TARGETS + APACHE_TARGETS
H2X_TARGETS = ("nginx-h2x", "apache-h2x")
BUILTIN_TARGETS = ("nginx-builtin", "apache-builtin")

# Apache modules loaded from APACHE_MODULE_DIR, in this order.  Those
# compiled into Debian's apache2 (log_config, unixd, ...) are skipped.
# Extend the list here, or per server with ApacheServer(extra_modules=...).
APACHE_MODULES = [
    "mpm_event", "authz_core", "authz_host", "mime", "dir", "alias",
    "socache_shmcb", "ssl", "log_config", "unixd", "setenvif", "headers",
]

# Same content on every target: name -> size in bytes.
DOC_FILES = {"10k.bin": 10 * 1024, "1m.bin": 1024 * 1024}
INDEX_HTML = (b"<!DOCTYPE html>\n<html><head><title>h2x</title></head>\n"
              b"<body><p>h2x test page</p></body></html>\n")

START_TIMEOUT = 15.0
STOP_TIMEOUT = 5.0


def parse_server_env(text):
    """H2X_SERVER_ENV: NAME=value lines added to the environment of every
    server process and config check (make test-asan: LD_PRELOAD of the
    sanitizer runtimes, ASAN_OPTIONS, UBSAN_OPTIONS)."""
    env = {}
    for line in (text or "").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, sep, value = line.partition("=")
            if not sep or not name:
                raise ValueError("H2X_SERVER_ENV: not NAME=value: %r" % line)
            env[name] = value
    return env


SERVER_ENV = parse_server_env(os.environ.get("H2X_SERVER_ENV"))


def server_env(base=None):
    """The environment for a server or `-t` process: `base` (default: ours)
    plus H2X_SERVER_ENV."""
    env = dict(os.environ if base is None else base)
    env.update(SERVER_ENV)
    return env


class ServerError(Exception):
    """A server did not start, reload or stop; the message has its logs."""


# --- small helpers ----------------------------------------------------------

def free_ports(n):
    """n distinct free TCP ports on 127.0.0.1 (held open until all found)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def port_open(port, host="127.0.0.1", timeout=0.2):
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_for(pred, timeout=5.0, step=0.05):
    """pred()'s first true value within timeout, else its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


def curl_answer(args, url, max_time=5):
    """(status code, HTTP version) of the answer curl got, or (None, None)."""
    try:
        res = subprocess.run(
            ["curl", "-s", "-o", "/dev/null", "--max-time", str(max_time),
             "-w", "%{http_code} %{http_version}"] + args + [url],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            timeout=max_time + 10)
    except (OSError, subprocess.TimeoutExpired):
        return None, None
    code, _, version = res.stdout.partition(" ")
    if res.returncode != 0 or not code.isdigit() or code == "000":
        return None, None
    return code, version


def tail(path, lines=40, start=0):
    """The last `lines` lines of a file from byte offset `start`."""
    try:
        with open(path, "rb") as f:
            f.seek(start)
            data = f.read()
    except OSError:
        return ""
    text = data.decode("utf-8", "replace").splitlines()
    return "\n".join(text[-lines:])


def file_size(path):
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def run_user():
    """(user, group) that servers started as root switch to, or None."""
    if os.geteuid() != 0:
        return None
    for user, group in (("www-data", "www-data"), ("nobody", "nogroup")):
        try:
            pwd.getpwnam(user)
            return user, group
        except KeyError:
            continue
    return None


def make_tmpdir(prefix="h2x-"):
    """A temp dir the servers' unprivileged workers can read."""
    d = tempfile.mkdtemp(prefix=prefix)
    os.chmod(d, 0o755)
    return d


def make_cert(directory):
    """Self-signed EC certificate for localhost and 127.0.0.1.

    Returns (cert_path, key_path).  Made with the openssl CLI."""
    os.makedirs(directory, exist_ok=True)
    crt = os.path.join(directory, "localhost.crt")
    key = os.path.join(directory, "localhost.key")
    if os.path.exists(crt) and os.path.exists(key):
        return crt, key
    cnf = os.path.join(directory, "openssl.cnf")
    with open(cnf, "w") as f:
        f.write("[req]\ndistinguished_name = dn\nprompt = no\n"
                "x509_extensions = ext\n[dn]\nCN = localhost\n[ext]\n"
                "basicConstraints = critical, CA:FALSE\n"
                "keyUsage = critical, digitalSignature\n"
                "extendedKeyUsage = serverAuth\n"
                "subjectAltName = DNS:localhost, IP:127.0.0.1\n")
    subprocess.run(
        ["openssl", "req", "-x509", "-config", cnf, "-newkey", "ec",
         "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-days", "30", "-keyout", key, "-out", crt],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    os.chmod(key, 0o600)
    os.chmod(crt, 0o644)
    return crt, key


def doc_bytes(name, size):
    """Deterministic, incompressible-looking content for a doc file."""
    out = bytearray()
    seed = name.encode()
    i = 0
    while len(out) < size:
        out += hashlib.sha256(seed + i.to_bytes(8, "big")).digest()
        i += 1
    return bytes(out[:size])


def make_docroot(directory):
    """index.html, 10k.bin and 1m.bin, readable by the servers' workers."""
    os.makedirs(directory, exist_ok=True)
    os.chmod(directory, 0o755)
    files = {"index.html": INDEX_HTML}
    for name, size in DOC_FILES.items():
        files[name] = doc_bytes(name, size)
    for name, data in files.items():
        path = os.path.join(directory, name)
        with open(path, "wb") as f:
            f.write(data)
        os.chmod(path, 0o644)
    return directory


def _pdeathsig():
    """In the child: SIGTERM when the parent dies, own process group.

    SIGTERM makes nginx's master and Apache's parent stop their workers,
    so even a SIGKILLed pytest leaves no server behind."""
    os.setsid()
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)          # PR_SET_PDEATHSIG
    except OSError:
        pass


# --- live process registry: nothing outlives this process -----------------

_live = []
_handlers_installed = False


def _stop_all_now():
    for srv in list(_live):
        try:
            srv.stop(graceful=False)
        except Exception:
            pass


def _on_signal(signum, frame):
    _stop_all_now()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def install_cleanup():
    """atexit and SIGTERM/SIGHUP handlers that stop every live server."""
    global _handlers_installed
    if _handlers_installed:
        return
    _handlers_installed = True
    atexit.register(_stop_all_now)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        try:
            if signal.getsignal(sig) in (signal.SIG_DFL, None):
                signal.signal(sig, _on_signal)
        except ValueError:          # not the main thread
            pass


# --- targets -----------------------------------------------------------------

class Target:
    """One HTTP/2 implementation on its ports.

    Attributes: name, kind ("nginx"/"apache"), engine ("h2x"/"builtin"),
    tls_port, h2c_port, http1_port, docroot, server (the Server hosting
    it).  URLs: tls_url, h2c_url, http1_url (trailing slash), and
    url(path, scheme) for one path."""

    def __init__(self, name, ports):
        kind, engine = name.split("-")
        self.name = name
        self.kind = kind
        self.engine = engine
        self.tls_port = ports["tls"]
        self.h2c_port = ports["h2c"]
        self.http1_port = ports["http1"]
        self.server = None

    @property
    def is_h2x(self):
        return self.engine == "h2x"

    @property
    def docroot(self):
        return self.server.docroot

    @property
    def error_log(self):
        return self.server.error_log

    @property
    def pids(self):
        return self.server.pids()

    @property
    def tls_url(self):
        return "https://localhost:%d/" % self.tls_port

    @property
    def h2c_url(self):
        return "http://localhost:%d/" % self.h2c_port

    @property
    def http1_url(self):
        return "http://localhost:%d/" % self.http1_port

    def url(self, path="/", scheme="https"):
        """URL of `path` on the TLS ("https"), h2c or HTTP/1.1 port."""
        port = {"https": self.tls_port, "h2c": self.h2c_port,
                "http": self.http1_port}[scheme]
        base = "https" if scheme == "https" else "http"
        return "%s://localhost:%d/%s" % (base, port, path.lstrip("/"))

    def ports(self):
        return sorted({self.tls_port, self.h2c_port, self.http1_port})

    def reload(self):
        self.server.reload()

    def stop(self):
        self.server.stop()

    def __repr__(self):
        return "<Target %s tls=%d h2c=%d http1=%d>" % (
            self.name, self.tls_port, self.h2c_port, self.http1_port)


def allocate_ports(names, fixed=None):
    """Ports for targets: {name: {"tls", "h2c", "http1"}}.

    `fixed` maps a name to its ports (e.g. make run's defaults)."""
    fixed = fixed or {}
    out = {}
    need = 0
    for name in names:
        if name not in fixed:
            need += 3 if name == "nginx-builtin" else 2
    pool = free_ports(need) if need else []
    for name in names:
        if name in fixed:
            out[name] = dict(fixed[name])
            continue
        tls = pool.pop()
        clear = pool.pop()
        http1 = pool.pop() if name == "nginx-builtin" else clear
        out[name] = {"tls": tls, "h2c": clear, "http1": http1}
    return out


# --- servers -------------------------------------------------------------------

class Server:
    """A server process with its generated config in `workdir`."""

    kind = None
    # Set on an instance before start() (t/bench/ab uses them):
    # `wrapper` is prepended to the command line (e.g. taskset, env: both
    # exec the server, so proc.pid stays the server's), `env` replaces the
    # environment (H2X_SERVER_ENV is added to it), `log_requests=False`
    # turns access logging off.
    wrapper = ()
    env = None
    log_requests = True

    def __init__(self, targets, workdir, docroot, cert, ports=None,
                 log_level=None):
        for t in targets:
            if not t.startswith(self.kind + "-"):
                raise ValueError("%s cannot host %s" % (self.kind, t))
        self.workdir = workdir
        self.docroot = docroot
        self.cert, self.cert_key = cert
        self.log_level = log_level
        os.makedirs(workdir, exist_ok=True)
        os.chmod(workdir, 0o755)
        self.targets = {}
        for name, p in allocate_ports(targets, ports).items():
            t = Target(name, p)
            t.server = self
            self.targets[name] = t
        self.conf_path = os.path.join(workdir, self.kind + ".conf")
        self.error_log = os.path.join(workdir, "error.log")
        self.access_log = os.path.join(workdir, "access.log")
        self.stderr_log = os.path.join(workdir, "stderr.log")
        self.pid_file = os.path.join(workdir, self.kind + ".pid")
        self.proc = None
        self.fixed_ports = ports is not None

    # subclasses: render(), command(), reload_signal/done markers

    def target(self, name):
        return self.targets[name]

    def all_ports(self):
        ports = set()
        for t in self.targets.values():
            ports.update(t.ports())
        return sorted(ports)

    def write_config(self):
        with open(self.conf_path, "w") as f:
            f.write(self.render())
        os.chmod(self.conf_path, 0o644)

    def pids(self):
        """The main process and its workers (children)."""
        if not self.running():
            return []
        pids = [self.proc.pid]
        try:
            for entry in os.listdir("/proc"):
                if not entry.isdigit():
                    continue
                try:
                    with open("/proc/%s/stat" % entry) as f:
                        fields = f.read().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[1]) == self.proc.pid:    # ppid
                    pids.append(int(entry))
        except OSError:
            pass
        return pids

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def logs(self, lines=40, since=0):
        """Tail of the error log (from offset `since`) and of stderr."""
        text = tail(self.error_log, lines, since)
        if since and not text:
            text = "(nothing logged since the test began; before that:)\n" \
                + tail(self.error_log, 10)
        out = "--- %s (%s)\n%s" % (self.error_log, self.kind, text)
        err = tail(self.stderr_log, lines)
        if err:
            out += "\n--- %s\n%s" % (self.stderr_log, err)
        return out

    def start(self, timeout=START_TIMEOUT):
        """Write the config, start in the foreground, wait for the ports."""
        install_cleanup()
        if self.running():
            return self
        self.check_binaries()
        attempts = 1 if self.fixed_ports else 3
        for attempt in range(attempts):
            self.write_config()
            self.prepare()
            stderr = open(self.stderr_log, "ab")
            self.proc = subprocess.Popen(
                list(self.wrapper) + self.command(), cwd=self.workdir,
                stdin=subprocess.DEVNULL, stdout=stderr, stderr=stderr,
                env=server_env(self.env), preexec_fn=_pdeathsig)
            stderr.close()
            _live.append(self)
            try:
                self.wait_ready(timeout)
                return self
            except ServerError:
                died = not self.running()
                self.stop(graceful=False)
                in_use = "in use" in tail(self.error_log, 20) + tail(
                    self.stderr_log, 20)
                if died and in_use and attempt + 1 < attempts:
                    # lost a race for a port: new ports, try again
                    self._new_ports()
                    continue
                raise
        raise ServerError("unreachable")

    def _new_ports(self):
        for name, p in allocate_ports(list(self.targets)).items():
            t = self.targets[name]
            t.tls_port, t.h2c_port, t.http1_port = p["tls"], p["h2c"], \
                p["http1"]

    def wait_ready(self, timeout=START_TIMEOUT):
        deadline = time.monotonic() + timeout
        pending = list(self.all_ports())
        while pending:
            if not self.running():
                raise ServerError("%s exited with status %s during start\n%s"
                                  % (self.kind, self.proc.returncode,
                                     self.logs()))
            if time.monotonic() > deadline:
                raise ServerError("%s: ports %s not accepting after %.0fs\n%s"
                                  % (self.kind, pending, timeout,
                                     self.logs()))
            if port_open(pending[0]):
                pending.pop(0)
            else:
                time.sleep(0.02)

    def _signal_group(self, sig):
        try:
            os.killpg(self.proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def stop(self, graceful=True):
        """Stop the server and every process of its group."""
        if self.proc is None:
            return
        steps = []
        if graceful:
            steps.append((self.graceful_signal, STOP_TIMEOUT))
        steps += [(signal.SIGTERM, STOP_TIMEOUT), (signal.SIGKILL, 2.0)]
        for sig, wait in steps:
            if self.proc.poll() is not None:
                break
            try:
                self.proc.send_signal(sig)
            except ProcessLookupError:
                break
            try:
                self.proc.wait(wait)
            except subprocess.TimeoutExpired:
                continue
        # the workers: gone with their parent, unless something went wrong
        self._signal_group(signal.SIGKILL)
        if self.proc.poll() is None:
            self.proc.wait(2.0)
        if self in _live:
            _live.remove(self)

    def reload(self, timeout=START_TIMEOUT):
        """Re-read the config (rewritten first) and wait until it is live."""
        if not self.running():
            raise ServerError("%s is not running\n%s" % (self.kind,
                                                         self.logs()))
        self.write_config()
        offset = file_size(self.error_log)
        old_workers = self.pids()[1:]
        self.proc.send_signal(self.reload_signal)
        deadline = time.monotonic() + timeout
        while True:
            new = tail(self.error_log, 200, offset)
            if self.reload_failed(new) or not self.running():
                raise ServerError("%s reload failed\n%s" % (
                    self.kind, self.logs(since=offset)))
            if self.reload_done(new):
                break
            if time.monotonic() > deadline:
                raise ServerError("%s reload not done after %.0fs\n%s" % (
                    self.kind, timeout, self.logs(since=offset)))
            time.sleep(0.02)
        # the old workers stop accepting soon after: until they do, a new
        # connection may still meet the old config
        retire_by = min(deadline, time.monotonic() + 5.0)
        while time.monotonic() < retire_by:
            new = tail(self.error_log, 400, offset)
            if all(self.worker_retired(pid, new) for pid in old_workers):
                break
            time.sleep(0.02)
        self.wait_ready(timeout)

    def worker_retired(self, pid, new_log):
        return not os.path.exists("/proc/%d" % pid) or \
            _is_zombie(pid)

    def check_binaries(self):
        for path in self.required_files():
            if not os.path.exists(path):
                raise ServerError("missing %s (run `make modules`?)" % path)

    def prepare(self):
        pass

    def __repr__(self):
        return "<%s %s pid=%s>" % (type(self).__name__,
                                   ",".join(self.targets),
                                   self.proc and self.proc.pid)


class NginxServer(Server):
    """Debian's nginx with the h2x module; hosts nginx-h2x/nginx-builtin.

    Extra config: `main_extra` (main context), `http_extra` (http block),
    `server_extra` (each server block, or a dict target name -> text),
    `location_extra` (inside `location /`, same forms), `load_h2x`."""

    kind = "nginx"
    graceful_signal = signal.SIGQUIT
    reload_signal = signal.SIGHUP

    def __init__(self, targets=NGINX_TARGETS, workdir=None, docroot=None,
                 cert=None, ports=None, main_extra="", http_extra="",
                 server_extra="", location_extra="", load_h2x=True,
                 log_level="notice", worker_connections=1024):
        super().__init__(targets, workdir, docroot, cert, ports, log_level)
        self.worker_connections = worker_connections
        self.main_extra = main_extra
        self.http_extra = http_extra
        self.server_extra = server_extra
        self.location_extra = location_extra
        self.load_h2x = load_h2x

    def required_files(self):
        return [NGINX_BIN] + ([NGINX_MODULE] if self.load_h2x
                              and not NGINX_STATIC else [])

    def command(self, test=False):
        cmd = [NGINX_BIN, "-p", self.workdir + "/", "-e", self.error_log,
               "-c", self.conf_path]
        return cmd + ["-t"] if test else cmd

    def _per_target(self, value, name):
        if isinstance(value, dict):
            return value.get(name, "")
        return value

    def _server_block(self, name, listens, extra_lines):
        lines = ["    server {"]
        lines += ["        listen %s;" % l for l in listens]
        lines += ["        server_name localhost;",
                  "        root %s;" % self.docroot]
        lines += ["        " + l for l in extra_lines]
        extra = self._per_target(self.server_extra, name)
        if extra:
            lines.append(_indent(extra, 8))
        lines.append("        location / {")
        loc = self._per_target(self.location_extra, name)
        if loc:
            lines.append(_indent(loc, 12))
        lines.append("        }")
        lines.append("    }")
        return "\n".join(lines)

    def render(self):
        w = self.workdir
        user = run_user()
        out = []
        if self.load_h2x and not NGINX_STATIC:
            out.append("load_module %s;" % NGINX_MODULE)
        out += [
            "daemon off;",
            "master_process on;",
            "worker_processes 1;",
            "pid %s;" % self.pid_file,
            "error_log %s %s;" % (self.error_log, self.log_level),
        ]
        if user:
            out.append("user %s %s;" % user)
        # nginx clears its workers' environment (and that of a binary
        # upgrade) except what `env` keeps
        out += ["env %s;" % name for name in sorted(SERVER_ENV)]
        if self.main_extra:
            out.append(self.main_extra)
        out += [
            "events {",
            "    worker_connections %d;" % self.worker_connections,
            "}",
            "http {",
            "    include /etc/nginx/mime.types;",
            "    default_type application/octet-stream;",
            "    access_log %s;" % (self.access_log if self.log_requests
                                   else "off"),
            "    client_body_temp_path %s/client_body_temp;" % w,
            "    proxy_temp_path %s/proxy_temp;" % w,
            "    fastcgi_temp_path %s/fastcgi_temp;" % w,
            "    uwsgi_temp_path %s/uwsgi_temp;" % w,
            "    scgi_temp_path %s/scgi_temp;" % w,
            "    sendfile on;",
            "    keepalive_timeout 65;",
            "    ssl_certificate %s;" % self.cert,
            "    ssl_certificate_key %s;" % self.cert_key,
            "    ssl_protocols TLSv1.2 TLSv1.3;",
        ]
        if self.http_extra:
            out.append(_indent(self.http_extra, 4))
        a = "127.0.0.1:%d"
        if "nginx-builtin" in self.targets:
            t = self.targets["nginx-builtin"]
            out.append(self._server_block(
                "nginx-builtin",
                [a % t.tls_port + " ssl http2", a % t.h2c_port + " http2",
                 a % t.http1_port], []))
        if "nginx-h2x" in self.targets:
            t = self.targets["nginx-h2x"]
            out.append(self._server_block(
                "nginx-h2x", [a % t.tls_port + " ssl", a % t.h2c_port],
                ["h2x on;"] if self.load_h2x else []))
        out.append("}")
        return "\n".join(out) + "\n"

    def reload_done(self, new_log):
        return "start worker process" in new_log

    def worker_retired(self, pid, new_log):
        # a retiring worker closes its listening sockets first
        return "%d#%d: gracefully shutting down" % (pid, pid) in new_log \
            or super().worker_retired(pid, new_log)

    def reload_failed(self, new_log):
        return "[emerg]" in new_log


class ApacheServer(Server):
    """Debian's apache2 (event MPM) with mod_h2x and/or mod_http2.

    `load_h2x` / `load_http2` default to what the targets need.  Extra
    config: `global_extra` (server config), `vhost_extra` (each vhost, or a
    dict target name -> text), `extra_modules` (names as in
    APACHE_MODULES)."""

    kind = "apache"
    graceful_signal = signal.SIGWINCH      # apache2 -k graceful-stop
    reload_signal = signal.SIGUSR1         # apache2 -k graceful

    def __init__(self, targets=("apache-builtin",), workdir=None,
                 docroot=None, cert=None, ports=None, global_extra="",
                 vhost_extra="", extra_modules=(), load_h2x=None,
                 load_http2=None, log_level="info ssl:warn"):
        super().__init__(targets, workdir, docroot, cert, ports, log_level)
        self.global_extra = global_extra
        self.vhost_extra = vhost_extra
        self.extra_modules = list(extra_modules)
        self.load_h2x = ("apache-h2x" in targets) if load_h2x is None \
            else load_h2x
        self.load_http2 = ("apache-builtin" in targets) if load_http2 is None \
            else load_http2

    def required_files(self):
        return [APACHE_BIN] + ([APACHE_MODULE] if self.load_h2x else [])

    def command(self, test=False):
        cmd = [APACHE_BIN, "-d", self.workdir, "-f", self.conf_path]
        return cmd + ["-t"] if test else cmd + ["-DFOREGROUND"]

    def prepare(self):
        user = run_user()
        for d in ("run", "lock"):
            path = os.path.join(self.workdir, d)
            os.makedirs(path, exist_ok=True)
            if user:
                shutil.chown(path, user[0], user[1])

    def modules(self):
        names = list(APACHE_MODULES)
        if self.load_http2:
            names.append("http2")
        names += [m for m in self.extra_modules if m not in names]
        return names

    def render(self):
        w = self.workdir
        user = run_user()
        out = [
            "ServerRoot %s" % w,
            "ServerName localhost",
            "PidFile %s" % self.pid_file,
            "DefaultRuntimeDir %s/run" % w,
            "Mutex file:%s/lock default" % w,
            "ErrorLog %s" % self.error_log,
            "LogLevel %s" % self.log_level,
        ]
        builtin = apache_builtin_modules()
        for m in self.modules():
            if "mod_%s.c" % m in builtin:
                continue
            out.append("LoadModule %s_module %s/mod_%s.so"
                       % (m, APACHE_MODULE_DIR, m))
        if self.load_h2x:
            out.append("LoadModule h2x_module %s" % APACHE_MODULE)
        if user:
            out += ["User %s" % user[0], "Group %s" % user[1]]
        out += [
            "StartServers 1",
            "ServerLimit 2",
            "ThreadsPerChild 64",
            "MaxRequestWorkers 64",
            "MinSpareThreads 1",
            "MaxSpareThreads 64",
            "GracefulShutdownTimeout 3",
            "Timeout 30",
            "KeepAliveTimeout 65",
            "TypesConfig /etc/mime.types",
            "DirectoryIndex index.html",
            "LogFormat \"%h %l %u %t \\\"%r\\\" %>s %b %{ms}T\" h2x",
        ] + (["CustomLog %s h2x" % self.access_log]
             if self.log_requests else []) + [
            "DocumentRoot %s" % self.docroot,
            "<Directory />",
            "    AllowOverride None",
            "    Require all denied",
            "</Directory>",
            "<Directory %s>" % self.docroot,
            "    Require all granted",
            "</Directory>",
            "SSLCertificateFile %s" % self.cert,
            "SSLCertificateKeyFile %s" % self.cert_key,
            "SSLProtocol -all +TLSv1.2 +TLSv1.3",
            "SSLSessionCache shmcb:%s/run/ssl_scache(512000)" % w,
        ]
        if self.global_extra:
            out.append(self.global_extra)
        for name, t in self.targets.items():
            ports = [(t.tls_port, True)]
            if t.h2c_port not in [p for p, _ in ports]:
                ports.append((t.h2c_port, False))
            if t.http1_port not in [p for p, _ in ports]:
                ports.append((t.http1_port, False))
            for port, tls in ports:
                out.append("Listen 127.0.0.1:%d" % port)
                out.append("<VirtualHost 127.0.0.1:%d>" % port)
                out.append("    ServerName localhost")
                out.append("    DocumentRoot %s" % self.docroot)
                out.append("    Protocols h2 h2c http/1.1")
                if tls:
                    out.append("    SSLEngine on")
                if name == "apache-h2x" and self.load_h2x:
                    out.append("    H2XEngine on")
                out.append("    <IfModule http2_module>")
                if name == "apache-builtin":
                    out.append("        H2Direct on")
                else:
                    # mod_http2 must not answer for h2x (note in apache-adapter)
                    out.append("        H2Direct off")
                    out.append("        H2Upgrade off")
                out.append("    </IfModule>")
                extra = self.vhost_extra
                if isinstance(extra, dict):
                    extra = extra.get(name, "")
                if extra:
                    out.append(_indent(extra, 4))
                out.append("</VirtualHost>")
        return "\n".join(out) + "\n"

    def reload_done(self, new_log):
        return "resuming normal operations" in new_log

    def reload_failed(self, new_log):
        return "AH00526" in new_log or "AH00016" in new_log


_apache_builtin = None


def apache_builtin_modules():
    """Source names of the modules compiled into apache2 (`apache2 -l`)."""
    global _apache_builtin
    if _apache_builtin is None:
        out = subprocess.run([APACHE_BIN, "-l"], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True).stdout
        _apache_builtin = {l.strip() for l in out.splitlines()
                           if l.strip().endswith(".c")}
    return _apache_builtin


def _is_zombie(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def _indent(text, n):
    pad = " " * n
    return "\n".join(pad + l if l.strip() else l
                     for l in text.strip("\n").splitlines())


# --- config checks (nginx -t, apache2 -t) -------------------------------------

def nginx_check(conf_text, workdir):
    """Run `nginx -t` on `conf_text`; returns (returncode, output, path).

    The text may use {workdir} and {module}; pid and error log go to
    workdir."""
    os.makedirs(workdir, exist_ok=True)
    path = os.path.join(workdir, "check.conf")
    if NGINX_STATIC:
        conf_text = conf_text.replace("load_module {module};", "")
    with open(path, "w") as f:
        f.write(conf_text.format(workdir=workdir, module=NGINX_MODULE))
    res = subprocess.run(
        [NGINX_BIN, "-p", workdir + "/", "-e",
         os.path.join(workdir, "check-error.log"), "-c", path, "-t"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        timeout=30, env=server_env())
    return res.returncode, res.stdout, path


def apache_check(conf_text, workdir):
    """Run `apache2 -t` on `conf_text`; returns (returncode, output, path).

    The text may use {workdir} and {module}."""
    os.makedirs(workdir, exist_ok=True)
    path = os.path.join(workdir, "check.conf")
    with open(path, "w") as f:
        f.write(conf_text.format(workdir=workdir, module=APACHE_MODULE))
    res = subprocess.run([APACHE_BIN, "-d", workdir, "-f", path, "-t"],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, timeout=30, env=server_env())
    return res.returncode, res.stdout, path


# --- a set of servers ---------------------------------------------------------

class Site:
    """A work dir with one certificate and one docroot shared by servers."""

    def __init__(self, root=None):
        self.root = root or make_tmpdir("h2x-it-")
        os.makedirs(self.root, exist_ok=True)
        os.chmod(self.root, 0o755)
        self.cert = make_cert(os.path.join(self.root, "tls"))
        self.docroot = make_docroot(os.path.join(self.root, "htdocs"))
        self._n = 0

    def workdir(self, label):
        self._n += 1
        d = os.path.join(self.root, "%02d-%s" % (self._n, label))
        os.makedirs(d, exist_ok=True)
        os.chmod(d, 0o755)
        return d

    def nginx(self, targets=NGINX_TARGETS, **kw):
        return NginxServer(targets, workdir=self.workdir("nginx"),
                           docroot=self.docroot, cert=self.cert, **kw)

    def apache(self, targets=("apache-builtin",), **kw):
        label = "apache-" + "-".join(t.split("-")[1] for t in targets)
        return ApacheServer(targets, workdir=self.workdir(label),
                            docroot=self.docroot, cert=self.cert, **kw)

    def remove(self):
        shutil.rmtree(self.root, ignore_errors=True)
