#!/usr/bin/env python3
"""The "Whole-sequence scoring" section of bench/RESULTS.md from bench_score's JSON
(one file per thread count)."""
import json
import subprocess
import sys

sys.path.insert(0, "bench")
from machine_info import machine  # noqa: E402

mode, paths = sys.argv[1], sys.argv[2:]
runs = [json.load(open(p)) for p in paths]
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
r0 = runs[0]
out = [
    f"Run on {machine()}; recital {commit}. Regenerate with `bench/score.sh {mode}`.",
    "",
    f"{r0['model']}, {r0['probes']} probes of {r0['prefix']}+{r0['suffix']} tokens cut from the bundled KJV text, "
    "all paths in one process on the same probes (`crates/recital-model/examples/bench_score.rs`). "
    "*stepped* is the replaced path: candle-transformers' quantised Llama fed the context, then one continuation "
    "token at a time with its KV cache (per-position μ/σ included, as before). *whole* is recital's own forward, "
    "one pass per probe (`score`); *batched* sends all probes through `score_probes`, which shares passes. "
    "*audit work* is the model's part of one audit probe: greedy generation of the suffix, then scoring it.",
    "",
    "| threads | stepped probes/s | whole probes/s | batched probes/s | batched ÷ stepped | audit work, stepped | audit work, new | ratio | max per-token Δ | max LOSS Δ |",
    "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
]
for r in runs:
    out.append(
        f"| {r['threads']} | {r['stepped_pps']:.3f} | {r['whole_pps']:.3f} | {r['batched_pps']:.3f} | "
        f"{r['batched_pps'] / r['stepped_pps']:.1f}× | {r['audit_stepped_pps']:.3f} | {r['audit_new_pps']:.3f} | "
        f"{r['audit_new_pps'] / r['audit_stepped_pps']:.1f}× | {r['max_token_diff']:.2e} | {r['max_loss_diff']:.2e} |"
    )
out.append("")
out.append(
    "The paths run one after the other in one process; on a shared machine (see the load average above) the load "
    "can change between them, and with 2 threads the stepped path, whose many small steps synchronise the threads "
    "often, loses more to other processes than the f32 passes do, so the 1-thread row is the fairer ratio."
)
out.append("")
out.append(
    "Δ: the new path's log-probabilities against the stepped path's on the same probes. On Q4_1 candle rounds "
    "each activation row to 8 bits before a quantised product, so two execution orders differ by more than float "
    "noise (the stepped path differs from itself by ~0.3 per token when the same tokens are split differently "
    "between prefill and steps); with the matrices dequantised the paths agree within 1e-4 "
    "(`crates/recital-model/tests/candle_gguf_f32.rs`)."
)
out.append("")
out.append(
    "Where the time goes. candle's CPU kernel for Q4_1 (like Q5_0 and Q5_1) is scalar, and a quantised product is "
    "compute-bound: one pass over 64 rows costs about what 64 single-token steps cost, so whole-sequence passes on "
    "the quantised matrices were barely faster than stepping (0.12 against 0.10 probes/s, one loaded core, measured "
    "by hand with `RECITAL_GGUF_KEEP_QUANTISED=1`). The gain comes from the whole-sequence pass together with "
    "dequantising the matrices to f32 when the model is loaded (SmolLM2: 540 MB), so that a pass is one f32 "
    "matrix product over many rows. Batching probes adds nothing more here: a 64-token pass already fills the "
    "product. The audit's per-probe work gains less than scoring because greedy generation stays sequential, one "
    "step per suffix token (each step reads every f32 weight once); it is now the larger part of that work."
)
print("\n".join(out))
