#!/usr/bin/env bash
# bench/scale.sh [CORPUS_DIR] [N_OUTPUTS]: issue 18's scale bench. Results go to
# bench/results/scale-*.json and a summary on stderr.
#
# - Build: the corpus (default: the bench prose, bench/corpora.sh) indexed by
#   one `recital index build` process, and by recital.ray.build on a local Ray
#   cluster of 1 and of 2 workers (one partition per input file, then one
#   adopting commit). Reports MB/s, the index's bytes per corpus byte, and
#   count and scan latency on the result.
# - Batch scan: N_OUTPUTS (default 100000) outputs of about 1 KB
#   (bench/batch_outputs.py, fixed seed) through recital.ray.scan with 1 and 2
#   workers, checked to give the same spans.
# Everything runs in release builds: the CLI, and the wheel built by maturin.
source "$(dirname "$0")/common.sh"
CORPUS=${1:-$DATA/prose}
N=${2:-100000}
cargo build --release -q -p recital --bin recital
BIN=$CARGO_TARGET_DIR/release/recital
PY="$(MATURIN_PEP517_ARGS=--release scripts/install-test-python.sh)"
outputs=$WORK/scale-outputs-$N.jsonl
[ -s "$outputs" ] || python3 bench/batch_outputs.py --n "$N" --seed 0 "$CORPUS" >"$outputs"
"$PY" bench/scale.py --bin "$BIN" --corpus "$CORPUS" --outputs "$outputs" --work "$WORK/scale" \
  --out "bench/results/scale-$(date -u +%Y%m%dT%H%M%SZ).json"
