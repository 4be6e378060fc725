"""nginx 1.22.1 from Debian's upstream tarball, built with --add-module=<repo>.

Everything lives under build/static-nginx/ and is reused: the orig tarball
(download/), the unpacked tree (nginx-1.22.1/), the install prefix
(prefix/) and a stamp with the hash of the addon sources, so a second run
rebuilds only when `config`, `common/` or `ngx_module/` changed.
"""

import fcntl
import glob
import hashlib
import os
import re
import subprocess
import tarfile

from h2xservers import REPO, BUILD

NGINX_VERSION = "1.22.1"
ORIG = "nginx_%s.orig.tar.gz" % NGINX_VERSION
DIR = os.path.join(BUILD, "static-nginx")
DOWNLOAD = os.path.join(DIR, "download")
TREE = os.path.join(DIR, "nginx-%s" % NGINX_VERSION)
PREFIX = os.path.join(DIR, "prefix")
BINARY = os.path.join(TREE, "objs", "nginx")
STAMP = os.path.join(DIR, "build.stamp")
LOG = os.path.join(DIR, "build.log")
SRC_LIST = "/etc/apt/sources.list.d/h2x-deb-src.sources"


class SourceUnavailable(Exception):
    pass


def _run(cmd, log=None, **kw):
    if log:
        with open(log, "a") as f:
            f.write("$ %s\n" % " ".join(cmd))
            f.flush()
            return subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT,
                                  **kw)
    return subprocess.run(cmd, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, **kw)


def addon_hash():
    """Hash of what the static build compiles from this repo."""
    h = hashlib.sha256()
    files = [os.path.join(REPO, "config")]
    for d in ("common", "ngx_module"):
        files += sorted(glob.glob(os.path.join(REPO, d, "**", "*"),
                                  recursive=True))
    for path in files:
        if os.path.isfile(path):
            h.update(os.path.relpath(path, REPO).encode() + b"\0")
            with open(path, "rb") as f:
                h.update(f.read())
            h.update(b"\0")
    return h.hexdigest()


def deb_src_entries():
    """deb822 deb-src stanzas mirroring the archive this machine uses."""
    stanzas = []
    path = "/etc/apt/sources.list.d/debian.sources"
    if os.path.exists(path):
        with open(path) as f:
            text = f.read()
        for block in re.split(r"\n\s*\n", text):
            fields = {}
            for line in block.splitlines():
                m = re.match(r"^([A-Za-z-]+):\s*(.*)$", line)
                if m:
                    fields[m.group(1)] = m.group(2).strip()
            if "deb" not in fields.get("Types", "").split():
                continue
            if fields.get("Enabled", "yes").lower() == "no":
                continue
            out = ["Types: deb-src"]
            for key in ("URIs", "Suites", "Components", "Signed-By"):
                if key in fields:
                    out.append("%s: %s" % (key, fields[key]))
            stanzas.append("\n".join(out))
    if not stanzas and os.path.exists("/etc/apt/sources.list"):
        # classic one-line format: deb [opts] URI suite components...
        with open("/etc/apt/sources.list") as f:
            for line in f:
                m = re.match(r"^\s*deb\s+(\[[^\]]*\]\s+)?(\S+)\s+(\S+)\s+(.*)$",
                             line)
                if not m:
                    continue
                out = ["Types: deb-src", "URIs: %s" % m.group(2),
                       "Suites: %s" % m.group(3),
                       "Components: %s" % m.group(4).strip()]
                opts = m.group(1) or ""
                sb = re.search(r"signed-by=(\S+?)\]?(\s|$)", opts)
                if sb:
                    out.append("Signed-By: %s" % sb.group(1).rstrip("]"))
                stanzas.append("\n".join(out))
    return stanzas


def source_versions():
    """Versions of the nginx source package apt knows, newest first."""
    res = _run(["apt-cache", "showsrc", "nginx"])
    versions = []
    for line in res.stdout.splitlines():
        if line.startswith("Version:"):
            v = line.split(":", 1)[1].strip()
            if v not in versions:
                versions.append(v)

    def newer_first(vs):
        # apt's own ordering: dpkg --compare-versions, insertion sort
        out = []
        for v in vs:
            i = 0
            while i < len(out) and subprocess.run(
                    ["dpkg", "--compare-versions", out[i], "gt", v]).\
                    returncode == 0:
                i += 1
            out.insert(i, v)
        return out
    return newer_first(versions)


def ensure_deb_src(log):
    """Add a deb-src list for the current archive and update, if needed."""
    if source_versions():
        return
    if os.geteuid() != 0:
        raise SourceUnavailable("no deb-src entries and not root")
    stanzas = deb_src_entries()
    if not stanzas:
        raise SourceUnavailable("no Debian archive found in apt's sources")
    with open(SRC_LIST, "w") as f:
        f.write("# added by h2x t/integration/test_static_build.py\n")
        f.write("\n\n".join(stanzas) + "\n")
    res = _run(["apt-get", "update", "-qq"], log)
    if res.returncode != 0:
        raise SourceUnavailable("apt-get update failed (see %s)" % LOG)


def orig_checksums():
    """sha256 sums apt's Sources index gives for the orig tarball."""
    res = _run(["apt-cache", "showsrc", "nginx"])
    return set(re.findall(r"^ ([0-9a-f]{64}) \d+ %s$" % re.escape(ORIG),
                          res.stdout, re.M))


def _orig_ok(path, sums):
    if not os.path.exists(path):
        return False
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    return digest in sums if sums else tarfile.is_tarfile(path)


def fetch_orig(log):
    """Path to nginx_1.22.1.orig.tar.gz, downloaded once into DOWNLOAD.

    A cached tarball is checked against apt's index when apt has one."""
    path = os.path.join(DOWNLOAD, ORIG)
    if _orig_ok(path, orig_checksums()):
        return path
    os.makedirs(DOWNLOAD, exist_ok=True)
    ensure_deb_src(log)
    versions = source_versions()
    if not versions:
        raise SourceUnavailable("apt-cache showsrc nginx lists nothing")
    sums = orig_checksums()
    tried = []
    for v in versions:
        # the newest version's files are sometimes missing on the mirror;
        # an older one carries the same upstream tarball
        res = _run(["apt-get", "source", "--download-only", "-qq",
                    "nginx=%s" % v], log, cwd=DOWNLOAD, timeout=600)
        tried.append("%s (exit %d)" % (v, res.returncode))
        if _orig_ok(path, sums):
            return path
        if os.path.exists(path):
            os.unlink(path)
    raise SourceUnavailable("no %s from versions %s" % (ORIG, tried))


def have_source():
    return os.path.exists(os.path.join(DOWNLOAD, ORIG))


def build(jobs=2):
    """Build (or reuse) objs/nginx with the h2x addon; returns a dict."""
    os.makedirs(DIR, exist_ok=True)
    with open(os.path.join(DIR, ".lock"), "w") as lock:
        # other sessions may run the suite in the same tree at once
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _build_locked(jobs)


def _build_locked(jobs):
    want = addon_hash()
    have = open(STAMP).read().strip() if os.path.exists(STAMP) else ""
    if have == want and os.access(BINARY, os.X_OK):
        return {"rebuilt": False, "binary": BINARY, "tree": TREE}
    with open(LOG, "w") as f:
        f.write("static nginx build, addon hash %s\n" % want)
    orig = fetch_orig(LOG)
    if os.path.exists(STAMP):
        os.unlink(STAMP)
    if not os.path.exists(os.path.join(TREE, "configure")):
        with tarfile.open(orig) as tar:
            tar.extractall(DIR)
    temp = os.path.join(PREFIX, "temp")
    cmd = ["./configure",
           "--prefix=%s" % PREFIX,
           "--error-log-path=%s/logs/error.log" % PREFIX,
           "--http-log-path=%s/logs/access.log" % PREFIX,
           "--pid-path=%s/logs/nginx.pid" % PREFIX,
           "--lock-path=%s/logs/nginx.lock" % PREFIX,
           "--http-client-body-temp-path=%s/client_body" % temp,
           "--http-proxy-temp-path=%s/proxy" % temp,
           "--http-fastcgi-temp-path=%s/fastcgi" % temp,
           "--http-uwsgi-temp-path=%s/uwsgi" % temp,
           "--http-scgi-temp-path=%s/scgi" % temp,
           "--with-http_ssl_module", "--with-http_v2_module",
           "--with-threads",
           "--add-module=%s" % REPO]
    res = _run(cmd, LOG, cwd=TREE)
    if res.returncode != 0:
        raise RuntimeError("configure failed, see %s" % LOG)
    res = _run(["make", "-j%d" % jobs], LOG, cwd=TREE)
    if res.returncode != 0:
        raise RuntimeError("make failed, see %s" % LOG)
    with open(STAMP, "w") as f:
        f.write(want + "\n")
    return {"rebuilt": True, "binary": BINARY, "tree": TREE}


def http_filter_order():
    """Module names from objs/ngx_modules.c, in order."""
    path = os.path.join(TREE, "objs", "ngx_modules.c")
    with open(path) as f:
        text = f.read()
    names = text.split("char *ngx_module_names[]", 1)[1]
    return re.findall(r'"(\w+)"', names)
