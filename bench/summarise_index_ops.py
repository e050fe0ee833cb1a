#!/usr/bin/env python3
"""The "Adopt and first use" section of bench/RESULTS.md from index_ops.py's JSON."""
import json
import subprocess
import sys


def main():
    r = json.load(open(sys.argv[1]))
    base = sys.argv[2]
    git = lambda *a: subprocess.run(["git", *a], capture_output=True, text=True).stdout.strip()
    commit = git("rev-parse", "--short", "HEAD")
    gb = lambda b: f"{b / 1e9:.2f} GB"
    out = [
        f"`bench/index_ops.sh` at {commit}: this tree's release build (*new*) beside `{base}` (*base*), rounds "
        f"interleaved, median of {r['rounds']}; 2 cores shared with other users, load average "
        f"{' / '.join(map(str, r['load_start']))} at the start and {' / '.join(map(str, r['load_end']))} at the end. "
        f"{r['parts']} partition indexes ({gb(r['parts_bytes'])}, letter-permuted copies of the bench prose, "
        "`scale_corpus.py`) adopted into a new index on the same file system; then the first answer of a new "
        f"process on the adopted index ({gb(r['index_bytes'])}), which checksums every shard file before answering "
        "(warm: the index in the page cache; cold: evicted with `posix_fadvise(DONTNEED)`).",
        "",
        "| operation | base | new | base ÷ new |",
        "|---|---:|---:|---:|",
    ]
    b, n = r["adopt_s"]["base"], r["adopt_s"]["new"]
    out.append(f"| `index adopt` of {r['parts']} partitions | {b:.2f} s | {n:.2f} s | {b / n:.1f}× |")
    db, dn = r["adopt_new_disk_bytes"]["base"], r["adopt_new_disk_bytes"]["new"]
    out.append(f"| disk taken by the adoption | {gb(db)} | {gb(dn)} | |")
    labels = {
        "count_warm": "first `count`, warm",
        "count_cold": "first `count`, cold",
        "scan_warm": "first 4 KB `scan`, warm",
        "scan_cold": "first 4 KB `scan`, cold",
    }
    for k, label in labels.items():
        x = r["first_answer_s"][k]
        out.append(f"| {label} | {x['base']:.2f} s | {x['new']:.2f} s | {x['base'] / x['new']:.1f}× |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.stdout.write(main())
