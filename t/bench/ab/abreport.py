"""Summaries, terminal tables, the Markdown report and the SVG chart of an
A/B run.  Standard library only; the SVG is written by hand."""

import statistics
from xml.sax.saxutils import escape

ENGINES = ("builtin", "h2x")


# --- numbers -------------------------------------------------------------------

def fmt_num(v):
    if v is None:
        return "-"
    if v >= 100000:
        return "%.0fk" % (v / 1000)
    if v >= 10000:
        return "%.1fk" % (v / 1000)
    if v >= 100:
        return "%.0f" % v
    return "%.1f" % v


def fmt_val(v, metric):
    if v is None:
        return "-"
    return fmt_num(v) + (" MB/s" if metric == "MB/s" else "")


def fmt_bytes(v):
    if v is None:
        return "-"
    if abs(v) >= 10 * 1024:
        return "%.0f KiB" % (v / 1024)
    if abs(v) >= 1024:
        return "%.1f KiB" % (v / 1024)
    return "%.0f B" % v


def fmt_ms(v):
    if v is None:
        return "-"
    return "%.2f" % v if v < 10 else "%.1f" % v


def fmt_ratio(v):
    return "nan" if v is None else "%.2fx" % v


def run_summary(rec, metric):
    other = rec.get("other") or {}
    return ("%s %s  mean %s ms  p99 %s ms  cpu %s s/100k  busy srv %d%% "
            "cli %d%%  others %s  failed %d" % (
                fmt_num(rec["value"]), metric, fmt_ms(rec["mean_ms"]),
                fmt_ms(rec["p99_ms"]),
                "%.2f" % rec["cpu_per_100k"]
                if rec["cpu_per_100k"] is not None else "-",
                round(rec["server_busy"] * 100),
                round(rec["client_busy"] * 100),
                "/".join("%d%%" % round(other[k] * 100)
                         for k in sorted(other)) or "-", rec["failed"]))


def _median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


# --- summary ---------------------------------------------------------------------

def stats(runs):
    good = [r for r in runs if not r["error"]]
    if not good:
        return None
    vals = [r["value"] for r in good]
    sat = [r["saturated"] for r in good]
    return {
        "n": len(good), "values": vals, "median": statistics.median(vals),
        "min": min(vals), "max": max(vals),
        "mean_ms": _median(r["mean_ms"] for r in good),
        "p99_ms": _median(r["p99_ms"] for r in good),
        "cpu_per_100k": _median(r["cpu_per_100k"] for r in good),
        "server_busy": _median(r["server_busy"] for r in good),
        "client_busy": _median(r["client_busy"] for r in good),
        "saturated": max(set(sat), key=sat.count),
        "rss_per_conn": _median(r.get("rss_per_conn") for r in good),
        "others": {cpu: _median((r.get("other") or {}).get(cpu)
                                for r in good)
                   for cpu in (good[0].get("other") or {})},
        "failed": sum(r["failed"] for r in runs),
        "errors": sum(1 for r in runs if r["error"]),
        "tls": good[0].get("tls", {}),
    }


def idle_stats(recs):
    vals = [r["bytes_per_conn"] for r in recs
            if r["bytes_per_conn"] is not None]
    if not vals:
        return None
    return {"n": len(vals), "values": vals,
            "median": statistics.median(vals), "min": min(vals),
            "max": max(vals), "conns": recs[0]["conns"],
            "failed": sum(r["failed"] for r in recs)}


def summarize(data, kinds, transports, load_names):
    st = data["settings"]
    cases, results, reasons = {}, [], []

    def reason(text):
        if text not in reasons:
            reasons.append(text)

    def why_missing(kind, tr, scen):
        if kind not in st["servers"]:
            reason("%s: not run (AB_SERVERS)" % kind)
            return
        if scen not in st["scenarios"]:
            reason("%s: not run (AB_SCENARIOS)" % scen)
            return
        sides = data["sides"].get(kind, {})
        trs = [tr] if tr else list(transports)
        for engine in ENGINES:
            for t in trs:
                side = sides.get(engine, {})
                if not side.get("serves", {}).get(t):
                    what = "does not serve HTTP/2 yet" if engine == "h2x" \
                        else "does not serve HTTP/2"
                    reason("%s %s: %s-%s %s (%s)" % (
                        kind, t, kind, engine, what,
                        side.get("why", {}).get(t, "not probed")))
                    return
        reason("%s %s %s: no successful run on one side"
               % (kind, tr or "", scen))

    for kind in kinds:
        for tr in transports:
            for scen in load_names:
                c = {e: stats(data["runs"].get("%s/%s/%s/%s"
                                               % (kind, tr, scen, e), []))
                     for e in ENGINES}
                b, x = c["builtin"], c["h2x"]
                c["ratio"] = x["median"] / b["median"] \
                    if b and x and b["median"] > 0 else None
                cases["%s/%s/%s" % (kind, tr, scen)] = c
                if c["ratio"] is None:
                    why_missing(kind, tr, scen)
                results.append(("%s_%s_%s_ratio" % (kind, tr, scen),
                                c["ratio"]))
        idle = {}
        for tr in transports:
            c = {e: idle_stats(data["idle"].get("%s/%s/%s" % (kind, tr, e),
                                                []))
                 for e in ENGINES}
            b, x = c["builtin"], c["h2x"]
            c["ratio"] = x["median"] / b["median"] \
                if b and x and b["median"] > 0 else None
            cases["%s/%s/idle" % (kind, tr)] = c
            idle[tr] = c
        tot = {}
        for e in ENGINES:
            parts = [idle[tr][e]["median"] for tr in transports
                     if idle[tr][e]]
            tot[e] = sum(parts) if len(parts) == len(transports) else None
        ratio = tot["h2x"] / tot["builtin"] \
            if tot["builtin"] and tot["h2x"] is not None \
            and tot["builtin"] > 0 else None
        if ratio is None:
            if tot["builtin"] is not None and tot["builtin"] <= 0:
                reason("%s idle: builtin grew by <= 0 bytes per connection "
                       "(too few connections to measure)" % kind)
            else:
                why_missing(kind, None, "idle")
        results.append(("%s_idle_conn_bytes_ratio" % kind, ratio))
        for tr in transports:
            results.append(("%s_%s_idle_conn_bytes_ratio" % (kind, tr),
                            idle[tr]["ratio"]))
    noise = {}
    for kind in kinds:
        per_cpu = {}
        for key, runs in data["runs"].items():
            if not key.startswith(kind + "/"):
                continue
            for r in runs:
                for cpu, v in (r.get("other") or {}).items():
                    per_cpu.setdefault(cpu, []).append(v)
        if per_cpu:
            noise[kind] = {cpu: statistics.median(v)
                           for cpu, v in sorted(per_cpu.items())}
    return {"cases": cases, "results": results, "nan_reasons": reasons,
            "noise": noise}


def noise_text(data, summary):
    """Lines about other processes' CPU use during the runs."""
    out = []
    scpu = str(data["cpus"]["server"])
    ccpu = str(data["cpus"]["client"])
    for kind, per_cpu in summary.get("noise", {}).items():
        s, c = per_cpu.get(scpu), per_cpu.get(ccpu)
        if s is None:
            continue
        text = ("%s: other processes used %d%% of the server's CPU %s and "
                "%d%% of h2load's CPU %s during the runs (median)" % (
                    kind, round(s * 100), scpu, round((c or 0) * 100),
                    ccpu))
        if s > 0.10 or (c or 0) > 0.10:
            text += ("; the machine was not quiet: absolute figures are "
                     "low and noisy, only the ratios of alternated rounds "
                     "mean something")
        out.append(text)
    return out


# --- h2 SETTINGS that differ on purpose ---------------------------------------------

# h2x keeps these unlike the builtins: each is stricter or only informs the
# client (docs/ab.md, "Advertised SETTINGS").  Any other difference is
# unexplained and stays marked.
H2_SETTING_REASONS = {
    "MAX_FRAME_SIZE": "h2x keeps the RFC default 16384 for frames it "
                      "receives (nginx allows 16 MiB); a smaller frame "
                      "limit is stricter, bodies still flow at 16 KiB "
                      "per frame",
    "connection window +": "h2x bounds the request body bytes a "
                           "connection may have in flight to 1 MiB "
                           "(h2x_connection_window_size / "
                           "H2XConnectionWindowSize); the builtins open "
                           "the connection window to 2^31-1 and bound "
                           "only per stream",
    "ENABLE_PUSH": "h2x never pushes and says so (RFC 9113 allows a "
                   "server to send 0)",
    "MAX_HEADER_LIST_SIZE": "h2x announces its header list limit (32 KiB, "
                            "the builtin enforces about the same without "
                            "announcing it)",
    "NO_RFC7540_PRIORITIES": "h2x schedules by RFC 9218 priorities, not "
                             "the deprecated RFC 7540 tree",
}


def setting_reason(check):
    """Why an "h2 <tr> <SETTING>" fairness row differs, or None."""
    parts = check.split(" ", 2)
    if len(parts) == 3 and parts[0] == "h2" and parts[1] in ("tls", "h2c"):
        return H2_SETTING_REASONS.get(parts[2])
    return None


# --- terminal ------------------------------------------------------------------------

def fairness_text(kind, rows, red):
    width = max(len(r[0]) for r in rows)
    wb = max(len(r[1]) for r in rows)
    wb = min(max(wb, 7), 44)
    out = ["  fairness (%s):  %-*s  %-*s  %s" % (kind, width - 14, "",
                                                  wb, "builtin", "h2x")]
    for check, vb, vx, same in rows:
        line = "    %-*s  %-*s  %s" % (width, check, wb, vb, vx)
        if not same and setting_reason(check):
            line += "   <- differs by design (see report)"
        elif not same:
            line = red(line + "   <- DIFFERS")
        out.append(line)
    return "\n".join(out)


def _metric(data, scen):
    for s in data["scenarios"]:
        if s["name"] == scen:
            return s["metric"]
    return "bytes/conn"


def table_rows(data, summary, kind, tr):
    """Rows of strings for one server and transport."""
    rows = []
    names = [s["name"] for s in data["scenarios"]] + ["idle"]
    for scen in names:
        c = summary["cases"]["%s/%s/%s" % (kind, tr, scen)]
        metric = _metric(data, scen)
        cells = [scen, metric]
        for e in ENGINES:
            s = c[e]
            if s is None:
                side = data["sides"].get(kind, {}).get(e, {})
                cells.append("n/a" if side.get("serves", {}).get(tr)
                             or kind not in data["sides"]
                             else "no HTTP/2")
                continue
            f = fmt_bytes if scen == "idle" else \
                (lambda v: fmt_val(v, metric))
            cells.append("%s [%s-%s]" % (f(s["median"]), f(s["min"]),
                                         f(s["max"])) if s["n"] > 1
                         else f(s["median"]))
        cells.append(fmt_ratio(c["ratio"]))
        b, x = c["builtin"], c["h2x"]
        if scen == "idle":
            cells += ["", "", "", "", ""]
        else:
            def pair(key, f):
                return "%s / %s" % (f(b[key]) if b else "-",
                                    f(x[key]) if x else "-")
            cells.append(pair("p99_ms", fmt_ms))
            cells.append(pair("cpu_per_100k",
                              lambda v: "-" if v is None else "%.2f" % v))
            cells.append(pair("server_busy",
                              lambda v: "-" if v is None
                              else "%d%%" % round(v * 100)))
            cells.append(pair("saturated", lambda v: v))
            cells.append(pair("rss_per_conn", fmt_bytes))
        cells.append("%s / %s" % (b["failed"] if b else "-",
                                  x["failed"] if x else "-"))
        rows.append(cells)
    return rows


HEAD = ["scenario", "metric", "builtin median [min-max]",
        "h2x median [min-max]", "h2x/b", "p99 ms b / h",
        "CPU s/100k b / h", "srv busy b / h", "saturated b / h",
        "RSS/conn b / h", "failed b / h"]


def terminal(data, summary, red):
    out = []
    for kind in data["settings"]["servers"]:
        for tr in ("tls", "h2c"):
            rows = table_rows(data, summary, kind, tr)
            widths = [max(len(HEAD[i]), *(len(r[i]) for r in rows))
                      for i in range(len(HEAD))]
            out.append("%s over %s (medians of %d round(s))" % (
                kind, "TLS" if tr == "tls" else "h2c",
                data["settings"]["rounds"]))
            out.append("  " + "  ".join(h.ljust(w)
                                        for h, w in zip(HEAD, widths)))
            for r in rows:
                line = "  " + "  ".join(c.ljust(w)
                                        for c, w in zip(r, widths))
                failed = [p.strip() for p in r[-1].split("/")]
                if any(p not in ("0", "-") for p in failed):
                    line = red(line)
                out.append(line.rstrip())
            out.append("")
    return "\n".join(out).rstrip()


# --- Markdown ------------------------------------------------------------------------

def markdown(data, summary):
    m, st = data["meta"], data["settings"]
    L = []
    L.append("# h2x A/B: builtin HTTP/2 against h2x")
    L.append("")
    L.append("Generated by `make ab` on %s.  Medians of %d alternated "
             "round(s) (builtin, then h2x, for every case in every round), "
             "%g s per h2load run%s." % (
                 m["date"], st["rounds"], st["duration_s"],
                 ", `AB_QUICK=1` (a smoke run: the figures are noise)"
                 if st["quick"] else ""))
    L.append("")
    L.append("![chart](chart.svg)")
    L.append("")
    L.append("## Machine and versions")
    L.append("")
    for k, label in (("cpu", "CPU"), ("cores", "cores"),
                     ("kernel", "kernel"), ("memory", "memory"),
                     ("load_start", "load average at start"),
                     ("load_end", "load average at end"),
                     ("elapsed", "run time"),
                     ("nginx", "nginx"), ("apache", "Apache"),
                     ("h2load", "h2load"), ("openssl", "OpenSSL"),
                     ("h2x", "h2x commit")):
        L.append("- %s: %s" % (label, m.get(k, "?")))
    L.append("")
    for line in noise_text(data, summary):
        L.append("**Noise**: " + line + ".")
        L.append("")
    L.append("## Ratios")
    L.append("")
    L.append("h2x / builtin: requests/s (MB/s for `1m`); for idle, bytes "
             "of server RSS per idle connection (lower is better; the "
             "unsplit line sums TLS and h2c).")
    L.append("")
    L.append("| result | h2x / builtin |")
    L.append("|---|---|")
    for name, v in summary["results"]:
        L.append("| `%s` | %s |" % (name, "nan" if v is None
                                     else "%.3f" % v))
    L.append("")
    if summary["nan_reasons"]:
        L.append("Not measured:")
        L.append("")
        for r in summary["nan_reasons"]:
            L.append("- " + r)
        L.append("")
    if data["failures"]:
        L.append("## FAILURES")
        L.append("")
        for f in data["failures"]:
            L.append("- **%s**" % f)
        L.append("")
    L.append("## Results")
    L.append("")
    L.append("Per case: median [min-max] across rounds; p99 from h2load's "
             "per-request log; CPU = utime+stime of all the server's "
             "processes per 100k successful requests; busy = server CPU "
             "time / wall time (1 core = 100%); saturated = which side "
             "was at >= 90% of its core (server, client = h2load, or "
             "neither).")
    for kind in st["servers"]:
        for tr in ("tls", "h2c"):
            L.append("")
            L.append("### %s over %s" % (kind, "TLS" if tr == "tls"
                                          else "h2c"))
            L.append("")
            L.append("| " + " | ".join(HEAD) + " |")
            L.append("|" + "---|" * len(HEAD))
            for r in table_rows(data, summary, kind, tr):
                L.append("| " + " | ".join(c.replace("|", "/") for c in r)
                         + " |")
    L.append("")
    L.append("## Scenarios")
    L.append("")
    L.append("| scenario | path | h2load options | metric | what |")
    L.append("|---|---|---|---|---|")
    for s in data["scenarios"]:
        L.append("| `%s` | `%s` | `%s` | %s | %s |" % (
            s["name"], s["path"] or "-i <uri list>", " ".join(s["options"]),
            s["metric"], s["what"]))
    L.append("| `idle` | `/s100.txt` | - | bytes/conn | %d connections "
             "that each completed the handshake and one GET, then stay "
             "idle; growth of the server's RSS (/proc) per connection, on "
             "a freshly reloaded worker after 4 warm connections |"
             % st["idle_conns"])
    L.append("")
    L.append("Every h2load run: `-D %g -t 1`, pinned with `taskset` "
             "(h2load on CPU %s, servers and backend on CPU %s), "
             "`--log-file` for p99.%s" % (
                 st["duration_s"], data["cpus"]["client"],
                 data["cpus"]["server"],
                 " Round 1 starts every case with an unrecorded %g s "
                 "warm-up run." % st["warmup_s"] if st["warmup_s"] else ""))
    L.append("")
    L.append("## Fairness")
    L.append("")
    L.append("Checked on the running servers before the first run "
             "(**DIFFERS** marks a difference; \"differs by design\" an "
             "h2 setting h2x keeps stricter on purpose, see docs/ab.md).  "
             "Every server process "
             "runs with `GLIBC_TUNABLES=%s`." % data["glibc_tunables"])
    for kind in st["servers"]:
        if kind not in data["fairness"]:
            continue
        L.append("")
        L.append("### %s" % kind)
        L.append("")
        L.append("| check | builtin | h2x | |")
        L.append("|---|---|---|---|")
        for check, vb, vx, same in data["fairness"][kind]:
            why = setting_reason(check)
            L.append("| %s | %s | %s | %s |" % (
                check, vb, vx, "" if same
                else "differs by design: " + why if why
                else "**DIFFERS**"))
        for n in data["notes"].get(kind, []):
            L.append("")
            L.append("Note: " + n)
        tls = {}
        for e in ENGINES:
            c = summary["cases"].get("%s/tls/small" % kind, {}).get(e)
            if c and c.get("tls"):
                tls[e] = ", ".join("%s %s" % (k, v)
                                   for k, v in sorted(c["tls"].items()))
        if tls:
            L.append("")
            L.append("TLS as h2load negotiated it: " + "; ".join(
                "%s: %s" % (e, t) for e, t in tls.items()))
    L.append("")
    L.append("Apache runs one process per side with the same MPM and "
             "thread settings (ServerLimit 1, ThreadsPerChild and "
             "MaxRequestWorkers equal, h2 worker pools sized equally): "
             "mod_http2 loaded next to mod_h2x would answer ALPN h2 on "
             "the h2x vhost, so each process loads one HTTP/2 module.  "
             "nginx runs both sides in one process (master + 1 worker); "
             "idle measurements reload it first so that each starts "
             "from a fresh worker.  The backend is a third nginx on "
             "the server CPU: its work per request is the same for both "
             "sides.")
    L.append("")
    L.append("## Commands")
    L.append("")
    L.append("Server configs: `configs/` next to this report.  h2load, "
             "first round of each case:")
    L.append("")
    L.append("```")
    for key in sorted(data["commands"]):
        L.append("# %s" % key)
        L.append(data["commands"][key])
    L.append("```")
    L.append("")
    return "\n".join(L)


# --- SVG -----------------------------------------------------------------------------

COLORS = {"builtin": "#6b8fb5", "h2x": "#e8872e"}


def svg(data, summary):
    st = data["settings"]
    names = [s["name"] for s in data["scenarios"]] + ["idle"]
    panels = [(k, tr) for k in st["servers"] for tr in ("tls", "h2c")]
    gw, bw = 96, 30                       # group width, bar width
    left, top, ph, gap = 60, 70, 210, 60  # margins, panel height, gap
    width = left + gw * len(names) + 30
    height = top + max(1, len(panels)) * (ph + gap) + 10
    o = []
    o.append('<svg xmlns="http://www.w3.org/2000/svg" width="%d" '
             'height="%d" viewBox="0 0 %d %d" font-family="sans-serif" '
             'font-size="11">' % (width, height, width, height))
    o.append('<rect width="100%" height="100%" fill="white"/>')
    o.append('<text x="%d" y="22" font-size="16" font-weight="bold">'
             'h2x vs builtin HTTP/2 (builtin median = 100%%)</text>' % left)
    o.append('<text x="%d" y="40" fill="#555">%s; %s, %s cores; %d '
             'round(s) x %gs; whiskers: min-max across rounds; idle: '
             'bytes per connection, lower is better</text>' % (
                 left, escape(data["meta"]["date"]),
                 escape(data["meta"]["cpu"]), data["meta"]["cores"],
                 st["rounds"], st["duration_s"]))
    lx = width - 170
    for i, e in enumerate(ENGINES):
        o.append('<rect x="%d" y="%d" width="12" height="12" fill="%s"/>'
                 % (lx + i * 80, 50, COLORS[e]))
        o.append('<text x="%d" y="%d">%s</text>' % (lx + 16 + i * 80, 60, e))
    for pi, (kind, tr) in enumerate(panels):
        y0 = top + pi * (ph + gap)
        cases = [summary["cases"]["%s/%s/%s" % (kind, tr, n)]
                 for n in names]
        top_pct = 150.0
        for c in cases:
            b = c["builtin"]
            if not b or b["median"] <= 0:
                continue
            for e in ENGINES:
                if c[e]:
                    top_pct = max(top_pct, c[e]["max"] / b["median"] * 100)
        top_pct = min(top_pct, 480.0)
        step = 50 if top_pct <= 250 else 100
        top_pct = (int(top_pct / step) + 1) * step

        def ypos(pct):
            pct = max(0.0, min(pct, top_pct))
            return y0 + 20 + (ph - 20) * (1 - pct / top_pct)

        o.append('<text x="%d" y="%d" font-size="13" font-weight="bold">'
                 '%s over %s</text>' % (left, y0 + 10, kind,
                                        "TLS" if tr == "tls" else "h2c"))
        pct = 0
        while pct <= top_pct:
            y = ypos(pct)
            o.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" '
                     'stroke="%s" stroke-width="1"/>' % (
                         left, y, width - 30, y,
                         "#999" if pct == 100 else "#e4e4e4"))
            o.append('<text x="%d" y="%.1f" text-anchor="end" '
                     'fill="#555">%d%%</text>' % (left - 6, y + 4, pct))
            pct += step
        for gi, (name, c) in enumerate(zip(names, cases)):
            gx = left + gi * gw + 12
            o.append('<text x="%d" y="%d" text-anchor="middle">%s</text>'
                     % (gx + bw, y0 + ph + 16, escape(name)))
            b = c["builtin"]
            for bi, e in enumerate(ENGINES):
                x = gx + bi * (bw + 4)
                s = c[e]
                if not s or not b or b["median"] <= 0:
                    o.append('<text x="%d" y="%.1f" text-anchor="middle" '
                             'fill="#999" transform="rotate(-90 %d %.1f)">'
                             '%s</text>' % (
                                 x + bw / 2, ypos(30), x + bw / 2, ypos(30),
                                 "no HTTP/2" if not s else "n/a"))
                    continue
                norm = s["median"] / b["median"] * 100
                yb = ypos(norm)
                if norm > top_pct:          # off the scale: say so
                    o.append('<text x="%.1f" y="%.1f" text-anchor="middle" '
                             'font-size="10" font-weight="bold" fill="white">%.0f%%</text>' % (
                                 x + bw / 2, yb + 12, norm))
                o.append('<rect x="%d" y="%.1f" width="%d" height="%.1f" '
                         'fill="%s"><title>%s %s %s: %s</title></rect>' % (
                             x, yb, bw, ypos(0) - yb, COLORS[e], kind, tr,
                             e, escape(_label(name, s["median"], data))))
                if s["n"] > 1:
                    y1 = ypos(s["min"] / b["median"] * 100)
                    y2 = ypos(s["max"] / b["median"] * 100)
                    cx = x + bw / 2
                    o.append('<path d="M%.1f %.1fV%.1fM%.1f %.1fH%.1fM%.1f '
                             '%.1fH%.1f" stroke="#222" stroke-width="1.2" '
                             'fill="none"/>' % (cx, y1, y2, cx - 6, y1,
                                                cx + 6, cx - 6, y2, cx + 6))
                o.append('<text x="%.1f" y="%.1f" text-anchor="middle" '
                         'font-size="9" fill="#333">%s</text>' % (
                             x + bw / 2, min(yb, ypos(s["max"] / b["median"]
                                                      * 100)) - 4,
                             escape(_short(name, s["median"]))))
            if c["ratio"] is not None:
                o.append('<text x="%d" y="%d" text-anchor="middle" '
                         'font-weight="bold" fill="%s">%.2fx</text>' % (
                             gx + bw, y0 + ph + 30, COLORS["h2x"],
                             c["ratio"]))
    o.append("</svg>")
    return "\n".join(o) + "\n"


def _label(name, v, data):
    if name == "idle":
        return fmt_bytes(v) + " per idle connection"
    return fmt_val(v, _metric(data, name))


def _short(name, v):
    if name == "idle":
        return fmt_bytes(v).replace(" KiB", "K").replace(" B", "B")
    return fmt_num(v)
