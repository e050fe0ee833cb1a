#!/usr/bin/env python3
"""Model outputs in bulk for `bench/scan_batch.sh`: N JSONL lines
{"id": "out-K", "text": "..."}, the same for the same seed.

Each output is 80 to 240 words of filler drawn from a fixed vocabulary (text
that occurs nowhere in the corpus), and a quarter of them also quote 30 to 120
consecutive words of a document of CORPUS (a directory of text files or of JSONL
dumps, whose records are the documents), so the batch pays for copies found,
sources and decisions as well as for clean text.

    bench/batch_outputs.py --n 100000 --seed 0 data/sample/prose > outputs.jsonl
"""
import argparse
import json
import pathlib
import random
import sys

VOCAB = (
    "model answer question data system value result user request method table field record "
    "network signal memory process thread query index window vector matrix layer weight token "
    "river mountain garden window lantern harbour meadow orchard village bridge compass engine "
    "quickly slowly gently rarely often seldom always never perhaps surely almost nearly "
    "bright quiet narrow golden hollow steady distant early simple careful curious patient"
).split()


def texts_of(path):
    """The documents of a file: each record's `text` of a JSONL dump (as the
    index reads it), else the whole file."""
    if path.suffix != ".jsonl":
        return [path.read_text(errors="replace")]
    records = (json.loads(line) for line in path.open(encoding="utf-8") if line.strip())
    return [r["text"] for r in records if isinstance(r, dict) and isinstance(r.get("text"), str)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--copy-share", type=float, default=0.25)
    ap.add_argument("corpus", type=pathlib.Path)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    docs = []
    for p in sorted(a.corpus.rglob("*")):
        if p.is_file() and not p.name.startswith("."):
            for text in texts_of(p):
                words = text.split()
                if len(words) >= 200:
                    docs.append(words)
    if not docs:
        sys.exit(f"no document of 200 words or more under {a.corpus}")
    out = sys.stdout
    for k in range(a.n):
        words = [rng.choice(VOCAB) for _ in range(rng.randint(80, 240))]
        if rng.random() < a.copy_share:
            doc = rng.choice(docs)
            n = rng.randint(30, 120)
            start = rng.randrange(0, len(doc) - n)
            at = rng.randrange(0, len(words))
            words[at:at] = doc[start:start + n]
        out.write(json.dumps({"id": f"out-{k}", "text": " ".join(words)}) + "\n")


if __name__ == "__main__":
    main()
