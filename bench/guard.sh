#!/usr/bin/env bash
# bench/guard.sh: the decode-time guard's added time per token (issue 20:
# target <= 1 ms p99, warm) against llama.cpp's own step for SmolLM2-135M,
# side by side in one process (bench/guard.py). The Python package is built
# in release for this (maturin's default; scripts/install-test-python.sh builds the dev profile
# for the tests; the next test run puts that back). Written to
# bench/results/guard.json and bench/RESULTS.md (section "Decode-time guard").
source "$(dirname "$0")/common.sh"
PY=$(scripts/install-test-python.sh)
GGUF=$(scripts/install-test-model.sh)
PATH="$(dirname "$PY"):$PATH" MATURIN_PEP517_ARGS="" \
  "$PY" -m pip install --quiet --disable-pip-version-check --no-build-isolation --no-deps --force-reinstall ./crates/recital-py >&2
"$PY" bench/guard.py "$GGUF" bench/results/guard.json
# The same two replays in Rust (the guard alone, no Python call in between),
# ten timed rounds each: bench/results/guard_rust.json.
"$PY" bench/guard_dump.py "$GGUF" "$WORK/guard"
cargo build --release -q -p recital-guard --example bench_guard
"$CARGO_TARGET_DIR/release/examples/bench_guard" "$WORK/guard" /usr/share/common-licenses/GPL-3 10 |
  tee bench/results/guard_rust.json
