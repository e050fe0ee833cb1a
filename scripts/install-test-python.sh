#!/usr/bin/env bash
# Installs the `recital` Python package from this repository (crates/recital-py,
# built by maturin through pip) into a virtual environment with what its tests
# use (pytest, pyarrow, pandas and Dask, Ray, and llama-cpp-python with its
# OpenAI-compatible server for the decode-time guard and the endpoint audit,
# whose C++ is compiled once: about 10 minutes on 2 cores, then cached by
# pip), at
# ${RECITAL_CACHE:-$HOME/.cache/recital}/venv-py. Prints the environment's
# python on stdout; everything else goes to stderr.
#
# The test packages are installed once (idempotent: checked in well under a
# second). The package itself is rebuilt on every run, since it is what is
# under test: `pip install` with maturin as the build backend, in cargo's dev
# profile (MATURIN_PEP517_ARGS) and in $CARGO_TARGET_DIR, so that it reuses the
# workspace's build; a user's plain `pip install crates/recital-py` builds
# the release wheel. With --deps-only, only the test packages are installed
# (scripts/test.sh does that beside the workspace's compile).
set -euo pipefail
cd "$(dirname "$0")/.."

cache="${RECITAL_CACHE:-$HOME/.cache/recital}"
venv="$cache/venv-py"
py="$venv/bin/python"
specs=('maturin>=1.7,<2' 'pytest>=7' 'pyarrow>=14' 'dask[dataframe]>=2024.1' 'ray[data]>=2.9' 'llama-cpp-python[server]>=0.3')
# llama.cpp without its multimodal library (llama-cpp-python's own switch): the guard's
# tests need the text model only.
export CMAKE_ARGS="${CMAKE_ARGS:--DLLAVA_BUILD=OFF}"
export CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}"
say() { echo "install-test-python: $*" >&2; }

have_deps() {
  [ -x "$py" ] && "$py" -c 'import maturin, pytest, pyarrow, dask.dataframe, pandas, ray.data, llama_cpp, llama_cpp.server.app' >/dev/null 2>&1
}

mkdir -p "$cache"
exec 9>"$cache/venv-py.lock"
command -v flock >/dev/null 2>&1 && flock 9

if ! have_deps; then
  if [ -e "$venv" ] && ! "$py" -c 'import sys' >/dev/null 2>&1; then
    rm -rf "$venv"
  fi
  if [ ! -x "$py" ]; then
    say "creating $venv"
    python3 -m venv "$venv" >&2 || { say "python3 -m venv failed (install python3-venv)"; exit 1; }
  fi
  say "installing ${specs[*]} from PyPI"
  "$py" -m pip install --quiet --disable-pip-version-check "${specs[@]}" >&2 ||
    { say "pip install failed (is PyPI reachable?)"; exit 1; }
  have_deps || { say "the test packages are still not importable from $py"; exit 1; }
fi

if [ "${1:-}" = --deps-only ]; then
  echo "$py"
  exit 0
fi

say "building and installing crates/recital-py"
PATH="$venv/bin:$PATH" MATURIN_PEP517_ARGS="${MATURIN_PEP517_ARGS:---profile dev}" \
  "$py" -m pip install --quiet --disable-pip-version-check --no-build-isolation --no-deps \
  --force-reinstall ./crates/recital-py >&2 ||
  { say "building the package failed"; exit 1; }
echo "$py"
