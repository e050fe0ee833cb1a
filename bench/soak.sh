#!/usr/bin/env bash
# bench/soak.sh [STREAMS] [SECONDS]: the streaming proxy under a long, wide load (issue 19 item 2),
# written to bench/RESULTS.md (section "Soak"); raw JSON in bench/results/soak-DATE.json.
#
# `recital serve` (release build) runs as a streaming proxy over the bundled sample corpus with
# bench/soak-policy.toml (every copy of 12 tokens or more redacted, notified works blocked), in
# front of `serve_bench soak`, which is both the scripted upstream (chat-completion SSE, one word
# every DELAY_MS) and the client: STREAMS (default 1000) slots each stream one text after another
# for SECONDS (default 600), 1 text in 4 quoting the sample's prose (bench/soak_inputs.py), while a
# notice is posted every NOTICE_EVERY_S (default 120) s. It records streams completed, errors,
# leaks (a quoting stream that came out unfiltered or with 12 consecutive words of its passage),
# the added latency per token beyond the hold-back and the inter-token gaps per minute, and the
# server's RSS, file descriptors and threads every 5 s. See bench/serve_bench/src/soak.rs.
#
# Environment: DELAY_MS (500: 1,000 streams × 2 words/s = 2,000 words/s through the proxy),
# NOTICE_EVERY_S (120), RAMP_S (10), NICE (10: the run is niced on a shared machine),
# SOAK_PORT (18560; the upstream uses SOAK_PORT+1).
source "$(dirname "$0")/common.sh"
STREAMS=${1:-1000}
SECS=${2:-600}
DELAY_MS=${DELAY_MS:-500}
NOTICE_EVERY_S=${NOTICE_EVERY_S:-120}
RAMP_S=${RAMP_S:-10}
NICE=${NICE:-10}
PORT=${SOAK_PORT:-18560}
SW=$WORK/soak
say() { printf '==> %s\n' "$*" >&2; }

say "building recital and bench/serve_bench (release, $CARGO_TARGET_DIR)"
nice -n "$NICE" cargo build --release -q -p recital --bin recital
cp Cargo.lock bench/serve_bench/Cargo.lock
nice -n "$NICE" cargo build --release -q --manifest-path bench/serve_bench/Cargo.toml
BIN=$CARGO_TARGET_DIR/release/recital
HELPER=$CARGO_TARGET_DIR/release/serve_bench

rm -rf "$SW" && mkdir -p "$SW"
"$BIN" index build --index "$SW/idx" --rights data/sample/rights.jsonl data/sample/prose data/sample/code \
  >"$SW/build.log" 2>&1
python3 bench/soak_inputs.py "$SW/texts.jsonl" data/sample/prose >"$SW/inputs.json"
"$BIN" policy check bench/soak-policy.toml >&2

# Each stream holds a connection from the client to the proxy and one from the proxy to the
# upstream: 2 per stream in each process.
ulimit -n "$(ulimit -Hn)"
SERVER_PID=
cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true; }
trap cleanup EXIT
nice -n "$NICE" "$BIN" serve --index "$SW/idx" --db "$SW/soak.db" --policy bench/soak-policy.toml \
  --addr "127.0.0.1:$PORT" --upstream "http://127.0.0.1:$((PORT + 1))" >"$SW/server.log" 2>&1 &
SERVER_PID=$!
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
say "soak: $STREAMS streams × $SECS s, a word every $DELAY_MS ms (server pid $SERVER_PID, load $load_before)"
nice -n "$NICE" "$HELPER" soak --proxy "http://127.0.0.1:$PORT" --upstream "127.0.0.1:$((PORT + 1))" \
  --texts "$SW/texts.jsonl" --policy bench/soak-policy.toml --streams "$STREAMS" --secs "$SECS" \
  --delay-ms "$DELAY_MS" --ramp-s "$RAMP_S" --notice-every-s "$NOTICE_EVERY_S" --server-pid "$SERVER_PID" \
  >"$SW/run.json"
kill -0 "$SERVER_PID" 2>/dev/null || { echo "soak: the server died; see $SW/server.log" >&2; exit 1; }
cleanup
SERVER_PID=

out=bench/results/soak-$(date +%F).json
python3 bench/summarise_soak.py record "$SW/run.json" "$SW/inputs.json" "$load_before" "$NICE" >"$out"
python3 bench/summarise_soak.py --markdown "$out" >bench/results/soak.md
python3 bench/update_results.py "Soak" bench/results/soak.md
say "$out written; bench/RESULTS.md updated (Soak)"
python3 - "$out" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["run"]
bad = r["errors"] or r["leaked"] or r["quoting"] == 0
sys.exit(1 if bad else 0)
PY
