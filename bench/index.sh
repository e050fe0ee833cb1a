#!/usr/bin/env bash
# bench/index.sh [quick|full]: index benchmarks on real corpora, written to
# bench/RESULTS.md (section "Index"); raw JSON in bench/results/.
#
#   quick: linux-c-small (~50 MB of C) and prose-small (~20 MB)      ~3 min
#   full:  linux-c (~1.2 GB of C) and prose (~250 MB)                ~30 min
#
# Per corpus: `recital index build` under /usr/bin/time (wall, peak RSS), then
# the bench_index example: warm in-process count p50/p99 for 1-, 8- and 32-token
# queries sampled from the corpus, cold open+count after evicting the index from
# the page cache, a naive linear scan, and libsais alone on the same token arrays
# (our build overhead = build wall time ÷ libsais time).
source "$(dirname "$0")/common.sh"
MODE=${1:-quick}

if ! [ -x /usr/bin/time ]; then
  apt-get install -y -qq --no-install-recommends time >/dev/null 2>&1 ||
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends time >/dev/null; }
fi
bash bench/corpora.sh
cargo build --release -q -p recital --bin recital
cargo build --release -q -p recital-index --example bench_index
BIN=$CARGO_TARGET_DIR/release/recital
EX=$CARGO_TARGET_DIR/release/examples/bench_index

case "$MODE" in
  quick) CORPORA=("linux-c-small:$DATA/linux-c-small:$DATA/linux-c.rights.jsonl" "prose-small:$DATA/prose-small:$DATA/prose-small/rights.jsonl") ;;
  full) CORPORA=("linux-c:$DATA/linux-c:$DATA/linux-c.rights.jsonl" "prose:$DATA/prose:$DATA/prose/rights.jsonl") ;;
  *) echo "usage: bench/index.sh quick|full" >&2; exit 2 ;;
esac

for spec in "${CORPORA[@]}"; do
  IFS=: read -r name input rights <<<"$spec"
  idx=$WORK/idx-$name
  rm -rf "$idx"
  echo "==> building $name" >&2
  inputs=("$input")
  if [ -d "$input" ] && ls "$input"/*.jsonl >/dev/null 2>&1; then
    mapfile -t inputs < <(ls "$input"/*.jsonl | grep -v '/rights.jsonl$')
  fi
  /usr/bin/time -v -o "$WORK/$name.time" "$BIN" index build --index "$idx" --rights "$rights" --json "${inputs[@]}" >"$WORK/$name.build.json"
  echo "==> querying $name" >&2
  "$EX" "$idx" 200 42 >"$WORK/$name.query.json"
  python3 bench/summarise_index.py "$name" "$WORK/$name.time" "$WORK/$name.build.json" "$WORK/$name.query.json" >"bench/results/index-$name.json"
done
python3 bench/summarise_index.py --markdown bench/results/index-*.json >bench/results/index.md
python3 bench/update_results.py Index bench/results/index.md
echo "==> bench/RESULTS.md updated" >&2
