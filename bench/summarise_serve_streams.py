#!/usr/bin/env python3
"""Streaming proxy rows, a baseline binary and this build side by side (bench/serve_streams.sh).

  summarise_serve_streams.py record BASELINE_BIN LABEL=RUN_JSON...   one record (adds date, machine, versions)
  summarise_serve_streams.py --markdown RECORD                         the section of bench/RESULTS.md
"""
import datetime
import json
import sys

from machine_info import machine, run
from summarise_serve import ITL_TARGET_MS, f, med, stream_label


def record(baseline, pairs):
    runs = []
    for p in pairs:
        label, path = p.split("=", 1)
        runs.append({"binary": label, "run": json.load(open(path))})
    dirty = " (with uncommitted changes)" if run("git", "status", "--porcelain", "--untracked-files=no") else ""
    return {"date": datetime.date.today().isoformat(), "machine": machine(), "baseline": baseline,
            "recital": run("git", "rev-parse", "--short", "HEAD") + dirty, "rustc": run("rustc", "--version"),
            "runs": runs}


def cpu_per_token(s):
    words = s["pairs"] * (s["words_per_stream"]["p50"] or 0)
    return s["server_cpu_s"] * 1e3 / words if words else None


def steps(s):
    st = s.get("filter_steps")
    return f"{st['mean_ms']:.3f} ({st['over_2ms']:.0f} / {st['n']:.0f})" if st else "—"


def markdown(r):
    rows = {}
    for i, x in enumerate(r["runs"]):
        for s in x["run"]["streams"]:
            key = (s.get("stream_kind", "chat"), s["kind"], s["concurrency"], s["pairs"])
            rows.setdefault(key, {"label": stream_label(s), "old": [], "new": []})[x["binary"]].append((i, s))
    out = [f"Run {r['date']} on {r['machine']} (shared); "
           f"this build: {r['recital']}; baseline: `{r['baseline']}`. Each round runs the rows below with one binary, "
           "then with the other (the baseline first in odd rounds, this build first in even ones); every figure is "
           "measured as in the *Streaming proxy* table of the Service section (release overhead: the proxied "
           "arrival minus the upstream's send of the token after which the offline guard releases it). "
           "*CPU ms / token*: the server's user + system time over the row divided by the tokens streamed "
           "through it; its ratio is the figure least moved by the other processes on the 2 cores. "
           "*filter steps*: from the service's own `recital_scan_seconds` histogram over the row, the mean wall "
           "time of a stream step (the guard's hold-back count, scan and decision of one upstream chunk) and how "
           "many steps took over 2 ms: what the filter itself adds, beside the release overhead, which also holds "
           "the waits for a core among the upstream, the client, the proxy and the machine's other processes. "
           "*load*: the 1-minute load average when the row started.", ""]
    out.append("| upstream, text | streams × at once | binary | release overhead p50 / p99, each round "
               "| null hop p99, each round | median p99 | CPU ms / token, each round | median CPU ms / token "
               "| CPU ms / token baseline ÷ this build | filter steps: mean ms (over 2 ms / steps), each round "
               "| load, each round | target (release overhead p99) | pass |")
    out.append("|---|---|---|---|---|---:|---|---:|---:|---|---|---|---|")
    for key, row in rows.items():
        cpu_med = {b: med([cpu_per_token(s) for _, s in row[b]]) for b in ("old", "new")}
        for b, name in (("old", "baseline"), ("new", "this build")):
            xs = [s for _, s in sorted(row[b], key=lambda t: t[0])]
            if not xs:
                continue
            p99 = med([s["overhead_ms"]["p99"] for s in xs])
            ok = "yes" if p99 <= ITL_TARGET_MS else "**NO**"
            ratio = (f"**{cpu_med['old'] / cpu_med['new']:.2f}**" if b == "new" and cpu_med["new"] else "")
            out.append(
                f"| {row['label']} | {xs[0]['pairs']} × {xs[0]['concurrency']} | {name} "
                f"| {', '.join(f(s['overhead_ms']['p50']) + ' / ' + f(s['overhead_ms']['p99']) for s in xs)} "
                f"| {', '.join(f(((s.get('null_hop') or {}).get('overhead_ms') or {}).get('p99')) for s in xs)} "
                f"| **{f(p99)}** | {', '.join(f(cpu_per_token(s), 3) for s in xs)} | {f(cpu_med[b], 3)} | {ratio} "
                f"| {', '.join(steps(s) for s in xs)} "
                f"| {', '.join(s.get('loadavg', ['?'])[0] for s in xs)} | ≤ {ITL_TARGET_MS:g} ms | {ok} |")
    return out


if __name__ == "__main__":
    if sys.argv[1] == "record":
        json.dump(record(sys.argv[2], sys.argv[3:]), sys.stdout, indent=2)
        print()
    elif sys.argv[1] == "--markdown":
        print("\n".join(markdown(json.load(open(sys.argv[2])))))
    else:
        sys.exit(__doc__)
