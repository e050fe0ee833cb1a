#!/usr/bin/env python3
"""code_peers.py ACC.jsonl SUMMARY.json WORK MAX_REFS SEED OUT_PREDS.jsonl OUT_INFO.json

Dolos and copydetect on the generated code outputs of the accuracy suite
(bench/peers `accuracy`), pairwise against the suite's indexed source files:
each output (fences and connective sentences included, as a model would
write it) is a .c file; the references are the indexed files of the corpus,
or, when MAX_REFS > 0, the files the outputs copy from plus randomly chosen
other indexed files up to MAX_REFS (a smaller haystack than recital and the
Bloom filter search, which favours the peers). Predicted: every region of an
output that a peer pairs with any reference file.
"""
import json, os, random, subprocess, sys, time

import numpy as np

acc, summary, work, max_refs, seed, out_preds, out_info = sys.argv[1:8]
max_refs, seed = int(max_refs), int(seed)
S = json.load(open(summary))
rows = [json.loads(l) for l in open(acc)]
ref_dir = S["ref_dir"]
all_refs = []
for root, _, files in os.walk(ref_dir):
    for f in files:
        all_refs.append(os.path.relpath(os.path.join(root, f), ref_dir))
all_refs.sort()
all_refs = [r for r in all_refs if r.endswith((".c", ".h"))]
if max_refs > 0:
    need = sorted({d for r in rows for d in r["docs"] if d.endswith((".c", ".h"))})
    rest = sorted(set(all_refs) - set(need))
    random.Random(seed).shuffle(rest)
    refs = need + rest[: max(0, max_refs - len(need))]
else:
    refs = all_refs
refs = [os.path.join(ref_dir, r) for r in refs]
os.makedirs(os.path.join(work, "out"), exist_ok=True)
outs = []
for k, r in enumerate(rows):
    p = os.path.join(work, "out", f"{k}.c")
    with open(p, "w", encoding="utf-8") as f:
        f.write(r["text"])
    outs.append(p)
info = {"refs": len(refs), "ref_bytes": sum(os.path.getsize(p) for p in refs), "outputs": len(outs),
        "all_indexed": len(all_refs)}

def byte_ranges_from_chars(text, spans):
    """Character ranges -> merged byte ranges of the UTF-8 text."""
    cb = np.cumsum([0] + [len(c.encode()) for c in text])
    out = []
    for s, e in sorted(spans):
        s, e = int(cb[min(s, len(text))]), int(cb[min(e, len(text))])
        if out and s <= out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return out

preds = [dict() for _ in rows]

# copydetect: CodeFingerprint per file (its defaults: noise threshold k = 25, window 1,
# filtering on, language forced to C), compare_files for every (output, reference)
# pair that shares a fingerprint (pairs sharing none have no copied slices).
try:
    from copydetect import CodeFingerprint, compare_files
    t0 = time.perf_counter()
    ref_fp = []
    for p in refs:
        try:
            ref_fp.append(CodeFingerprint(p, 25, 1, language="c"))
        except Exception:
            ref_fp.append(None)
    inv = {}
    for j, fp in enumerate(ref_fp):
        if fp is None:
            continue
        for h in fp.hashes:
            inv.setdefault(h, []).append(j)
    t1 = time.perf_counter()
    for k, p in enumerate(outs):
        fp = CodeFingerprint(p, 25, 1, language="c")
        cand = sorted({j for h in fp.hashes for j in inv.get(h, ())})
        spans = []
        for j in cand:
            _, _, (s1, _) = compare_files(fp, ref_fp[j])
            if len(s1):
                spans.extend(zip(s1[0].tolist(), s1[1].tolist()))
        preds[k]["copydetect"] = byte_ranges_from_chars(rows[k]["text"], spans)
    t2 = time.perf_counter()
    info["copydetect"] = {"status": "ok", "prep_s": t1 - t0, "query_s": t2 - t1}
except Exception as e:  # reported as failed
    info["copydetect"] = {"status": f"failed: {type(e).__name__}: {e}"}

# Dolos: one analysis over references + outputs (node, @dodona/dolos-lib).
node_dir = os.environ.get("PEERS_NODE")
try:
    lst = os.path.join(work, "dolos-files.txt")
    with open(lst, "w") as f:
        f.write("\n".join(refs + outs) + "\n")
    res_path = os.path.join(work, "dolos.json")
    t0 = time.perf_counter()
    # ES modules resolve packages from the script's own directory: run a copy placed in node_dir
    import shutil
    shutil.copy(os.path.join(os.path.dirname(os.path.abspath(__file__)), "dolos.mjs"), os.path.join(node_dir, "dolos.mjs"))
    r = subprocess.run(["node", "dolos.mjs", lst, res_path], cwd=node_dir, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        raise RuntimeError(r.stderr.strip().splitlines()[-1] if r.stderr.strip() else f"exit {r.returncode}")
    D = json.load(open(res_path))
    for k, p in enumerate(outs):
        text = rows[k]["text"]
        lines = text.split("\n")
        starts = np.cumsum([0] + [len(l) + 1 for l in lines])
        spans = []
        for sr, sc, er, ec in D["regions"].get(p, []):
            spans.append((int(starts[min(sr, len(lines))] + sc), int(starts[min(er, len(lines))] + ec)))
        preds[k]["dolos"] = byte_ranges_from_chars(text, spans)
    info["dolos"] = {"status": "ok", "wall_s": wall, "analyze_s": D["analyze_s"], "fragments_s": D["fragments_s"], "pairs": D["pairs"]}
except Exception as e:
    info["dolos"] = {"status": f"failed: {type(e).__name__}: {e}"}

with open(out_preds, "w") as f:
    for p in preds:
        f.write(json.dumps(p) + "\n")
json.dump(info, open(out_info, "w"))
print(json.dumps(info))
