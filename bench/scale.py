#!/usr/bin/env python3
"""The measuring half of bench/scale.sh (run with the venv that has recital and Ray).

Phases, in an order that keeps one index on disk at a time (the disk, not the
time, is what bounds the corpus here):

1. the single-process build (`recital index build`, under GNU time for its peak RSS);
   count and 4 KB scan latency on it, the counts of sampled corpus phrases, and the
   batch scan of the outputs with recital.ray.scan on 1 and 2 workers and with
   `recital scan --jsonl` (1 and 2 threads); then the index is deleted;
2. recital.ray.build on 1 and then 2 workers (partitions of FILES_PER_PARTITION
   corpus files, one adopting commit: its time is reported apart), each followed
   by the same latency probe and the same phrase counts, which must equal the
   single-process build's; then deleted.

Every phase records the load average (the machine is shared) beside its numbers.
"""
import argparse
import json
import os
import random
import shutil
import subprocess
import time
from pathlib import Path

import pyarrow as pa
import ray

import recital
import recital.ray as rray


def du(path):
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file())


def load():
    return [round(x, 2) for x in os.getloadavg()]


class Corpus:
    """The inputs: a directory made by scale_corpus.py (corpus.json lists its
    copies and their text bytes), or any directory of files (sizes on disk)."""

    def __init__(self, path):
        meta = Path(path, "corpus.json")
        if meta.exists():
            m = json.loads(meta.read_text())
            self.files = [str(Path(path, c["file"])) for _, c in sorted(m["copies"].items(), key=lambda kv: int(kv[0]))]
            self.text_bytes = m["text_bytes"]
            self.disk_bytes = m["disk_bytes"]
        else:
            self.files = sorted(str(p) for p in Path(path).rglob("*") if p.is_file() and not p.name.startswith("."))
            self.text_bytes = self.disk_bytes = sum(os.path.getsize(f) for f in self.files)

    def records(self, file, n):
        """The first `n` records of a (possibly zstd-compressed) JSONL file."""
        cmd = ["zstd", "-dc", file] if file.endswith(".zst") else ["cat", file]
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        out = []
        for line in p.stdout:
            out.append(json.loads(line))
            if len(out) >= n:
                break
        p.kill()
        p.wait()
        return out


def phrases(corpus, n=1000, seed=0):
    """`n` phrases of 2-8 words drawn from records of the first, a middle and
    the last corpus file (all occur at least once)."""
    rng = random.Random(seed)
    picks = sorted({0, len(corpus.files) // 2, len(corpus.files) - 1})
    docs = [r["text"].split() for f in picks for r in corpus.records(corpus.files[f], 400)]
    docs = [w for w in docs if len(w) >= 20]
    out = []
    while len(out) < n:
        w = rng.choice(docs)
        k = rng.randint(2, 8)
        i = rng.randrange(0, len(w) - k)
        out.append(" ".join(w[i : i + k]))
    return out


def latency(fn, items):
    ts = []
    for x in items:
        t = time.perf_counter()
        fn(x)
        ts.append((time.perf_counter() - t) * 1e3)
    ts.sort()
    return {"p50_ms": ts[len(ts) // 2], "p99_ms": ts[int(len(ts) * 0.99)], "n": len(ts)}


def shard_count(stats):
    s = stats.get("shards")
    return len(s) if isinstance(s, list) else s


def probe(index_dir, queries, outputs):
    """Opening, the first count (which checksums every shard: verify_once),
    then warm count and 4 KB scan latency, and the counts of `queries`."""
    t = time.perf_counter()
    idx = recital.Index(index_dir)
    opened = time.perf_counter() - t
    t = time.perf_counter()
    idx.count(queries[0])
    first = time.perf_counter() - t
    counts = [idx.count(q)["count"] for q in queries]
    four_kb = [" ".join(o["text"] for o in outputs[i : i + 4]) for i in range(0, 1200, 4)]
    return {
        "open_s": opened,
        "first_count_s": first,
        "shards": shard_count(idx.stats()),
        "count": latency(idx.count, queries),
        "scan_4kb": latency(lambda x: recital.scan(idx, x), four_kb),
        "load": load(),
    }, counts


def evict(index_dir):
    """Drops the index's files from the page cache (clean pages: no root needed)."""
    for f in Path(index_dir).rglob("*"):
        if f.is_file():
            fd = os.open(f, os.O_RDONLY)
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


def first_use(bin_, index_dir, query, text):
    """Time to the first answer of a new `recital` process, which checksums
    every shard file before answering (Shard::verify_once): `count` and a
    4 KB `scan`, with the index in the page cache (warm) and evicted (cold)."""

    def timed(args, stdin=None):
        t = time.perf_counter()
        subprocess.run([bin_, *args], input=stdin, check=True, capture_output=True, text=True)
        return time.perf_counter() - t

    count = ["count", "--index", index_dir, "--json", query]
    scan = ["scan", "--index", index_dir, "--json", "-"]
    res = {"index_bytes": du(index_dir)}
    timed(count)
    res["count_warm_s"] = min(timed(count) for _ in range(3))
    res["scan_warm_s"] = min(timed(scan, text) for _ in range(3))
    for what, args, stdin in (("count", count, None), ("scan", scan, text)):
        evict(index_dir)
        res[f"{what}_cold_s"] = timed(args, stdin)
    res["load"] = load()
    return res


def build_single(bin_, inputs, out, shard_tokens):
    shutil.rmtree(out, ignore_errors=True)
    cmd = ["/usr/bin/time", "-f", "maxrss_kb=%M", bin_, "index", "build", "--text", "--index", out]
    if shard_tokens:
        cmd += ["--shard-tokens", str(shard_tokens)]
    t = time.perf_counter()
    r = subprocess.run(cmd + inputs, check=True, capture_output=True, text=True)
    secs = time.perf_counter() - t
    rss = int(r.stderr.strip().rsplit("maxrss_kb=", 1)[1].split()[0])
    return secs, rss


def ray_init(workers):
    ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False, object_store_memory=2 << 30)


def build_ray(inputs, out, workers, per_partition, shard_tokens):
    shutil.rmtree(out, ignore_errors=True)
    parts = [inputs[i : i + per_partition] for i in range(0, len(inputs), per_partition)]
    adopt_s = []
    real_adopt = rray._adopt

    def timed_adopt(path, dirs):
        t = time.perf_counter()
        try:
            return real_adopt(path, dirs)
        finally:
            adopt_s.append(time.perf_counter() - t)

    rray._adopt = timed_adopt
    ray_init(workers)
    try:
        t = time.perf_counter()
        rray.build(out, parts, num_cpus=1, mode="text", shard_tokens=shard_tokens)
        return time.perf_counter() - t, adopt_s[0], len(parts)
    finally:
        ray.shutdown()
        rray._adopt = real_adopt


def scan_ray(index_dir, outputs_file, workers):
    ray_init(workers)
    try:
        # Read before the clock starts, and before the scanning actors take
        # every CPU: on a 1-CPU cluster a read task queued behind the actor
        # would wait for ever.
        ds = ray.data.read_json(outputs_file).materialize()
        t = time.perf_counter()
        refs = rray.scan(ds, index_dir, concurrency=workers, batch_size=2048).to_arrow_refs()
        table = pa.concat_tables(ray.get(refs))
        secs = time.perf_counter() - t
        spans = sorted(zip(*(table.column(c).to_pylist() for c in ("id", "byte_start", "byte_end"))))
        return secs, spans
    finally:
        ray.shutdown()


def scan_cli(bin_, index_dir, outputs_file, threads):
    t = time.perf_counter()
    r = subprocess.run(
        [bin_, "scan", "--index", index_dir, "--jsonl", outputs_file, "--threads", str(threads)],
        check=False,
        capture_output=True,
        text=True,
    )
    secs = time.perf_counter() - t
    if r.returncode not in (0, 3):
        raise SystemExit(f"recital scan --jsonl failed: {r.stderr[-2000:]}")
    spans = sorted(
        (str(line["id"]), s["byte_start"], s["byte_end"])
        for line in map(json.loads, r.stdout.splitlines())
        for s in line["spans"]
    )
    return secs, spans


def batch_scans(bin_, index_dir, outputs_file, n):
    res, spans = {}, {}
    for w in (1, 2):
        secs, spans[f"ray_{w}"] = scan_ray(index_dir, outputs_file, w)
        res[f"ray_{w}"] = {"seconds": secs, "outputs_s": n / secs, "spans": len(spans[f"ray_{w}"]), "load": load()}
    for th in (1, 2):
        secs, spans[f"cli_{th}"] = scan_cli(bin_, index_dir, outputs_file, th)
        res[f"cli_threads_{th}"] = {"seconds": secs, "outputs_s": n / secs, "spans": len(spans[f"cli_{th}"]), "load": load()}
    res["outputs"] = n
    res["ray_1_equals_ray_2"] = spans["ray_1"] == spans["ray_2"]
    res["ray_equals_cli"] = spans["ray_1"] == spans["cli_1"]
    if not res["ray_equals_cli"]:
        a, b = set(spans["ray_1"]), set(spans["cli_1"])
        res["ray_vs_cli_spans_only_in"] = {"ray": len(a - b), "cli": len(b - a)}
    return res


def main():
    ap = argparse.ArgumentParser()
    for a in ("--bin", "--corpus", "--outputs", "--work", "--out"):
        ap.add_argument(a, required=True)
    ap.add_argument("--files-per-partition", type=int, default=1)
    ap.add_argument("--shard-tokens", type=int, default=None)
    ap.add_argument(
        "--builds-only",
        action="store_true",
        help="only the three builds and their probes (no first-use timing, no batch scans)",
    )
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    corpus = Corpus(a.corpus)
    outputs = [json.loads(l) for l in open(a.outputs)]
    queries = phrases(corpus)
    src = corpus.text_bytes
    res = {
        "corpus": a.corpus,
        "corpus_text_bytes": src,
        "corpus_disk_bytes": corpus.disk_bytes,
        "corpus_files": len(corpus.files),
        "cores": os.cpu_count(),
        "shard_tokens": a.shard_tokens,
        "build": {},
        "probe": {},
    }

    def save():
        Path(a.out).write_text(json.dumps(res, indent=1))

    single = os.path.join(a.work, "single")
    res["load_start"] = load()
    secs, rss = build_single(a.bin, corpus.files, single, a.shard_tokens)
    size = du(single)
    res["build"]["single_process"] = {
        "seconds": secs,
        "mb_s": src / 1e6 / secs,
        "peak_rss_mb": rss / 1024,
        "index_bytes": size,
        "index_bytes_per_corpus_byte": size / src,
        "load": load(),
    }
    res["probe"]["single_process"], counts = probe(single, queries, outputs)
    res["queries"] = {"n": len(queries), "with_count_0": sum(c == 0 for c in counts)}
    save()
    if not a.builds_only:
        four_kb = " ".join(o["text"] for o in outputs[:4])
        res["first_use"] = first_use(a.bin, single, queries[0], four_kb)
        save()
        res["batch_scan"] = batch_scans(a.bin, single, a.outputs, len(outputs))
        save()
    shutil.rmtree(single)
    for w in (1, 2):
        out = os.path.join(a.work, f"ray{w}")
        secs, adopt, parts = build_ray(corpus.files, out, w, a.files_per_partition, a.shard_tokens)
        size = du(out)
        res["build"][f"ray_{w}"] = {
            "seconds": secs,
            "mb_s": src / 1e6 / secs,
            "partitions": parts,
            "adopt_seconds": adopt,
            "index_bytes": size,
            "index_bytes_per_corpus_byte": size / src,
            "load": load(),
        }
        res["probe"][f"ray_{w}"], got = probe(out, queries, outputs)
        res["probe"][f"ray_{w}"]["same_counts_as_single"] = got == counts
        shutil.rmtree(out)
        save()
    b = res["build"]
    res["ratios"] = {
        "build_ray2_over_ray1": b["ray_2"]["mb_s"] / b["ray_1"]["mb_s"],
        "build_ray2_over_single": b["ray_2"]["mb_s"] / b["single_process"]["mb_s"],
    }
    save()
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
