#!/usr/bin/env python3
"""A large corpus for bench/scale.sh, from the real prose corpus (bench/corpora.sh).

    bench/scale_corpus.py --copies 36 ~/.cache/recital-bench/prose OUT_DIR

Copy k (k = 0 .. COPIES-1) is every record of PROSE/*.jsonl (not rights.jsonl) with
the letters a-z permuted by a permutation drawn with seed k (copy 0 is the
identity: the real text), the same permutation for upper case, and ids prefixed
with `cK/`. A permutation of letters is a bijection on words, so every copy keeps
the real text's word frequencies, document lengths and repetition, while copies
share no words of two letters or more (with overwhelming probability): the index
holds COPIES x the real corpus's distinct n-grams, not one corpus repeated.

Each copy is written as OUT_DIR/copy-KKK.jsonl.zst (zstd, level 3, through the
`zstd` command), so the disk holds about a third of the text bytes. OUT_DIR/corpus.json
records the copies, records and text bytes (what MB/s and bytes per corpus byte
are measured against). An existing complete copy is kept (rerun-safe).
"""
import argparse
import json
import random
import string
import subprocess
from pathlib import Path


def permutation(k):
    if k == 0:
        return None
    letters = list(string.ascii_lowercase)
    random.Random(k).shuffle(letters)
    lower = "".join(letters)
    return str.maketrans(string.ascii_lowercase + string.ascii_uppercase, lower + lower.upper())


def write_copy(k, sources, out):
    table = permutation(k)
    tmp = out.with_suffix(".tmp")
    records = text_bytes = 0
    with open(tmp, "wb") as f:
        z = subprocess.Popen(["zstd", "-q", "-3", "-T1", "-c"], stdin=subprocess.PIPE, stdout=f)
        for src in sources:
            for line in open(src, encoding="utf-8"):
                r = json.loads(line)
                text = r["text"] if table is None else r["text"].translate(table)
                text_bytes += len(text.encode())
                records += 1
                rec = {"id": f"c{k}/{r['id']}", "text": text}
                z.stdin.write((json.dumps(rec, ensure_ascii=False) + "\n").encode())
        z.stdin.close()
        if z.wait() != 0:
            raise SystemExit(f"zstd failed on {out}")
    tmp.rename(out)
    return {"file": out.name, "records": records, "text_bytes": text_bytes, "disk_bytes": out.stat().st_size}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--copies", type=int, required=True)
    ap.add_argument("prose", type=Path)
    ap.add_argument("out", type=Path)
    a = ap.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    sources = sorted(p for p in a.prose.glob("*.jsonl") if p.name != "rights.jsonl")
    meta_path = a.out / "corpus.json"
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {"copies": {}}
    for k in range(a.copies):
        out = a.out / f"copy-{k:03d}.jsonl.zst"
        if out.exists() and str(k) in meta["copies"]:
            continue
        meta["copies"][str(k)] = write_copy(k, sources, out)
        meta_path.write_text(json.dumps(meta, indent=1))
        print(f"copy {k}: {meta['copies'][str(k)]}", flush=True)
    live = {k: v for k, v in meta["copies"].items() if int(k) < a.copies}
    meta = {
        "copies": live,
        "source": str(a.prose),
        "records": sum(v["records"] for v in live.values()),
        "text_bytes": sum(v["text_bytes"] for v in live.values()),
        "disk_bytes": sum(v["disk_bytes"] for v in live.values()),
    }
    meta_path.write_text(json.dumps(meta, indent=1))
    print(json.dumps({k: meta[k] for k in ("records", "text_bytes", "disk_bytes")}))


if __name__ == "__main__":
    main()
