#!/usr/bin/env python3
"""Inputs of bench/serve.sh, generated from the benchmark corpora (standard library only).

  serve_inputs.py OUT_DIR --copied PATH... --novel PATH... [--scan-n 300] [--size 1024]
                  [--streams 16] [--stream-words 150] [--registry 20] [--seed 42] [--stride-novel K]

--copied: what the index was built from (JSONL files or directories of them); --novel: text of the
same kind that is not in the index (JSONL records whose id is not among the copied ones, or
.md/.txt files). Writes into OUT_DIR:

  scan.jsonl       {"text": ...}  1 KB model-like outputs, as bench_scan makes them: segments of
                   20-120 words joined by short connective sentences, cut at --size bytes (at a
                   character boundary): 40 % verbatim excerpts of copied documents, 10 % such
                   excerpts with 1 word in 15 substituted, 50 % excerpts of novel documents
  scan-body.jsonl  the POST bodies for wrk: {"text": ...}, one per line
  stream-novel.jsonl   {"text": ...}  --stream-words words of novel text per line (the scripted
                   upstream streams them word by word); nothing in them is in the index
  stream-quoting.jsonl {"text": ...}  the same length, with a 60-word verbatim excerpt of a
                   public-domain copied document (kjv, shakespeare, milton, devil, jargon) in the
                   middle: the guard's scans find a copy, and the policy allows it
  registry.jsonl   one line per notice/work test:
                   {"kind": "notice", "doc_id": ..., "quote": 80 words of that copied document}
                   {"kind": "work", "title": ..., "text": a novel document (<= 16 KB),
                    "quote": 80 words of it}
"""
import argparse
import json
import os
import random
import re
import sys

CONNECTIVES = [
    "As the passage puts it:",
    "Here is the relevant part.",
    "Consider the following.",
    "In other words:",
    "The next part continues the thought.",
    "Another source says much the same.",
    "I hope that helps.",
    "Note the wording here:",
]
SUBSTITUTES = ["river", "lantern", "quietly", "marble", "seventeen", "orange", "whisper", "engine",
               "copper", "gentle", "harbour", "window", "yellow", "distant", "frozen", "silver"]
PUBLIC_DOMAIN = ("kjv/", "shakespeare/", "milton/", "devil/", "jargon/")
WORD = re.compile(r"\S+")


def files(paths):
    for p in paths:
        if os.path.isdir(p):
            for root, dirs, fs in os.walk(p):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for f in sorted(fs):
                    if not f.startswith("."):
                        yield os.path.join(root, f)
        elif os.path.exists(p):
            yield p


def load(paths, stride=1, exclude=frozenset(), ids_only=False):
    """(id, text) of every stride-th JSONL record (and .md/.txt file) under paths."""
    out, k = [], 0
    for f in files(paths):
        name = os.path.basename(f)
        if name.endswith(".jsonl") and name != "rights.jsonl":
            with open(f, encoding="utf-8") as fh:
                for line in fh:
                    k += 1
                    if (k - 1) % stride:
                        continue
                    r = json.loads(line)
                    if r["id"] in exclude:
                        continue
                    out.append((r["id"], None if ids_only else r["text"]))
        elif name.endswith((".md", ".txt")) and not ids_only:
            k += 1
            if (k - 1) % stride == 0:
                out.append((os.path.relpath(f), open(f, encoding="utf-8", errors="replace").read()))
    return out


def excerpt(rng, docs, lo, hi, prefix=None):
    """A word-aligned excerpt of lo..hi words of a random document, original whitespace kept."""
    pool = [d for d in docs if prefix is None or d[0].startswith(prefix)]
    for _ in range(10000):
        n = rng.randint(lo, hi)
        doc_id, text = rng.choice(pool)
        if len(text) < n * 8:
            continue
        a = rng.randrange(max(1, len(text) - n * 12))
        words = [m for _, m in zip(range(n + 1), WORD.finditer(text, a))]
        if len(words) < n + 1:
            continue
        words = words[1:]  # the first may be cut
        s = text[words[0].start():words[-1].end()]
        if "```" in s or any(ord(c) < 32 and c not in "\n\t\r" for c in s):
            continue
        return doc_id, s
    sys.exit(f"serve_inputs.py: no document with {lo}..{hi} words")


def substitute(rng, s):
    parts = re.split(r"(\s+)", s)
    for i in range(0, len(parts), 2):
        if parts[i] and rng.random() < 1 / 15:
            parts[i] = rng.choice(SUBSTITUTES)
    return "".join(parts)


def output(rng, copied, novel, size):
    s = ""
    while len(s.encode()) < size:
        s += rng.choice(CONNECTIVES) + "\n\n"
        r = rng.randrange(10)
        _, t = excerpt(rng, novel if r >= 5 else copied, 20, 120)
        if r == 4:
            t = substitute(rng, t)
        s += t + "\n\n"
    b = s.encode()[:size]
    return b.decode("utf-8", errors="ignore")


def words_text(rng, docs, n):
    """About n words of running text from consecutive excerpts of docs."""
    out = []
    while sum(len(x.split()) for x in out) < n:
        _, t = excerpt(rng, docs, 40, 80)
        out.append(t)
    return " ".join(" ".join(out).split()[:n])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--copied", nargs="+", required=True)
    ap.add_argument("--novel", nargs="+", required=True)
    ap.add_argument("--scan-n", type=int, default=300)
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--streams", type=int, default=16)
    ap.add_argument("--stream-words", type=int, default=150)
    ap.add_argument("--registry", type=int, default=20)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--stride-copied", type=int, default=1)
    ap.add_argument("--stride-novel", type=int, default=1)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    copied = load(a.copied, a.stride_copied)
    copied_ids = frozenset(i for i, _ in load(a.copied, 1, ids_only=True))
    novel = load(a.novel, a.stride_novel, exclude=copied_ids)
    if not copied or not novel:
        sys.exit("serve_inputs.py: no copied or no novel documents")
    os.makedirs(a.out, exist_ok=True)

    def write(name, rows):
        with open(os.path.join(a.out, name), "w", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")

    scan = [{"text": output(rng, copied, novel, a.size)} for _ in range(a.scan_n)]
    write("scan.jsonl", scan)
    write("scan-body.jsonl", scan)
    write("stream-novel.jsonl", [{"text": words_text(rng, novel, a.stream_words)} for _ in range(a.streams)])
    quoting = []
    pd = [d for d in copied if d[0].startswith(PUBLIC_DOMAIN) and len(d[1]) > 2000]
    for _ in range(a.streams):
        half = words_text(rng, novel, (a.stream_words - 60) // 2 * 2).split()
        _, q = excerpt(rng, pd, 60, 60)
        k = len(half) // 2
        quoting.append({"text": " ".join(half[:k] + q.split() + half[k:])})
    write("stream-quoting.jsonl", quoting)
    reg = []
    # Documents long enough for an 80-word quote (within the first 16 KB, where works are cut).
    def wordy(d):
        return len(d[1]) > 3000 and len(WORD.findall(d[1][:16384])) >= 400

    long_copied = [d for d in copied if wordy(d)]
    long_novel = [d for d in novel if wordy(d)]
    if len(long_copied) < a.registry or len(long_novel) < a.registry:
        sys.exit(f"serve_inputs.py: too few long documents for {a.registry} notices and works "
                 f"({len(long_copied)} indexed, {len(long_novel)} novel)")
    for doc_id, text in rng.sample(long_copied, a.registry):
        _, q = excerpt(rng, [(doc_id, text)], 80, 80)
        reg.append({"kind": "notice", "doc_id": doc_id, "quote": q})
    for i, (doc_id, text) in enumerate(rng.sample(long_novel, a.registry)):
        text = text[:16384].encode()[:16384].decode("utf-8", errors="ignore")
        _, q = excerpt(rng, [(doc_id, text)], 80, 80)
        reg.append({"kind": "work", "title": f"bench work {i}: {doc_id}", "text": text, "quote": q})
    write("registry.jsonl", reg)
    print(json.dumps({"copied_docs": len(copied), "novel_docs": len(novel), "scan_outputs": len(scan),
                      "scan_bytes_mean": sum(len(s["text"].encode()) for s in scan) / len(scan),
                      "streams": a.streams, "stream_words": a.stream_words, "registry": a.registry}))


if __name__ == "__main__":
    main()
