"""The nginx adapter serving real requests through nginx's phases.

One nginx hosts nginx-h2x (`h2x on;`) and nginx-builtin (ngx_http_v2) with
the same locations, so every check runs against h2x and, as the reference,
against the builtin, over TLS (ALPN h2) and cleartext (h2c).
"""

import json
import os
import re
import subprocess
import time

import pytest

from h2xservers import wait_for
from h2xtest import doc, free_ports, NGINX_TARGETS
from h2xtest.clients import curl, h2load, nghttp
from h2xtest.ngx_backend import Backend, FastCGI, big_bytes
from h2xtest.ngx_raw import RawH2

SCHEMES = ["https", "h2c"]

LOG_FORMAT = ("log_format h2x '$status $request_method $request_uri "
              "$server_protocol h2x=$h2x http2=$http2 sid=$h2x_stream_id "
              "sent=$body_bytes_sent len=$request_length';\n"
              "limit_req_zone $server_port zone=lrn:1m rate=1r/m;\n"
              "limit_req_zone $server_port zone=lrd:1m rate=20r/s;\n"
              "limit_conn_zone $server_port zone=lc:1m;")

LOCATIONS = """
keepalive_requests 100000;
access_log %(log)s h2x;
location /ret204 { return 204; }
location /redir { return 302 /index.html; }
location /rw { rewrite ^ /index.html last; }
location /ep/ { error_page 404 =200 /index.html; }
location /gz/ { gzip on; gzip_min_length 1; gzip_types *; gzip_vary on;
                alias %(doc)s/; }
location /hdr/ { add_header X-H2x yes always; add_trailer X-Trailer done;
                 alias %(doc)s/; }
location /proxy/ { proxy_pass http://127.0.0.1:%(be)d/; }
location /nobuf/ { proxy_pass http://127.0.0.1:%(be)d/;
                   proxy_request_buffering off; proxy_buffering off;
                   proxy_http_version 1.1; }
location /small/ { client_max_body_size 1k;
                   proxy_pass http://127.0.0.1:%(be)d/; }
location = /h2x_status { h2x_status; }
location = /stub { stub_status; }
location /dir/ { autoindex on; }
location /try/ { try_files /nope /index.html; }
location = /ssi.html { ssi on; }
location /auth/ { auth_request /authok; alias %(doc)s/; }
location = /authok { internal; return 204; }
location /rate/ { limit_rate 8k; alias %(doc)s/; }
location /aio/ { aio threads; sendfile on; alias %(doc)s/; }
location /fcgi/ { fastcgi_pass 127.0.0.1:%(fcgi)d; include /etc/nginx/fastcgi_params; }
location /fcginobuf/ { fastcgi_pass 127.0.0.1:%(fcgi)d; fastcgi_request_buffering off;
                       include /etc/nginx/fastcgi_params; }
location /lrn/ { limit_req zone=lrn burst=2 nodelay; alias %(doc)s/; }
location /lrd/ { limit_req zone=lrd burst=10; alias %(doc)s/; }
location /lc/ { limit_conn lc 1; proxy_pass http://127.0.0.1:%(be)d/; }
location /up/ { client_max_body_size 100m;
               proxy_pass http://127.0.0.1:%(sink)d/; }
location /upnobuf/ { client_max_body_size 100m; proxy_buffering off;
                    proxy_request_buffering off; proxy_http_version 1.1;
                    proxy_pass http://127.0.0.1:%(sink)d/; }
location = /vars { return 200 "h2x=$h2x sid=$h2x_stream_id proto=$server_protocol http2=$http2 scheme=$scheme\\n"; }
"""


def _prepare_docroot(docroot):
    os.makedirs(os.path.join(docroot, "dir"), exist_ok=True)
    with open(os.path.join(docroot, "dir", "a.txt"), "w") as f:
        f.write("a\n")
    with open(os.path.join(docroot, "ssi.html"), "w") as f:
        f.write('<p>before</p><!--# include virtual="/index.html" -->'
                '<p>after</p>\n')
    for p in ("dir", "dir/a.txt", "ssi.html"):
        os.chmod(os.path.join(docroot, p), 0o755 if p == "dir" else 0o644)


@pytest.fixture(scope="module")
def ngx(h2x_site):
    be = Backend().start()
    fcgi = FastCGI().start()
    _prepare_docroot(h2x_site.docroot)
    sink, = free_ports(1)
    # an nginx upstream, robust under load: a body sink and the docroot
    upstream = ("server { listen 127.0.0.1:%d; root %s; "
                "location = /sink { client_max_body_size 100m; return 204; } }"
                % (sink, h2x_site.docroot))
    srv = h2x_site.nginx(NGINX_TARGETS, log_level="info",
                         http_extra=LOG_FORMAT + "\n" + upstream)
    srv.server_extra = {
        name: LOCATIONS % {"doc": h2x_site.docroot, "be": be.port,
                           "fcgi": fcgi.port, "sink": sink,
                           "log": os.path.join(srv.workdir,
                                               "access-%s.log" % name)}
        for name in NGINX_TARGETS}
    srv.backend = be
    srv.start()
    yield srv
    srv.stop()
    be.stop()
    fcgi.stop()


@pytest.fixture(params=NGINX_TARGETS)
def t(request, ngx):
    return ngx.target(request.param)


def access_log(t):
    path = os.path.join(t.server.workdir, "access-%s.log" % t.name)
    try:
        with open(path) as f:
            return f.read().splitlines()
    except OSError:
        return []


def h2(t, scheme, path, *args, **kw):
    if scheme == "https":
        return curl(t.url(path, "https"), "--http2", "-k", *args, **kw)
    return curl(t.url(path, "h2c"), "--http2-prior-knowledge", *args, **kw)


def raw(t, scheme, **kw):
    if scheme == "https":
        c = RawH2(t.tls_port, tls=True, **kw)
        assert c.alpn == "h2"
        return c
    return RawH2(t.h2c_port, **kw)


# --- static files, status codes, phases ---------------------------------

@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("path", ["index.html", "10k.bin", "1m.bin"])
def test_static(t, scheme, path):
    r = h2(t, scheme, path)
    assert (r.returncode, r.status, r.http_version) == (0, 200, "2"), \
        r.stderr
    assert r.body == doc(path)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_head_204_304(t, scheme):
    with raw(t, scheme) as c:
        sch = "https" if scheme == "https" else "http"
        c.get(1, "/1m.bin", method="HEAD", scheme=sch)
        status, headers, body, rst, _ = c.response(1)
        hd = dict(headers)
        assert (status, body, rst) == (200, b"", None)
        assert hd["content-length"] == str(1024 * 1024)
        assert "etag" in hd and "last-modified" in hd

        c.get(3, "/ret204", scheme=sch)
        status, headers, body, rst, _ = c.response(3)
        assert (status, body, rst) == (204, b"", None)

        c.get(5, "/1m.bin", scheme=sch,
              extra=[("if-none-match", hd["etag"])])
        status, headers, body, rst, _ = c.response(5)
        assert (status, body, rst) == (304, b"", None)

        c.get(7, "/1m.bin", scheme=sch,
              extra=[("if-modified-since", hd["last-modified"])])
        status, headers, body, rst, _ = c.response(7)
        assert (status, body, rst) == (304, b"", None)

    # HEAD and 204 end the stream on the HEADERS frame
    heads = [f for f in c.frames if type(f).__name__ == "HeadersFrame"]
    assert all("END_STREAM" in f.flags for f in heads)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_redirect_absolute(t, scheme):
    r = h2(t, scheme, "redir", "-D", "-")
    assert r.status == 302
    port = t.tls_port if scheme == "https" else t.h2c_port
    base = "https" if scheme == "https" else "http"
    assert ("location: %s://localhost:%d/index.html" % (base, port)) \
        in r.body.decode("latin-1").lower()


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("path,expect", [
    ("rw", "index.html"), ("ep/missing", "index.html"),
    ("try/x", "index.html"), ("auth/index.html", "index.html")])
def test_phases(t, scheme, path, expect):
    r = h2(t, scheme, path)
    assert (r.status, r.body) == (200, doc(expect)), r.stderr


@pytest.mark.parametrize("scheme", SCHEMES)
def test_autoindex_ssi(t, scheme):
    r = h2(t, scheme, "dir/")
    assert r.status == 200 and b"a.txt" in r.body
    r = h2(t, scheme, "ssi.html")
    assert r.status == 200
    assert r.body == b"<p>before</p>" + doc("index.html") + b"<p>after</p>\n"


@pytest.mark.parametrize("scheme", SCHEMES)
def test_gzip_add_header(t, scheme):
    r = h2(t, scheme, "gz/index.html", "--compressed", "-D", "/dev/stderr")
    assert r.status == 200
    assert r.body == doc("index.html")
    assert re.search(r"^content-encoding: gzip", r.stderr, re.M | re.I)
    assert re.search(r"^vary: Accept-Encoding", r.stderr, re.M | re.I)
    r = h2(t, scheme, "hdr/index.html", "-D", "/dev/stderr")
    assert re.search(r"^x-h2x: yes", r.stderr, re.M | re.I)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_trailers(t, scheme):
    with raw(t, scheme) as c:
        c.get(1, "/hdr/10k.bin", scheme="https" if scheme == "https"
              else "http")
        status, headers, body, rst, trailers = c.response(1)
    assert (status, rst) == (200, None)
    assert body == doc("10k.bin")
    assert ("x-trailer", "done") in trailers


@pytest.mark.parametrize("scheme", SCHEMES)
def test_limit_rate(t, scheme):
    start = time.monotonic()
    r = h2(t, scheme, "rate/10k.bin")
    assert (r.status, r.body) == (200, doc("10k.bin"))
    # a second worth at once, the rest 1 s later
    assert time.monotonic() - start > 0.7


# --- upstreams and request bodies -----------------------------------------

@pytest.mark.parametrize("scheme", SCHEMES)
def test_proxy_responses(t, scheme):
    r = h2(t, scheme, "proxy/big?n=300000")
    assert (r.status, r.body) == (200, big_bytes(300000))
    r = h2(t, scheme, "proxy/chunked?n=100000")
    assert (r.status, r.body) == (200, big_bytes(100000))
    r = h2(t, scheme, "nobuf/big?n=200000")
    assert (r.status, r.body) == (200, big_bytes(200000))


@pytest.mark.parametrize("scheme", SCHEMES)
def test_aio_threads(t, scheme):
    for path in ("aio/1m.bin", "aio/10k.bin"):
        r = h2(t, scheme, path)
        assert (r.status, r.body) == (200, doc(path[4:]))


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("loc", ["fcgi", "fcginobuf"])
def test_fastcgi(t, scheme, loc, tmp_path):
    r = h2(t, scheme, "%s/x?a=1" % loc)
    assert (r.status, r.body) == (200, ("GET /%s/x?a=1 0\n" % loc).encode())
    p = tmp_path / "body"
    p.write_bytes(big_bytes(100000))
    r = h2(t, scheme, "%s/y" % loc, "--data-binary", "@%s" % p)
    assert (r.status, r.body) == (200, ("POST /%s/y 100000\n" % loc).encode())
    status, body = _curl_stdin(t, scheme, "%s/z" % loc, big_bytes(70000))
    assert (status, body) == (200, ("POST /%s/z 70000\n" % loc).encode())


def test_limit_req_and_conn(t):
    """limit_req (nodelay and delayed) and limit_conn count streams as
    requests; delayed requests wait on their own timers."""
    with raw(t, "https") as c:
        for sid in (1, 3, 5, 7, 9):
            c.get(sid, "/lrn/index.html")
        codes = sorted(c.response(sid)[0] for sid in (1, 3, 5, 7, 9))
    assert codes == [200, 200, 200, 503, 503]
    start = time.monotonic()
    with raw(t, "h2c") as c:
        for sid in (1, 3, 5, 7, 9, 11):
            c.get(sid, "/lrd/index.html", scheme="http")
        codes = [c.response(sid)[0] for sid in (1, 3, 5, 7, 9, 11)]
    assert codes == [200] * 6
    assert time.monotonic() - start > 0.15
    with raw(t, "https") as c:
        c.get(1, "/lc/slow?ms=700")
        time.sleep(0.2)
        c.get(3, "/lc/slow?ms=100")
        assert c.response(3)[0] == 503
        assert c.response(1)[0] == 200


def _echo(r):
    assert r.status == 200, (r.status, r.stderr)
    return json.loads(r.body)


def _sha(data):
    import hashlib
    return hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("size", [0, 1000, 300000])
def test_request_body_content_length(t, scheme, size, tmp_path):
    data = big_bytes(size)
    p = tmp_path / "body"
    p.write_bytes(data)
    d = _echo(h2(t, scheme, "proxy/echo", "--data-binary", "@%s" % p,
                  "-H", "Content-Type: application/octet-stream"))
    assert (d["length"], d["sha256"]) == (size, _sha(data))
    assert d["headers"]["content-length"] == str(size)


def _curl_stdin(t, scheme, path, data, *args):
    url = t.url(path, "https" if scheme == "https" else "h2c")
    flag = ["--http2", "-k"] if scheme == "https" else \
        ["--http2-prior-knowledge"]
    cmd = ["curl", "-sS", "--max-time", "10", "-o", "-", "-w",
           "%{stderr}\n@@h2x %{http_code}\n", "-T", "-", "-X", "POST"] + \
        flag + list(args) + [url]
    res = subprocess.run(cmd, input=data, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, timeout=20)
    m = re.search(rb"@@h2x (\d+)", res.stderr)
    return int(m.group(1)) if m else 0, res.stdout


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("path,framing", [("proxy/echo", "length"),
                                          ("nobuf/echo", "chunked")])
def test_request_body_without_length(t, scheme, path, framing):
    """No content-length: nginx reads real chunked framing from h2x."""
    data = big_bytes(300000)
    status, body = _curl_stdin(t, scheme, path, data)
    assert status == 200
    d = json.loads(body)
    assert (d["length"], d["sha256"], d["framing"]) == \
        (len(data), _sha(data), framing)


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("path,framing", [("proxy/echo", "length"),
                                          ("nobuf/echo", "chunked")])
def test_request_body_trailers(ngx, scheme, path, framing):
    """No content-length, DATA frames of odd sizes, then trailers: nginx
    reads the engine's chunked framing (in 3-byte steps for the size
    lines) and the upstream gets the whole body.  h2x only: nginx 1.22's
    builtin takes request trailers for a second HEADERS (connection
    error)."""
    t = ngx.target("nginx-h2x")
    sch = "https" if scheme == "https" else "http"
    data = big_bytes(60001)
    with raw(t, scheme) as c:
        c.get(1, "/" + path, method="POST", end_stream=False, scheme=sch)
        off = 0
        for n in (1, 2, 3, 4093, 16384, 15, 1, 16384, 16384, 6734):
            c.data(1, data[off:off + n])
            off += n
        assert off == len(data)
        c.send(c.headers_frame(1, [("x-checksum", _sha(data)),
                                   ("x-more", "yes")], end_stream=True))
        status, headers, body, rst, _ = c.response(1)
    assert (status, rst) == (200, None)
    d = json.loads(body)
    assert (d["length"], d["sha256"], d["framing"]) == \
        (len(data), _sha(data), framing)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_client_max_body_size(t, scheme):
    sch = "https" if scheme == "https" else "http"
    with raw(t, scheme) as c:
        c.get(1, "/small/echo", method="POST", end_stream=False, scheme=sch,
              extra=[("content-length", "5000")])
        c.data(1, big_bytes(5000), end_stream=True)
        status, headers, body, rst, _ = c.response(1)
        assert status == 413
        # without content-length: nginx's chunked body parser counts
        c.get(3, "/small/echo", method="POST", end_stream=False, scheme=sch)
        c.data(3, big_bytes(16000))
        c.data(3, big_bytes(16000), end_stream=True)
        status, headers, body, rst, _ = c.response(3)
        assert status == 413


def test_expect_100_continue(t, tmp_path):
    p = tmp_path / "body"
    p.write_bytes(big_bytes(2000))
    r = curl(t.url("proxy/echo", "https"), "--http2", "-k", "-v",
             "-H", "Expect: 100-continue", "--data-binary", "@%s" % p)
    assert r.status == 200
    assert json.loads(r.body)["length"] == 2000
    if t.is_h2x:
        # 1.22's builtin never sends it; h2x turns nginx's into HEADERS
        assert "< HTTP/2 100" in r.stderr


# --- variables, logs, status ----------------------------------------------

@pytest.mark.parametrize("scheme", SCHEMES)
def test_variables_and_access_log(t, scheme):
    r = h2(t, scheme, "vars")
    base = "https" if scheme == "https" else "http"
    proto = "h2" if scheme == "https" else "h2c"
    if t.is_h2x:
        assert r.body == ("h2x=%s sid=1 proto=HTTP/2.0 http2= scheme=%s\n"
                          % (proto, base)).encode()
    else:
        assert r.body == ("h2x= sid= proto=HTTP/2.0 http2=%s scheme=%s\n"
                          % (proto, base)).encode()
    line = wait_for(lambda: [l for l in access_log(t)
                             if " GET /vars HTTP/2.0 " in l])[-1]
    assert line.startswith("200 GET /vars HTTP/2.0 ")
    if t.is_h2x:
        assert " h2x=%s http2= sid=1 " % proto in line
    # HTTP/1.1 on the same h2x ports: no $h2x
    if t.is_h2x:
        r = curl(t.url("vars", "http"), "--http1.1")
        assert r.body.startswith(b"h2x= sid= proto=HTTP/1.1")


def test_status_json(ngx):
    t = ngx.target("nginx-h2x")
    for scheme in SCHEMES:
        h2(t, scheme, "index.html")
    r = h2(t, "https", "h2x_status")
    assert r.status == 200
    d = json.loads(r.body)
    for key in ("connections", "streams", "frames_in", "frames_out",
                "resets", "goaways", "abuse"):
        assert key in d, d
    assert d["connections"]["total"] >= 2
    assert d["streams"]["total"] >= 2
    assert d["frames_in"]["HEADERS"] >= 2
    assert d["frames_out"]["SETTINGS"] >= 2
    assert "rapid_reset" in d["abuse"]


# --- HTTP/1.x untouched ------------------------------------------------------

def test_http1_same_ports(ngx):
    t = ngx.target("nginx-h2x")
    assert t.h2c_port == t.http1_port
    for tls in (False, True):
        base = t.url("1m.bin", "https" if tls else "http")
        r = curl(base, "--http1.1", "-k")
        assert (r.status, r.http_version, r.body) == \
            (200, "1.1", doc("1m.bin"))
    # HTTP/1.0, and garbage, go to nginx's HTTP/1 parser
    r = curl(t.url("index.html", "http"), "--http1.0")
    assert (r.status, r.body) == (200, doc("index.html"))
    r = curl("http://localhost:%d/index.html" % t.tls_port)
    assert r.status == 400


# --- load ------------------------------------------------------------------------

@pytest.mark.parametrize("scheme", SCHEMES)
def test_h2load(t, scheme):
    r = h2load(t.url("index.html", scheme), n=20000, c=10, m=100,
               timeout=120)
    assert r.protocol == ("h2" if scheme == "https" else "h2c"), r.output
    assert (r.succeeded, r.failed, r.errored, r.timeout) == \
        (20000, 0, 0, 0), r.output
    assert r.status_2xx == 20000, r.output


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("loc", ["up", "upnobuf"])
def test_uploads_under_load(t, scheme, loc, tmp_path):
    """80 concurrent 1 MB uploads at a time: windows credited as nginx
    reads, buffered and streamed to the upstream."""
    p = tmp_path / "body"
    p.write_bytes(big_bytes(1000000))
    r = h2load(t.url("%s/sink" % loc, scheme), "-d", str(p), n=400, c=4,
               m=20, timeout=120)
    assert (r.succeeded, r.failed, r.errored) == (400, 0, 0), r.output
    r = h2load(t.url("%s/1m.bin" % loc, scheme), n=200, c=4, m=20,
               timeout=120)
    assert (r.succeeded, r.failed, r.errored) == (200, 0, 0), r.output


def test_nghttp_multiplexed(t):
    r = nghttp(t.url("index.html", "https"), "-m", "50")
    assert r.returncode == 0, r.output[-2000:]
    assert r.statuses == [200] * 50


@pytest.mark.parametrize("scheme", SCHEMES)
def test_discarded_body(ngx, scheme, tmp_path):
    """A body nginx does not want (POST to a static file: 405) is read and
    dropped, so the client gets its response whole (the builtin 1.22 may
    fail curl here; not a reference)."""
    t = ngx.target("nginx-h2x")
    p = tmp_path / "body"
    p.write_bytes(big_bytes(1000000))
    r = h2(t, scheme, "index.html", "--data-binary", "@%s" % p)
    assert r.status == 405, r.stderr
    status, body = _curl_stdin(t, scheme, "index.html", big_bytes(1000000))
    assert status == 405
    # and the connection's next request is served
    r = h2(t, scheme, "index.html")
    assert r.status == 200
