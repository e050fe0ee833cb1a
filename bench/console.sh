#!/usr/bin/env bash
# bench/console.sh: how long the web console's scan view takes to render a
# 64 KB output with about 150 spans, measured in Chromium (target: <= 200 ms
# after the response). Written to bench/RESULTS.md (section "Console render");
# raw JSON in bench/results/console.json.
#
# The index is the bundled sample corpus (data/sample). The output is 150
# excerpts of 45 words from its prose, each after 26 made-up
# words, cut at 64 KB (bench/console_render.mjs makes it, seeded). The server
# runs open on loopback (no keys); the browser signs in, scans once, then
# loads the result's stable URL ROUNDS times: render = loadEventEnd -
# responseEnd of each load (parse, style, layout of the whole view and the
# scripts run), also DOMContentLoaded, from the Navigation Timing entry.
source "$(dirname "$0")/common.sh"
ROUNDS=${ROUNDS:-15}
MODULES=$(scripts/install-test-browser.sh)
# The render is the browser's: the server's build does not enter the
# measure, so RECITAL_BIN may name any build (a debug one saves a release build).
if [ -z "${RECITAL_BIN:-}" ]; then
  cargo build --release -q -p recital --bin recital
fi
BIN=${RECITAL_BIN:-$CARGO_TARGET_DIR/release/recital}
idx=$WORK/idx-console-sample
if ! "$BIN" index stats --index "$idx" >/dev/null 2>&1; then
  rm -rf "$idx"
  "$BIN" index build --index "$idx" --rights data/sample/rights.jsonl data/sample/prose data/sample/code >&2
fi
db=$(mktemp -d)/console.db
log=$(mktemp)
"$BIN" serve --index "$idx" --db "$db" --addr 127.0.0.1:0 2>"$log" &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
base=""
for _ in $(seq 1 100); do
  base=$(sed -n 's/.*listening on \(http:\/\/[^ ]*\).*/\1/p' "$log" | head -n1)
  [ -n "$base" ] && break
  sleep 0.1
done
[ -n "$base" ] || { cat "$log" >&2; exit 1; }
RECITAL_TEST_NODE_MODULES=$MODULES node bench/console_render.mjs "$base" data/sample/prose "$ROUNDS" >bench/results/console.json
kill $pid; wait $pid 2>/dev/null || true
python3 - bench/results/console.json >"$WORK/console.md" <<'PY'
import json, subprocess, sys, platform, os
r = json.load(open(sys.argv[1]))
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
dirty = subprocess.run(["git", "status", "--porcelain"], capture_output=True, text=True).stdout.strip()
load = os.getloadavg()[0]
print(f"Run on {os.cpu_count()} cores, {platform.system()} {platform.release()}, load average {load:.2f}; recital {commit}{' (with uncommitted changes)' if dirty else ''}; {r['browser']}. Regenerate with `bench/console.sh`.")
print()
print("The scan view of one output, loaded from its stable URL in headless Chromium; times in ms after the response (Navigation Timing), over the loads after a first warm-up. Render is `loadEventEnd - responseEnd`: parsing, style, layout and the page's scripts; the server's time to build the page is not in it. The machine was shared (see the load average), so these are upper bounds.")
print()
print("| output | spans shown | sources | page | loads | render p50 | render max | DOMContentLoaded p50 | target (render) | pass |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---|---|")
ok = "yes" if r["render_max_ms"] <= 200 else "no"
print(f"| {r['output_bytes']/1024:.0f} KB | {r['spans']} | {r['sources']} | {r['page_bytes']/1024:.0f} KB | {r['rounds']} | {r['render_p50_ms']:.0f} | {r['render_max_ms']:.0f} | {r['dcl_p50_ms']:.0f} | <= 200 ms | {ok} |")
PY
python3 bench/update_results.py "Console render" "$WORK/console.md"
cat "$WORK/console.md"
