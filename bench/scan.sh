#!/usr/bin/env bash
# bench/scan.sh [quick|full]: scan latency on real corpora, written to
# bench/RESULTS.md (section "Scan latency"); raw JSON in bench/results/.
#
#   quick: the linux-c-small (C) and prose-small indexes; "novel" text is taken
#          from the rest of linux-c / prose (documents not in the -small subset)
#   full:  the linux-c and prose indexes; every document of linux-c / prose is
#          indexed, so "novel" text is the bundled sample C (data/sample/code/c)
#          and the Markdown of README.md, bench/README.md, data/sample/ and ../shared
#
# Indexes are reused from bench/index.sh's work dir (${RECITAL_BENCH_WORK}/idx-NAME)
# and built there when missing. Per index, the bench_scan example times scan()
# in-process on 1 KB, 4 KB and 64 KB outputs (warm p50/p99, cold open + scan,
# outputs/s with 1 and 2 threads); see crates/recital-detect/examples/bench_scan.rs.
source "$(dirname "$0")/common.sh"
MODE=${1:-quick}

case "$MODE" in
  quick) NAMES=(linux-c-small prose-small) ;;
  full) NAMES=(linux-c prose) ;;
  *) echo "usage: bench/scan.sh quick|full" >&2; exit 2 ;;
esac
for n in "${NAMES[@]}"; do
  [ -e "$DATA/$n" ] || { bash bench/corpora.sh; break; }
done
cargo build --release -q -p recital --bin recital
cargo build --release -q -p recital-detect --example bench_scan
BIN=$CARGO_TARGET_DIR/release/recital
EX=$CARGO_TARGET_DIR/release/examples/bench_scan

for n in "${NAMES[@]}"; do rm -f "bench/results/scan-$n.json"; done
for name in "${NAMES[@]}"; do
  case "$name" in
    linux-c-small) rights=$DATA/linux-c.rights.jsonl; args=(--code --copied "$DATA/linux-c-small" --novel "$DATA/linux-c" --stride-novel 20) ;;
    linux-c) rights=$DATA/linux-c.rights.jsonl; args=(--code --copied "$DATA/linux-c" --stride-copied 10 --novel data/sample/code/c) ;;
    prose-small) rights=$DATA/prose-small/rights.jsonl; args=(--copied "$DATA/prose-small" --novel "$DATA/prose" --stride-novel 10) ;;
    prose) rights=$DATA/prose/rights.jsonl; args=(--copied "$DATA/prose" --stride-copied 5 --novel README.md bench/README.md data/sample/README.md ../shared) ;;
  esac
  idx=$WORK/idx-$name
  if ! "$BIN" index stats --index "$idx" >/dev/null 2>&1; then
    echo "==> building $name (no usable index at $idx)" >&2
    rm -rf "$idx"
    inputs=("$DATA/$name")
    if ls "$DATA/$name"/*.jsonl >/dev/null 2>&1; then
      mapfile -t inputs < <(ls "$DATA/$name"/*.jsonl | grep -v '/rights.jsonl$')
    fi
    "$BIN" index build --index "$idx" --rights "$rights" --json "${inputs[@]}" >"$WORK/$name.scan-build.json"
  fi
  echo "==> scanning with $name" >&2
  "$EX" "$idx" "${args[@]}" >"$WORK/$name.scan.json"
  python3 bench/summarise_scan.py record "$name" "$WORK/$name.scan.json" >"bench/results/scan-$name.json"
done
# Both modes' records stay side by side in the table (quick first).
python3 bench/summarise_scan.py --markdown $(for n in linux-c-small prose-small linux-c prose; do
  [ -e "bench/results/scan-$n.json" ] && echo "bench/results/scan-$n.json"; done) >bench/results/scan.md
python3 bench/update_results.py "Scan latency" bench/results/scan.md
echo "==> bench/RESULTS.md updated (Scan latency)" >&2
