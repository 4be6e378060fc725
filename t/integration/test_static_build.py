"""The addon `config` with --add-module: nginx 1.22.1 built statically.

Fetches Debian's upstream tarball (adding a deb-src entry for the archive
this machine uses), builds once into build/static-nginx/ and reuses the
build until `config`, `common/` or `ngx_module/` change."""

import os
import subprocess

import pytest

from h2xtest import doc, NginxServer
from h2xtest import static_nginx as sn
from h2xtest.clients import curl


@pytest.fixture(scope="module")
def static_nginx():
    if os.geteuid() != 0 and not sn.have_source():
        pytest.skip("not root and no %s in %s" % (sn.ORIG, sn.DOWNLOAD))
    return sn.build(jobs=2)


def test_filter_order(static_nginx):
    names = sn.http_filter_order()
    i = names.index("ngx_http_h2x_module")
    assert names[i - 1] == "ngx_http_chunked_filter_module", names
    assert names[i + 1] == "ngx_http_v2_filter_module", names
    # and so after gzip and headers (filters run in reverse order)
    assert i < names.index("ngx_http_gzip_filter_module")
    assert i < names.index("ngx_http_headers_filter_module")


def test_binary_has_module(static_nginx):
    res = subprocess.run([static_nginx["binary"], "-V"],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, timeout=10)
    assert "nginx/%s" % sn.NGINX_VERSION in res.stdout
    assert "--add-module=%s" % sn.REPO in res.stdout, res.stdout


class StaticNginx(NginxServer):
    """The harness's nginx config, run by the static binary."""

    def command(self, test=False):
        cmd = super().command(test)
        return [self.binary] + cmd[1:]

    def required_files(self):
        return [self.binary]


def test_config_test_and_request(static_nginx, h2x_site):
    srv = StaticNginx(("nginx-h2x",), workdir=h2x_site.workdir("static"),
                      docroot=h2x_site.docroot, cert=h2x_site.cert,
                      load_h2x=False, server_extra="h2x on;")
    srv.binary = static_nginx["binary"]
    srv.write_config()
    assert "load_module" not in open(srv.conf_path).read()
    res = subprocess.run(srv.command(test=True), stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, timeout=30)
    assert res.returncode == 0, res.stdout
    assert "test is successful" in res.stdout
    try:
        srv.start()
        t = srv.target("nginx-h2x")
        r = curl(t.url("/10k.bin", "http"), "--http1.1")
        assert (r.status, r.body) == (200, doc("10k.bin")), r
        r = curl(t.url("/index.html", "https"), "-k")
        assert (r.status, r.body) == (200, doc("index.html")), r
    finally:
        srv.stop()
