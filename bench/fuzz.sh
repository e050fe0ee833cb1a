#!/usr/bin/env bash
# Long fuzzing runs: every target of fuzz/ for SECONDS (default 450: the eight
# targets fuzz for an hour in all), one after the other, each from its
# committed seeds plus the corpus earlier runs grew (kept in the fuzz target
# directory). A target that crashes is recorded with its input
# (fuzz/artifacts/<target>/) and the run goes on to the next.
#
#   nice -n 19 bench/fuzz.sh [SECONDS] [TARGET...]
#
# Writes the "Fuzzing" section of bench/RESULTS.md: per target the seconds,
# executions, executions per second, coverage (libFuzzer's edge count `cov`
# and feature count `ft`), the corpus it ends with, and crashes. A target's
# row stays until that target is run again (rows in $WORK/fuzz/rows/), so
# one target can be rerun after a fix.
source "$(dirname "$0")/common.sh"
secs="${1:-450}"
shift || true
if [ "$#" -gt 0 ]; then
  targets=("$@")
else
  targets=()
  for f in fuzz/fuzz_targets/*.rs; do targets+=("$(basename "$f" .rs)"); done
fi
scripts/install-test-fuzz.sh
export CARGO_TARGET_DIR="${RECITAL_FUZZ_TARGET_DIR:-$CARGO_TARGET_DIR/fuzz}"
cargo fuzz build --fuzz-dir fuzz --sanitizer none
bin="$CARGO_TARGET_DIR/x86_64-unknown-linux-gnu/release"
# The targets' scratch files (indexes, a server's database), removed at the end.
RECITAL_FUZZ_SCRATCH="$(mktemp -d -p /dev/shm recital-fuzz.XXXXXX 2>/dev/null || mktemp -d)"
export RECITAL_FUZZ_SCRATCH
trap 'rm -rf "$RECITAL_FUZZ_SCRATCH"' EXIT
out="$WORK/fuzz"
mkdir -p "$out"
mkdir -p "$out/rows"
for t in "${targets[@]}"; do
  work="$CARGO_TARGET_DIR/corpus/$t"
  art="fuzz/artifacts/$t"
  mkdir -p "$work" "$art"
  log="$out/$t.log"
  before=$(find "$art" -type f | wc -l)
  t0=$(date +%s)
  echo "fuzz: $t for ${secs}s" >&2
  "$bin/$t" "$work" "fuzz/corpus/$t" -max_total_time="$secs" -timeout=20 -rss_limit_mb=3072 \
    -max_len=8192 -print_final_stats=1 -artifact_prefix="$art/" >"$log" 2>&1 || true
  took=$(( $(date +%s) - t0 ))
  crashes=$(( $(find "$art" -type f | wc -l) - before ))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  last=$(grep -E "^#[0-9]+.*cov: " "$log" | tail -n 1)
  cov=$(sed -n 's/.*cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corp=$(sed -n 's/.* corp: \([^ ]*\).*/\1/p' <<<"$last")
  rate=$(( ${execs:-0} / (took > 0 ? took : 1) ))
  row="| \`$t\` | $(date -u +%Y-%m-%d) | $took | ${execs:-?} | $rate | ${cov:-?} | ${ft:-?} | ${corp:-?} | $crashes |"
  echo "$row" >"$out/rows/$t.md"
  echo "$row" >&2
done
table="$out/fuzz.md"
{
  echo "\`bench/fuzz.sh\`: stable toolchain, libFuzzer through cargo-fuzz \`--sanitizer none\`, \`nice -n 19\` on a shared 2-core VM (executions per second are what idle CPU allowed). \`cov\`: edges covered, \`ft\`: libFuzzer features, at the end of the run; a crash stops a target's run (its seconds are then short)."
  echo
  echo "| target | date | seconds | executions | exec/s | cov | ft | corpus | crashes |"
  echo "|---|---|---|---|---|---|---|---|---|"
  cat "$out"/rows/*.md
} >"$table"
python3 bench/update_results.py "Fuzzing" "$table"
