#!/usr/bin/env bash
# bench/serve_streams.sh BASELINE_BIN [ROUNDS] [ROWS]: the streaming proxy's rows of bench/serve.sh (quick
# mode, prose-small), run with a baseline `recital` binary and with this checkout's, side by side: the
# two alternate within each round (old first in odd rounds, new first in even ones), so that both see
# the same load on a shared machine. Written to bench/RESULTS.md (section "Streaming proxy: baseline and
# this build side by side"); raw JSON in bench/results/proxy-streams-DATE.json (not serve-*: serve.sh reads those).
#
#   BASELINE_BIN  a `recital` binary built from the commit to compare against (copy it out of the
#                 target dir first: the build below overwrites target/release/recital)
#   ROUNDS        rounds (default 2)
#   ROWS          which rows of serve_run.py's quick plan, as ENDPOINT/TEXT/CONCURRENCY patterns
#                 (default: the tool-call and Responses rows, held-out text, 1 and 8 streams at once)
#
# Reports per row and binary the release overhead p50 / p99 of every round, the null hop's p99, the
# server's CPU time per token and the load average, and the CPU-per-token ratio baseline ÷ this build
# (less sensitive than p99 to what other processes do to the 2 cores). ~3 min per binary and round.
source "$(dirname "$0")/common.sh"
OLD=${1:?usage: bench/serve_streams.sh BASELINE_BIN [ROUNDS] [ROWS]}
ROUNDS=${2:-2}
ROWS=${3:-tool-calls/held-out/1,tool-calls/held-out/8,responses/held-out/8}
SW=$WORK/serve-streams
say() { printf '==> %s\n' "$*" >&2; }

[ -e "$DATA/prose-small" ] && [ -e "$DATA/prose" ] || bash bench/corpora.sh
say "building recital and bench/serve_bench (release, $CARGO_TARGET_DIR)"
cargo build --release -q -p recital --bin recital
cp Cargo.lock bench/serve_bench/Cargo.lock
cargo build --release -q --manifest-path bench/serve_bench/Cargo.toml
NEW=$CARGO_TARGET_DIR/release/recital
HELPER=$CARGO_TARGET_DIR/release/serve_bench

idx=$WORK/idx-prose-small
if ! "$NEW" index stats --index "$idx" >/dev/null 2>&1; then
  say "building prose-small (no usable index at $idx)"
  rm -rf "$idx"
  mapfile -t inputs < <(ls "$DATA/prose-small"/*.jsonl | grep -v '/rights.jsonl$')
  "$NEW" index build --index "$idx" --rights "$DATA/prose-small/rights.jsonl" --json "${inputs[@]}" >/dev/null
fi
rm -rf "$SW" && mkdir -p "$SW"
cp -r "$idx" "$SW/idx"
python3 bench/serve_inputs.py "$SW/inputs" --copied "$DATA/prose-small" --novel "$DATA/prose" --stride-novel 10 \
  --stream-words 150 >"$SW/inputs.json"

runs=()
for r in $(seq 1 "$ROUNDS"); do
  order=(old new)
  [ $((r % 2)) = 0 ] && order=(new old)
  for which in "${order[@]}"; do
    bin=$OLD
    [ "$which" = new ] && bin=$NEW
    say "round $r: $which ($bin)"
    mkdir -p "$SW/r$r-$which"
    python3 bench/serve_run.py --recital "$bin" --helper "$HELPER" --index "$SW/idx" --inputs "$SW/inputs" \
      --work "$SW/r$r-$which" --mode quick --port 18580 --only-streams "$ROWS" >"$SW/r$r-$which/run.json"
    runs+=("$which=$SW/r$r-$which/run.json")
  done
done

out=bench/results/proxy-streams-$(date +%F).json
python3 bench/summarise_serve_streams.py record "$OLD" "${runs[@]}" >"$out"
python3 bench/summarise_serve_streams.py --markdown "$out" >bench/results/proxy-streams.md
python3 bench/update_results.py "Streaming proxy: baseline and this build side by side" bench/results/proxy-streams.md
say "$out written; bench/RESULTS.md updated"
