#!/usr/bin/env bash
# bench/reveal_budget.sh [ROUNDS]: what the durable reveal budget (`--reveal-budget`, counted in
# the store since issue 19) adds to a `/v1/scan`, on a SQLite file and on PostgreSQL, paired
# request by request with the same store without a budget (bench/reveal_budget.py). Starts a
# throwaway PostgreSQL server as bench/registry_pg.sh does. Writes
# bench/results/reveal_budget.json and the "Reveal budget" section of bench/RESULTS.md.
# RECITAL_BIN overrides the binary (default: a release build).
source "$(dirname "$0")/common.sh"
say() { echo "reveal_budget: $*" >&2; }
ROUNDS=${1:-400}

PG_BIN="${RECITAL_TEST_PG_BIN:-$(scripts/install-test-postgres.sh)}"
if [ -z "${RECITAL_BIN:-}" ]; then
  say "building recital (release, $CARGO_TARGET_DIR)"
  cargo build --release -q -p recital --bin recital
  RECITAL_BIN=$CARGO_TARGET_DIR/release/recital
fi

tmp="$(mktemp -d /tmp/recital-reveal-budget.XXXXXX)"
as_pg=()
if [ "$(id -u)" = 0 ]; then
  chown postgres: "$tmp"
  as_pg=(runuser -u postgres --)
fi
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
cleanup() {
  "${as_pg[@]}" "$PG_BIN/pg_ctl" -D "$tmp/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
"${as_pg[@]}" "$PG_BIN/initdb" -D "$tmp/data" -A trust -U postgres -E UTF8 --locale=C >/dev/null
"${as_pg[@]}" "$PG_BIN/pg_ctl" -D "$tmp/data" -l "$tmp/server.log" -w \
  -o "-p $port -k $tmp -c listen_addresses=127.0.0.1" start >/dev/null
for db in plain budget; do "${as_pg[@]}" "$PG_BIN/createdb" -h 127.0.0.1 -p "$port" -U postgres "$db"; done
mkdir -p "$tmp/sqlite" && chmod 777 "$tmp/sqlite"
"$RECITAL_BIN" index build --index "$tmp/idx" --rights data/sample/rights.jsonl data/sample/prose >/dev/null 2>&1

say "measuring (binary $RECITAL_BIN, $ROUNDS rounds, load $(cut -d' ' -f1 /proc/loadavg))"
python3 bench/reveal_budget.py --recital "$RECITAL_BIN" --index "$tmp/idx" --prose data/sample/prose/kjv/genesis.txt \
  --sqlite-dir "$tmp/sqlite" --pg-url "postgres://postgres@127.0.0.1:$port" --rounds "$ROUNDS" \
  >bench/results/reveal_budget.json
python3 - "$(python3 -c 'import sys; sys.path.insert(0, "bench"); from machine_info import machine; print(machine())')" <<'PY' >bench/results/reveal_budget.md
import json, sys
r = json.load(open("bench/results/reveal_budget.json"))
print(f"`bench/reveal_budget.sh {r['rounds']}`, release build, {sys.argv[1]}. `POST /v1/scan` of 60 words, "
      "one request at a time, round robin over four `recital serve` instances on one index (the bundled "
      "sample's prose): a SQLite file and a PostgreSQL database (same machine, loopback), each without "
      "and with `--reveal-budget` (10^12 bytes: never spent, so every scan pays for the check and, when "
      "it shows source text, for the count). *quoting*: 60 words of Genesis, source text shown (a read "
      "before the scan, a write transaction after: on SQLite a synced WAL commit); *novel*: made-up words, "
      "nothing shown (the read only). ms, client round trip; the difference is against the same store "
      f"without a budget, same rounds. {r['rounds']} requests per cell.\n")
print("| store | output | p50 | p90 | p99 | added p50 | added p90 |")
print("|---|---|---:|---:|---:|---:|---:|")
for name, kinds in r["servers"].items():
    for kind, v in kinds.items():
        add = lambda k: f"{v[k]:+.2f}" if k in v else ""
        print(f"| {name} | {kind} | {v['p50_ms']:.2f} | {v['p90_ms']:.2f} | {v['p99_ms']:.2f} | "
              f"{add('added_p50_ms')} | {add('added_p90_ms')} |")
print("\nThe count after a scan that shows source text is a durable commit (SQLite: WAL with "
      "`synchronous=FULL`; PostgreSQL: `synchronous_commit = on`), so its tail is the disk's sync time "
      "on this shared machine; a scan that shows nothing pays only for the read. Raw: "
      "`bench/results/reveal_budget.json`.")
PY
python3 bench/update_results.py "Reveal budget" bench/results/reveal_budget.md
cat bench/results/reveal_budget.md
