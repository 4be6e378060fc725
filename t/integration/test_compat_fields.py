"""Request fields where RFC 9113 lets the server choose: h2x answers as
the host's builtin HTTP/2 does (docs/compat.md), on all four targets.

- a "host" field that differs from :authority: Apache (mod_http2) serves
  the request by :authority; nginx answers 400 (its builtin's "client sent
  :authority and Host headers with different values" / "duplicate host");
- leading/trailing SP or HTAB in a field value: accepted by both builtins
  (mod_http2 strips it, nginx passes it on), where h2x used to reset the
  stream.
"""
import pytest

from h2xtest.raw import connect


def raw_get(target, extra, authority="localhost", tls=True):
    c = connect(target, tls=tls)
    try:
        c.send(c.request(1, "/index.html", extra=extra,
                         authority=authority))
        status, _, _, rst, _ = c.response(1, timeout=10)
    finally:
        c.close()
    return status, rst


@pytest.mark.parametrize("tls", [True, False], ids=["h2", "h2c"])
def test_host_differs_from_authority(any_target, tls):
    status, rst = raw_get(any_target, [("host", "other.example")], tls=tls)
    if any_target.kind == "apache":
        assert (status, rst) == (200, None)
    else:
        assert (status, rst) == (400, None)


def test_host_equal_to_authority(any_target):
    status, rst = raw_get(any_target, [("host", "localhost")])
    if any_target.kind == "apache" or any_target.engine == "h2x":
        assert (status, rst) == (200, None)
    else:
        # nginx 1.22's builtin: any host next to :authority is a duplicate
        assert rst is None and status in (200, 400)


@pytest.mark.parametrize("value", [" lead", "trail\t", " \tboth \t"])
def test_value_whitespace_accepted(any_target, value):
    status, rst = raw_get(any_target, [("x-h2x-test", value)])
    assert (status, rst) == (200, None)


@pytest.mark.parametrize("value", ["a\x00b", "a\rb", "a\nb"])
def test_value_control_bytes_still_malformed(h2x_target, value):
    status, rst = raw_get(h2x_target, [("x-h2x-test", value)])
    assert status is None and rst == 1     # PROTOCOL_ERROR
