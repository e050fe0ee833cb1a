#!/usr/bin/env python3
"""infini-gram (and Rusty-DAWG) side of bench/run.sh. Run with the peers' venv
from $PEERS/ig (the indexer needs ./gpt2 and ./rust_indexing there).

  ig.py prepare CORPUS_DIR DATA_DIR          # symlink the corpus JSONL (not rights.jsonl); print corpus text bytes
  ig.py queries INDEX OUT.jsonl K SEED       # K whole-word GPT-2 token spans of 1, 8 and 32 tokens, with their text
  ig.py count INDEX QUERIES ROUNDS CFG       # JSONL per query: count, latency of engine.count (µs)
  ig.py outputs CORPUS_DIR POOL_DIR OUT.jsonl SPEC SEED   # span-tracing outputs: SPEC = 1024:20,4096:20,65536:4
  ig.py spans INDEX OUTPUTS ROUNDS S:L       # JSONL per output: maximal spans by creativity(), attribute(), and
                                             #   the OLMoTrace binary search over count() (first S outputs per size
                                             #   up to 4 KB, first L of larger ones)
  ig.py dawg INDEX OUT.json [MAX_TOKENS]     # Rusty-DAWG (pip rusty-dawg) built over the same GPT-2 tokens
"""
import json
import os
import random
import resource
import sys
import time

import numpy as np

EOS = 50256
SEP = 65535
CFGS = {
    # 2.6.0 wheel defaults (prefetch depths 1/3/3)
    "shipped": dict(),
    # upstream HEAD defaults; the fair in-RAM configuration (anchor §2.2)
    "noprefetch": dict(ds_prefetch_depth=0, sa_prefetch_depth=0, od_prefetch_depth=0),
}


def tokenizer():
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import transformers

    transformers.utils.logging.set_verbosity(40)
    here = os.environ.get("IG_DIR", os.getcwd())
    return transformers.AutoTokenizer.from_pretrained(os.path.join(here, "gpt2"), use_fast=True,
                                                      add_bos_token=False, add_eos_token=False)


def engine(index, cfg):
    from infini_gram.engine import InfiniGramEngine

    return InfiniGramEngine(index_dir=index, eos_token_id=EOS, vocab_size=50257, version=4,
                            token_dtype="u16", **CFGS[cfg])


def pct(a, p):
    return float(np.percentile(np.asarray(a, dtype=float), p)) if len(a) else float("nan")


def corpus_files(d):
    return sorted(os.path.join(d, f) for f in os.listdir(d) if f.endswith(".jsonl") and f != "rights.jsonl")


def cmd_prepare(corpus, data):
    os.makedirs(data, exist_ok=True)
    for f in os.listdir(data):
        os.unlink(os.path.join(data, f))
    total = docs = 0
    for p in corpus_files(corpus):
        os.symlink(p, os.path.join(data, os.path.basename(p)))
        with open(p, encoding="utf-8") as fh:
            for line in fh:
                total += len(json.loads(line)["text"].encode("utf-8"))
                docs += 1
    print(json.dumps({"text_bytes": total, "docs": docs, "files": len(os.listdir(data))}))


def whole_word_starts(tok, vocab_tokens):
    """Token positions that start a word: the token begins with a space (Ġ) or newline (Ċ)."""
    starts = np.array([t.startswith("Ġ") or t.startswith("Ċ") for t in vocab_tokens] + [True] * (65536 - len(vocab_tokens)))
    return starts


def cmd_queries(index, out, k, seed):
    t = tokenizer()
    toks = np.fromfile(os.path.join(index, "tokenized.0"), dtype=np.uint16)
    vocab = t.convert_ids_to_tokens(list(range(len(t))))
    spacey = np.array([v.startswith("Ġ") for v in vocab] + [False] * (65536 - len(vocab)))
    boundary = np.array([v.startswith("Ġ") or v.startswith("Ċ") for v in vocab] + [True] * (65536 - len(vocab)))
    alnum = np.array([v.lstrip("Ġ").isalnum() for v in vocab] + [False] * (65536 - len(vocab)))
    rng = np.random.default_rng(seed)
    with open(out, "w") as fh:
        for n in (1, 8, 32):
            got = 0
            seen = set()
            while got < k:
                p = int(rng.integers(0, len(toks) - n - 1))
                q = toks[p:p + n]
                # a whole-word span: starts with a space-prefixed word token, the next token starts a
                # new word, no document separator, and (1-token) a word rather than punctuation
                if (q == SEP).any() or not spacey[q[0]] or not boundary[toks[p + n]]:
                    continue
                if n == 1 and not alnum[q[0]]:
                    continue
                ids = [int(x) for x in q]
                if tuple(ids) in seen:
                    continue
                seen.add(tuple(ids))
                text = t.decode(ids)
                if "\n" in text.strip() and n < 8:
                    continue
                if not any(ch.isalnum() for ch in text):  # whitespace/punctuation runs: no words to count
                    continue
                fh.write(json.dumps({"n": n, "ids": ids, "text": text.strip()}) + "\n")
                got += 1


def cmd_count(index, queries, rounds, cfg):
    e = engine(index, cfg)
    Q = [json.loads(l) for l in open(queries)]
    counts = [e.count(input_ids=q["ids"])["count"] for q in Q]  # warm-up pass
    lat = [[] for _ in Q]
    raw = [[] for _ in Q]
    order = list(range(len(Q)))
    for r in range(rounds):
        random.Random(r).shuffle(order)
        for i in order:
            ids = Q[i]["ids"]
            t0 = time.perf_counter_ns()
            c = e.count(input_ids=ids)["count"]
            t1 = time.perf_counter_ns()
            e.engine.count(ids)  # the C++ call alone, without the Python wrapper's checks
            t2 = time.perf_counter_ns()
            assert c == counts[i]
            lat[i].append((t1 - t0) / 1e3)
            raw[i].append((t2 - t1) / 1e3)
    for i, q in enumerate(Q):
        print(json.dumps({"i": i, "n": q["n"], "count": counts[i], "lat_us": lat[i], "raw_us": raw[i]}))


def excerpt(text, size, rng):
    if len(text) <= size:
        return text
    s = rng.randrange(0, len(text) - size)
    while s < len(text) and not text[s].isspace():
        s += 1
    e = min(len(text), s + size)
    while e < len(text) and not text[e].isspace():
        e += 1
    return text[s:e].strip()


def cmd_outputs(corpus, pool, out, spec, seed):
    """Outputs of about SIZE bytes: excerpts of ~512 bytes, alternately from an indexed
    document (> 2 KB) and from the out-of-index pool (C files of linux-c-small, which the
    prose index does not contain), joined by blank lines (the anchor's recipe)."""
    rng = random.Random(seed)
    docs = []
    for p in corpus_files(corpus):
        with open(p, encoding="utf-8") as fh:
            for line in fh:
                t = json.loads(line)["text"]
                if len(t) > 2000:
                    docs.append(t)
    pool_files = []
    for root, _, files in os.walk(pool):
        for f in files:
            if f.endswith(".c"):
                pool_files.append(os.path.join(root, f))
    pool_files.sort()
    with open(out, "w") as fh:
        for item in spec.split(","):
            size, k = (int(x) for x in item.split(":"))
            for j in range(k):
                parts, n = [], 0
                while n < size:
                    if len(parts) % 2 == 0:
                        src = rng.choice(docs)
                    else:
                        with open(rng.choice(pool_files), encoding="utf-8", errors="replace") as f:
                            src = f.read().replace("\0", " ")
                    x = excerpt(src, 512, rng)
                    if not x:
                        continue
                    parts.append(x)
                    n = len("\n\n".join(parts).encode())
                text = "\n\n".join(parts).encode()[:size].decode("utf-8", "ignore")
                fh.write(json.dumps({"size": size, "j": j, "text": text}) + "\n")


def maximal(Ls):
    spans, last = [], 0
    for i, L in enumerate(Ls):
        if L > 0 and i + L > last:
            spans.append((i, i + L))
            last = i + L
    return spans


def cmd_spans(index, outputs, rounds, a_max):
    """a_max = "SMALL:LARGE": the scripted binary search runs on the first SMALL outputs of
    each size up to 4 KB and the first LARGE of bigger ones (it takes ~1.5 min per 64 KB)."""
    a_small, a_large = (int(x) for x in a_max.split(":"))
    e = engine(index, "noprefetch")
    t = tokenizer()
    outs = [json.loads(l) for l in open(outputs)]
    done_a = {}
    for k, o in enumerate(outs):
        enc = t(o["text"], return_offsets_mapping=True)
        toks, offs = enc["input_ids"], enc["offset_mapping"]
        btext = o["text"]
        # byte offsets from character offsets
        cb = np.cumsum([0] + [len(c.encode()) for c in btext])
        rec = {"i": k, "size": o["size"], "bytes": len(btext.encode()), "tokens": len(toks)}
        # B: creativity() — longest match end at every position (one SA search + neighbour LCP per position)
        ms = []
        for _ in range(rounds):
            t0 = time.perf_counter()
            rs = e.creativity(input_ids=toks)["rs"]
            ms.append((time.perf_counter() - t0) * 1e3)
        LB = [r - i for i, r in enumerate(rs)]
        rec["creativity_ms"] = ms
        # C8: attribute(min_len=8) — OLMoTrace's entry point, spans >= 8 tokens with doc pointers
        ms = []
        for _ in range(rounds):
            t0 = time.perf_counter()
            r8 = e.attribute(input_ids=toks, delim_ids=[], min_len=8, max_cnt=10**12, enforce_bow=False)
            ms.append((time.perf_counter() - t0) * 1e3)
        rec["attribute8_ms"] = ms
        spans = maximal(LB)
        ge8 = [(l, r) for l, r in spans if r - l >= 8]
        c8 = [(s["l"], s["r"]) for s in r8["spans"]]
        rec["attribute8_agrees"] = c8 == ge8
        # A: the OLMoTrace algorithm as a script over count(): binary search per position,
        # starting from the lower bound prev_end - i (a suffix of a match also matches)
        if done_a.get(o["size"], 0) < (a_small if o["size"] <= 4096 else a_large):
            done_a[o["size"]] = done_a.get(o["size"], 0) + 1
            n = len(toks)
            LA, calls, prev = [], 0, 0
            t0 = time.perf_counter()
            for i in range(n):
                lo, hi = max(0, prev - i), n - i
                while lo < hi:
                    mid = (lo + hi + 1) // 2
                    calls += 1
                    if e.count(input_ids=toks[i:i + mid])["count"] > 0:
                        lo = mid
                    else:
                        hi = mid - 1
                LA.append(lo)
                prev = i + lo
            rec["scriptA_ms"] = (time.perf_counter() - t0) * 1e3
            rec["scriptA_calls"] = calls
            rec["scriptA_agrees"] = LA == LB
        rec["spans"] = len(spans)
        rec["spans_ge8"] = len(ge8)
        rec["longest"] = max((r - l for l, r in spans), default=0)
        rec["ge8_bytes"] = [[int(cb[offs[l][0]]), int(cb[offs[r - 1][1]])] for l, r in ge8]
        print(json.dumps(rec), flush=True)


def cmd_dawg(index, out, max_tokens=None):
    import rusty_dawg

    toks = np.fromfile(os.path.join(index, "tokenized.0"), dtype=np.uint16)
    if max_tokens:
        toks = toks[:max_tokens]
    ids = toks.astype(np.int64)
    ids[toks == SEP] = EOS  # document separators -> <|endoftext|>
    ids = ids.tolist()
    def rss_kib():
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    before = rss_kib()
    t0 = time.perf_counter()
    c0 = time.process_time()
    d = rusty_dawg.Dawg()
    d.build(ids)
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0
    after = rss_kib()
    # check: counts of a few corpus n-grams through the DAWG's transitions
    res = {"tokens": len(ids), "build_s": wall, "cpu_s": cpu, "nodes": d.node_count(), "edges": d.edge_count(),
           "rss_before_kib": before, "rss_after_kib": after,
           "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}
    json.dump(res, open(out, "w"))
    print(json.dumps(res))


if __name__ == "__main__":
    cmd, a = sys.argv[1], sys.argv[2:]
    if cmd == "prepare":
        cmd_prepare(*a)
    elif cmd == "queries":
        cmd_queries(a[0], a[1], int(a[2]), int(a[3]))
    elif cmd == "count":
        cmd_count(a[0], a[1], int(a[2]), a[3])
    elif cmd == "outputs":
        cmd_outputs(a[0], a[1], a[2], a[3], int(a[4]))
    elif cmd == "spans":
        cmd_spans(a[0], a[1], int(a[2]), a[3])
    elif cmd == "dawg":
        cmd_dawg(a[0], a[1], int(a[2]) if len(a) > 2 else None)
    else:
        sys.exit(__doc__)
