"""`make ab` end to end, short (AB_QUICK=1): the harness runs every scenario
on both servers, writes the report and the chart, prints every RESULT line,
and no request failed on any side that serves HTTP/2.  No speed assertion.
"""

import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from h2xtest import REPO

AB = os.path.join(REPO, "t", "bench", "ab", "ab.py")
SERVERS = ("nginx", "apache")
TRANSPORTS = ("tls", "h2c")
SCENARIOS = ("small", "small_c100", "10k", "1m", "post64k", "proxy", "page")


def expected_results():
    names = []
    for s in SERVERS:
        names += ["%s_%s_%s_ratio" % (s, t, sc)
                  for t in TRANSPORTS for sc in SCENARIOS]
        names.append("%s_idle_conn_bytes_ratio" % s)
    return names


@pytest.fixture(scope="module")
def ab_run(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("ab"))
    env = dict(os.environ, AB_QUICK="1", AB_OUT=out)
    for var in ("AB_ROUNDS", "AB_DURATION", "AB_SERVERS", "AB_SCENARIOS",
                "AB_WARMUP", "AB_IDLE_CONNS"):
        env.pop(var, None)
    res = subprocess.run([sys.executable, AB], cwd=REPO, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, timeout=300)
    return res, out


def test_ab_quick_runs_end_to_end(ab_run):
    res, out = ab_run
    text = res.stdout
    assert res.returncode == 0, text[-4000:]
    # progress line per run, tables, then the RESULT lines last
    assert re.search(r"^\[\s*1/\d+\] nginx ", text, re.M), text[:3000]
    lines = text.rstrip().splitlines()
    results = {}
    for line in lines:
        m = re.match(r"RESULT (\S+) (\S+)$", line)
        if m:
            results[m.group(1)] = m.group(2)
    for name in expected_results():
        assert name in results, "missing RESULT %s" % name
        v = results[name]
        assert v == "nan" or float(v) > 0, (name, v)
    first = next(i for i, l in enumerate(lines) if l.startswith("RESULT "))
    assert all(l.startswith("RESULT ") for l in lines[first:])

    # report and chart
    report = open(os.path.join(out, "report.md")).read()
    assert report.startswith("# h2x A/B")
    for section in ("## Machine and versions", "## Ratios", "## Results",
                    "## Fairness", "## Commands"):
        assert section in report
    root = ET.parse(os.path.join(out, "chart.svg")).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert len(root.findall(".//{http://www.w3.org/2000/svg}rect")) > 10

    data = json.load(open(os.path.join(out, "ab.json")))
    for kind in SERVERS:
        sides = data["sides"][kind]
        for tr in TRANSPORTS:
            # the builtin modules always serve HTTP/2
            assert sides["builtin"]["serves"][tr], (kind, tr, sides)
            h2x = sides["h2x"]["serves"][tr]
            for sc in SCENARIOS:
                name = "%s_%s_%s_ratio" % (kind, tr, sc)
                if h2x:
                    assert results[name] != "nan", name
                else:
                    # reported, with the reason, instead of failing
                    assert results[name] == "nan", name
                    assert re.search(r"^nan: %s %s: %s-h2x does not serve "
                                     r"HTTP/2 yet" % (kind, tr, kind),
                                     text, re.M), (kind, tr)
    # no request failed on any side that serves HTTP/2
    bad = []
    for key, runs in data["runs"].items():
        for r in runs:
            if r["error"] or r["failed"]:
                bad.append((key, r["error"], r["failed"]))
    for key, recs in data["idle"].items():
        for r in recs:
            if r["failed"]:
                bad.append((key, r["errors"], r["failed"]))
    assert not bad, bad
    assert not data["failures"], data["failures"]
    # every scenario ran on every serving side
    for kind in SERVERS:
        for tr in TRANSPORTS:
            for engine in ("builtin", "h2x"):
                if not data["sides"][kind][engine]["serves"][tr]:
                    continue
                for sc in SCENARIOS:
                    assert data["runs"].get("%s/%s/%s/%s"
                                            % (kind, tr, sc, engine)), \
                        (kind, tr, sc, engine)
                assert data["idle"].get("%s/%s/%s" % (kind, tr, engine))
