#!/usr/bin/env bash
# Installs the Python packages the tests use: the official `openai` and
# `anthropic` clients, `warcio` (the Webrecorder WARC writer that
# `crates/recital-rights/tests/web.rs` writes its crawl with), and `gguf` (llama.cpp's GGUF writer) with
# `numpy` (`crates/recital/tests/artefact.rs` writes model artefacts with them), from PyPI, in one virtual environment at
# ${RECITAL_CACHE:-$HOME/.cache/recital}/venv-openai (`crates/recital/tests/openai_client.rs`
# and `channels.rs` drive `recital serve` with the first, `messages.rs` with the second;
# the environment keeps its first name so that existing caches are reused).
#
# Prints the environment's python on stdout (everything else goes to stderr), so
# `RECITAL_TEST_PYTHON="$(scripts/install-test-deps.sh)"` works. Idempotent: when
# the packages are already there it only checks their versions (well under a second).
# Unlike install-test-corpora.sh this one fails when it cannot install: the test
# that needs the client cannot be skipped.
set -euo pipefail

specs=('openai>=1.50,<3' 'anthropic>=0.40,<1' 'warcio>=1.7,<2' 'gguf>=0.10,<1' 'numpy>=1.24,<3')
cache="${RECITAL_CACHE:-$HOME/.cache/recital}"
venv="$cache/venv-openai"
py="$venv/bin/python"

say() { echo "install-test-deps: $*" >&2; }

# The installed clients satisfy the specs (kept in step with $specs).
installed() {
  [ -x "$py" ] && "$py" - >/dev/null 2>&1 <<'EOF'
import importlib.metadata as m
def v(name):
    return tuple(int(x) for x in m.version(name).split(".")[:2])
ok = (1, 50) <= v("openai") < (3, 0) and (0, 40) <= v("anthropic") < (1, 0) and (1, 7) <= v("warcio") < (2, 0)
ok = ok and (0, 10) <= v("gguf") < (1, 0) and (1, 24) <= v("numpy") < (3, 0)
raise SystemExit(0 if ok else 1)
EOF
}

if installed; then
  echo "$py"
  exit 0
fi

mkdir -p "$cache"
# Concurrent runs (scripts/test.sh and a test that installs for itself) take turns.
exec 9>"$cache/venv-openai.lock"
if command -v flock >/dev/null 2>&1; then
  flock 9
fi
if installed; then
  echo "$py"
  exit 0
fi

if ! command -v python3 >/dev/null 2>&1; then
  say "python3 not found; install Python 3 (3.8 or later) to run the Python client tests"
  exit 1
fi

# A venv whose python no longer runs (its base interpreter changed) is rebuilt.
if [ -e "$venv" ] && ! "$py" -c 'import sys' >/dev/null 2>&1; then
  say "removing the broken environment $venv"
  rm -rf "$venv"
fi

make_venv() {
  python3 -m venv "$venv" >&2
}

if [ ! -x "$py" ]; then
  say "creating $venv"
  if ! make_venv; then
    rm -rf "$venv"
    # Debian and Ubuntu ship `venv`/`ensurepip` separately.
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      say "installing python3-venv"
      apt-get install -y -qq --no-install-recommends python3-venv >&2 ||
        { apt-get update -qq >&2 && apt-get install -y -qq --no-install-recommends python3-venv >&2; } ||
        { say "could not install python3-venv"; exit 1; }
      make_venv || { rm -rf "$venv"; say "python3 -m venv failed even with python3-venv installed"; exit 1; }
    else
      say "python3 -m venv failed and this is not root with apt-get: install python3-venv (Debian/Ubuntu) and rerun"
      exit 1
    fi
  fi
fi

say "installing ${specs[*]} from PyPI into $venv"
if ! "$py" -m pip install --quiet --disable-pip-version-check "${specs[@]}" >&2; then
  say "pip install ${specs[*]} failed (is PyPI reachable?)"
  exit 1
fi
if ! installed; then
  say "${specs[*]} still not importable from $py after installing them"
  exit 1
fi
echo "$py"
