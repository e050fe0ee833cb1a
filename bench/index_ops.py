#!/usr/bin/env python3
"""The measuring half of bench/index_ops.sh: `recital index adopt` and the first
answer of a new process (which checksums every shard file first), for two
binaries side by side, rounds interleaved so that both see the same load.

    index_ops.py --base BIN --new BIN --parts DIR... --work DIR --query Q --text-file F --out JSON
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import time
from pathlib import Path


def load():
    return [round(x, 2) for x in os.getloadavg()]


def du(path):
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file())


def free_bytes(path):
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def evict(index_dir):
    for f in Path(index_dir).rglob("*"):
        if f.is_file():
            fd = os.open(f, os.O_RDONLY)
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


def timed(cmd, stdin=None):
    t = time.perf_counter()
    subprocess.run(cmd, input=stdin, check=True, capture_output=True, text=True)
    return time.perf_counter() - t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True)
    ap.add_argument("--new", required=True)
    ap.add_argument("--parts", nargs="+", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--query", required=True)
    ap.add_argument("--text-file", required=True)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    text = Path(a.text_file).read_text()
    bins = {"base": a.base, "new": a.new}
    res = {"parts": len(a.parts), "parts_bytes": sum(du(p) for p in a.parts), "rounds": a.rounds, "load_start": load()}
    adopt = {k: [] for k in bins}
    new_disk = {}
    for _ in range(a.rounds):
        for k, b in bins.items():
            out = os.path.join(a.work, f"adopted-{k}")
            shutil.rmtree(out, ignore_errors=True)
            subprocess.run(["sync"], check=True)
            before = free_bytes(a.work)
            adopt[k].append(timed([b, "index", "adopt", "--index", out, *a.parts]))
            subprocess.run(["sync"], check=True)
            new_disk[k] = before - free_bytes(a.work)
    res["adopt_s"] = {k: statistics.median(v) for k, v in adopt.items()}
    res["adopt_all_s"] = adopt
    res["adopt_new_disk_bytes"] = new_disk
    res["index_bytes"] = du(os.path.join(a.work, "adopted-new"))
    res["load_adopt"] = load()
    idx = os.path.join(a.work, "adopted-new")
    first = {}
    for what in ("count", "scan"):
        args = ["count", "--index", idx, "--json", a.query] if what == "count" else ["scan", "--index", idx, "--json", "-"]
        stdin = None if what == "count" else text
        for cache in ("warm", "cold"):
            ts = {k: [] for k in bins}
            for _ in range(a.rounds):
                for k, b in bins.items():
                    if cache == "cold":
                        evict(idx)
                    else:
                        timed([b, *args], stdin)
                    ts[k].append(timed([b, *args], stdin))
            first[f"{what}_{cache}"] = {k: statistics.median(v) for k, v in ts.items()}
    res["first_answer_s"] = first
    res["load_end"] = load()
    shutil.rmtree(os.path.join(a.work, "adopted-base"), ignore_errors=True)
    Path(a.out).write_text(json.dumps(res, indent=1))
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
