#!/usr/bin/env python3
"""Writes the artefact bench/artefact.sh scans: SIZE_MB of random bytes
(os.urandom, in 4 MiB chunks) with passages of the bundled sample prose
planted at fixed places:

- every 64 MiB (chunk 8 of 16) a passage as UTF-8;
- every 128 MiB (chunk 16 of 32) a passage as UTF-16LE;
- every 256 MiB a gzip member (chunk 4 of 64) and a zstd member (chunk 36 of
  64) holding a passage between filler words.

Prints a JSON summary: size, and how many passages of each kind were planted.
Usage: artefact_make.py OUT SIZE_MB SAMPLE_DIR
"""
import gzip
import json
import os
import random
import subprocess
import sys

out, size_mb, sample = sys.argv[1], int(sys.argv[2]), sys.argv[3]
CHUNK = 4 << 20
texts = []
for sub in ("shakespeare", "kjv"):
    d = os.path.join(sample, "prose", sub)
    for name in sorted(os.listdir(d)):
        if name.endswith(".txt"):
            texts.append(open(os.path.join(d, name), encoding="utf-8").read())
rng = random.Random(7)


def passage():
    t = rng.choice(texts)
    at = rng.randrange(0, len(t) - 2000)
    at = t.index("\n", at) + 1
    end = t.index(" ", at + 500)
    return t[at:end]


def filler(n):
    words = ["zorp", "quix", "vell", "mandu", "trask", "oolem", "frin", "gabbet"]
    return " ".join(rng.choice(words) for _ in range(n))


planted = {"utf8": 0, "utf16": 0, "gzip": 0, "zstd": 0}
with open(out, "wb") as f:
    for i in range(size_mb * (1 << 20) // CHUNK):
        f.write(os.urandom(CHUNK))
        if i % 16 == 8:
            f.write(passage().encode())
            planted["utf8"] += 1
        if i % 32 == 16:
            f.write(passage().encode("utf-16-le"))
            planted["utf16"] += 1
        if i % 64 == 4:
            f.write(gzip.compress(f"{filler(20000)} {passage()} {filler(20000)}".encode()))
            planted["gzip"] += 1
        if i % 64 == 36:
            data = f"{filler(20000)} {passage()} {filler(20000)}".encode()
            f.write(subprocess.run(["zstd", "-q", "-c"], input=data, capture_output=True, check=True).stdout)
            planted["zstd"] += 1
print(json.dumps({"bytes": os.path.getsize(out), "planted": planted, "total": sum(planted.values())}))
