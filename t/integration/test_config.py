"""Config checks: the directives parse, and bad values name file:line."""

import pytest

from h2xtest import nginx_check, apache_check
from h2xservers import NGINX_STATIC

NGINX_CONF = """\
load_module {module};
pid {workdir}/check.pid;
events {{}}
http {{
    client_body_temp_path {workdir}/client_body_temp;
    proxy_temp_path {workdir}/proxy_temp;
    fastcgi_temp_path {workdir}/fastcgi_temp;
    uwsgi_temp_path {workdir}/uwsgi_temp;
    scgi_temp_path {workdir}/scgi_temp;
    access_log off;
    %(http)s
    server {{
        listen 127.0.0.1:1;
        %(server)s
        location / {{
            %(location)s
        }}
    }}
}}
"""


def nginx_conf(http="", server="", location=""):
    return NGINX_CONF % {"http": http, "server": server,
                         "location": location}


def line_of(path, needle):
    """1-based number of the line of `path` that contains `needle`."""
    with open(path) as f:
        lines = f.read().splitlines()
    hits = [i + 1 for i, l in enumerate(lines) if needle in l]
    assert len(hits) == 1, (needle, lines)
    return hits[0]


@pytest.mark.parametrize("value", ["on", "off"])
@pytest.mark.parametrize("level", ["http", "server"])
def test_nginx_accepts_h2x(check_dir, level, value):
    rc, out, path = nginx_check(nginx_conf(**{level: "h2x %s;" % value}),
                                check_dir)
    assert rc == 0, out
    assert "nginx: configuration file %s test is successful" % path in out


@pytest.mark.parametrize("level", ["http", "server"])
def test_nginx_rejects_bad_value(check_dir, level):
    rc, out, path = nginx_check(nginx_conf(**{level: "h2x maybe;"}),
                                check_dir)
    n = line_of(path, "h2x maybe;")
    assert rc == 1, out
    assert ('nginx: [emerg] invalid value "maybe" in "h2x" directive, '
            'it must be "on" or "off" in %s:%d\n' % (path, n)) in out, out
    assert "test failed" in out


def test_nginx_rejects_location_context(check_dir):
    rc, out, path = nginx_check(nginx_conf(location="h2x on;"), check_dir)
    n = line_of(path, "h2x on;")
    assert rc == 1, out
    assert ('nginx: [emerg] "h2x" directive is not allowed here in %s:%d\n'
            % (path, n)) in out, out


@pytest.mark.skipif(NGINX_STATIC, reason="nginx with h2x built in")
def test_nginx_directive_comes_from_the_module(check_dir):
    """Control: without load_module the directive does not exist."""
    conf = nginx_conf(server="h2x on;").replace("load_module {module};\n",
                                                "")
    rc, out, path = nginx_check(conf, check_dir)
    assert rc == 1, out
    assert 'unknown directive "h2x" in %s:%d' % (
        path, line_of(path, "h2x on;")) in out, out


APACHE_CONF = """\
ServerRoot {workdir}
ServerName localhost
PidFile {workdir}/check.pid
ErrorLog {workdir}/check-error.log
LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so
LoadModule %(symbol)s {module}
Listen 127.0.0.1:1
%(server)s
<VirtualHost 127.0.0.1:1>
    ServerName localhost
    %(vhost)s
</VirtualHost>
"""


def apache_conf(server="", vhost="", symbol="h2x_module"):
    return APACHE_CONF % {"server": server, "vhost": vhost, "symbol": symbol}


@pytest.mark.parametrize("value", ["on", "off", "On", "OFF"])
@pytest.mark.parametrize("level", ["server", "vhost"])
def test_apache_accepts_h2xengine(check_dir, level, value):
    rc, out, _ = apache_check(
        apache_conf(**{level: "H2XEngine %s" % value}), check_dir)
    assert rc == 0, out
    assert "Syntax OK" in out


@pytest.mark.parametrize("level", ["server", "vhost"])
def test_apache_rejects_bad_value(check_dir, level):
    rc, out, path = apache_check(
        apache_conf(**{level: "H2XEngine maybe"}), check_dir)
    n = line_of(path, "H2XEngine maybe")
    assert rc == 1, out
    assert "AH00526: Syntax error on line %d of %s:\n" % (n, path) in out, out
    assert "H2XEngine must be On or Off" in out, out


def test_apache_loadmodule_resolves_symbol(check_dir):
    rc, out, _ = apache_check(apache_conf(), check_dir)
    assert rc == 0, out
    # and a wrong symbol is an error, so the check above means something
    rc, out, path = apache_check(apache_conf(symbol="h2x_nosuch_module"),
                                 check_dir)
    assert rc == 1, out
    assert ("Syntax error on line %d of %s: Can't locate API module "
            "structure `h2x_nosuch_module'" % (line_of(path, "LoadModule h2x"),
                                               path)) in out, out


@pytest.mark.parametrize("value", ["0", "1", "60", "86400"])
def test_apache_accepts_header_timeout(check_dir, value):
    rc, out, _ = apache_check(apache_conf(vhost="H2XHeaderTimeout " + value),
                              check_dir)
    assert rc == 0, out
    assert "Syntax OK" in out


@pytest.mark.parametrize("value", ["-1", "1s", "86401", "soon"])
def test_apache_rejects_bad_header_timeout(check_dir, value):
    rc, out, path = apache_check(
        apache_conf(vhost="H2XHeaderTimeout " + value), check_dir)
    n = line_of(path, "H2XHeaderTimeout " + value)
    assert rc == 1, out
    assert "AH00526: Syntax error on line %d of %s:\n" % (n, path) in out, out
    assert "H2XHeaderTimeout: '%s' is not a number in 0..86400" % value \
        in out, out
