"""Real clients (curl, nghttp, h2load) against all four targets.

The builtin targets prove the harness; the h2x targets are
xfail(strict) until their adapter lands (see h2xtest.ADAPTER_PENDING)."""

import pytest

from h2xtest import doc
from h2xtest.clients import (curl_h2_tls, curl_h2c, curl_http1, nghttp,
                             h2load)

FILES = ["index.html", "10k.bin", "1m.bin"]


def served(r, version, path):
    """curl got the file whole, with 200, over that HTTP version."""
    assert r.returncode == 0, r.stderr
    assert r.http_version == version
    assert r.status == 200
    assert r.body == doc(path)


@pytest.mark.adapter_pending
@pytest.mark.parametrize("path", FILES)
def test_curl_h2_tls(any_target, path):
    r = curl_h2_tls(any_target, path)
    served(r, "2", path)


@pytest.mark.adapter_pending
@pytest.mark.parametrize("path", FILES)
def test_curl_h2c_prior_knowledge(any_target, path):
    r = curl_h2c(any_target, path)
    served(r, "2", path)


@pytest.mark.parametrize("tls", [True, False], ids=["tls", "clear"])
@pytest.mark.parametrize("path", ["index.html", "1m.bin"])
def test_curl_http1(any_target, tls, path):
    """HTTP/1.1 keeps working on every port that offers it."""
    r = curl_http1(any_target, path, tls=tls)
    served(r, "1.1", path)


@pytest.mark.adapter_pending
@pytest.mark.parametrize("scheme", ["https", "h2c"])
def test_nghttp_settings_exchange(any_target, scheme):
    r = nghttp(any_target.url("/10k.bin", scheme))
    assert r.returncode == 0, r.output[-2000:]
    # both sides send SETTINGS, the server acknowledges the client's (the
    # client may finish before it gets round to its own ACK)
    sent = r.frames("send", "SETTINGS")
    got = r.frames("recv", "SETTINGS")
    assert [l for l in sent if "flags=0x00" in l], r.output
    assert [l for l in got if "flags=0x00" in l], r.output
    assert [l for l in got if "flags=0x01" in l], r.output
    assert r.statuses == [200], r.output
    # the body ends with END_STREAM (flag 0x01) on a DATA frame
    assert [l for l in r.frames("recv", "DATA") if "flags=0x01" in l], \
        r.output


@pytest.mark.adapter_pending
@pytest.mark.parametrize("scheme", ["https", "h2c"])
def test_h2load(any_target, scheme):
    r = h2load(any_target.url("/index.html", scheme), n=1000, c=10, m=10)
    assert r.returncode == 0, r.output
    assert r.protocol == ("h2" if scheme == "https" else "h2c"), r.output
    assert (r.total, r.started, r.done) == (1000, 1000, 1000), r.output
    assert r.succeeded == 1000, r.output
    assert (r.failed, r.errored, r.timeout) == (0, 0, 0), r.output
    assert r.status_2xx == 1000, r.output
