#!/usr/bin/env bash
# bench/scale.sh [COPIES] [N_OUTPUTS]: issue 18's scale bench. Raw results go to
# bench/results/scale-*.json, the summary to bench/RESULTS.md ("Scale: ..."):
#
# - Corpus: COPIES (default 16: 4.5 GB of text; 36 make 10 GB) letter-permuted
#   copies of the bench prose (bench/corpora.sh, 279 MB of real text), made by
#   scale_corpus.py as zstd JSONL, one file per copy (about a quarter of the text
#   bytes on disk).
# - Build: one `recital index build` process, and recital.ray.build on a local Ray
#   cluster of 1 and of 2 workers (FILES_PER_PARTITION files per partition,
#   default 2, then one adopting commit). MB/s of text, the index's bytes per
#   corpus byte, peak RSS of the single build, the adopt step's time; count and
#   4 KB scan latency on each result, and the counts of 1,000 sampled phrases,
#   which must be the same on all three.
# - Batch scan: N_OUTPUTS (default 100000) outputs of about 1 KB
#   (batch_outputs.py, fixed seed, a quarter quoting the real prose) through
#   recital.ray.scan with 1 and 2 workers and `recital scan --jsonl` with 1 and 2
#   threads, against the single-process index; the spans are compared.
# BUILDS_ONLY=1 skips the first-use timing and the batch scans (a smaller corpus
# then fits the Ray builds into the time and disk at hand); each kind of run has
# its own section.
# Disk: the corpus plus one index at a time (about 1.64 bytes per text byte):
# 10 GB of text needs about 19 GB free.
# Everything runs in release builds: the CLI, and the Python package built by
# maturin --release (into RECITAL_BENCH_PY's environment when that names a python
# that has recital's test packages, else into the test environment).
source "$(dirname "$0")/common.sh"
COPIES=${1:-16}
N=${2:-100000}
PER_PART=${FILES_PER_PARTITION:-2}
cargo build --release -q -p recital --bin recital
BIN=$CARGO_TARGET_DIR/release/recital
if [ -n "${RECITAL_BENCH_PY:-}" ]; then
  PY=$RECITAL_BENCH_PY
  PATH="$(dirname "$PY"):$PATH" MATURIN_PEP517_ARGS="--profile release" "$PY" -m pip install --quiet \
    --disable-pip-version-check --no-build-isolation --no-deps --ignore-installed ./crates/recital-py >&2
else
  PY="$(MATURIN_PEP517_ARGS="--profile release" scripts/install-test-python.sh)"
fi
corpus=$WORK/scale-corpus
nice python3 bench/scale_corpus.py --copies "$COPIES" "$DATA/prose" "$corpus" >&2
outputs=$WORK/scale-outputs-$N.jsonl
[ -s "$outputs" ] || python3 bench/batch_outputs.py --n "$N" --seed 0 "$DATA/prose" >"$outputs"
raw=bench/results/scale-$(date -u +%Y%m%dT%H%M%SZ).json
if [ -n "${BUILDS_ONLY:-}" ]; then
  only=(--builds-only) section="Scale: builds on Ray with 1 and 2 workers"
else
  only=() section="Scale: a large build, first use and batch scans"
fi
"$PY" bench/scale.py --bin "$BIN" --corpus "$corpus" --outputs "$outputs" --work "$WORK/scale" \
  --files-per-partition "$PER_PART" "${only[@]}" --out "$raw" >/dev/null
python3 bench/summarise_scale.py "$raw" >bench/results/scale.md
python3 bench/update_results.py "$section" bench/results/scale.md
echo "==> bench/RESULTS.md updated ($section); raw: $raw" >&2
