"""Helpers for h2x's integration tests (see ../README.md)."""

import os
import sys

_TOOLS = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..",
                                      "tools"))
if _TOOLS not in sys.path:
    sys.path.insert(0, _TOOLS)

from h2xservers import (  # noqa: E402,F401
    ALL_TARGETS, BUILTIN_TARGETS, H2X_TARGETS, NGINX_TARGETS, APACHE_TARGETS,
    DOC_FILES, INDEX_HTML, REPO, BUILD, ServerError, Target, NginxServer,
    ApacheServer, Site, doc_bytes, nginx_check, apache_check, free_ports,
)

__all__ = [
    "ALL_TARGETS", "BUILTIN_TARGETS", "H2X_TARGETS", "NGINX_TARGETS",
    "APACHE_TARGETS", "DOC_FILES", "INDEX_HTML", "REPO", "BUILD",
    "ServerError", "Target", "NginxServer", "ApacheServer", "Site",
    "doc_bytes", "nginx_check", "apache_check", "free_ports",
    "ADAPTER_PENDING", "doc",
]

# h2x targets whose adapter does not serve HTTP/2 yet.  Tests marked
# `@pytest.mark.adapter_pending` are xfail(strict=True) on these targets:
# when an adapter lands, its tests XPASS and fail the suite, and the
# session that landed it removes the target here (or names targets
# explicitly on a marker: @pytest.mark.adapter_pending("apache-h2x")).
ADAPTER_PENDING = set()


def doc(name):
    """Expected bytes of a docroot file ("index.html", "10k.bin", ...)."""
    if name == "index.html":
        return INDEX_HTML
    return doc_bytes(name, DOC_FILES[name])
