#!/usr/bin/env python3
"""The "Scale" section of bench/RESULTS.md from one bench/scale.py result (JSON)."""
import json
import subprocess
import sys
from pathlib import Path


BUILDS = (("single_process", "1 process"), ("ray_1", "Ray, 1 worker"), ("ray_2", "Ray, 2 workers"))


def gb(b):
    return f"{b / 1e9:.2f} GB"


def main():
    raw = Path(sys.argv[1])
    r = json.loads(raw.read_text())
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    b, p, s = r["build"], r["probe"], r.get("batch_scan")
    out = []
    out.append(
        f"`bench/scale.sh` at {commit}, raw results `{raw}`: {r['cores']} cores shared with other users "
        f"(load average 1/5/15 min at each step in the tables), release builds. Corpus: {gb(r['corpus_text_bytes'])} "
        f"of text in {r['corpus_files']} zstd JSONL files ({gb(r['corpus_disk_bytes'])} on disk): letter-permuted "
        "copies of the 279 MB real prose corpus (`scale_corpus.py`); the issue asks for 10 GB or more: see the "
        "extrapolation below."
    )
    out.append("")
    out.append("| build | partitions | seconds | MB/s of text | index | index B / corpus B | adopt step | peak RSS | load |")
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for k, label in BUILDS:
        if k not in b:
            out.append(f"| {label} | not run here (see the other Scale section) | | | | | | | |")
            continue
        x = b[k]
        rss = f"{x['peak_rss_mb']:,.0f} MiB" if "peak_rss_mb" in x else ""
        adopt = f"{x['adopt_seconds']:.1f} s" if "adopt_seconds" in x else ""
        out.append(
            f"| {label} | {x.get('partitions', '')} | {x['seconds']:.0f} | {x['mb_s']:.1f} | {gb(x['index_bytes'])} | "
            f"{x['index_bytes_per_corpus_byte']:.2f} | {adopt} | {rss} | {' / '.join(map(str, x['load']))} |"
        )
    rt = r.get("ratios", {})
    if rt:
        out.append("")
        out.append(
            f"Ray 2 workers ÷ 1 worker: **{rt['build_ray2_over_ray1']:.2f}×**; Ray 2 workers ÷ one process: "
            f"{rt['build_ray2_over_single']:.2f}×."
        )
    out.append("")
    q = r["queries"]
    out.append(
        f"Latency on each result, in-process through the Python package: `count` of {q['n']} phrases of 2–8 words "
        "sampled from the corpus, and `scan` of 300 outputs of about 4 KB (four batch outputs joined); "
        "the first count of a process also checksums every shard (`verify_once`)."
    )
    out.append("")
    out.append("| index | shards | open | first count | count p50 | count p99 | 4 KB scan p50 | 4 KB scan p99 | same counts as 1 process | load |")
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|---|---|")
    for k, label in BUILDS:
        if k not in p:
            continue
        x = p[k]
        same = "" if k == "single_process" else ("yes" if x["same_counts_as_single"] else "**NO**")
        out.append(
            f"| {label} | {x['shards']} | {x['open_s'] * 1e3:.0f} ms | {x['first_count_s']:.2f} s | "
            f"{x['count']['p50_ms']:.3f} ms | {x['count']['p99_ms']:.3f} ms | {x['scan_4kb']['p50_ms']:.1f} ms | "
            f"{x['scan_4kb']['p99_ms']:.1f} ms | {same} | {' / '.join(map(str, x['load']))} |"
        )
    fu = r.get("first_use")
    if fu:
        out.append("")
        out.append(
            f"First use: a new `recital` process on the single-process index ({gb(fu['index_bytes'])}) checksums every "
            "shard file before its first answer (`verify_once`). Time to the first answer, the index in the page cache "
            f"(warm, best of 3) and evicted (cold): `count` {fu['count_warm_s']:.2f} s warm, {fu['count_cold_s']:.1f} s "
            f"cold; a 4 KB `scan` {fu['scan_warm_s']:.2f} s warm, {fu['scan_cold_s']:.1f} s cold "
            f"(load {' / '.join(map(str, fu['load']))})."
        )
    if s:
        out.extend(batch_scan(s))
    out.append("")
    out.extend(extrapolation(r))
    return "\n".join(out) + "\n"


def batch_scan(s):
    out = []
    out.append("")
    out.append(
        f"Batch scan of {s['outputs']:,} outputs (`batch_outputs.py`, seed 0, about 1.3 KB each, a quarter quoting "
        "the real prose) against the single-process index:"
    )
    out.append("")
    out.append("| scanner | seconds | outputs/s | spans | load |")
    out.append("|---|---:|---:|---:|---|")
    for k, label in (
        ("ray_1", "recital.ray.scan, 1 worker"),
        ("ray_2", "recital.ray.scan, 2 workers"),
        ("cli_threads_1", "`recital scan --jsonl`, 1 thread"),
        ("cli_threads_2", "`recital scan --jsonl`, 2 threads"),
    ):
        x = s[k]
        out.append(f"| {label} | {x['seconds']:.0f} | {x['outputs_s']:,.0f} | {x['spans']:,} | {' / '.join(map(str, x['load']))} |")
    out.append("")
    same = "the same spans" if s["ray_1_equals_ray_2"] else "**different spans**"
    ratio = s["ray_2"]["outputs_s"] / s["ray_1"]["outputs_s"]
    out.append(f"Ray on 2 workers ÷ 1 worker: **{ratio:.2f}×**; 1 and 2 workers give {same}.")
    if s["ray_equals_cli"]:
        out.append("The Ray scan's spans (output id, byte range) equal the CLI's.")
    else:
        d = s["ray_vs_cli_spans_only_in"]
        out.append(
            f"The Ray scan and the CLI differ: {d['ray']:,} spans only in Ray's table, {d['cli']:,} only in the CLI's "
            "(the CLI applies the policy's minimum length; Ray's scan has no policy here)."
        )
    return out


def extrapolation(r):
    """Linear extrapolation to 10 GB and 100 GB of text: shards are cut at a
    token budget, so build time and index size grow with the bytes (each shard's
    suffix sort is linear), and a query's cost with the number of shards."""
    src = r["corpus_text_bytes"]
    lines = ["Extrapolated linearly (shards are cut at a fixed token budget, so build time and size grow with the text):", ""]
    lines.append("| build | 10 GB: time | 10 GB: index | 100 GB: time | 100 GB: index |")
    lines.append("|---|---:|---:|---:|---:|")
    for k, label in BUILDS:
        if k not in r["build"]:
            continue
        x = r["build"][k]
        cells = []
        for target in (10e9, 100e9):
            f = target / src
            cells += [f"{x['seconds'] * f / 60:.0f} min", gb(x["index_bytes"] * f)]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines


if __name__ == "__main__":
    sys.stdout.write(main())
