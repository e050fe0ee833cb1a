#!/usr/bin/env bash
# Runs the coverage-guided fuzz targets of fuzz/ (cargo fuzz, libFuzzer) for
# SECONDS each, one after the other, starting from the seeds committed in
# fuzz/corpus/<target>/ plus whatever earlier runs found (kept under the fuzz
# target directory, not in the repository).
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]      # default 15 s, every target
#
# Exits non-zero at the first target that crashes, printing the input that
# did it (fuzz/artifacts/<target>/crash-*): turn it into a regression test in
# the crate that had the bug. scripts/test.sh runs a short pass;
# bench/fuzz.sh runs long ones and records them.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-15}"
shift || true
if [ "$#" -gt 0 ]; then
  targets=("$@")
else
  targets=()
  for f in fuzz/fuzz_targets/*.rs; do targets+=("$(basename "$f" .rs)"); done
fi

scripts/install-test-fuzz.sh
# Its own target directory: the fuzzer's instrumentation flags would
# otherwise rebuild the workspace's artifacts on every switch.
export CARGO_TARGET_DIR="${RECITAL_FUZZ_TARGET_DIR:-${CARGO_TARGET_DIR:-$PWD/target}/fuzz}"
cargo fuzz build --fuzz-dir fuzz --sanitizer none >&2
bin="$CARGO_TARGET_DIR/x86_64-unknown-linux-gnu/release"
# The targets' scratch files (indexes, a server's database), removed at the end.
RECITAL_FUZZ_SCRATCH="$(mktemp -d -p /dev/shm recital-fuzz.XXXXXX 2>/dev/null || mktemp -d)"
export RECITAL_FUZZ_SCRATCH
trap 'rm -rf "$RECITAL_FUZZ_SCRATCH"' EXIT

for t in "${targets[@]}"; do
  work="$CARGO_TARGET_DIR/corpus/$t"
  art="fuzz/artifacts/$t"
  mkdir -p "$work" "$art"
  log="$CARGO_TARGET_DIR/$t.log"
  echo "fuzz: $t for ${secs}s" >&2
  if ! "$bin/$t" "$work" "fuzz/corpus/$t" -max_total_time="$secs" -timeout=20 -rss_limit_mb=3072 \
      -max_len=8192 -print_final_stats=1 -artifact_prefix="$art/" >"$log" 2>&1; then
    tail -n 60 "$log" >&2
    echo "fuzz: $t FAILED (input in $art/)" >&2
    exit 1
  fi
  grep -E "^stat::number_of_executed_units|^stat::new_units_added|cov: " "$log" | tail -n 3 >&2
done
echo "fuzz: ${#targets[@]} targets passed, ${secs}s each" >&2
