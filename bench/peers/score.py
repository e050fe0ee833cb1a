#!/usr/bin/env python3
"""score.py ACC.jsonl [PREDS.jsonl] > SCORES.json

One scorer for every tool on the accuracy suite's outputs (bench/peers
`accuracy`). Characters are Unicode scalar values that are not whitespace.
Positive: inside a copied excerpt, except text the perturbation wrote
(rewritten or added comments). Negative: everything else (held-out text,
connective sentences, fences), except held-out text that the indexed part
contains verbatim (`dont_care`, neither). Unlike bench/accuracy.sh, flagged
held-out text that is a verified near-duplicate of an indexed document counts
as a false positive here, for every tool (the peers report no sources to
verify), so recital's precision is lower than in the "Detection accuracy"
section. Per class and tool: TP, FP, FN, P, R, F1, flagged share of negatives.
"""
import json, sys
from collections import defaultdict

import numpy as np

rows = [json.loads(l) for l in open(sys.argv[1])]
extra = [json.loads(l) for l in open(sys.argv[2])] if len(sys.argv) > 2 else [{} for _ in rows]
tally = defaultdict(lambda: defaultdict(lambda: np.zeros(4, dtype=np.int64)))  # class -> tool -> tp fp fn neg
secs = defaultdict(float)


def mask(n, ranges):
    m = np.zeros(n, dtype=bool)
    for s, e in ranges:
        m[max(0, s):min(n, e)] = True
    return m


for r, x in zip(rows, extra):
    text = r["text"]
    b = text.encode()
    n = len(b)
    # byte offset of each non-whitespace character
    starts = []
    off = 0
    for c in text:
        if not c.isspace():
            starts.append(off)
        off += len(c.encode())
    idx = np.asarray(starts, dtype=np.int64)
    pos = mask(n, r["pos"])[idx]
    neither = (mask(n, r["new"]) | mask(n, r["dc"]))[idx]
    P = pos & ~neither
    N = ~pos & ~neither
    preds = dict(r["pred"])
    preds.update(x)
    for tool, ranges in preds.items():
        f = mask(n, ranges)[idx]
        tally[r["class"]][tool] += np.array([(P & f).sum(), (N & f).sum(), (P & ~f).sum(), N.sum()])
    for tool, s in r.get("secs", {}).items():
        secs[tool] += s

out = {"classes": {}, "secs": secs, "outputs": len(rows)}
for cls, tools in tally.items():
    out["classes"][cls] = {}
    for tool, (tp, fp, fn, neg) in tools.items():
        p = tp / (tp + fp) if tp + fp else float("nan")
        rc = tp / (tp + fn) if tp + fn else float("nan")
        f1 = 2 * p * rc / (p + rc) if tp else (0.0 if tp + fn else float("nan"))
        out["classes"][cls][tool] = {"tp": int(tp), "fp": int(fp), "fn": int(fn), "neg": int(neg), "P": p, "R": rc,
                                     "F1": f1, "flagged_neg": fp / neg if neg else float("nan")}
json.dump(out, sys.stdout, indent=1)
