"""mod_h2x's APLOGNO ids: each names one message (operators grep them)."""
import collections
import os
import re

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "mod_apache")


def test_aplogno_unique():
    seen = collections.defaultdict(list)
    for name in sorted(os.listdir(ROOT)):
        if not name.endswith((".c", ".h")):
            continue
        with open(os.path.join(ROOT, name), encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                for m in re.finditer(r"APLOGNO\((\d+)\)", line):
                    seen[m.group(1)].append("%s:%d" % (name, lineno))
    assert seen, "no APLOGNO ids found in mod_apache/"
    dups = {k: v for k, v in seen.items() if len(v) > 1}
    assert not dups, "APLOGNO ids used more than once: %r" % dups
