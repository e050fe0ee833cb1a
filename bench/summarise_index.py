#!/usr/bin/env python3
"""Combine the outputs of one index benchmark run into one JSON record, or
render records as the markdown section of bench/RESULTS.md."""
import datetime
import json
import re
import sys

from machine_info import machine, run


def versions():
    dirty = "-dirty" if run("git", "status", "--porcelain", "--untracked-files=no") else ""
    return {
        "recital": run("git", "rev-parse", "--short", "HEAD") + dirty,
        "rustc": run("rustc", "--version"),
        "libsais": "libsais crate 0.2.0 (libsais 2.x C), 1 thread",
    }


def record(name, time_path, build_path, query_path):
    t = open(time_path).read()
    wall = t.split("Elapsed (wall clock) time (h:mm:ss or m:ss):")[1].split("\n")[0].strip()
    parts = [float(x) for x in wall.split(":")]
    secs = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
    rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1))
    build = json.load(open(build_path))
    q = json.load(open(query_path))
    st = q["stats"]
    largest = max(s["text_tokens"] + s["canon_tokens"] for s in st["shards"])
    return {
        "corpus": name,
        "date": datetime.date.today().isoformat(),
        "machine": machine(),
        "versions": versions(),
        "docs": st["docs"],
        "source_bytes": st["source_bytes"],
        "text_tokens": st["text_tokens"],
        "canon_tokens": st["canon_tokens"],
        "shards": len(st["shards"]),
        "build_seconds": secs,
        "build_mb_per_s": st["source_bytes"] / 1e6 / secs,
        "peak_rss_bytes": rss_kb * 1024,
        "peak_rss_per_token_largest_shard": rss_kb * 1024 / max(largest, 1),
        "index_bytes": st["disk_bytes"],
        "index_bytes_per_source_byte": st["bytes_per_source_byte"],
        "index_bytes_per_token": st["bytes_per_token"],
        "warm": q["warm_count"],
        "cold": q["cold_open_and_count"],
        "naive": q["naive_scan_count"],
        "libsais_seconds": q["libsais_seconds"],
        "build_over_libsais": secs / max(q["libsais_seconds"], 1e-9),
        "largest_shard_tokens": largest,
        "skipped_binary": build["ingest"]["skipped_binary"],
    }


def markdown(paths):
    recs = [json.load(open(p)) for p in paths]
    out = []
    r0 = recs[0]
    out.append(f"Machine: {r0['machine']}; {r0['versions']['rustc']}, {r0['versions']['libsais']}. "
               "Each row names the recital commit and date it was measured with "
               "(`bench/index.sh quick` refreshes the -small rows, `full` the others).\n")
    out.append("| corpus | recital | date | source | docs | tokens (text + code) | shards | build | build MB/s | peak RSS | RSS B/token (largest shard) | index | B/source byte | B/token | build ÷ libsais alone |")
    out.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in recs:
        out.append(
            f"| {r['corpus']} | {r['versions']['recital']} | {r['date']} | {r['source_bytes']/1e6:.1f} MB | {r['docs']:,} | {r['text_tokens']:,} + {r['canon_tokens']:,} "
            f"| {r['shards']} | {r['build_seconds']:.1f} s | {r['build_mb_per_s']:.1f} | {r['peak_rss_bytes']/2**20:.0f} MiB "
            f"| {r['peak_rss_per_token_largest_shard']:.1f} | {r['index_bytes']/1e6:.1f} MB | {r['index_bytes_per_source_byte']:.2f} "
            f"| {r['index_bytes_per_token']:.2f} | {r['build_over_libsais']:.1f}× ({r['libsais_seconds']:.1f} s) |")
    out.append("")
    out.append("`count` latency, in-process, queries sampled from the corpus (µs; warm: 3 rounds × 200 queries after a warm-up pass; cold: index evicted from the page cache with `posix_fadvise(DONTNEED)`, then open + count, 20 queries; naive: linear scan of the decoded token array, 5 queries):\n")
    out.append("| corpus | tokens | warm p50 | warm p99 | cold p50 | cold p99 | naive scan p50 | naive ÷ warm p50 |")
    out.append("|---|---|---|---|---|---|---|---|")
    for r in recs:
        for k in ["1", "8", "32"]:
            w, c, n = r["warm"][k], r["cold"][k], r["naive"][k]
            out.append(f"| {r['corpus']} | {k} | {w['p50_us']:.1f} | {w['p99_us']:.1f} | {c['p50_us']:.0f} | {c['p99_us']:.0f} "
                       f"| {n['p50_us']:.0f} | {n['p50_us']/max(w['p50_us'],1e-9):,.0f}× |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    if sys.argv[1] == "--markdown":
        sys.stdout.write(markdown(sys.argv[2:]))
    else:
        json.dump(record(*sys.argv[1:5]), sys.stdout, indent=2)
        print()
