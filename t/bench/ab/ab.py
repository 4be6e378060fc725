#!/usr/bin/python3
"""`make ab`: h2x against the builtin HTTP/2 of nginx and Apache, side by side.

Starts nginx (one process, two server blocks: builtin `http2` and `h2x on`),
Apache (one process per side, same MPM settings: mod_http2 / mod_h2x) and an
HTTP/1.1 backend; probes what each side serves; checks and prints what makes
the comparison fair; then drives every scenario over TLS and h2c with h2load,
builtin and h2x alternated (A B A B) over several rounds, and reports medians.
Writes build/ab/report.md, build/ab/chart.svg and build/ab/ab.json; the last
lines of output are `RESULT <name> <h2x/builtin>`.  See docs/ab.md.

Environment:
  AB_QUICK=1        1 round, 1 s per run, 24 idle connections (CI; every
                    scenario still runs)
  AB_ROUNDS=n       rounds (default 3)
  AB_DURATION=s     seconds per h2load run (h2load -D; default 5)
  AB_WARMUP=s       unrecorded warm-up run per side and case in round 1
                    (default 1; 0 with AB_QUICK)
  AB_IDLE_CONNS=n   idle connections per measurement (default 200)
  AB_SERVERS=nginx,apache      AB_SCENARIOS=small,10k,...,idle
  AB_OUT=dir        output directory (default build/ab)
  AB_GLIBC_TUNABLES=...  malloc tunables of every server process
"""

import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import abload  # noqa: E402
import abreport  # noqa: E402
import abservers  # noqa: E402
from abservers import hs  # noqa: E402

KINDS = ("nginx", "apache")
TRANSPORTS = ("tls", "h2c")
ENGINES = ("builtin", "h2x")

# name, path, h2load options, metric, what it measures
SCENARIOS = [
    ("small", "/s100.txt", ["-c", "10", "-m", "100"], "req/s",
     "100-byte static file, 10 connections x 100 streams"),
    ("small_c100", "/s100.txt", ["-c", "100", "-m", "10"], "req/s",
     "100-byte static file, 100 connections x 10 streams"),
    ("10k", "/10k.bin", ["-c", "10", "-m", "10"], "req/s",
     "10 KiB static file"),
    ("1m", "/1m.bin", ["-c", "4", "-m", "4"], "MB/s",
     "1 MiB static file, throughput"),
    ("post64k", "/post", ["-c", "10", "-m", "10"], "req/s",
     "64 KiB POST bodies the server reads, 204"),
    ("proxy", "/proxy/p1k.bin", ["-c", "10", "-m", "10"], "req/s",
     "1 KiB file proxied from the HTTP/1.1 backend"),
    ("page", None, ["-c", "10", "-m", "20"], "req/s",
     "page load: %d URIs (html, css, js, font, images; 600 B - 180 KiB)"
     % len(abservers.PAGE_FILES)),
]
LOAD_NAMES = [s[0] for s in SCENARIOS]
ALL_SCENARIOS = LOAD_NAMES + ["idle"]


class Settings:
    def __init__(self, env):
        self.quick = env.get("AB_QUICK", "") not in ("", "0")
        self.rounds = int(env.get("AB_ROUNDS", 1 if self.quick else 3))
        self.duration = float(env.get("AB_DURATION",
                                      1 if self.quick else 5))
        self.warmup = float(env.get("AB_WARMUP", 0 if self.quick else 1))
        self.idle_conns = int(env.get("AB_IDLE_CONNS",
                                      24 if self.quick else 200))
        self.servers = _names(env.get("AB_SERVERS", ""), KINDS, "AB_SERVERS")
        self.scenarios = _names(env.get("AB_SCENARIOS", ""), ALL_SCENARIOS,
                                "AB_SCENARIOS")
        self.out = os.path.abspath(env.get("AB_OUT",
                                           os.path.join(hs.BUILD, "ab")))
        if self.rounds < 1 or self.duration <= 0 or self.idle_conns < 1:
            raise SystemExit("ab: AB_ROUNDS, AB_DURATION and AB_IDLE_CONNS "
                             "must be positive")

    def as_dict(self):
        return {"quick": self.quick, "rounds": self.rounds,
                "duration_s": self.duration, "warmup_s": self.warmup,
                "idle_conns": self.idle_conns, "servers": self.servers,
                "scenarios": self.scenarios}


def _names(value, allowed, var):
    if not value.strip():
        return list(allowed)
    names = [v.strip() for v in value.split(",") if v.strip()]
    bad = [n for n in names if n not in allowed]
    if bad:
        raise SystemExit("ab: %s: unknown %s (choose from %s)"
                         % (var, ", ".join(bad), ", ".join(allowed)))
    return [n for n in allowed if n in names]


# --- terminal ------------------------------------------------------------------

TTY = sys.stdout.isatty()


def red(text):
    return "\033[1;31m%s\033[0m" % text if TTY else text


def say(text=""):
    print(text, flush=True)


# --- machine and versions --------------------------------------------------------

def _cmd_out(cmd):
    try:
        res = subprocess.run(cmd, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, timeout=20)
        return res.stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return "?"


def machine():
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = "?"
    try:
        with open("/proc/meminfo") as f:
            mem = "%.1f GiB" % (int(f.readline().split()[1]) / 2**20)
    except (OSError, ValueError, IndexError):
        pass
    commit = _cmd_out(["git", "-C", hs.REPO, "rev-parse", "--short=12",
                       "HEAD"])
    dirty = _cmd_out(["git", "-C", hs.REPO, "status", "--porcelain",
                      "--untracked-files=no"])
    branch = _cmd_out(["git", "-C", hs.REPO, "rev-parse", "--abbrev-ref",
                       "HEAD"])
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "cpu": model, "cores": os.cpu_count(),
        "kernel": platform.release(), "memory": mem,
        "load_start": "%.2f %.2f %.2f" % os.getloadavg(),
        "nginx": _cmd_out([hs.NGINX_BIN, "-v"]).replace("nginx version: ",
                                                          ""),
        "apache": _cmd_out([hs.APACHE_BIN, "-v"]).splitlines()[0].replace(
            "Server version: ", ""),
        "h2load": _cmd_out(["h2load", "--version"]),
        "openssl": _cmd_out(["openssl", "version"]),
        "h2x": "%s (%s)%s" % (commit, branch,
                              " + uncommitted changes" if dirty else ""),
    }


# --- runs ---------------------------------------------------------------------------

class AB:
    def __init__(self, settings):
        self.s = settings
        ncpu = os.cpu_count() or 1
        self.cpus = (0, 1) if ncpu >= 2 else (None, None)
        self.runs = {}        # "kind/tr/scenario/engine" -> [run dict]
        self.idle = {}        # "kind/tr/engine" -> [measurement dict]
        self.sides = {}       # kind -> {engine: {"serves", "why"}}
        self.fair = {}        # kind -> rows
        self.notes = {}       # kind -> [text]
        self.commands = {}    # "kind/tr/scenario/engine" -> command line
        self.failures = []
        self.n = 0
        self.total = 0
        self.tmp = os.path.join(self.s.out, "tmp")

    # -- one h2load run
    def h2load_args(self, side, tr, scen, duration):
        name, path, opts, metric, _ = scen
        args = ["-D", "%dms" % round(duration * 1000), "-t", "1"] + opts
        if name == "post64k":
            args += ["-d", self.servers.post_body]
        if path is None:
            uris = os.path.join(self.tmp, "page-%s-%s-%s.txt"
                                % (side.kind, side.engine, tr))
            with open(uris, "w") as f:
                for p, _ in abservers.PAGE_FILES:
                    f.write(side.url(tr, p) + "\n")
            args += ["-i", uris]
        else:
            args.append(side.url(tr, path))
        return args

    def load_run(self, side, tr, scen, rnd, warm=False):
        duration = min(self.s.warmup, self.s.duration) if warm \
            else self.s.duration
        args = self.h2load_args(side, tr, scen, duration)
        run = abload.run_h2load(
            args, side.pids(), self.cpus[0], self.cpus[1], tr == "tls",
            204 if scen[0] == "post64k" else 200,
            os.path.join(self.tmp, "h2load-requests.log"),
            timeout=int(duration) + 60, duration=duration)
        key = "%s/%s/%s/%s" % (side.kind, tr, scen[0], side.engine)
        if warm:
            if run.error or run.failed:
                self.fail("%s warm-up: %s" % (key, run.error or
                                               "%d requests failed"
                                               % run.failed))
            return run
        self.n += 1
        self.commands.setdefault(key, " ".join(run.cmd))
        rec = {"round": rnd, "value": run.value(scen[3]), "rps": run.rps,
               "mbps": run.mbps, "ok": run.ok, "failed": run.failed,
               "mean_ms": run.mean_ms, "p99_ms": run.p99_ms,
               "cpu_s": run.cpu_s, "cpu_per_100k": run.cpu_per_100k,
               "server_busy": run.server_busy,
               "client_busy": run.client_busy, "saturated": run.saturated,
               "duration": run.duration, "wall": run.wall,
               "tls": run.tls,
               "other": {str(k): v for k, v in run.other.items()},
               "rss_per_conn": run.rss_growth / int(
                   scen[2][scen[2].index("-c") + 1]),
               "error": run.error}
        self.runs.setdefault(key, []).append(rec)
        line = "[%3d/%d] %-6s %-3s %-10s %-7s r%d  %s" % (
            self.n, self.total, side.kind, tr, scen[0], side.engine, rnd,
            abreport.run_summary(rec, scen[3]))
        if run.error or run.failed:
            msg = "%s round %d: %s" % (key, rnd, run.error or
                                       "%d requests failed" % run.failed)
            self.fail(msg)
            line = red(line + "  FAILED: " + (run.error or "%d requests"
                                               % run.failed))
            out = run.output.strip().splitlines()
            keep = [l for l in out if l.startswith(("requests:",
                                                    "status codes:"))]
            keep = [l for l in out[:40] if l.lower().startswith(
                ("error", "fatal", "no protocol", "could not", "-"))
                and l not in keep][:3] + keep
            tail = "\n".join(keep or out[-6:])
            if tail:
                line += "\n" + "\n".join("        " + l
                                         for l in tail.splitlines())
        say(line)
        return run

    # -- idle connections: bytes of server RSS per connection
    def idle_run(self, side, tr, rnd, reload_server):
        n = self.s.idle_conns
        reload_server()       # a fresh worker: no heap left by earlier runs
        time.sleep(0.2)
        warm, e0 = abload.open_idle(side.port(tr), tr == "tls",
                                    "/s100.txt", 4)
        time.sleep(0.2)
        pids = side.pids()
        r0 = abload.rss_bytes(pids)
        conns, errors = abload.open_idle(side.port(tr), tr == "tls",
                                         "/s100.txt", n)
        time.sleep(0.5)
        r1 = abload.rss_bytes(side.pids())
        abload.close_all(conns + warm)
        errors += e0
        per = (r1 - r0) / len(conns) if conns else None
        rec = {"round": rnd, "conns": len(conns), "failed": len(errors),
               "rss_before": r0, "rss_after": r1, "bytes_per_conn": per,
               "errors": sorted(set(errors))[:3]}
        key = "%s/%s/%s" % (side.kind, tr, side.engine)
        self.idle.setdefault(key, []).append(rec)
        self.n += 1
        line = "[%3d/%d] %-6s %-3s %-10s %-7s r%d  %s" % (
            self.n, self.total, side.kind, tr, "idle", side.engine, rnd,
            "%d conns  RSS %+.0f KiB  %s per connection  failed %d" % (
                len(conns), (r1 - r0) / 1024.0,
                abreport.fmt_bytes(per), len(errors)))
        if errors:
            self.fail("%s round %d: %d of %d idle connections failed (%s)"
                      % (key, rnd, len(errors), n, errors[-1]))
            line = red(line + "  FAILED: " + errors[-1])
        say(line)

    def fail(self, msg):
        self.failures.append(msg)

    # -- everything
    def count_runs(self, sides_by_kind):
        total = 0
        for kind, sides in sides_by_kind.items():
            for side in sides:
                for tr in TRANSPORTS:
                    if side.serves.get(tr):
                        total += len(self.s.scenarios) * self.s.rounds
        return total

    def run(self):
        s = self.s
        t_start = time.monotonic()
        os.makedirs(self.tmp, exist_ok=True)
        self.meta = machine()
        say("h2x A/B: builtin HTTP/2 against h2x, %s" % self.meta["date"])
        say("  machine: %s, %s cores, kernel %s, load %s" % (
            self.meta["cpu"], self.meta["cores"], self.meta["kernel"],
            self.meta["load_start"]))
        say("  versions: nginx %s; %s; %s; %s; h2x %s" % (
            self.meta["nginx"], self.meta["apache"], self.meta["h2load"],
            self.meta["openssl"], self.meta["h2x"]))
        say("  %d round(s) of %gs per run, warm-up %gs, %d idle "
            "connections; servers: %s; scenarios: %s" % (
                s.rounds, s.duration, s.warmup, s.idle_conns,
                ",".join(s.servers), ",".join(s.scenarios)))
        if self.cpus[0] is None:
            say(red("  only one CPU: server and h2load share it "
                    "(no pinning); figures are not comparable to pinned "
                    "runs"))
        else:
            say("  pinning: servers and the backend on CPU %d, h2load on "
                "CPU %d (taskset)" % self.cpus)
        site = hs.Site(root=hs.make_tmpdir("h2x-ab-"))
        self.servers = abservers.ABServers(site, s.servers, self.cpus[0])
        hs.install_cleanup()
        try:
            self.servers.start_backend()
            for kind in s.servers:
                self.run_kind(kind)
        finally:
            self.servers.stop_all()
            if not os.environ.get("H2X_KEEP_TMP"):
                site.remove()
            shutil.rmtree(self.tmp, ignore_errors=True)
        self.meta["load_end"] = "%.2f %.2f %.2f" % os.getloadavg()
        self.meta["elapsed"] = "%.0f s" % (time.monotonic() - t_start)

    def run_kind(self, kind):
        s = self.s
        say()
        say("== %s: starting" % kind)
        sides = self.servers.start(kind)
        for side in sides:
            abservers.probe(side)
        self.sides[kind] = {
            side.engine: {"serves": dict(side.serves),
                          "why": dict(side.why_not)} for side in sides}
        for side in sides:
            for tr in TRANSPORTS:
                if side.serves[tr]:
                    say("  %-15s %-3s serves HTTP/2 (port %d)"
                        % (side.name, tr, side.port(tr)))
                else:
                    text = "  %-15s %-3s does NOT serve HTTP/2: %s" % (
                        side.name, tr, side.why_not[tr])
                    say(red(text) if side.engine == "builtin" else text)
        self.fair[kind] = abservers.fairness(kind, sides, self.servers,
                                             self.cpus)
        self.notes[kind] = list(self.servers.notes.get(kind, []))
        say(abreport.fairness_text(kind, self.fair[kind], red))
        for note in self.notes[kind]:
            say("  note: " + note)
        cfg_dir = os.path.join(s.out, "configs")
        os.makedirs(cfg_dir, exist_ok=True)
        for label, path in self.servers.configs():
            shutil.copy(path, os.path.join(cfg_dir, label + ".conf"))
        self.total += self.count_runs({kind: sides})
        scens = [sc for sc in SCENARIOS if sc[0] in s.scenarios]
        for rnd in range(1, s.rounds + 1):
            for scen in scens:
                for tr in TRANSPORTS:
                    for side in sides:                    # A, then B
                        if not side.serves[tr]:
                            continue
                        if rnd == 1 and s.warmup > 0:
                            self.load_run(side, tr, scen, rnd, warm=True)
                        self.load_run(side, tr, scen, rnd)
            if "idle" in s.scenarios:
                for tr in TRANSPORTS:
                    for side in sides:
                        if side.serves[tr]:
                            self.idle_run(side, tr, rnd,
                                          side.server.reload)
        self.servers.stop(kind)

    def data(self):
        return {"meta": self.meta, "settings": self.s.as_dict(),
                "cpus": {"server": self.cpus[0], "client": self.cpus[1]},
                "scenarios": [{"name": n, "path": p, "options": o,
                               "metric": m, "what": w}
                              for n, p, o, m, w in SCENARIOS],
                "sides": self.sides, "fairness": self.fair,
                "notes": self.notes, "runs": self.runs, "idle": self.idle,
                "commands": self.commands, "failures": self.failures,
                "glibc_tunables": abservers.GLIBC_TUNABLES,
                "configs": sorted(os.listdir(os.path.join(self.s.out,
                                                          "configs")))
                if os.path.isdir(os.path.join(self.s.out, "configs"))
                else []}


def main():
    settings = Settings(os.environ)
    os.makedirs(settings.out, exist_ok=True)
    for stale in ("report.md", "chart.svg", "ab.json"):
        try:
            os.unlink(os.path.join(settings.out, stale))
        except OSError:
            pass
    shutil.rmtree(os.path.join(settings.out, "configs"), ignore_errors=True)
    ab = AB(settings)
    try:
        ab.run()
    except hs.ServerError as e:
        say(red("ab: a server failed:\n%s" % e))
        return 2
    data = ab.data()
    summary = abreport.summarize(data, KINDS, TRANSPORTS, LOAD_NAMES)
    data["summary"] = summary
    with open(os.path.join(settings.out, "ab.json"), "w") as f:
        json.dump(data, f, indent=1, sort_keys=True)
    with open(os.path.join(settings.out, "report.md"), "w") as f:
        f.write(abreport.markdown(data, summary))
    with open(os.path.join(settings.out, "chart.svg"), "w") as f:
        f.write(abreport.svg(data, summary))
    say()
    say(abreport.terminal(data, summary, red))
    say()
    for line in abreport.noise_text(data, summary):
        say(red("noise: " + line) if "not quiet" in line
            else "noise: " + line)
    say("report: %s" % os.path.join(settings.out, "report.md"))
    say("chart:  %s" % os.path.join(settings.out, "chart.svg"))
    if ab.failures:
        say(red("FAILURES: %d run(s) had failed requests or errors:"
                % len(ab.failures)))
        for f in ab.failures:
            say(red("  " + f))
    for why in summary["nan_reasons"]:
        say("nan: " + why)
    for name, value in summary["results"]:
        say("RESULT %s %s" % (name, "nan" if value is None
                              else "%.3f" % value))
    return 1 if ab.failures else 0


if __name__ == "__main__":
    sys.exit(main())
