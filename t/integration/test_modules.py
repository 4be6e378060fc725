"""Both modules load into the real servers and leave HTTP/1.1 working."""

import subprocess

import pytest

from h2xtest import APACHE_TARGETS
import h2xservers
from h2xservers import APACHE_BIN, NGINX_MODULE, APACHE_MODULE


def running_with(t, *lines):
    """t's server runs a parent and a worker, from a config with lines."""
    srv = t.server
    assert srv.running() and len(t.pids) >= 2
    conf = open(srv.conf_path).read()
    for line in lines:
        assert line in conf
    return srv


@pytest.mark.parametrize("target", ["nginx-h2x"], indirect=True)
def test_nginx_module_loaded(target):
    lines = ["h2x on;"]
    if not h2xservers.NGINX_STATIC:      # built in: no load_module line
        lines.append("load_module %s;" % NGINX_MODULE)
    srv = running_with(target, *lines)
    log = open(srv.error_log).read()
    assert "[emerg]" not in log and "[alert]" not in log, log


@pytest.mark.parametrize("target", ["apache-h2x"], indirect=True)
def test_apache_module_loaded(target):
    srv = running_with(target, "LoadModule h2x_module %s" % APACHE_MODULE,
                       "H2XEngine on")
    # the running config, as Apache itself lists its modules
    res = subprocess.run([APACHE_BIN, "-d", srv.workdir, "-f", srv.conf_path,
                          "-M"], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, timeout=30,
                         env=h2xservers.server_env())
    assert res.returncode == 0, res.stdout
    assert " h2x_module (shared)" in res.stdout, res.stdout
    # h2 on the h2x process can only come from h2x
    assert " http2_module" not in res.stdout, res.stdout


def test_apache_targets_are_separate_processes(h2x_servers):
    a = h2x_servers.server_for(APACHE_TARGETS[0])
    b = h2x_servers.server_for(APACHE_TARGETS[1])
    assert a is not b and a.proc.pid != b.proc.pid
