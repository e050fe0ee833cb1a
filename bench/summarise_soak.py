#!/usr/bin/env python3
"""bench/soak.sh's record and its RESULTS.md section.

    summarise_soak.py record RUN.json INPUTS.json "LOAD1 LOAD5 LOAD15" NICE  > bench/results/soak-DATE.json
    summarise_soak.py --markdown bench/results/soak-DATE.json              > bench/results/soak.md
"""
import datetime
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from machine_info import machine  # noqa: E402


def record(run_path, inputs_path, load_before, nice):
    run = json.load(open(run_path))
    return {
        "date": datetime.date.today().isoformat(),
        "machine": machine(),
        "load_before": load_before,
        "nice": int(nice),
        "inputs": json.load(open(inputs_path)),
        "run": run,
    }


def f(x, d=1):
    return "–" if x is None or x != x else f"{x:,.{d}f}"


def pc(x):
    return "–" if x is None else f"{x:.0f} %"


def mib(kb):
    return "–" if kb is None else f"{kb / 1024:,.1f}"


def at_or_before(samples, t):
    """The last sample taken at or before t seconds."""
    best = None
    for s in samples:
        if s["t_s"] <= t + 1e-6:
            best = s
    return best


def cpu_share(samples, t0, t1):
    a, b = at_or_before(samples, t0) or (samples[0] if samples else None), at_or_before(samples, t1)
    if not a or not b or a.get("cpu_s") is None or b.get("cpu_s") is None or b["t_s"] <= a["t_s"]:
        return None
    return (b["cpu_s"] - a["cpu_s"]) / (b["t_s"] - a["t_s"]) * 100


def markdown(rec):
    r = rec["run"]
    s = r["samples"]
    w = r["windows"]
    notices = r["notices"]
    ok = r["errors"] == 0 and r["leaked"] == 0 and r["quoting"] > 0
    loads = [x["load1"] for x in s if x.get("load1") is not None]
    out = []
    out.append(
        f"`bench/soak.sh {r['streams_concurrent']} {r['secs']:.0f}` on {rec['date']}, release build, "
        f"server and client under `nice -n {rec['nice']}`: {rec['machine']} (before the run: "
        f"{rec['load_before']}; during it, 1-minute load {f(min(loads), 2) if loads else '–'} to "
        f"{f(max(loads), 2) if loads else '–'}: the 2 cores are shared with other work). "
        f"`recital serve --upstream` over the bundled sample corpus (82 documents) with "
        f"`bench/soak-policy.toml` (redact every copy of {r['trigger_tokens']} tokens or more, block "
        f"notified works; hold-back {r['trigger_tokens'] - 1} words), in front of `serve_bench soak`'s "
        f"scripted upstream: a word every {r['delay_ms']:.0f} ms, first after {r['first_ms']:.0f} ms. "
        f"{r['streams_concurrent']:,} slots each stream one text after another (starts spread over the first "
        f"seconds) until {r['secs']:.0f} s, then finish; {r['texts']} texts taken in turn, "
        f"{r['quoting_texts']} of them (1 in 4) quoting 40–60 words of the sample's prose between made-up "
        f"words, the others made-up words only. A notice on a quoted document every "
        f"{f(notices[1]['t_s'] - notices[0]['t_s'], 0) if len(notices) > 1 else '–'} s.")
    out.append("")
    out.append("| streams × s | streams completed | clean / quoting | errors | quoting filtered | leaked | "
               "words / s through the proxy | added per word beyond hold-back p50 / p99 / max (ms) | "
               "inter-token p50 / p99 (ms) | server RSS first / max / last (MiB) | open fds first / max / last "
               "| after the drain: RSS / fds | pass |")
    out.append("|---|---:|---|---:|---:|---:|---:|---|---|---|---|---|---|")
    a, itl, rss, fds, after = r["added_ms"], r["itl_ms"], r["rss_kb"], r["fds"], r["after_drain"]
    out.append(
        f"| {r['streams_concurrent']:,} × {r['secs']:.0f} | {r['streams_completed']:,} | {r['clean']:,} / "
        f"{r['quoting']:,} | **{r['errors']}** | {r['filtered']:,} / {r['quoting']:,} | **{r['leaked']}** | "
        f"{f(r['tokens_per_s'], 0)} (clean streams) | {f(a['p50'])} / **{f(a['p99'])}** / {f(a['max'])} | "
        f"{f(itl['p50'])} / {f(itl['p99'])} | {mib(rss['first'])} / {mib(rss['max'])} / {mib(rss['last'])} | "
        f"{f(fds['first'], 0)} / {f(fds['max'], 0)} / {f(fds['last'], 0)} | {mib(after.get('rss_kb'))} / "
        f"{f(after.get('fds'), 0)} | {'yes' if ok else '**NO**'} |")
    out.append("")
    if r["error_examples"] or r["leak_examples"]:
        out.append("Examples: " + "; ".join(f"`{e[:200]}`" for e in r["error_examples"] + r["leak_examples"]))
        out.append("")
    out.append("Per minute (streams counted when they end, words when they reach the client; RSS, fds and "
               "threads at the window's last sample; server CPU over the window, 100 % = one core):")
    out.append("")
    out.append("| minute | streams | errors | leaked | blocked | added p50 / p99 (ms) | inter-token p50 / p99 (ms) "
               "| RSS (MiB) | fds | threads | server CPU | load |")
    out.append("|---:|---:|---:|---:|---:|---|---|---:|---:|---:|---:|---:|")
    width = (w[1]["from_s"] - w[0]["from_s"]) if len(w) > 1 else 60
    for i, x in enumerate(w):
        t0, t1 = x["from_s"], x["from_s"] + width
        smp = at_or_before(s, t1) or {}
        out.append(
            f"| {i + 1} | {x['streams']:,} | {x['errors']} | {x['leaked']} | {x['blocked']} | "
            f"{f(x['added_ms']['p50'])} / {f(x['added_ms']['p99'])} | {f(x['itl_ms']['p50'])} / "
            f"{f(x['itl_ms']['p99'])} | {mib(smp.get('rss_kb'))} | {f(smp.get('fds'), 0)} | "
            f"{f(smp.get('threads'), 0)} | {pc(cpu_share(s, t0, t1))} | {f(smp.get('load1'), 2)} |")
    out.append("")
    full = [x for x in w if x["streams"] > 0 and x["from_s"] + width <= r["secs"]]
    if len(full) >= 4:
        half = len(full) // 2
        med = lambda xs: sorted(xs)[len(xs) // 2]
        p50s = [x["added_ms"]["p50"] for x in full]
        p99s = [x["added_ms"]["p99"] for x in full]
        loads = [(at_or_before(s, x["from_s"] + width) or {}).get("load1") for x in full]
        lo, hi = p99s.index(min(p99s)), p99s.index(max(p99s))
        rss_half = [(at_or_before(s, x["from_s"] + width) or {}).get("rss_kb") for x in full]
        out.append(
            f"Drift over the {len(full)} full minutes: added p50 per minute {f(min(p50s))}–{f(max(p50s))} ms; "
            f"the median of the per-minute p99s is {f(med(p99s[:half]))} ms in the first half and "
            f"{f(med(p99s[half:]))} ms in the second; the p99 follows the machine's load rather than the time "
            f"(lowest {f(p99s[lo])} ms in minute {lo + 1} at load {f(loads[lo], 2)}, highest {f(p99s[hi])} ms "
            f"in minute {hi + 1} at load {f(loads[hi], 2)}). Server RSS at the end of each half: "
            f"{mib(rss_half[half - 1])} and {mib(rss_half[-1])} MiB.")
        busy = [x["fds"] for x in s if x.get("fds") is not None and x["in_flight"] >= 0.9 * r["streams_concurrent"]]
        if busy:
            out.append(
                f"Open file descriptors of the server while all streams ran: {min(busy):,}–{max(busy):,} "
                f"(a socket to the client and one to the upstream per stream); after the drain "
                f"{f(r['after_drain'].get('fds'), 0)} (the client keeps its idle keep-alive connections until it exits).")
        out.append("")
    acked = sum(n["acknowledged"] for n in notices)
    eff = sum(n["in_effect"] for n in notices)
    out.append(
        f"**Notices** posted during the run: {len(notices)}, acknowledged {acked}, in force for the first "
        f"`/v1/filter` after the acknowledgement {eff} (ack p50 "
        f"{f(sorted(n['ack_ms'] for n in notices)[len(notices) // 2]) if notices else '–'} ms, max "
        f"{f(max((n['ack_ms'] for n in notices), default=None))} ms); quoting streams of a noticed document "
        f"started after its acknowledgement: {r['quoting_after_notice']:,}, of which blocked "
        f"{r['quoting_after_notice_blocked']:,}.")
    out.append("")
    out.append(
        "*Added per word* is when the client got the word minus when the upstream sent the chunk that the "
        "hold-back rule releases it with (so the deliberate hold-back is not counted; the trip of the request "
        "through the proxy and the upstream timer's lateness are). It is measured on the clean streams, whose "
        "text must come through unchanged. A quoting stream *leaked* if it came out unchanged or with "
        f"{r['trigger_tokens']} consecutive words of its passage. Raw: `bench/results/soak-{rec['date']}.json` "
        "(every 5-s sample and per-minute distributions).")
    if rec.get("note"):
        out.append("")
        out.append(f"Note: {rec['note']}.")
    return "\n".join(out) + "\n"


def main():
    if sys.argv[1] == "record":
        print(json.dumps(record(*sys.argv[2:6]), indent=1))
    elif sys.argv[1] == "--markdown":
        print(markdown(json.load(open(sys.argv[2]))), end="")
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
