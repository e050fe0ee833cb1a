#!/usr/bin/env bash
# bench/scan_batch.sh [N]: `recital scan --jsonl` throughput (outputs/s), written
# to bench/RESULTS.md (section "Scan batch throughput"); raw lines in bench/results/.
#
# N (default 100000) outputs are generated with a fixed seed by batch_outputs.py
# (80-240 words each, a quarter quoting 30-120 words of the bundled sample prose)
# and scanned against the bundled sample index (prose and code, built once in the
# work dir) under the built-in policy, with 1 thread and with one per core; the
# results go to /dev/null, the summary line (outputs/s) is what is recorded.
# RECITAL_BIN names a release binary to use instead of building one.
source "$(dirname "$0")/common.sh"
N=${1:-100000}
if [ -n "${RECITAL_BIN:-}" ]; then
  BIN=$RECITAL_BIN # a release binary built before (no build here)
else
  cargo build --release -q -p recital --bin recital
  BIN=$CARGO_TARGET_DIR/release/recital
fi

idx=$WORK/idx-sample
if ! "$BIN" index stats --index "$idx" >/dev/null 2>&1; then
  rm -rf "$idx"
  "$BIN" index build --index "$idx" --rights data/sample/rights.jsonl --json \
    data/sample/prose data/sample/code >"$WORK/sample.build.json"
fi
outputs=$WORK/batch-$N.jsonl
[ -s "$outputs" ] || python3 bench/batch_outputs.py --n "$N" --seed 0 data/sample/prose >"$outputs"
bytes=$(stat -c %s "$outputs")

rows=()
for threads in 1 "$(nproc)"; do
  echo "==> scanning $N outputs with $threads thread(s)" >&2
  "$BIN" scan --index "$idx" --jsonl "$outputs" --threads "$threads" >/dev/null 2>"$WORK/batch-$N-t$threads.log"
  line=$(grep 'output(s) in' "$WORK/batch-$N-t$threads.log")
  echo "$line" >&2
  rows+=("$threads|$line")
done
{
  echo "\`bench/scan_batch.sh $N\` on $(date -u +%Y-%m-%d): $N outputs ($(numfmt --to=iec "$bytes") of JSONL,"
  echo "seed 0, a quarter with a copy) against the bundled sample index, built-in policy; $(nproc) cores."
  echo
  echo "| threads | outputs | seconds | outputs/s | decisions (allow, annotate, redact, block) |"
  echo "|---:|---:|---:|---:|---|"
  for r in "${rows[@]}"; do
    python3 - "$r" <<'PY'
import re, sys
threads, line = sys.argv[1].split("|", 1)
m = re.search(r"(\d+) output\(s\) in ([\d.]+) s \((\d+) outputs/s\): (\d+) allow, (\d+) annotate, (\d+) redact, (\d+) block", line)
n, secs, rate, *acts = m.groups()
print(f"| {threads} | {int(n):,} | {secs} | {int(rate):,} | {', '.join(acts)} |")
PY
  done
} >bench/results/scan-batch.md
python3 bench/update_results.py "Scan batch throughput" bench/results/scan-batch.md
echo "==> bench/RESULTS.md updated (Scan batch throughput)" >&2
