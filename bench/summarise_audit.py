#!/usr/bin/env python3
"""Writes the "Audit" section of bench/RESULTS.md from bench/audit.sh's outputs."""
import json
import pathlib
import subprocess
import sys

mode, work = sys.argv[1], pathlib.Path(sys.argv[2])
lab_s, early_s, late_s, http_s, gguf_s = map(float, sys.argv[3:8])
rep = {d: json.loads((work / d / "report.json").read_text()) for d in ["early", "late", "http", "gguf"]}
lab = json.loads((work / "lab" / "lab.json").read_text())
sh = lambda *a: subprocess.run(a, capture_output=True, text=True).stdout.strip()
commit = sh("git", "rev-parse", "--short", "HEAD") + (" (with uncommitted changes)" if sh("git", "status", "--porcelain", "--untracked-files=no") else "")
machine = sh("python3", "bench/machine_info.py") or "2 cores"
cfg = lab["config"]
out = []
out.append(f"Run {sh('date', '-u', '+%Y-%m-%d')} on {machine}; recital {commit}, release build with `--features candle`, "
           f"`RAYON_NUM_THREADS=1`. Regenerate with `bench/audit.sh {mode}`.\n")
out.append(f"**Canary lab** (research §10): {cfg['background_lines']} grammar lines + {cfg['per_bucket']} canaries per bucket "
           f"(`the pin of NAME is d d d d d d d d .`, |R| = 10^8), {cfg['non_members']} never-inserted canaries; GPT-2 d={cfg['d_model']}, "
           f"{cfg['layers']} layers, context {cfg['context']}, {lab['training']['parameters']:,} parameters, {lab['tokens']:,} tokens/epoch; "
           f"{cfg['epochs']} epochs ({lab['training']['steps']} steps) in {lab_s:.0f} s including corpus, index and saving; "
           f"final training loss {lab['training']['epoch_loss'][-1]:.3f} nats/token.\n")
out.append("| model | copies | extraction | mean memorisation score | rank exposure (mean, cap log2 refs) | extrapolated exposure (median, bits) | membership AUC (LOSS) |")
out.append("|---|---|---|---|---|---|---|")
for name, key in [("epoch 3", "early"), (f"epoch {cfg['epochs']}", "late")]:
    for b in rep[key]["by_duplicates"]:
        e = b["extraction"]
        f = lambda x, d=2: "—" if x is None else f"{x:.{d}f}"
        out.append(f"| {name} | {b['bucket']} | {e['k']}/{e['n']} = {e['rate']:.2f} | {b['mean_memorisation_score']:.3f} | "
                   f"{f(b['mean_rank_exposure'])} | {f(b['median_extrapolated_exposure'])} | {f(b['membership_auc'], 3)} |")
for name, key in [("epoch 3", "early"), (f"epoch {cfg['epochs']}", "late")]:
    base = rep[key].get("non_member_median_exposure")
    out.append(f"\nNever-inserted canaries, {name}: median extrapolated exposure {base:.2f} bits; extraction "
               f"{rep[key]['extraction']['non_members']['k']}/{rep[key]['extraction']['non_members']['n']}.")
out.append("\nShapes against research §10 (pilot) and the anchors: extraction is 0 for few copies and climbs steeply with copies; "
           "exposure rises with insertions (rank exposure saturates at log2 of the references, the skew-normal extrapolation does not); "
           "membership AUC is near 0.5 at one copy after 3 epochs and rises with copies and epochs.\n")
out.append("**Speed** (probes/s; each probe: greedy generation, scoring with per-position μ/σ, zlib, Min-K%/Min-K%++, "
           "output-side index match, and for canaries ranking against 1,000 alternatives plus a skew-normal MLE fit):\n")
out.append("| model | backend | probes | wall time | probes/s |")
out.append("|---|---|---|---|---|")
n_lab = rep["late"]["probes"]
out.append(f"| canary-lab GPT-2 ({lab['training']['parameters']:,} params), epoch 3 | candle-gpt2, in-process | {n_lab} | {early_s:.1f} s | {n_lab / early_s:.2f} |")
out.append(f"| canary-lab GPT-2, final | candle-gpt2, in-process | {n_lab} | {late_s:.1f} s | {n_lab / late_s:.2f} |")
n_http = rep["http"]["probes"]
out.append(f"| canary-lab GPT-2, final, over HTTP (`recital model serve`, 4 in flight, 1,000 alternatives scored one request each) | openai endpoint | {n_http} | {http_s:.1f} s | {n_http / http_s:.2f} |")
g = rep["gguf"]
out.append(f"| {g['model']['architecture']} Q4_1, {g['config']['prefix_tokens']}+{g['config']['suffix_tokens']} tokens, no sweep | candle-gguf, whole-sequence scoring, KV-cache generation | {g['probes']} | {gguf_s:.1f} s | {g['probes'] / gguf_s:.3f} |")
ge = g["extraction"]["overall"]
out.append(f"\nSmolLM2 on the sample corpus (public-domain prose): {ge['k']}/{ge['n']} continuations reproduced exactly, mean memorisation score "
           f"{g['extraction']['mean_memorisation_score']:.3f}; the report's summary says so and claims no memorisation (negative control). "
           "No GPU was available to this session, so candle's CUDA backend (`--features cuda`) is not measured here.")
print("\n".join(out))
