#!/usr/bin/env python3
"""The measuring half of bench/scale.sh (run with the venv that has recital and Ray)."""
import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import time
from pathlib import Path

import pyarrow as pa
import ray

import recital
import recital.ray as rray


def du(path):
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file())


def files_of(corpus):
    return sorted(str(p) for p in Path(corpus).rglob("*") if p.is_file() and not p.name.startswith("."))


def latency(fn, items):
    ts = []
    for x in items:
        t = time.perf_counter()
        fn(x)
        ts.append((time.perf_counter() - t) * 1e6)
    ts.sort()
    return {"p50_us": ts[len(ts) // 2], "p99_us": ts[int(len(ts) * 0.99)], "n": len(ts)}


def probe(index_dir, outputs):
    idx = recital.Index(index_dir)
    rng = random.Random(0)
    qs = []
    for o in outputs[:2000]:
        w = o["text"].split()
        k = rng.randint(2, 8)
        i = rng.randrange(0, max(1, len(w) - k))
        qs.append(" ".join(w[i : i + k]))
    four_kb = [" ".join([o["text"] for o in outputs[i : i + 4]]) for i in range(0, 800, 4)]
    return {
        "count": latency(lambda q: idx.count(q), [q for q in qs if q.strip()][:1000]),
        "scan_4kb": latency(lambda t: recital.scan(idx, t), four_kb),
    }


def build_single(bin_, corpus, out):
    shutil.rmtree(out, ignore_errors=True)
    t = time.perf_counter()
    subprocess.run([bin_, "index", "build", "--index", out, corpus], check=True, capture_output=True)
    return time.perf_counter() - t


def build_ray(corpus, out, workers):
    shutil.rmtree(out, ignore_errors=True)
    ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
    try:
        t = time.perf_counter()
        rray.build(out, [[f] for f in files_of(corpus)], num_cpus=1)
        return time.perf_counter() - t
    finally:
        ray.shutdown()


def scan_ray(index_dir, outputs_file, workers):
    ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
    try:
        ds = ray.data.read_json(outputs_file)
        t = time.perf_counter()
        refs = rray.scan(ds, index_dir, concurrency=workers, batch_size=2048).to_arrow_refs()
        table = pa.concat_tables(ray.get(refs))
        secs = time.perf_counter() - t
        spans = sorted(zip(*(table.column(c).to_pylist() for c in ("id", "byte_start", "byte_end"))))
        return secs, spans
    finally:
        ray.shutdown()


def main():
    ap = argparse.ArgumentParser()
    for a in ("--bin", "--corpus", "--outputs", "--work", "--out"):
        ap.add_argument(a, required=True)
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    src = sum(os.path.getsize(f) for f in files_of(a.corpus))
    outputs = [json.loads(l) for l in open(a.outputs)]
    res = {"corpus": a.corpus, "corpus_bytes": src, "cores": os.cpu_count(), "build": {}, "batch_scan": {}}
    single = os.path.join(a.work, "single")
    secs = build_single(a.bin, a.corpus, single)
    res["build"]["single_process"] = {"seconds": secs, "mb_s": src / 1e6 / secs, "index_bytes_per_corpus_byte": du(single) / src}
    res["probe_single"] = probe(single, outputs)
    for w in (1, 2):
        out = os.path.join(a.work, f"ray{w}")
        secs = build_ray(a.corpus, out, w)
        res["build"][f"ray_{w}"] = {"seconds": secs, "mb_s": src / 1e6 / secs, "index_bytes_per_corpus_byte": du(out) / src}
        shutil.rmtree(out)
    spans = {}
    for w in (1, 2):
        secs, spans[w] = scan_ray(single, a.outputs, w)
        res["batch_scan"][f"ray_{w}"] = {"outputs": len(outputs), "seconds": secs, "outputs_s": len(outputs) / secs, "spans": len(spans[w])}
    res["batch_scan"]["same_spans"] = spans[1] == spans[2]
    b = res["build"]
    res["ratios"] = {
        "build_ray2_over_ray1": b["ray_2"]["mb_s"] / b["ray_1"]["mb_s"],
        "build_ray2_over_single": b["ray_2"]["mb_s"] / b["single_process"]["mb_s"],
        "scan_ray2_over_ray1": res["batch_scan"]["ray_2"]["outputs_s"] / res["batch_scan"]["ray_1"]["outputs_s"],
    }
    Path(a.out).write_text(json.dumps(res, indent=1))
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
