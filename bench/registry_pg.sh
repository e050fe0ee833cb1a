#!/usr/bin/env bash
# Registry latency on SQLite vs PostgreSQL, and the cross-instance effect of a
# notice between two `recital serve` instances on one PostgreSQL (issue 19).
# Starts a throwaway PostgreSQL server (Debian's binaries, from
# scripts/install-test-postgres.sh) on a temporary directory and a free port;
# writes bench/results/registry_pg.json. RECITAL_BIN overrides the binary
# (default: a release build).
source "$(dirname "$0")/common.sh"
say() { echo "registry_pg: $*" >&2; }

PG_BIN="${RECITAL_TEST_PG_BIN:-$(scripts/install-test-postgres.sh)}"
if [ -z "${RECITAL_BIN:-}" ]; then
  say "building recital (release, $CARGO_TARGET_DIR)"
  cargo build --release -q -p recital --bin recital
  RECITAL_BIN=$CARGO_TARGET_DIR/release/recital
fi

tmp="$(mktemp -d /tmp/recital-registry-pg.XXXXXX)"
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
"${as_pg[@]}" "$PG_BIN/createdb" -h 127.0.0.1 -p "$port" -U postgres recital

# 20 documents of distinct pseudo-prose, and one quote of each.
mkdir -p "$tmp/corpus"
python3 - "$tmp" <<'PY'
import json, random, sys
tmp = sys.argv[1]
rng = random.Random(19)
words = [f"w{i}x" for i in range(5000)]
docs = []
for i in range(20):
    text = " ".join(rng.choice(words) for _ in range(400))
    open(f"{tmp}/corpus/doc{i:02}.txt", "w").write(text)
    docs.append([f"doc{i:02}.txt", " ".join(text.split()[100:160])])
json.dump(docs, open(f"{tmp}/docs.json", "w"))
PY
"$RECITAL_BIN" index build --index "$tmp/idx" "$tmp"/corpus/*.txt >/dev/null 2>&1

say "measuring (binary $RECITAL_BIN)"
python3 bench/registry_pg.py --recital "$RECITAL_BIN" --index "$tmp/idx" --docs "$tmp/docs.json" \
  --pg-url "postgres://postgres@127.0.0.1:$port/recital" | tee bench/results/registry_pg.json
