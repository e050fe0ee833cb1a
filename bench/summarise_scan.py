#!/usr/bin/env python3
"""Scan latency results (bench/scan.sh) and the header line of the accuracy
section (bench/accuracy.sh).

  summarise_scan.py record NAME SCAN_JSON      one JSON record (adds date, machine, versions)
  summarise_scan.py --markdown RECORD...       the "Scan latency" section of bench/RESULTS.md
  summarise_scan.py --header SCRIPT            "Run DATE on MACHINE; recital COMMIT, rustc ..."
"""
import datetime
import json
import re
import sys

from machine_info import machine, run

TARGETS = {4096: 5.0, 65536: 50.0}  # warm p99, ms (issue #3)


def header(script):
    dirty = " (with uncommitted changes)" if run("git", "status", "--porcelain", "--untracked-files=no") else ""
    return (f"Run {datetime.date.today().isoformat()} on {machine()}; recital {run('git', 'rev-parse', '--short', 'HEAD')}"
            f"{dirty}, {run('rustc', '--version')}. Regenerate with `{script}`.")


def record(name, path):
    r = json.load(open(path))
    r["corpus"] = name
    r["date"] = datetime.date.today().isoformat()
    r["header"] = header("bench/scan.sh quick|full")
    return r


def size_name(b):
    return f"{b // 1024} KB"


def markdown(paths):
    recs = [json.load(open(p)) for p in paths]
    heads = list(dict.fromkeys(r["header"] for r in recs))
    if len(heads) == 1:
        out = [heads[0], ""]
    else:
        # Quick and full runs recorded at different times: each its own line.
        out = [f"- {r['corpus']}: {r['header']}" for r in recs] + [""]
    out.append(
        "In-process `scan()` with default `ScanOptions` on generated outputs. Each output is segments of 20–120 "
        "tokens joined by short connective sentences, cut at the size: 40 % verbatim excerpts of indexed documents, "
        "10 % such excerpts edited (prose: 1 word in 15 substituted; code: identifiers renamed), 50 % excerpts of "
        "documents of the same corpus that are not in the index (quick: the rest of `linux-c` / `prose` beyond the "
        "-small subset; full, where every document is indexed: the bundled sample C and this repository's Markdown). "
        "Code segments are functions in ```` ```c ```` fences, so the canonical stream is "
        "matched as well. Warm: each output scanned once, then timed 3 rounds (ms). Cold: index files evicted "
        "from the page cache (`posix_fadvise(DONTNEED)`), then `Index::open` + one scan, 10 outputs. Throughput: "
        "outputs/s with 1 and 2 threads sharing one `&Index`.")
    out.append("")
    out.append("| index | tokens (text + code) | output | outputs | copy spans / output | coverage | warm p50 | warm p99 "
               "| cold p50 | cold p99 | outputs/s, 1 thread | outputs/s, 2 threads | target (warm p99) | pass |")
    out.append("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|")
    for r in recs:
        st = r["stats"]
        for s in r["sizes"]:
            t = TARGETS.get(s["size"])
            tgt, ok = ("", "")
            if t is not None:
                tgt = f"≤ {t:g} ms"
                ok = "yes" if s["warm_p99_ms"] <= t else "**NO**"
            out.append(
                f"| {r['corpus']} | {st['text_tokens']:,} + {st['canon_tokens']:,} | {size_name(s['size'])} | {s['outputs']} "
                f"| {s['copy_spans_per_output']:.1f} | {s['coverage_mean']:.2f} | {s['warm_p50_ms']:.2f} | {s['warm_p99_ms']:.2f} "
                f"| {s['cold_p50_ms']:.1f} | {s['cold_p99_ms']:.1f} | {s['throughput_1t']:,.0f} | {s['throughput_2t']:,.0f} | {tgt} | {ok} |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    if sys.argv[1] == "--markdown":
        sys.stdout.write(markdown(sys.argv[2:]))
    elif sys.argv[1] == "--header":
        print(header(sys.argv[2]))
    elif sys.argv[1] == "record":
        json.dump(record(sys.argv[2], sys.argv[3]), sys.stdout, indent=2)
        print()
    else:
        sys.exit(__doc__)
