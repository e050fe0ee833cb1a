#!/usr/bin/env python3
"""Texts for bench/soak.sh: one JSON line per text, `{"text": ..., "quote": null}` for a clean
output, `{"text": ..., "quote": {"doc_id": ..., "passage": ...}}` for one that quotes the sample
corpus.

    soak_inputs.py OUT.jsonl PROSE_DIR [--texts 400] [--quoting-every 4] [--seed 19]

- Clean texts: 40-80 made-up words (random syllables, seeded), so that no run of them is in
  any corpus: the proxy must pass them unchanged, and any difference is an error.
- Every `--quoting-every`-th text (default 1 in 4) quotes 40-60 words of a document under
  PROSE_DIR (doc ids as `recital index build PROSE_DIR` names them: the path below it) between
  10-20 made-up words on each side. The soak policy redacts any copy of 12 tokens or more, so
  the proxy must never let 12 consecutive words of the passage through.
"""
import argparse
import json
import os
import random
import re

ONSETS = ["b", "br", "d", "dr", "f", "g", "gl", "k", "kl", "m", "n", "p", "pl", "r", "s", "st", "t",
          "tr", "v", "z", "zh", "qu"]
VOWELS = ["a", "e", "i", "o", "u", "ai", "ou", "ea", "y"]
CODAS = ["", "", "n", "r", "s", "th", "x", "mp", "lk"]
WORD = re.compile(r"\S+")


def made_up(rng, n):
    words = []
    for _ in range(n):
        w = "".join(rng.choice(ONSETS) + rng.choice(VOWELS) + rng.choice(CODAS)
                    for _ in range(rng.randint(1, 3)))
        words.append(w)
    return " ".join(words)


def documents(root):
    docs = []
    for d, dirs, files in os.walk(root):
        dirs.sort()
        for f in sorted(files):
            if f.endswith(".txt"):
                p = os.path.join(d, f)
                text = open(p, encoding="utf-8").read()
                if len(text) > 20000:
                    docs.append((os.path.relpath(p, root), text))
    return docs


def passage(rng, docs, lo, hi):
    """Words lo..hi of a random document, its original spacing folded to single spaces (the
    scripted upstream streams word by word)."""
    while True:
        doc_id, text = rng.choice(docs)
        n = rng.randint(lo, hi)
        a = rng.randrange(len(text) - n * 15)
        words = [m.group() for _, m in zip(range(n + 1), WORD.finditer(text, a))][1:]
        # Chapter headings and numbers make poor quotes; keep passages of running text.
        if len(words) == n and sum(w[0].isdigit() for w in words) < 3:
            return doc_id, " ".join(words)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("prose")
    ap.add_argument("--texts", type=int, default=400)
    ap.add_argument("--quoting-every", type=int, default=4)
    ap.add_argument("--seed", type=int, default=19)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    docs = documents(a.prose)
    if not docs:
        raise SystemExit(f"soak_inputs.py: no .txt document over 20 KB under {a.prose}")
    n_quoting = 0
    with open(a.out, "w", encoding="utf-8") as f:
        for i in range(a.texts):
            if i % a.quoting_every == a.quoting_every - 1:
                doc_id, p = passage(rng, docs, 40, 60)
                text = f"{made_up(rng, rng.randint(10, 20))} {p} {made_up(rng, rng.randint(10, 20))}"
                row = {"text": text, "quote": {"doc_id": doc_id, "passage": p}}
                n_quoting += 1
            else:
                row = {"text": made_up(rng, rng.randint(40, 80)), "quote": None}
            f.write(json.dumps(row) + "\n")
    print(json.dumps({"texts": a.texts, "quoting": n_quoting, "documents": len(docs),
                      "quoted_documents": sorted({d for d, _ in docs})}))


if __name__ == "__main__":
    main()
